"""`harness interop`: plan the matrix, run it, write the run folder, print the summary."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from harness.adapters.base import MODES, Adapter, Mode
from harness.adapters.peer_registry import (
    close_peers,
    describe_peers,
    discover_peers,
    installed_libraries,
    peers_meta,
)
from harness.core.blame import blame
from harness.core.errors import HarnessError
from harness.core.keys import load_key_set
from harness.core.results import (
    INTEROP_CSV,
    INTEROP_JSONL,
    Run,
    environment,
    utc_now,
    write_rows_csv,
)
from harness.core.shutdown import raise_if_stopped, signal_name
from harness.core.suites import Suite, select_suites
from harness.interop.algorithm_names import NAMES_CSV, write_names_sheet
from harness.interop.algorithm_names import summary_lines as names_summary_lines
from harness.interop.attack_report import write_attack_outputs
from harness.interop.charts import start_interop_charts, support_table
from harness.interop.claims_sheet import write_claims_sheet
from harness.interop.keygen_sheet import write_keygen_sheet
from harness.interop.peer_faults import peer_fault_lines
from harness.interop.progress import Progress
from harness.interop.reference_consumer import REFERENCE, ReferenceConsumer
from harness.interop.releases import summary_lines as release_lines
from harness.interop.runner import World, cell_count, check_declares_unsupported, execute, plan
from harness.interop.scenario import Case, discover, select_cases
from harness.interop.summary import render
from harness.interop.vectors_table import summary_lines, write_vectors_csv

EXIT_OK, EXIT_HARNESS, EXIT_ERROR_ROWS, EXIT_FINDINGS = 0, 1, 3, 4


@dataclass
class InteropOptions:
    libraries: list[str]
    suites: list[str]
    scenarios: list[str]
    modes: list[str]
    jobs: int
    results: Path
    dry_run: bool = False
    fail_on_findings: bool = False
    charts: bool = True
    # Other releases of the Python libraries, each a peer in its own venv (`pyjwt==2.10.0`).
    with_pins: list[str] = field(default_factory=list)
    # Every peer on this machine joins a run that names no library.
    peers: bool = False


def _modes(names: list[str]) -> list[Mode]:
    unknown = [name for name in names if name not in MODES]
    if unknown:
        raise HarnessError(f"unknown mode {', '.join(map(repr, unknown))}; known: "
                           f"{', '.join(MODES)}")
    return [mode for mode in MODES if mode in names] if names else list(MODES)


def run_interop(options: InteropOptions) -> int:
    """Validate everything before the run folder exists, so bad input never leaves one behind."""
    try:
        suites = select_suites(options.suites)
    except KeyError as error:
        raise HarnessError(f"no suite matches {error.args[0]}; `harness suites` lists them") \
            from None
    cases = select_cases(discover(), options.scenarios)
    modes = _modes(options.modes)
    adapters, missing = installed_libraries(options.libraries, options.with_pins,
                                            every_peer=options.peers)
    known = discover_peers()
    left_out: dict[str, dict[str, str]] = {}
    if not options.libraries and not options.peers:
        ready = [name for name, entry in known.items() if not entry.missing]
        if ready:
            print(f"peers on this machine, left out (--no-peers): {', '.join(ready)}",
                  file=sys.stderr)
        left_out = {name: {"language": known[name].spec.language,
                           "why": "left out of this run (--no-peers)"} for name in ready}
    # The report's table of peers names those that did not run, and why (run.json).
    left_out.update({name: {"language": known[name].spec.language, "why": why}
                     for name, why in missing.items() if name in known})
    try:
        return _run_with(options, suites, cases, modes, adapters, missing, left_out)
    finally:
        close_peers(adapters)


def _run_with(options: InteropOptions, suites: list[Suite], cases: list[Case],
              modes: list[Mode], adapters: list[Adapter], missing: dict[str, str],
              peers_not_run: dict[str, dict[str, str]] | None = None) -> int:
    for name, why in missing.items():
        print(f"warning: skipping {name}: {why}", file=sys.stderr)
    if not adapters:
        raise HarnessError("no library is installed to test")
    units = plan(cases, suites, modes)
    # The strict reference consumes the published vectors beside the libraries.
    vector_consumers = {REFERENCE: ReferenceConsumer()}
    cells = cell_count(units, {case.id: case for case in cases}, len(adapters),
                       len(vector_consumers))
    if options.dry_run:
        for unit in units:
            print(f"{unit.case_id}\t{unit.suite_label}\t{unit.mode}\t{unit.config.name}\t"
                  f"{unit.config.entry_point}")
        print(f"{len(units)} units × {len(adapters)}² library pairs = {cells} cells",
              file=sys.stderr)
        return EXIT_OK
    if not units:
        raise HarnessError("the selection holds no case: no selected suite fits the scenarios")
    for adapter in adapters:
        check_declares_unsupported(adapter)

    world = World({a.name: a for a in adapters}, load_key_set(),
                  {case.id: case for case in cases}, vector_consumers)
    libraries = {a.name: a.version for a in adapters}
    peers = peers_meta(adapters)
    run = Run.create(options.results, {**environment(libraries, missing), "kind": "interop",
                                       **({"peers": peers} if peers else {}),
                                       **({"peers_not_run": peers_not_run}
                                          if peers_not_run else {}),
                                       "selection": {"libraries": list(libraries),
                                                     "suites": options.suites or ["*"],
                                                     "scenarios": options.scenarios or ["*"],
                                                     "modes": modes}})
    print(f"interop: {cells} cells ({len(cases)} cases, {len(suites)} suites, "
          f"{len(modes)} modes, {len(adapters)} libraries) on {options.jobs} processes "
          f"-> {run.path}", file=sys.stderr)
    for line in describe_peers(adapters):
        print(line, file=sys.stderr)
    progress = Progress(cells)
    started = time.monotonic()
    status, stopped_by = "interrupted", {}
    rows: pd.DataFrame | None = None

    def record(rows: list[dict]) -> None:
        run.append_rows(rows)
        progress.update(rows)
        raise_if_stopped()

    try:
        execute(units, world, options.jobs, record)
        status = "complete"
    except KeyboardInterrupt as stop:
        stopped_by = {"signal": signal_name(stop)}
        raise
    finally:
        progress.close()
        run.update_meta(finished=utc_now(), status=status, **stopped_by,
                        interop_seconds=round(time.monotonic() - started, 2))
        if (run.path / INTEROP_JSONL).exists():
            rows = run.interop_rows()
            if status != "complete" or not options.charts:
                run.write_csv(rows)  # an interrupted run keeps its CSV too
    rows = run.interop_rows() if rows is None else rows
    names = list(libraries)
    support = support_table(rows, names)
    support.to_csv(run.path / "support.csv")
    blamed = blame(rows)
    # The charts, and interop.csv, are written in worker processes while this process writes
    # the rest. Nothing between here and `wait()` may fork or start a process (a peer's
    # restart): the pool's threads are running. The key-generation sheet, which may call a
    # peer, comes after.
    charts = (start_interop_charts(rows, names, run.path, support, blamed, extra_jobs=3)
              if options.charts else None)
    draw = charts.draw if charts is not None else None
    try:
        if charts is not None:
            charts.with_rows(write_rows_csv, run.path / INTEROP_CSV)
        sheet = write_claims_sheet(rows, cases, run.path, names, options.charts, draw)
        print(render(rows, blamed))
        for line in write_attack_outputs(rows, names, run.path, options.charts, draw):
            print(line)
        vectors_csv = write_vectors_csv(rows, run.path)
        for line in summary_lines(rows):
            print(line)
        for line in names_summary_lines(write_names_sheet(adapters, run.path)):
            print(line)
        for line in release_lines(rows, names):
            print(line)
        for line in peer_fault_lines(rows, list(peers)):
            print(line)
        if charts is not None:
            charts.wait()
    finally:
        if charts is not None:
            charts.cancel()
            if not (run.path / INTEROP_CSV).exists():  # stopped before its worker wrote it
                run.write_csv(rows)
    print(f"\nwrote {run.path}/ (interop.jsonl, interop.csv, support.csv, run.json, charts"
          f"{', ' + vectors_csv.name if vectors_csv else ''}, {NAMES_CSV})")
    if sheet:
        print(f"claims sheet: {', '.join(path.name for path in sheet)}")
    if any(case.scenario.startswith("keygen.") for case in cases):
        keygen_files, keygen_lines = write_keygen_sheet(adapters, world.keys, run.path,
                                                        options.charts)
        print("\n".join(keygen_lines))
        print(f"key generation sheet: {', '.join(path.name for path in keygen_files)}")
    errors = rows[rows["actual"] == "error"]
    harness_bugs = errors[errors["error_source"] != "library"]
    if not harness_bugs.empty:
        print(f"{len(harness_bugs)} error rows raised by the harness's own code: bugs to fix; "
              f"see their detail", file=sys.stderr)
        return EXIT_ERROR_ROWS
    if options.fail_on_findings and (rows["passed"] == False).any():  # noqa: E712
        return EXIT_FINDINGS
    return EXIT_OK


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)))
