"""One shutdown discipline for every command and every child it starts.

SIGINT, SIGTERM and SIGHUP all stop a command the same way: the signal surfaces as `Stopped`
(a `KeyboardInterrupt`, so every `finally` and `except KeyboardInterrupt` that already handles
Ctrl-C handles the others too), the command stops its children, writes what finished, marks
its run `interrupted` with the signal's name, and exits 128 + the signal's number. Children
the harness forks or starts call `die_with_parent`, so a harness killed with SIGKILL, which
no handler sees, leaves nothing running.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import multiprocessing
import multiprocessing.util
import os
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PR_SET_PDEATHSIG = 1


class Stopped(KeyboardInterrupt):
    """A stop signal arrived; `signum` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    def __reduce__(self) -> tuple[type[Stopped], tuple[int]]:
        # Sent back from a worker it must unpickle as itself (the name is not a signal number).
        return (Stopped, (self.signum,))


def signal_of(stop: BaseException) -> int:
    """The signal behind an interruption: a plain KeyboardInterrupt is Python's own SIGINT."""
    return stop.signum if isinstance(stop, Stopped) else signal.SIGINT


def exit_code(stop: BaseException) -> int:
    return 128 + signal_of(stop)


def signal_name(stop: BaseException) -> str:
    return signal.Signals(signal_of(stop)).name


# The stop signal received, kept as well as raised: Python swallows an exception raised where
# it cannot propagate (an at-fork hook, a __del__), so long loops also call `raise_if_stopped`.
_pending: list[int] = []
# Non-empty inside `signals_held`.
_held: list[bool] = []


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """While inside, each stop signal raises `Stopped` in the main thread."""
    def raise_stopped(signum: int, frame: FrameType | None) -> None:
        _pending.append(signum)
        if not _held:
            raise Stopped(signum)

    _pending.clear()
    previous = {signum: signal.signal(signum, raise_stopped) for signum in STOP_SIGNALS}
    try:
        yield
        raise_if_stopped()
    finally:
        _pending.clear()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """A stop signal that arrives inside is kept, not raised, until the block ends (then it
    is): for setting up state that a `Stopped` raised half-way through would leave broken,
    such as a process pool whose workers are forked but not yet recorded, which its shutdown
    then waits for forever. (Blocking the signal would not do: the kernel hands it to any
    thread that does not block it, and Python runs the handler in the main thread anyway.)"""
    _held.append(True)
    try:
        yield
    finally:
        _held.pop()
    raise_if_stopped()


def raise_if_stopped() -> None:
    """Raise `Stopped` again if a stop signal arrived, even one whose exception was lost."""
    if _pending:
        raise Stopped(_pending[0])


def die_with_parent(parent_pid: int | None = None) -> None:
    """In a child: be killed when the process that started it dies (Linux PR_SET_PDEATHSIG).

    `parent_pid` closes the race where the parent died before the call: then the child exits
    at once instead of running on, orphaned.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)


def as_worker(parent_pid: int) -> None:
    """A forked worker's start: it dies with the harness and leaves stop signals to it (the
    harness kills its workers when it stops; SIGINT from a terminal stays Ctrl-C)."""
    die_with_parent(parent_pid)
    _held.clear()  # forked inside `signals_held`
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def at_exit(callback: Callable[[], None]) -> None:
    """Run `callback` when this process ends normally: through `atexit` in the harness's own
    process, and through multiprocessing's finalizers in a forked worker, which leaves by
    `os._exit` and so skips `atexit` (a worker's finalizers run just before that)."""
    atexit.register(callback)
    multiprocessing.util.Finalize(None, callback, exitpriority=10)


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of forked workers that die with the harness and leave stop signals to it. Make
    it and submit its first job inside `signals_held`: the first submit forks every worker."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=as_worker, initargs=(os.getpid(),))


def kill_pool(pool: ProcessPoolExecutor) -> None:
    """On a stop or an error: kill the pool's workers rather than let them finish what they
    hold (a stop signal reaches the harness alone: `kill`, a CI time-out), then shut it down."""
    # The executor has no public way to reach its processes.
    for process in list(pool._processes.values()):  # type: ignore[attr-defined]
        with contextlib.suppress(ProcessLookupError):
            process.kill()
    # A worker killed while writing its result leaves half a message in the result pipe, and
    # the executor's manager thread then waits in recv() for the rest forever (the parent holds
    # the pipe's write end), so shutdown() and interpreter exit hang with it. Closing that end
    # lets recv() see EOF: the manager calls the pool broken and ends.
    with contextlib.suppress(Exception):
        pool._result_queue._writer.close()  # type: ignore[attr-defined]
    pool.shutdown(wait=True, cancel_futures=True)
