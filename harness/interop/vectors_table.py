"""What the vector rows say: per library and source, how many valid vectors it accepted with
the exact payload, how many invalid ones it refused, what it did with the acceptable ones, and
every miss. Written as `vectors.csv` at the end of `harness interop`; the report's "Known
answers" section reads the same tables from the stored rows.

A source is a vector scenario (`vectors.wycheproof_jws`: one Wycheproof file, one cookbook
folder, the producer known answers). A vector listed in `vectors/defects.json` is counted as a
defect, never as a pass or a miss.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

VECTORS_CSV = "vectors.csv"
VECTOR_PREFIX = "vectors."
COUNT_COLUMNS = ["cells", "valid accepted", "valid missed", "invalid refused", "invalid missed",
                 "acceptable accepted", "acceptable refused", "unsupported", "defects", "misses"]
TABLE_COLUMNS = ["library", "source", *COUNT_COLUMNS]
MISS_COLUMNS = ["library", "source", "case", "flags", "config", "suite", "expected", "actual",
                "detail", "requirement"]
DEFECT_COLUMNS = ["library", "source", "case", "defect", "actual", "detail"]


def _text(column: pd.Series) -> pd.Series:
    return pd.Series(["" if pd.isna(v) else str(v) for v in column], index=column.index,
                     dtype=object)


def vector_rows(rows: pd.DataFrame) -> pd.DataFrame:
    if rows.empty or "scenario" not in rows:
        return rows.iloc[0:0]
    # By the few distinct scenario names, not each row's (0.3 s a call on 155k rows).
    scenario = rows["scenario"]
    sources = [name for name in scenario.dropna().unique()
               if str(name).startswith(VECTOR_PREFIX)]
    return rows[scenario.isin(sources)]


def _kinds(rows: pd.DataFrame) -> pd.Series:
    """valid / invalid / acceptable / defect / unsupported, one per row."""
    defect = _text(rows["defect"]) != "" if "defect" in rows else pd.Series(False, rows.index)
    policy = rows["policy"].eq(True) if "policy" in rows else pd.Series(False, rows.index)
    kind = pd.Series("invalid", index=rows.index, dtype=object)
    kind[rows["expected"] == "accept"] = "valid"
    kind[policy] = "acceptable"
    kind[defect] = "defect"
    kind[rows["actual"] == "unsupported"] = "unsupported"
    return kind


def _source(rows: pd.DataFrame) -> pd.Series:
    return _text(rows["scenario"]).str.removeprefix(VECTOR_PREFIX)


def vectors_table(rows: pd.DataFrame) -> pd.DataFrame:
    """One line per library and source with the counts of `COUNT_COLUMNS`."""
    rows = vector_rows(rows)
    if rows.empty:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    kind, passed, actual = _kinds(rows), rows["passed"].eq(True), rows["actual"]
    failed, policy = rows["passed"].eq(False), kind.isin(["acceptable", "defect"])
    frame = pd.DataFrame({
        "library": rows["consumer"], "source": _source(rows), "cells": 1,
        "valid accepted": (kind == "valid") & passed,
        "valid missed": (kind == "valid") & ~passed,
        "invalid refused": (kind == "invalid") & passed,
        "invalid missed": (kind == "invalid") & ~passed,
        "acceptable accepted": (kind == "acceptable") & (actual == "accepted"),
        "acceptable refused": (kind == "acceptable") & (actual != "accepted") & ~failed,
        "unsupported": kind == "unsupported", "defects": kind == "defect"})
    # A policy vector (acceptable, or a listed defect) fails only by an error or a hang.
    frame["misses"] = frame["valid missed"] | frame["invalid missed"] | (policy & failed)
    table = frame.groupby(["library", "source"], sort=False)[COUNT_COLUMNS].sum()
    return table.astype(int).reset_index()[TABLE_COLUMNS]


def vector_misses(rows: pd.DataFrame) -> pd.DataFrame:
    """Every judged vector row that failed: which vector, its flags, what the library did."""
    rows = vector_rows(rows)
    if rows.empty:
        return pd.DataFrame(columns=MISS_COLUMNS)
    kind = _kinds(rows)
    # A policy vector (acceptable, or a listed defect) is missed only by an error or a hang.
    missed = rows[(kind.isin(["valid", "invalid"]) & ~rows["passed"].eq(True))
                  | (kind.isin(["acceptable", "defect"]) & rows["passed"].eq(False))]
    return pd.DataFrame({
        "library": missed["consumer"], "source": _source(missed), "case": missed["case"],
        "flags": _text(missed["attack_class"]) if "attack_class" in missed else "",
        "config": _text(missed["config"]) if "config" in missed else "",
        "suite": missed["suite"], "expected": missed["expected"], "actual": missed["actual"],
        "detail": _text(missed["detail"]), "requirement": _text(missed["requirement"])},
        columns=MISS_COLUMNS)


def vector_defects(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of vectors listed as wrong against the RFC, with the listed reason."""
    rows = vector_rows(rows)
    if rows.empty or "defect" not in rows:
        return pd.DataFrame(columns=DEFECT_COLUMNS)
    listed = rows[_text(rows["defect"]) != ""]
    return pd.DataFrame({"library": listed["consumer"], "source": _source(listed),
                         "case": listed["case"], "defect": listed["defect"],
                         "actual": listed["actual"], "detail": _text(listed["detail"])},
                        columns=DEFECT_COLUMNS)


def write_vectors_csv(table: pd.DataFrame, folder: Path) -> Path | None:
    """`vectors.csv` from the rows' `vectors_table` when the run has vector rows; None
    otherwise."""
    if table.empty:
        return None
    target = folder / VECTORS_CSV
    table.to_csv(target, index=False)
    return target


def summary_lines(table: pd.DataFrame) -> list[str]:
    """The printed known answers, from the rows' `vectors_table`."""
    if table.empty:
        return []
    lines = ["Known answers (vectors.csv): valid accepted / invalid refused / unsupported / "
             "misses"]
    for library, mine in table.groupby("library", sort=False):
        valid = int(mine["valid accepted"].sum()), int((mine["valid accepted"]
                                                        + mine["valid missed"]).sum())
        invalid = int(mine["invalid refused"].sum()), int((mine["invalid refused"]
                                                           + mine["invalid missed"]).sum())
        lines.append(f"  {library}: valid {valid[0]}/{valid[1]}, invalid {invalid[0]}/"
                     f"{invalid[1]}, unsupported {int(mine['unsupported'].sum())}, "
                     f"misses {int(mine['misses'].sum())}")
    return lines
