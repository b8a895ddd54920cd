"""`harness compare RUN_A RUN_B`: what changed between two runs, the question after upgrading a
library. Cells are matched on what identifies them (scenario, case, producer, consumer, suite,
mode, consumer configuration); load-test cells on (library, suite, operation).

Run-to-run noise. Each load-test figure comes with its interquartile range across the cell's
interleaved rounds. A cell is reported as changed when the two runs' intervals, each widened
by MARGIN (5%) of its own ends, do not overlap. The figure judged is the overhead over the
`cryptography` floor (floor rate ÷ library rate, taken round by round beside each other): the
host's speed, which moves absolute rates between runs made minutes or days apart, moves both
sides of it. Where a run has no floor the rate itself is judged. A figure without a spread (a
table from before rounds) is a point, widened by MARGIN_WITHOUT_SPREAD (10%).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from harness.core.findings import masked
from harness.core.results import Run
from harness.interop.releases import summary_lines as release_lines
from harness.report.anomalies import DEFAULT_ENTRY_POINT, as_text, entry_points, masks
from harness.report.findings import security_findings
from harness.report.http_load import compare_lines as http_compare_lines
from harness.report.rundata import LOADTEST_KEY, RunData, load_run
from harness.report.throughput import rate

CELL_KEY = ["scenario", "case", "producer", "consumer", "suite", "mode", "config", "entry_point"]
MARGIN = 0.05
MARGIN_WITHOUT_SPREAD = 0.10
# How close two runs' ratios (overhead, efficiency) should come: the repeatability line.
REPEAT_BAND = 0.05
MAX_LISTED = 20
NOISE_RULE = (f"a cell counts as changed when the interquartile ranges across rounds of its "
              f"overhead over the cryptography floor (its rate where a run has no floor), each "
              f"widened by {MARGIN:.0%}, do not overlap ({MARGIN_WITHOUT_SPREAD:.0%} for a "
              f"figure without a range)")


@dataclass
class Comparison:
    a: RunData
    b: RunData
    versions: list[str] = field(default_factory=list)
    matched: int = 0
    only_a: int = 0
    only_b: int = 0
    broke: pd.DataFrame = field(default_factory=pd.DataFrame)
    fixed: pd.DataFrame = field(default_factory=pd.DataFrame)
    now_failing: pd.DataFrame = field(default_factory=pd.DataFrame)
    now_unsupported: pd.DataFrame = field(default_factory=pd.DataFrame)
    now_supported: pd.DataFrame = field(default_factory=pd.DataFrame)
    new_accepts: pd.DataFrame = field(default_factory=pd.DataFrame)
    # Findings (one per consumer and behaviour), not cells: those only B has, those B lost.
    new_findings: pd.DataFrame = field(default_factory=pd.DataFrame)
    gone_findings: pd.DataFrame = field(default_factory=pd.DataFrame)
    throughput: pd.DataFrame | None = None
    throughput_note: str = ""
    repeat_note: str = ""
    http_lines: list[str] = field(default_factory=list)
    http_regressed: bool = False

    @property
    def regressed(self) -> bool:
        return self.http_regressed or not (self.broke.empty and self.now_failing.empty
                                           and self.new_accepts.empty
                                           and self.new_findings.empty)


def version_changes(a: RunData, b: RunData) -> list[str]:
    old, new = a.meta.get("libraries") or {}, b.meta.get("libraries") or {}
    changes = [f"{name} {old[name]} → {new[name]}" for name in old
               if name in new and str(old[name]) != str(new[name])]
    changes += [f"{name} {new[name]} added" for name in new if name not in old]
    changes += [f"{name} {old[name]} removed" for name in old if name not in new]
    return changes


def _keyed(rows: pd.DataFrame) -> pd.DataFrame:
    keyed = rows.copy()
    keyed["config"] = as_text(keyed["config"])
    keyed["entry_point"] = entry_points(keyed)
    keyed["unexpected_accept"] = masks(keyed)["unexpected accepts"]
    return keyed.drop_duplicates(CELL_KEY, keep="last")


def cell_changes(comparison: Comparison) -> None:
    a, b = _keyed(comparison.a.rows), _keyed(comparison.b.rows)
    both = a.merge(b, on=CELL_KEY, how="outer", suffixes=("_a", "_b"), indicator=True)
    comparison.only_a = int((both["_merge"] == "left_only").sum())
    comparison.only_b = int((both["_merge"] == "right_only").sum())
    matched = both[both["_merge"] == "both"].sort_values(CELL_KEY)
    comparison.matched = len(matched)
    columns = [*CELL_KEY, "actual_a", "actual_b", "detail_b"]
    comparison.broke = matched.loc[matched["passed_a"].eq(True) & matched["passed_b"].eq(False),
                                   columns]
    comparison.fixed = matched.loc[matched["passed_a"].eq(False) & matched["passed_b"].eq(True),
                                   columns]
    unsupported_a, unsupported_b = (matched["actual_a"] == "unsupported",
                                    matched["actual_b"] == "unsupported")
    comparison.now_unsupported = matched.loc[~unsupported_a & unsupported_b, columns]
    comparison.now_failing = matched.loc[unsupported_a & matched["passed_b"].eq(False), columns]
    comparison.now_supported = matched.loc[unsupported_a & matched["passed_b"].eq(True), columns]
    before = both["unexpected_accept_a"].eq(True)
    comparison.new_accepts = both.loc[both["unexpected_accept_b"].eq(True) & ~before,
                                      [*CELL_KEY, "detail_b"]].sort_values(CELL_KEY)


def interval(both: pd.DataFrame, figure: str, run: str) -> tuple[pd.Series, pd.Series]:
    """Each cell's (low, high) for the figure in run `a` or `b` of the merged table: its
    interquartile range widened by MARGIN, or the figure alone widened by
    MARGIN_WITHOUT_SPREAD where that run's table has no range."""
    value = both[f"{figure}_{run}"]
    missing = pd.Series(math.nan, index=both.index)
    low = both.get(f"{figure}_q1_{run}", missing)
    high = both.get(f"{figure}_q3_{run}", missing)
    spread = low.notna() & high.notna()
    margin = pd.Series(MARGIN, index=both.index).where(spread, MARGIN_WITHOUT_SPREAD)
    return low.where(spread, value) * (1 - margin), high.where(spread, value) * (1 + margin)


