"""One library's cells, measured in one Locust run on the harness's schedule; a row per cell.

Each cell has its own time slot (see `schedule.py`), split into interleaved rounds of Locust
batches, the plain in-process loop and the floor in the same processes (`rounds.py`); each
figure is the median over the rounds, with its interquartile range. When a run fails as a whole (the
library killed or hung the process), its cells are measured again one Locust run each, so only
the cell that kills its run is rejected.
"""

from __future__ import annotations

import ctypes
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.core.shutdown import die_with_parent, raise_if_stopped
from harness.loadtest.cells import Cell, user_class_name
from harness.loadtest.histogram import Histogram
from harness.loadtest.rounds import MIN_ROUNDS, Spread, figures, part_totals
from harness.loadtest.schedule import (
    DEFAULT_PASSES,
    DEFAULT_ROUNDS,
    HISTOGRAMS_FILE,
    PROGRESS_FILE,
    Schedule,
)
from harness.loadtest.validate import CellCounts, problems, reporting_processes

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
PROGRESS_EVERY_S = 10.0
# Beyond the users' own deadline to be ready (`Schedule.ready_within_s`), so the run's own
# watchdog, which logs why, ends a slow start before Locust's `-t` does.
RUN_TIME_MARGIN_S = 10.0
# Beyond Locust's own `-t` safety net, after which a run counts as hung.
LOCUST_GRACE_S = 30.0


@dataclass
class Timing:
    duration_s: float
    inprocess_s: float
    primitive_s: float
    processes: int
    batch_ms: float
    rounds: int = DEFAULT_ROUNDS
    passes: int = DEFAULT_PASSES

    def schedule(self, cells: list[Cell]) -> Schedule:
        return Schedule(cells=tuple(cell.tag for cell in cells), locust_s=self.duration_s,
                        inprocess_s=self.inprocess_s, floor_s=self.primitive_s,
                        rounds=self.rounds, passes=min(self.passes, self.rounds))

    def run_time_s(self, cells: list[Cell]) -> int:
        """Locust's `-t`: only a safety net, since a scheduled run quits after its last slot."""
        schedule = self.schedule(cells)
        return math.ceil(schedule.ready_within_s() + schedule.total_s + RUN_TIME_MARGIN_S)


class CellRejected(Exception):
    def __init__(self, cell: Cell, reasons: list[str]) -> None:
        super().__init__(f"{cell.library} {cell.suite.name} {cell.operation}: "
                         + "; ".join(reasons))
        self.cell, self.reasons = cell, reasons


class RunFailed(Exception):
    """A Locust run that left no trustworthy numbers for any of its cells."""


def locust_command(cells: list[Cell], folder: Path, timing: Timing) -> list[str]:
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
               "-u", str(timing.processes), "-r", str(timing.processes),
               "-t", f"{timing.run_time_s(cells)}s", "--tags", *[cell.tag for cell in cells],
               "--json-file", str(folder / "locust"), "--csv", str(folder / "locust"),
               "--only-summary", "--logfile", str(folder / "locust.log"),
               "--exit-code-on-error", "0"]
    if timing.processes > 1:
        # The master listens on loopback only, on a free port, so runs never collide.
        port = str(free_port())
        command += ["--processes", str(timing.processes), "--master-bind-host", "127.0.0.1",
                    "--master-bind-port", port, "--master-port", port]
    return [*command, user_class_name(cells[0].library)]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# Linux personality flag: no address-space layout randomisation for the process and its exec.
ADDR_NO_RANDOMIZE = 0x0040000
# `HARNESS_LAYOUT=random` keeps the interpreter's usual random hash seed and ASLR.
LAYOUT_ENV = "HARNESS_LAYOUT"


def fixed_layout() -> bool:
    """Whether Locust runs with one memory layout run after run (see `layout_env`)."""
    return os.environ.get(LAYOUT_ENV, "fixed") != "random"


def layout_env() -> dict[str, str]:
    """A fixed hash seed for Locust's interpreter: the seed orders dicts and sets, so two runs
    of the same commit start the library's Python code from the same layout (alone, it did not
    measurably change how `overhead_x` repeats: README)."""
    return {"PYTHONHASHSEED": "0"} if fixed_layout() else {}


def _no_aslr() -> None:
    # With the hash seed, the addresses themselves: the same mapping in every run.
    if fixed_layout():
        libc = ctypes.CDLL(None, use_errno=True)
        current = libc.personality(0xFFFFFFFF)
        if current != -1:
            libc.personality(current | ADDR_NO_RANDOMIZE)


