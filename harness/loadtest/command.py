"""`harness loadtest`: choose the cells, measure them one at a time, write the run's loadtest/."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from time import monotonic, time
from typing import Any

from harness.adapters import adapter_names, installed_adapters
from harness.adapters.base import OPERATIONS, Adapter
from harness.adapters.peer import PeerAdapter
from harness.adapters.peer_registry import discover_peers
from harness.adapters.peer_venv import release_peer
from harness.core.errors import HarnessError, Unsupported
from harness.core.keys import load_key_set
from harness.core.results import Run, environment, utc_now
from harness.core.shutdown import signal_name
from harness.core.suites import ALL_SUITES, Suite, select_suites
from harness.loadtest.cells import (
    DEFAULT_PROFILE,
    FAMILY_OPERATIONS,
    Cell,
    cell_mode,
    load_adapter_spec,
    profile_suites,
)
from harness.loadtest.charts import loadtest_charts
from harness.loadtest.instructions import count_cell, valgrind
from harness.loadtest.measure import CellRejected, RunFailed, Timing, fixed_layout, measure_run
from harness.loadtest.output import LoadtestFolder, choose_run, finish_meta
from harness.loadtest.peer_bench import bench_peers, write_and_print
from harness.loadtest.rounds import MIN_ROUNDS
from harness.loadtest.schedule import DEFAULT_ROUNDS

EXIT_OK, EXIT_REJECTED = 0, 3


# Seconds of Locust load per cell, split over DEFAULT_ROUNDS interleaved rounds with the
# in-process loop (0.6 of it) and the floor (a quarter of it): rounds of about 46 ms, so each
# ratio compares parts that ran within ~20 ms of each other.
DEFAULT_DURATION_S = 1.0
INPROCESS_SHARE, FLOOR_SHARE = 0.6, 0.25
MIN_DURATION_S = 0.5
# Locust's start-up and shutdown, per library run, and the preparation of each cell in it
# (the first token, the warm-ups); and the harness's own start and the charts at the end.
# From quiet runs on this 2-core machine: the previous layout's default profile took 267 s
# for 255 s of slots in six runs, so everything but the slots was about 2 s a run.
RUN_OVERHEAD_S, PREPARE_PER_CELL_S, FIXED_OVERHEAD_S = 2.0, 0.02, 4.0
# Measured: the default profile took 250 s on one process, 267 s on two (six Locust runs).
WORKER_START_S = 3.0
# One cell under callgrind (`--instructions`) on a quiet machine: ~20 s of Python start-up
# and imports at valgrind's pace, plus the loops.
INSTRUCTIONS_PER_CELL_S = 30.0
# Efficiency outside this band means the Locust parts and the in-process parts beside them
# saw different machines; with `--remeasure-noisy` such a cell is measured once more.
NOISY_BELOW, NOISY_ABOVE = 0.95, 1.05


@dataclass
class LoadtestOptions:
    libraries: list[str]
    suites: list[str]
    operations: list[str]
    duration_s: float | None
    processes: int
    results: Path
    inprocess_s: float | None = None
    primitive_s: float | None = None
    batch_ms: float = 5.0
    rounds: int = DEFAULT_ROUNDS
    remeasure_noisy: bool = False
    instructions: bool = False
    dry_run: bool = False
    charts: bool = True
    command: list[str] = field(default_factory=lambda: list(sys.argv))
    # Other releases as peers (`pyjwt==2.10.0`), measured by their own loop (`peer_bench`).
    with_pins: list[str] = field(default_factory=list)


def _suites(patterns: list[str]) -> tuple[list[Suite], str]:
    if not patterns:
        return profile_suites(), "default"
    if [p.lower() for p in patterns] == ["all"]:
        return list(ALL_SUITES), "all"
    try:
        return select_suites(patterns), "selection"
    except KeyError as error:
        raise HarnessError(f"no suite matches {error.args[0]}; `harness suites` lists them") \
            from None


def _adapters(names: list[str]) -> tuple[list[tuple[str, Adapter]], dict[str, str]]:
    """(spec, adapter) pairs: registry names, or `module:Class` for an adapter elsewhere."""
    for name in names:
        if ":" not in name and name not in adapter_names():
            raise HarnessError(f"unknown library {name!r}; known: {', '.join(adapter_names())}")
    registry = [n for n in names if ":" not in n]
    loaded, missing = installed_adapters(registry or None) if registry or not names else ([], {})
    if names and missing:
        raise HarnessError("; ".join(missing.values()))
    for name, why in missing.items():
        print(f"warning: skipping {name}: {why}", file=sys.stderr)
    by_spec = {a.name: a for a in loaded}
    by_spec.update((spec, load_adapter_spec(spec)) for spec in names if ":" in spec)
    order = names or list(by_spec)
    return [(spec, by_spec[spec]) for spec in order if spec in by_spec], missing


def plan(adapters: list[tuple[str, Adapter]], suites: list[Suite], operations: list[str]
         ) -> tuple[list[tuple[str, Cell]], list[dict[str, str]]]:
    """Cells to measure, and the unsupported ones skipped (listed, never failed)."""
    cells, skipped = [], []
    for spec, adapter in adapters:
        for suite in suites:
            for operation in FAMILY_OPERATIONS[suite.family]:
                if operation not in operations:
                    continue
                cell = Cell(adapter.name, suite, operation)
                try:
                    adapter.check(suite, cell_mode(adapter, suite), operation)
                except Unsupported as why:
                    skipped.append({"library": adapter.name, "suite": suite.name,
                                    "operation": operation, "reason": str(why)})
                    continue
                cells.append((spec, cell))
    return cells, skipped


def run_loadtest(options: LoadtestOptions) -> int:
    """Validate everything before a run folder exists, so bad input never leaves one behind."""
    operations = options.operations or list(OPERATIONS)
    unknown = [op for op in operations if op not in OPERATIONS]
    if unknown:
        raise HarnessError(f"unknown operation {', '.join(map(repr, unknown))}; known: "
                           f"{', '.join(OPERATIONS)}")
    if (options.duration_s is not None and options.duration_s < MIN_DURATION_S) \
            or options.processes < 1:
        raise HarnessError(f"--duration must be at least {MIN_DURATION_S:g} seconds and "
                           f"--processes at least 1")
    numbers = (options.duration_s, options.inprocess_s, options.primitive_s, options.batch_ms)
    if any(value is not None and not math.isfinite(value) for value in numbers):
        raise HarnessError("--duration, --inprocess, --primitive and --batch-ms must be numbers")
    if (options.inprocess_s is not None and options.inprocess_s <= 0) \
            or (options.primitive_s is not None and options.primitive_s < 0) \
            or options.batch_ms <= 0:
        raise HarnessError("--inprocess and --batch-ms must be positive, --primitive at least 0")
    if options.rounds < MIN_ROUNDS:
        raise HarnessError(f"--rounds must be at least {MIN_ROUNDS}")
    if options.instructions:
        valgrind()
    suites, profile = _suites(options.suites)
    names, peers = split_peers(options.libraries, options.with_pins)
    if peers and options.libraries and not names:  # only peers named: their own loops alone
        return _peers_only(peers, suites, operations, options)
    adapters, missing = _adapters(names)
    if not adapters:
        raise HarnessError("no library is installed to measure")
    cells, skipped = plan(adapters, suites, operations)
    duration = options.duration_s or DEFAULT_DURATION_S
    timing = Timing(duration,
                    duration * INPROCESS_SHARE if options.inprocess_s is None
                    else options.inprocess_s,
                    duration * FLOOR_SHARE if options.primitive_s is None
                    else options.primitive_s,
                    options.processes, options.batch_ms, options.rounds)
    runs = by_library(cells)
    estimate_s = FIXED_OVERHEAD_S + sum(run_estimate_s(run, timing) for _, run in runs) \
        + (INSTRUCTIONS_PER_CELL_S * len(cells) if options.instructions else 0.0)
    if options.dry_run:
        for spec, cell in cells:
            print(f"{cell.library}\t{cell.suite.name}\t{cell.operation}\t{cell.tag}\t{spec}")
        for skip in skipped:
            print(f"skip\t{skip['library']}\t{skip['suite']}\t{skip['operation']}\t"
                  f"{skip['reason']}")
        print(f"{len(cells)} cells, {len(skipped)} skipped; about {estimate_s:.0f} s",
              file=sys.stderr)
        return EXIT_OK
    if not cells:
        raise HarnessError("the selection holds no cell any selected library supports")

    libraries = {adapter.name: adapter.version for _, adapter in adapters}
    selection = {"libraries": list(libraries), "suites": options.suites or ["default profile"],
                 "operations": operations}
    run, reused = choose_run(options.results, libraries, missing, selection)
    folder = LoadtestFolder(run)
    meta: dict[str, Any] = {
        "command": options.command, "profile": profile,
        "profile_suites": list(DEFAULT_PROFILE) if profile == "default" else options.suites,
        "operations": operations, "processes": options.processes,
        "duration_per_cell_s": timing.duration_s, "inprocess_per_cell_s": timing.inprocess_s,
        "primitive_per_cell_s": timing.primitive_s, "batch_ms": options.batch_ms,
        "rounds": timing.rounds, "round_s": timing.schedule([]).round_s,
        "passes": timing.schedule([]).passes,
        "layout": ("fixed: PYTHONHASHSEED=0, no ASLR" if fixed_layout()
                   else "random (HARNESS_LAYOUT=random)"),
        "remeasure_noisy": options.remeasure_noisy, "estimate_s": round(estimate_s, 1),
        "libraries": libraries, "cpu_count": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)), "load_average_start": list(os.getloadavg()),
        "started": utc_now(), "finished": None, "status": "running",
        "cells": [], "skipped": skipped, "rejected": [], "remeasured": [],
    }
    folder.write_meta(meta)
    folder.mark_run(started=meta["started"], finished=None, status="running", cells=0)
    print(f"loadtest: {len(cells)} cells ({len(skipped)} unsupported skipped), "
          f"{timing.rounds} rounds of {timing.schedule([]).round_s * 1000:.0f} ms each in "
          f"{timing.schedule([]).passes} passes "
          f"({timing.duration_s:g} s of Locust) on {options.processes} process(es), about "
          f"{estimate_s:.0f} s ({estimate_s / 60:.1f} min) -> {folder.path}"
          f"{' (added to the newest run)' if reused else ''}", file=sys.stderr)
    for skip in skipped:
        print(f"  skip {skip['library']} {skip['suite']} {skip['operation']}: {skip['reason']}",
              file=sys.stderr)
    status, stopped_by = "interrupted", {}
    began = monotonic()
    progress = Progress(len(cells))
    try:
        for spec, run_cells in runs:
            print(f"{run_cells[0].library}: {len(run_cells)} cells in one Locust run, about "
                  f"{run_estimate_s(run_cells, timing):.0f} s", file=sys.stderr)
            results = []
            for cell, result in measured(spec, run_cells, folder, timing):
                record(cell, result, folder, meta, progress)
                results.append((cell, result))
                folder.write_meta(meta)
            if options.remeasure_noisy:
                remeasure_noisy(spec, results, folder, timing, meta)
                folder.write_meta(meta)
        if options.instructions:
            count_instructions(cells, folder, meta)
        status = "complete"
    except KeyboardInterrupt as stop:
        # Any stop signal (see harness.core.shutdown): the Locust run was killed on the way up.
        stopped_by = {"signal": signal_name(stop)}
        raise
    finally:
        meta = {**finish_meta(meta, status), **stopped_by}
        folder.write_meta(meta)
        folder.gather_locust_output({f"{c['library']}|{c['tag']}": c["run"]
                                     for c in meta["cells"]})
        folder.mark_run(finished=meta["finished"], status=status, cells=len(folder.rows),
                        **stopped_by)
        if not reused:
            run.update_meta(finished=meta["finished"], status=status, **stopped_by)
    table = folder.table()
    if options.charts:
        loadtest_charts(table, folder.path)
    took = seconds_since_start(began)
    meta["took_s"] = round(took, 1)
    folder.write_meta(meta)
    print(summary_text(table, meta))
    print(f"loadtest took {took:.0f} s; estimated {estimate_s:.0f} s "
          f"({took / estimate_s - 1:+.0%})", file=sys.stderr)
    print(f"\nwrote {folder.path}/ (table.csv, meta.json, Locust CSV/JSON, histograms, charts)")
    if peers and not options.dry_run:
        bench_into(peers, suites, operations, timing.inprocess_s, folder.path)
    if meta["rejected"]:
        print(f"loadtest: {len(meta['rejected'])} cell(s) REJECTED; their numbers are not in "
              f"table.csv (see meta.json)", file=sys.stderr)
        return EXIT_REJECTED
    return EXIT_OK



def split_peers(names: list[str], pins: list[str]) -> tuple[list[str], list[PeerAdapter]]:
    """The Python libraries named, and the peers: release pins (`--with`, `lib@version`) and
    the peers of `peers/` named with `--library`."""
    discovered = discover_peers()
    pins = [*pins, *(f"{n.split('@', 1)[0]}=={n.split('@', 1)[1]}" for n in names
                     if "@" in n and n not in discovered)]
    peers: list[PeerAdapter] = []
    for name in names:
        if name in discovered:
            entry = discovered[name]
            if entry.missing:
                raise HarnessError(f"peer {name} is not on this machine: {entry.missing}")
            peers.append(PeerAdapter(entry.spec))
    peers += [PeerAdapter(release_peer(pin)) for pin in dict.fromkeys(pins)]
    return [n for n in names if "@" not in n and n not in discovered], peers


def bench_into(peers: list[PeerAdapter], suites: list[Suite], operations: list[str],
               seconds: float, folder: Path) -> None:
    try:
        table, skipped = bench_peers(peers, suites, operations, load_key_set(), seconds)
        path = write_and_print(table, skipped, folder)
        print(f"wrote {path}")
    finally:
        for peer in peers:
            peer.close()


def _peers_only(peers: list[PeerAdapter], suites: list[Suite], operations: list[str],
                options: LoadtestOptions) -> int:
    versions = {peer.name: peer.version for peer in peers}
    if options.dry_run:
        print(f"peers measured by their own loop: {', '.join(versions)}", file=sys.stderr)
        return EXIT_OK
    run = Run.create(options.results, {**environment(versions, {}), "kind": "loadtest",
                                       "peers": {p.name: p.describe() for p in peers}})
    bench_into(peers, suites, operations,
               (options.duration_s or DEFAULT_DURATION_S) * INPROCESS_SHARE, run.path)
    run.update_meta(finished=utc_now(), status="complete")
    return EXIT_OK


def seconds_since_start(began: float) -> float:
    """Wall seconds since this process started (what `time make loadtest` shows, less make's
    own instant), or since `began` (a `monotonic()`) where the process's start is unknown."""
    try:
        import psutil  # Locust's dependency; only for the start time
        return time() - psutil.Process().create_time()
    except (ImportError, OSError):
        return monotonic() - began


