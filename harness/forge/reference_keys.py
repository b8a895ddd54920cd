"""JWKs as `cryptography` keys, checked the way the strict reference needs: sizes, curves,
coordinate lengths, points on the curve, sane RSA exponents. Loaded keys are cached by their
members, since loading an RSA private key checks it (tens of milliseconds)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519

from harness.core.keys import JWK
from harness.forge.reference_common import ReferenceRefused, b64decode

EC_CURVES = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1,
             "secp256k1": ec.SECP256K1}
EC_OCTETS = {"P-256": 32, "P-384": 48, "P-521": 66, "secp256k1": 32}
OKP_PUBLIC = {"Ed25519": ed25519.Ed25519PublicKey, "Ed448": ed448.Ed448PublicKey,
              "X25519": x25519.X25519PublicKey, "X448": x448.X448PublicKey}
OKP_PRIVATE = {"Ed25519": ed25519.Ed25519PrivateKey, "Ed448": ed448.Ed448PrivateKey,
               "X25519": x25519.X25519PrivateKey, "X448": x448.X448PrivateKey}
MIN_RSA_BITS = 2048
# ROCA (CVE-2017-15361): primes made by the vulnerable generator are 65537^a mod M plus a
# multiple of M, so n mod r lies in the subgroup 65537 generates mod every small prime r of M.
_ROCA_PRIMES = (3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79,
                83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167)


def _subgroup(prime: int) -> frozenset[int]:
    members, value = set(), 1
    while value not in members:
        members.add(value)
        value = value * 65537 % prime
    return frozenset(members)


_ROCA_GROUPS = tuple((prime, _subgroup(prime)) for prime in _ROCA_PRIMES)


def has_roca_fingerprint(n: int) -> bool:
    return all(n % prime in group for prime, group in _ROCA_GROUPS)


def _member(jwk: JWK, name: str) -> bytes:
    if name not in jwk:
        raise ReferenceRefused(f"the {jwk.get('kty')} key has no {name!r} member (RFC 7518 §6)")
    return b64decode(jwk[name], f"the key's {name!r} member")


def _int(jwk: JWK, name: str) -> int:
    return int.from_bytes(_member(jwk, name), "big")


def _frozen(jwk: JWK) -> str:
    return json.dumps(jwk, sort_keys=True)


def expect_kty(jwk: JWK, kty: str, alg: str) -> None:
    if jwk.get("kty") != kty:
        raise ReferenceRefused(f"alg {alg} needs a {kty} key, the key is kty "
                               f"{jwk.get('kty')!r} (RFC 7518 §3.1/§4.1)")


def secret(jwk: JWK, alg: str) -> bytes:
    expect_kty(jwk, "oct", alg)
    return _member(jwk, "k")


def rsa_public(jwk: JWK, alg: str) -> rsa.RSAPublicKey:
    expect_kty(jwk, "RSA", alg)
    return _rsa_public(_frozen({"n": jwk.get("n"), "e": jwk.get("e"), "kty": "RSA"}))


@cache
def _rsa_public(frozen: str) -> rsa.RSAPublicKey:
    jwk = json.loads(frozen)
    n, e = _int(jwk, "n"), _int(jwk, "e")
    if n.bit_length() < MIN_RSA_BITS:
        raise ReferenceRefused(f"the RSA key has {n.bit_length()} bits; a key of 2048 bits or "
                               "larger MUST be used (RFC 7518 §3.3, §4.2, §4.3)")
    if e < 3 or e % 2 == 0:
        raise ReferenceRefused(f"the RSA public exponent {e} is not an odd integer of at least "
                               "3 (RFC 8017 §3.1)")
    if has_roca_fingerprint(n):
        raise ReferenceRefused("the RSA modulus has the ROCA fingerprint (CVE-2017-15361): its "
                               "primes are weak (RFC 8017 §3.1)")
    try:
        return rsa.RSAPublicNumbers(e, n).public_key()
    except ValueError as error:
        raise ReferenceRefused(f"the RSA key is invalid: {error} (RFC 7518 §6.3)") from None


def rsa_private(jwk: JWK, alg: str) -> rsa.RSAPrivateKey:
    rsa_public(jwk, alg)
    return _rsa_private(_frozen(jwk))


@cache
def _rsa_private(frozen: str) -> rsa.RSAPrivateKey:
    jwk = json.loads(frozen)
    names = ("p", "q", "d", "dp", "dq", "qi")
    if not all(name in jwk for name in names):
        raise ReferenceRefused("the RSA key lacks private members p, q, d, dp, dq, qi "
                               "(RFC 7518 §6.3.2)")
    public = rsa.RSAPublicNumbers(_int(jwk, "e"), _int(jwk, "n"))
    try:
        return rsa.RSAPrivateNumbers(*(_int(jwk, name) for name in names),
                                     public).private_key()
    except ValueError as error:
        raise ReferenceRefused(f"the RSA private key is invalid: {error} "
                               "(RFC 7518 §6.3.2)") from None


def ec_public(jwk: JWK, crv: str, alg: str, what: str = "key") -> ec.EllipticCurvePublicKey:
    """An EC public key on `crv`: coordinates of the full length, the point on the curve."""
    expect_kty(jwk, "EC", alg)
    if jwk.get("crv") != crv:
        raise ReferenceRefused(f"alg {alg} needs curve {crv}, the {what} is on "
                               f"{jwk.get('crv')!r} (RFC 7518 §3.4, §4.6)")
    return _ec_public(_frozen({"crv": crv, "x": jwk.get("x"), "y": jwk.get("y")}), what)


@cache
def _ec_public(frozen: str, what: str) -> ec.EllipticCurvePublicKey:
    jwk = json.loads(frozen)
    crv = jwk["crv"]
    x, y = _member(jwk, "x"), _member(jwk, "y")
    if len(x) != EC_OCTETS[crv] or len(y) != EC_OCTETS[crv]:
        raise ReferenceRefused(f"the {what}'s coordinates are not {EC_OCTETS[crv]} octets, "
                               "the full size of a coordinate (RFC 7518 §6.2.1.2)")
    numbers = ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"),
                                            EC_CURVES[crv]())
    try:
        return numbers.public_key()
    except ValueError:
        raise ReferenceRefused(f"the {what}'s point is not on {crv}; it MUST be validated "
                               "(RFC 7518 §4.6, NIST SP 800-56A §5.6.2.3)") from None


def ec_private(jwk: JWK, crv: str, alg: str) -> ec.EllipticCurvePrivateKey:
    public = ec_public(jwk, crv, alg)
    d = _int(jwk, "d") if "d" in jwk else None
    if d is None:
        raise ReferenceRefused("the EC key has no private member d (RFC 7518 §6.2.2)")
    return _ec_private(d, crv, public.public_numbers().x, public.public_numbers().y)


@cache
def _ec_private(d: int, crv: str, x: int, y: int) -> ec.EllipticCurvePrivateKey:
    try:
        key = ec.derive_private_key(d, EC_CURVES[crv]())
    except ValueError:
        raise ReferenceRefused("the EC private key d is out of range (RFC 7518 §6.2.2)") from None
    numbers = key.public_key().public_numbers()
    if (numbers.x, numbers.y) != (x, y):
        raise ReferenceRefused("the EC key's d does not match its x and y (RFC 7518 §6.2.2)")
    return key


def okp_public(jwk: JWK, curves: tuple[str, ...], alg: str, what: str = "key") -> Any:
    expect_kty(jwk, "OKP", alg)
    crv = jwk.get("crv")
    if crv not in curves:
        raise ReferenceRefused(f"alg {alg} needs an OKP key on {' or '.join(curves)}, the "
                               f"{what} is on {crv!r} (RFC 8037 §3)")
    try:
        return OKP_PUBLIC[crv].from_public_bytes(_member(jwk, "x"))
    except ValueError:
        raise ReferenceRefused(f"the {what}'s x is not a {crv} public key (RFC 8037 §2)") from None


def okp_private(jwk: JWK, curves: tuple[str, ...], alg: str) -> Any:
    public = okp_public(jwk, curves, alg)
    try:
        key = OKP_PRIVATE[jwk["crv"]].from_private_bytes(_member(jwk, "d"))
    except ValueError:
        raise ReferenceRefused(f"the key's d is not a {jwk['crv']} private key "
                               "(RFC 8037 §2)") from None
    if key.public_key() != public:
        raise ReferenceRefused("the OKP key's d does not match its x (RFC 8037 §2)")
    return key