def run_locust(cells: list[Cell], spec: str, folder: Path, timing: Timing) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HARNESS_LOADTEST_ADAPTERS": spec, "HARNESS_LOADTEST_OUT": str(folder),
           "HARNESS_BATCH_MS": str(timing.batch_ms),
           "HARNESS_SCHEDULE": timing.schedule(cells).to_env(), **layout_env()}
    deadline = time.monotonic() + timing.run_time_s(cells) + LOCUST_GRACE_S
    shown = ""
    with (folder / "locust.out").open("w", encoding="utf-8") as output:
        # Its own session, so a hung run is killed with the worker processes Locust forked;
        # it dies with the harness, so a harness killed with SIGKILL leaves no Locust behind.
        harness_pid = os.getpid()
        locust = subprocess.Popen(locust_command(cells, folder, timing), env=env, text=True,
                                  stdout=output, stderr=subprocess.STDOUT,
                                  start_new_session=True,
                                  preexec_fn=lambda: (die_with_parent(harness_pid),
                                                      _no_aslr()))
        try:
            while True:
                try:
                    locust.wait(timeout=PROGRESS_EVERY_S)
                    break
                except subprocess.TimeoutExpired:
                    raise_if_stopped()
                    if time.monotonic() > deadline:
                        raise RunFailed("Locust did not finish in time") from None
                    shown = show_progress(folder, cells, shown,
                                          len(timing.schedule(cells).slots))
        except BaseException:
            os.killpg(locust.pid, signal.SIGKILL)
            locust.wait()
            raise
    if locust.returncode != 0:
        raise RunFailed(f"Locust exited {locust.returncode}: {last_words(folder)}")


