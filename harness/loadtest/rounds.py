"""Interleaved rounds: a cell's slot split into short rounds, and its figures from their medians.

A cell's slot is `rounds` short rounds (about 45 ms by default). Each round runs the plain
in-process loop, Locust's batches and the `cryptography` floor one after the other, in
alternating order (`inprocess, locust, floor` then `floor, locust, inprocess`): the Locust part
sits next to both parts it is compared with, and a drift inside a round favours neither side.
Each part reports `[operations, wall seconds, CPU seconds]`; a round's
rate is operations ÷ wall seconds of its part, summed over the processes loading the cell.

Every figure is the median over the rounds, with its interquartile range beside it. Efficiency
(Locust ÷ in-process) and overhead (library ÷ floor) are ratios of CPU seconds per operation,
taken round by round from parts that ran within a few tens of milliseconds of each other, then
their median. CPU seconds, because the wall clock also counts the moments another process held
the core or the hypervisor held the vCPU, which fall on one part of a round and not the other;
adjacent parts, because a stretch in which the host ran slower slows both sides of the ratio;
the median, because a few disturbed rounds move it little. The wall-clock efficiency is kept
beside it (`efficiency_wall`): where it falls far below the CPU one, other work shared the core.

No Locust or gevent here: the locustfile passes its real parts, clock and sleep, and the tests
pass a virtual clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# [operations, wall seconds, CPU seconds] of one part of one round.
Measure = list[float]
# Runs its loop until the deadline (a `clock()` value), at least one operation; its measure.
Part = Callable[[float], Measure]
PARTS = ("inprocess", "locust", "floor")
# Fewer rounds than this leave no median worth the name: the cell is rejected.
MIN_ROUNDS = 3


def round_order(index: int) -> tuple[str, ...]:
    return PARTS if index % 2 == 0 else PARTS[::-1]


def run_rounds(rounds: int, seconds: dict[str, float], slot: float, parts: dict[str, Part],
               clock: Callable[[], float], sleep_until: Callable[[float], None],
               between: Callable[[], None]) -> list[dict[str, Measure]]:
    """The rounds of one cell in one process, starting at `slot`.

    `seconds` gives each part's length per round; a part with no length or no callable is left
    out. Round `i` starts at `slot + i × round length`, the same moment in every process, so N
    processes load the same part together. Each part ends at a fixed moment of its round, so
    the few milliseconds a part runs past its deadline (its last batch) do not add up over the
    rounds; a round that starts late (a slow operation overran the last one) has shorter
    parts, and rounds that would start after the slot's end are dropped rather than pushing
    the next cell later.
    """
    active = {name: seconds[name] for name in PARTS if name in parts and seconds.get(name, 0) > 0}
    round_s = sum(active.values())
    end = slot + rounds * round_s
    measured: list[dict[str, Measure]] = []
    for index in range(rounds):
        start = slot + index * round_s
        if clock() >= end:
            break
        sleep_until(start)
        deadline = start
        this: dict[str, Measure] = {}
        for name in round_order(index):
            if name not in active:
                continue
            deadline += active[name]
            this[name] = list(parts[name](deadline))
            between()
        measured.append(this)
    return measured


def round_rates(processes: Sequence[Sequence[dict[str, Measure]]], part: str) -> list[float]:
    """Per round, the sum over processes of the part's rate; only rounds every process ran."""
    count = min((len(rounds) for rounds in processes), default=0)
    rates = []
    for index in range(count):
        total = 0.0
        for rounds in processes:
            measure = rounds[index].get(part)
            if not measure or measure[1] <= 0:
                return []
            total += measure[0] / measure[1]
        rates.append(total)
    return rates


@dataclass(frozen=True)
class Spread:
    """The median of a figure over the rounds and its interquartile range."""

    median: float
    q1: float
    q3: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread | None:
        if not values:
            return None
        q1, median, q3 = np.percentile(np.asarray(values, dtype=float), [25, 50, 75])
        return cls(float(median), float(q1), float(q3))

    def relative_width(self) -> float:
        return (self.q3 - self.q1) / self.median if self.median else math.nan


def round_costs(processes: Sequence[Sequence[dict[str, Measure]]], part: str
                ) -> list[float | None]:
    """Per round, the part's CPU seconds per operation over every process (None where a
    process did not run it or the CPU clock did not move); only rounds every process ran."""
    count = min((len(rounds) for rounds in processes), default=0)
    costs: list[float | None] = []
    for index in range(count):
        measures = [rounds[index].get(part) for rounds in processes]
        if not all(measures):
            costs.append(None)
            continue
        operations = sum(m[0] for m in measures if m)
        cpu = sum(m[2] for m in measures if m)
        costs.append(cpu / operations if operations > 0 and cpu > 0 else None)
    return costs


def cost_ratios(numerator: list[float | None], denominator: list[float | None]) -> list[float]:
    return [n / d for n, d in zip(numerator, denominator, strict=False) if n and d]


def figures(processes: Sequence[Sequence[dict[str, Measure]]]) -> dict[str, Any]:
    """The cell's figures from its rounds: rates, efficiency and overhead, each a `Spread`.

    Rates are operations per wall second (what a user of the library gets); efficiency and
    overhead are ratios of CPU seconds per operation within each round."""
    locust = round_rates(processes, "locust")
    inprocess = round_rates(processes, "inprocess")
    floor = round_rates(processes, "floor")
    locust_cost = round_costs(processes, "locust")
    efficiency = cost_ratios(round_costs(processes, "inprocess"), locust_cost)
    overhead = cost_ratios(locust_cost, round_costs(processes, "floor"))
    efficiency_wall = [lo / inp for lo, inp in zip(locust, inprocess, strict=False) if inp > 0]
    return {"rounds": len(locust), "ops_per_s": Spread.of(locust),
            "inprocess_ops_per_s": Spread.of(inprocess),
            "primitive_ops_per_s": Spread.of(floor), "efficiency": Spread.of(efficiency),
            "efficiency_wall": Spread.of(efficiency_wall), "overhead_x": Spread.of(overhead)}


def part_totals(processes: Sequence[Sequence[dict[str, Measure]]], part: str) -> Measure:
    """A part's operations, wall and CPU seconds over every round of every process."""
    total = [0.0, 0.0, 0.0]
    for rounds in processes:
        for measured in rounds:
            for i, value in enumerate(measured.get(part) or [0.0, 0.0, 0.0]):
                total[i] += value
    return total
