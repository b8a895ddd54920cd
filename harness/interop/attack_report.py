"""What the attack rows say, derived at the end of `harness interop`: the unexpected accepts
(security findings) as `unexpected-accepts.csv`, a chart of verdicts per library and attack
class (`attack-verdicts.png`), and the summary lines that list the findings per library."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import PolyCollection

from harness.core.findings import findings, severity_counts
from harness.core.outcomes import FAULTS
from harness.core.severity import count_text
from harness.interop.scenario import discover

UNEXPECTED_ACCEPTS_CSV = "unexpected-accepts.csv"
ATTACK_VERDICTS_PNG = "attack-verdicts.png"
ACCEPT_COLUMNS = ["library", "case", "suite", "config", "entry_point", "key_form",
                  "attack_class", "severity", "requirement", "detail"]
VERDICTS = ("passed", "unexpected accept", "unexpected reject", "dos", "error", "hang",
            "unsupported", "policy")
COLOURS = ("#2e7d32", "#c62828", "#ef6c00", "#ad1457", "#6a1b9a", "#000000", "#bdbdbd",
           "#64b5f6")
MAX_LISTED = 12


def attack_rows(rows: pd.DataFrame) -> pd.DataFrame:
    if "attack_class" not in rows:
        return rows.iloc[0:0]
    return rows[rows["attack_class"].notna()]


def descriptions() -> dict[str, str]:
    """Case id -> the case's description (what the forged token is), for the evidence."""
    try:
        return {case.id: case.description for case in discover()}
    except Exception:  # the table is still written without descriptions
        return {}


def _is_policy(rows: pd.DataFrame) -> pd.Series:
    return rows["policy"].fillna(False).astype(bool)


def unexpected_accepts(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows a correct library refuses that this one accepted, outside policy cases."""
    rows = attack_rows(rows)
    hits = rows[(rows["expected"] == "reject") & (rows["actual"] == "accepted")
                & ~_is_policy(rows)]
    described = descriptions()
    detail = "mode " + hits["mode"].astype(str) + ": accepted" + hits["detail"].fillna("").map(
        lambda text: f" ({text})" if text else "") + hits["case"].map(
        lambda case: f"; the case: {described[case]}" if case in described else "")
    table = pd.DataFrame({"library": hits["consumer"], "case": hits["case"],
                          "suite": hits["suite"], "config": hits["config"],
                          "entry_point": _column(hits, "entry_point", "jws"),
                          "key_form": _column(hits, "key_form", ""),
                          "attack_class": hits["attack_class"],
                          "severity": hits.get("severity"),
                          "requirement": hits["requirement"], "detail": detail})
    return table.sort_values(["library", "attack_class", "case", "suite", "config"]) \
        .reset_index(drop=True)


def _column(rows: pd.DataFrame, name: str, missing: str) -> pd.Series:
    return rows[name].fillna(missing) if name in rows else pd.Series(missing, index=rows.index)


def verdict_of(row: pd.Series) -> str:
    if row["actual"] == "unsupported":
        return "unsupported"
    if row.get("cost_verdict") == "dos":
        return "dos"
    if row["actual"] in FAULTS:  # a failure even where policy decides
        return str(row["actual"])
    if bool(row.get("policy") or False):
        return "policy"
    if row["passed"] is True or row["passed"] == True:  # noqa: E712 - object column
        return "passed"
    return "unexpected accept" if row["expected"] == "reject" else "unexpected reject"


def verdicts_of(rows: pd.DataFrame) -> pd.Series:
    """`verdict_of` for every row at once (a row-wise `apply` took 1.5 s for the 45,000 attack
    rows of a node-peer run)."""
    actual = rows["actual"].astype(object)
    dos = (rows["cost_verdict"] == "dos") if "cost_verdict" in rows \
        else pd.Series(False, index=rows.index)
    # As `bool(row.get("policy") or False)` and `passed is True or passed == True` read them.
    policy = rows["policy"].map(lambda value: bool(value or False)) if "policy" in rows \
        else pd.Series(False, index=rows.index)
    passed = rows["passed"].map(lambda value: value is True or value == True)  # noqa: E712
    other = (rows["expected"] == "reject").map({True: "unexpected accept",
                                                False: "unexpected reject"})
    verdicts = other.where(~passed, "passed")
    verdicts = verdicts.where(~policy, "policy")
    faults = actual.isin(list(FAULTS))
    verdicts = verdicts.where(~faults, actual)
    verdicts = verdicts.where(~dos, "dos")
    return verdicts.where(actual != "unsupported", "unsupported").astype(object) \
        .rename("verdict")


def verdict_counts(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows per library, attack class and verdict (columns in VERDICTS order)."""
    rows = attack_rows(rows)
    if rows.empty:
        return pd.DataFrame(columns=["library", "attack_class", *VERDICTS])
    verdicts = verdicts_of(rows)
    table = pd.crosstab([rows["consumer"], rows["attack_class"]], verdicts)
    table = table.reindex(columns=list(VERDICTS), fill_value=0)
    table.index.names = ["library", "attack_class"]
    return table.reset_index()


def _stacked_bars(ax: plt.Axes, counts: np.ndarray) -> None:
    """One horizontal bar per row of `counts`, its columns stacked in VERDICTS order: one
    collection per verdict (pandas' `barh` added 1,360 patches one by one, 3 s of the chart)."""
    lefts = np.cumsum(counts, axis=1) - counts
    for column, colour in enumerate(COLOURS):
        boxes = [[(left, row - 0.4), (left + width, row - 0.4), (left + width, row + 0.4),
                  (left, row + 0.4)]
                 for row, (left, width) in enumerate(zip(lefts[:, column], counts[:, column],
                                                         strict=True)) if width > 0]
        ax.add_collection(PolyCollection(boxes, facecolors=colour, edgecolors="none"))
    ax.set_xlim(0, max(float(counts.sum(axis=1).max(initial=0)), 1.0) * 1.05)
    ax.set_ylim(-0.5, len(counts) - 0.5)


def verdict_chart(counts: pd.DataFrame, target: Path) -> Path:
    """One panel per library: a stacked bar of verdicts per attack class."""
    libraries = list(dict.fromkeys(counts["library"]))
    classes = sorted(counts["attack_class"].unique())
    fig, axes = plt.subplots(1, len(libraries), sharey=True, squeeze=False,
                             figsize=(2.0 + 3.2 * len(libraries), 1.2 + 0.32 * len(classes)))
    for ax, library in zip(axes[0], libraries, strict=True):
        frame = counts[counts["library"] == library].set_index("attack_class")[list(VERDICTS)] \
            .reindex(classes, fill_value=0)
        _stacked_bars(ax, frame.to_numpy(dtype=float))
        ax.set_yticks(range(len(classes)), classes)
        ax.set_title(library)
        ax.set_xlabel("rows")
        ax.set_ylabel("")
        ax.invert_yaxis()
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in COLOURS]
    fig.legend(handles, VERDICTS, loc="lower center", ncol=len(VERDICTS), fontsize=8,
               bbox_to_anchor=(0.5, 0.0))
    fig.suptitle("Attack verdicts per library and attack class")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target


