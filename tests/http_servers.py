"""Resource servers with a known behaviour, run by the HTTP load-test tests through the same
CLI as the library servers (`harness.loadtest.resource_server`); `HARNESS_TEST_SERVER` picks
each profile's behaviour: `sleep:<seconds>` per request, `accept-all`, or `dies:<seconds>` (the
library's own validation, until that long after its first request, then the process exits)."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

from harness.loadtest import resource_server

BEHAVIOUR_ENV = "HARNESS_TEST_SERVER"


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """`values` in the environment the servers inherit, restored after: for module-scoped
    fixtures, which cannot use `monkeypatch`."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None) if value is None else os.environ.update({name: value})


def behaviour_of(profile: str) -> str:
    """`none=sleep:0.01;HS256=accept-all`: each profile's behaviour; unnamed ones are real."""
    for part in os.environ.get(BEHAVIOUR_ENV, "").split(";"):
        name, _, behaviour = part.partition("=")
        if name == profile:
            return behaviour
    return ""


def build(library: str, profile: str) -> resource_server.Validate | None:
    behaviour = behaviour_of(profile)
    if behaviour.startswith("sleep:"):
        pause = float(behaviour.split(":")[1])

        def sleeps(token: str) -> None:
            time.sleep(pause)  # blocks the one worker, as CPU-bound validation does
        return sleeps
    if behaviour == "accept-all":
        return lambda token: None
    real = resource_server.library_validator(library, profile)
    if behaviour.startswith("dies:"):
        after_s = float(behaviour.split(":")[1])
        first: list[float] = []

        def dies(token: str) -> Any:
            # The clock starts at the first request after the start-up warm-up call.
            if len(first) < 2:
                first.append(time.monotonic())
            elif time.monotonic() - first[1] > after_s:
                os._exit(7)
            return real(token) if real else None
        return dies
    return real


if __name__ == "__main__":
    sys.exit(resource_server.main(build=build))
