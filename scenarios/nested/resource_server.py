"""The encrypted access token as a resource server must validate it (RFC 9068 §4), through each
consumer's `validate_access_token`: decrypt the JWE, verify the inner JWS with the registered
algorithm, check `exp`, `iss`, `aud` and the header `typ` = `at+jwt`.

The good token and the ones a correct resource server refuses for their claims or header
(expired, another audience, another issuer, `typ: JWT`) are made by the producing library, as an
authorization server would make them; the hostile one (an unsigned inner token in a genuine
JWE) by the forge. A pair without a JWE suite is the unencrypted access token, which every
library with a JWT API can validate.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from harness.core.keys import kid_for
from harness.core.suites import SUITES_BY_NAME, Suite
from harness.forge import jwe as forge_jwe
from harness.forge import jws as forge_jws
from harness.forge.encoding import compact, segment
from harness.interop.scenario import Context, SuiteChoice, case
from scenarios.nested.access_token import ACCESS_TOKEN_CLAIMS

REQUIREMENT = "RFC 9068 §4"
ISSUER = ACCESS_TOKEN_CLAIMS["iss"]
AUDIENCE = ACCESS_TOKEN_CLAIMS["aud"]
OTHER_AUDIENCE = "https://other-rs.example.com/"
OTHER_ISSUER = "https://evil-as.example.com/"
# (signing, encryption or None): an RSA pair, an EC pair, and the unencrypted token.
PAIRS = (("JWS RS256", "JWE RSA-OAEP-256 + A256GCM"),
         ("JWS ES256", "JWE ECDH-ES+A256KW (P-256) + A256GCM"),
         ("JWS RS256", None))

Claims = dict[str, Any]
Change = Callable[[Claims], Claims]


def resource_server_pairs(selected: Sequence[Suite]) -> list[SuiteChoice]:
    """The pairs whose signing or encryption suite is among the selected."""
    chosen = set(selected)
    pairs: list[SuiteChoice] = []
    for signing, encryption in PAIRS:
        suites = tuple(SUITES_BY_NAME[name] for name in (signing, encryption) if name)
        if chosen & set(suites):
            pairs.append(suites)
    return pairs


def fresh_claims() -> Claims:
    now = int(time.time())
    return {**ACCESS_TOKEN_CLAIMS, "iat": now - 5, "exp": now + 600}


def canonical(claims: Any) -> bytes:
    return json.dumps(claims, sort_keys=True).encode()


def _validated(ctx: Context, token: str) -> bytes:
    signing = ctx.suites[0]
    encryption = ctx.suites[1] if len(ctx.suites) > 1 else None
    adapter = ctx.consumer.adapter
    ctx.notes["access_token_api"] = adapter.access_token_api
    claims = adapter.validate_access_token(
        token, signing=signing, verification_key=ctx.verification_key(signing.key),
        issuer=ISSUER, audience=AUDIENCE, encryption=encryption,
        decryption_key=None if encryption is None else ctx.decryption_key(encryption.key))
    return canonical(claims)


def _library_token(ctx: Context, claims: Claims, typ: str = "at+jwt") -> str:
    """Signed by the producing library with `typ`, then encrypted (`cty: JWT`) when the pair has
    a JWE suite."""
    assert ctx.producer is not None
    signing = ctx.suites[0]
    inner = ctx.producer.sign(signing, json.dumps(claims, separators=(",", ":")).encode(),
                              ctx.keys.private(signing.key),
                              header={"typ": typ, "kid": kid_for(signing.key, "current")})
    if len(ctx.suites) == 1:
        return inner
    encryption = ctx.suites[1]
    return ctx.producer.encrypt(encryption, inner.encode("ascii"),
                                ctx.keys.public(encryption.key),
                                header={"cty": "JWT", "kid": kid_for(encryption.key, "current")})


def _refused(ctx: Context, change: Change, typ: str = "at+jwt") -> tuple[bytes, bytes]:
    claims = change(fresh_claims())
    return canonical(claims), _validated(ctx, _library_token(ctx, claims, typ))


@case(requirement=REQUIREMENT, suites=resource_server_pairs, modes=("enabled",))
def good(ctx: Context) -> tuple[bytes, bytes]:
    """An `at+jwt` for this resource server, from its issuer, unexpired: its claims come back."""
    claims = fresh_claims()
    return canonical(claims), _validated(ctx, _library_token(ctx, claims))


@case(requirement="RFC 9068 §4; RFC 7519 §4.1.4", expected="reject",
      suites=resource_server_pairs, modes=("enabled",), severity="bypass",
      why="RFC 7519 §4.1.4: a JWT past its exp MUST NOT be accepted; an expired access token "
          "that passes outlives its revocation.")
def expired(ctx: Context) -> tuple[bytes, bytes]:
    """The good token, expired an hour ago."""
    return _refused(ctx, lambda claims: {**claims, "exp": claims["iat"] - 3600})


@case(requirement="RFC 9068 §4; RFC 7519 §4.1.3", expected="reject",
      suites=resource_server_pairs, modes=("enabled",), severity="bypass",
      why="RFC 9068 §4: the resource server MUST validate that aud contains its own identifier; "
          "a token issued for another service would be replayed here.")
def other_audience(ctx: Context) -> tuple[bytes, bytes]:
    """The good token, issued for another resource server."""
    return _refused(ctx, lambda claims: {**claims, "aud": OTHER_AUDIENCE})


@case(requirement="RFC 9068 §4; RFC 7519 §4.1.1", expected="reject",
      suites=resource_server_pairs, modes=("enabled",), severity="bypass",
      why="RFC 9068 §4: iss MUST exactly match the issuer the resource server trusts.")
def other_issuer(ctx: Context) -> tuple[bytes, bytes]:
    """The good token, naming another issuer (signed with the trusted key)."""
    return _refused(ctx, lambda claims: {**claims, "iss": OTHER_ISSUER})


@case(requirement="RFC 9068 §4; RFC 8725 §3.11", expected="reject",
      suites=resource_server_pairs, modes=("enabled",), severity="bypass",
      why="RFC 9068 §4: typ MUST be at+jwt or application/at+jwt; without the check an ID "
          "token or any other JWT the issuer signs passes as an access token (RFC 8725 §3.11).")
def typ_jwt(ctx: Context) -> tuple[bytes, bytes]:
    """The good claims, signed with `typ: JWT` instead of `at+jwt`."""
    return _refused(ctx, lambda claims: claims, typ="JWT")


@case(requirement="RFC 9068 §4; RFC 9068 §2.1", expected="reject", producer="forge",
      suites=resource_server_pairs, modes=("enabled",), severity="bypass",
      why="RFC 9068 §4: the resource server MUST verify that typ is at+jwt and reject a token "
          "without it; a JWT the issuer signed with no typ (an ID token, a logout token) would "
          "pass as an access token (RFC 8725 §3.11).")
def typ_missing(ctx: Context) -> tuple[bytes, bytes]:
    """The good claims, signed with the trusted key and no `typ` header at all (made by the
    forge: several libraries always write a `typ`)."""
    claims = fresh_claims()
    signing = ctx.suites[0]
    inner = forge_jws.sign({"alg": signing.alg, "kid": kid_for(signing.key, "current")},
                           json.dumps(claims, separators=(",", ":")).encode(),
                           ctx.keys.private(signing.key))
    if len(ctx.suites) == 1:
        return canonical(claims), _validated(ctx, inner)
    encryption = ctx.suites[1]
    outer = forge_jwe.encrypt({"alg": encryption.alg, "enc": encryption.enc, "cty": "JWT",
                               "kid": kid_for(encryption.key, "current")},
                              inner.encode("ascii"), ctx.keys.public(encryption.key)).compact()
    return canonical(claims), _validated(ctx, outer)


def _encrypted_pairs(selected: Sequence[Suite]) -> list[SuiteChoice]:
    return [pair for pair in resource_server_pairs(selected) if len(pair) == 2]


@case(requirement="RFC 9068 §4; RFC 7518 §3.6", expected="reject", producer="forge",
      suites=_encrypted_pairs, modes=("enabled",), severity="forgery",
      why="RFC 9068 §4: the resource server MUST reject an alg of none; the JWE needs only the "
          "resource server's public key, so anyone could mint this token.")
def inner_alg_none(ctx: Context) -> tuple[bytes, bytes]:
    """A genuine JWE to the resource server whose plaintext is an unsigned `at+jwt`
    (`alg: none`, empty signature)."""
    claims = fresh_claims()
    header = {"alg": "none", "typ": "at+jwt"}
    inner = compact(segment(header), segment(json.dumps(claims).encode()), "")
    encryption = ctx.suites[1]
    outer = forge_jwe.encrypt({"alg": encryption.alg, "enc": encryption.enc, "cty": "JWT",
                               "kid": kid_for(encryption.key, "current")},
                              inner.encode("ascii"), ctx.keys.public(encryption.key)).compact()
    return canonical(claims), _validated(ctx, outer)
