"""The access-token profiles the HTTP resource servers are loaded with, and the tokens of a cell.

A profile is what the resource server registered: no token check at all (the baseline), a
signed `at+jwt` (JWS), or a signed `at+jwt` encrypted to the resource server (JWE around the
JWS). The tokens are minted before the window by another library than the server's (so the
server never meets an object it cached when making it), many distinct ones (each has its own
`jti`), with a stated share that a correct server refuses: expired, for another audience, or
tampered (one character of the signature or authentication tag changed).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.adapters.base import Adapter
from harness.core.errors import HarnessError, Rejected, Unsupported
from harness.core.keys import KeySet, kid_for
from harness.core.suites import SUITES_BY_NAME, Suite
from harness.forge import jwe as forge_jwe
from harness.forge import jws as forge_jws

ISSUER = "https://as.example.com/"
AUDIENCE = "https://rs.example.com/"
OTHER_AUDIENCE = "https://other-rs.example.com/"
NO_CHECK = "none"
# A tenth of the tokens must be refused, split evenly over these three reasons.
REFUSED_SHARE = 0.10
REFUSED_KINDS = ("expired", "wrong-audience", "tampered")
TOKENS_PER_CELL = 200
FORGE = "forge"
# How `harness loadtest --http` hands the locustfile its plan, and how long users wait for the
# server to answer /healthz.
PLAN_ENV = "HARNESS_HTTP_PLAN"
READY_TIMEOUT_S = 30.0
# How long the master waits, after a window closed, for every loading process's figures.
REPORT_WAIT_S = 5.0


@dataclass(frozen=True)
class Profile:
    name: str
    signing: str | None = None
    encryption: str | None = None

    @property
    def family(self) -> str:
        if self.signing is None:
            return "none"
        return "JWE" if self.encryption else "JWS"

    @property
    def signing_suite(self) -> Suite | None:
        return SUITES_BY_NAME[self.signing] if self.signing else None

    @property
    def encryption_suite(self) -> Suite | None:
        return SUITES_BY_NAME[self.encryption] if self.encryption else None

    @property
    def inner(self) -> str | None:
        """The JWS profile this JWE profile wraps (its cost ratio's denominator)."""
        if self.encryption is None or self.signing is None:
            return None
        return self.signing.removeprefix("JWS ").split(" ")[0]


# The JWE profiles wrap the JWS a deployment pairs with that key management: RSA-OAEP around
# RS256, ECDH-ES on P-256 around ES256, a shared `dir` key around an HS256 token.
PROFILES: tuple[Profile, ...] = (
    Profile(NO_CHECK),
    Profile("HS256", "JWS HS256"),
    Profile("RS256", "JWS RS256"),
    Profile("ES256", "JWS ES256"),
    Profile("EdDSA", "JWS EdDSA (Ed25519)"),
    Profile("RSA-OAEP-256+A256GCM", "JWS RS256", "JWE RSA-OAEP-256 + A256GCM"),
    Profile("ECDH-ES+A256KW+A256GCM", "JWS ES256", "JWE ECDH-ES+A256KW (P-256) + A256GCM"),
    Profile("dir+A256GCM", "JWS HS256", "JWE dir + A256GCM"),
)
PROFILES_BY_NAME = {profile.name: profile for profile in PROFILES}


def select_profiles(names: Sequence[str] | None) -> list[Profile]:
    if not names:
        return list(PROFILES)
    unknown = [name for name in names if name not in PROFILES_BY_NAME]
    if unknown:
        raise HarnessError(f"unknown HTTP profile {', '.join(map(repr, unknown))}; known: "
                           f"{', '.join(PROFILES_BY_NAME)}")
    return [PROFILES_BY_NAME[name] for name in names]


def serves(adapter: Adapter, profile: Profile) -> str | None:
    """None when the adapter can validate the profile's tokens, else why not (declared)."""
    if profile.signing_suite is None:
        return None
    try:
        adapter.check(profile.signing_suite, "enabled", "verify", explicit=True)
        if profile.encryption_suite is not None:
            adapter.check(profile.encryption_suite, "enabled", "decrypt", explicit=True)
        # What the adapter declares only once called (a claims API that takes public keys
        # only, ...): a token it must refuse, with placeholder keys, says Unsupported or not.
        adapter.validate_access_token(
            "e30.e30.e30", signing=profile.signing_suite,
            verification_key={"kty": profile.signing_suite.key.kty}, issuer=ISSUER,
            audience=AUDIENCE, encryption=profile.encryption_suite,
            decryption_key=None if profile.encryption_suite is None
            else {"kty": profile.encryption_suite.key.kty})
    except Unsupported as error:
        return str(error)
    except Exception:  # refused, one way or another: the adapter does validate these tokens
        return None
    return None


def can_mint(adapter: Adapter, profile: Profile) -> bool:
    try:
        if profile.signing_suite is not None:
            adapter.check(profile.signing_suite, "enabled", "sign", explicit=True)
        if profile.encryption_suite is not None:
            adapter.check(profile.encryption_suite, "enabled", "encrypt", explicit=True)
    except Unsupported:
        return False
    return True


def minter_for(server: str, profile: Profile, adapters: Sequence[Adapter]) -> Adapter | None:
    """Another library than the server's that makes this profile's tokens; None: the forge."""
    return next((adapter for adapter in adapters
                 if adapter.name != server and can_mint(adapter, profile)), None)


@dataclass(frozen=True)
class Token:
    token: str
    expected_status: int
    kind: str

    def to_json(self) -> list[Any]:
        return [self.token, self.expected_status, self.kind]


def claims(jti: int, now: int, kind: str) -> dict[str, Any]:
    body = {"iss": ISSUER, "sub": f"user-{jti % 97}", "aud": AUDIENCE, "iat": now - 5,
            "exp": now + 3600, "jti": f"{jti:08x}", "client_id": "s6BhdRkqt3",
            "scope": "read"}
    if kind == "expired":
        body.update(iat=now - 7200, exp=now - 3600)
    elif kind == "wrong-audience":
        body["aud"] = OTHER_AUDIENCE
    return body


def tampered(token: str) -> str:
    """One character changed in the middle of the last segment (the JWS signature or the JWE
    tag), where every base64url bit is used, so the decoded bytes differ."""
    head, _, last = token.rpartition(".")
    middle = len(last) // 2
    swapped = "B" if last[middle] == "A" else "A"
    return f"{head}.{last[:middle]}{swapped}{last[middle + 1:]}"


def kinds(count: int, share: float = REFUSED_SHARE) -> list[str]:
    refused = round(count * share)
    chosen = [REFUSED_KINDS[i % len(REFUSED_KINDS)] for i in range(refused)]
    return ["good"] * (count - refused) + chosen


def mint(profile: Profile, keys: KeySet, minter: Adapter | None, count: int = TOKENS_PER_CELL,
         share: float = REFUSED_SHARE, seed: int = 9068) -> list[Token]:
    """The cell's tokens, shuffled. The no-check profile sends good tokens only, since its
    server refuses nothing."""
    now = int(time.time())
    plan = kinds(count, 0.0 if profile.signing is None else share)
    random.Random(seed).shuffle(plan)
    signing = profile.signing_suite or SUITES_BY_NAME["JWS HS256"]
    tokens = []
    for jti, kind in enumerate(plan):
        payload = json.dumps(claims(jti, now, kind), separators=(",", ":")).encode()
        token = _made(profile, signing, payload, keys, minter)
        if kind == "tampered":
            token = tampered(token)
        tokens.append(Token(token, 200 if kind == "good" else 401, kind))
    return tokens


def _made(profile: Profile, signing: Suite, payload: bytes, keys: KeySet,
          minter: Adapter | None) -> str:
    header = {"typ": "at+jwt", "kid": kid_for(signing.key, "current")}
    encryption = profile.encryption_suite
    outer = None if encryption is None else {"cty": "JWT",
                                             "kid": kid_for(encryption.key, "current")}
    try:
        if minter is None:
            inner = forge_jws.sign({"alg": signing.alg, **header}, payload,
                                   keys.private(signing.key))
            if encryption is None or outer is None:
                return inner
            return forge_jwe.encrypt({"alg": encryption.alg, "enc": encryption.enc, **outer},
                                     inner.encode("ascii"), keys.public(encryption.key)).compact()
        inner = minter.sign(signing, payload, keys.private(signing.key), mode="enabled",
                            header=header)
        if encryption is None:
            return inner
        return minter.encrypt(encryption, inner.encode("ascii"), keys.public(encryption.key),
                              mode="enabled", header=outer)
    except Rejected as error:
        raise HarnessError(f"{minter.name if minter else FORGE} could not mint a "
                           f"{profile.name} token: {error}") from error
