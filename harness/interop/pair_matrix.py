"""Producer × consumer grids of the cells with a library-made token: passed of judged, as the run
prints them, for the peers beside the Python libraries and for two releases of one library."""

from __future__ import annotations

import pandas as pd

CORNER = "producer \\ consumer"


def judged_counts(rows: pd.DataFrame) -> pd.DataFrame:
    """Per (producer, consumer): `passed` and `judged` cells (an unsupported cell is not judged).
    One grouping for every pair: filtering the rows pair by pair took seconds on 430k rows."""
    judged = rows[rows["passed"].notna()]
    frame = pd.DataFrame({"producer": judged["producer"], "consumer": judged["consumer"],
                          "passed": judged["passed"] == True})  # noqa: E712 - nullable
    return frame.groupby(["producer", "consumer"])["passed"].agg(passed="sum", judged="size")


def grid_lines(counts: pd.DataFrame, row_names: list[str], column_names: list[str],
               corner: str = CORNER, transposed: bool = False) -> list[str]:
    """The grid's lines: a row per name of `row_names`, a column per `column_names`; each cell
    `passed/judged` with the row as producer (as consumer when `transposed`), `–` for none."""
    texts: dict[str, list[str]] = {}
    for row in row_names:
        texts[row] = []
        for column in column_names:
            pair = (column, row) if transposed else (row, column)
            found = counts.loc[pair] if pair in counts.index else None
            texts[row].append(f"{int(found['passed'])}/{int(found['judged'])}"
                              if found is not None and found["judged"] else "–")
    # Wide enough for the widest name and the widest count ("1036/1048"), so columns never touch.
    width = max(len(text) for text in
                [*column_names, *(t for cells in texts.values() for t in cells)]) + 2
    first = max(width, len(corner) + 2, *(len(name) + 2 for name in row_names))
    lines = [corner.ljust(first) + "".join(name.rjust(width) for name in column_names)]
    lines += [row.ljust(first) + "".join(text.rjust(width) for text in texts[row])
              for row in row_names]
    return lines


def peer_lines(rows: pd.DataFrame, names: list[str], peers: list[str]) -> list[str]:
    """The peers against the Python libraries, both ways: a peer's tokens read by each Python
    library, and each Python library's tokens read by the peer."""
    in_process = [name for name in names if name not in peers]
    out_of_process = [name for name in names if name in peers]
    if not in_process or not out_of_process:
        return []
    # Only the cells between a peer and a Python library: without any, there is no grid to show.
    crossing = (rows["producer"].isin(in_process) & rows["consumer"].isin(out_of_process)) | (
        rows["producer"].isin(out_of_process) & rows["consumer"].isin(in_process))
    counts = judged_counts(rows[crossing])
    if counts.empty:
        return []
    return ["Peers × Python libraries, library-made tokens (passed/judged):",
            "  the peer produces, the Python library consumes:",
            *(f"    {line}" for line in grid_lines(counts, out_of_process, in_process)),
            "  the Python library produces, the peer consumes:",
            *(f"    {line}" for line in grid_lines(counts, out_of_process, in_process,
                                                   "consumer \\ producer", transposed=True))]