def run_estimate_s(cells: list[Cell], timing: Timing) -> float:
    """How long one library's Locust run takes: start (a master and its workers start and
    shake hands for each process beyond the first), preparing each cell, its slots."""
    return (RUN_OVERHEAD_S + (timing.processes - 1) * WORKER_START_S
            + len(cells) * PREPARE_PER_CELL_S + timing.schedule(cells).total_s)


def count_instructions(cells: list[tuple[str, Cell]], folder: LoadtestFolder,
                       meta: dict[str, Any]) -> None:
    """Instructions per operation of every measured cell under callgrind (`instructions.py`),
    into `instructions.csv` and the table's `instructions_per_op` column."""
    rows = {(r["library"], r["suite"], r["operation"]): r for r in folder.rows}
    counted: list[dict[str, Any]] = []
    print(f"loadtest: counting instructions of {len(cells)} cell(s) under callgrind "
          f"(~20-60 s each)", file=sys.stderr)
    for index, (spec, cell) in enumerate(cells, 1):
        row = rows.get((cell.library, cell.suite.name, cell.operation))
        per_call = row["p50_us"] / 1e6 if row and row.get("p50_us") else 1e-4
        label = f"[instructions {index}/{len(cells)}] {cell.library} {cell.suite.name} " \
                f"{cell.operation}"
        try:
            found = count_cell(spec, cell, per_call, folder.path / "callgrind")
        except (HarnessError, subprocess.TimeoutExpired) as error:
            meta["rejected"].append({"library": cell.library, "suite": cell.suite.name,
                                     "operation": cell.operation,
                                     "reasons": [f"instruction count: {error}"]})
            print(f"{label}: FAILED: {error}", file=sys.stderr)
            continue
        counted.append(found)
        if row is not None:
            row["instructions_per_op"] = found["instructions_per_op"]
        print(f"{label}: {found['instructions_per_op']:,} instructions per operation, floor "
              f"{found['primitive_instructions_per_op']:,} (×{found['instructions_x']}), "
              f"n={found['n']}", file=sys.stderr)
    folder.write_instructions(counted)
    folder.write_table()
    meta["instructions"] = {"tool": "valgrind --tool=callgrind", "cells": len(counted),
                            "file": "instructions.csv"}


