"""Fake adapters that misbehave only under load, to test the load test's rejections."""

from __future__ import annotations

import os
import sys
import time

from harness.core.errors import Rejected
from harness.core.keys import JWK
from harness.core.suites import Suite
from tests.fakes import FakeAdapter

# Set only in the Locust processes the harness starts.
UNDER_LOCUST = "HARNESS_LOADTEST_OUT"


class FailsUnderLoad(FakeAdapter):
    """Verifies its own tokens everywhere, until it has verified 5000 in Locust's batches."""

    name = "fails-under-load"

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def _verify(self, suite: Suite, token: str, key: JWK, mode, serialization) -> bytes:
        if _called_from("run_batch"):
            self.calls += 1
            if self.calls > 5000:
                raise Rejected("FailsUnderLoad: refused after 5000 calls")
        return super()._verify(suite, token, key, mode, serialization)


class SlowToStart(FakeAdapter):
    """Takes longer to make its first token in Locust than a plain Locust run lasts."""

    name = "slow-to-start"

    def _sign(self, suite: Suite, payload: bytes, key: JWK, header, mode, serialization) -> str:
        if os.environ.get(UNDER_LOCUST):
            time.sleep(5)
        return super()._sign(suite, payload, key, header, mode, serialization)


class CannotStartUnderLoad(FakeAdapter):
    """Cannot make its first token in Locust, so its cell never records a request."""

    name = "cannot-start"

    def _sign(self, suite: Suite, payload: bytes, key: JWK, header, mode, serialization) -> str:
        if os.environ.get(UNDER_LOCUST):
            raise ValueError("CannotStartUnderLoad: no token under Locust")
        return super()._sign(suite, payload, key, header, mode, serialization)


class KillsUnderLoad(FakeAdapter):
    """Signs as it should, but its verify kills the Locust process after 5000 calls."""

    name = "kills-under-load"

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def _verify(self, suite: Suite, token: str, key: JWK, mode, serialization) -> bytes:
        self.calls += 1
        if self.calls > 5000 and os.environ.get(UNDER_LOCUST):
            os._exit(17)
        return super()._verify(suite, token, key, mode, serialization)


class SlowInLocustBatches(FakeAdapter):
    """Signs 50 µs slower inside Locust's batches than in the plain loop beside them: what a
    noisy Locust window looks like."""

    name = "slow-in-batches"

    def _sign(self, suite: Suite, payload: bytes, key: JWK, header, mode, serialization) -> str:
        if _called_from("run_batch"):
            deadline = time.perf_counter() + 50e-6
            while time.perf_counter() < deadline:
                pass
        return super()._sign(suite, payload, key, header, mode, serialization)


def _called_from(function: str, depth: int = 10) -> bool:
    frame = sys._getframe(1)
    for _ in range(depth):
        if frame is None:
            return False
        if frame.f_code.co_name == function:
            return True
        frame = frame.f_back
    return False
