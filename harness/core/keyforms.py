"""A JWK as `cryptography` key objects and in the other forms an application might hold a key:
SPKI PEM, PKCS#1 PEM, DER, OpenSSH text, JWK JSON text, JWKS JSON text, raw public bytes.
Written with `cryptography` alone, so no library under test shapes the keys it is judged on.

`RawText` and `RawBytes` mark key material *handed over untouched*: an adapter given one passes
it to the library's documented key parameter as it is, never through an import of its own
choosing (a PEM import, a key type), exactly as an application that read the text from a file
or a JWKS endpoint does."""

from __future__ import annotations

import base64
import json
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519

from harness.core.keys import JWK, public_jwk

KeyForm = Literal["jwk", "jwks", "pem", "pkcs1", "der", "openssh", "jwk-json", "jwks-json",
                  "raw"]


class RawText(str):
    """Key text handed to the library untouched (see the module docstring)."""

    __slots__ = ()


class RawBytes(bytes):
    """Key bytes handed to the library untouched."""

    __slots__ = ()


def hand_over(key: Any) -> Any:
    """`key` marked as handed over untouched; a JWK dict stays a dict (it has no raw form)."""
    if isinstance(key, str):
        return RawText(key)
    if isinstance(key, bytes):
        return RawBytes(key)
    return key


def handed_over(key: Any) -> bool:
    return isinstance(key, RawText | RawBytes)

_CURVES = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1,
           "secp256k1": ec.SECP256K1}
_OKP_PRIVATE = {"Ed25519": ed25519.Ed25519PrivateKey, "Ed448": ed448.Ed448PrivateKey,
                "X25519": x25519.X25519PrivateKey, "X448": x448.X448PrivateKey}
_OKP_PUBLIC = {"Ed25519": ed25519.Ed25519PublicKey, "Ed448": ed448.Ed448PublicKey,
               "X25519": x25519.X25519PublicKey, "X448": x448.X448PublicKey}


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int(text: str) -> int:
    return int.from_bytes(unb64(text), "big")


def public_key(jwk: JWK) -> Any:
    """The `cryptography` public key of an RSA, EC or OKP JWK."""
    kty = jwk["kty"]
    if kty == "RSA":
        return rsa.RSAPublicNumbers(_int(jwk["e"]), _int(jwk["n"])).public_key()
    if kty == "EC":
        curve = _CURVES[jwk["crv"]]()
        return ec.EllipticCurvePublicNumbers(_int(jwk["x"]), _int(jwk["y"]), curve).public_key()
    if kty == "OKP":
        return _OKP_PUBLIC[jwk["crv"]].from_public_bytes(unb64(jwk["x"]))
    raise ValueError(f"no public key for kty {kty!r}")


def private_key(jwk: JWK) -> Any:
    """The `cryptography` private key of an RSA, EC or OKP JWK (with its private members)."""
    kty = jwk["kty"]
    if kty == "RSA":
        public = rsa.RSAPublicNumbers(_int(jwk["e"]), _int(jwk["n"]))
        # Checking the key costs 50-300 ms (primality tests); these are keys `cryptography`
        # made for the harness or its attacker, never input under test, and an isolated
        # case's child, whose caches die with it, loaded two of them per cell.
        return rsa.RSAPrivateNumbers(
            _int(jwk["p"]), _int(jwk["q"]), _int(jwk["d"]), _int(jwk["dp"]), _int(jwk["dq"]),
            _int(jwk["qi"]), public).private_key(unsafe_skip_rsa_key_validation=True)
    if kty == "EC":
        return ec.derive_private_key(_int(jwk["d"]), _CURVES[jwk["crv"]]())
    if kty == "OKP":
        return _OKP_PRIVATE[jwk["crv"]].from_private_bytes(unb64(jwk["d"]))
    raise ValueError(f"no private key for kty {kty!r}")


def secret(jwk: JWK) -> bytes:
    return unb64(jwk["k"])


def public_form(jwk: JWK, form: KeyForm) -> JWK | str | bytes:
    """The public half of `jwk` as an application holding it in `form` would pass it."""
    if jwk["kty"] == "oct":
        return secret(jwk) if form in {"raw", "pem", "der"} else public_jwk(jwk)
    if form == "jwk":
        return public_jwk(jwk)
    if form == "jwk-json":
        return json.dumps(public_jwk(jwk))
    if form == "jwks-json":
        return json.dumps({"keys": [public_jwk(jwk)]})
    key = public_key(jwk)
    if form == "pem":
        return key.public_bytes(ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo).decode()
    if form == "pkcs1":
        return key.public_bytes(ser.Encoding.PEM, ser.PublicFormat.PKCS1).decode()
    if form == "der":
        return key.public_bytes(ser.Encoding.DER, ser.PublicFormat.SubjectPublicKeyInfo)
    if form == "openssh":
        return key.public_bytes(ser.Encoding.OpenSSH, ser.PublicFormat.OpenSSH).decode()
    if form == "raw":
        return raw_public(jwk, key)
    raise ValueError(f"no public form {form!r}")


def raw_public(jwk: JWK, key: Any) -> bytes:
    """The public key as bare bytes: the OKP key itself (RFC 8037), the uncompressed EC point
    (SEC 1), and for RSA, which has no bare form, the PKCS#1 DER structure."""
    if jwk["kty"] == "OKP":
        return key.public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw)
    if jwk["kty"] == "EC":
        return key.public_bytes(ser.Encoding.X962, ser.PublicFormat.UncompressedPoint)
    return key.public_bytes(ser.Encoding.DER, ser.PublicFormat.PKCS1)


def private_form(jwk: JWK, form: KeyForm) -> JWK | str | bytes:
    """The private key as an application holding it in `form` would pass it."""
    if jwk["kty"] == "oct":
        return secret(jwk) if form in {"raw", "pem", "der"} else dict(jwk)
    if form == "jwk":
        return dict(jwk)
    if form == "pem":
        return private_key(jwk).private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8,
                                              ser.NoEncryption()).decode()
    raise ValueError(f"no private form {form!r}")
