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

import contextlib
import fnmatch
import importlib
import inspect
import json
import pkgutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from harness.adapters.base import MODES, Adapter, EntryPoint, KeyData, Mode, Serialization
from harness.core.cost import Measured, Meter
from harness.core.errors import HarnessError, ProducerFailed, Rejected, Unsupported
from harness.core.keyforms import KeyForm, hand_over, private_form, public_form
from harness.core.keys import KeySet
from harness.core.severity import SEVERITIES, Severity
from harness.core.suites import KeySpec, Suite
from harness.interop.layout import jwe_layout, jws_layout

Expected = Literal["accept", "reject"]
SuiteChoice = tuple[Suite, ...]
SCENARIO_PACKAGE = "scenarios"
ATTACK_ENTRY_POINTS: tuple[EntryPoint, ...] = ("jws", "jwt")
# For cases whose header fields steer key resolution (`kid`, `jwk`, `jku`, `x5u`): the library's
# key-resolving form too, where it documents one.
RESOLVING_ENTRY_POINTS: tuple[EntryPoint, ...] = ("jws", "jwt", "resolver")


@dataclass(frozen=True)
class Produced:
    """One token the producing library made, with the key the case gave it (the signer's private
    key, or the recipient's public key), so the reference can judge it after the cell."""

    family: Literal["JWS", "JWE"]
    token: str
    key: dict[str, Any]
    # Set when the harness itself found the token wrong before any consumer saw it (a general
    # JSON token not laid out as the case asked): the row's `conformance`, charging the producer.
    verdict: str | None = None
    # The recipient's private key when it is not in the key set (a key a library generated).
    private: dict[str, Any] | None = None


# A unit's tokens by producer: the n-th call a cell makes with the same arguments gets the
# token the unit's first cell got from it (see `Producer`).
ProducerMemo = dict[tuple[Any, ...], str | Unsupported]
# The note on an exception the producing library's call raised (see `Producer._producing`).
PRODUCER_FAILED = "raised by the producer's call"


def _memo_key(operation: str, *parts: Any) -> tuple[Any, ...]:
    return (operation, *(json.dumps(part, sort_keys=True, default=repr)
                         if isinstance(part, dict | list | tuple) else part for part in parts))


