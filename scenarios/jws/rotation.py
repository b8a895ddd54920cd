"""Key rotation: the consumer holds a JWKS with a retired and a current key, picked by `kid`."""

from harness.core.keys import kid_for
from harness.interop.scenario import Context, case
from scenarios.payloads import PAYLOAD


def _exchange(ctx: Context, role: str) -> tuple[bytes, bytes]:
    spec = ctx.suite.key
    token = ctx.producer.sign(ctx.suite, PAYLOAD, ctx.keys.private(spec, role),
                              header={"kid": kid_for(spec, role)})
    return PAYLOAD, ctx.consumer.verify(ctx.suite, token, ctx.keys.jwks(spec, private=False))


@case(requirement="RFC 7515 §4.1.4", family="JWS")
def current_key(ctx: Context) -> tuple[bytes, bytes]:
    """A JWS signed with the current key verifies against the JWKS, the key found by kid."""
    return _exchange(ctx, "current")


@case(requirement="RFC 7515 §4.1.4", family="JWS")
def retired_key(ctx: Context) -> tuple[bytes, bytes]:
    """A JWS signed with the retired key, still in the JWKS, verifies: the kid picks it."""
    return _exchange(ctx, "retired")
