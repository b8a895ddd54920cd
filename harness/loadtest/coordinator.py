"""The schedule's handshake inside Locust (ready, one shared start time, done), and the
harness's own figures riding on the workers' stats reports to the master.

Imported by the locustfile only: importing Locust monkey-patches the process with gevent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gevent
from gevent.event import AsyncResult
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

READY, GO, DONE = "harness_ready", "harness_go", "harness_done"
# How far ahead of the last ready message the shared start lies: time for the go message to
# reach every worker on this machine.
START_AHEAD_S = 0.2
WATCH_EVERY_S = 1.0

logger = logging.getLogger("harness.loadtest")


def sleep_until(moment: float) -> None:
    delay = moment - time.time()
    if delay > 0:
        gevent.sleep(delay)


@dataclass
class Coordinator:
    """The ready/go/done handshake between the users and whichever process counts them.

    A local runner counts its own users; a master counts the workers' users and sends the
    start time to every worker; a worker forwards its users' messages to the master.
    """

    expected_users: int = 1
    runner: Any = None
    start: AsyncResult = field(default_factory=AsyncResult)
    ready_count: int = 0
    done_count: int = 0
    failure: str | None = None

    def attach(self, environment: Environment, ready_within_s: float) -> None:
        runner = environment.runner
        self.runner = runner
        self.expected_users = max(1, int(getattr(environment.parsed_options, "num_users", 1)
                                         or 1))
        if isinstance(runner, WorkerRunner):
            runner.register_message(GO, lambda environment, msg, **_: self.start.set(
                msg.data["t0"]))
            return
        runner.register_message(READY, self._on_ready)
        runner.register_message(DONE, self._on_done)
        gevent.spawn(self._watch, ready_within_s)

    def _on_ready(self, environment: Environment, msg: Any, **_kwargs: Any) -> None:
        self.ready_count += 1
        if self.ready_count != self.expected_users:
            return
        t0 = time.time() + START_AHEAD_S
        if isinstance(self.runner, MasterRunner):
            self.runner.send_message(GO, {"t0": t0})
        # The master keeps it too: it times what only it can see (the server's CPU) to it.
        self.start.set(t0)

    def _on_done(self, environment: Environment, msg: Any, **_kwargs: Any) -> None:
        self.done_count += 1
        if self.done_count == self.expected_users:
            # Not from a user's own greenlet: quitting kills the users.
            gevent.spawn(self.runner.quit)

    def _watch(self, ready_within_s: float) -> None:
        """Ends the run early when it can no longer complete: a worker went missing, or the
        users were not all ready in time. The harness then sees an unfinished handshake."""
        deadline = time.time() + ready_within_s
        while self.done_count < self.expected_users:
            gevent.sleep(WATCH_EVERY_S)
            missing = isinstance(self.runner, MasterRunner) and self.runner.clients.missing
            late = self.ready_count < self.expected_users and time.time() > deadline
            if missing or late:
                self.failure = (f"worker(s) went missing: {', '.join(w.id for w in missing)}"
                                if missing else f"only {self.ready_count} of "
                                f"{self.expected_users} users were ready after "
                                f"{ready_within_s:.0f} s")
                logger.error("harness: the schedule cannot complete: %s; quitting",
                             self.failure)
                self.runner.quit()
                return

    def summary(self) -> dict[str, Any]:
        return {"expected_users": self.expected_users, "ready": self.ready_count,
                "done": self.done_count, "failure": self.failure}

    def ready(self) -> float:
        """Called by a user once its cells are prepared; returns the shared start time."""
        self.runner.send_message(READY, None)
        t0: float = self.start.get()
        return t0

    def done(self) -> None:
        if isinstance(self.runner, WorkerRunner):
            # The worker's stats and rounds go first, on the same connection: the master
            # waits only 0.5 s for final reports once it quits, which a loaded machine misses.
            report_now(self.runner)
        self.runner.send_message(DONE, None)


def attach_reports(environment: Environment, key: str, take: Callable[[], Any],
                   add: Callable[[str, Any], None]) -> None:
    """A worker puts `take()` under `key` in every stats report it sends; the master hands
    each worker's to `add(worker id, report)`, an empty dict when it sent none. A local
    runner has no master: its figures go to `add` directly."""
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        def report(client_id: str, data: dict[str, Any]) -> None:
            data[key] = take()
        environment.events.report_to_master.add_listener(report)
    elif isinstance(runner, MasterRunner):
        environment.events.worker_report.add_listener(
            lambda client_id, data: add(client_id, data.get(key) or {}))


def report_now(runner: Any) -> None:
    """A worker sends its stats report, with the harness's figures, now rather than at
    Locust's next interval (every 3 s)."""
    if isinstance(runner, WorkerRunner):
        runner._send_stats()
