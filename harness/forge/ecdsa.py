"""ECDSA signatures with chosen r and s (the "psychic signature" family, CVE-2022-21449), and
the encodings a JWS must not carry: DER instead of the raw R || S of RFC 7518 §3.4."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

# The group order n of each JWS curve (SEC 2), so no library is asked for it.
ORDERS = {
    "ES256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "ES384": int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77A"
                 "ECEC196ACCC52973", 16),
    "ES512": int("01FF" + "FFFFFFFF" * 7 + "FFFFFFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8"
                 "899C47AEBB6FB71E91386409", 16),
    "ES256K": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
}
OCTETS = {"ES256": 32, "ES256K": 32, "ES384": 48, "ES512": 66}
CURVES = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1,
          "ES256K": ec.SECP256K1}


def raw(alg: str, r: int, s: int) -> bytes:
    """R || S, each big-endian in the curve's octet length (RFC 7518 §3.4)."""
    size = OCTETS[alg]
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def split(alg: str, signature: bytes) -> tuple[int, int]:
    size = OCTETS[alg]
    return (int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big"))


def der(alg: str, signature: bytes) -> bytes:
    """The same (r, s) as an ASN.1 DER ECDSA-Sig-Value, as X.509 and many APIs write it."""
    return encode_dss_signature(*split(alg, signature))
