"""Keys the token brings along (RFC 8725 §3.10 and RFC 7515 §4.1.2–§4.1.6): an embedded `jwk`,
a `x5c` chain, and `jku`/`x5u` URLs. A correct consumer verifies with the key it was configured
with, never trusts one named by the token, and never fetches a URL from a header.

`jku`/`x5u` point at a listener on 127.0.0.1 that counts requests: a fetch is a finding even
when the token is then refused, so the case fails (with the count in its detail) on any hit.
"""

from __future__ import annotations

import base64
import datetime
import json
from functools import cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from harness.core.errors import Finding, Rejected
from harness.core.keyforms import private_key
from harness.core.keys import JWK
from harness.interop.listener import HitCounter
from harness.interop.scenario import RESOLVING_ENTRY_POINTS, ConsumerConfig, Context
from scenarios.attacks.jws_common import (
    ASYMMETRIC,
    BROAD,
    Catalogue,
    Forged,
    attacker_key,
    attacker_public,
    offer,
    signed,
    valid,
)
from scenarios.payloads import PAYLOAD

CONFIGS = (ConsumerConfig("jwk"), ConsumerConfig("jwks", key_form="jwks"),
           ConsumerConfig("pem", key_form="pem"),
           ConsumerConfig("broad-jwk", algorithms=BROAD))
cases = Catalogue(globals(), requirement="RFC 8725 §3.10",
                  entry_points=RESOLVING_ENTRY_POINTS, suites=ASYMMETRIC, configs=CONFIGS,
                  attack_class="embedded-key", severity="forgery",
                  why="RFC 8725 §3.10: a key the token names or carries is the attacker's "
                      "choice; trusting it lets anyone sign.")


@cache
def certificate(jwk_json: str) -> bytes:
    """A self-signed certificate (DER) for the attacker's key."""
    jwk = json.loads(jwk_json)
    key = private_key(jwk)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attacker")])
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1))
               .not_valid_after(now + datetime.timedelta(days=30)))
    digest = None if jwk["kty"] == "OKP" else hashes.SHA256()
    return builder.sign(key, digest).public_bytes(Encoding.DER)


def _attacker(ctx: Context) -> JWK:
    return attacker_key(ctx.suite.key)


def _by_attacker(ctx: Context, extra: dict[str, Any]) -> Forged:
    jwk = _attacker(ctx)
    header = {"alg": ctx.suite.alg, "typ": "JWT", "kid": jwk["kid"], **extra}
    return Forged(signed(header, PAYLOAD, jwk, ctx.suite.alg)[1],
                  clean=valid(ctx, {"typ": "JWT"}))


cases.add("jwk_header_with_attacker_key",
          "A token signed by the attacker and carrying the attacker's public key as `jwk` is "
          "refused: the embedded key is not the one the consumer trusts.",
          lambda ctx: _by_attacker(ctx, {"jwk": attacker_public(ctx.suite.key)}))
cases.add("jwk_header_with_attacker_key_and_real_kid",
          "The same with the kid of the consumer's real key, so a kid lookup finds a key.",
          lambda ctx: Forged(signed({"alg": ctx.suite.alg, "kid": ctx.keys.private(
              ctx.suite.key)["kid"], "jwk": attacker_public(ctx.suite.key)}, PAYLOAD,
              _attacker(ctx), ctx.suite.alg)[1], clean=valid(ctx)))
cases.add("x5c_header_with_attacker_certificate",
          "A token signed by the attacker with a self-signed certificate for that key in `x5c` "
          "is refused.",
          lambda ctx: _by_attacker(ctx, {"x5c": [base64.b64encode(certificate(
              json.dumps(_attacker(ctx)))).decode()]}))


def _fetch_case(member: str) -> Any:
    def run(ctx: Context) -> tuple[bytes, bytes]:
        jwk = _attacker(ctx)
        if member == "jku":
            body, kind = json.dumps({"keys": [attacker_public(ctx.suite.key)]}).encode(), \
                "application/jwk-set+json"
        else:
            body, kind = certificate(json.dumps(jwk)), "application/pkix-cert"
        with HitCounter(body, kind) as listener:
            forged = _by_attacker(ctx, {member: listener.url(f"{member}.json")})
            try:
                outcome = offer(ctx, forged)
            except Rejected as refusal:
                outcome, answer = None, f"rejected: {refusal}"
            else:
                answer = "accepted"
        if listener.hits:
            raise Finding(f"the library fetched the {member} URL {len(listener.hits)} time(s) "
                          f"({', '.join(listener.hits)}); the token was then {answer}",
                          actual="accepted" if outcome is not None else "error")
        if outcome is None:
            raise Rejected(f"{answer.removeprefix('rejected: ')} [the {member} URL was not "
                           "fetched: 0 requests]")
        return outcome
    return run


for _member in ("jku", "x5u"):
    cases.add_run(f"{_member}_header_to_listener",
                  f"A token signed by the attacker whose `{_member}` names the attacker's "
                  f"{'JWKS' if _member == 'jku' else 'certificate'} on 127.0.0.1 is refused and "
                  "the URL is never fetched.", _fetch_case(_member), isolated=True,
                  timeout_s=10.0, memory_mb=1024,
                  warm=lambda ctx: certificate(json.dumps(_attacker(ctx))))
    cases.forges[f"{_member}_header_to_listener"] = (
        lambda ctx, member=_member: _by_attacker(ctx, {member: "http://127.0.0.1:9/x"}))
