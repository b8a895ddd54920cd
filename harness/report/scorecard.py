"""One line per library: what it supports, whether its tokens and its reading conform (failing
pairs charged to the side that departs from the RFC, `harness.core.blame`), its findings by
severity (`harness.core.findings`), how fast.

Every figure is read from stored rows; a figure the run cannot give says why in words.
"""

from __future__ import annotations

import pandas as pd

from harness.core.blame import charged_causes, charged_counts
from harness.core.findings import COSTLY
from harness.core.severity import count_text
from harness.interop.charts import support_table
from harness.report.anomalies import SECURITY_PREFIXES, as_text, interop_rows, is_policy
from harness.report.rundata import RunData
from harness.report.throughput import headline

SCORECARD_COLUMNS = ["library", "version", "suites by default", "suites once enabled",
                     "produces conformant tokens", "reads conformant tokens", "findings",
                     "costly refusals", "claims validation", "throughput"]
CAUSES_SHOWN = 3
CONFORMANCE_RULE = (
    "A failing cell between two libraries is charged to the side that departs from the RFC: the "
    "producer when the reference finds its token non-conformant (the `conformance` field), else "
    "by cross-check: the producer when most other consumers refuse its token too, the consumer "
    "when most other consumers take it. Rates are the share of judged cells with the library on "
    "that side that are not charged to it; an even split or a pair without other consumers is "
    "charged to neither.")


def conformance(blamed: pd.DataFrame, library: str, side: str) -> str:
    """`98.2% (12 of 660 cells charged: ×10 cause; ×2 cause)`."""
    charged, judged = charged_counts(blamed, library, side)
    if not judged:
        return "no judged cells"
    text = f"{(judged - charged) / judged:.1%} ({charged} of {judged} cells charged"
    causes = charged_causes(blamed, library, side)
    mine = blamed[(blamed[side] == library) & (blamed["charged"] == "undetermined")]
    if len(mine):
        text += f", {len(mine)} undetermined"
    if causes:
        listed = "; ".join(f"×{n} {cause[:90]}" for cause, n in causes[:CAUSES_SHOWN])
        more = f"; {len(causes) - CAUSES_SHOWN} more causes" if len(causes) > CAUSES_SHOWN else ""
        text += f": {listed}{more}"
    return text + ")"


def pass_rate(rows: pd.DataFrame) -> str:
    judged = rows[rows["passed"].notna()]
    if judged.empty:
        return "no judged cells"
    passed = int(judged["passed"].eq(True).sum())
    return f"{passed / len(judged):.1%} ({passed}/{len(judged)})"


def support(data: RunData) -> pd.DataFrame:
    """Suite × library support levels, from the rows (support.csv is the same table)."""
    rows = interop_rows(data.rows)
    libraries = [name for name in data.libraries if name in set(rows["producer"])]
    if rows.empty or not libraries:
        return pd.DataFrame()
    return support_table(rows, libraries)


def _claims(rows: pd.DataFrame, library: str) -> str:
    claims = rows[as_text(rows["scenario"]).str.startswith(SECURITY_PREFIXES[1])
                  & (rows["consumer"] == library)]
    if claims.empty:
        return "no claims cases in this run"
    # A policy row the library crashed or hung on has failed: it counts with the judged rows.
    policy = is_policy(claims) & claims["passed"].isna()
    text = "as the RFCs require: " + pass_rate(claims[~policy])
    return text + (f"; {int(policy.sum())} policy choices" if policy.any() else "")


def costly_refusals(found: pd.DataFrame, library: str) -> str:
    """How many of the library's `dos` findings are refusals that cost more than the budgets
    of `harness.core.cost` (it refused, but only after paying), with their attack classes."""
    if found.empty or "kind" not in found:
        return "0"
    mine = found[(found["consumer"] == library) & (found["kind"] == COSTLY)]
    if mine.empty:
        return "0"
    return f"{len(mine)} ({', '.join(sorted(set(as_text(mine['group']))))})"


def scorecard(data: RunData, blamed: pd.DataFrame, found: pd.DataFrame) -> pd.DataFrame:
    """`blamed`: `core.blame` of the rows; `found`: the run's findings."""
    rows = data.rows
    grid = support(data)
    security = not rows.empty and bool(as_text(rows["scenario"]).str.startswith(
        SECURITY_PREFIXES).any() | (rows["producer"] == "forge").any())
    records = []
    for library in data.libraries:
        level = grid[library] if library in grid else pd.Series(dtype=str)
        by_default = int((level == "by default").sum())
        records.append({
            "library": library,
            "version": str((data.meta.get("libraries") or {}).get(library, "?"))
            + _peer_note(data, library),
            "suites by default": f"{by_default} of {len(level)}" if len(level) else "–",
            "suites once enabled": (f"{by_default + int((level == 'once enabled').sum())} "
                                    f"of {len(level)}") if len(level) else "–",
            "produces conformant tokens": conformance(blamed, library, "producer"),
            "reads conformant tokens": conformance(blamed, library, "consumer"),
            "findings": (count_text(found.loc[found["consumer"] == library, "severity"]
                                    .value_counts().to_dict())
                         if security else "no attack or claims rows in this run"),
            "costly refusals": (costly_refusals(found, library) if security
                                else "no attack or claims rows in this run"),
            "claims validation": _claims(rows, library),
            "throughput": headline(data.loadtest, library),
        })
    for library, why in data.missing_libraries.items():
        records.append({"library": library, "version": "not installed",
                        **dict.fromkeys(SCORECARD_COLUMNS[2:], "–"),
                        "suites by default": f"not tested: {why}"})
    return pd.DataFrame.from_records(records, columns=SCORECARD_COLUMNS)


def _peer_note(data: RunData, library: str) -> str:
    """A peer's language beside its version: `2.10.0 (python peer)`, `6.0.11 (javascript peer)`."""
    peer = (data.meta.get("peers") or {}).get(library)
    return f" ({peer.get('language', '?')} peer)" if peer else ""
