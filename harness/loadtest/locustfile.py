"""The Locust suite: one User class per library, one task per (suite, operation).

Used through Locust's own command line, for example

    locust -f harness/loadtest/locustfile.py --headless -u 2 -r 2 -t 20s --processes 2 \\
        JoserfcUser --tags "RSA-OAEP-256+A256GCM:decrypt"

Each task is tagged with its cell (`HS256:sign`), its suite tag (`HS256`), its operation
(`sign`) and its family (`JWS`). Keys are imported and tokens made in `on_start`, outside the
timed region. A task runs a batch of about `HARNESS_BATCH_MS` (default 5) milliseconds of
operations and fires one Locust request per batch: `response_time` is the batch's duration and
`response_length` the number of operations in it, so Locust's per-event cost does not distort
fast operations and Locust's own totals count operations. Each operation is also timed in
nanoseconds into the harness's histogram; workers send theirs to the master with every stats
report, and the master (or a single local process) writes the merged histograms on `quit`,
after the last worker report, to `$HARNESS_LOADTEST_OUT/histograms.json`.

Environment: `HARNESS_LOADTEST_ADAPTERS` (comma-separated registry names or `module:Class`;
default every installed library), `HARNESS_BATCH_MS`, `HARNESS_LOADTEST_OUT`, `HARNESS_KEYS`.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from itertools import repeat
from pathlib import Path
from typing import Any

import gevent
from locust import User, constant, events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from harness.adapters import adapter_names, installed_adapters
from harness.adapters.base import Adapter, Operation, error_text
from harness.core.keys import load_key_set
from harness.core.shutdown import die_with_parent
from harness.core.suites import ALL_SUITES, Suite
from harness.loadtest.cells import (
    FAMILY_OPERATIONS,
    load_adapter_spec,
    prepare,
    seconds_per_call,
    task_tag,
    timed_loop,
    user_class_name,
)
from harness.loadtest.coordinator import Coordinator, attach_reports, sleep_until
from harness.loadtest.histogram import Histogram
from harness.loadtest.primitives import Primitive, primitive
from harness.loadtest.rounds import run_rounds
from harness.loadtest.schedule import HISTOGRAMS_FILE, PROGRESS_FILE, Schedule
from harness.loadtest.validate import CellCounts, problems, reporting_processes
from scenarios.payloads import PAYLOAD

BATCH_MS = float(os.environ.get("HARNESS_BATCH_MS", "5"))
SCHEDULE = Schedule.from_env(os.environ.get("HARNESS_SCHEDULE"))
if SCHEDULE:
    # Locust imports this file before `--processes` forks its workers: a worker forked under
    # the harness dies with this master, which dies with the harness, so a harness killed
    # outright leaves no Locust process behind (the hook runs at once in the new child).
    os.register_at_fork(after_in_child=partial(die_with_parent, os.getpid()))
# Raw timings are bucketed in bulk once this many wait, keeping numpy out of the timed loop.
FLUSH_AT = 50_000
REPORT_KEY = "harness_histograms"
# A raw Locust run whose numbers fail the checks exits with this instead of 0.
EXIT_REJECTED = 3

logger = logging.getLogger("harness.loadtest")
KEYS = load_key_set()


@dataclass
class CellRecord:
    """One cell in this process: the Locust batches' timings, and the rounds they ran in.

    `raw` holds nanosecond timings not yet bucketed and `unreported` the histogram not yet sent
    to the master; batches never yield, so both always agree with the Locust events fired.
    `rounds` holds, per interleaved round, each part's [operations, wall s, CPU s]: the
    Locust batches' own count per round, the plain in-process loop's and the floor's.
    """

    info: dict[str, Any]
    raw: list[int] = field(default_factory=list)
    unreported: Histogram = field(default_factory=Histogram)
    rounds: list[dict[str, list[float]]] = field(default_factory=list)
    error: str | None = None
    operations: int = 0
    # A batch failed: the cell is rejected, and its later passes are not run.
    failed: bool = False

    def flush(self) -> None:
        if self.raw:
            self.unreported.record_ns(self.raw)
            self.raw.clear()

    def take_report(self) -> dict[str, Any]:
        self.flush()
        histogram, self.unreported = self.unreported, Histogram()
        self.operations += histogram.count
        return {**self.info, "histogram": histogram.to_json(),
                "process": {"operations": self.operations, "rounds": self.rounds,
                            "error": self.error}}


_records: dict[str, CellRecord] = {}
_coordinator = Coordinator()


def _take_report() -> dict[str, dict[str, Any]]:
    return {key: record.take_report() for key, record in _records.items()}


@dataclass
class PreparedCell:
    call: Callable[[Any], Any]
    arg: Any
    batch: int
    per_call: float
    record: CellRecord
    floor: Primitive | None = None
    floor_per_call: float = 0.0


def _prepare_cell(adapter: Adapter, suite: Suite, operation: Operation,
                  record: CellRecord) -> PreparedCell:
    prepared = prepare(adapter, suite, operation, KEYS)
    per_call = seconds_per_call(prepared.call, prepared.arg)
    batch = max(1, round(BATCH_MS / 1000.0 / max(per_call, 1e-9)))
    record.info.update(mode=prepared.mode, batch=batch)
    cell = PreparedCell(prepared.call, prepared.arg, batch, per_call, record)
    if SCHEDULE and SCHEDULE.floor_s > 0:
        cell.floor = primitive(suite, operation, KEYS.private(suite.key), prepared.token, PAYLOAD)
        cell.floor_per_call = seconds_per_call(lambda _arg: cell.floor.run(), None)  # type: ignore[union-attr]
        record.info["primitive"] = cell.floor.description
    return cell


class JoseUser(User):
    """One library's operations; subclasses are made per adapter below."""

    abstract = True
    wait_time = constant(0)
    adapter: Adapter

    def on_start(self) -> None:
        self.cells: dict[str, PreparedCell] = {}
        for task in self.tasks:
            suite, operation = task.harness_cell  # type: ignore[attr-defined]
            tag = task_tag(suite, operation)
            if SCHEDULE and tag not in SCHEDULE.cells:
                continue
            record = _records.setdefault(f"{self.adapter.name}|{tag}", CellRecord(
                {"library": self.adapter.name, "suite": suite.name, "operation": operation}))
            try:
                self.cells[tag] = _prepare_cell(self.adapter, suite, operation, record)
            except Exception as error:
                if not SCHEDULE:
                    raise
                # The other cells are still measured; the harness rejects this one with why.
                record.error = f"preparing the cell failed: {error_text(error)}"
            # A worker that never runs its timers misses its heartbeats and the master drops it.
            run_timers()
        if SCHEDULE:
            self.tasks = [JoseUser.run_schedule]

    def run_batch(self, tag: str, size: int | None = None) -> bool:
        """One batch (of `size` operations, the cell's batch by default) and one Locust event;
        False when an operation failed."""
        cell = self.cells[tag]
        record = cell.record
        raw, size = record.raw, cell.batch if size is None else size
        call, arg = cell.call, cell.arg
        fire = self.environment.events.request.fire
        clock = time.perf_counter_ns
        append = raw.append
        before = len(raw)
        first = start = clock()
        try:
            for _ in repeat(None, size):
                call(arg)
                end = clock()
                append(end - start)
                start = end
        except Exception as error:
            # The operations before the failure are in the histogram, so they are counted too.
            fire(request_type=self.adapter.name, name=tag, response_time=(clock() - first) / 1e6,
                 response_length=len(raw) - before, exception=error, context={})
            return False
        fire(request_type=self.adapter.name, name=tag, response_time=(start - first) / 1e6,
             response_length=size, exception=None, context={})
        if len(raw) >= FLUSH_AT:
            record.flush()
        return True

    def run_schedule(self) -> None:
        """Every scheduled cell in its slot, then idle until the run quits."""
        assert SCHEDULE is not None
        t0 = _coordinator.ready()
        for index, tag in enumerate(SCHEDULE.slots):
            slot = SCHEDULE.slot_start(t0, index)
            sleep_until(slot)
            if tag in self.cells and not (self.cells[tag].record.failed
                                          or self.cells[tag].record.error):
                self.measure_slot(tag, slot)
            _write_progress(index + 1)
        _coordinator.done()
        while True:
            gevent.sleep(60)

    def measure_slot(self, tag: str, slot: float) -> None:
        """The cell's interleaved rounds (`rounds.py`): Locust batches, the in-process loop
        and the floor, each a short part, alternating until the slot ends."""
        assert SCHEDULE is not None
        cell = self.cells[tag]
        running = ["locust"]

        def part(name: str, loop: Callable[[float], list[float]]) -> Callable[[float], list[float]]:
            def run(deadline: float) -> list[float]:
                running[0] = name
                return loop(deadline)
            return run

        parts = {"locust": part("locust", lambda deadline: self.locust_part(tag, deadline)),
                 "inprocess": part("inprocess", lambda deadline: yielding_loop(
                     cell.call, cell.arg, deadline, cell.per_call))}
        if cell.floor is not None:
            run = cell.floor.run
            parts["floor"] = part("floor", lambda deadline: yielding_loop(
                lambda _arg: run(), None, deadline, cell.floor_per_call))
        try:
            cell.record.rounds += run_rounds(SCHEDULE.rounds_per_slot, SCHEDULE.part_seconds(),
                                             slot, parts, time.time, sleep_until, run_timers)
        except BatchFailed:
            cell.record.failed = True
        except Exception as error:
            cell.record.error = f"{PART_NAMES[running[0]]} failed: {error_text(error)}"
        finally:
            # Bucketing the slot's timings here, in the gap, keeps it out of the Locust parts:
            # at 50,000 timings (a second of 20 µs operations) it cost one part 3-5 ms, or a
            # stats report that ran in a part's yield did.
            cell.record.flush()

    def locust_part(self, tag: str, deadline: float) -> list[float]:
        """Locust batches until the deadline, at least one: [operations, wall s, CPU s]. The
        wall time includes what Locust costs between batches (its event, its greenlets)."""
        cell = self.cells[tag]
        # Batches of slow operations: 50 of them (after which gevent runs its timers)
        # could outlast a heartbeat, so their timers run at least once a second.
        slow = cell.per_call * cell.batch >= SLOW_BATCH_S
        operations = 0
        cpu, start = time.process_time(), time.perf_counter()
        ticked = yielded = time.time()
        while True:
            # The last batch is cut to what fits before the deadline, so the part ends on time
            # and leaves the next part its window; the first runs whatever the time left.
            fits = int((deadline - time.time()) / max(cell.per_call, 1e-9))
            size = min(cell.batch, fits) if operations else max(1, min(cell.batch, fits))
            if size < 1:
                return [operations, time.perf_counter() - start, time.process_time() - cpu]
            if not self.run_batch(tag, size):
                raise BatchFailed
            operations += size
            now = time.time()
            # Locust's own greenlets (stats, heartbeats) run here, as between tasks, but not
            # after every batch: one pass of gevent's hub cost 100-230 µs in a quarter of the
            # batches here (2.5 % of a 5 ms batch), where the event itself costs ~8 µs; the
            # parts are short, and their timers run between parts anyway.
            if now - yielded >= YIELD_EVERY_S:
                gevent.sleep(0)
                yielded = now
            if now >= deadline:
                return [operations, time.perf_counter() - start, time.process_time() - cpu]
            if slow and now - ticked > 1.0:
                run_timers()
                ticked = now


