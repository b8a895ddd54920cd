"""Releases side by side: what changes between a Python library and another release of it that
ran in the same matrix as a peer (`pyjwt` beside `pyjwt@2.10.0`), cell by cell.

The same cell is the same scenario, case, producer, suite, mode, configuration and entry point
with the consumer (or, for round trips, the producer too) swapped for the other release. A
change is a differing outcome: the rows say which release accepts what the other refuses.
"""

from __future__ import annotations

import pandas as pd

from harness.interop.pair_matrix import grid_lines, judged_counts

KEY = ("case", "suite", "mode", "config", "entry_point")


def release_pairs(names: list[str]) -> list[tuple[str, str]]:
    """(today's library, release peer) for every `lib@version` whose `lib` also ran."""
    return [(name.split("@", 1)[0], name) for name in names
            if "@" in name and name.split("@", 1)[0] in names]


def _as_consumer(rows: pd.DataFrame, consumer: str, library: str) -> pd.DataFrame:
    """The consumer's cells, with a producer that is either release named as the library, so
    `pyjwt -> pyjwt@2.10.0` lines up with `pyjwt -> pyjwt` (each release's own round trip)."""
    cells = rows[rows["consumer"] == consumer].copy()
    cells["producer"] = cells["producer"].where(~cells["producer"].isin([consumer]), library)
    for column in KEY:
        cells[column] = cells[column].astype(str) if column in cells else ""
    return cells.drop_duplicates([*KEY, "producer"], keep="last")


def release_changes(rows: pd.DataFrame, library: str, release: str) -> pd.DataFrame:
    """Cells whose outcome differs between `library` and `release` as consumers."""
    today, other = _as_consumer(rows, library, library), _as_consumer(rows, release, library)
    both = today.merge(other, on=[*KEY, "producer"], suffixes=("_today", "_release"))
    changed = both[both["actual_today"] != both["actual_release"]]
    return changed[[*KEY, "producer", "actual_today", "actual_release", "passed_today",
                    "passed_release", "detail_release", "detail_today"]]


def pair_matrix(rows: pd.DataFrame, names: list[str]) -> list[str]:
    """Producer × consumer among the given libraries: passed of judged library-made cells."""
    made = rows[rows["producer"].isin(names) & rows["consumer"].isin(names)]
    counts = judged_counts(made)
    return [] if counts.empty else grid_lines(counts, names, names)


def summary_lines(rows: pd.DataFrame, names: list[str], limit: int = 8,
                  matrix: bool = True) -> list[str]:
    """The printed comparison: per pair, the producer × consumer matrix (`matrix`), how many
    shared cells differ, then the cases."""
    lines: list[str] = []
    for library, release in release_pairs(names):
        grid = pair_matrix(rows, [library, release]) if matrix else []
        if grid:
            lines += [f"{library} × {release}, library-made tokens (passed/judged):",
                      *(f"  {line}" for line in grid)]
        changed = release_changes(rows, library, release)
        shared = len(_as_consumer(rows, library, library).merge(
            _as_consumer(rows, release, library), on=[*KEY, "producer"]))
        lines.append(f"Releases side by side: {library} (today) vs {release}: {len(changed)} "
                     f"of {shared} shared cells differ")
        if changed.empty:
            continue
        grouped = changed.groupby(["case", "actual_today", "actual_release"], sort=False).size()
        # A token one release accepts and the other refuses first: that is the upgrade's news.
        ordered = sorted(grouped.items(), key=lambda item: (
            "accepted" not in item[0][1:], -item[1]))
        for (case, today, other), count in ordered[:limit]:
            lines.append(f"  {case}: {library} {today}, {release} {other} (×{count})")
        if len(grouped) > limit:
            lines.append(f"  ... {len(grouped) - limit} more cases (harness.interop.releases)")
    return lines
