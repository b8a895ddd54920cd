"""Locust load for one library's HTTP cells: `FastHttpUser`s sending each cell's bearer tokens
to `GET /resource`, each response checked against the status its token must get.

`harness loadtest --http` writes the plan (`HARNESS_HTTP_PLAN`: one window per profile of the
library, each with its port and tokens; the server pid, warm-up and window length) and reads
back what the master (or the one local process) writes after each window (`out`, or
`HARNESS_HTTP_OUT`): requests sent and completed inside the window, the harness's own latency
histogram (nanoseconds, 1 % buckets), the statuses that were wrong and why, and the CPU seconds
the server (`/proc/<pid>/stat`) and every Locust process spent over exactly that window.

One process or many (`--processes N`, or `--master` and `--worker`s on several machines): each
loading process checks `/healthz` and says so, its users then take part in the ready/go
handshake of the in-process load test (`coordinator.py`), and every process times the windows
from the one start time the master hands out: warm-up, window, warm-up, window... A worker
sends each closed window's figures with a stats report at once (`attach_reports`); the master
merges them (counts added, histograms merged), adds its own CPU and the server's, and writes
the window. Without `HARNESS_HTTP_PLAN` there is nothing to load.

    python -m harness.loadtest.resource_server --library joserfc --profile RS256 \\
        --listen 127.0.0.1:8000 --write-plan plan.json
    HARNESS_HTTP_PLAN=plan.json locust -f harness/loadtest/http_locustfile.py --headless \\
        -u 16 -r 16 -t 60s --processes 2 --host http://127.0.0.1:8000 ResourceUser
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gevent
from gevent.event import Event
from locust import FastHttpUser, events, task
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from harness.core.shutdown import die_with_parent
from harness.loadtest.coordinator import Coordinator, attach_reports, report_now, sleep_until
from harness.loadtest.histogram import Histogram
from harness.loadtest.http_plan import boot_id
from harness.loadtest.http_profiles import PLAN_ENV, READY_TIMEOUT_S, REPORT_WAIT_S

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
OUT_ENV = "HARNESS_HTTP_OUT"
REPORT_KEY = "harness_http"
logger = logging.getLogger("harness.loadtest.http")


def cpu_seconds(pid: int | str) -> float | None:
    """utime + stime of a process (fields 14 and 15 of /proc/<pid>/stat); None once it is gone,
    a zombie included (a dead server stays in /proc until the harness reaps it)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    if fields[0] in ("Z", "X"):
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _load_plan() -> dict[str, Any]:
    path = os.environ.get(PLAN_ENV)
    if not path:
        return {"windows": [], "server_pid": None, "warmup_s": 0.5, "window_s": 3.0,
                "out": None}
    return dict(json.loads(Path(path).read_text(encoding="utf-8")))


PLAN = _load_plan()
WINDOWS: list[dict[str, Any]] = PLAN["windows"]
# The server's CPU is read only where its pid means that process: the harness's own plan, or
# a plan the server wrote on this machine (same boot id).
SERVER_PID: int | None = PLAN.get("server_pid") if PLAN.get("boot_id") in (None, boot_id()) \
    else None
OUT: str | None = os.environ.get(OUT_ENV) or PLAN.get("out")
if os.environ.get(PLAN_ENV):
    # Locust imports this file before `--processes` forks its workers: a worker forked under
    # the harness dies with this master, which dies with the harness.
    os.register_at_fork(after_in_child=partial(die_with_parent, os.getpid()))
HEALTHY = Event()
_coordinator = Coordinator()


def window_times(t0: float, index: int) -> tuple[float, float]:
    """When window `index` opens and closes: each after its own warm-up, one after the other."""
    warmup, window = float(PLAN["warmup_s"]), float(PLAN["window_s"])
    opens = t0 + index * (warmup + window) + warmup
    return opens, opens + window


class Window:
    """What this process's requests of one profile's measurement window did."""

    def __init__(self) -> None:
        self.open = False
        self.requests = 0
        self.latencies_ns: list[int] = []
        self.wrong: dict[str, int] = {}
        self.examples: dict[str, str] = {}

    def count(self, wrong: str | None, example: str, latency_ns: int) -> None:
        self.requests += 1
        self.latencies_ns.append(latency_ns)
        if wrong:
            self.wrong[wrong] = self.wrong.get(wrong, 0) + 1
            self.examples.setdefault(wrong, example)


class Phase:
    """The window being loaded (its index) and whether it is being measured: a request counts
    only when it was sent and completed inside the same measured window."""

    index = 0
    healthy = False
    windows = [Window() for _ in WINDOWS]