def by_library(cells: list[tuple[str, Cell]]) -> list[tuple[str, list[Cell]]]:
    """The cells of each library together, in plan order: one Locust run each."""
    runs: dict[str, list[Cell]] = {}
    for spec, cell in cells:
        runs.setdefault(spec, []).append(cell)
    return list(runs.items())


def measured(spec: str, cells: list[Cell], folder: LoadtestFolder, timing: Timing,
             suffix: str = "") -> Iterator[tuple[Cell, dict[str, Any] | CellRejected]]:
    """Every cell's row or rejection, as soon as it is known. A run that fails as a whole (the
    library killed or hung its process, a worker went missing) is measured again cell by cell,
    so only the cell that fails alone is lost."""
    try:
        results = measure_run(cells, spec, folder.run_folder(cells[0].library + suffix), timing)
    except RunFailed as failed:
        if len(cells) == 1:
            yield cells[0], CellRejected(cells[0], [str(failed)])
            return
        print(f"  {cells[0].library}: the run failed ({failed}); measuring its cells one "
              f"by one", file=sys.stderr)
    else:
        yield from zip(cells, results, strict=True)
        return
    for cell in cells:
        try:
            [result] = measure_run([cell], spec, folder.run_folder(cell.id + suffix), timing)
        except RunFailed as failed:
            result = CellRejected(cell, [str(failed)])
        yield cell, result


