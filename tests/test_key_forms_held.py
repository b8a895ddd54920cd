"""A consumer is handed its key as an application holds it: one object per key and form for the
whole process, so an adapter imports each key once, as the application would, and never inside
the measured call of a later cell."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from harness.adapters import load_adapter
from harness.core.keys import KeySet
from harness.core.suites import SUITES_BY_NAME, select_suites
from harness.interop.runner import World, execute, plan
from harness.interop.scenario import Consumer, ConsumerConfig, Context, discover, select_cases

FORMS = ("jwk", "jwks", "pem", "pkcs1", "der", "openssh", "jwk-json", "jwks-json", "raw")


def _context(keys: KeySet, config: ConsumerConfig) -> Context:
    # PKCS#1 text holds an RSA key only; every other form holds an EC key too.
    suite = SUITES_BY_NAME["JWS RS256" if config.key_form == "pkcs1" else "JWS ES256"]
    return Context(None, Consumer(load_adapter("joserfc"), "enabled", config), (suite,),
                   "enabled", keys, config)


@pytest.mark.parametrize("raw", [False, True])
@pytest.mark.parametrize("form", FORMS)
def test_each_cell_gets_the_same_key_object(keys: KeySet, form: str, raw: bool) -> None:
    config = ConsumerConfig(f"{form}-{raw}", key_form=form, raw_key=raw)  # type: ignore[arg-type]
    first, second = _context(keys, config), _context(keys, config)
    spec = first.suite.key
    for role in ("current", "retired"):
        assert first.verification_key(spec, role) is second.verification_key(spec, role)
    if form in ("jwk", "jwks", "pem"):
        assert first.decryption_key(spec) is second.decryption_key(spec)
    # The key is still the one asked for, in its form.
    held = first.verification_key(spec)
    if form == "jwk":
        assert held == keys.public(spec)
    if form == "pem":
        assert str(held).startswith("-----BEGIN PUBLIC KEY-----")
    assert type(held).__name__.startswith("Raw") == (raw and isinstance(held, str | bytes))


def test_a_consumer_imports_each_key_once_over_many_cells(keys: KeySet,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The resource-server cases hand every cell its verification and decryption keys; with a
    fresh copy per cell jwcrypto had imported the RSA private key again in each one (tens of ms
    of cryptography's key check)."""
    adapter = load_adapter("jwcrypto")
    imports: Counter[str] = Counter()
    real = adapter.imported

    def counted(jwk: Any, purpose: str, importer: Any) -> Any:
        def counting(data: Any) -> Any:
            imports[json.dumps(data, sort_keys=True)] += 1
            return importer(data)
        return real(jwk, purpose, counting)

    monkeypatch.setattr(adapter, "imported", counted)
    cases = select_cases(discover(), ["nested.resource_server"])
    world = World({adapter.name: adapter}, keys, {case.id: case for case in cases})
    rows: list[dict[str, Any]] = []
    execute(plan(cases, select_suites(["JWS RS256", "JWE RSA-OAEP-256 + A256GCM"]),
                 ["enabled"]), world, 1, rows.extend)
    assert len(rows) >= 10 and not [r for r in rows if r["actual"] == "error"], rows
    # At most twice: the key set's private key as the producer signs with it, and the copy the
    # consumer holds (a resource server's own key object).
    assert imports and max(imports.values()) <= 2, imports.most_common(3)