class BatchFailed(Exception):
    """An operation failed in a Locust batch: the cell stops, and is rejected for it."""


PART_NAMES = {"locust": "a Locust batch", "inprocess": "the in-process loop",
              "floor": "the floor"}


# Longest stretch of a plain loop without yielding to Locust's heartbeat and stats greenlets.
LOOP_PIECE_S = 0.5
SLOW_BATCH_S = 0.02
# How often a Locust part lets gevent's hub run between its batches.
YIELD_EVERY_S = 0.02


def run_timers() -> None:
    """Lets gevent's loop run its timers (heartbeats, stats reports). `sleep(0)` does not: it
    only runs callbacks, and gevent checks timers once per 50 of them."""
    gevent.sleep(0.0005)


def yielding_loop(call: Callable[[Any], Any], arg: Any, deadline: float, per_call: float
                  ) -> list[float]:
    """`timed_loop` until the deadline (a `time.time()`; at least one chunk), in pieces of at
    most LOOP_PIECE_S, yielding in between (untimed): [operations, wall seconds, CPU seconds]."""
    total = [0.0, 0.0, 0.0]
    while True:
        piece = min(max(deadline - time.time(), 0.0), LOOP_PIECE_S)
        ops, wall, cpu = timed_loop(call, arg, piece, per_call)
        total = [total[0] + ops, total[1] + wall, total[2] + cpu]
        if time.time() >= deadline:
            return total
        run_timers()