def verdict(expected: int, status: int) -> str | None:
    """None when the status is right; else the kind of failure."""
    if status == expected:
        return None
    if expected == 401 and status == 200:
        return "refused_token_answered_200"
    if expected == 200 and status == 401:
        return "good_token_answered_401"
    return "connection_error" if status == 0 else f"status_{status}"


class ResourceUser(FastHttpUser):
    """Sends the current window's tokens in its own shuffled order, over keep-alive
    connections, to that window's port on `--host`."""

    def on_start(self) -> None:
        HEALTHY.wait(READY_TIMEOUT_S + 5)
        self.position = random.randrange(10_000)
        self.server = urlsplit(self.host or "http://127.0.0.1").hostname
        if Phase.healthy:
            _coordinator.ready()

    @task
    def resource(self) -> None:
        index = Phase.index
        if not Phase.healthy or index >= len(WINDOWS):
            gevent.sleep(0.05)
            return
        plan = WINDOWS[index]
        tokens = plan["tokens"]
        token, expected, kind = tokens[(self.position * 7919) % len(tokens)]
        self.position += 1
        window = Phase.windows[index]
        measured = window.open
        started = time.perf_counter_ns()
        with self.client.get(f"http://{self.server}:{plan['port']}/resource",
                             headers={"Authorization": f"Bearer {token}"},
                             name=f"{plan['name']} [{'good' if expected == 200 else 'refused'}]",
                             catch_response=True) as response:
            elapsed = time.perf_counter_ns() - started
            status = response.status_code or 0
            wrong = verdict(expected, status)
            if measured and window.open and Phase.index == index:
                window.count(wrong, f"{kind} token -> {status}", elapsed)
            if wrong:
                response.failure(f"{wrong} ({kind} token)")
            else:
                response.success()


def _wait_ready(url: str) -> bool:
    from geventhttpclient import URL, HTTPClient

    deadline = time.monotonic() + READY_TIMEOUT_S
    parsed = URL(url)
    while time.monotonic() < deadline:
        try:
            client = HTTPClient.from_url(parsed, connection_timeout=1, network_timeout=1)
            if client.get(parsed.request_uri).status_code == 200:
                return True
        except Exception:  # the server is not up yet
            pass
        gevent.sleep(0.05)
    return False


# -- a loading process (local, or a worker): its own windows --------------------------------

class Outbox:
    """A worker's figures not yet sent to the master."""

    pending: dict[str, Any] = {"health": None, "windows": []}

    @classmethod
    def take(cls) -> dict[str, Any]:
        taken, cls.pending = cls.pending, {"health": None, "windows": []}
        return taken


def _send(environment: Environment, health: bool | None = None,
          window: dict[str, Any] | None = None) -> None:
    if isinstance(environment.runner, WorkerRunner):
        if health is not None:
            Outbox.pending["health"] = health
        if window is not None:
            Outbox.pending["windows"].append(window)
        report_now(environment.runner)
    else:
        _merger.add("local", {"health": health, "windows": [window] if window else []})


def _load(environment: Environment) -> None:
    host = urlsplit(environment.host or "http://127.0.0.1").hostname
    healthy = bool(WINDOWS) and _wait_ready(f"http://{host}:{WINDOWS[0]['port']}/healthz")
    Phase.healthy = healthy
    HEALTHY.set()
    _send(environment, health=healthy)
    if not healthy:
        return
    t0 = _coordinator.start.get()
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    for index, window in enumerate(Phase.windows):
        Phase.index = index
        opens, closes = window_times(t0, index)
        sleep_until(opens)
        own_0, wall_0 = cpu_seconds("self"), time.perf_counter()
        window.open = True
        sleep_until(closes)
        window.open = False
        own_1, wall_1 = cpu_seconds("self"), time.perf_counter()
        histogram = Histogram()
        histogram.record_ns(window.latencies_ns)
        _send(environment, window={
            "index": index, "name": WINDOWS[index]["name"], "window_s": wall_1 - wall_0,
            "requests": window.requests, "wrong": window.wrong, "examples": window.examples,
            "histogram": histogram.to_json(), "locust_cpu_s": (own_1 or 0.0) - (own_0 or 0.0),
            "pid": os.getpid(), "cpus": cpus})
    Phase.index = len(WINDOWS)


# -- the counting process (local, or the master): the merged windows --------------------------

