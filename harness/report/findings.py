"""The report's findings: `harness.core.findings` over a stored run, with what a reader needs
beside each one (the case's description and reasoning, the anchor of its evidence) and rows of
runs made before severities were declared rated from the cases as they are declared now."""

from __future__ import annotations

from functools import cache

import pandas as pd

from harness.core.findings import findings
from harness.core.severity import SEVERITIES, count_text
from harness.interop.scenario import discover
from harness.report.anchors import evidence_id, finding_id


@cache
def declared() -> dict[str, tuple[str, str, str]]:
    """Case id -> (severity, description, why) as the scenarios declare them now."""
    try:
        return {c.id: (c.severity or "", c.description, c.why) for c in discover()}
    except Exception:  # a report of stored rows must not depend on the scenarios importing
        return {}


def rated(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows with `severity` filled from the declared cases where the run did not record it."""
    rows = rows.copy()
    if "severity" not in rows:
        rows["severity"] = None
    rows["severity"] = rows["severity"].astype(object)
    known = rows["severity"].isin(SEVERITIES)
    if (~known).any():
        cases = declared()
        rows.loc[~known, "severity"] = [cases.get(str(c), ("",))[0] or None
                                        for c in rows.loc[~known, "case"]]
    return rows


def description(case: str) -> str:
    return declared().get(case, ("", case, ""))[1] or case


def reasoning(case: str) -> str:
    return declared().get(case, ("", "", ""))[2]


def security_findings(rows: pd.DataFrame) -> pd.DataFrame:
    """Every finding of the run with `description`, `why` and `anchor` (the evidence)."""
    found = findings(rated(rows))
    if found.empty:
        return found.assign(description=[], why=[], anchor=[], id=[])
    return found.assign(
        description=[description(c) for c in found["first_case"]],
        why=[reasoning(c) for c in found["first_case"]],
        anchor=[evidence_id(s, p, c) for s, p, c in
                zip(found["scenario"], found["producer"], found["consumer"], strict=True)],
        id=[finding_id(c, s, g, k) for c, s, g, k in
            zip(found["consumer"], found["severity"], found["group"], found["cause"],
                strict=True)])


def counts_text(found: pd.DataFrame, consumer: str) -> str:
    mine = found[found["consumer"] == consumer]
    return count_text(mine["severity"].value_counts().to_dict())
