"""A JWE to several recipients (RFC 7516 §7.2.1), as deployments write one for two services.

The producer encrypts once to two recipients with different key management and the same `enc`:
`enc` in the protected header, each recipient's `alg` and `kid` in its own header. Each
recipient's consumer then decrypts with its own private key alone (picking its recipient by
`kid` where the library does that), so one token is two consumer cells per consumer, one per
recipient key. The one-recipient case is what many producers write even for one: `alg` in the
per-recipient header, not the protected one. A producer that lays the token out otherwise (`enc`
per recipient, a shared `kid`) fails its cell, charged to it; the forge writes the same tokens,
so every consumer is checked even where few libraries write them.
"""

from __future__ import annotations

from typing import Any

from harness.core.suites import Suite
from harness.forge import jwe
from harness.interop.scenario import ConsumerConfig, Context, case, suite_group
from scenarios.payloads import PAYLOAD

RSA = "JWE RSA-OAEP-256 + A256GCM"
ECDH = "JWE ECDH-ES+A256KW (P-256) + A256GCM"
TWO = suite_group(RSA, ECDH)
# One recipient, `alg` in its header: a transported key, an agreed and wrapped one, a wrapped one.
ONE = suite_group(RSA)
ONE_ECDH = suite_group(ECDH)
ONE_KW = suite_group("JWE A256KW + A256GCM")
REQUIREMENT = "RFC 7516 §7.2.1; §5.2 step 6"
# The key as the one JWK of its recipient, and as the recipient's JWKS (current and retired).
CONFIGS = (ConsumerConfig("default"), ConsumerConfig("jwks", key_form="jwks"))


def recipients(ctx: Context) -> list[tuple[Suite, dict[str, Any], dict[str, Any]]]:
    """(suite, public key, per-recipient header besides `alg`) for every suite of the choice."""
    return [(suite, ctx.keys.public(suite.key), {"kid": ctx.keys.public(suite.key)["kid"]})
            for suite in ctx.suites]


def allowed(ctx: Context) -> list[str]:
    """What an application taking this token allows once it names algorithms: every `alg` in
    it, its `enc` (and `DEF`, as `enabled` mode always does)."""
    names = [suite.alg for suite in ctx.suites] + [ctx.suites[0].enc or "", "DEF"]
    return list(dict.fromkeys(names))


def consume(ctx: Context, token: str, index: int) -> tuple[bytes, bytes]:
    """Recipient `index` decrypts with its own private key (or its JWKS) alone."""
    suite = ctx.suites[index]
    return PAYLOAD, ctx.consumer.decrypt(suite, token, ctx.decryption_key(suite.key),
                                         "general", enabled=allowed(ctx))


def produced(ctx: Context) -> str:
    assert ctx.producer is not None
    return ctx.producer.encrypt_multi(recipients(ctx), PAYLOAD)


def forged(ctx: Context) -> str:
    """The same token from the forge: `enc` protected, `alg`, `kid` (and `epk`) per recipient."""
    return jwe.encrypt_to([({"alg": suite.alg, **header}, key)
                           for suite, key, header in recipients(ctx)],
                          PAYLOAD, {"enc": ctx.suites[0].enc}).general()


@case(requirement=REQUIREMENT, suites=TWO, configs=CONFIGS)
def two_recipients_first(ctx: Context) -> tuple[bytes, bytes]:
    """A JWE to two recipients (RSA-OAEP-256 and ECDH-ES+A256KW, one enc): the first recipient
    decrypts with its own key alone."""
    return consume(ctx, produced(ctx), 0)


@case(requirement=REQUIREMENT, suites=TWO, configs=CONFIGS)
def two_recipients_second(ctx: Context) -> tuple[bytes, bytes]:
    """A JWE to two recipients: the second recipient decrypts with its own key alone."""
    return consume(ctx, produced(ctx), 1)


@case(requirement="RFC 7516 §7.2.1", suites=ONE, configs=CONFIGS)
def one_recipient_alg_in_header(ctx: Context) -> tuple[bytes, bytes]:
    """A general JSON JWE with one recipient, `alg` and `kid` in its header, `enc` protected."""
    return consume(ctx, produced(ctx), 0)


@case(requirement="RFC 7516 §7.2.1", suites=ONE_ECDH)
def one_recipient_alg_in_header_ecdh(ctx: Context) -> tuple[bytes, bytes]:
    """The same with ECDH-ES+A256KW: `epk` goes in the recipient's header beside `alg`."""
    return consume(ctx, produced(ctx), 0)


@case(requirement="RFC 7516 §7.2.1", suites=ONE_KW)
def one_recipient_alg_in_header_kw(ctx: Context) -> tuple[bytes, bytes]:
    """The same with A256KW."""
    return consume(ctx, produced(ctx), 0)


@case(requirement=REQUIREMENT, suites=TWO, producer="forge", configs=CONFIGS)
def forge_two_recipients_first(ctx: Context) -> tuple[bytes, bytes]:
    """The forge's JWE to two recipients: the first recipient decrypts with its own key."""
    return consume(ctx, forged(ctx), 0)


@case(requirement=REQUIREMENT, suites=TWO, producer="forge", configs=CONFIGS)
def forge_two_recipients_second(ctx: Context) -> tuple[bytes, bytes]:
    """The forge's JWE to two recipients: the second recipient decrypts with its own key."""
    return consume(ctx, forged(ctx), 1)


@case(requirement="RFC 7516 §7.2.1", suites=ONE, producer="forge", configs=CONFIGS)
def forge_one_recipient_alg_in_header(ctx: Context) -> tuple[bytes, bytes]:
    """The forge's general JSON JWE with one recipient, `alg` in the recipient's header."""
    return consume(ctx, forged(ctx), 0)
