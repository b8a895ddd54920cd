"""The harness's schedule: every cell of one library measured in turn inside one Locust run.

`harness loadtest` starts one Locust run per library and hands it the schedule in
`HARNESS_SCHEDULE`. Every process that runs users (a lone local process, or each worker of a
master) prepares all the cells, reports ready, and gets one start time `t0` from the master;
then all processes run the same cell in the same time slot, so N processes load one cell
together and two cells never share the CPU. One slot is `rounds` interleaved rounds and a gap:

    | I L F | F L I | I L F | ... | gap

(L: Locust batches, I: the plain in-process loop, F: the `cryptography` floor; see
`rounds.py`), all in the very process Locust measured (the same interpreter, heap and CPU), on
the same key and token. The gap absorbs an operation that ends late. When every process has
run its last slot, the run quits itself instead of waiting for Locust's `-t`, which is only a
safety net.

The handshake lives in `coordinator.py`: it imports Locust, and with it gevent's
monkey-patching, which only Locust's own processes may load. Without `HARNESS_SCHEDULE` the
locustfile is plain Locust: tasks picked at random among the selected tags, for as long as
`-t` says.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

# Where a Locust run of the harness leaves its summary, and its users their progress (how many
# cells are done, rewritten after each slot).
HISTOGRAMS_FILE = "histograms.json"
PROGRESS_FILE = "progress"
# How long the users of a scheduled run may take to start and prepare every cell before the
# run is given up; Locust's `-t` safety net lies beyond it, so the reason gets logged.
READY_WITHIN_S, READY_PER_CELL_S = 60.0, 1.0
# Rounds per cell: with the default 1.85 s of parts, rounds of ~46 ms (in-process 15 ms, Locust
# 25 ms, floor 6 ms). Measured on this 2-core VM: the ratio of two adjacent parts repeats far
# better in parts of 5-25 ms than of 50 ms and more, because the host's speed wanders on a
# scale of tens of milliseconds.
DEFAULT_ROUNDS = 40


@dataclass(frozen=True)
class Schedule:
    cells: tuple[str, ...]
    locust_s: float
    inprocess_s: float
    floor_s: float
    gap_s: float = 0.05
    rounds: int = DEFAULT_ROUNDS

    @property
    def round_s(self) -> float:
        return (self.inprocess_s + self.locust_s + self.floor_s) / self.rounds

    def part_seconds(self) -> dict[str, float]:
        """Each part's length in one round."""
        return {"locust": self.locust_s / self.rounds, "inprocess": self.inprocess_s / self.rounds,
                "floor": self.floor_s / self.rounds}

    @property
    def slot_s(self) -> float:
        return self.rounds * self.round_s + self.gap_s

    def slot_start(self, t0: float, index: int) -> float:
        return t0 + index * self.slot_s

    def ready_within_s(self) -> float:
        return READY_WITHIN_S + READY_PER_CELL_S * len(self.cells)

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls, text: str | None) -> Schedule | None:
        if not text:
            return None
        data = json.loads(text)
        return cls(cells=tuple(data["cells"]), locust_s=float(data["locust_s"]),
                   inprocess_s=float(data["inprocess_s"]), floor_s=float(data["floor_s"]),
                   gap_s=float(data.get("gap_s", 0.05)),
                   rounds=int(data.get("rounds", DEFAULT_ROUNDS)))
