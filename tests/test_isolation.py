"""Isolation turns hangs, memory blow-ups and crashes into results, never a dead harness."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
import weakref

from harness.core.errors import Rejected
from harness.interop.isolation import Background, run_isolated


def test_a_value_comes_back_with_measurements() -> None:
    result = run_isolated(lambda: (b"sent", b"sent"), timeout_s=5)
    assert result.value == (b"sent", b"sent")
    assert result.wall_ms > 0 and result.peak_rss_kb > 0


def test_a_library_exception_comes_back_as_itself() -> None:
    def refuse() -> None:
        raise Rejected("InvalidToken: nope")
    result = run_isolated(refuse, timeout_s=5)
    assert isinstance(result.error, Rejected) and str(result.error) == "InvalidToken: nope"


def test_a_hang_is_killed_at_the_timeout() -> None:
    started = time.monotonic()
    result = run_isolated(lambda: time.sleep(60), timeout_s=0.5)
    assert result.timed_out and time.monotonic() - started < 5


def test_memory_exhaustion_hits_the_cap() -> None:
    result = run_isolated(lambda: bytearray(2 * 1024**3), timeout_s=10, memory_mb=256)
    assert result.out_of_memory
    assert result.peak_rss_kb < 256 * 1024


def test_a_crashing_child_is_reported() -> None:
    result = run_isolated(lambda: os.kill(os.getpid(), signal.SIGSEGV), timeout_s=5)
    assert result.died == "child killed by signal SIGSEGV"


def test_an_unpicklable_exception_comes_back_as_text() -> None:
    class Local(Exception):
        pass

    def fail() -> None:
        raise Local("local class")
    result = run_isolated(fail, timeout_s=5)
    assert "local class" in str(result.error)


def _child_collection() -> tuple[int, bool]:
    """In the child: how many inherited objects the collector skips, and whether a cycle made
    in the child is still collected."""
    class Node:
        pass
    made = Node()
    made.self = made  # type: ignore[attr-defined]
    alive = weakref.ref(made)
    del made
    gc.collect()
    return gc.get_freeze_count(), alive() is None


def test_the_child_collects_only_its_own_garbage() -> None:
    # A full collection over the parent's heap copies every shared page and was charged to the
    # measured call; the parent's objects are frozen in the child, the parent's own collector
    # is left as it was.
    inherited = [[index] for index in range(10_000)]
    frozen_before = gc.get_freeze_count()
    result = run_isolated(_child_collection)
    frozen_in_child, cycle_collected = result.value
    assert frozen_in_child >= len(inherited)
    assert cycle_collected
    assert gc.get_freeze_count() == frozen_before


def test_the_processes_that_run_cells_carry_no_pandas_or_matplotlib() -> None:
    """Every hostile case forks a child of a worker, which the harness forked after planning:
    all three copy the page tables of what the harness holds then (with pandas and matplotlib,
    130 MB instead of 48, and a fork and exit took twice as long). What the CLI, the planning,
    the libraries and the scenarios import must not pull them in."""
    code = ("import sys\n"
            "import harness.cli\n"
            "from harness.adapters.peer_registry import installed_libraries\n"
            "from harness.core.keys import load_key_set\n"
            "from harness.interop.runner import plan\n"
            "from harness.interop.scenario import discover\n"
            "from harness.core.suites import ALL_SUITES\n"
            "adapters, _ = installed_libraries([], [])\n"
            "plan(discover(), ALL_SUITES, ['default', 'enabled'])\n"
            "load_key_set()\n"
            "print(sorted(m for m in ('pandas', 'numpy', 'matplotlib') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout


def test_a_background_call_runs_while_the_caller_works(tmp_path) -> None:
    """The child waits for a file only the caller writes after starting it: the two run at
    once (the key-generation sheet is made so while the rows are read)."""
    gate, answer = tmp_path / "gate", tmp_path / "answer"

    def work() -> str:
        deadline = time.monotonic() + 20
        while not gate.exists():
            assert time.monotonic() < deadline, "the caller never opened the gate"
            time.sleep(0.01)
        answer.write_text("done")
        return f"made in {os.getpid()}"

    call = Background(work)
    gate.write_text("open")
    made = call.result()
    assert made.startswith("made in ") and made != f"made in {os.getpid()}"
    assert answer.read_text() == "done"


def test_a_background_error_is_raised_in_the_caller() -> None:
    def refuse() -> None:
        raise Rejected("no keys today")
    call = Background(refuse)
    try:
        call.result()
    except Rejected as error:
        assert str(error) == "no keys today"
    else:
        raise AssertionError("the child's exception was not raised")


def test_a_stopped_background_call_leaves_no_process() -> None:
    call = Background(lambda: time.sleep(60))
    pid = call._pid
    assert pid is not None
    call.stop()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pass
    else:
        raise AssertionError(f"the background child {pid} still runs")
    call.stop()  # a second stop is harmless
