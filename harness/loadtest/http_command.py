"""`harness loadtest --http`: each library as a real resource server on 127.0.0.1, loaded by
Locust, one cell (library × access-token profile) at a time.

Per cell: the tokens are minted by another library (or the forge), a server process starts
for the library and profile, pinned to one core (the last usable one, when there are two or
more), and Locust `FastHttpUser`s pinned to the other core(s) load it: one process, or with
`--processes N` Locust's own master and N forked workers; after a warm-up the locustfile
measures one window: requests, the harness's latency histogram, the statuses that were wrong,
and the server's and every Locust process's CPU seconds over exactly that window (merged
across the workers by the master). A cell
with a wrong status is failed (its row says why); one whose server died, never came up or
answered nothing is rejected with the reason, and the run goes on with the next cell.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from time import monotonic
from typing import Any

import pandas as pd

from harness.adapters import installed_adapters
from harness.adapters.base import Adapter
from harness.core.errors import HarnessError
from harness.core.keys import load_key_set
from harness.core.results import utc_now
from harness.core.shutdown import die_with_parent, signal_name
from harness.loadtest.histogram import Histogram
from harness.loadtest.http_plan import plan
from harness.loadtest.http_profiles import (
    FORGE,
    PLAN_ENV,
    READY_TIMEOUT_S,
    REFUSED_KINDS,
    REFUSED_SHARE,
    REPORT_WAIT_S,
    TOKENS_PER_CELL,
    Profile,
    Token,
    mint,
    minter_for,
    select_profiles,
    serves,
)
from harness.loadtest.http_ratios import cost_ratios
from harness.loadtest.measure import free_port
from harness.loadtest.output import choose_run, finish_meta

HTTP_FOLDER = "loadtest-http"
EXIT_OK, EXIT_REJECTED = 0, 3
DEFAULT_WINDOW_S = 2.5
WARMUP_S = 0.5
MIN_WINDOW_S = 0.5
DEFAULT_USERS = 16
SERVER_MODULE = "harness.loadtest.resource_server"
# Run by Locust in its own process; never imported here (importing Locust patches with gevent).
LOCUSTFILE = Path(__file__).with_name("http_locustfile.py")
# A side whose process used this share of its core over the window was the bottleneck.
SATURATED_SHARE = 0.85
# Start-up of a library's server and its Locust run, and their stop, beside the load itself.
RUN_OVERHEAD_S = 5.0
TABLE_COLUMNS = ("library", "profile", "family", "req_per_s", "p50_us", "p90_us", "p99_us",
                 "server_cpu_us_per_req", "implied_one_core_req_per_s", "server_cpu_share",
                 "locust_cpu_share", "locust_processes", "locust_cores", "pinning", "saturated",
                 "requests", "wrong_statuses", "verdict", "minted_by", "users", "window_s",
                 "started")


@dataclass
class HttpLoadOptions:
    libraries: list[str] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)
    window_s: float | None = None
    users: int = DEFAULT_USERS
    results: Path = Path("results")
    dry_run: bool = False
    charts: bool = True
    command: list[str] = field(default_factory=lambda: list(sys.argv))
    # The server's module: the library resource server, or a test server with the same CLI.
    server_module: str = SERVER_MODULE
    tokens: int = TOKENS_PER_CELL
    warmup_s: float = WARMUP_S
    # Locust processes loading each cell: 1 is one local process; more is Locust's master
    # and that many forked workers.
    processes: int = 1


@dataclass(frozen=True)
class Cores:
    server: int | None
    locust: list[int] | None

    @classmethod
    def split(cls) -> Cores:
        usable = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        if len(usable) < 2:
            return cls(None, None)
        return cls(usable[-1], usable[:-1])

    def locust_capacity(self, processes: int) -> int:
        """Cores the loading processes can use at once: one each, up to the cores they have."""
        return min(processes, len(self.locust or []) or os.cpu_count() or 1)

    def pinning(self, processes: int) -> tuple[str, str | None]:
        """What runs where, and a warning when the Locust processes must share cores."""
        shape = "1 Locust process" if processes == 1 else \
            f"{processes + 1} Locust processes (master + {processes} workers)"
        if self.locust is None:
            return f"unpinned: the server and {shape} share the {os.cpu_count()} core(s)", \
                "fewer than two usable cores: the server and Locust are not pinned apart"
        where = f"server on core {self.server}, {shape} on core(s) {self.locust}"
        if processes <= len(self.locust):
            return where, None
        return where, (f"--processes {processes}: {processes} loading processes share "
                       f"{len(self.locust)} core(s) {self.locust} (the server keeps core "
                       f"{self.server} to itself), so Locust's CPU is at most "
                       f"{len(self.locust)} core(s), whatever the number of processes")


class CellRejected(Exception):
    """The cell has no measurement: its server died, never came up, or nothing was answered."""


def run_http_loadtest(options: HttpLoadOptions) -> int:
    window = DEFAULT_WINDOW_S if options.window_s is None else options.window_s
    if not window >= MIN_WINDOW_S or options.users < 1 or options.tokens < 10:
        raise HarnessError(f"--duration must be at least {MIN_WINDOW_S:g} s, --users at least 1")
    if options.processes < 1:
        raise HarnessError(f"--processes must be a whole number of Locust processes, at least "
                           f"1 (got {options.processes})")
    if options.users < options.processes:
        raise HarnessError(f"--users ({options.users}) must be at least --processes "
                           f"({options.processes}): each worker needs a user")
    profiles = select_profiles(options.profiles)
    adapters, missing = installed_adapters(options.libraries or None)
    if not adapters:
        raise HarnessError("no library is installed to measure")
    # Any installed library may mint, so a server selected alone still gets another's tokens.
    minters = installed_adapters(None)[0] if options.libraries else adapters
    cells = [(adapter, profile) for adapter in adapters for profile in profiles
             if serves(adapter, profile) is None]
    skipped = [{"library": adapter.name, "profile": profile.name,
                "reason": serves(adapter, profile)}
               for adapter in adapters for profile in profiles if serves(adapter, profile)]
    estimate_s = len(cells) * (window + options.warmup_s) \
        + RUN_OVERHEAD_S * len({adapter.name for adapter, _ in cells})
    if options.dry_run:
        for adapter, profile in cells:
            minter = minter_for(adapter.name, profile, minters)
            print(f"{adapter.name}\t{profile.name}\tminted by {minter.name if minter else FORGE}")
        for skip in skipped:
            print(f"skip\t{skip['library']}\t{skip['profile']}\t{skip['reason']}")
        print(f"{len(cells)} cells, {len(skipped)} skipped; about {estimate_s:.0f} s",
              file=sys.stderr)
        return EXIT_OK
    if not cells:
        raise HarnessError("the selection holds no cell any selected library serves")
    libraries = {adapter.name: adapter.version for adapter in adapters}
    run, reused = choose_run(options.results, libraries, missing,
                             {"libraries": list(libraries),
                              "profiles": [p.name for p in profiles]}, folder=HTTP_FOLDER)
    folder = run.path / HTTP_FOLDER
    (folder / "locust").mkdir(parents=True, exist_ok=False)
    cores = Cores.split()
    pinning, warning = cores.pinning(options.processes)
    meta: dict[str, Any] = {
        "command": options.command, "profiles": [vars(p) for p in profiles],
        "libraries": libraries, "window_s": window, "warmup_s": options.warmup_s,
        "users": options.users, "tokens_per_cell": options.tokens,
        "refused_share": REFUSED_SHARE, "refused_kinds": list(REFUSED_KINDS),
        "server_core": cores.server, "locust_cores": cores.locust,
        "locust_processes": options.processes, "pinning": pinning, "pinning_warning": warning,
        "cpu_count": os.cpu_count(), "saturated_share": SATURATED_SHARE,
        "access_token_api": {adapter.name: adapter.access_token_api for adapter in adapters},
        "estimate_s": round(estimate_s, 1), "load_average_start": list(os.getloadavg()),
        "started": utc_now(), "finished": None, "status": "running",
        "skipped": skipped, "rejected": [], "failed": [],
    }
    _write_json(folder / "meta.json", meta)
    if warning:
        print(f"WARNING: {warning}", file=sys.stderr)
    print(f"loadtest --http: {len(cells)} cells ({len(skipped)} unsupported skipped), "
          f"{window:g} s window after {options.warmup_s:g} s warm-up, {options.users} users, "
          f"{pinning}; about {estimate_s:.0f} s "
          f"-> {folder}{' (added to the newest run)' if reused else ''}", file=sys.stderr)
    keys = load_key_set()
    rows: list[dict[str, Any]] = []
    minted: dict[tuple[str, str], list[Token]] = {}
    began = monotonic()
    status = "complete"
    try:
        for adapter, profiles_of in by_library(cells):
            batch = []
            for profile in profiles_of:
                minter = minter_for(adapter.name, profile, minters)
                by = minter.name if minter else FORGE
                if (profile.name, by) not in minted:
                    with warnings.catch_warnings():
                        # A library's warning about the algorithm it mints (joserfc on EdDSA)
                        # says nothing about the server measured.
                        warnings.simplefilter("ignore")
                        minted[(profile.name, by)] = mint(profile, keys, minter,
                                                          options.tokens)
                batch.append((profile, minted[(profile.name, by)], by))
            for profile, outcome in measure_library(adapter, batch, options, window, cores,
                                                    folder):
                if isinstance(outcome, CellRejected):
                    meta["rejected"].append({"library": adapter.name, "profile": profile.name,
                                             "reason": str(outcome)})
                    print(f"REJECTED {adapter.name} {profile.name}: {outcome}", file=sys.stderr)
                    continue
                rows.append(outcome)
                if outcome["verdict"] != "ok":
                    meta["failed"].append({"library": adapter.name, "profile": profile.name,
                                           "verdict": outcome["verdict"]})
                print(row_line(outcome), file=sys.stderr)
            write_table(folder, rows)
            _write_json(folder / "meta.json", meta)
    except KeyboardInterrupt as stop:
        status = f"interrupted ({signal_name(stop)})"
        raise
    finally:
        meta = {**finish_meta(meta, status), "took_s": round(monotonic() - began, 1)}
        _write_json(folder / "meta.json", meta)
        gather_locust(folder)
        run.update_meta(loadtest_http={"status": status, "cells": len(rows),
                                       "finished": meta["finished"]})
    table = write_table(folder, rows)
    if options.charts and not table.empty:
        from harness.loadtest.http_charts import http_charts
        http_charts(table, folder)
    print(summary_text(table, meta))
    return EXIT_REJECTED if meta["rejected"] or meta["failed"] else EXIT_OK


def listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def _child_start(cpus: list[int] | None, parent: int) -> None:
    die_with_parent(parent)
    if cpus:
        os.sched_setaffinity(0, set(cpus))


def by_library(cells: list[tuple[Adapter, Profile]]) -> list[tuple[Adapter, list[Profile]]]:
    grouped: dict[str, tuple[Adapter, list[Profile]]] = {}
    for adapter, profile in cells:
        grouped.setdefault(adapter.name, (adapter, []))[1].append(profile)
    return list(grouped.values())


Batch = list[tuple[Profile, list[Token], str]]


def measure_library(adapter: Adapter, batch: Batch, options: HttpLoadOptions, window: float,
                    cores: Cores, folder: Path
                    ) -> list[tuple[Profile, dict[str, Any] | CellRejected]]:
    """Every profile of one library: one server serving them all (a port each) and one Locust
    run measuring one window per profile. A server that dies rejects the cell it died in; the
    cells after it are measured again with a new server and Locust run."""
    outcomes: list[tuple[Profile, dict[str, Any] | CellRejected]] = []
    remaining = list(batch)
    attempt = 0
    while remaining:
        attempt += 1
        name = adapter.name if attempt == 1 else f"{adapter.name}-again-{attempt}"
        measured = measure_run(adapter.name, remaining, options, window, cores,
                               folder / "locust" / name)
        outcomes += measured
        done = len(measured)
        remaining = remaining[done:]
    return outcomes


def measure_run(library: str, batch: Batch, options: HttpLoadOptions, window: float,
                cores: Cores, own: Path) -> list[tuple[Profile, dict[str, Any] | CellRejected]]:
    """One server and one Locust run over `batch`; the outcomes of the cells it reached (at
    least the first: measured, or rejected with the reason)."""
    own.mkdir(parents=True, exist_ok=True)
    started = utc_now()
    with tempfile.TemporaryDirectory(prefix="harness-http-") as scratch:
        sockets = [listening_socket() for _ in batch]
        ports = [sock.getsockname()[1] for sock in sockets]
        token_files = []
        for index, (_, tokens, _) in enumerate(batch):
            path = Path(scratch, f"tokens-{index}.json")
            path.write_text(json.dumps([t.to_json() for t in tokens]), encoding="utf-8")
            token_files.append(path)
        plan_path, out_path = Path(scratch, "plan.json"), Path(scratch, "out.json")
        command = [sys.executable, "-m", options.server_module, "--library", library,
                   "--parent-pid", str(os.getpid()),
                   *(["--cpu", str(cores.server)] if cores.server is not None else [])]
        for (profile, _, _), sock, path in zip(batch, sockets, token_files, strict=True):
            command += ["--profile", profile.name, "--fd", str(sock.fileno()),
                        "--tokens", str(path)]
        server_log = (own / "server.log").open("w", encoding="utf-8")
        server = subprocess.Popen(command, pass_fds=[sock.fileno() for sock in sockets],
                                  stdout=server_log, stderr=subprocess.STDOUT)
        for sock in sockets:
            sock.close()
        try:
            plan_path.write_text(json.dumps(plan(
                [(profile.name, port, tokens)
                 for (profile, tokens, _), port in zip(batch, ports, strict=True)],
                server.pid, options.warmup_s, window, str(out_path))), encoding="utf-8")
            locust_exit = run_locust(ports[0], plan_path, own, options.users,
                                     len(batch) * (options.warmup_s + window), cores,
                                     options.processes)
            died = server.poll()
        finally:
            _stop(server)
            server_log.close()
        result = json.loads(out_path.read_text(encoding="utf-8")) if out_path.exists() else None
    if result is not None:  # each window as the master merged it, the processes' parts beside
        _write_json(own / "windows.json", result)
    log = (own / "server.log").read_text(encoding="utf-8", errors="replace").strip()
    last_line = log.splitlines()[-1] if log else "no output"
    first = batch[0][0]
    if result is None:
        return [(first, CellRejected(f"Locust wrote no measurement (exit {locust_exit}); "
                                     f"see {own}"))]
    if not result.get("ready"):
        return [(first, CellRejected(f"the server never answered /healthz (exit code {died}; "
                                     f"server log: {last_line})"))]
    outcomes: list[tuple[Profile, dict[str, Any] | CellRejected]] = []
    for (profile, _, minted_by), measured in zip(batch, result["windows"], strict=False):
        if not measured.get("server_alive", True):
            outcomes.append((profile, CellRejected(
                f"the server (pid {server.pid}) exited with code {died} during the window, "
                f"after {measured.get('requests', 0)} measured requests (server log: "
                f"{last_line}); the cell has no measurement, the run goes on")))
            break
        if measured.get("reported", 1) < measured.get("loaders", 1):
            outcomes.append((profile, CellRejected(
                f"only {measured['reported']} of {measured['loaders']} Locust processes "
                f"reported the window within {REPORT_WAIT_S:g} s; see {own}")))
            continue
        if not measured.get("requests"):
            outcomes.append((profile, CellRejected("no request completed inside the window")))
            continue
        outcomes.append((profile, cell_row(library, profile, measured, minted_by,
                                           options.users, started,
                                           options.processes, cores)))
    if not outcomes:
        outcomes.append((first, CellRejected(f"Locust measured no window (exit {locust_exit})"
                                             f"; see {own}")))
    return outcomes


def locust_command(port: int, own: Path, users: int, limit_s: int, processes: int) -> list[str]:
    locust = Path(sys.executable).with_name("locust")
    command = [str(locust), "-f", str(LOCUSTFILE), "--headless", "-u", str(users),
               "-r", str(users), "-t", f"{limit_s}s", "--host", f"http://127.0.0.1:{port}",
               "--csv", str(own / "locust"), "--json-file", str(own / "locust"),
               "--only-summary", "--loglevel", "WARNING"]
    if processes > 1:
        # As the in-process load test: the master listens on loopback only, on a free port.
        master = str(free_port())
        command += ["--processes", str(processes), "--master-bind-host", "127.0.0.1",
                    "--master-bind-port", master, "--master-port", master]
    return [*command, "ResourceUser"]


def run_locust(port: int, plan: Path, own: Path, users: int, load_s: float,
               cores: Cores, processes: int = 1) -> int | None:
    limit_s = int(load_s + READY_TIMEOUT_S + 10)
    env = {**os.environ, PLAN_ENV: str(plan)}
    parent = os.getpid()
    with (own / "locust.log").open("w", encoding="utf-8") as log:
        # Its own session, so the workers Locust forks are stopped with it; the forked
        # workers inherit the Locust cores, and die with the master (the locustfile's hook).
        process = subprocess.Popen(locust_command(port, own, users, limit_s, processes),
                                   env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True,
                                   preexec_fn=lambda: _child_start(cores.locust, parent))
        try:
            return process.wait(timeout=limit_s + 15)
        except subprocess.TimeoutExpired:
            return None
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            else:  # a worker left behind by a master that exited first
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)


def _stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cell_row(library: str, profile: Profile, result: dict[str, Any], minted_by: str,
             users: int, started: str, processes: int = 1,
             cores: Cores | None = None) -> dict[str, Any]:
    """One measured cell. `locust_cpu_share` is the sum over every Locust process (master
    included) in cores; it saturates at `locust_cores`, the cores the loading processes had."""
    cores = cores or Cores(None, None)
    locust_cores = cores.locust_capacity(processes)
    window = float(result["window_s"])
    requests = int(result["requests"])
    percentiles = Histogram.from_json(result["histogram"]).percentiles_us()
    server_cpu = result.get("server_cpu_s")
    server_share = None if server_cpu is None else server_cpu / window
    locust_share = float(result["locust_cpu_s"]) / window
    wrong = dict(result.get("wrong", {}))
    verdict = "ok" if not wrong else "failed: " + "; ".join(
        f"{count} {kind} (e.g. {result['examples'].get(kind, '')})"
        for kind, count in sorted(wrong.items()))
    return {
        "library": library, "profile": profile.name, "family": profile.family,
        "req_per_s": round(requests / window, 1), "p50_us": percentiles["p50_us"],
        "p90_us": percentiles["p90_us"], "p99_us": percentiles["p99_us"],
        # 0 is a reading (less than one clock tick in the window: a server that sleeps); only
        # an unreadable /proc is None.
        "server_cpu_us_per_req": None if server_cpu is None or not requests else round(
            server_cpu / requests * 1e6, 1),
        "implied_one_core_req_per_s": None if not server_cpu else round(requests / server_cpu,
                                                                        1),
        "server_cpu_share": None if server_share is None else round(server_share, 3),
        "locust_cpu_share": round(locust_share, 3), "locust_processes": processes,
        "locust_cores": locust_cores, "pinning": cores.pinning(processes)[0],
        "saturated": saturated_side(server_share, locust_share / locust_cores),
        "requests": requests, "wrong_statuses": sum(wrong.values()), "verdict": verdict,
        "minted_by": minted_by, "users": users, "window_s": round(window, 3),
        "started": started,
    }


def saturated_side(server_share: float | None, locust_share: float) -> str:
    """Which side had its core(s): `server`, `locust` (then the implied rate is the comparable
    figure), or `neither` (latency-bound: a sleeping server, a machine others are using).
    Both shares are of the cores each side had."""
    server = server_share or 0.0
    if max(server, locust_share) < SATURATED_SHARE:
        return "neither"
    return "server" if server >= locust_share else "locust"


def write_table(folder: Path, rows: list[dict[str, Any]]) -> pd.DataFrame:
    table = pd.DataFrame.from_records(rows, columns=list(TABLE_COLUMNS))
    tmp = folder / "table.csv.tmp"
    table.to_csv(tmp, index=False)
    os.replace(tmp, folder / "table.csv")
    return table


def gather_locust(folder: Path) -> None:
    """Every cell's final Locust numbers (its `--json-file`) in one `locust.json`."""
    entries = []
    for path in sorted((folder / "locust").glob("*/locust.json")):
        try:
            entries += [{**entry, "cell": path.parent.name}
                        for entry in json.loads(path.read_text(encoding="utf-8"))]
        except (OSError, ValueError):
            continue
    _write_json(folder / "locust.json", entries)
    columns = ["cell", "name", "num_requests", "num_failures", "total_response_time",
               "min_response_time", "max_response_time"]
    pd.DataFrame.from_records(entries, columns=columns).to_csv(folder / "locust_stats.csv",
                                                               index=False)


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def row_line(row: dict[str, Any]) -> str:
    implied = row["implied_one_core_req_per_s"]
    return (f"{row['library']:12} {row['profile']:23} {row['req_per_s']:8.0f} req/s  p50 "
            f"{row['p50_us'] / 1000:6.2f} ms  p99 {row['p99_us'] / 1000:6.2f} ms  server "
            f"{row['server_cpu_us_per_req'] or 0:7.0f} µs/req ({implied or 0:6.0f}/s on one "
            f"core)  cpu server {row['server_cpu_share'] or 0:.0%} locust "
            f"{row['locust_cpu_share']:.0%}{_of_cores(row)}  {row['saturated']}-bound  "
            f"{row['verdict']}")


