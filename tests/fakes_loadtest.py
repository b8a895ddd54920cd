"""Fake adapters that misbehave only under load, to test the load test's rejections."""

from __future__ import annotations

import os
import time

from harness.errors import Rejected
from harness.keys import JWK
from harness.suites import Suite
from tests.fakes import FakeAdapter

# Set only in the Locust process the harness starts for a cell.
UNDER_LOCUST = "HARNESS_LOADTEST_OUT"


class FailsUnderLoad(FakeAdapter):
    """Verifies its own tokens in `on_start`, then, under Locust, refuses them after 5000 calls."""

    name = "fails-under-load"

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def _verify(self, suite: Suite, token: str, key: JWK, mode, serialization) -> bytes:
        self.calls += 1
        if self.calls > 5000 and os.environ.get(UNDER_LOCUST):
            raise Rejected("FailsUnderLoad: refused after 5000 calls")
        return super()._verify(suite, token, key, mode, serialization)


class SlowToStart(FakeAdapter):
    """Takes longer to make its first token in Locust than the whole run lasts."""

    name = "slow-to-start"

    def _sign(self, suite: Suite, payload: bytes, key: JWK, header, mode, serialization) -> str:
        if os.environ.get(UNDER_LOCUST):
            time.sleep(5)
        return super()._sign(suite, payload, key, header, mode, serialization)


class KillsLoopProcess(FakeAdapter):
    """Kills the process it runs in, outside Locust: the in-process loop's pool breaks."""

    name = "kills-loop-process"

    def _verify(self, suite: Suite, token: str, key: JWK, mode, serialization) -> bytes:
        if not os.environ.get(UNDER_LOCUST):
            os._exit(17)
        return super()._verify(suite, token, key, mode, serialization)
