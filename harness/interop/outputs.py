"""After `harness interop` ran its cells: the derived files of the run folder (CSV, support
table, charts, sheets), the printed summary and the exit code.

Imported only once the cells have run: it loads pandas and matplotlib, which the processes that
run the cells must not carry (see `command`).
"""

from __future__ import annotations

import sys
from functools import partial

from harness.adapters.base import Adapter
from harness.core.blame import blame
from harness.core.keys import KeySet
from harness.core.results import INTEROP_CSV, Run, write_rows_csv
from harness.interop.algorithm_names import NAMES_CSV, write_names_sheet
from harness.interop.algorithm_names import summary_lines as names_summary_lines
from harness.interop.attack_report import write_attack_outputs
from harness.interop.charts import start_interop_charts, support_table
from harness.interop.claims_sheet import write_claims_sheet
from harness.interop.isolation import Background
from harness.interop.keygen_sheet import write_keygen_sheet
from harness.interop.options import EXIT_ERROR_ROWS, EXIT_FINDINGS, EXIT_OK, InteropOptions
from harness.interop.pair_matrix import peer_lines
from harness.interop.peer_faults import peer_fault_lines
from harness.interop.releases import summary_lines as release_lines
from harness.interop.scenario import Case
from harness.interop.summary import render
from harness.interop.vectors_table import summary_lines, vectors_table, write_vectors_csv


def write_outputs(run: Run, cases: list[Case], adapters: list[Adapter], keys: KeySet,
                  peers: list[str], options: InteropOptions) -> int:
    """Everything the run folder holds besides the rows and run.json; the exit code."""
    # The key-generation sheet calls each library afresh and reads no row: its own process
    # makes it (about 3 s) while this one reads the rows on the other core.
    sheet_of_keys = (Background(partial(write_keygen_sheet, adapters, keys, run.path,
                                        options.charts))
                     if any(case.scenario.startswith("keygen.") for case in cases) else None)
    try:
        return _write_outputs(run, cases, adapters, peers, options, sheet_of_keys)
    finally:
        if sheet_of_keys is not None:
            sheet_of_keys.stop()


def _write_outputs(run: Run, cases: list[Case], adapters: list[Adapter], peers: list[str],
                   options: InteropOptions, sheet_of_keys: Background | None) -> int:
    rows = run.interop_rows()
    names = [adapter.name for adapter in adapters]
    support = support_table(rows, names)
    support.to_csv(run.path / "support.csv")
    blamed = blame(rows)
    # The charts, and interop.csv, are written in worker processes while this process writes
    # the rest. Nothing between here and `wait()` may fork or start a process (a peer's
    # restart): the pool's threads are running.
    charts = (start_interop_charts(rows, names, run.path, support, blamed, extra_jobs=3)
              if options.charts else None)
    draw = charts.draw if charts is not None else None
    try:
        if charts is not None:
            charts.with_rows(write_rows_csv, run.path / INTEROP_CSV)
        else:
            run.write_csv(rows)
        sheet = write_claims_sheet(rows, cases, run.path, names, options.charts, draw)
        print(render(rows, blamed))
        for line in write_attack_outputs(rows, names, run.path, options.charts, draw):
            print(line)
        known_answers = vectors_table(rows)
        vectors_csv = write_vectors_csv(known_answers, run.path)
        for line in summary_lines(known_answers):
            print(line)
        for line in names_summary_lines(write_names_sheet(adapters, run.path)):
            print(line)
        for line in peer_lines(rows, names, peers):
            print(line)
        for line in release_lines(rows, names):
            print(line)
        for line in peer_fault_lines(rows, peers):
            print(line)
        if charts is not None:
            charts.wait()
    finally:
        if charts is not None:
            charts.cancel()  # the workers are gone before `command` writes a missing CSV
    print(f"\nwrote {run.path}/ (interop.jsonl, interop.csv, support.csv, run.json, charts"
          f"{', ' + vectors_csv.name if vectors_csv else ''}, {NAMES_CSV})")
    if sheet:
        print(f"claims sheet: {', '.join(path.name for path in sheet)}")
    if sheet_of_keys is not None:
        keygen_files, keygen_lines = sheet_of_keys.result()
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
