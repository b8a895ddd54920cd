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
from itertools import repeat
from pathlib import Path
from typing import Any

from locust import User, constant, events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from harness.adapters import adapter_names, installed_adapters
from harness.adapters.base import Adapter, Operation
from harness.keys import load_key_set
from harness.loadtest.cells import (
    FAMILY_OPERATIONS,
    load_adapter_spec,
    prepare,
    seconds_per_call,
    task_tag,
    user_class_name,
)
from harness.loadtest.histogram import Histogram
from harness.loadtest.validate import CellCounts, problems
from harness.suites import ALL_SUITES, Suite

BATCH_MS = float(os.environ.get("HARNESS_BATCH_MS", "5"))
# Raw timings are bucketed in bulk once this many wait, keeping numpy out of the timed loop.
FLUSH_AT = 50_000
REPORT_KEY = "harness_histograms"
HISTOGRAMS_FILE = "histograms.json"

logger = logging.getLogger("harness.loadtest")
KEYS = load_key_set()

# Per process: raw nanosecond timings not yet bucketed, and histograms not yet reported to the
# master, keyed by "library|cell tag". Batches never yield, so both always agree with the
# Locust events already fired.
_raw: dict[str, list[int]] = {}
_unreported: dict[str, Histogram] = {}
_cell_info: dict[str, dict[str, Any]] = {}
# This process's wall and CPU clocks at its first batch's start and its last batch's end: how
# much of a core the process really had, which tells a busy machine from Locust's own cost.
_clocks: list[float] = []


def _flush(key: str) -> None:
    values = _raw[key]
    if values:
        _unreported.setdefault(key, Histogram()).record_ns(values)
        values.clear()


def _take_unreported() -> dict[str, dict[str, Any]]:
    for key in list(_raw):
        _flush(key)
    report = {key: {**_cell_info[key], "histogram": histogram.to_json()}
              for key, histogram in _unreported.items() if histogram.count}
    _unreported.clear()
    return report


def _cpu_window() -> dict[str, float]:
    if len(_clocks) < 4:
        return {"wall_s": 0.0, "cpu_s": 0.0}
    return {"wall_s": _clocks[2] - _clocks[0], "cpu_s": _clocks[3] - _clocks[1]}


class JoseUser(User):
    """One library's operations; subclasses are made per adapter below."""

    abstract = True
    wait_time = constant(0)
    adapter: Adapter

    def on_start(self) -> None:
        self.cells: dict[str, tuple[Callable[[Any], Any], Any, int, list[int], str]] = {}
        for task in self.tasks:
            suite, operation = task.harness_cell  # type: ignore[attr-defined]
            prepared = prepare(self.adapter, suite, operation, KEYS)
            per_call = seconds_per_call(prepared.call, prepared.arg)
            batch = max(1, round(BATCH_MS / 1000.0 / max(per_call, 1e-9)))
            tag = task_tag(suite, operation)
            key = f"{self.adapter.name}|{tag}"
            _raw.setdefault(key, [])
            _cell_info[key] = {"library": self.adapter.name, "suite": suite.name,
                               "operation": operation, "mode": prepared.mode, "batch": batch}
            self.cells[tag] = (prepared.call, prepared.arg, batch, _raw[key], key)

    def run_batch(self, tag: str) -> None:
        call, arg, size, raw, key = self.cells[tag]
        fire = self.environment.events.request.fire
        clock = time.perf_counter_ns
        append = raw.append
        before = len(raw)
        if not _clocks:
            _clocks[:] = [time.perf_counter(), time.process_time()]
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
            return
        _clocks[2:] = [time.perf_counter(), time.process_time()]
        fire(request_type=self.adapter.name, name=tag, response_time=(start - first) / 1e6,
             response_length=size, exception=None, context={})
        if len(raw) >= FLUSH_AT:
            _flush(key)


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
    """On the master (or a lone local process): the merged histograms and who sent them."""

    def __init__(self) -> None:
        self.cells: dict[str, dict[str, Any]] = {}
        self.histograms: dict[str, Histogram] = {}
        self.workers: dict[str, int] = {}
        self.cpu: dict[str, dict[str, float]] = {}

    def add(self, source: str, report: dict[str, Any]) -> None:
        if report.get("cpu"):
            self.cpu[source] = report["cpu"]
        for key, entry in report.get("cells", {}).items():
            histogram = Histogram.from_json(entry["histogram"])
            self.histograms.setdefault(key, Histogram()).merge(histogram)
            self.cells[key] = {k: v for k, v in entry.items() if k != "histogram"}
            self.workers[source] = self.workers.get(source, 0) + histogram.count


