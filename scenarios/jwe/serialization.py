"""JWE JSON serialization (RFC 7516 §7.2): flattened and general, where the library offers it.

What the JSON forms change is where the header, the encrypted key and the IV and tag go, so each
key management (`alg` and key) runs with the two content encryptions of `KEY_MANAGEMENT_ENCS`
(a 16-octet IV and a 12-octet one); `jwe.roundtrip.compact` runs every `enc`.
"""

from harness.adapters.base import Serialization
from harness.interop.scenario import Context, case, key_management_suites
from scenarios.payloads import PAYLOAD


def _exchange(ctx: Context, serialization: Serialization) -> tuple[bytes, bytes]:
    token = ctx.producer.encrypt(ctx.suite, PAYLOAD, ctx.keys.public(ctx.suite.key),
                                 serialization=serialization)
    return PAYLOAD, ctx.consumer.decrypt(ctx.suite, token, ctx.keys.private(ctx.suite.key),
                                         serialization=serialization)


@case(requirement="RFC 7516 §7.2.2", suites=key_management_suites())
def flattened(ctx: Context) -> tuple[bytes, bytes]:
    """A flattened JSON JWE decrypts with the recipient's private key."""
    return _exchange(ctx, "flattened")


@case(requirement="RFC 7516 §7.2.1", suites=key_management_suites())
def general(ctx: Context) -> tuple[bytes, bytes]:
    """A general JSON JWE with one recipient decrypts with the recipient's private key."""
    return _exchange(ctx, "general")