class Producer:
    """The producing adapter, as a case sees it: a library failure becomes `ProducerFailed`.
    Every token it makes is kept in `produced`, in order.

    With a `memo` (the runner gives one per unit and producer), every consumer of a unit gets
    the token the unit's first cell was given: a library makes it once, not once per consumer
    (a peer's encryption costs milliseconds, and most pairs' consumers declare the suite
    unsupported after it was made). Calls are matched by their arguments and their place in
    the cell, so a case that makes two tokens with the same arguments still gets two. A
    declared `Unsupported` is kept too; a failure or a peer's death is not, so it costs only
    the cell it happened in."""

    def __init__(self, adapter: Adapter, mode: Mode, memo: ProducerMemo | None = None) -> None:
        self.adapter, self.mode, self.name = adapter, mode, adapter.name
        self.produced: list[Produced] = []
        self._memo, self._calls = memo, 0

    @contextlib.contextmanager
    def _producing(self, verb: str) -> Iterator[None]:
        """The producing library's call: its refusal is `ProducerFailed`; any other failure (a
        peer's death or hang, an undocumented exception) keeps its type and outcome, noted as
        the producer's (`PRODUCER_FAILED`), so that the cell is charged to the producer rather
        than to the consumer that happened to ask first."""
        try:
            yield
        except Rejected as error:
            raise ProducerFailed(f"{self.name} could not {verb}: {error}") from error
        except Unsupported:
            raise
        except Exception as error:
            error.add_note(PRODUCER_FAILED)
            raise

    def _once(self, parts: tuple[Any, ...], make: Callable[[], str]) -> str:
        """`make()`'s token, or the one the unit's first cell got for the same `parts` (the
        operation and its arguments) at the same place in the cell."""
        if self._memo is None:
            return make()
        self._calls += 1
        slot = (self._calls, *_memo_key(*parts))
        known = self._memo.get(slot)
        if isinstance(known, Unsupported):
            raise known
        if known is not None:
            return known
        try:
            token = make()
        except Unsupported as declared:
            self._memo[slot] = declared
            raise
        self._memo[slot] = token
        return token

    def sign(self, suite: Suite, payload: bytes, key: dict[str, Any],
             header: dict[str, Any] | None = None,
             serialization: Serialization = "compact") -> str:
        with self._producing("sign"):
            token = self._once(
                ("sign", suite.name, payload, key, header, serialization),
                lambda: self.adapter.sign(suite, payload, key, mode=self.mode, header=header,
                                          serialization=serialization))
        self.produced.append(Produced("JWS", token, key))
        return token

    def encrypt(self, suite: Suite, plaintext: bytes, key: dict[str, Any],
                header: dict[str, Any] | None = None,
                serialization: Serialization = "compact") -> str:
        with self._producing("encrypt"):
            token = self._once(
                ("encrypt", suite.name, plaintext, key, header, serialization),
                lambda: self.adapter.encrypt(suite, plaintext, key, mode=self.mode,
                                             header=header, serialization=serialization))
        self.produced.append(Produced("JWE", token, key))
        return token

    def sign_multi(self, signers: Sequence[tuple[Suite, dict[str, Any], dict[str, Any]]],
                   payload: bytes) -> str:
        """A general JSON JWS with one signature per (suite, private key, protected header
        members besides `alg`); `ProducerFailed` when the token is not laid out as asked."""
        with self._producing("sign"):
            token = self.adapter.sign_multi(signers, payload, mode=self.mode)
        return self._laid_out("JWS", token, [key for _, key, _ in signers],
                              jws_layout(token, signers))

    def encrypt_multi(self, recipients: Sequence[tuple[Suite, dict[str, Any], dict[str, Any]]],
                      plaintext: bytes) -> str:
        """A general JSON JWE to every (suite, public key, per-recipient header members besides
        `alg`); `ProducerFailed` when the token is not laid out as asked."""
        with self._producing("encrypt"):
            token = self.adapter.encrypt_multi(recipients, plaintext, mode=self.mode)
        return self._laid_out("JWE", token, [key for _, key, _ in recipients],
                              jwe_layout(token, recipients))

    def _laid_out(self, family: Literal["JWS", "JWE"], token: str, keys: list[dict[str, Any]],
                  broken: str | None) -> str:
        # One judged token per key, so the reference reads it as each signer's or recipient's.
        self.produced += [Produced(family, token, key, broken) for key in keys]
        if broken:
            raise ProducerFailed(f"{self.name} wrote a token other than the one asked: {broken}")
        return token


@dataclass(frozen=True)
class ConsumerConfig:
    """How an application configures the consumer: the form it holds the key in, its
    allow-list (None: as the mode says; a tuple: exactly these algorithm names), the entry point
    it calls (`jws`: the JWS/JWE call; `jwt`: the JWT API; `resolver`: its key-resolving form,
    with a JWKS) and whether it hands the key text over
    untouched (`raw_key`) instead of through the adapter's import for that form."""

    name: str
    key_form: KeyForm = "jwk"
    algorithms: tuple[str, ...] | None = None
    entry_point: EntryPoint = "jws"
    raw_key: bool = False


DEFAULT_CONFIG = ConsumerConfig("default")