def summary_lines(accepts: pd.DataFrame, libraries: list[str],
                  rows: pd.DataFrame | None = None) -> list[str]:
    """Security findings per library (one per behaviour, by severity, most severe first), and
    how many unexpected-accept rows are in the CSV."""
    lines = [f"Unexpected accepts: {len(accepts)} rows in {UNEXPECTED_ACCEPTS_CSV}"
             if len(accepts) else "Unexpected accepts: none."]
    if rows is None:
        return lines
    found = findings(rows)
    if found.empty:
        return [*lines, "Security findings: none."]
    lines.append(f"Security findings ({len(found)}, one per consumer and behaviour, from "
                 f"{int(found['cells'].sum())} cells), most severe first:")
    for library in libraries:
        mine = found[found["consumer"] == library]
        lines.append(f"  {library}: {count_text(severity_counts(found, library))}")
        for f in mine.head(MAX_LISTED).itertuples():
            cases = (f.cases if f.case_count <= 2
                     else f"{f.first_case} and {f.case_count - 1} more")
            lines.append(f"    {f.severity:<12} {f.group}: {f.kind} ×{f.cells} ({cases})")
        if len(mine) > MAX_LISTED:
            lines.append(f"    ... {len(mine) - MAX_LISTED} more in the report")
    return lines


def write_attack_outputs(rows: pd.DataFrame, libraries: list[str], folder: Path,
                         charts: bool = True, draw: Callable[..., None] | None = None
                         ) -> list[str]:
    """Write the CSV (and chart) when the run has attack rows; return the summary lines.
    `draw`: how to draw the chart (`PendingCharts.draw`, in a worker); without it, here."""
    if attack_rows(rows).empty:
        return []
    accepts = unexpected_accepts(rows)
    accepts.to_csv(folder / UNEXPECTED_ACCEPTS_CSV, index=False, columns=ACCEPT_COLUMNS)
    if charts:
        arguments = (verdict_counts(rows), folder / ATTACK_VERDICTS_PNG)
        if draw is None:
            verdict_chart(*arguments)
        else:
            draw(verdict_chart, *arguments)
    return summary_lines(accepts, libraries, rows)
