"""One line per library: what it supports, how it interoperates, what it let through, how fast.

Every figure is read from stored rows; a figure the run cannot give says why in words.
"""

from __future__ import annotations

import pandas as pd

from harness.interop.charts import support_table
from harness.report.anomalies import SECURITY_PREFIXES, as_text, interop_rows, is_policy, masks
from harness.report.rundata import RunData
from harness.report.throughput import headline

SCORECARD_COLUMNS = ["library", "version", "suites by default", "suites once enabled",
                     "interop as producer", "interop as consumer", "unexpected accepts",
                     "hangs", "claims validation", "throughput"]


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
    policy = is_policy(claims)
    text = "as the RFCs require: " + pass_rate(claims[~policy])
    return text + (f"; {int(policy.sum())} policy choices" if policy.any() else "")


def scorecard(data: RunData) -> pd.DataFrame:
    rows = data.rows
    pairs = interop_rows(rows)
    pairs = pairs[pairs["producer"] != pairs["consumer"]]
    grid = support(data)
    found = masks(rows)
    records = []
    for library in data.libraries:
        level = grid[library] if library in grid else pd.Series(dtype=str)
        by_default = int((level == "by default").sum())
        records.append({
            "library": library,
            "version": str((data.meta.get("libraries") or {}).get(library, "?")),
            "suites by default": f"{by_default} of {len(level)}" if len(level) else "–",
            "suites once enabled": (f"{by_default + int((level == 'once enabled').sum())} "
                                    f"of {len(level)}") if len(level) else "–",
            "interop as producer": pass_rate(pairs[pairs["producer"] == library]),
            "interop as consumer": pass_rate(pairs[pairs["consumer"] == library]),
            "unexpected accepts": int((found["unexpected accepts"]
                                       & (rows["consumer"] == library)).sum()),
            "hangs": int((found["hangs"] & (rows["consumer"] == library)).sum()),
            "claims validation": _claims(rows, library),
            "throughput": headline(data.loadtest, library),
        })
    for library, why in data.missing_libraries.items():
        records.append({"library": library, "version": "not installed",
                        **dict.fromkeys(SCORECARD_COLUMNS[2:], "–"),
                        "suites by default": f"not tested: {why}"})
    return pd.DataFrame.from_records(records, columns=SCORECARD_COLUMNS)