def _write_progress(done: int) -> None:
    out = os.environ.get("HARNESS_LOADTEST_OUT")
    if not out:
        return
    target = Path(out) / PROGRESS_FILE
    try:
        target.with_suffix(f".{os.getpid()}").write_text(f"{done}\n", encoding="utf-8")
        os.replace(target.with_suffix(f".{os.getpid()}"), target)
    except OSError as error:
        # Progress is a courtesy; failing here would restart the schedule as a new task.
        logger.warning("harness: cannot write progress: %s", error)


def _task(suite: Suite, operation: Operation) -> Callable[[JoseUser], None]:
    tag = task_tag(suite, operation)

    def task(user: JoseUser) -> None:
        user.run_batch(tag)

    task.__name__ = tag
    task.locust_tag_set = {tag, suite.tag, operation, suite.family}  # type: ignore[attr-defined]
    task.harness_cell = (suite, operation)  # type: ignore[attr-defined]
    return task


def _adapters() -> list[Adapter]:
    specs = [s for s in os.environ.get("HARNESS_LOADTEST_ADAPTERS", "").split(",") if s.strip()]
    if specs:
        return [load_adapter_spec(spec.strip()) for spec in specs]
    adapters, missing = installed_adapters(adapter_names())
    for name, why in missing.items():
        logger.warning("no User class for %s: %s", name, why)
    return adapters