def last_words(folder: Path) -> str:
    """What a dead run said last: its output, else its log's last error line."""
    def lines(name: str) -> list[str]:
        try:
            text = (folder / name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        return [line for line in text.splitlines() if line.strip()]
    output = lines("locust.out")
    errors = [line for line in lines("locust.log") if "/ERROR/" in line or "/CRITICAL/" in line]
    found = output or errors
    return found[-1].strip() if found else "no output (the process was killed)"


def show_progress(folder: Path, cells: list[Cell], shown: str, slots: int) -> str:
    """Prints how far a long run is, from the file its users write after each slot."""
    try:
        done = int((folder / PROGRESS_FILE).read_text(encoding="utf-8").split()[0])
    except (OSError, ValueError, IndexError):
        return shown
    line = f"  {cells[0].library}: {done}/{slots} slots ({len(cells)} cells) measured"
    if line != shown:
        print(line, file=sys.stderr)
    return line


def read_run(folder: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Locust's final entries (from `--json-file`) and the harness's summary."""
    try:
        entries = json.loads((folder / "locust.json").read_text(encoding="utf-8"))
        summary = json.loads((folder / HISTOGRAMS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RunFailed(f"Locust left no readable results: {error}") from None
    return entries, summary


def cell_entry(cell: Cell, entries: list[dict[str, Any]]) -> dict[str, Any]:
    return next((e for e in entries if e["name"] == cell.tag and e["method"] == cell.library),
                {"num_requests": 0, "num_failures": 0, "total_content_length": 0,
                 "start_time": 0.0, "last_request_timestamp": None})


def cell_summary(cell: Cell, summary: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = summary.get("cells", {}).get(f"{cell.library}|{cell.tag}", {})
    return found


def cell_counts(cell: Cell, entry: dict[str, Any], summary: dict[str, Any]) -> CellCounts:
    histogram = cell_histogram(cell, summary)
    return CellCounts(
        requests=entry["num_requests"], operations=entry["total_content_length"],
        failures=entry["num_failures"], histogram_count=histogram.count,
        expected_workers=summary.get("expected_workers", 0),
        reporting_workers=reporting_processes(cell_summary(cell, summary)),
        missing_workers=summary.get("missing_workers", []),
        errors=summary.get("cell_errors", {}).get(f"{cell.library}|{cell.tag}", [])
        + summary.get("errors", []))


def cell_histogram(cell: Cell, summary: dict[str, Any]) -> Histogram:
    found = cell_summary(cell, summary)
    return Histogram.from_json(found["histogram"]) if found else Histogram()


def locust_span(entry: dict[str, Any]) -> float:
    """Seconds from Locust's first to its last event of the cell, rounds and all."""
    return max((entry["last_request_timestamp"] or 0.0) - entry["start_time"], 0.0)


def rounds_of(states: list[dict[str, Any]]) -> list[list[dict[str, list[float]]]]:
    return [state.get("rounds") or [] for state in states]


def loop_problems(states: list[dict[str, Any]], timing: Timing, locust_operations: int
                  ) -> list[str]:
    """Why the rounds cannot give figures: an error, too few rounds, a part that did not run,
    or per-round Locust counts that do not add up to Locust's own total."""
    found = [state["error"] for state in states if state.get("error")]
    if found:
        return found
    rounds = rounds_of(states)
    least = min((len(r) for r in rounds), default=0)
    if least < MIN_ROUNDS:
        return [f"only {least} of {timing.rounds} rounds ran in some process (at least "
                f"{MIN_ROUNDS} are needed for a median)"]
    wanted = ["locust", "inprocess"] + (["floor"] if timing.primitive_s > 0 else [])
    missing = [part for part in wanted
               if any(part not in measured for r in rounds for measured in r)]
    if missing:
        return [f"the {' and '.join(missing)} part(s) did not run in every round of every "
                f"process"]
    counted = int(part_totals(rounds, "locust")[0])
    if counted != locust_operations:
        return [f"the rounds counted {counted} Locust operations but Locust counted "
                f"{locust_operations}"]
    return []


def spread_columns(name: str, spread: Spread | None, digits: int) -> dict[str, float | None]:
    """A figure's median and its interquartile range across rounds, as table columns."""
    if spread is None:
        return {name: None, f"{name}_q1": None, f"{name}_q3": None}
    return {name: round(spread.median, digits), f"{name}_q1": round(spread.q1, digits),
            f"{name}_q3": round(spread.q3, digits)}


def cell_row(cell: Cell, entries: list[dict[str, Any]], summary: dict[str, Any],
             timing: Timing, run_name: str = "") -> dict[str, Any]:
    """The cell's table row; raises `CellRejected` when its numbers cannot be trusted."""
    entry = cell_entry(cell, entries)
    info = cell_summary(cell, summary)
    states = [state for state in info.get("processes", {}).values() if state.get("operations")]
    errors = [state["error"] for state in info.get("processes", {}).values()
              if state.get("error")]
    reasons = errors + problems(cell_counts(cell, entry, summary))
    if not reasons:
        reasons = loop_problems(states, timing, entry["total_content_length"])
    if reasons:
        raise CellRejected(cell, list(dict.fromkeys(reasons)))
    rounds = rounds_of(states)
    found = figures(rounds)
    if found["ops_per_s"] is None or found["ops_per_s"].median <= 0:
        raise CellRejected(cell, ["no round gave a Locust rate"])
    histogram = cell_histogram(cell, summary)
    locust_s = part_totals(rounds, "locust")[1] / len(states)
    return {
        "library": cell.library, "suite": cell.suite.name, "operation": cell.operation,
        **spread_columns("ops_per_s", found["ops_per_s"], 1), **histogram.percentiles_us(),
        **spread_columns("inprocess_ops_per_s", found["inprocess_ops_per_s"], 1),
        **spread_columns("efficiency", found["efficiency"], 4),
        "efficiency_wall": round(found["efficiency_wall"].median, 4)
        if found["efficiency_wall"] else None,
        "primitive": info.get("primitive"),
        **spread_columns("primitive_ops_per_s", found["primitive_ops_per_s"], 1),
        **spread_columns("overhead_x", found["overhead_x"], 3),
        "rounds": found["rounds"],
        "processes": timing.processes, "requests": entry["num_requests"],
        "operations": entry["total_content_length"], "failures": entry["num_failures"],
        "duration_s": round(locust_s, 3),
        "started": datetime.fromtimestamp(entry["start_time"], UTC).isoformat(timespec="seconds"),
        "_mode": info.get("mode"), "_batch": info.get("batch"), "_run": run_name,
        "_cpu": cpu_check(rounds), "_span_s": round(locust_span(entry), 3),
    }


def cpu_check(rounds: list[list[dict[str, list[float]]]]) -> dict[str, float | None]:
    """The share of a core each side had over its parts: below ~0.95, other work shared the
    machine, and the wall-clock rates (not the CPU-second ratios) paid for it."""
    _, wall, cpu = part_totals(rounds, "locust")
    _, loop_wall, loop_cpu = part_totals(rounds, "inprocess")
    return {
        "locust_cpu_share": round(cpu / wall, 3) if wall else None,
        "inprocess_cpu_share": round(loop_cpu / loop_wall, 3) if loop_wall else None,
    }


def measure_run(cells: list[Cell], spec: str, folder: Path, timing: Timing
                ) -> list[dict[str, Any] | CellRejected]:
    """A row or a rejection per cell, in order; raises `RunFailed` when the run as a whole
    left nothing to read."""
    run_locust(cells, spec, folder, timing)
    entries, summary = read_run(folder)
    handshake = summary.get("handshake") or {}
    if handshake.get("done", 0) < handshake.get("expected_users", 1):
        raise RunFailed(f"the schedule did not complete: {handshake.get('done', 0)} of "
                        f"{handshake.get('expected_users')} users finished"
                        + (f" ({handshake['failure']})" if handshake.get("failure") else ""))
    results: list[dict[str, Any] | CellRejected] = []
    for cell in cells:
        try:
            results.append(cell_row(cell, entries, summary, timing, folder.name))
        except CellRejected as rejected:
            results.append(rejected)
    return results
