"""The in-process loop and the `cryptography` floor, run in N forked processes at once.

A pool of N processes lives for the whole load test. Each process prepares a cell the way the
locustfile's `on_start` does (the same adapter operation, key and token), so the in-process
rate is the same callable without Locust around it; the floor is timed in the same processes.
"""

from __future__ import annotations

import gc
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from harness.adapters.base import Adapter, Operation
from harness.keys import load_key_set
from harness.loadtest.cells import load_adapter_spec, prepare, timed_loop
from harness.loadtest.primitives import primitive
from harness.suites import SUITES_BY_NAME
from scenarios.payloads import PAYLOAD

# Per child process: adapters by spec and prepared cells, so a cell's loops before and after
# the Locust run time the same prepared callable.
_adapters: dict[str, Adapter] = {}
_prepared: dict[tuple[str, str, str], tuple[Any, Any]] = {}


@dataclass
class LoopResult:
    ops: int
    seconds: float
    cpu_seconds: float
    description: str = ""

    @property
    def rate(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0


def _prepare(spec: str, suite_name: str, operation: Operation) -> tuple[Any, Any]:
    slot = (spec, suite_name, operation)
    if slot not in _prepared:
        adapter = _adapters.setdefault(spec, load_adapter_spec(spec))
        suite = SUITES_BY_NAME[suite_name]
        keys = load_key_set()
        cell = prepare(adapter, suite, operation, keys)
        floor = primitive(suite, operation, keys.private(suite.key), cell.token, PAYLOAD)
        _prepared[slot] = (cell, floor)
        # As in the Locust process: what exists now is frozen out of the cyclic GC.
        gc.collect()
        gc.freeze()
    return _prepared[slot]


def _warm(spec: str, suite_name: str, operation: Operation) -> None:
    _prepare(spec, suite_name, operation)


def _run(spec: str, suite_name: str, operation: Operation, what: str, seconds: float,
         start_at: float) -> LoopResult:
    cell, floor = _prepare(spec, suite_name, operation)
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)
    if what == "primitive":
        return LoopResult(*timed_loop(lambda _arg: floor.run(), None, seconds),
                          floor.description)
    return LoopResult(*timed_loop(cell.call, cell.arg, seconds))


class Loops:
    """N processes that time a cell's callable, or its floor, side by side."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self.pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("fork"))

    def restart(self) -> None:
        """A fresh pool after a library killed one of its processes, for the next cells."""
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._new_pool()

    def run(self, spec: str, suite_name: str, operation: Operation, what: str,
            seconds: float) -> list[LoopResult]:
        # Prepare first everywhere, then start together, so preparation is never timed and
        # the N loops share one window.
        warm = [self.pool.submit(_warm, spec, suite_name, operation)
                for _ in range(self.processes)]
        for future in warm:
            future.result()
        start_at = time.time() + 0.05
        futures = [self.pool.submit(_run, spec, suite_name, operation, what, seconds, start_at)
                   for _ in range(self.processes)]
        return [future.result() for future in futures]

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


def cpu_rate(*runs: list[LoopResult]) -> tuple[float, float]:
    """(operations per CPU second, CPU seconds per wall second) over every process and run."""
    results = [r for run in runs for r in run]
    cpu = sum(r.cpu_seconds for r in results)
    wall = sum(r.seconds for r in results)
    return (sum(r.ops for r in results) / cpu if cpu else 0.0), (cpu / wall if wall else 0.0)


def combined_rate(*runs: list[LoopResult]) -> float:
    """Operations per second of N parallel loops: each process's rate over all its runs, summed."""
    per_process = zip(*runs, strict=True)
    return sum(sum(r.ops for r in results) / sum(r.seconds for r in results)
               for results in per_process)