_collector = Collector()
_environment: list[Environment] = []


@events.init.add_listener
def _on_init(environment: Environment, **_kwargs: Any) -> None:
    _environment.append(environment)
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        def report(client_id: str, data: dict[str, Any]) -> None:
            data[REPORT_KEY] = {"cells": _take_unreported(), "cpu": _cpu_window()}
        environment.events.report_to_master.add_listener(report)
    elif isinstance(runner, MasterRunner):
        environment.events.worker_report.add_listener(
            lambda client_id, data: _collector.add(client_id, data.get(REPORT_KEY) or {}))
    # Objects alive now (Locust, the libraries, the keys) are frozen out of the cyclic GC, as
    # in the in-process loop, so neither side pays for scanning the harness's own heap.
    gc.collect()
    gc.freeze()


def _final_entries(runner: Any, options: Any) -> list[dict[str, Any]]:
    """Locust's final per-task numbers. Writing `--json-file` resets Locust's in-memory stats
    (`serialize_stats` strips each entry), so once that file exists it is the only full copy."""
    json_file = getattr(options, "json_file", None)
    if json_file and Path(f"{json_file}.json").exists():
        entries: list[dict[str, Any]] = json.loads(Path(f"{json_file}.json").read_text())
        return entries
    return [entry.serialize() for entry in runner.stats.entries.values()
            if entry.num_requests or entry.num_failures]


@events.quit.add_listener
def _on_quit(exit_code: int, **_kwargs: Any) -> None:
    # `quit` fires after the master's last wait for worker reports; `test_stop` is too early.
    environment = _environment[0] if _environment else None
    if environment is None or isinstance(environment.runner, WorkerRunner):
        return
    runner = environment.runner
    master = isinstance(runner, MasterRunner)
    if not master:
        _collector.add("local", {"cells": _take_unreported(), "cpu": _cpu_window()})
    options = environment.parsed_options
    summary = {
        "runner": "master" if master else "local",
        "expected_workers": int(getattr(options, "expect_workers", 0) or 0) if master else 0,
        "workers": _collector.workers,
        "cpu": _collector.cpu,
        "missing_workers": [str(w.id) for w in runner.clients.missing] if master else [],
        "errors": [f"{e.error} (x{e.occurrences})" for e in runner.stats.errors.values()]
        + [f"user exception: {e['msg']} (x{e['count']})" for e in runner.exceptions.values()],
        "cells": {key: {**_collector.cells[key], "histogram": h.to_json()}
                  for key, h in _collector.histograms.items()},
    }
    entries = _final_entries(runner, options)
    for entry in entries:
        key = f"{entry['method']}|{entry['name']}"
        histogram = _collector.histograms.get(key, Histogram())
        found = problems(CellCounts(
            requests=entry["num_requests"], operations=entry["total_content_length"],
            failures=entry["num_failures"], histogram_count=histogram.count,
            expected_workers=summary["expected_workers"],
            reporting_workers=sum(1 for n in _collector.workers.values() if n),
            missing_workers=summary["missing_workers"], errors=summary["errors"]))
        for problem in found:
            logger.error("harness: %s %s REJECTED: %s", entry["method"], entry["name"], problem)
        if not found:
            logger.info("harness: %s %s %d ops, %s", entry["method"], entry["name"],
                        histogram.count, histogram.percentiles_us())
    if not entries:
        logger.error("harness: REJECTED: Locust recorded no requests")
    out = os.environ.get("HARNESS_LOADTEST_OUT")
    if out:
        target = Path(out) / HISTOGRAMS_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")

