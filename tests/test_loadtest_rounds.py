"""The interleaved rounds on a virtual clock: a fake operation whose speed changes inside a
cell, run by the very `run_rounds` the locustfile uses. No real timing is involved: the clock
advances by the fake's cost per operation."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from harness.loadtest.rounds import (
    Measure,
    Part,
    Spread,
    figures,
    part_totals,
    round_order,
    run_rounds,
)
from harness.loadtest.schedule import Schedule

# The old layout and the new one, with the same 2 s of work per cell.
BRACKETED = {"inprocess": 0.5, "locust": 1.5, "floor": 0.15}
INTERLEAVED = Schedule(cells=("HS256:sign",), locust_s=1.0, inprocess_s=0.6, floor_s=0.25,
                       rounds=12)


class VirtualHost:
    """A machine whose clock moves only as operations run; `cost(t)` is how long one
    operation takes when started at time `t` (the host's speed)."""

    def __init__(self, cost: Callable[[float], float],
                 stolen: Callable[[], float] = lambda: 0.0) -> None:
        self.now = 0.0
        self.cost = cost
        # Wall seconds another process (or the hypervisor) holds the core after an operation:
        # the wall clock runs on, this process's CPU clock does not.
        self.stolen = stolen

    def clock(self) -> float:
        return self.now

    def sleep_until(self, moment: float) -> None:
        self.now = max(self.now, moment)

    def loop(self, work: float = 1.0) -> Part:
        """A part running the operation (`work` × the host's cost) until the deadline, at least
        once. Locust's and the in-process loop's are the same: efficiency is truly 1."""
        def run(deadline: float) -> Measure:
            start, ops, cpu = self.now, 0, 0.0
            while True:
                spent = self.cost(self.now) * work
                cpu += spent
                self.now += spent + self.stolen()
                ops += 1
                if self.now >= deadline:
                    return [ops, self.now - start, cpu]
        return run

    def parts(self) -> dict[str, Part]:
        # The floor does a fifth of the library's work: a true overhead of 5.
        return {"locust": self.loop(), "inprocess": self.loop(), "floor": self.loop(0.2)}


def interleaved(host: VirtualHost, processes: int = 1) -> dict:
    rounds = [run_rounds(INTERLEAVED.rounds, INTERLEAVED.part_seconds(), 0.0, host.parts(),
                         host.clock, host.sleep_until, lambda: None)]
    return figures(rounds * processes)


def bracketed(host: VirtualHost) -> tuple[float, float]:
    """(efficiency, overhead) as the harness measured before rounds: in-process half |
    Locust | in-process half | floor, rates pooled over each part."""
    parts = host.parts()
    half = BRACKETED["inprocess"] / 2
    before = parts["inprocess"](host.now + half)
    locust = parts["locust"](host.now + BRACKETED["locust"])
    after = parts["inprocess"](host.now + half)
    floor = parts["floor"](host.now + BRACKETED["floor"])
    inprocess_rate = (before[0] + after[0]) / (before[1] + after[1])
    locust_rate = locust[0] / locust[1]
    return locust_rate / inprocess_rate, floor[0] / floor[1] / locust_rate


def cell_length(layout: dict[str, float]) -> float:
    return sum(layout.values())


def test_a_speed_change_halfway_through_the_cell_leaves_the_interleaved_efficiency_at_one() -> None:
    # The host halves its speed halfway through the cell.
    def step(length: float) -> Callable[[float], float]:
        return lambda t: 10e-6 if t < length / 2 else 20e-6
    found = interleaved(VirtualHost(step(INTERLEAVED.rounds * INTERLEAVED.round_s)))
    assert found["rounds"] == 12
    assert found["efficiency"].median == pytest.approx(1.0, abs=0.02)
    assert found["overhead_x"].median == pytest.approx(5.0, rel=0.02)
    # The rates themselves moved, and their spread says so.
    assert found["ops_per_s"].q1 < 60_000 < 90_000 < found["ops_per_s"].q3
    efficiency, overhead = bracketed(VirtualHost(step(cell_length(BRACKETED))))
    # Bracketing cancels a step only where it falls in the middle of Locust's window; the
    # floor, run after it on the slower host, is a third off.
    assert abs(efficiency - 1) > 0.02 and \
        abs(efficiency - 1) > 3 * abs(found["efficiency"].median - 1)
    assert not 4.0 <= overhead <= 6.0


def test_a_slow_stretch_inside_the_cell_moves_the_bracketed_efficiency_not_the_median() -> None:
    # 0.4 s at a third of the speed, inside the old layout's Locust window and across a few
    # of the new layout's rounds.
    def stretch(t: float) -> float:
        return 30e-6 if 0.6 <= t < 1.0 else 10e-6
    efficiency, _ = bracketed(VirtualHost(stretch))
    assert efficiency < 0.90
    found = interleaved(VirtualHost(stretch))
    assert found["efficiency"].median == pytest.approx(1.0, abs=0.03)
    assert found["overhead_x"].median == pytest.approx(5.0, rel=0.03)


def test_another_process_taking_the_core_moves_the_wall_clock_not_the_cpu_ratios() -> None:
    # One operation in fifty is followed by 4 ms of another process on the core: each round's
    # parts lose different shares of their wall time.
    chance = random.Random(7)
    host = VirtualHost(lambda t: 10e-6, stolen=lambda: 0.004 if chance.random() < 0.02 else 0.0)
    found = interleaved(host)
    assert found["efficiency"].median == pytest.approx(1.0, abs=0.01)
    assert found["overhead_x"].median == pytest.approx(5.0, rel=0.01)
    assert found["efficiency"].relative_width() < 0.01
    # The wall-clock figures paid for it: the rate fell and the wall efficiency scattered.
    assert found["ops_per_s"].median < 0.8 * 100_000
    assert found["efficiency_wall"].relative_width() > 0.05


def test_rounds_alternate_their_order_and_keep_to_the_slot() -> None:
    assert round_order(0) == ("inprocess", "locust", "floor")
    assert round_order(1) == ("floor", "locust", "inprocess")
    host = VirtualHost(lambda t: 10e-6)
    seen: list[str] = []

    def named(name: str, part: Part) -> Part:
        def run(deadline: float) -> Measure:
            seen.append(name)
            return part(deadline)
        return run
    parts = {name: named(name, part) for name, part in host.parts().items()}
    rounds = run_rounds(4, {"locust": 0.1, "inprocess": 0.05, "floor": 0.0}, 10.0, parts,
                        host.clock, host.sleep_until, lambda: None)
    # A part with no time is left out; round i starts at its own moment.
    assert seen == ["inprocess", "locust", "locust", "inprocess"] * 2
    assert [sorted(r) for r in rounds] == [["inprocess", "locust"]] * 4
    assert host.now == pytest.approx(10.6, abs=1e-4)
    # An operation slower than the whole slot: rounds that would start after it are dropped.
    slow = VirtualHost(lambda t: 0.5)
    assert len(run_rounds(4, {"locust": 0.1, "inprocess": 0.05}, 0.0, slow.parts(), slow.clock,
                          slow.sleep_until, lambda: None)) == 1


def test_processes_add_up_round_by_round() -> None:
    one = interleaved(VirtualHost(lambda t: 10e-6))
    two = interleaved(VirtualHost(lambda t: 10e-6), processes=2)
    assert two["ops_per_s"].median == pytest.approx(2 * one["ops_per_s"].median)
    assert two["efficiency"].median == pytest.approx(one["efficiency"].median)
    rounds = [[{"locust": [10, 0.1, 0.05]}, {"locust": [30, 0.1, 0.1]}]]
    assert part_totals(rounds, "locust") == pytest.approx([40, 0.2, 0.15])
    assert figures(rounds)["inprocess_ops_per_s"] is None


def test_spread_is_the_median_and_interquartile_range() -> None:
    spread = Spread.of([1.0, 2.0, 3.0, 4.0, 100.0])
    assert (spread.median, spread.q1, spread.q3) == (3.0, 2.0, 4.0)
    assert spread.relative_width() == pytest.approx(2 / 3)
    assert Spread.of([]) is None


def test_the_estimate_counts_the_start_of_each_further_process() -> None:
    """Two processes per cell cost each library's run one more worker's start (measured: the
    default profile took 250 s on one process, 267 s on two), not a longer schedule."""
    from harness.loadtest.command import WORKER_START_S, run_estimate_s
    from harness.loadtest.measure import Timing

    one = Timing(1.0, 0.4, 0.2, processes=1, batch_ms=5.0)
    two = Timing(1.0, 0.4, 0.2, processes=2, batch_ms=5.0)
    assert run_estimate_s([], two) - run_estimate_s([], one) == WORKER_START_S
