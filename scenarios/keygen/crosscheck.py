"""The producing library generates the key with its own key-generation API and defaults, and
exports it through its own export; every consumer takes that export as a user would.

A JWS: signed with the generated private key, verified with the exported public JWK or JWKS. A
JWE: encrypted to the exported public key (the JWKS's key in the JWKS configuration), decrypted
with the generated private key or the library's private JWKS export. An oct key is shared, not
published, so its exports hold the secret. The reference judges each token with the exported key
the consumer was handed (a JWS) or the generated private key (a JWE), so an export that breaks
RFC 7518 §6 charges its producer. An EC or OKP key is, of up to 8 the library generated, the
first whose export breaks a rule (a coordinate short of its full size shows in some keys only).
One or a few suites per key type.
"""

from __future__ import annotations

from dataclasses import replace

from harness.core.errors import Finding, Rejected, Unsupported
from harness.interop.keygen import Material, export_defects, generate, suite_request
from harness.interop.scenario import ConsumerConfig, Context, case, named_suites
from scenarios.payloads import PAYLOAD

SUITES = (
    "JWS RS256", "JWS PS256", "JWE RSA-OAEP-256 + A256GCM",
    "JWS ES256", "JWE ECDH-ES+A256KW (P-256) + A256GCM", "JWS ES384", "JWS ES512", "JWS ES256K",
    "JWS EdDSA (Ed25519)", "JWS EdDSA (Ed448)",
    "JWE ECDH-ES+A256KW (X25519) + A256GCM", "JWE ECDH-ES+A256KW (X448) + A256GCM",
    "JWS HS256", "JWE A256KW + A256GCM", "JWE dir + A256GCM",
)
CONFIGS = (ConsumerConfig("exported JWK", key_form="jwk"),
           ConsumerConfig("exported JWKS", key_form="jwks"))


def _consumed(ctx: Context, material: Material) -> tuple[bytes, bytes, str]:
    assert ctx.producer is not None
    suite, jwks = ctx.suite, ctx.config.key_form == "jwks"
    header = {"kid": material.kid} if material.kid else {}
    if suite.family == "JWS":
        handed = material.public_jwks if jwks else material.public
        judged_with = material.jwks_key if jwks else material.public
        token = ctx.producer.sign(suite, PAYLOAD, material.private, header=header)
        ctx.producer.produced[-1] = replace(ctx.producer.produced[-1], key=judged_with)
        defects = export_defects(material.private, judged_with,
                                 public=suite.key.kty != "oct")
        consume = ctx.consumer.verify
    else:
        recipient = material.jwks_key if jwks else material.public
        token = ctx.producer.encrypt(suite, PAYLOAD, recipient, header=header)
        ctx.producer.produced[-1] = replace(ctx.producer.produced[-1],
                                            private=material.private)
        handed = material.private_jwks if jwks else material.private
        defects = export_defects(material.private, recipient, public=suite.key.kty != "oct")
        consume = ctx.consumer.decrypt
    said = ("; ".join(f"{ctx.producer.name}'s {'JWKS' if jwks else 'JWK'} export {d}"
                      for d in defects))
    try:
        received = consume(suite, token, handed)
    except Unsupported:
        raise
    except Rejected as error:
        raise Rejected(f"{said}; then: {error}" if said else str(error)) from error
    except Exception as error:
        if not said:
            raise
        raise Finding(f"{said}; then: {type(error).__name__}: {error}", "error") from error
    return PAYLOAD, received, said


@case(requirement="RFC 7517 §4, §5; RFC 7518 §6; RFC 8037 §2", suites=named_suites(*SUITES),
      configs=CONFIGS)
def library_made_key(ctx: Context) -> tuple[bytes, bytes, str]:
    """A key the producing library generated with its defaults and exported itself: the
    consumer verifies or decrypts with the export, as a user publishing a JWKS would have it."""
    assert ctx.producer is not None
    return _consumed(ctx, generate(ctx.producer.adapter, suite_request(ctx.producer.adapter,
                                                                       ctx.suite)))
