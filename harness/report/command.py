"""The `harness report` and `harness compare` subcommands (added to harness.cli's parser)."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.core.errors import HarnessError
from harness.core.results import DEFAULT_RESULTS, resolve_run
from harness.report.browser import CHROMIUM, REPORT_SCREENSHOT, render

EXIT_REGRESSION = 4


# The report's modules (pandas, matplotlib) load when a report is written: `harness.cli` imports
# this module for its parser, and `harness interop` must not carry them (harness.interop.command).


def _report(args: argparse.Namespace) -> int:
    from harness.report.write import write_report

    run = resolve_run(args.results, args.run)
    html_path, md_path = write_report(run)
    print(f"wrote {html_path} and {md_path.name}")
    if args.screenshot:
        shot = run.path / REPORT_SCREENSHOT
        page = render(html_path.as_uri(), screenshot=shot)
        if page.requests:
            raise HarnessError(f"report.html loaded {', '.join(page.requests)}: it must load "
                               "nothing")
        print(f"rendered in {CHROMIUM}: no network request; screenshot {shot.name}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from harness.report.compare import compare, render_comparison

    comparison = compare(resolve_run(args.results, args.run_a),
                         resolve_run(args.results, args.run_b))
    print(render_comparison(comparison))
    return EXIT_REGRESSION if args.fail_on_regression and comparison.regressed else 0


def add_report_commands(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser("report", help="write report.html and report.md for a run")
    report.add_argument("run", nargs="?", help="run folder or its name (default: the newest)")
    report.add_argument("--results", type=Path, default=DEFAULT_RESULTS,
                        help="results root (default: results)")
    report.add_argument("--screenshot", action="store_true",
                        help=f"render the page in {CHROMIUM} and save {REPORT_SCREENSHOT}")
    report.set_defaults(handler=_report)

    compare_ = commands.add_parser("compare", help="what changed between two runs")
    compare_.add_argument("run_a", help="the earlier run (folder or name)")
    compare_.add_argument("run_b", help="the later run (folder or name)")
    compare_.add_argument("--results", type=Path, default=DEFAULT_RESULTS,
                          help="results root (default: results)")
    compare_.add_argument("--fail-on-regression", action="store_true",
                          help=f"exit {EXIT_REGRESSION} when a cell broke or newly fails, "
                               "or a new unexpected accept appeared")
    compare_.set_defaults(handler=_compare)
