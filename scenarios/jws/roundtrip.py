"""A JWS made by the producer verifies in the consumer, which returns the exact payload."""

from harness.interop.scenario import Context, case
from scenarios.payloads import PAYLOAD


@case(requirement="RFC 7515 §7.1", family="JWS")
def compact(ctx: Context) -> tuple[bytes, bytes]:
    """A compact JWS verifies with the signer's public key."""
    token = ctx.producer.sign(ctx.suite, PAYLOAD, ctx.keys.private(ctx.suite.key))
    return PAYLOAD, ctx.consumer.verify(ctx.suite, token, ctx.keys.public(ctx.suite.key))
