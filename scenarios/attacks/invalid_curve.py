"""Invalid-curve ECDH-ES (RFC 7518 §4.6, RFC 8037 §3.2, RFC 8725 §3.4): the `epk` is hostile.

A consumer must check that the ephemeral public key lies on the recipient's curve before it
multiplies: otherwise an attacker who sends points of small order on other curves learns the
private key a few bits per token (Jager, Schwenk, Somorovsky, ESORICS 2015). Each forged token
here is built so that a consumer that skips the check actually decrypts it: the forge computes
the shared secret that the unchecked arithmetic gives, with the recipient's private scalar.
"""

from __future__ import annotations

import os
from functools import partial

from harness.forge import jwe
from harness.forge.encoding import b64url, unb64
from harness.interop.scenario import Context, case, named_suites
from scenarios.attacks._jwe import decrypt, forge

EC_SUITES = named_suites("JWE ECDH-ES (P-256) + A256GCM", "JWE ECDH-ES+A128KW (P-256) + A128GCM",
                         "JWE ECDH-ES+A256KW (P-521) + A256GCM")
OKP_SUITES = named_suites("JWE ECDH-ES (X25519) + A256GCM",
                          "JWE ECDH-ES+A128KW (X25519) + A128GCM",
                          "JWE ECDH-ES (X448) + A256GCM")
REQUIREMENT = "RFC 7518 §4.6; RFC 8725 §3.4"
EC_CASE = partial(case, requirement=REQUIREMENT, expected="reject", suites=EC_SUITES,
                        producer="forge", attack_class="invalid-curve")
OKP_CASE = partial(case, requirement=REQUIREMENT, expected="reject", suites=OKP_SUITES,
                         producer="forge", attack_class="invalid-curve")
LOW_ORDER_CASE = partial(case, requirement="RFC 8037 §3.2; RFC 7748 §6", expected="reject",
                               suites=OKP_SUITES, producer="forge", attack_class="invalid-curve")
OTHER_CURVE = {"P-256": "P-384", "P-384": "P-256", "P-521": "P-256", "X25519": "X448",
               "X448": "X25519"}
# Points of small order (RFC 7748 §5 and its errata; the X25519 one has order 8): the clamped
# scalar kills them, so every recipient computes the all-zero shared secret.
LOW_ORDER = {
    "X25519": bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
    "X448": (1).to_bytes(56, "little"),
}
OKP_OCTETS = {"X25519": 32, "X448": 56}


def _scalar(ctx: Context) -> int:
    return int.from_bytes(unb64(ctx.keys.private(ctx.suite.key)["d"]), "big")


def _point_jwk(crv: str, point: tuple[int, int]) -> dict[str, str]:
    size = jwe._EC_OCTETS[crv]
    return {"kty": "EC", "crv": crv, "x": b64url(point[0].to_bytes(size, "big")),
            "y": b64url(point[1].to_bytes(size, "big"))}


def _unchecked(ctx: Context, crv: str, point: tuple[int, int]) -> tuple[bytes, bytes]:
    """A token whose epk is `point`, labelled `crv`, with the Z an unchecked consumer computes."""
    product = jwe.ec_multiply(_scalar(ctx), point, crv)
    assert product is not None, "the chosen point has an order dividing the scalar"
    z = product[0].to_bytes(jwe._EC_OCTETS[crv], "big")
    token = forge(ctx, epk=_point_jwk(crv, point), z=z).compact()
    return decrypt(ctx, token)


@EC_CASE(severity="forgery",
    why=("A point off the recipient's curve leaks the private key to repeated queries, or gives a"
         " shared secret anyone knows (RFC 7518 §4.6, RFC 8725 §3.4)."))
def off_curve_epk(ctx: Context) -> tuple[bytes, bytes]:
    """An `epk` point that is not on the recipient's curve (on y² = x³ - 3x + b' for another b')."""
    crv = ctx.suite.key.param
    return _unchecked(ctx, crv, (3, 5))


@EC_CASE(severity="forgery",
    why=("A point off the recipient's curve leaks the private key to repeated queries, or gives a"
         " shared secret anyone knows (RFC 7518 §4.6, RFC 8725 §3.4)."))
def other_curve_epk(ctx: Context) -> tuple[bytes, bytes]:
    """A valid `epk` on another NIST curve than the recipient's key (P-384 for a P-256 key)."""
    other = OTHER_CURVE[ctx.suite.key.param]
    numbers = jwe.ephemeral_key(other).public_key().public_numbers()
    return _unchecked(ctx, other, (numbers.x, numbers.y))


@LOW_ORDER_CASE(severity="forgery",
    why=("A point off the recipient's curve leaks the private key to repeated queries, or gives a"
         " shared secret anyone knows (RFC 7518 §4.6, RFC 8725 §3.4)."))
def low_order_epk(ctx: Context) -> tuple[bytes, bytes]:
    """An X25519/X448 `epk` of small order: the shared secret is all zeros, known to anyone."""
    crv = ctx.suite.key.param
    epk = {"kty": "OKP", "crv": crv, "x": b64url(LOW_ORDER[crv])}
    return decrypt(ctx, forge(ctx, epk=epk, z=bytes(OKP_OCTETS[crv])).compact())


@LOW_ORDER_CASE(severity="forgery",
    why=("A point off the recipient's curve leaks the private key to repeated queries, or gives a"
         " shared secret anyone knows (RFC 7518 §4.6, RFC 8725 §3.4)."))
def zero_epk(ctx: Context) -> tuple[bytes, bytes]:
    """An X25519/X448 `epk` of u = 0: the shared secret is all zeros (RFC 7748 §6 check)."""
    crv = ctx.suite.key.param
    epk = {"kty": "OKP", "crv": crv, "x": b64url(bytes(OKP_OCTETS[crv]))}
    return decrypt(ctx, forge(ctx, epk=epk, z=bytes(OKP_OCTETS[crv])).compact())


@OKP_CASE(severity="forgery",
    why=("A point off the recipient's curve leaks the private key to repeated queries, or gives a"
         " shared secret anyone knows (RFC 7518 §4.6, RFC 8725 §3.4)."))
def other_okp_curve_epk(ctx: Context) -> tuple[bytes, bytes]:
    """An `epk` on the other Montgomery curve (X448 for an X25519 key, and back)."""
    other = OTHER_CURVE[ctx.suite.key.param]
    epk = jwe.public_jwk_of(jwe.ephemeral_key(other).public_key())
    return decrypt(ctx, forge(ctx, epk=epk, z=os.urandom(OKP_OCTETS[other])).compact())
