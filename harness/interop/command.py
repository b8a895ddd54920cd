"""`harness interop`: plan the matrix and run it into the run folder; `outputs` then writes the
rest of the folder and prints the summary."""

from __future__ import annotations

import contextlib
import os
import sys
import time

from harness.adapters.base import MODES, Adapter, Mode
from harness.adapters.peer_registry import (
    close_peers,
    describe_peers,
    discover_peers,
    installed_libraries,
    peers_meta,
)
from harness.core import jwks_server
from harness.core.errors import HarnessError
from harness.core.keys import KeySet, load_key_set
from harness.core.results import INTEROP_CSV, INTEROP_JSONL, Run, environment, utc_now
from harness.core.shutdown import raise_if_stopped, signal_name
from harness.core.suites import Suite, select_suites
from harness.interop.options import EXIT_OK, InteropOptions
from harness.interop.progress import Progress
from harness.interop.reference_consumer import REFERENCE, ReferenceConsumer
from harness.interop.runner import World, cell_count, check_declares_unsupported, execute, plan
from harness.interop.scenario import Case, discover, select_cases


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
    # A dry run counts the cells without the keys: on a fresh machine, making them takes seconds.
    world = World({a.name: a for a in adapters}, KeySet({}) if options.dry_run else load_key_set(),
                  {case.id: case for case in cases}, {REFERENCE: ReferenceConsumer()})
    cells = cell_count(units, world)
    if options.dry_run:
        for unit in units:
            print(f"{unit.case_id}\t{unit.suite_label}\t{unit.mode}\t{unit.config.name}\t"
                  f"{unit.config.entry_point}")
        print(f"{len(units)} units, {cells} cells ({len(adapters)} libraries)", file=sys.stderr)
        return EXIT_OK
    if not units:
        raise HarnessError("the selection holds no case: no selected suite fits the scenarios")
    for adapter in adapters:
        check_declares_unsupported(adapter)

    libraries = {a.name: a.version for a in adapters}
    jobs = default_jobs() if options.jobs is None else options.jobs
    peers = peers_meta(adapters)
    run = Run.create(options.results, {**environment(libraries, missing), "kind": "interop",
                                       "jobs": jobs,
                                       **({"peers": peers} if peers else {}),
                                       **({"peers_not_run": peers_not_run}
                                          if peers_not_run else {}),
                                       "selection": {"libraries": list(libraries),
                                                     "suites": options.suites or ["*"],
                                                     "scenarios": options.scenarios or ["*"],
                                                     "modes": modes}})
    print(f"interop: {cells} cells ({len(cases)} cases, {len(suites)} suites, "
          f"{len(modes)} modes, {len(adapters)} libraries) on {jobs} "
          f"process{'es' if jobs > 1 else ''} -> {run.path}", file=sys.stderr)
    for line in describe_peers(adapters):
        print(line, file=sys.stderr)
    progress = Progress(cells)
    started = time.monotonic()
    status, stopped_by = "interrupted", {}

    def record(rows: list[dict]) -> None:
        run.append_rows(rows)
        progress.update(rows)
        raise_if_stopped()

    try:
        try:
            execute(units, world, jobs, record)
            status = "complete"
        except KeyboardInterrupt as stop:
            stopped_by = {"signal": signal_name(stop)}
            raise
        finally:
            progress.close()
            run.update_meta(finished=utc_now(), status=status, **stopped_by,
                            interop_seconds=round(time.monotonic() - started, 2))
        # With one job the cells ran here, and the PyJWT resolver cells started this process's
        # JWKS server: its thread stops before the outputs fork their workers.
        jwks_server.stop()
        # pandas and matplotlib load only now. The workers forked above, and every hostile
        # case's child they fork, copy the page tables of all this process holds: with them
        # imported, 130 MB instead of 48, and a fork and exit of 6-13 ms instead of 3.6 ms,
        # 1,461 times.
        from harness.interop.outputs import write_outputs
        return write_outputs(run, cases, adapters, world.keys, list(peers), options)
    finally:
        # Whatever stopped the run (a signal or a failure in the cells, or in the outputs
        # before a chart worker wrote it), the rows written are whole: so is interop.csv.
        if (run.path / INTEROP_JSONL).exists() and not (run.path / INTEROP_CSV).exists():
            with contextlib.suppress(Exception):
                run.write_csv()


def default_jobs() -> int:
    """One worker per usable core. One more when peers run did not help: with the node peers on
    2 cores the cores are 86-95 % busy already, and 3 workers took 91-103 s of cells where 2
    took 91-95 s in runs alternating with them."""
    return max(1, len(os.sched_getaffinity(0)))
