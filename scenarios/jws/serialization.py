"""JWS JSON serialization (RFC 7515 §7.2): flattened and general, where the library offers it."""

from harness.adapters.base import Serialization
from harness.interop.scenario import Context, case
from scenarios.payloads import PAYLOAD


def _exchange(ctx: Context, serialization: Serialization) -> tuple[bytes, bytes]:
    token = ctx.producer.sign(ctx.suite, PAYLOAD, ctx.keys.private(ctx.suite.key),
                              serialization=serialization)
    return PAYLOAD, ctx.consumer.verify(ctx.suite, token, ctx.keys.public(ctx.suite.key),
                                        serialization=serialization)


@case(requirement="RFC 7515 §7.2.2", family="JWS")
def flattened(ctx: Context) -> tuple[bytes, bytes]:
    """A flattened JSON JWS verifies with the signer's public key."""
    return _exchange(ctx, "flattened")


@case(requirement="RFC 7515 §7.2.1", family="JWS")
def general(ctx: Context) -> tuple[bytes, bytes]:
    """A general JSON JWS with one signature verifies with the signer's public key."""
    return _exchange(ctx, "general")
