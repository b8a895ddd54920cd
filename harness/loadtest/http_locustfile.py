"""Locust load for one HTTP cell: `FastHttpUser`s sending the cell's bearer tokens to
`GET /resource`, each response checked against the status its token must get.

`harness loadtest --http` writes the plan (`HARNESS_HTTP_PLAN`: one window per profile of the
library, each with its port and tokens; the server pid, warm-up and window length) and reads
back what this file writes after each window (`out`): requests sent and completed inside the
window, the harness's own latency histogram (nanoseconds, 1 % buckets), the statuses that were
wrong and why, and the CPU seconds the server (`/proc/<pid>/stat`) and this Locust process
spent over exactly that window. The windows run one after the other, each after its own
warm-up; users wait for `/healthz` before sending, so the server's start-up is never measured.
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path
from typing import Any

import gevent
from gevent.event import Event
from locust import FastHttpUser, events, task
from locust.env import Environment

from harness.loadtest.histogram import Histogram
from harness.loadtest.http_profiles import PLAN_ENV, READY_TIMEOUT_S

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


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
READY = Event()


class Window:
    """What the requests of one profile's measurement window did."""

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
    connections, to that window's port."""

    def on_start(self) -> None:
        READY.wait(READY_TIMEOUT_S)
        self.position = random.randrange(10_000)

    @task
    def resource(self) -> None:
        index = Phase.index
        if index >= len(WINDOWS):
            gevent.sleep(0.05)
            return
        plan = WINDOWS[index]
        tokens = plan["tokens"]
        token, expected, kind = tokens[(self.position * 7919) % len(tokens)]
        self.position += 1
        window = Phase.windows[index]
        measured = window.open
        started = time.perf_counter_ns()
        with self.client.get(f"http://127.0.0.1:{plan['port']}/resource",
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


def _measure_window(index: int, pid: int | None) -> dict[str, Any]:
    window = Phase.windows[index]
    Phase.index = index
    gevent.sleep(float(PLAN["warmup_s"]))
    server_0, own_0, wall_0 = cpu_seconds(pid) if pid else 0.0, cpu_seconds("self"), \
        time.perf_counter()
    window.open = True
    gevent.sleep(float(PLAN["window_s"]))
    window.open = False
    server_1, own_1, wall_1 = cpu_seconds(pid) if pid else 0.0, cpu_seconds("self"), \
        time.perf_counter()
    histogram = Histogram()
    histogram.record_ns(window.latencies_ns)
    return {"name": WINDOWS[index]["name"], "window_s": wall_1 - wall_0,
            "requests": window.requests, "wrong": window.wrong, "examples": window.examples,
            "histogram": histogram.to_json(),
            "server_cpu_s": None if server_0 is None or server_1 is None
            else server_1 - server_0,
            "server_alive": pid is None or cpu_seconds(pid) is not None,
            "locust_cpu_s": (own_1 or 0.0) - (own_0 or 0.0)}


def _measure(environment: Environment) -> None:
    out, pid = PLAN.get("out"), PLAN.get("server_pid")
    first = f"http://127.0.0.1:{WINDOWS[0]['port']}/healthz" if WINDOWS else ""
    result: dict[str, Any] = {"ready": bool(WINDOWS) and _wait_ready(first), "windows": []}
    READY.set()
    for index in range(len(WINDOWS) if result["ready"] else 0):
        measured = _measure_window(index, pid)
        result["windows"].append(measured)
        if out:  # after every window, so a run that dies keeps what it measured
            Path(out).write_text(json.dumps(result), encoding="utf-8")
        if not measured["server_alive"]:
            break
    Phase.index = len(WINDOWS)
    if out:
        Path(out).write_text(json.dumps(result), encoding="utf-8")
    if environment.runner is not None:
        environment.runner.quit()


@events.test_start.add_listener
def _start(environment: Environment, **_: Any) -> None:
    gevent.spawn(_measure, environment)