class Consumer:
    """The consuming adapter, as a case sees it: a refusal surfaces as `Rejected`."""

    def __init__(self, adapter: Adapter, mode: Mode,
                 config: ConsumerConfig = DEFAULT_CONFIG) -> None:
        self.adapter, self.mode, self.name, self.config = adapter, mode, adapter.name, config
        # What the last consuming call cost and how big its token was (for the cost verdict);
        # memory is tracked only where the runner asks (isolated cases), as it costs a syscall.
        self.measured: Measured | None = None
        self.track_memory = False

    def verify(self, suite: Suite, token: str, key: KeyData,
               serialization: Serialization = "compact",
               enabled: Sequence[str] | None = None) -> bytes:
        """`enabled`: the allow-list of `enabled` mode when it is not the suite's names alone
        (a token signed or encrypted with several algorithms allows them all)."""
        return self._measured(token, lambda: self.adapter.verify(
            suite, token, key, mode=self.mode, serialization=serialization,
            algorithms=self._algorithms(enabled), entry_point=self.config.entry_point))

    def decrypt(self, suite: Suite, token: str, key: KeyData,
                serialization: Serialization = "compact",
                enabled: Sequence[str] | None = None) -> bytes:
        return self._measured(token, lambda: self.adapter.decrypt(
            suite, token, key, mode=self.mode, serialization=serialization,
            algorithms=self._algorithms(enabled), entry_point=self.config.entry_point))

    def _algorithms(self, enabled: Sequence[str] | None) -> Sequence[str] | None:
        if self.config.algorithms is not None or self.mode != "enabled" or enabled is None:
            return self.config.algorithms
        return list(enabled)

    def _measured(self, token: str, call: Callable[[], bytes]) -> bytes:
        meter = Meter(len(token.encode("utf-8", "surrogatepass")), self.track_memory)
        # A peer does the work in its own process: its CPU is the one to judge (isolated cases).
        peer_cpu = getattr(self.adapter, "cpu_seconds", None) if self.track_memory else None
        before = peer_cpu() if peer_cpu else None
        meter.start()
        try:
            return call()
        finally:
            self.measured = meter.stop()
            after = peer_cpu() if peer_cpu else None
            if before and after and before[0] == after[0]:
                self.measured = replace(self.measured, cpu_ms=(after[1] - before[1]) * 1000)


@dataclass
class Context:
    producer: Producer | None
    consumer: Consumer
    suites: SuiteChoice
    mode: Mode
    keys: KeySet
    config: ConsumerConfig = DEFAULT_CONFIG
    # What the case notes about its cell for the row (e.g. `genuine_verifies`).
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def suite(self) -> Suite:
        return self.suites[0]

    # Both hand out one object per key, form and process: an adapter imports a key once per
    # object it was given, as an application that holds its key does. A fresh copy per cell
    # had re-imported every RSA private key (a key check of 4-60 ms) in every cell, inside the
    # measured call of a hostile token's refusal.
    def verification_key(self, spec: KeySpec, role: str = "current") -> KeyData:
        """The public key in the form the consumer configuration holds it (handed over
        untouched when the configuration says so)."""
        form = self.config.key_form
        if form == "jwks":
            return self.keys.jwks(spec, private=False)
        key = self.keys.derived(("verification", spec.id, role, form),
                                lambda: self._public_form(spec, role, form))
        if not self.config.raw_key:
            return key
        # A dict stays the same object handed over (it has no raw form), so it is imported once.
        return self.keys.derived(("verification-raw", spec.id, role, form),
                                 lambda: hand_over(key))

    def _public_form(self, spec: KeySpec, role: str, form: KeyForm) -> KeyData:
        if form == "jwks-json":
            return json.dumps(self.keys.jwks(spec, private=False))
        return public_form(self.keys.private(spec, role), form)

    def decryption_key(self, spec: KeySpec, role: str = "current") -> KeyData:
        """The private key in the form the consumer configuration holds it."""
        form = self.config.key_form
        if form == "jwks":
            return self.keys.jwks(spec, private=True)
        return self.keys.derived(("decryption", spec.id, role, form),
                                 lambda: private_form(self.keys.private(spec, role), form))


SuiteSelector = Callable[[Sequence[Suite]], list[SuiteChoice]]


def family_suites(family: str) -> SuiteSelector:
    def select(selected: Sequence[Suite]) -> list[SuiteChoice]:
        return [(suite,) for suite in selected if suite.family == family]
    return select


# The content encryptions a JWE case about something other than content encryption (key
# selection, the JSON serializations, compression) runs each key management with: A128GCM and
# A256CBC-HS512 (RFC 7518 §5.1: recommended and required), which differ in every size the key
# management and the serializations carry (a 16- against a 64-octet content key, so one against
# two Concat KDF rounds for ECDH-ES and a 24- against a 72-octet wrapped key; a 12- against a
# 16-octet IV; a 16- against a 32-octet tag). `jwe.roundtrip.compact` runs every `enc`.
KEY_MANAGEMENT_ENCS = ("A128GCM", "A256CBC-HS512")


