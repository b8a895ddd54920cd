"""What refusing a token may cost: the budgets, the measurement, and the `dos` verdict.

A hostile token a library refuses is still a denial of service when refusing it costs far more
than accepting a normal token of the same suite: at any realistic request rate a server spends
its time inflating, deriving or parsing for the attacker. The hard limits of an isolated case
(a timeout, an address-space cap) only catch the worst; these budgets catch the rest. They are
the only place the numbers live; the report's legend names them.
"""

from __future__ import annotations

import contextlib
import resource
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

# Refusing may take this many times the median CPU time of a genuine token of the same suite
# through the same consumer configuration...
TIME_FACTOR = 100.0
# ...but never less than this much CPU time, so a fast suite (an HMAC check of ~20 µs) does not
# turn scheduler noise or a first-call import into a verdict.
TIME_FLOOR_MS = 10.0
# A token smaller than this may not make the consumer grow its memory by more than...
SMALL_TOKEN_BYTES = 256 * 1024
# ...this much (peak resident memory during the call, above what it was before).
MEMORY_GROWTH_BUDGET_KB = 64 * 1024
# Genuine tokens consumed to set the time baseline.
BASELINE_RUNS = 5


@dataclass(frozen=True)
class Measured:
    """One consuming call: the token's size, CPU and wall time, and peak memory growth (None
    when memory was not tracked)."""

    token_bytes: int
    cpu_ms: float
    wall_ms: float
    memory_growth_kb: int | None = None


@dataclass(frozen=True)
class CostVerdict:
    dos: bool
    why: str
    time_budget_ms: float


def _current_rss_kb() -> int | None:
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * resource.getpagesize() // 1024


def _reset_peak() -> bool:
    """Linux: writing 5 to clear_refs resets the peak RSS (VmHWM) to the current RSS."""
    with contextlib.suppress(OSError):
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
        return True
    return False


def _peak_rss_kb() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


class Meter:
    """Measures one call: `start()` before, `stop()` after (also when the call raised)."""

    def __init__(self, token_bytes: int, track_memory: bool = False) -> None:
        self.token_bytes, self.track_memory = token_bytes, track_memory
        self._rss_before: int | None = None

    def start(self) -> None:
        if self.track_memory:
            # Without a reset the peak is the process's old high-water mark, which may lie
            # above anything this call does; the growth is then read against that mark.
            self._rss_before = _current_rss_kb() if _reset_peak() else _peak_rss_kb()
        self._cpu, self._wall = time.process_time(), time.perf_counter()

    def stop(self) -> Measured:
        cpu_ms = (time.process_time() - self._cpu) * 1000
        wall_ms = (time.perf_counter() - self._wall) * 1000
        growth = None
        if self.track_memory and self._rss_before is not None:
            growth = max(0, _peak_rss_kb() - self._rss_before)
        return Measured(self.token_bytes, round(cpu_ms, 3), round(wall_ms, 3), growth)


def baseline_ms(cpu_times_ms: Sequence[float]) -> float | None:
    return statistics.median(cpu_times_ms) if cpu_times_ms else None


def time_budget_ms(baseline_cpu_ms: float | None) -> float:
    """CPU time refusing may take, given the median CPU time of a genuine token (None: no
    genuine token of the suite could be consumed, so only the floor applies)."""
    if baseline_cpu_ms is None:
        return TIME_FLOOR_MS
    return max(TIME_FACTOR * baseline_cpu_ms, TIME_FLOOR_MS)


def judge_refusal(measured: Measured, baseline_cpu_ms: float | None) -> CostVerdict:
    """Whether refusing this token cost more than its budget: `dos` when its CPU time exceeds
    the time budget, or when a token under SMALL_TOKEN_BYTES grew memory by more than
    MEMORY_GROWTH_BUDGET_KB."""
    budget = time_budget_ms(baseline_cpu_ms)
    reasons = []
    if measured.cpu_ms > budget:
        relative = (f", {measured.cpu_ms / baseline_cpu_ms:.0f} times a genuine token"
                    if baseline_cpu_ms else "")
        reasons.append(f"{measured.cpu_ms:.1f} ms CPU to refuse (budget {budget:.1f} ms"
                       f"{relative})")
    growth = measured.memory_growth_kb
    if (growth is not None and measured.token_bytes < SMALL_TOKEN_BYTES
            and growth > MEMORY_GROWTH_BUDGET_KB):
        reasons.append(f"{growth / 1024:.0f} MiB of memory for a "
                       f"{measured.token_bytes / 1024:.0f} KiB token (budget "
                       f"{MEMORY_GROWTH_BUDGET_KB // 1024} MiB under "
                       f"{SMALL_TOKEN_BYTES // 1024} KiB)")
    return CostVerdict(bool(reasons), "; ".join(reasons), round(budget, 3))


def legend() -> str:
    """The budgets in words, for the report."""
    return (f"`dos`: a refused token whose refusal cost more than {TIME_FACTOR:g}x the median "
            f"CPU time of a genuine token of the same suite (at least {TIME_FLOOR_MS:g} ms), "
            f"or, for a token under {SMALL_TOKEN_BYTES // 1024} KiB, more than "
            f"{MEMORY_GROWTH_BUDGET_KB // 1024} MiB of memory growth; judged in isolated cases, "
            f"whether or not the hard time or memory limit was reached.")
