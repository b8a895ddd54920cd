"""Run one callable in a forked child with a wall-clock timeout and an address-space limit.

Hostile cases (decompression bombs, huge PBES2 iteration counts, enormous segments) run here so
that a library that hangs or exhausts memory yields a `hang` row, not a dead harness. The child
sends back its result or its exception through a pipe; the parent measures wall time and the
child's peak resident memory (`wait4` rusage).
"""

from __future__ import annotations

import contextlib
import faulthandler
import gc
import os
import pickle
import resource
import select
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.core.shutdown import as_worker, die_with_parent

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MEMORY_MB = 1024


@dataclass
class Isolated:
    """What came back from the child: a value, an exception, or why there was neither."""

    value: Any = None
    error: BaseException | None = None
    timed_out: bool = False
    out_of_memory: bool = False
    died: str | None = None
    wall_ms: float = 0.0
    peak_rss_kb: int = 0


class ChildError(Exception):
    """An exception from the child that could not be sent back as itself."""


def _child(write_fd: int, function: Any, memory_mb: int) -> None:
    # A pool worker terminated mid-case takes its hostile case with it.
    die_with_parent()
    # A crash is reported as a row; a C-level traceback dump would only clutter the output.
    faulthandler.disable()
    # A full collection walks every object inherited from the parent and, by writing their
    # headers, copies each shared page: 200-500 ms of CPU charged to whichever call it fell
    # in (CI saw a refusal by a fake adapter measured at 231 ms, a `dos`). The child makes
    # little garbage of its own; only that is collected.
    gc.freeze()
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        payload: tuple[str, Any] = ("value", function())
    except MemoryError:
        payload = ("oom", None)
    except BaseException as error:  # everything goes back to the parent
        payload = ("error", error)
    _send(write_fd, payload)


def _send(write_fd: int, payload: tuple[str, Any]) -> None:
    try:
        data = pickle.dumps(payload)
    except Exception:  # an unpicklable exception is sent as text, an unpicklable value as one
        kind, error = payload
        if kind == "value":
            kind, error = "error", TypeError(f"unpicklable result: {type(error).__name__}")
        text = "".join(traceback.format_exception_only(type(error), error)).strip()
        data = pickle.dumps((kind, ChildError(text)))
    with os.fdopen(write_fd, "wb") as pipe:
        pipe.write(data)


def _fork(child: Callable[[int], None]) -> tuple[int, int]:
    """Fork a child that runs `child(write_fd)` and exits (status 70 if that raised): it never
    returns into the caller's code. The child's pid and the read end of its pipe."""
    read_fd, write_fd = os.pipe()
    try:
        pid = os.fork()
    except BaseException:  # no child (out of processes or memory): the pipe goes too
        os.close(read_fd)
        os.close(write_fd)
        raise
    if pid == 0:
        os.close(read_fd)
        code = 0
        try:
            child(write_fd)
        except BaseException:
            code = 70
        os._exit(code)
    os.close(write_fd)
    return pid, read_fd


def run_isolated(function: Any, timeout_s: float = DEFAULT_TIMEOUT_S,
                 memory_mb: int = DEFAULT_MEMORY_MB) -> Isolated:
    started = time.perf_counter()
    pid, read_fd = _fork(lambda write_fd: _child(write_fd, function, memory_mb))
    chunks: list[bytes] = []
    deadline = started + timeout_s
    timed_out = False
    reaped = False
    try:
        with os.fdopen(read_fd, "rb") as pipe:
            while True:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    timed_out = True
                    os.kill(pid, signal.SIGKILL)
                    break
                ready, _, _ = select.select([pipe], [], [], remaining)
                if ready:
                    chunk = os.read(pipe.fileno(), 1 << 16)
                    if not chunk:
                        break
                    chunks.append(chunk)
        _, status, usage = os.wait4(pid, 0)
        reaped = True
    finally:
        if not reaped:
            # Interrupted (Ctrl-C, a dying pool worker): the child must not outlive us.
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
    result = Isolated(wall_ms=(time.perf_counter() - started) * 1000,
                      peak_rss_kb=int(usage.ru_maxrss), timed_out=timed_out)
    if timed_out:
        return result
    if os.WIFSIGNALED(status):
        result.died = f"child killed by signal {signal.Signals(os.WTERMSIG(status)).name}"
        return result
    try:
        kind, value = pickle.loads(b"".join(chunks))
    except Exception:  # a child that wrote nothing (or garbage) died
        result.died = f"child exited with status {os.WEXITSTATUS(status)} and no result"
        return result
    if kind == "oom":
        result.out_of_memory = True
    elif kind == "error":
        result.error = value
    else:
        result.value = value
    return result


class Background:
    """`function()` in a forked child, started now and collected with `result()`: work that
    needs no core of the caller's while the caller works on the other (no limits, no timeout;
    the child dies with the harness, and `stop()` kills it). Start it while this process runs
    one thread only."""

    def __init__(self, function: Any) -> None:
        parent = os.getpid()
        # What this process has buffered must not be written twice, by the child too.
        sys.stdout.flush()
        sys.stderr.flush()

        def child(write_fd: int) -> None:
            as_worker(parent)
            try:
                payload: tuple[str, Any] = ("value", function())
            except BaseException as error:
                payload = ("error", error)
            _send(write_fd, payload)
        pid, read_fd = _fork(child)
        self._pid: int | None = pid
        self._pipe = os.fdopen(read_fd, "rb")

    def result(self) -> Any:
        """What `function()` returned; what it raised is raised here."""
        if self._pid is None:
            raise ChildError("the background call was stopped")
        try:
            data = self._pipe.read()
            _, status = os.waitpid(self._pid, 0)
            self._pid = None
        finally:
            self.stop()
        try:
            kind, value = pickle.loads(data)
        except Exception:
            raise ChildError(f"the background call's process ended (wait status {status}) "
                             "with no result") from None
        if kind == "error":
            raise value
        return value

    def stop(self) -> None:
        """Kill the child if it still runs (the caller failed or was stopped)."""
        pid, self._pid = self._pid, None
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        self._pipe.close()