def key_management_suites() -> SuiteSelector:
    """Every selected key management (`alg` and the key it takes) once per content encryption
    of `KEY_MANAGEMENT_ENCS`, or with the first selected `enc` when the selection has neither."""
    def select(selected: Sequence[Suite]) -> list[SuiteChoice]:
        by_key: dict[tuple[str, KeySpec], list[Suite]] = {}
        for suite in selected:
            if suite.family == "JWE":
                by_key.setdefault((suite.alg, suite.key), []).append(suite)
        kept = {suite for group in by_key.values()
                for suite in ([s for s in group if s.enc in KEY_MANAGEMENT_ENCS] or group[:1])}
        return [(suite,) for suite in selected if suite in kept]
    return select


def named_suites(*names: str) -> SuiteSelector:
    """A fixed set of suites (a representative choice), kept where the selection has them."""
    def select(selected: Sequence[Suite]) -> list[SuiteChoice]:
        return [(suite,) for suite in selected if suite.name in names]
    return select


def suite_group(*names: str) -> SuiteSelector:
    """One choice of several suites used together (the signers of one JWS, the recipients of one
    JWE), in this order, when the selection has every one of them."""
    def select(selected: Sequence[Suite]) -> list[SuiteChoice]:
        chosen = {suite.name: suite for suite in selected if suite.name in names}
        return [tuple(chosen[name] for name in names)] if len(chosen) == len(names) else []
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
    # The allow-list is not what the case tests (the cost of refusing a hostile token is): each
    # consumer runs it in one mode, its default configuration where that allows the suite, the
    # suite enabled where not (see `runner.plan`).
    one_mode: bool = False
    isolation: Isolation | None = None
    attack_class: str | None = None
    policy: bool = False
    # Who made the token of a case the libraries do not produce: `forge` (the harness) or
    # `vector` (a published test vector); the rows name it as the producer.
    token_from: str = "forge"
    # Why a published vector is listed as wrong against the RFC (vectors/defects.json): the case
    # still runs, as policy, and its rows say so.
    defect: str | None = None
    # The entry points each configuration runs through (see `ConsumerConfig.entry_point`).
    entry_points: tuple[EntryPoint, ...] = ("jws",)
    # What accepting the token costs (reject cases), and the RFC reasoning for that choice.
    severity: Severity | None = None
    why: str = ""
    # An isolated case's preparation, run in the worker before the child forks, so what it
    # caches (an attacker's RSA key takes 50-800 ms to make) is made once per worker and not
    # again in every cell's child, whose caches die with it.
    warm: Callable[[Context], object] | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        return self.id.rsplit(".", 1)[-1]


ProducerKind = Literal["library", "forge", "vector"]


def case(*, requirement: str, expected: Expected = "accept", family: str | None = None,
         suites: SuiteSelector | None = None, producer: ProducerKind = "library",
         configs: Sequence[ConsumerConfig] = (DEFAULT_CONFIG,), modes: Sequence[Mode] = MODES,
         one_mode: bool = False,
         isolated: bool = False, timeout_s: float = 10.0, memory_mb: int = 1024,
         attack_class: str | None = None, policy: bool = False,
         entry_points: Sequence[EntryPoint] | None = None,
         severity: Severity | None = None, why: str = "",
         warm: Callable[[Context], object] | None = None,
         ) -> Callable[[Callable[[Context], Any]], Callable[[Context], Any]]:
    """Declare a case.

    `family` runs it once per selected suite of that family; `suites` chooses the suite tuples
    itself (a nested token names a JWS and a JWE suite). `producer="forge"`: the harness builds
    the token, so the case runs once per consumer, not per library pair; `producer="vector"`
    likewise, the token being a published test vector. `configs`: the
    consumer configurations it runs under. `one_mode`: the allow-list is not what the case
    tests, so each consumer runs it once, in its default configuration where that allows the
    suite and with the suite enabled where not. `isolated`: run in a child process with a wall-clock
    timeout and an address-space limit. `policy`: the RFC leaves the choice, so the outcome is
    reported and never judged. `entry_points`: the consumer entry points every configuration
    runs through; an attack case (one with an `attack_class`) runs through the JWS/JWE call and
    the JWT API unless it says otherwise, since fixes often land in one path and not the other.
    `severity`: what accepting the token costs the application (`harness.core.severity`:
    forgery, bypass, dos, malleability, leniency), with `why`, the RFC reasoning, when the
    description does not already give it. `warm`: for an isolated case, filled caches the
    child inherits (see `Case.warm`).
    """
    declared = _declaration(
        requirement=requirement, expected=expected, family=family, suites=suites,
        producer=producer, configs=configs, modes=modes, one_mode=one_mode, isolated=isolated,
        timeout_s=timeout_s, memory_mb=memory_mb, attack_class=attack_class, policy=policy,
        entry_points=entry_points, severity=severity, why=why, warm=warm)

    def mark(function: Callable[[Context], Any]) -> Callable[[Context], Any]:
        function.__case__ = declared  # type: ignore[attr-defined]
        return function
    return mark


