"""Declared cases: the `@case` decorator, the context a case runs in, and case discovery.

A case is a function in a module under `scenarios/`. Its id comes from where it lives
(`scenarios/jwe/roundtrip.py::compact` is `jwe.roundtrip.compact`), its docstring is its
description, and the decorator declares the requirement it checks and what a correct consumer
must do. The function makes a token with `ctx.producer` (or, for `producer="forge"` cases,
builds it with the harness's own forging toolkit) and hands it to `ctx.consumer`; it returns
`(sent, received)`, the payload produced and the payload the consumer gave back.

A case may run for several consumer configurations (the key as JWK, PEM or JWKS; a narrow or
broad allow-list), since several historic vulnerabilities appear in one configuration only,
and hostile cases run isolated in a child process with a time and memory limit.
"""

from __future__ import annotations

import fnmatch
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from harness.adapters.base import MODES, Adapter, KeyData, Mode, Serialization
from harness.core.errors import HarnessError, ProducerFailed, Rejected
from harness.core.keyforms import KeyForm, private_form, public_form
from harness.core.keys import KeySet
from harness.core.severity import SEVERITIES, Severity
from harness.core.suites import KeySpec, Suite

Expected = Literal["accept", "reject"]
SuiteChoice = tuple[Suite, ...]
SCENARIO_PACKAGE = "scenarios"


class Producer:
    """The producing adapter, as a case sees it: a library failure becomes `ProducerFailed`."""

    def __init__(self, adapter: Adapter, mode: Mode) -> None:
        self.adapter, self.mode, self.name = adapter, mode, adapter.name

    def sign(self, suite: Suite, payload: bytes, key: dict[str, Any],
             header: dict[str, Any] | None = None,
             serialization: Serialization = "compact") -> str:
        try:
            return self.adapter.sign(suite, payload, key, mode=self.mode, header=header,
                                     serialization=serialization)
        except Rejected as error:
            raise ProducerFailed(f"{self.name} could not sign: {error}") from error

    def encrypt(self, suite: Suite, plaintext: bytes, key: dict[str, Any],
                header: dict[str, Any] | None = None,
                serialization: Serialization = "compact") -> str:
        try:
            return self.adapter.encrypt(suite, plaintext, key, mode=self.mode, header=header,
                                        serialization=serialization)
        except Rejected as error:
            raise ProducerFailed(f"{self.name} could not encrypt: {error}") from error


@dataclass(frozen=True)
class ConsumerConfig:
    """How an application configures the consumer: the form it holds the key in, and its
    allow-list (None: as the mode says; a tuple: exactly these algorithm names)."""

    name: str
    key_form: KeyForm = "jwk"
    algorithms: tuple[str, ...] | None = None


DEFAULT_CONFIG = ConsumerConfig("default")


class Consumer:
    """The consuming adapter, as a case sees it: a refusal surfaces as `Rejected`."""

    def __init__(self, adapter: Adapter, mode: Mode,
                 config: ConsumerConfig = DEFAULT_CONFIG) -> None:
        self.adapter, self.mode, self.name, self.config = adapter, mode, adapter.name, config

    def verify(self, suite: Suite, token: str, key: KeyData,
               serialization: Serialization = "compact") -> bytes:
        return self.adapter.verify(suite, token, key, mode=self.mode,
                                   serialization=serialization,
                                   algorithms=self.config.algorithms)

    def decrypt(self, suite: Suite, token: str, key: KeyData,
                serialization: Serialization = "compact") -> bytes:
        return self.adapter.decrypt(suite, token, key, mode=self.mode,
                                    serialization=serialization,
                                    algorithms=self.config.algorithms)


@dataclass
class Context:
    producer: Producer | None
    consumer: Consumer
    suites: SuiteChoice
    mode: Mode
    keys: KeySet
    config: ConsumerConfig = DEFAULT_CONFIG

    @property
    def suite(self) -> Suite:
        return self.suites[0]

    def verification_key(self, spec: KeySpec, role: str = "current") -> KeyData:
        """The public key in the form the consumer configuration holds it."""
        if self.config.key_form == "jwks":
            return self.keys.jwks(spec, private=False)
        return public_form(self.keys.private(spec, role), self.config.key_form)

    def decryption_key(self, spec: KeySpec, role: str = "current") -> KeyData:
        """The private key in the form the consumer configuration holds it."""
        if self.config.key_form == "jwks":
            return self.keys.jwks(spec, private=True)
        return private_form(self.keys.private(spec, role), self.config.key_form)


SuiteSelector = Callable[[Sequence[Suite]], list[SuiteChoice]]


def family_suites(family: str) -> SuiteSelector:
    def select(selected: Sequence[Suite]) -> list[SuiteChoice]:
        return [(suite,) for suite in selected if suite.family == family]
    return select