def _user_class(adapter: Adapter) -> type[JoseUser]:
    tasks = [_task(suite, operation) for suite in ALL_SUITES
             if adapter.supports(suite) and adapter.produces.get(suite.family)
             for operation in FAMILY_OPERATIONS[suite.family]]
    return type(user_class_name(adapter.name), (JoseUser,),
                {"adapter": adapter, "tasks": tasks, "__module__": __name__,
                 "__doc__": f"{adapter.name}: one task per supported suite and operation"})


for _adapter in _adapters():
    globals()[user_class_name(_adapter.name)] = _user_class(_adapter)


# -- collecting the histograms ------------------------------------------------------------------

class Collector:
    """On the master (or a lone local process): the merged histograms, each process's loops
    beside them, and who sent them."""

    def __init__(self) -> None:
        self.cells: dict[str, dict[str, Any]] = {}
        self.histograms: dict[str, Histogram] = {}
        self.processes: dict[str, dict[str, dict[str, Any]]] = {}
        self.workers: dict[str, int] = {}

    def add(self, source: str, report: dict[str, Any]) -> None:
        self.workers.setdefault(source, 0)
        for key, entry in report.items():
            histogram = Histogram.from_json(entry["histogram"])
            self.histograms.setdefault(key, Histogram()).merge(histogram)
            self.cells[key] = {k: v for k, v in entry.items() if k not in ("histogram", "process")}
            # A process reports its loops whole every time: the newest report replaces the last.
            self.processes.setdefault(key, {})[source] = entry["process"]
            self.workers[source] += histogram.count

    def summary_cells(self) -> dict[str, dict[str, Any]]:
        return {key: {**self.cells[key], "histogram": histogram.to_json(),
                      "processes": self.processes.get(key, {})}
                for key, histogram in self.histograms.items()}


_collector = Collector()
_environment: list[Environment] = []


@events.init.add_listener
def _on_init(environment: Environment, **_kwargs: Any) -> None:
    _environment.append(environment)
    runner = environment.runner
    if SCHEDULE and runner is not None:
        _coordinator.attach(environment, ready_within_s=SCHEDULE.ready_within_s())
    attach_reports(environment, REPORT_KEY, _take_report, _collector.add)
    # Objects alive now (Locust, the libraries, the keys) are frozen out of the cyclic GC, as
    # in the in-process loop, so neither side pays for scanning the harness's own heap.
    gc.collect()
    gc.freeze()