def _declaration(*, requirement: str, expected: Expected = "accept", family: str | None = None,
                 suites: SuiteSelector | None = None, producer: ProducerKind = "library",
                 configs: Sequence[ConsumerConfig] = (DEFAULT_CONFIG,),
                 modes: Sequence[Mode] = MODES, one_mode: bool = False,
                 isolated: bool = False, timeout_s: float = 10.0,
                 memory_mb: int = 1024, attack_class: str | None = None, policy: bool = False,
                 defect: str | None = None,
                 entry_points: Sequence[EntryPoint] | None = None,
                 severity: Severity | None = None, why: str = "",
                 warm: Callable[[Context], object] | None = None) -> dict[str, Any]:
    """The `Case` fields `case(...)` and `data_case(...)` declare (all but id and run)."""
    if (family is None) == (suites is None):
        raise TypeError("declare exactly one of family= or suites=")
    if severity is not None and severity not in SEVERITIES:
        raise TypeError(f"severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    if producer not in ("library", "forge", "vector"):
        raise TypeError(f"unknown producer {producer!r}")
    return {
        "requirement": requirement, "expected": expected,
        "suites": suites or family_suites(family or ""),
        "forged": producer != "library", "configs": tuple(configs), "modes": tuple(modes),
        "one_mode": one_mode,
        "isolation": Isolation(timeout_s, memory_mb) if isolated else None,
        "attack_class": attack_class, "policy": policy,
        "token_from": producer if producer != "library" else "forge", "defect": defect,
        # A forged attack reaches the JWS/JWE call and the JWT API, since fixes often land in
        # one path only; a published vector is a JWS/JWE test, not a JWT.
        "entry_points": tuple(entry_points or (
            ATTACK_ENTRY_POINTS if attack_class and producer == "forge" else ("jws",))),
        # Only a token that must be refused has a cost when it is accepted.
        "severity": severity if expected == "reject" else None, "why": why, "warm": warm}


@dataclass(frozen=True)
class DataCase:
    """A case declared from data (one published test vector, say) instead of by a function:
    a module lists them in `DATA_CASES`, in the order they run."""

    name: str
    description: str
    run: Callable[[Context], Any]
    declared: dict[str, Any]


def data_case(name: str, description: str, run: Callable[[Context], Any],
              **arguments: Any) -> DataCase:
    """Declare a case as `@case(**arguments)` would, under `name` (a valid id segment)."""
    if not name or "." in name or name != name.strip():
        raise ValueError(f"case name {name!r} must be one id segment")
    return DataCase(name, description, run, _declaration(**arguments))


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
    seen = {c.name for c in found}
    for item in getattr(module, "DATA_CASES", ()):
        if item.name in seen:
            raise HarnessError(f"{scenario}: case {item.name!r} declared twice")
        seen.add(item.name)
        found.append(Case(id=f"{scenario}.{item.name}", scenario=scenario,
                          description=item.description, run=item.run, **item.declared))
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
