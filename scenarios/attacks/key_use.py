"""Keys used against their declared purpose, and weak keys (RFC 7517 §4.2–§4.4, RFC 7518 §3.2
and §3.3, RFC 8725 §3.5).

RFC 7517 makes `use`, `key_ops` and `alg` optional for a library to enforce ("unless the
application requires its use"), and RFC 7518's key-size MUSTs bind whoever chooses the key:
so every case here is policy, reported to show which library holds the line.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from harness.core.keyforms import public_form
from harness.core.keys import JWK, generate_jwk, public_jwk
from harness.core.suites import KeySpec
from harness.forge.encoding import b64url
from harness.interop.scenario import ConsumerConfig, Context
from scenarios.attacks.jws_common import HMAC_RSA_EC, Catalogue, Forged, signed, valid
from scenarios.payloads import PAYLOAD

cases = Catalogue(globals(), requirement="RFC 7517 §4.2-4.4", attack_class="key-use",
                  suites=HMAC_RSA_EC,
                  configs=(ConsumerConfig("jwk"),), policy=True, severity="leniency",
                  why="The token is genuine; only the key's declared purpose (RFC 7517 §4.2-4.4) "
                      "is ignored.")


def _declared(members: dict[str, Any]) -> Any:
    """A genuine token; the consumer's JWK declares `members` that forbid this use."""
    def forge(ctx: Context) -> Forged:
        jwk = {**public_jwk(ctx.keys.private(ctx.suite.key)), **members}
        return Forged(valid(ctx), clean=valid(ctx), key=jwk,
                      clean_key=public_jwk(ctx.keys.private(ctx.suite.key)))
    return forge


cases.add("use_enc", "A genuine token verified with a JWK whose `use` is `enc`.",
          _declared({"use": "enc"}))
cases.add("key_ops_encrypt_only",
          "A genuine token verified with a JWK whose `key_ops` is `[\"encrypt\"]`.",
          _declared({"key_ops": ["encrypt"]}))
cases.add("key_ops_sign_only",
          "A genuine token verified with a JWK whose `key_ops` is `[\"sign\"]` (no `verify`).",
          _declared({"key_ops": ["sign"]}))
cases.add("jwk_alg_differs",
          "A genuine token verified with a JWK whose `alg` names another algorithm of the same "
          "key type (HS512 / RS512 / ES384 for an HS256 / RS256 / ES256 token).",
          lambda ctx: _declared({"alg": {"HS256": "HS512", "RS256": "RS512",
                                         "ES256": "ES384"}[ctx.suite.alg]})(ctx))

WEAK_CONFIGS = (ConsumerConfig("jwk"), ConsumerConfig("pem", key_form="pem"))


@cache
def weak_key(kind: str) -> JWK:
    """Keys too short for their algorithm, made once per process, never stored."""
    if kind == "rsa-1024":
        return generate_jwk(KeySpec("RSA", "1024"))
    size = {"hmac-16": 16, "hmac-1": 1}[kind]
    return {"kty": "oct", "k": b64url(bytes(range(7, 7 + size)))}


def _weak(kind: str, alg: str) -> Any:
    def forge(ctx: Context) -> Forged:
        jwk = weak_key(kind)
        token = signed({"alg": alg, "typ": "JWT"}, PAYLOAD, jwk, alg)[1]
        key = public_form(jwk, ctx.config.key_form)
        return Forged(token, clean=token, key=key)
    return forge


for _kind, _alg, _suite, _what in (
        ("hmac-16", "HS256", "JWS HS256", "a 16-byte HMAC key (RFC 7518 §3.2: at least 32)"),
        ("hmac-1", "HS256", "JWS HS256", "a 1-byte HMAC key"),
        ("rsa-1024", "RS256", "JWS RS256", "a 1024-bit RSA key (RFC 7518 §3.3: at least "
                                           "2048)")):
    cases.add(f"weak_{_kind.replace('-', '_')}", f"A token signed and verified with {_what}.",
              _weak(_kind, _alg), suites=(_suite,), configs=WEAK_CONFIGS, attack_class="weak-key",
              requirement="RFC 7518 §3.2-3.3; RFC 8725 §3.5",
              severity="forgery" if _kind == "hmac-1" else "leniency",
              why="A 1-byte HMAC key is found by trying 256 keys: anyone can sign."
                  if _kind == "hmac-1" else "Weaker than the RFC asks, but not breakable by "
                  "an ordinary attacker today.")