def noisy(result: dict[str, Any] | CellRejected) -> bool:
    if isinstance(result, CellRejected) or result["efficiency"] is None:
        return False
    return not NOISY_BELOW <= result["efficiency"] <= NOISY_ABOVE


def remeasure_noisy(spec: str, results: list[tuple[Cell, dict[str, Any] | CellRejected]],
                    folder: LoadtestFolder, timing: Timing, meta: dict[str, Any]) -> None:
    """Cells whose Locust window and in-process loop disagree by more than 5 % are measured
    once more, in one more run. The second measurement replaces the first whatever it says,
    unless it has no trustworthy numbers at all; `meta.json` lists both under `remeasured`."""
    first = {cell: result for cell, result in results if noisy(result)}
    if not first:
        return
    library = next(iter(first)).library
    print(f"  {library}: {len(first)} cell(s) with an efficiency outside "
          f"{NOISY_BELOW}-{NOISY_ABOVE} (a noisy window); measuring them once more",
          file=sys.stderr)
    for cell, later in measured(spec, list(first), folder, timing, suffix="-again"):
        entry = {"library": cell.library, "suite": cell.suite.name, "operation": cell.operation,
                 "first_efficiency": first[cell]["efficiency"]}  # type: ignore[index]
        label = f"[again] {cell.library} {cell.suite.name} {cell.operation}"
        if isinstance(later, CellRejected):
            meta["remeasured"].append({**entry, "efficiency": None,
                                       "second_rejected": later.reasons})
            print(f"{label}: REJECTED ({'; '.join(later.reasons)}); the first measurement "
                  f"stays", file=sys.stderr)
            continue
        meta["remeasured"].append({**entry, "efficiency": later["efficiency"]})
        extra = split_extra(later)
        meta["cells"] = [c for c in meta["cells"] if c["tag"] != cell.tag
                         or c["library"] != cell.library]
        meta["cells"].append(meta_cell(cell, extra))
        folder.replace_row(later)
        print_row(label, later, extra)


