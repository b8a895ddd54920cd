"""One cell, measured: the in-process loop, the Locust run, the loop again, then the floor.

The in-process loop brackets the Locust run (half its time before, half after) so both rates
come from the same stretch of machine time; a noisy stretch shows as a low efficiency.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.adapters.base import error_text
from harness.loadtest.cells import Cell, user_class_name
from harness.loadtest.histogram import Histogram
from harness.loadtest.loops import LoopResult, Loops, combined_rate, cpu_rate
from harness.loadtest.validate import CellCounts, problems
from harness.results import utc_now

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
HISTOGRAMS_FILE = "histograms.json"
# Locust's own start-up and shutdown, beyond which a cell's run counts as hung.
LOCUST_GRACE_S = 90.0


@dataclass
class Timing:
    duration_s: float
    inprocess_s: float
    primitive_s: float
    processes: int
    batch_ms: float


class CellRejected(Exception):
    def __init__(self, cell: Cell, reasons: list[str]) -> None:
        super().__init__(f"{cell.library} {cell.suite.name} {cell.operation}: "
                         + "; ".join(reasons))
        self.cell, self.reasons = cell, reasons


def locust_command(cell: Cell, folder: Path, timing: Timing) -> list[str]:
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
               "-u", str(timing.processes), "-r", str(timing.processes),
               "-t", f"{int(timing.duration_s)}s", "--tags", cell.tag,
               "--json-file", str(folder / "locust"), "--csv", str(folder / "locust"),
               "--only-summary", "--logfile", str(folder / "locust.log"),
               "--exit-code-on-error", "0"]
    if timing.processes > 1:
        # The master listens on loopback only, on a free port, so runs never collide.
        port = str(free_port())
        command += ["--processes", str(timing.processes), "--master-bind-host", "127.0.0.1",
                    "--master-bind-port", port, "--master-port", port]
    return [*command, user_class_name(cell.library)]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def run_locust(cell: Cell, spec: str, folder: Path, timing: Timing) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HARNESS_LOADTEST_ADAPTERS": spec, "HARNESS_LOADTEST_OUT": str(folder),
           "HARNESS_BATCH_MS": str(timing.batch_ms)}
    # Its own session, so a hung run is killed with the worker processes Locust forked.
    locust = subprocess.Popen(locust_command(cell, folder, timing), env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              start_new_session=True)
    try:
        stdout, stderr = locust.communicate(timeout=timing.duration_s + LOCUST_GRACE_S)
    except subprocess.TimeoutExpired:
        os.killpg(locust.pid, signal.SIGKILL)
        locust.communicate()
        raise CellRejected(cell, ["Locust did not finish in time"]) from None
    except BaseException:
        os.killpg(locust.pid, signal.SIGKILL)
        locust.communicate()
        raise
    (folder / "locust.out").write_text(stdout + stderr, encoding="utf-8")
    if locust.returncode != 0:
        tail = (stderr.strip().splitlines() or ["no output"])[-1]
        raise CellRejected(cell, [f"Locust exited {locust.returncode}: {tail}"])


def read_locust(cell: Cell, folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Locust's final entry for the cell (from `--json-file`) and the harness's histograms."""
    try:
        entries = json.loads((folder / "locust.json").read_text(encoding="utf-8"))
        summary = json.loads((folder / HISTOGRAMS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CellRejected(cell, [f"Locust left no readable results: {error}"]) from None
    entry = next((e for e in entries if e["name"] == cell.tag and e["method"] == cell.library),
                 {"num_requests": 0, "num_failures": 0, "total_content_length": 0,
                  "start_time": 0.0, "last_request_timestamp": None})
    return entry, summary


def cell_counts(cell: Cell, entry: dict[str, Any], summary: dict[str, Any]) -> CellCounts:
    histogram = cell_histogram(cell, summary)
    return CellCounts(
        requests=entry["num_requests"], operations=entry["total_content_length"],
        failures=entry["num_failures"], histogram_count=histogram.count,
        expected_workers=summary.get("expected_workers", 0),
        reporting_workers=sum(1 for n in summary.get("workers", {}).values() if n),
        missing_workers=summary.get("missing_workers", []), errors=summary.get("errors", []))


def cell_histogram(cell: Cell, summary: dict[str, Any]) -> Histogram:
    found = summary.get("cells", {}).get(f"{cell.library}|{cell.tag}")
    return Histogram.from_json(found["histogram"]) if found else Histogram()


def locust_rate(entry: dict[str, Any], processes: int) -> tuple[float, float]:
    """(operations per second, seconds) from Locust's final numbers.

    Locust's span runs from the end of each process's first batch to the last event, so one
    batch per process is taken off the count to match it.
    """
    span = (entry["last_request_timestamp"] or 0.0) - entry["start_time"]
    requests, ops = entry["num_requests"], entry["total_content_length"]
    if span <= 0 or requests <= processes:
        return 0.0, max(span, 0.0)
    return ops * (requests - processes) / requests / span, span


def measure_cell(cell: Cell, spec: str, folder: Path, timing: Timing,
                 loops: Loops) -> dict[str, Any]:
    """The cell's table row; raises `CellRejected` when its numbers cannot be trusted."""
    started = utc_now()
    half = timing.inprocess_s / 2
    suite, operation = cell.suite.name, cell.operation
    try:
        before = loops.run(spec, suite, operation, "inprocess", half)
        run_locust(cell, spec, folder, timing)
        after = loops.run(spec, suite, operation, "inprocess", half)
        floor = loops.run(spec, suite, operation, "primitive", timing.primitive_s)
    except CellRejected:
        raise
    except Exception as error:
        # A library error in the in-process loop or the floor: the cell has no trustworthy rate.
        if isinstance(error, BrokenProcessPool):
            loops.restart()
        raise CellRejected(cell, [f"the in-process loop failed: {error_text(error)}"]) from None
    entry, summary = read_locust(cell, folder)
    reasons = problems(cell_counts(cell, entry, summary))
    if reasons:
        raise CellRejected(cell, reasons)
    ops_per_s, span = locust_rate(entry, timing.processes)
    inprocess = combined_rate(before, after)
    primitive_rate = combined_rate(floor)
    histogram = cell_histogram(cell, summary)
    info = summary["cells"][f"{cell.library}|{cell.tag}"]
    return {
        "library": cell.library, "suite": cell.suite.name, "operation": cell.operation,
        "ops_per_s": round(ops_per_s, 1), **histogram.percentiles_us(),
        "inprocess_ops_per_s": round(inprocess, 1),
        "efficiency": round(ops_per_s / inprocess, 4) if inprocess else None,
        "primitive": floor[0].description, "primitive_ops_per_s": round(primitive_rate, 1),
        "overhead_x": round(primitive_rate / ops_per_s, 2) if ops_per_s else None,
        "processes": timing.processes, "requests": entry["num_requests"],
        "operations": entry["total_content_length"], "failures": entry["num_failures"],
        "duration_s": round(span, 3), "started": started,
        "_mode": info.get("mode"), "_batch": info.get("batch"),
        "_cpu": cpu_check(entry["total_content_length"], summary, before, after),
    }


def cpu_check(operations: int, summary: dict[str, Any], *inprocess: list[LoopResult]
              ) -> dict[str, float | None]:
    """Efficiency per CPU second, blind to other processes taking the cores; and the share of
    a core each side had. A wall-clock efficiency far below the CPU one means a busy machine."""
    windows = summary.get("cpu", {}).values()
    cpu = sum(w["cpu_s"] for w in windows)
    wall = sum(w["wall_s"] for w in windows)
    loop_rate, loop_share = cpu_rate(*inprocess)
    locust_rate_cpu = operations / cpu if cpu else None
    return {
        "locust_cpu_share": round(cpu / wall, 3) if wall else None,
        "inprocess_cpu_share": round(loop_share, 3),
        "efficiency_cpu": round(locust_rate_cpu / loop_rate, 4)
        if locust_rate_cpu and loop_rate else None,
    }
