"""`alg: none` (RFC 7518 §3.6): an unsecured JWS must never pass where a signature is expected."""

from __future__ import annotations

from harness.forge.encoding import compact, segment
from harness.scenario import ConsumerConfig, Context, case, named_suites
from scenarios.payloads import PAYLOAD

SUITES = named_suites("JWS HS256", "JWS RS256", "JWS ES256", "JWS EdDSA (Ed25519)")
# The consumer's allow-list as the mode sets it, and a broad one an application writes to accept
# every algorithm its issuers use (never `none` itself: allowing it is opting in, not a bug).
CONFIGS = (ConsumerConfig("default"),
           ConsumerConfig("broad", algorithms=("HS256", "RS256", "ES256", "EdDSA")))


def _unsecured(ctx: Context, alg: str, signature: str) -> tuple[bytes, bytes]:
    token = compact(segment({"alg": alg, "typ": "JWT"}), segment(PAYLOAD), signature)
    return PAYLOAD, ctx.consumer.verify(ctx.suite, token, ctx.verification_key(ctx.suite.key))


@case(requirement="RFC 8725 §3.1", expected="reject", suites=SUITES, producer="forge",
      configs=CONFIGS, attack_class="alg-none")
def lowercase_empty_signature(ctx: Context) -> tuple[bytes, bytes]:
    """`alg: none` with an empty signature is refused by a consumer that expects a signature."""
    return _unsecured(ctx, "none", "")


@case(requirement="RFC 8725 §3.1", expected="reject", suites=SUITES, producer="forge",
      configs=CONFIGS, attack_class="alg-none")
def capitalised_empty_signature(ctx: Context) -> tuple[bytes, bytes]:
    """`alg: None` (another spelling) with an empty signature is refused."""
    return _unsecured(ctx, "None", "")


@case(requirement="RFC 8725 §3.1", expected="reject", suites=SUITES, producer="forge",
      configs=CONFIGS, attack_class="alg-none")
def lowercase_garbage_signature(ctx: Context) -> tuple[bytes, bytes]:
    """`alg: none` with a garbage signature is refused."""
    return _unsecured(ctx, "none", segment(b"garbage"))