def named_suites(*names: str) -> SuiteSelector:
    """A fixed set of suites (a representative choice), kept where the selection has them."""
    def select(selected: Sequence[Suite]) -> list[SuiteChoice]:
        return [(suite,) for suite in selected if suite.name in names]
    return select


@dataclass(frozen=True)
class Isolation:
    timeout_s: float
    memory_mb: int


@dataclass(frozen=True)
class Case:
    id: str
    scenario: str
    description: str
    requirement: str
    expected: Expected
    run: Callable[[Context], tuple[bytes, bytes]] = field(compare=False)
    suites: SuiteSelector = field(compare=False)
    forged: bool = False
    configs: tuple[ConsumerConfig, ...] = (DEFAULT_CONFIG,)
    modes: tuple[Mode, ...] = MODES
    isolation: Isolation | None = None
    attack_class: str | None = None
    policy: bool = False
    # What accepting the token costs (reject cases), and the RFC reasoning for that choice.
    severity: Severity | None = None
    why: str = ""

    @property
    def name(self) -> str:
        return self.id.rsplit(".", 1)[-1]


def case(*, requirement: str, expected: Expected = "accept", family: str | None = None,
         suites: SuiteSelector | None = None, producer: Literal["library", "forge"] = "library",
         configs: Sequence[ConsumerConfig] = (DEFAULT_CONFIG,), modes: Sequence[Mode] = MODES,
         isolated: bool = False, timeout_s: float = 10.0, memory_mb: int = 1024,
         attack_class: str | None = None, policy: bool = False,
         severity: Severity | None = None, why: str = "",
         ) -> Callable[[Callable[[Context], Any]], Callable[[Context], Any]]:
    """Declare a case.

    `family` runs it once per selected suite of that family; `suites` chooses the suite tuples
    itself (a nested token names a JWS and a JWE suite). `producer="forge"`: the harness builds
    the token, so the case runs once per consumer, not per library pair. `configs`: the
    consumer configurations it runs under. `isolated`: run in a child process with a wall-clock
    timeout and an address-space limit. `policy`: the RFC leaves the choice, so the outcome is
    reported and never judged. `severity`: what accepting the token costs the application
    (`harness.core.severity`: forgery, bypass, dos, malleability, leniency), with `why`, the
    RFC reasoning, when the description does not already give it.
    """
    if (family is None) == (suites is None):
        raise TypeError("declare exactly one of family= or suites=")
    if severity is not None and severity not in SEVERITIES:
        raise TypeError(f"severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    selector = suites or family_suites(family or "")

    def mark(function: Callable[[Context], Any]) -> Callable[[Context], Any]:
        function.__case__ = {  # type: ignore[attr-defined]
            "requirement": requirement, "expected": expected, "suites": selector,
            "forged": producer == "forge", "configs": tuple(configs), "modes": tuple(modes),
            "isolation": Isolation(timeout_s, memory_mb) if isolated else None,
            "attack_class": attack_class, "policy": policy,
            # Only a token that must be refused has a cost when it is accepted.
            "severity": severity if expected == "reject" else None, "why": why}
        return function
    return mark


def _cases_in(module: Any, scenario: str) -> list[Case]:
    found = []
    for name, function in inspect.getmembers(module, inspect.isfunction):
        declared = getattr(function, "__case__", None)
        if declared is None or function.__module__ != module.__name__:
            continue
        found.append(Case(
            id=f"{scenario}.{name}", scenario=scenario,
            description=inspect.cleandoc(function.__doc__ or "").split("\n\n")[0],
            run=function, **declared))
    # Declaration order, so the run follows the module as it reads.
    found.sort(key=lambda c: inspect.getsourcelines(c.run)[1])
    return found


def discover(package: str = SCENARIO_PACKAGE) -> list[Case]:
    root = importlib.import_module(package)
    cases: list[Case] = []
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        if info.ispkg:
            continue
        module = importlib.import_module(info.name)
        cases += _cases_in(module, info.name.removeprefix(f"{package}."))
    return cases


def select_cases(cases: list[Case], patterns: list[str] | None) -> list[Case]:
    """Cases whose scenario or case id matches a glob or a dotted prefix; all when none given."""
    if not patterns:
        return cases
    chosen, unmatched = [], []
    for pattern in patterns:
        hits = [c for c in cases if any(
            fnmatch.fnmatchcase(name, pattern) or name.startswith(pattern + ".")
            for name in (c.scenario, c.id))]
        if not hits:
            unmatched.append(pattern)
        chosen += [c for c in hits if c not in chosen]
    if unmatched:
        known = sorted({c.scenario for c in cases})
        raise HarnessError(f"unknown scenario {', '.join(map(repr, unmatched))}; "
                           f"known: {', '.join(known)}")
    return [c for c in cases if c in chosen]
