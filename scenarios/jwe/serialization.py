"""JWE JSON serialization (RFC 7516 §7.2): flattened and general, where the library offers it."""

from harness.adapters.base import Serialization
from harness.interop.scenario import Context, case
from scenarios.payloads import PAYLOAD


def _exchange(ctx: Context, serialization: Serialization) -> tuple[bytes, bytes]:
    token = ctx.producer.encrypt(ctx.suite, PAYLOAD, ctx.keys.public(ctx.suite.key),
                                 serialization=serialization)
    return PAYLOAD, ctx.consumer.decrypt(ctx.suite, token, ctx.keys.private(ctx.suite.key),
                                         serialization=serialization)


@case(requirement="RFC 7516 §7.2.2", family="JWE")
def flattened(ctx: Context) -> tuple[bytes, bytes]:
    """A flattened JSON JWE decrypts with the recipient's private key."""
    return _exchange(ctx, "flattened")


@case(requirement="RFC 7516 §7.2.1", family="JWE")
def general(ctx: Context) -> tuple[bytes, bytes]:
    """A general JSON JWE with one recipient decrypts with the recipient's private key."""
    return _exchange(ctx, "general")
