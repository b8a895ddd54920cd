"""The floor: the raw `cryptography` operation behind each suite, written with `cryptography` only.

Each primitive does the cryptographic work the JOSE operation cannot avoid, on the same key and
the same bytes (the token's signing input, the payload, the protected header as AAD, the
library's own PBES2 iteration count), and nothing else: no JSON, base64 or header handling.
`overhead_x = primitive rate / library rate` is what the library adds above it.
"""

from __future__ import annotations

import hmac as std_hmac
import json
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, hmac, padding
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, x448, x25519
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap

from harness.core.keyforms import private_key, secret, unb64
from harness.core.keys import JWK
from harness.core.suites import CONTENT_KEY_BITS, EC_CURVE_OF, Suite

HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
OKP_PRIVATE = {"Ed25519": ed25519.Ed25519PrivateKey, "Ed448": ed448.Ed448PrivateKey,
               "X25519": x25519.X25519PrivateKey, "X448": x448.X448PrivateKey}


@dataclass
class Primitive:
    description: str
    run: Callable[[], Any]


def token_header(token: str) -> dict[str, Any]:
    header: dict[str, Any] = json.loads(unb64(token.split(".", 1)[0]))
    return header


def primitive(suite: Suite, operation: str, jwk: JWK, token: str, payload: bytes) -> Primitive:
    """The floor for `operation` on `suite`; `token` is the library's own compact token."""
    key = secret(jwk) if jwk["kty"] == "oct" else private_key(jwk)
    if suite.family == "JWS":
        return _jws(suite, operation, key, token.rsplit(".", 1)[0].encode("ascii"))
    return _jwe(suite, operation, key, token, payload)


def _jws(suite: Suite, operation: str, key: Any, data: bytes) -> Primitive:
    alg = suite.alg
    verifying = operation == "verify"
    if alg.startswith("HS"):
        digest = HASHES[alg[2:]]()

        def mac() -> bytes:
            h = hmac.HMAC(key, digest)
            h.update(data)
            return h.finalize()
        tag = mac()
        if verifying:
            return Primitive(f"HMAC-SHA{alg[2:]} verify",
                             lambda: std_hmac.compare_digest(mac(), tag))
        return Primitive(f"HMAC-SHA{alg[2:]}", mac)
    if alg.startswith(("RS", "PS")):
        digest = HASHES[alg[2:]]()
        pad = (asym_padding.PKCS1v15() if alg.startswith("RS") else
               asym_padding.PSS(asym_padding.MGF1(digest), digest.digest_size))
        name = f"RSA {'PKCS#1 v1.5' if alg.startswith('RS') else 'PSS'} SHA-{alg[2:]}"
        signature = key.sign(data, pad, digest)
        public = key.public_key()
        if verifying:
            return Primitive(f"{name} verify", lambda: public.verify(signature, data, pad, digest))
        return Primitive(f"{name} sign", lambda: key.sign(data, pad, digest))
    if alg in EC_CURVE_OF:
        scheme = ec.ECDSA(HASHES[alg[2:5]]())
        signature = key.sign(data, scheme)
        public = key.public_key()
        name = f"ECDSA {EC_CURVE_OF[alg]}"
        if verifying:
            return Primitive(f"{name} verify", lambda: public.verify(signature, data, scheme))
        return Primitive(f"{name} sign", lambda: key.sign(data, scheme))
    signature = key.sign(data)
    public = key.public_key()
    if verifying:
        return Primitive(f"{suite.key.param} verify", lambda: public.verify(signature, data))
    return Primitive(f"{suite.key.param} sign", lambda: key.sign(data))


# -- JWE ----------------------------------------------------------------------------------------

