"""Key rotation: the recipient holds a private JWKS with a retired and a current key.

Which key the `kid` picks does not depend on the content encryption, so each key management
(`alg` and key) runs with the two of `KEY_MANAGEMENT_ENCS`; `jwe.roundtrip.compact` runs every
`enc`.
"""

from harness.core.keys import kid_for
from harness.interop.scenario import Context, case, key_management_suites
from scenarios.payloads import PAYLOAD


def _exchange(ctx: Context, role: str) -> tuple[bytes, bytes]:
    spec = ctx.suite.key
    token = ctx.producer.encrypt(ctx.suite, PAYLOAD, ctx.keys.public(spec, role),
                                 header={"kid": kid_for(spec, role)})
    return PAYLOAD, ctx.consumer.decrypt(ctx.suite, token, ctx.keys.jwks(spec, private=True))


@case(requirement="RFC 7516 §4.1.6", suites=key_management_suites())
def current_key(ctx: Context) -> tuple[bytes, bytes]:
    """A JWE encrypted to the current key decrypts with the JWKS, the key found by kid."""
    return _exchange(ctx, "current")


@case(requirement="RFC 7516 §4.1.6", suites=key_management_suites())
def retired_key(ctx: Context) -> tuple[bytes, bytes]:
    """A JWE encrypted to the retired key, still in the JWKS, decrypts: the kid picks it."""
    return _exchange(ctx, "retired")
