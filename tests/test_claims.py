"""Claims validation: each adapter translates `ClaimsOptions` into its library's JWT API, and the
claims scenarios build the tokens they say they build."""

from __future__ import annotations

import inspect
import json
import time
from typing import Any

import pytest

from harness.adapters import installed_adapters
from harness.adapters.base import Adapter
from harness.core.claims import ClaimsOptions, case_name, situation_of
from harness.core.errors import Rejected, Unsupported
from harness.core.keys import KeySet
from harness.core.suites import select_suites
from harness.forge.encoding import b64url, unb64
from harness.forge.jws import sign
from harness.interop.scenario import discover, select_cases
from scenarios.claims.common import CONFIGS, Raw, base_claims, payload

HS256 = select_suites(["JWS HS256"])[0]
INSTALLED, _ = installed_adapters(None)


def _validates_claims(adapter: Adapter) -> bool:
    """Whether the adapter validates claims at all: the others declare Unsupported."""
    probe = {"kty": "oct", "k": b64url(bytes(range(32)))}
    token = sign({"alg": "HS256"}, b'{"sub":"probe"}', probe)
    try:
        adapter.validate_claims(HS256, token, probe, ClaimsOptions(), mode="default")
    except Unsupported:
        return False
    return True


ADAPTERS = [adapter for adapter in INSTALLED if _validates_claims(adapter)]
AUD, ISS = "https://api.example.com", "https://issuer.example.com"


def _validate(adapter: Adapter, keys: KeySet, claims: dict[str, Any],
              options: ClaimsOptions) -> dict[str, Any]:
    jwk = keys.private(HS256.key)
    token = sign({"alg": "HS256", "typ": "JWT"}, payload(claims), jwk)
    return adapter.validate_claims(HS256, token, jwk, options, mode="default")


def _fresh(**claims: Any) -> dict[str, Any]:
    return {"sub": "alice", "exp": int(time.time()) + 600, **claims}


@pytest.fixture(params=ADAPTERS, ids=lambda adapter: adapter.name)
def adapter(request: pytest.FixtureRequest) -> Adapter:
    return request.param


def test_an_audience_in_a_list_with_others_is_accepted_and_the_claims_returned(
        adapter, keys) -> None:
    claims = _fresh(aud=["a", "b"])
    assert _validate(adapter, keys, claims, ClaimsOptions(audience="a")) == claims


@pytest.mark.parametrize("aud", ["c", ["b", "c"], "ab"])
def test_an_audience_the_consumer_does_not_hold_is_refused(adapter, keys, aud) -> None:
    with pytest.raises(Rejected):
        _validate(adapter, keys, _fresh(aud=aud), ClaimsOptions(audience="a"))


@pytest.mark.parametrize("iss", [ISS.removesuffix(".com"), ISS + ".evil", [ISS], ISS.upper()])
def test_only_the_exact_issuer_passes(adapter, keys, iss) -> None:
    options = ClaimsOptions(issuer=ISS)
    assert _validate(adapter, keys, _fresh(iss=ISS), options)["iss"] == ISS
    with pytest.raises(Rejected):
        _validate(adapter, keys, _fresh(iss=iss), options)


def test_the_leeway_set_is_the_leeway_applied(adapter, keys) -> None:
    # 45 s past is beyond the 30 s set here and within jwcrypto's own 60 s default, so a
    # library that ignored the option would pass it.
    now = int(time.time())
    options = ClaimsOptions(leeway_s=30, required=("exp",))
    assert _validate(adapter, keys, _fresh(exp=now - 10), options)["exp"] == now - 10
    with pytest.raises(Rejected):
        _validate(adapter, keys, _fresh(exp=now - 45), options)


def test_required_claims_must_be_present(adapter, keys) -> None:
    options = ClaimsOptions(required=("exp", "sub", "jti"))
    with pytest.raises(Rejected, match=r"(?i)jti"):
        _validate(adapter, keys, _fresh(), options)
    assert _validate(adapter, keys, _fresh(jti="j1"), options)["jti"] == "j1"


