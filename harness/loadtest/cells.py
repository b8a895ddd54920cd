"""Cells (library × suite × operation), the default profile, and preparing a cell to be timed.

Preparation happens outside any timed region: the keys are fetched once (adapters cache their
imports by the identity of the JWK dict), the library makes its own token, the round trip is
checked to return the exact payload, and the first call imports the key.
"""

from __future__ import annotations

import importlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import repeat
from typing import Any

from harness.adapters import load_adapter
from harness.adapters.base import Adapter, Mode, Operation
from harness.core.errors import HarnessError
from harness.core.keys import KeySet
from harness.core.suites import SUITES_BY_NAME, Suite
from scenarios.payloads import PAYLOAD

# The representative set the issue asks for: the common JWS algorithms and one suite per
# JWE key-management family.
DEFAULT_PROFILE: tuple[str, ...] = (
    "JWS HS256", "JWS RS256", "JWS PS256", "JWS ES256", "JWS EdDSA (Ed25519)",
    "JWE dir + A256GCM", "JWE A256KW + A256GCM", "JWE A256GCMKW + A256GCM",
    "JWE RSA-OAEP-256 + A256GCM", "JWE ECDH-ES+A256KW (P-256) + A256GCM",
    "JWE ECDH-ES+A256KW (X25519) + A256GCM", "JWE PBES2-HS256+A128KW + A128GCM",
)
FAMILY_OPERATIONS: dict[str, tuple[Operation, Operation]] = {
    "JWS": ("sign", "verify"), "JWE": ("encrypt", "decrypt"),
}


def profile_suites() -> list[Suite]:
    return [SUITES_BY_NAME[name] for name in DEFAULT_PROFILE]


@dataclass(frozen=True)
class Cell:
    library: str
    suite: Suite
    operation: Operation

    @property
    def tag(self) -> str:
        """The Locust tag and request name of the cell's task: `RSA-OAEP-256+A256GCM:decrypt`."""
        return task_tag(self.suite, self.operation)

    @property
    def id(self) -> str:
        return re.sub(r"[^A-Za-z0-9+.=-]", "_", f"{self.library}_{self.suite.tag}_{self.operation}")


def task_tag(suite: Suite, operation: str) -> str:
    return f"{suite.tag}:{operation}"


def cell_mode(adapter: Adapter, suite: Suite) -> Mode:
    """As a new user calls the library where it allows the suite by default; else enabled."""
    return "default" if adapter.allows_by_default(suite) else "enabled"


@dataclass
class Prepared:
    """A cell ready to time: `call(arg)` is one operation; `token` is the library's own token."""

    call: Callable[[Any], Any]
    arg: Any
    mode: Mode
    token: str
    expected: Any


def prepare(adapter: Adapter, suite: Suite, operation: Operation, keys: KeySet) -> Prepared:
    """Raises `Unsupported` for a cell the adapter declares it cannot do."""
    mode = cell_mode(adapter, suite)
    private, public = keys.private(suite.key), keys.public(suite.key)
    produce_op, consume_op = FAMILY_OPERATIONS[suite.family]
    # A signature is made with the private key, a JWE with the public one; and back.
    produce_key, consume_key = (private, public) if suite.family == "JWS" else (public, private)
    produce = adapter.prepared(produce_op, suite, produce_key, mode=mode)
    consume = adapter.prepared(consume_op, suite, consume_key, mode=mode)
    token = produce(PAYLOAD)
    if consume(token) != PAYLOAD:
        raise HarnessError(f"{adapter.name} {suite.name}: its own round trip does not return "
                           f"the payload; nothing to measure")
    if operation == produce_op:
        prepared = Prepared(produce, PAYLOAD, mode, token, None)
    else:
        prepared = Prepared(consume, token, mode, token, PAYLOAD)
    prepared.call(prepared.arg)
    return prepared


def seconds_per_call(call: Callable[[Any], Any], arg: Any, budget_s: float = 0.02) -> float:
    """A warm-up that also estimates one call's duration."""
    calls, start = 0, time.perf_counter()
    while True:
        call(arg)
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= budget_s or calls >= 2000:
            return elapsed / calls


def timed_loop(call: Callable[[Any], Any], arg: Any, seconds: float,
               per_call: float | None = None) -> tuple[int, float, float]:
    """The plain in-process loop: (operations, wall seconds, CPU seconds), the clock read
    every ~2 ms. `per_call` is a known duration of one call; without it a warm-up measures it."""
    per_call = seconds_per_call(call, arg) if per_call is None else per_call
    chunk = max(1, int(0.002 / max(per_call, 1e-9)))
    ops = 0
    cpu = time.process_time()
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in repeat(None, chunk):
            call(arg)
        ops += chunk
        now = time.perf_counter()
        if now >= deadline:
            return ops, now - start, time.process_time() - cpu


def load_adapter_spec(spec: str) -> Adapter:
    """A registry name (`joserfc`) or `module:Class` for an adapter outside the registry."""
    if ":" not in spec:
        return load_adapter(spec)
    module_name, _, class_name = spec.partition(":")
    try:
        adapter_class = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as error:
        raise HarnessError(f"cannot load adapter {spec!r}: {error}") from None
    adapter: Adapter = adapter_class()
    return adapter


def user_class_name(library: str) -> str:
    """The Locust User class of a library: `joserfc` -> `JoserfcUser`."""
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", library)) + "User"