def separated(both: pd.DataFrame, figure: str) -> pd.Series:
    """Whether the two runs' widened intervals of the figure do not overlap."""
    low_a, high_a = interval(both, figure, "a")
    low_b, high_b = interval(both, figure, "b")
    return (low_b > high_a) | (high_b < low_a)


FINDING_KEY = ["consumer", "severity", "kind", "group", "cause"]


def finding_changes(comparison: Comparison) -> None:
    """A finding is new when B has a (consumer, severity, kind, group, cause) A does not: a
    behaviour seen in more suites or configurations than before is the same finding."""
    a, b = security_findings(comparison.a.rows), security_findings(comparison.b.rows)
    keys_a = set(map(tuple, a[FINDING_KEY].to_numpy().tolist()))
    keys_b = set(map(tuple, b[FINDING_KEY].to_numpy().tolist()))
    comparison.new_findings = b[[tuple(k) not in keys_a
                                 for k in b[FINDING_KEY].to_numpy().tolist()]]
    comparison.gone_findings = a[[tuple(k) not in keys_b
                                  for k in a[FINDING_KEY].to_numpy().tolist()]]


def _finding_lines(title: str, found: pd.DataFrame) -> list[str]:
    lines = [f"{title}: {len(found)}"]
    for f in found.head(MAX_LISTED).itertuples():
        cases = f.cases if f.case_count <= 3 else f"{f.first_case} and {f.case_count - 1} more"
        lines.append(f"  {f.consumer}  {f.severity}  {f.group}: {f.kind}, {f.cells} cell(s) "
                     f"({cases}): {f.cause}")
    if len(found) > MAX_LISTED:
        lines.append(f"  ... {len(found) - MAX_LISTED} more")
    return lines


def throughput_changes(comparison: Comparison) -> None:
    a, b = comparison.a.loadtest, comparison.b.loadtest
    if a is None or b is None:
        which = [n for n, t in (("A", a), ("B", b)) if t is None]
        comparison.throughput_note = ("no throughput comparison: "
                                      + ("neither run has a load test" if len(which) == 2
                                         else f"run {which[0]} has no load test"))
        return
    both = a.merge(b, on=LOADTEST_KEY, suffixes=("_a", "_b"))
    both["change"] = both["ops_per_s_b"] / both["ops_per_s_a"] - 1
    with_floor = both["overhead_x_a"].notna() & both["overhead_x_b"].notna()
    both["judged"] = with_floor.map({True: "overhead", False: "rate"})
    both["overhead_change"] = both["overhead_x_b"] / both["overhead_x_a"] - 1
    moved = separated(both, "overhead_x").where(with_floor, separated(both, "ops_per_s"))
    changed = both[moved.astype(bool)]
    comparison.throughput = changed[[*LOADTEST_KEY, "ops_per_s_a", "ops_per_s_b", "change",
                                     "overhead_x_a", "overhead_x_b", "overhead_change",
                                     "judged"]].sort_values("change")
    comparison.throughput_note = (f"{len(both)} load-test cells in both runs, {len(changed)} "
                                  f"changed beyond noise; {NOISE_RULE}")
    comparison.repeat_note = repeat_summary(both)


def repeat_summary(both: pd.DataFrame) -> str:
    """How well the two runs repeat, cell by cell: the ratios within ±REPEAT_BAND, and the
    rates' B ÷ A, which the host's speed moves."""
    parts = []
    for figure in ("overhead_x", "efficiency"):
        change = (both[f"{figure}_b"] / both[f"{figure}_a"] - 1).dropna()
        close = int((change.abs() <= REPEAT_BAND).sum())
        parts.append(f"{figure} within ±{REPEAT_BAND:.0%} in {close} of {len(change)} cells")
    ratio = (both["ops_per_s_b"] / both["ops_per_s_a"]).dropna()
    if len(ratio):
        q1, median, q3 = ratio.quantile([0.25, 0.5, 0.75])
        parts.append(f"rate B ÷ A median {median:.3f} (IQR {q1:.3f}–{q3:.3f})")
    return "; ".join(parts)


