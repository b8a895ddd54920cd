"""The short summary printed at the end of a run: counts per outcome and the failing cells
grouped by library pair and cause, with the library's own error text."""

from __future__ import annotations

import pandas as pd

from harness.core.blame import blame
from harness.core.findings import masked
from harness.core.outcomes import ACTUALS
from harness.forge.reference import CONFORMANT, NOT_JUDGED

MAX_GROUPS = 25


def verdict_counts(rows: pd.DataFrame) -> dict[str, int]:
    passed = rows["passed"]
    return {"passed": int((passed == True).sum()),  # noqa: E712 - a nullable column
            "failed": int((passed == False).sum()),  # noqa: E712
            "not judged": int(passed.isna().sum())}


def failing_groups(rows: pd.DataFrame, blamed: pd.DataFrame | None = None) -> pd.DataFrame:
    """Failing cells grouped by pair, outcome, charged side and cause; `blamed`: the rows'
    `blame`, when the caller has it already."""
    failed = rows[rows["passed"] == False].copy()  # noqa: E712 - a nullable column
    if failed.empty:
        return pd.DataFrame(columns=["producer", "consumer", "actual", "charged", "cause",
                                     "cells", "example"])
    failed["cause"] = failed["detail"].map(masked)
    # An unexpected accept has no error text: say what it means instead of printing nothing.
    silent = (failed["cause"] == "") & (failed["expected"] == "reject")
    failed.loc[silent, "cause"] = "accepted a token a correct consumer refuses"
    # Between two libraries, the side that departs from the RFC (harness.core.blame).
    charged = (blame(rows) if blamed is None else blamed)["charged"].reindex(failed.index)
    failed["charged"] = [f"charged to {side}" if side in ("producer", "consumer")
                         else side if isinstance(side, str) else "" for side in charged]
    grouped = failed.groupby(["producer", "consumer", "actual", "charged", "cause"], sort=False)
    table = grouped.agg(cells=("case", "size"),
                        example=("suite", lambda s: f"{s.iloc[0]}"),
                        case=("case", "first"), mode=("mode", "first")).reset_index()
    table["example"] = table["case"] + " / " + table["example"] + " / " + table["mode"]
    return table.sort_values("cells", ascending=False).drop(columns=["case", "mode"])


def conformance_lines(rows: pd.DataFrame) -> list[str]:
    """How the reference judged the rows whose producer is a library: counts, then the
    non-conformant rows by producer and the rule their tokens break."""
    if "conformance" not in rows:
        return []
    judged = rows["conformance"].dropna()
    if judged.empty:
        return []
    conformant = int((judged == CONFORMANT).sum())
    unjudged = int(judged.str.startswith(NOT_JUDGED).sum())
    broken = rows.loc[judged.index[(judged != CONFORMANT) & ~judged.str.startswith(NOT_JUDGED)]]
    lines = [f"  reference: {len(judged)} rows with a library-made token: conformant "
             f"{conformant}  non-conformant {len(broken)}  not judged {unjudged}"]
    grouped = broken.groupby(["producer", "conformance"]).size().sort_values(ascending=False)
    for (producer, rule), count in grouped.head(MAX_GROUPS).items():
        lines.append(f"    {producer} ×{count}: {rule}")
    return lines


def render(rows: pd.DataFrame, blamed: pd.DataFrame | None = None) -> str:
    lines = [f"{len(rows)} rows"]
    counts = rows["actual"].value_counts()
    lines.append("  actual:  " + "  ".join(f"{name} {int(counts.get(name, 0))}"
                                             for name in ACTUALS))
    lines.append("  verdict: " + "  ".join(f"{k} {v}" for k, v in verdict_counts(rows).items()))
    lines += conformance_lines(rows)
    groups = failing_groups(rows, blamed)
    if groups.empty:
        lines.append("No failing cells.")
        return "\n".join(lines)
    lines.append(f"Failing cells by library pair and cause ({len(groups)} groups):")
    for row in groups.head(MAX_GROUPS).itertuples():
        charged = f" [{row.charged}]" if row.charged else ""
        lines.append(f"  {row.producer} -> {row.consumer}  {row.actual} ×{row.cells}{charged}: "
                     f"{row.cause}")
        lines.append(f"      e.g. {row.example}")
    if len(groups) > MAX_GROUPS:
        lines.append(f"  ... {len(groups) - MAX_GROUPS} more groups in interop.csv")
    return "\n".join(lines)
