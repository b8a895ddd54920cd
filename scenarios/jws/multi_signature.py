"""A JWS with several signatures (RFC 7515 §7.2.1): one payload signed RS256 and ES256, each
signature's `alg` and `kid` protected, as a token for two verifiers of different key types.

Each verifier checks the signature its key fits (RFC 7515 §7.2.1: "the application decides
which signatures must verify"; one is enough for each of these). A producer that lays the token
out otherwise (a shared `kid`, a missing signature) fails its cell, charged to it; the forge
writes the same token, so every consumer is checked even where few libraries write them.
"""

from __future__ import annotations

from typing import Any

from harness.core.suites import Suite
from harness.forge import jws
from harness.interop.scenario import ConsumerConfig, Context, case, suite_group
from scenarios.payloads import PAYLOAD

TWO = suite_group("JWS RS256", "JWS ES256")
REQUIREMENT = "RFC 7515 §7.2.1; §5.2"
CONFIGS = (ConsumerConfig("default"), ConsumerConfig("jwks", key_form="jwks"))


def signers(ctx: Context) -> list[tuple[Suite, dict[str, Any], dict[str, Any]]]:
    """(suite, private key, protected header besides `alg`) for every suite of the choice."""
    return [(suite, ctx.keys.private(suite.key), {"kid": ctx.keys.private(suite.key)["kid"]})
            for suite in ctx.suites]


def verify(ctx: Context, token: str, index: int) -> tuple[bytes, bytes]:
    """Verifier `index` checks with its own public key (or its JWKS) alone, allowing, once it
    names algorithms, every algorithm the token carries."""
    suite = ctx.suites[index]
    return PAYLOAD, ctx.consumer.verify(suite, token, ctx.verification_key(suite.key),
                                        "general", enabled=[s.alg for s in ctx.suites])


def produced(ctx: Context) -> str:
    assert ctx.producer is not None
    return ctx.producer.sign_multi(signers(ctx), PAYLOAD)


def forged(ctx: Context) -> str:
    return jws.sign_general([({"alg": suite.alg, **header}, key)
                             for suite, key, header in signers(ctx)], PAYLOAD)


@case(requirement=REQUIREMENT, suites=TWO, configs=CONFIGS)
def two_signatures_first(ctx: Context) -> tuple[bytes, bytes]:
    """A JWS signed RS256 and ES256: the RS256 verifier checks the signature its key fits."""
    return verify(ctx, produced(ctx), 0)


@case(requirement=REQUIREMENT, suites=TWO, configs=CONFIGS)
def two_signatures_second(ctx: Context) -> tuple[bytes, bytes]:
    """A JWS signed RS256 and ES256: the ES256 verifier checks the second signature."""
    return verify(ctx, produced(ctx), 1)


@case(requirement=REQUIREMENT, suites=TWO, producer="forge", configs=CONFIGS)
def forge_two_signatures_first(ctx: Context) -> tuple[bytes, bytes]:
    """The forge's JWS signed RS256 and ES256: the RS256 verifier checks it."""
    return verify(ctx, forged(ctx), 0)


@case(requirement=REQUIREMENT, suites=TWO, producer="forge", configs=CONFIGS)
def forge_two_signatures_second(ctx: Context) -> tuple[bytes, bytes]:
    """The forge's JWS signed RS256 and ES256: the ES256 verifier checks it."""
    return verify(ctx, forged(ctx), 1)