def compare(run_a: Run, run_b: Run) -> Comparison:
    comparison = Comparison(a=load_run(run_a), b=load_run(run_b))
    comparison.versions = version_changes(comparison.a, comparison.b)
    cell_changes(comparison)
    finding_changes(comparison)
    throughput_changes(comparison)
    comparison.http_lines, comparison.http_regressed = http_compare_lines(run_a.path,
                                                                          run_b.path)
    return comparison


def _cell(row: pd.Series) -> str:
    config = f" [{row['config']}]" if row["config"] else ""
    if row.get("entry_point", DEFAULT_ENTRY_POINT) != DEFAULT_ENTRY_POINT:
        config += f" via {row['entry_point']}"
    return (f"{row['case']}  {row['producer']} → {row['consumer']}  {row['suite']}  "
            f"{row['mode']}{config}")


def _listing(title: str, frame: pd.DataFrame, line: Callable[[pd.Series], str],
             why: Callable[[pd.Series], str]) -> list[str]:
    """Each cell when there are few; grouped by library pair and cause (numbers masked), with
    one example cell per group, when there are more than MAX_LISTED."""
    lines = [f"{title}: {len(frame)}"]
    if len(frame) <= MAX_LISTED:
        return lines + [f"  {line(row)}" for _, row in frame.iterrows()]
    keyed = frame.assign(why=[masked(why(row)) for _, row in frame.iterrows()])
    groups = keyed.groupby(["producer", "consumer", "why"], sort=False)
    ordered = sorted(groups, key=lambda item: -len(item[1]))
    lines.append(f"  {len(ordered)} groups by library pair and cause:")
    for (producer, consumer, cause), group in ordered[:MAX_LISTED]:
        lines.append(f"  {producer} → {consumer} ×{len(group)}: {cause}")
        lines.append(f"      e.g. {_cell(group.iloc[0])}")
    if len(ordered) > MAX_LISTED:
        lines.append(f"  ... {len(ordered) - MAX_LISTED} more groups")
    return lines


def _first_line(text: object) -> str:
    return str(text or "").strip().splitlines()[0][:200] if str(text or "").strip() else ""


def render_comparison(comparison: Comparison) -> str:
    c = comparison
    lines = [f"compare {c.a.name} (A) → {c.b.name} (B)",
             "library versions: " + ("; ".join(c.versions) or "unchanged"),
             f"cells: {c.matched} in both runs, {c.only_a} only in A, {c.only_b} only in B "
             "(cells in one run only are not compared)"]
    detail_b = lambda r: _first_line(r["detail_b"])  # noqa: E731
    lines += _listing("broke (passed in A, fail in B)", c.broke,
                      lambda r: f"{_cell(r)}: {r['actual_b']}: {detail_b(r)}",
                      lambda r: f"{r['actual_b']}: {detail_b(r)}")
    lines += _listing("fixed (failed in A, pass in B)", c.fixed,
                      lambda r: f"{_cell(r)}: was {r['actual_a']}",
                      lambda r: f"was {r['actual_a']}")
    lines += _finding_lines("new findings (security, one per consumer and behaviour)",
                            c.new_findings)
    lines += _finding_lines("findings gone", c.gone_findings)
    lines += _listing("now unsupported", c.now_unsupported,
                      lambda r: f"{_cell(r)}: {detail_b(r)}", detail_b)
    lines += _listing("now failing (unsupported in A, fail in B)", c.now_failing,
                      lambda r: f"{_cell(r)}: {r['actual_b']}: {detail_b(r)}",
                      lambda r: f"{r['actual_b']}: {detail_b(r)}")
    lines += _listing("newly supported (unsupported in A, pass in B)", c.now_supported,
                      _cell, lambda r: "")
    lines.append(f"throughput: {c.throughput_note}")
    if c.repeat_note:
        lines.append(f"run to run: {c.repeat_note}")
    if c.throughput is not None:
        for _, r in c.throughput.iterrows():
            overhead = (f"; overhead ×{r['overhead_x_a']:.2f} → ×{r['overhead_x_b']:.2f} "
                        f"({r['overhead_change']:+.1%})" if r["judged"] == "overhead" else
                        "; judged on the rate (no floor)")
            lines.append(f"  {r['library']} {r['suite']} {r['operation']}: "
                         f"{rate(r['ops_per_s_a'])} → {rate(r['ops_per_s_b'])} "
                         f"({r['change']:+.1%}){overhead}")
    lines += c.http_lines
    # Releases that ran side by side as peers within one run (`--with pyjwt==2.10.0`).
    for label, data in (("A", c.a), ("B", c.b)):
        if not data.rows.empty:
            lines += [f"in {label}: {line}"
                      for line in release_lines(data.rows, data.libraries, matrix=False)]
    return "\n".join(lines)