def _content(enc: str) -> tuple[str, Callable[..., bytes], Callable[..., bytes]]:
    """(description, seal(cek, iv, plaintext, aad), open(cek, iv, sealed, aad))."""
    if enc.endswith("GCM"):
        return (f"AES-{enc[1:4]}-GCM", lambda cek, iv, pt, aad: AESGCM(cek).encrypt(iv, pt, aad),
                lambda cek, iv, ct, aad: AESGCM(cek).decrypt(iv, ct, aad))
    bits = int(enc[-3:])
    digest = HASHES[enc[-3:]]

    def mac(key: bytes, aad: bytes, iv: bytes, ciphertext: bytes) -> bytes:
        h = hmac.HMAC(key, digest())
        h.update(aad + iv + ciphertext + struct.pack(">Q", len(aad) * 8))
        return h.finalize()[: bits // 16]

    def seal(cek: bytes, iv: bytes, plaintext: bytes, aad: bytes) -> bytes:
        half = len(cek) // 2
        padder = padding.PKCS7(128).padder()
        padded = padder.update(plaintext) + padder.finalize()
        encryptor = Cipher(algorithms.AES(cek[half:]), modes.CBC(iv)).encryptor()
        ciphertext = encryptor.update(padded) + encryptor.finalize()
        return ciphertext + mac(cek[:half], aad, iv, ciphertext)

    def open_(cek: bytes, iv: bytes, sealed: bytes, aad: bytes) -> bytes:
        half = len(cek) // 2
        ciphertext, tag = sealed[: -bits // 16], sealed[-bits // 16:]
        if not std_hmac.compare_digest(mac(cek[:half], aad, iv, ciphertext), tag):
            raise ValueError("bad tag")
        decryptor = Cipher(algorithms.AES(cek[half:]), modes.CBC(iv)).decryptor()
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return unpadder.update(padded) + unpadder.finalize()

    return f"AES-{bits // 2}-CBC + HMAC-SHA{enc[-3:]}", seal, open_


def _concat_kdf(algorithm_id: str, bits: int) -> ConcatKDFHash:
    def field(value: bytes) -> bytes:
        return struct.pack(">I", len(value)) + value
    other = field(algorithm_id.encode()) + field(b"") + field(b"") + struct.pack(">I", bits)
    return ConcatKDFHash(hashes.SHA256(), bits // 8, other)


def _key_management(suite: Suite, key: Any, header: dict[str, Any], cek_bytes: int
                    ) -> tuple[str, Callable[[], tuple[bytes, Any]], Callable[[Any], bytes]]:
    """(description, make() -> (cek, what the recipient receives), recover(received) -> cek)."""
    alg = suite.alg

    def fresh() -> bytes:
        return os.urandom(cek_bytes)
    if alg == "dir":
        return "", lambda: (key, None), lambda _received: key
    if alg.endswith("GCMKW"):
        def make_gcmkw() -> tuple[bytes, Any]:
            cek, iv = fresh(), os.urandom(12)
            return cek, (iv, AESGCM(key).encrypt(iv, cek, b""))
        return ("AES-GCM key wrap", make_gcmkw,
                lambda received: AESGCM(key).decrypt(received[0], received[1], b""))
    if alg.endswith("KW") and alg[0] == "A":
        def make_kw() -> tuple[bytes, Any]:
            cek = fresh()
            return cek, aes_key_wrap(key, cek)
        return "AES-KW", make_kw, lambda received: aes_key_unwrap(key, received)
    if alg.startswith("RSA"):
        sha = hashes.SHA256 if alg.endswith("256") else hashes.SHA1
        pad = (asym_padding.PKCS1v15() if alg == "RSA1_5" else
               asym_padding.OAEP(asym_padding.MGF1(sha()), sha(), None))
        public = key.public_key()

        def make_rsa() -> tuple[bytes, Any]:
            cek = fresh()
            return cek, public.encrypt(cek, pad)
        name = "RSA PKCS#1 v1.5" if alg == "RSA1_5" else alg
        return name, make_rsa, lambda received: key.decrypt(received, pad)
    if alg.startswith("PBES2"):
        count = int(header["p2c"])
        digest = HASHES[alg[8:11]]
        size = int(alg[-5:-2]) // 8

        def derive(p2s: bytes) -> bytes:
            return PBKDF2HMAC(digest(), size, alg.encode() + b"\0" + p2s, count).derive(key)

        def make_pbes2() -> tuple[bytes, Any]:
            cek, p2s = fresh(), os.urandom(16)
            return cek, (p2s, aes_key_wrap(derive(p2s), cek))
        return (f"PBKDF2-SHA{alg[8:11]} x{count} + AES-KW", make_pbes2,
                lambda received: aes_key_unwrap(derive(received[0]), received[1]))
    # ECDH-ES, direct or with AES key wrap, on a NIST curve or X25519/X448.
    wrap_bits = int(alg[-5:-2]) if alg.endswith("KW") else None
    derived_bits = wrap_bits or cek_bytes * 8
    algorithm_id = alg if wrap_bits else suite.enc or ""
    nist = isinstance(key, ec.EllipticCurvePrivateKey)
    public = key.public_key()

    def agree(own: Any, peer: Any) -> bytes:
        shared: bytes = own.exchange(ec.ECDH(), peer) if nist else own.exchange(peer)
        return _concat_kdf(algorithm_id, derived_bits).derive(shared)

    def ephemeral() -> Any:
        if nist:
            return ec.generate_private_key(key.curve)
        return OKP_PRIVATE[suite.key.param].generate()
    name = f"ECDH {suite.key.param} + Concat KDF" + (" + AES-KW" if wrap_bits else "")
    if not wrap_bits:
        def make_direct() -> tuple[bytes, Any]:
            mine = ephemeral()
            return agree(mine, public), mine.public_key()
        return name, make_direct, lambda received: agree(key, received)

    def make_ecdh_kw() -> tuple[bytes, Any]:
        mine, cek = ephemeral(), fresh()
        return cek, (mine.public_key(), aes_key_wrap(agree(mine, public), cek))
    return name, make_ecdh_kw, lambda received: aes_key_unwrap(agree(key, received[0]),
                                                               received[1])


def _jwe(suite: Suite, operation: str, key: Any, token: str, payload: bytes) -> Primitive:
    assert suite.enc is not None
    aad = token.split(".", 1)[0].encode("ascii")
    cek_bytes = CONTENT_KEY_BITS[suite.enc] // 8
    iv_bytes = 12 if suite.enc.endswith("GCM") else 16
    content_name, seal, open_ = _content(suite.enc)
    wrap_name, make, recover = _key_management(suite, key, token_header(token), cek_bytes)
    name = f"{wrap_name} + {content_name}" if wrap_name else content_name

    def encrypt() -> tuple[Any, bytes]:
        cek, received = make()
        iv = os.urandom(iv_bytes)
        return received, seal(cek, iv, payload, aad)

    if operation == "encrypt":
        return Primitive(f"{name} encrypt", encrypt)
    cek, received = make()
    iv = os.urandom(iv_bytes)
    sealed = seal(cek, iv, payload, aad)

    def decrypt() -> bytes:
        plaintext = open_(recover(received), iv, sealed, aad)
        return plaintext
    return Primitive(f"{name} decrypt", decrypt)