def _final_entries(runner: Any, options: Any, json_written: bool) -> list[dict[str, Any]]:
    """Locust's final per-task numbers. Writing `--json-file` resets Locust's in-memory stats
    (`serialize_stats` strips each entry), so once that file is written it is the only full
    copy; before, a file of that name is an earlier run's."""
    json_file = getattr(options, "json_file", None)
    if json_written and json_file and Path(f"{json_file}.json").exists():
        entries: list[dict[str, Any]] = json.loads(Path(f"{json_file}.json").read_text())
        return entries
    return [entry.serialize() for entry in runner.stats.entries.values()
            if entry.num_requests or entry.num_failures]


def _summary(runner: Any, options: Any) -> dict[str, Any]:
    master = isinstance(runner, MasterRunner)
    if not master:
        _collector.add("local", _take_report())
    cell_errors: dict[str, list[str]] = {}
    for error in runner.stats.errors.values():
        cell_errors.setdefault(f"{error.method}|{error.name}", []).append(
            f"{error.error} (x{error.occurrences})")
    return {
        "runner": "master" if master else "local",
        "expected_workers": int(getattr(options, "expect_workers", 0) or 0) if master else 0,
        "workers": _collector.workers,
        "missing_workers": [str(w.id) for w in runner.clients.missing] if master else [],
        "errors": [f"user exception: {e['msg']} (x{e['count']})"
                   for e in runner.exceptions.values()],
        "cell_errors": cell_errors,
        "schedule": json.loads(SCHEDULE.to_env()) if SCHEDULE else None,
        "handshake": _coordinator.summary() if SCHEDULE else None,
        "cells": _collector.summary_cells(),
    }


@events.quitting.add_listener
def _on_quitting(environment: Environment, **_kwargs: Any) -> None:
    """A headless plain-Locust run whose numbers fail the checks exits 3, not 0. Decided here,
    before Locust computes its exit code; a headless run has already quit its runner, so the
    master holds the workers' final reports. Under the harness's schedule each cell is judged
    on its own by the harness, so one bad cell fails no other."""
    runner = environment.runner
    options = environment.parsed_options
    if SCHEDULE or runner is None or isinstance(runner, WorkerRunner) \
            or not getattr(options, "headless", False) \
            or environment.process_exit_code is not None or runner.errors or runner.exceptions:
        # Failed operations already give Locust's own `--exit-code-on-error`.
        return
    if not _verdicts(_final_entries(runner, options, json_written=False),
                     _summary(runner, options), log=False):
        environment.process_exit_code = EXIT_REJECTED


@events.quit.add_listener
def _on_quit(exit_code: int, **_kwargs: Any) -> None:
    # `quit` fires after the master's last wait for worker reports; `test_stop` is too early.
    environment = _environment[0] if _environment else None
    if environment is None or isinstance(environment.runner, WorkerRunner):
        return
    runner = environment.runner
    options = environment.parsed_options
    summary = _summary(runner, options)
    out = os.environ.get("HARNESS_LOADTEST_OUT")
    if out:
        target = Path(out) / HISTOGRAMS_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    _verdicts(_final_entries(runner, options, json_written=True), summary, log=True)


def _verdicts(entries: list[dict[str, Any]], summary: dict[str, Any], log: bool) -> bool:
    """Each task's numbers, or why they cannot be trusted (logged when `log`); False when any
    cannot. A plain run picks tasks at random, so there a worker counts as reporting when it
    timed any task; under the schedule every worker must have timed every cell."""
    trusted = bool(entries)
    if not entries and log:
        logger.error("harness: REJECTED: Locust recorded no requests")
    any_task = sum(1 for n in _collector.workers.values() if n)
    for entry in entries:
        key = f"{entry['method']}|{entry['name']}"
        histogram = _collector.histograms.get(key, Histogram())
        found = problems(CellCounts(
            requests=entry["num_requests"], operations=entry["total_content_length"],
            failures=entry["num_failures"], histogram_count=histogram.count,
            expected_workers=summary["expected_workers"],
            reporting_workers=reporting_processes(summary["cells"].get(key, {}))
            if SCHEDULE else any_task,
            missing_workers=summary["missing_workers"],
            errors=summary["cell_errors"].get(key, []) + summary["errors"]))
        trusted = trusted and not found
        if not log:
            continue
        for problem in found:
            logger.error("harness: %s %s REJECTED: %s", entry["method"], entry["name"], problem)
        if not found:
            logger.info("harness: %s %s %d ops, %s", entry["method"], entry["name"],
                        histogram.count, histogram.percentiles_us())
    return trusted
