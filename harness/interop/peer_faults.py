"""The run's last word on peers whose process died or stopped answering: how many cells each
lost (one per fault: the child is started again for the next cell)."""

from __future__ import annotations

import pandas as pd

DIED = "the peer's process died"
HUNG = "(killed; restarted for the next cell)"


def peer_fault_lines(rows: pd.DataFrame, peers: list[str]) -> list[str]:
    lines = []
    # A lost cell is an error or a hang: the other rows' details are not searched.
    lost = rows[rows["actual"].isin(["error", "hang"])]
    detail = lost["detail"].fillna("").astype(str)
    for name in peers:
        mine = detail.str.startswith(f"{name}: ")
        died = int((mine & detail.str.contains(DIED, regex=False)).sum())
        hung = int((mine & detail.str.contains(HUNG, regex=False)).sum())
        if died or hung:
            lines.append(f"peer {name}: {died + hung} cell(s) lost to its process ({died} died, "
                         f"{hung} did not answer in time); it was started again for the next "
                         f"cell each time, every other cell ran")
    return lines