def _of_cores(row: dict[str, Any]) -> str:
    processes = row.get("locust_processes", 1)
    if processes == 1:
        return ""
    return f" ({processes} workers + master, of {row['locust_cores']} core(s))"


def summary_text(table: pd.DataFrame, meta: dict[str, Any]) -> str:
    lines = ["", "loadtest --http (req/s and latency as Locust saw them; server µs/req and the "
             "one-core rate it implies from /proc CPU time):"]
    shown = table[["library", "profile", "req_per_s", "p50_us", "p90_us", "p99_us",
                   "server_cpu_us_per_req", "implied_one_core_req_per_s", "server_cpu_share",
                   "locust_cpu_share", "saturated", "verdict"]]
    lines.append(shown.to_string(index=False))
    ratios = cost_ratios(table)
    if not ratios.empty:
        lines += ["", "cost per request (server CPU), JWE over its inner JWS and over no check:",
                  ratios.to_string(index=False)]
    for skip in meta["skipped"]:
        lines.append(f"skipped {skip['library']} {skip['profile']}: {skip['reason']}")
    for reject in meta["rejected"]:
        lines.append(f"REJECTED {reject['library']} {reject['profile']}: {reject['reason']}")
    for failed in meta["failed"]:
        lines.append(f"FAILED {failed['library']} {failed['profile']}: {failed['verdict']}")
    lines.append(f"Locust: {meta['pinning']}; locust_cpu_share sums its processes")
    if meta.get("pinning_warning"):
        lines.append(f"WARNING: {meta['pinning_warning']}")
    lines.append(f"loadtest --http took {meta.get('took_s')} s; estimated {meta['estimate_s']} s")
    return "\n".join(lines)
