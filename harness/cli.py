"""The `harness` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from harness.core.errors import HarnessError
from harness.core.results import DEFAULT_RESULTS
from harness.core.shutdown import exit_code, signal_name, stop_on_signals
from harness.core.suites import ALL_SUITES
from harness.interop.command import run_interop
from harness.interop.options import InteropOptions
from harness.interop.scenario import discover
from harness.loadtest.schedule import DEFAULT_ROUNDS
from harness.report.command import add_report_commands


def _names(values: list[str] | None) -> list[str]:
    """Accept `--library a,b`, `--library a --library b` and `--library "a b"` alike."""
    return [part for value in values or [] for part in value.replace(",", " ").split() if part]


def _suite_patterns(values: list[str] | None) -> list[str]:
    """Suite globs hold spaces (`JWE RSA-OAEP*`), so only commas and repetition separate them."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of processes, 1 or more")
    return number


def _interop(args: argparse.Namespace) -> int:
    return run_interop(InteropOptions(
        libraries=_names(args.library), suites=_suite_patterns(args.suite),
        scenarios=_names(args.scenario), modes=_names(args.mode), jobs=args.jobs,
        results=args.results, dry_run=args.dry_run, fail_on_findings=args.fail_on_findings,
        charts=not args.no_charts, with_pins=_names(args.with_pin), peers=not args.no_peers))


def _loadtest(args: argparse.Namespace) -> int:
    if args.http:
        return _loadtest_http(args)
    from harness.loadtest.command import LoadtestOptions, run_loadtest

    return run_loadtest(LoadtestOptions(
        libraries=_names(args.library), suites=_suite_patterns(args.suite),
        operations=_names(args.operation), duration_s=args.duration, processes=args.processes,
        results=args.results, inprocess_s=args.inprocess, primitive_s=args.primitive,
        batch_ms=args.batch_ms, rounds=args.rounds, remeasure_noisy=args.remeasure_noisy,
        instructions=args.instructions, dry_run=args.dry_run, charts=not args.no_charts,
        with_pins=_names(args.with_pin)))


def _loadtest_http(args: argparse.Namespace) -> int:
    from harness.loadtest.http_command import HttpLoadOptions, run_http_loadtest

    if args.operation or args.instructions:
        raise HarnessError("--http loads each library's resource server over HTTP: "
                           "--operation and --instructions do not apply")
    return run_http_loadtest(HttpLoadOptions(
        libraries=_names(args.library), profiles=_names(args.suite), window_s=args.duration,
        users=args.users, results=args.results, dry_run=args.dry_run,
        charts=not args.no_charts, processes=args.processes))


def _list_suites(args: argparse.Namespace) -> int:
    for suite in ALL_SUITES:
        print(f"{suite.name:50} {suite.tag:45} {suite.key.id:16} {suite.rfc}")
    return 0


