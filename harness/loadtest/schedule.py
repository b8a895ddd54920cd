"""The harness's schedule: every cell of one library measured in turn inside one Locust run.

`harness loadtest` starts one Locust run per library and hands it the schedule in
`HARNESS_SCHEDULE`. Every process that runs users (a lone local process, or each worker of a
master) prepares all the cells, reports ready, and gets one start time `t0` from the master;
then all processes run the same cell in the same time slot, so N processes load one cell
together and two cells never share the CPU. One slot is `rounds` interleaved rounds and a gap:

    | I L F | F L I | I L F | ... | gap

A cell's rounds are spread over several passes through the library's cells (`passes`), so its
slots are far apart in time and its median samples the whole run.

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
import math
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
# A cell's rounds are split over this many passes through the library's cells (pass-major:
# every cell once, then every cell again): a cell's median then samples the host across the
# whole Locust run, not one 2-second stretch of it. Measured here: two back-to-back runs with
# one pass gave overhead within ±5 % in 88 of 116 cells, the per-round spread alone predicting
# far more; the rest was the host's speed for interpreted code against C drifting over seconds.
DEFAULT_PASSES = 4


@dataclass(frozen=True)
class Schedule:
    cells: tuple[str, ...]
    locust_s: float
    inprocess_s: float
    floor_s: float
    gap_s: float = 0.02
    rounds: int = DEFAULT_ROUNDS
    passes: int = DEFAULT_PASSES

    @property
    def round_s(self) -> float:
        return (self.inprocess_s + self.locust_s + self.floor_s) / self.rounds

    def part_seconds(self) -> dict[str, float]:
        """Each part's length in one round."""
        return {"locust": self.locust_s / self.rounds, "inprocess": self.inprocess_s / self.rounds,
                "floor": self.floor_s / self.rounds}

    @property
    def slots(self) -> tuple[str, ...]:
        """The cell of each slot in turn: every cell once per pass."""
        return self.cells * self.passes

    @property
    def rounds_per_slot(self) -> int:
        return max(1, math.ceil(self.rounds / self.passes))

    @property
    def slot_s(self) -> float:
        return self.rounds_per_slot * self.round_s + self.gap_s

    @property
    def total_s(self) -> float:
        return len(self.slots) * self.slot_s

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
                   gap_s=float(data.get("gap_s", 0.02)),
                   rounds=int(data.get("rounds", DEFAULT_ROUNDS)),
                   passes=int(data.get("passes", DEFAULT_PASSES)))