class Merger:
    """Every loading process's health and windows, as they arrive; each window merged once
    all have sent theirs."""

    def __init__(self) -> None:
        self.health: dict[str, bool] = {}
        self.windows: dict[int, dict[str, dict[str, Any]]] = {}

    def add(self, source: str, report: dict[str, Any]) -> None:
        if report.get("health") is not None:
            self.health[source] = bool(report["health"])
        for window in report.get("windows") or []:
            self.windows.setdefault(int(window["index"]), {})[source] = window

    def merged(self, index: int, loaders: int) -> dict[str, Any]:
        parts = self.windows.get(index, {})
        histogram, wrong, examples = Histogram(), {}, {}
        for part in parts.values():
            histogram.merge(Histogram.from_json(part["histogram"]))
            for kind, count in part["wrong"].items():
                wrong[kind] = wrong.get(kind, 0) + count
            for kind, example in part["examples"].items():
                examples.setdefault(kind, example)
        walls = [float(part["window_s"]) for part in parts.values()]
        return {
            "name": WINDOWS[index]["name"], "window_s": sum(walls) / len(walls) if walls
            else float(PLAN["window_s"]), "requests": sum(p["requests"] for p in parts.values()),
            "wrong": wrong, "examples": examples, "histogram": histogram.to_json(),
            "locust_cpu_s": sum(float(p["locust_cpu_s"]) for p in parts.values()),
            "loaders": loaders, "reported": len(parts),
            "processes": [{"source": source, **{key: part[key] for key in (
                "pid", "cpus", "requests", "locust_cpu_s", "window_s")},
                "histogram_count": Histogram.from_json(part["histogram"]).count}
                for source, part in sorted(parts.items())]}


_merger = Merger()


def _wait(condition: Any, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        gevent.sleep(0.02)
    return True


def _write(result: dict[str, Any]) -> None:
    if OUT:  # after every window, so a run that dies keeps what it measured
        Path(OUT).write_text(json.dumps(result), encoding="utf-8")


def _count(environment: Environment) -> None:
    runner = environment.runner
    master = isinstance(runner, MasterRunner)
    loaders = max(1, int(getattr(environment.parsed_options, "expect_workers", 1) or 1)) \
        if master else 1
    result: dict[str, Any] = {"ready": False, "loaders": loaders, "windows": []}
    _wait(lambda: len(_merger.health) >= loaders, READY_TIMEOUT_S + 10)
    result["health"] = dict(_merger.health)
    result["ready"] = len(_merger.health) >= loaders and all(_merger.health.values())
    if result["ready"] and _coordinator.start.wait(READY_TIMEOUT_S) is not None:
        t0 = _coordinator.start.get()
        pid = SERVER_PID
        for index in range(len(WINDOWS)):
            opens, closes = window_times(t0, index)
            sleep_until(opens)
            server_0, own_0 = cpu_seconds(pid) if pid else None, cpu_seconds("self")
            sleep_until(closes)
            server_1, own_1 = cpu_seconds(pid) if pid else None, cpu_seconds("self")
            alive = pid is None or cpu_seconds(pid) is not None
            _wait(lambda i=index: len(_merger.windows.get(i, {})) >= loaders, REPORT_WAIT_S)
            measured = _merger.merged(index, loaders)
            if master:  # the master loads nothing, but it is a Locust process on a core too
                measured["master_cpu_s"] = (own_1 or 0.0) - (own_0 or 0.0)
                measured["locust_cpu_s"] += measured["master_cpu_s"]
            measured["server_cpu_s"] = None if server_0 is None or server_1 is None \
                else server_1 - server_0
            measured["server_alive"] = alive
            result["windows"].append(measured)
            _write(result)
            _log(measured)
            if not alive:
                break
    else:
        logger.error("harness: the server never answered /healthz in every loading process "
                     "(%s)", result["health"])
    _write(result)
    gevent.spawn(runner.quit)


def _log(window: dict[str, Any]) -> None:
    histogram = Histogram.from_json(window["histogram"])
    logger.warning(
        "harness: %s: %d requests in %.2f s (%.0f/s) from %d of %d loading processes, %s, "
        "wrong %s, server CPU %s s, Locust CPU %.3f s", window["name"], window["requests"],
        window["window_s"], window["requests"] / window["window_s"], window["reported"],
        window["loaders"], histogram.percentiles_us(), window["wrong"] or "none",
        None if window["server_cpu_s"] is None else round(window["server_cpu_s"], 3),
        window["locust_cpu_s"])


@events.init.add_listener
def _on_init(environment: Environment, **_: Any) -> None:
    if environment.runner is None:
        return
    _coordinator.attach(environment, ready_within_s=READY_TIMEOUT_S + 10)
    attach_reports(environment, REPORT_KEY, Outbox.take, _merger.add)


@events.test_start.add_listener
def _start(environment: Environment, **_: Any) -> None:
    if not isinstance(environment.runner, WorkerRunner):
        gevent.spawn(_count, environment)
    if not isinstance(environment.runner, MasterRunner):
        gevent.spawn(_load, environment)
