"""Findings, not cells: one behaviour of one consumer that a correct consumer would not show,
counted once however many cells show it, with a severity. Pure functions of the stored rows,
shared by the printed interop summary and the report.

Which cells are evidence: a token the case must refuse that the consumer accepted (outside
policy cases), a token the case would refuse that it raised an undocumented exception on (policy
case or not: the RFC's choice is between accepting and refusing), any hang, and any refusal that
cost more than the budgets of `harness.core.cost` (a `dos`, policy case or not). One finding is one
(consumer, group, severity, kind, cause): the group is the attack class (several cases of one
class that show one behaviour, e.g. `alg: none` in four spellings, are one finding) or, for the
claims cases, the claim situation (`claims.exp.nan`, whatever the configuration). Suites, modes
and consumer configurations never multiply a finding: they are its cells.
"""

from __future__ import annotations

import re

import pandas as pd

from harness.core.severity import SEVERITIES, rank

ACCEPTED, HUNG, ERRORED = "unexpected accept", "hang", "error on hostile input"
COSTLY = "costly refusal"
KINDS = (ACCEPTED, HUNG, COSTLY, ERRORED)
UNRATED = "unrated"
FINDING_COLUMNS = ["consumer", "severity", "kind", "group", "cause", "cases", "case_count",
                   "cells", "configs", "entry_points", "key_forms", "suites", "modes",
                   "first_case", "scenario", "producer", "rows"]
_VOLATILE = re.compile(r"0x[0-9a-f]+|\b\d+\b")
_FETCHED = "the library fetched"
# `returned payload differs (...): b'...'`, `accepted it, returning b'...'`: the bytes a consumer
# gave back are random where the plaintext is wrong.
_RETURNED_BYTES = re.compile(r"(?P<said>returned payload differs(?: \(.*?\))?|accepted it, "
                             r"returning):? (?:b|bytearray\(b)?['\"].*$")


def text_of(column: pd.Series) -> pd.Series:
    """A column as strings, empty where missing."""
    return pd.Series(["" if pd.isna(v) else str(v) for v in column], index=column.index,
                     dtype=object)


def masked(detail: object) -> str:
    """A detail's first line with addresses and numbers masked, and the bytes a consumer
    returned instead of the payload left out, so causes group ("" for a missing detail)."""
    text = "" if not isinstance(detail, str) and pd.isna(detail) else str(detail).strip()
    first = text.splitlines()[0] if text else ""
    return _VOLATILE.sub("#", _RETURNED_BYTES.sub(lambda found: found["said"], first))[:160]


def evidence_mask(rows: pd.DataFrame) -> pd.Series:
    """Rows that are evidence of a security finding."""
    if rows.empty:
        return pd.Series(False, index=rows.index)
    policy = rows["policy"].eq(True) if "policy" in rows else pd.Series(False, index=rows.index)
    hostile = rows["expected"] == "reject"
    actual = rows["actual"]
    costly = (rows["cost_verdict"] == "dos") if "cost_verdict" in rows else False
    # A policy case frees the choice between accepting and refusing, not crashing on the token.
    return ((hostile & ~policy & (actual == "accepted")) | (hostile & (actual == "error"))
            | (actual == "hang") | costly)


def _situation(case: str, config: str) -> str:
    """`claims.exp.nan_with_options` -> `claims.exp.nan`: the configuration is in a claims case's
    id, and a configuration never makes a second finding."""
    suffix = "_" + config.replace("-", "_")
    return case[:-len(suffix)] if config and case.endswith(suffix) else case


