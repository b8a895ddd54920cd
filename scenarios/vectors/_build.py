"""What every vector module shares: the suite a vector's key and header name, the key in each
form the consumer configuration holds it, and the case that hands the vector to a consumer.

The consumer is configured the way an application holding the vector's key would be: for the
key's own `alg` when it names a registered algorithm (so a token whose header names another
algorithm meets an allow-list that excludes it, as Wycheproof intends), else for the header's.
A vector whose algorithm is outside the registry still becomes a case, on a suite the adapters
declare unsupported.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harness.adapters.base import KeyData, Serialization, is_jwks
from harness.core.errors import Unsupported
from harness.core.keyforms import public_form
from harness.core.keys import JWK, public_jwk
from harness.core.suites import SUITES_BY_NAME, KeySpec, Suite
from harness.interop.scenario import ConsumerConfig, Context, DataCase, SuiteChoice, data_case
from scenarios.vectors._files import VectorDamaged

JWK_CONFIG = ConsumerConfig("jwk")
PEM_CONFIG = ConsumerConfig("pem", key_form="pem")
JWKS_CONFIG = ConsumerConfig("jwks", key_form="jwks")
# Vectors run with the algorithm allowed: a library's default allow-list is another question,
# which the round-trip scenarios answer.
VECTOR_MODES = ("enabled",)
OFF_REGISTRY = "not in the harness's suite registry"
JWS_ALG_PREFIXES = ("HS", "RS", "PS", "ES", "EdDSA")
Run = Callable[[Context], tuple[bytes, ...]]


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def serialization_of(token: str | dict[str, Any]) -> Serialization:
    if isinstance(token, str):
        return "compact"
    return "general" if "signatures" in token or "recipients" in token else "flattened"


def token_text(token: str | dict[str, Any]) -> str:
    """The token as the consumer receives it: compact text, or the JSON exactly as published."""
    return token if isinstance(token, str) else json.dumps(token)


def _protected(segment: Any) -> dict[str, Any]:
    try:
        value = json.loads(unb64(segment))
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def header_of(token: str | dict[str, Any]) -> dict[str, Any]:
    """The header the token claims (protected, then unprotected members), best effort: a
    hostile vector's header may not decode, and then it claims nothing."""
    if isinstance(token, str):
        return _protected(token.split(".")[0])
    first = (token.get("signatures") or token.get("recipients") or [{}])[0]
    first = first if isinstance(first, dict) else {}
    protected = token.get("protected", first.get("protected"))
    header = {**(token.get("unprotected") or {}), **(first.get("header") or {}),
              **(token.get("header") or {})}
    return {**header, **_protected(protected)} if protected else header


def key_in(key: JWK, kid: Any) -> JWK:
    """The key of a JWKS the token's kid names (or its first key); a single JWK as it is."""
    if not is_jwks(key):
        return key
    keys = [k for k in key.get("keys", []) if isinstance(k, dict)]
    return next((k for k in keys if k.get("kid") == kid), keys[0] if keys else {})


def _registered(name: str) -> bool:
    return name in SUITES_BY_NAME


def jws_suite(key: JWK, header: dict[str, Any]) -> Suite:
    """The JWS suite the consumer is configured for: the key's alg, else the header's."""
    jwk = key_in(key, header.get("kid"))
    crv = jwk.get("crv")
    for alg in (jwk.get("alg"), header.get("alg")):
        if not isinstance(alg, str):
            continue
        name = f"JWS {alg} ({crv})" if alg == "EdDSA" else f"JWS {alg}"
        if _registered(name):
            return SUITES_BY_NAME[name]
    alg = next((a for a in (jwk.get("alg"), header.get("alg")) if isinstance(a, str)), "unknown")
    return Suite("JWS", alg, None, KeySpec(str(jwk.get("kty", "?")), str(crv or "?")),
                 OFF_REGISTRY)


def jwe_suite(key: JWK, header: dict[str, Any], enc: Any = None) -> Suite:
    """The JWE suite: the key's alg (else the header's) with the vector's enc (else the
    header's)."""
    jwk = key_in(key, header.get("kid"))
    crv = jwk.get("crv")
    enc = enc if isinstance(enc, str) else header.get("enc")
    for alg in (jwk.get("alg"), header.get("alg")):
        if not isinstance(alg, str) or not isinstance(enc, str):
            continue
        name = (f"JWE {alg} ({crv}) + {enc}" if alg.startswith("ECDH-ES")
                else f"JWE {alg} + {enc}")
        if _registered(name):
            return SUITES_BY_NAME[name]
    alg = next((a for a in (jwk.get("alg"), header.get("alg")) if isinstance(a, str)), "unknown")
    return Suite("JWE", alg, enc if isinstance(enc, str) else "unknown",
                 KeySpec(str(jwk.get("kty", "?")), str(crv or "?")), OFF_REGISTRY)


