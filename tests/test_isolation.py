"""Isolation turns hangs, memory blow-ups and crashes into results, never a dead harness."""

from __future__ import annotations

import os
import signal
import time

from harness.core.errors import Rejected
from harness.interop.isolation import run_isolated


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
