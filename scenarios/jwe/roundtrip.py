"""A JWE made by the producer decrypts in the consumer, which returns the exact plaintext."""

from harness.interop.scenario import Context, case, key_management_suites
from scenarios.payloads import PAYLOAD


@case(requirement="RFC 7516 §7.1", family="JWE")
def compact(ctx: Context) -> tuple[bytes, bytes]:
    """A compact JWE decrypts with the recipient's private key."""
    token = ctx.producer.encrypt(ctx.suite, PAYLOAD, ctx.keys.public(ctx.suite.key))
    return PAYLOAD, ctx.consumer.decrypt(ctx.suite, token, ctx.keys.private(ctx.suite.key))


@case(requirement="RFC 7516 §4.1.3", suites=key_management_suites())
def compact_deflate(ctx: Context) -> tuple[bytes, bytes]:
    """A compact JWE compressed with `zip: DEF` decrypts and inflates to the exact plaintext.

    The plaintext is compressed before content encryption (RFC 7516 §5.1), so each key management
    runs with the two content encryptions of `KEY_MANAGEMENT_ENCS`, not every `enc`."""
    plaintext = PAYLOAD * 8
    token = ctx.producer.encrypt(ctx.suite, plaintext, ctx.keys.public(ctx.suite.key),
                                 header={"zip": "DEF"})
    return plaintext, ctx.consumer.decrypt(ctx.suite, token, ctx.keys.private(ctx.suite.key))