def evidence(rows: pd.DataFrame) -> pd.DataFrame:
    """The evidence rows with what decides their finding: kind, severity, group and cause."""
    cells = rows[evidence_mask(rows)].copy()
    if cells.empty:
        return cells.assign(kind=[], severity=[], group=[], cause=[])
    actual = cells["actual"]
    detail = text_of(cells["detail"]) if "detail" in cells else pd.Series("", index=cells.index)
    declared = (text_of(cells["severity"]) if "severity" in cells
                else pd.Series("", index=cells.index))
    declared = declared.where(declared.isin(SEVERITIES), UNRATED)
    fetched = detail.str.startswith(_FETCHED)
    costly = (cells["cost_verdict"] == "dos") if "cost_verdict" in cells else \
        pd.Series(False, index=cells.index)
    cells["kind"] = [HUNG if a == "hang" else COSTLY if c else ERRORED if a == "error"
                     else ACCEPTED for a, c in zip(actual, costly, strict=True)]
    # A hang is a denial of service whatever the case; an undocumented exception refused the
    # token (a robustness fault, not a way in: the application sees an unexpected exception
    # type) unless the library fetched a URL the token named, which is the case's own harm.
    cells["severity"] = [
        "dos" if kind in (HUNG, COSTLY)
        else sev if kind == ACCEPTED or was_fetched
        else "leniency"
        for kind, sev, was_fetched in zip(cells["kind"], declared, fetched, strict=True)]
    attack_class = (text_of(cells["attack_class"]) if "attack_class" in cells
                    else pd.Series("", index=cells.index))
    config = text_of(cells["config"]) if "config" in cells else pd.Series("", index=cells.index)
    scenario = text_of(cells["scenario"])
    cells["group"] = [
        _situation(str(case), cfg) if scen.startswith("claims.") or not cls else cls
        for case, cfg, scen, cls in zip(cells["case"], config, scenario, attack_class,
                                        strict=True)]
    # A costly refusal's cause is which budget it broke, not the library's refusal text.
    cost = (text_of(cells["cost_detail"]) if "cost_detail" in cells
            else pd.Series("", index=cells.index))
    cells["cause"] = [masked(c if k == COSTLY else d) or (
                          "accepted a token a correct consumer refuses" if k == ACCEPTED else k)
                      for d, c, k in zip(detail, cost, cells["kind"], strict=True)]
    return cells


def _listed(values: pd.Series) -> str:
    return ", ".join(v for v in dict.fromkeys(values) if v)


def findings(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per finding, most severe first, then by consumer; `rows` holds the index labels
    of its cells in `rows` (its evidence)."""
    cells = evidence(rows)
    if cells.empty:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    cells = cells.assign(_label=cells.index,
                         config=text_of(cells["config"]) if "config" in cells else "",
                         entry_point=text_of(cells["entry_point"]) if "entry_point" in cells
                         else "", key_form=text_of(cells["key_form"]) if "key_form" in cells
                         else "")
    records = []
    for key, group in cells.groupby(["consumer", "severity", "kind", "group", "cause"],
                                    sort=False):
        consumer, severity, kind, name, cause = key
        cases = list(dict.fromkeys(group["case"]))
        records.append({
            "consumer": consumer, "severity": severity, "kind": kind, "group": name,
            "cause": cause, "cases": ", ".join(cases), "case_count": len(cases),
            "cells": len(group), "configs": _listed(group["config"]),
            "entry_points": _listed(group["entry_point"]), "key_forms": _listed(group["key_form"]),
            "suites": ", ".join(dict.fromkeys(map(str, group["suite"]))),
            "modes": ", ".join(dict.fromkeys(map(str, group["mode"]))),
            "first_case": cases[0], "scenario": str(group["scenario"].iloc[0]),
            "producer": str(group["producer"].iloc[0]),
            "rows": list(group["_label"])})
    table = pd.DataFrame.from_records(records, columns=FINDING_COLUMNS)
    order = sorted(range(len(table)), key=lambda i: (rank(table["severity"].iloc[i]),
                                                     str(table["consumer"].iloc[i]),
                                                     -int(table["cells"].iloc[i])))
    return table.iloc[order].reset_index(drop=True)


def severity_counts(found: pd.DataFrame, consumer: str | None = None) -> dict[str, int]:
    """Findings per severity (most severe first), for one consumer or all."""
    mine = found if consumer is None else found[found["consumer"] == consumer]
    counts = mine["severity"].value_counts()
    ordered = {s: int(counts[s]) for s in SEVERITIES if s in counts}
    if UNRATED in counts:
        ordered[UNRATED] = int(counts[UNRATED])
    return ordered
