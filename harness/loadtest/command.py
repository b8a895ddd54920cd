"""`harness loadtest`: choose the cells, measure them one at a time, write the run's loadtest/."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.adapters import adapter_names, installed_adapters
from harness.adapters.base import OPERATIONS, Adapter
from harness.errors import HarnessError, Unsupported
from harness.loadtest.cells import (
    DEFAULT_PROFILE,
    FAMILY_OPERATIONS,
    Cell,
    cell_mode,
    load_adapter_spec,
    profile_suites,
)
from harness.loadtest.charts import loadtest_charts
from harness.loadtest.loops import Loops
from harness.loadtest.measure import CellRejected, Timing, measure_cell
from harness.loadtest.output import LoadtestFolder, choose_run, finish_meta
from harness.results import utc_now
from harness.suites import ALL_SUITES, Suite, select_suites

EXIT_OK, EXIT_REJECTED = 0, 3


# Two seconds of Locust per cell: one-second windows measured efficiency ~0.96 (median) where
# two reached ~0.97, the start of each fresh Locust process weighing more in a short window.
DEFAULT_DURATION_S = 2


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
    dry_run: bool = False
    charts: bool = True
    command: list[str] = field(default_factory=lambda: list(sys.argv))


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
    duration_given = options.duration_s is not None
    if (duration_given and (options.duration_s < 1 or options.duration_s % 1)) \
            or options.processes < 1:
        raise HarnessError("--duration must be whole seconds (at least 1) and --processes at "
                           "least 1")
    suites, profile = _suites(options.suites)
    adapters, missing = _adapters(options.libraries)
    if not adapters:
        raise HarnessError("no library is installed to measure")
    cells, skipped = plan(adapters, suites, operations)
    duration = options.duration_s or DEFAULT_DURATION_S
    timing = Timing(duration, duration / 2 if options.inprocess_s is None else options.inprocess_s,
                    duration / 4 if options.primitive_s is None else options.primitive_s,
                    options.processes, options.batch_ms)
    per_cell = timing.duration_s + timing.inprocess_s + timing.primitive_s + 1.0
    if options.dry_run:
        for spec, cell in cells:
            print(f"{cell.library}\t{cell.suite.name}\t{cell.operation}\t{cell.tag}\t{spec}")
        for skip in skipped:
            print(f"skip\t{skip['library']}\t{skip['suite']}\t{skip['operation']}\t"
                  f"{skip['reason']}")
        print(f"{len(cells)} cells, {len(skipped)} skipped; about {len(cells) * per_cell:.0f} s",
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
        "libraries": libraries, "cpu_count": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)), "load_average_start": list(os.getloadavg()),
        "started": utc_now(), "finished": None, "status": "running",
        "cells": [], "skipped": skipped, "rejected": [],
    }
    folder.write_meta(meta)
    folder.mark_run(started=meta["started"], finished=None, status="running", cells=0)
    print(f"loadtest: {len(cells)} cells ({len(skipped)} unsupported skipped), "
          f"{timing.duration_s:g} s each on {options.processes} process(es), about "
          f"{len(cells) * per_cell / 60:.1f} min -> {folder.path}"
          f"{' (added to the newest run)' if reused else ''}", file=sys.stderr)
    for skip in skipped:
        print(f"  skip {skip['library']} {skip['suite']} {skip['operation']}: {skip['reason']}",
              file=sys.stderr)
    loops = Loops(options.processes)
    status = "interrupted"
    try:
        for number, (spec, cell) in enumerate(cells, start=1):
            label = f"[{number}/{len(cells)}] {cell.library} {cell.suite.name} {cell.operation}"
            try:
                row = measure_cell(cell, spec, folder.cell_folder(cell.id), timing, loops)
            except CellRejected as rejected:
                print(f"{label}: REJECTED: {'; '.join(rejected.reasons)}", file=sys.stderr)
                meta["rejected"].append({"library": cell.library, "suite": cell.suite.name,
                                         "operation": cell.operation,
                                         "reasons": rejected.reasons})
                continue
            extra = {key[1:]: row.pop(key) for key in ("_mode", "_batch", "_cpu")}
            meta["cells"].append({"library": cell.library, "suite": cell.suite.name,
                                  "operation": cell.operation, "tag": cell.tag,
                                  "folder": f"cells/{cell.id}", **extra})
            folder.add_row(row)
            print(f"{label}: {row['ops_per_s']:,.0f} ops/s  p50 {row['p50_us']} µs  "
                  f"efficiency {row['efficiency']} (per CPU s {extra['cpu']['efficiency_cpu']}, "
                  f"core share {extra['cpu']['locust_cpu_share']})  "
                  f"overhead ×{row['overhead_x']}", file=sys.stderr)
            folder.write_meta(meta)
        status = "complete"
    finally:
        loops.close()
        meta = finish_meta(meta, status)
        folder.write_meta(meta)
        folder.gather_locust_output()
        folder.mark_run(finished=meta["finished"], status=status, cells=len(folder.rows))
        if not reused:
            run.update_meta(finished=meta["finished"], status=status)
    table = folder.table()
    if options.charts:
        loadtest_charts(table, folder.path)
    print(summary_text(table, meta))
    print(f"\nwrote {folder.path}/ (table.csv, meta.json, Locust CSV/JSON, histograms, charts)")
    if meta["rejected"]:
        print(f"loadtest: {len(meta['rejected'])} cell(s) REJECTED; their numbers are not in "
              f"table.csv (see meta.json)", file=sys.stderr)
        return EXIT_REJECTED
    return EXIT_OK


def summary_text(table: Any, meta: dict[str, Any]) -> str:
    if table.empty:
        return "no cell measured"
    shown = table[["library", "suite", "operation", "ops_per_s", "p50_us", "p99_us",
                   "efficiency", "overhead_x"]]
    efficiency = table["efficiency"].dropna()
    lines = [shown.to_string(index=False), "",
             f"efficiency: median {efficiency.median():.3f}, min {efficiency.min():.3f} "
             f"({len(table)} cells; below 0.90 means a noisy window)"]
    per_cpu = [c["cpu"]["efficiency_cpu"] for c in meta["cells"]
               if c.get("cpu", {}).get("efficiency_cpu")]
    shares = [c["cpu"]["locust_cpu_share"] for c in meta["cells"]
              if c.get("cpu", {}).get("locust_cpu_share")]
    if per_cpu and shares:
        per_cpu.sort()
        lines.append(f"per CPU second: median {per_cpu[len(per_cpu) // 2]:.3f}, min "
                     f"{per_cpu[0]:.3f}; Locust had {min(shares):.2f}-{max(shares):.2f} of a "
                     f"core per process (below ~0.95: other work shared the machine)")
    return "\n".join(lines)