def test_defaults_refuse_a_token_expired_an_hour_ago(adapter, keys) -> None:
    with pytest.raises(Rejected):
        _validate(adapter, keys, _fresh(exp=int(time.time()) - 3600), ClaimsOptions())


def test_a_bad_signature_is_refused_before_any_claim(adapter, keys) -> None:
    jwk = keys.private(HS256.key)
    token = sign({"alg": "HS256"}, payload(_fresh()), jwk)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(Rejected):
        adapter.validate_claims(HS256, forged, jwk, ClaimsOptions(), mode="default")


def test_an_adapter_without_claims_support_declares_it(keys) -> None:
    assert len(ADAPTERS) >= 3
    with pytest.raises(Unsupported):
        Adapter._validate_claims(ADAPTERS[0], HS256, "x.y.z", {}, ClaimsOptions(), None)
    jwk = keys.private(HS256.key)
    token = sign({"alg": "HS256"}, payload(_fresh()), jwk)
    for adapter in INSTALLED:
        if adapter not in ADAPTERS:
            with pytest.raises(Unsupported):
                adapter.validate_claims(HS256, token, jwk, ClaimsOptions(), mode="default")


# -- the scenarios ------------------------------------------------------------------------------

CLAIMS_CASES = select_cases(discover(), ["claims"])
TOPIC_CLAIM = {"exp": "exp", "nbf": "nbf", "iat": "iat", "aud": "aud", "iss": "iss"}


def test_every_situation_has_one_case_per_configuration() -> None:
    by_situation: dict[str, set[str]] = {}
    for case in CLAIMS_CASES:
        assert len(case.configs) == 1 and case.forged and case.attack_class == "claims"
        config = case.configs[0].name
        situation = situation_of(case.id, config)
        assert case.id == "claims." + situation.split(".")[0] + "." + case_name(
            situation.split(".", 1)[1], config)
        by_situation.setdefault(situation, set()).add(config)
    assert len(by_situation) >= 40
    assert all(configs == {c.name for c in CONFIGS} for configs in by_situation.values())


def test_each_situation_changes_only_its_own_claim() -> None:
    now = 1_800_000_000
    changes: dict[str, set[str]] = {}
    for case in CLAIMS_CASES:
        config = case.configs[0]
        base = base_claims(now, config.claims)
        claims = json.loads(payload(inspect.unwrap(case.run)(now, dict(base))))
        changed = {name for name in base.keys() | claims.keys()
                   if base.get(name) != claims.get(name) or (name in base) != (name in claims)}
        topic = case.scenario.removeprefix("claims.")
        assert changed <= {TOPIC_CLAIM.get(topic, "sub"), TOPIC_CLAIM.get(topic, "jti")}, case.id
        changes.setdefault(situation_of(case.id, config.name), set()).update(changed)
    # A situation may equal the base under one configuration (`aud` = the audience, where the
    # base already carries it), never under all of them, except the control itself.
    unchanged = {situation for situation, changed in changes.items() if not changed}
    assert unchanged == {"baseline.valid"}


def test_times_are_relative_to_the_run() -> None:
    build = inspect.unwrap(next(c for c in CLAIMS_CASES if c.id.startswith("claims.exp.past_")
                                ).run)
    base = base_claims(0, ClaimsOptions())
    assert build(1000, base)["exp"] - build(0, base)["exp"] == 1000


def test_raw_numbers_are_written_as_given() -> None:
    assert payload({"exp": Raw("1e400"), "n": 1}) == b'{"exp":1e400,"n":1}'
    assert payload({"exp": Raw("NaN")}) == b'{"exp":NaN}'


def test_the_base_token_verifies_in_every_library_with_every_configuration(keys) -> None:
    jwk = keys.private(HS256.key)
    for config in CONFIGS:
        claims = base_claims(int(time.time()), config.claims)
        token = sign({"alg": "HS256", "typ": "JWT"}, payload(claims), jwk)
        header, body, _ = token.split(".")
        assert json.loads(unb64(header)) == {"alg": "HS256", "typ": "JWT"}
        assert json.loads(unb64(body)) == claims
        for adapter in ADAPTERS:
            assert adapter.validate_claims(HS256, token, jwk, config.claims,
                                           mode="default") == claims