def vector_suites(suite: Suite) -> Callable[[Sequence[Suite]], list[SuiteChoice]]:
    """The vector's suite when the selection holds it; a suite outside the registry whenever
    the selection holds any suite of its family (it cannot be selected by name)."""
    def select(selected: Sequence[Suite]) -> list[SuiteChoice]:
        if suite in selected:
            return [(suite,)]
        if suite.rfc == OFF_REGISTRY and any(s.family == suite.family for s in selected):
            return [(suite,)]
        return []
    return select


def any_suite(family: str) -> Callable[[Sequence[Suite]], list[SuiteChoice]]:
    """The first selected suite of the family: where a damaged vector's error row lands."""
    def select(selected: Sequence[Suite]) -> list[SuiteChoice]:
        return [(s,) for s in selected if s.family == family][:1]
    return select


_PEM: dict[int, tuple[JWK, str]] = {}
_INTERNED: dict[str, JWK] = {}


def interned(jwk: JWK) -> JWK:
    """One object for every vector that holds the same key: the adapters import a key once
    per object, and the cookbook's 4096-bit RSA keys take a library 90-190 ms each to import
    (cryptography checks them), once per example and serialization before."""
    return _INTERNED.setdefault(json.dumps(jwk, sort_keys=True), jwk)


def key_as(config: ConsumerConfig, jwk: JWK) -> KeyData:
    """The vector's key in the configuration's form: the JWK (or JWKS) object itself, so the
    adapters' key cache holds it for the process; PEM text written once per key."""
    if config.key_form in ("jwk", "jwks"):
        return jwk
    hit = _PEM.get(id(jwk))
    if hit is None or hit[0] is not jwk:
        try:
            hit = (jwk, str(public_form(jwk, "pem")))
        except (KeyError, TypeError, ValueError) as error:
            raise Unsupported(f"the vector's key has no {config.key_form} form: {error}") \
                from None
        _PEM[id(jwk)] = hit
    return hit[1]


def public_of(jwk: JWK) -> JWK:
    """What a verifier holds: the public members (a secret key is its own verification key)."""
    if is_jwks(jwk):
        return {"keys": [public_of(k) for k in jwk["keys"]]}
    return jwk if jwk.get("kty") == "oct" else public_jwk(jwk)


def configs_for(jwk: JWK, family: str, pem: bool) -> tuple[ConsumerConfig, ...]:
    if is_jwks(jwk):
        return (JWKS_CONFIG,)
    if pem and family == "JWS" and jwk.get("kty") in ("RSA", "EC", "OKP"):
        return (JWK_CONFIG, PEM_CONFIG)
    return (JWK_CONFIG,)


def consume(family: str, suite: Suite, token: str | dict[str, Any], jwk: JWK,
            expected_payload: bytes | None, refuse: bool = False) -> Run:
    """The case: hand the vector's token to the consumer with the vector's key. Without a
    published payload (a few Wycheproof JWE tests), whatever payload comes back counts.
    `refuse`: an invalid vector, whose acceptance the row states with what came back."""
    text, serialization = token_text(token), serialization_of(token)
    jwk = interned(jwk)

    def run(ctx: Context) -> tuple[bytes, ...]:
        key = key_as(ctx.config, jwk)
        if family == "JWS":
            received = ctx.consumer.verify(suite, text, key, serialization=serialization)
        else:
            received = ctx.consumer.decrypt(suite, text, key, serialization=serialization)
        if refuse:
            return received, received, f"accepted it, returning {received[:60]!r}"
        if expected_payload is None:
            return received, received, "the vector publishes no plaintext: any payload counts"
        return expected_payload, received
    return run


def unsupported(reason: str) -> Run:
    def run(ctx: Context) -> tuple[bytes, ...]:
        raise Unsupported(reason)
    return run


def damaged(message: str) -> Run:
    def run(ctx: Context) -> tuple[bytes, ...]:
        raise VectorDamaged(message)
    return run


def damaged_case(name: str, family: str, message: str, requirement: str) -> DataCase:
    return data_case(name, f"damaged vector: {message}", damaged(message),
                     requirement=requirement, suites=any_suite(family), producer="vector",
                     modes=VECTOR_MODES)


def case_name(text: str) -> str:
    """An id segment from a file stem or test id: `4.2.hmac-sha2` -> `4_2_hmac_sha2`."""
    return "".join(c if c.isalnum() else "_" for c in text).strip("_").lower() or "unnamed"


def relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return path.name