@dataclass
class Progress:
    total: int
    done: int = 0


def split_extra(row: dict[str, Any]) -> dict[str, Any]:
    """The row's underscored fields, which go to meta.json, taken out of the table row."""
    return {key[1:]: row.pop(key) for key in ("_mode", "_batch", "_cpu", "_run", "_span_s")}


def meta_cell(cell: Cell, extra: dict[str, Any]) -> dict[str, Any]:
    """A measured cell's entry in meta.json: its mode, batch, CPU check and run."""
    return {"library": cell.library, "suite": cell.suite.name, "operation": cell.operation,
            "tag": cell.tag, **extra}


def print_row(label: str, row: dict[str, Any], extra: dict[str, Any]) -> None:
    print(f"{label}: {row['ops_per_s']:,.0f} ops/s (IQR {row['ops_per_s_q1']:,.0f}-"
          f"{row['ops_per_s_q3']:,.0f}, {row['rounds']} rounds)  p50 {row['p50_us']} µs  "
          f"efficiency {row['efficiency']} (wall clock {row['efficiency_wall']}, "
          f"core share {extra['cpu']['locust_cpu_share']})  "
          f"overhead ×{row['overhead_x']}", file=sys.stderr)


def record(cell: Cell, result: dict[str, Any] | CellRejected, folder: LoadtestFolder,
           meta: dict[str, Any], progress: Progress) -> None:
    progress.done += 1
    label = (f"[{progress.done}/{progress.total}] {cell.library} {cell.suite.name} "
             f"{cell.operation}")
    if isinstance(result, CellRejected):
        print(f"{label}: REJECTED: {'; '.join(result.reasons)}", file=sys.stderr)
        meta["rejected"].append({"library": cell.library, "suite": cell.suite.name,
                                 "operation": cell.operation, "reasons": result.reasons})
        return
    extra = split_extra(result)
    meta["cells"].append(meta_cell(cell, extra))
    folder.add_row(result)
    print_row(label, result, extra)


def summary_text(table: Any, meta: dict[str, Any]) -> str:
    if table.empty:
        return "no cell measured"
    shown = table[["library", "suite", "operation", "ops_per_s", "p50_us", "p99_us",
                   "efficiency", "overhead_x"]]
    efficiency = table["efficiency"].dropna()
    lines = [shown.to_string(index=False), "",
             f"efficiency (CPU seconds per operation, in-process ÷ Locust): median "
             f"{efficiency.median():.3f}, min {efficiency.min():.3f} ({len(table)} cells; "
             f"outside {NOISY_BELOW}-{NOISY_ABOVE} means Locust cost the operation more)"]
    wall = table["efficiency_wall"].dropna() if "efficiency_wall" in table else []
    shares = [c["cpu"]["locust_cpu_share"] for c in meta["cells"]
              if c.get("cpu", {}).get("locust_cpu_share")]
    if len(wall) and shares:
        lines.append(f"wall clock: efficiency median {wall.median():.3f}, min {wall.min():.3f}; "
                     f"Locust had {min(shares):.2f}-{max(shares):.2f} of a core per process "
                     f"(below ~0.95: other work shared the machine, and the rates paid for it)")
    return "\n".join(lines)