def _list_scenarios(args: argparse.Namespace) -> int:
    for case in discover():
        print(f"{case.id:45} {case.expected:7} {case.requirement:28} {case.description}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harness", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    interop = commands.add_parser("interop", help="run the interop matrix")
    interop.add_argument("--library", "-l", action="append",
                         help="library names (repeat or comma-separate); default: all installed")
    interop.add_argument("--suite", "-s", action="append",
                         help="suite name or tag glob, e.g. 'JWS ES*' or 'RSA-OAEP*' "
                              "(repeat or comma-separate)")
    interop.add_argument("--scenario", "-c", action="append",
                         help="scenario or case id, prefix or glob, e.g. jwe or jws.roundtrip")
    interop.add_argument("--mode", "-m", action="append", help="default and/or enabled")
    interop.add_argument("--jobs", "-j", type=_positive,
                         help="worker processes (default: the usable cores)")
    interop.add_argument("--results", type=Path, default=DEFAULT_RESULTS,
                         help="results root (default: results)")
    interop.add_argument("--dry-run", action="store_true", help="list the cases, run nothing")
    interop.add_argument("--fail-on-findings", action="store_true",
                         help="exit 4 when any cell failed (a gate for CI)")
    interop.add_argument("--no-charts", action="store_true", help="skip the PNG charts")
    interop.add_argument("--no-peers", action="store_true",
                         help="with no --library: the Python libraries alone, without the peers "
                              "on this machine (the Node peers, and those `make peers` built)")
    interop.add_argument("--with", dest="with_pin", action="append", metavar="LIB==VERSION",
                         help="also run another release of a Python library, as a peer in a "
                              "venv of its own built once under .cache/peers (repeatable), "
                              "e.g. pyjwt==2.10.0")
    interop.set_defaults(handler=_interop)

    add_loadtest_parser(commands)

    commands.add_parser("suites", help="list the suite registry").set_defaults(
        handler=_list_suites)
    commands.add_parser("scenarios", help="list the declared cases").set_defaults(
        handler=_list_scenarios)
    add_report_commands(commands)
    return parser


def add_loadtest_parser(commands: argparse._SubParsersAction) -> None:
    loadtest = commands.add_parser(
        "loadtest", help="measure throughput and latency per library, suite and operation "
                         "with Locust, one cell at a time")
    loadtest.add_argument("--library", "-l", action="append",
                          help="library names (repeat or comma-separate); default: all installed")
    loadtest.add_argument("--suite", "-s", action="append",
                          help="suite name or tag globs; 'all' for every suite; default: the "
                               "default profile")
    loadtest.add_argument("--operation", "-o", action="append",
                          help="sign, verify, encrypt, decrypt (default: all four)")
    loadtest.add_argument("--duration", "-t", type=float,
                          help="seconds of Locust load per cell, over all its rounds "
                               "(default: 1)")
    loadtest.add_argument("--processes", "-p", type=int, default=1,
                          help="Locust processes loading each cell together, one per free core "
                               "(default: 1); with --http, N > 1 runs Locust's master and N "
                               "forked workers, pinned to the cores the server does not use "
                               "(sharing them when there are fewer, with a warning)")
    loadtest.add_argument("--inprocess", type=float,
                          help="seconds of the plain in-process loop per cell, in the Locust "
                               "process, spread over the rounds (default: 0.6 of the duration)")
    loadtest.add_argument("--primitive", type=float,
                          help="seconds of the cryptography floor per cell, spread over the "
                               "rounds (default: a quarter of the duration)")
    loadtest.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS,
                          help="interleaved rounds per cell (in-process loop, Locust, floor), "
                               f"each figure the median over them (default: {DEFAULT_ROUNDS})")
    loadtest.add_argument("--remeasure-noisy", action="store_true",
                          help="measure a cell once more when its efficiency falls outside "
                               "0.95-1.05 (off by default)")
    loadtest.add_argument("--instructions", action="store_true",
                          help="also count instructions per operation of every selected cell "
                               "under valgrind's callgrind (slow: ~20-60 s a cell)")
    loadtest.add_argument("--batch-ms", type=float, default=5.0,
                          help="milliseconds of operations per Locust event (default: 5)")
    loadtest.add_argument("--results", type=Path, default=DEFAULT_RESULTS,
                          help="results root (default: results)")
    loadtest.add_argument("--dry-run", action="store_true", help="list the cells, run nothing")
    loadtest.add_argument("--no-charts", action="store_true", help="skip the PNG charts")
    loadtest.add_argument("--http", action="store_true",
                          help="HTTP load: each library as a resource server on 127.0.0.1 "
                               "validating access tokens, loaded by Locust; --suite then names "
                               "access-token profiles (none, HS256, RS256, ES256, EdDSA, "
                               "RSA-OAEP-256+A256GCM, ECDH-ES+A256KW+A256GCM, dir+A256GCM), "
                               "--duration the window per cell (default 2.5 s) and --processes "
                               "the Locust processes of FastHttpUsers (default 1)")
    loadtest.add_argument("--users", type=int, default=16,
                          help="with --http: Locust users (connections) per cell (default: 16)")
    loadtest.add_argument("--with", dest="with_pin", action="append", metavar="LIB==VERSION",
                          help="also measure another release of a Python library, as a peer "
                               "timing its own loop (bench), in a table of its own")
    loadtest.set_defaults(handler=_loadtest)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with stop_on_signals():
            return int(args.handler(args))
    except HarnessError as error:
        print(f"harness: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:
        print(f"harness: interrupted by {signal_name(stop)}; rows written so far are kept",
              file=sys.stderr)
        return exit_code(stop)


if __name__ == "__main__":
    sys.exit(main())
