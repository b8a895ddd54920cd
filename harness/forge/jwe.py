"""JWE built with `cryptography` alone (RFC 7516, RFC 7518 §4-§5, RFC 8037 §3.2).

Every piece can be given instead of computed (the protected header's exact bytes, the CEK, the
IV, the tag, the `epk` and its shared secret, `p2s`/`p2c`, the compressed plaintext), so a
hostile token differs from a valid one in exactly the defect a case tests. The steps follow
RFC 7516 §5.1: key management makes the CEK and the encrypted key (and header parameters such as
`epk`, `iv`/`tag`, `p2s`/`p2c`), then the plaintext is (optionally) deflated and sealed with the
AAD = ASCII(BASE64URL(protected header bytes)) [+ '.' + BASE64URL(aad)].
"""

from __future__ import annotations

import json
import os
import random
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import ec, x448, x25519
from cryptography.hazmat.primitives.asymmetric import padding as asym
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives.keywrap import aes_key_wrap

from harness.core.keyforms import public_key, secret
from harness.core.keys import JWK
from harness.core.suites import CONTENT_KEY_BITS, KEY_WRAP_BITS
from harness.forge.encoding import b64url, compact, encode_json, unb64
from harness.forge.jws import hmac_signature

Header = dict[str, Any]
_HASH_OF = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
_EC_CURVES = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1}
# Prime and `a` of the NIST curves (y² = x³ + ax + b): enough for point arithmetic that never
# uses `b`, which is exactly what an implementation that skips the on-curve check computes.
_EC_FIELD = {
    "P-256": 2**256 - 2**224 + 2**192 + 2**96 - 1,
    "P-384": 2**384 - 2**128 - 2**96 + 2**32 - 1,
    "P-521": 2**521 - 1,
}
_EC_OCTETS = {"P-256": 32, "P-384": 48, "P-521": 66}
_OKP_PRIVATE = {"X25519": x25519.X25519PrivateKey, "X448": x448.X448PrivateKey}


# -- pieces -----------------------------------------------------------------------------------

def header_bytes(header: Header | bytes | str) -> bytes:
    """The protected header exactly as it goes on the wire: bytes and text are kept verbatim."""
    if isinstance(header, bytes):
        return header
    if isinstance(header, str):
        return header.encode()
    return encode_json(header)


def aad_for(protected: bytes, aad: bytes | None = None) -> bytes:
    """RFC 7516 §5.1 step 14: ASCII(BASE64URL(protected)), then '.' BASE64URL(aad) if any."""
    text = b64url(protected) if protected else ""
    if aad is not None:
        text += "." + b64url(aad)
    return text.encode("ascii")


def cek_bytes(enc: str) -> int:
    return CONTENT_KEY_BITS[enc] // 8


def iv_bytes(enc: str) -> int:
    return 12 if enc.endswith("GCM") else 16


def cbc_padded(plaintext: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    return padder.update(plaintext) + padder.finalize()


def cbc_hmac(enc: str, cek: bytes, iv: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    """RFC 7518 §5.2.2.1: the whole HMAC(MAC_KEY, A || IV || E || AL), before truncation."""
    al = (len(aad) * 8).to_bytes(8, "big")
    return hmac_signature(f"HS{enc[-3:]}", cek[:len(cek) // 2], aad + iv + ciphertext + al)


def cbc_hmac_tag(enc: str, cek: bytes, iv: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    """The authentication tag T: the HMAC truncated to T_LEN, half its length."""
    return cbc_hmac(enc, cek, iv, ciphertext, aad)[:len(cek) // 2]


def seal(enc: str, cek: bytes, iv: bytes, plaintext: bytes, aad: bytes,
         padded: bytes | None = None) -> tuple[bytes, bytes]:
    """(ciphertext, tag) of RFC 7518 §5.2 (AES-CBC-HMAC) or §5.3 (AES-GCM).

    `padded`: for AES-CBC, the block-aligned bytes to encrypt instead of PKCS#7(plaintext), so
    a case can seal bad padding under a valid tag.
    """
    if enc.endswith("GCM"):
        sealed = AESGCM(cek).encrypt(iv, plaintext, aad)
        return sealed[:-16], sealed[-16:]
    half = len(cek) // 2
    encryptor = Cipher(algorithms.AES(cek[half:]), modes.CBC(iv)).encryptor()
    data = cbc_padded(plaintext) if padded is None else padded
    ciphertext = encryptor.update(data) + encryptor.finalize()
    return ciphertext, cbc_hmac_tag(enc, cek, iv, ciphertext, aad)


def deflate(data: bytes, wrapped: bool = False) -> bytes:
    """DEFLATE (RFC 1951) as `zip: DEF` requires; `wrapped` adds the zlib (RFC 1950) frame."""
    compressor = _compressor(wrapped)
    return compressor.compress(data) + compressor.flush()


def _compressor(wrapped: bool) -> Any:
    # The default level, so a wrapped stream starts 78 9c as `zlib.compress` makes it (the
    # header some consumers sniff for).
    bits = zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS
    return zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, bits)


BOMB_BLOCK = 1 << 20


@lru_cache(maxsize=8)
def deflate_bomb(size: int, wrapped: bool = False) -> bytes:
    """A DEFLATE stream of `size` zero bytes (a multiple of 1 MiB), built without compressing
    `size` bytes: after a full flush the compressor's state is reset, so each further MiB of
    zeros compresses to the same bytes, and the stream is that piece repeated."""
    if size % BOMB_BLOCK:
        raise ValueError("a bomb is a whole number of MiB")
    zeros = bytes(BOMB_BLOCK)
    compressor = _compressor(wrapped)
    first = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    piece = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    count = size // BOMB_BLOCK
    tail = compressor.flush(zlib.Z_FINISH)
    if wrapped:
        # The zlib trailer is the Adler-32 of the whole output; over n zero bytes that is
        # A = 1, B = n mod 65521.
        tail = tail[:-4] + ((size % 65521) << 16 | 1).to_bytes(4, "big")
    return first + piece * (count - 1) + tail


def ratio_block(ratio: int) -> bytes:
    """One MiB that raw DEFLATE compresses about `ratio` to 1: its first 1/`ratio` is
    pseudo-random (the same bytes for a ratio, so a case's token is stable), the rest zeros."""
    noise = random.Random(ratio).randbytes(BOMB_BLOCK // ratio)
    return noise + bytes(BOMB_BLOCK - len(noise))


@lru_cache(maxsize=8)
def ratio_bomb(size: int, ratio: int) -> bytes:
    """A raw DEFLATE stream of `size` bytes (a multiple of 1 MiB) of `ratio_block(ratio)`
    repeated, built as `deflate_bomb` builds its zeros: after a full flush each further block
    compresses to the same piece, so the stream is that piece repeated."""
    if size % BOMB_BLOCK:
        raise ValueError("a bomb is a whole number of MiB")
    block = ratio_block(ratio)
    compressor = _compressor(False)
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    piece = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    return first + piece * (size // BOMB_BLOCK - 1) + compressor.flush(zlib.Z_FINISH)


# -- key management -----------------------------------------------------------------------------

@dataclass
class KeyManagement:
    """What key management gives: the CEK, the encrypted key, and header parameters it adds."""

    cek: bytes
    encrypted_key: bytes
    params: Header = field(default_factory=dict)


def public_jwk_of(key: Any) -> JWK:
    """The JWK of a `cryptography` EC or X25519/X448 public key (for an `epk`)."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        crv = {v.name: k for k, v in _EC_CURVES.items()}[key.curve.name]
        numbers, size = key.public_numbers(), _EC_OCTETS[crv]
        return {"kty": "EC", "crv": crv, "x": b64url(numbers.x.to_bytes(size, "big")),
                "y": b64url(numbers.y.to_bytes(size, "big"))}
    crv = "X25519" if isinstance(key, x25519.X25519PublicKey) else "X448"
    return {"kty": "OKP", "crv": crv,
            "x": b64url(key.public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw))}


def ephemeral_key(crv: str) -> Any:
    if crv in _EC_CURVES:
        return ec.generate_private_key(_EC_CURVES[crv]())
    return _OKP_PRIVATE[crv].generate()


def concat_kdf(z: bytes, algorithm_id: str, bits: int, apu: bytes = b"",
               apv: bytes = b"") -> bytes:
    """RFC 7518 §4.6.2: Concat KDF (NIST SP 800-56A) with SHA-256 and the JOSE OtherInfo."""
    def field_(data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + data
    other = (field_(algorithm_id.encode()) + field_(apu) + field_(apv)
             + bits.to_bytes(4, "big"))
    return ConcatKDFHash(hashes.SHA256(), bits // 8, other).derive(z)


def ec_multiply(scalar: int, point: tuple[int, int], crv: str) -> tuple[int, int] | None:
    """scalar × point with the affine formulas of a short Weierstrass curve with a = -3.

    The formulas never use `b`, so for a point off the curve this is what an implementation
    that skips the on-curve check computes (the invalid-curve attack). None is infinity.
    """
    p = _EC_FIELD[crv]
    a = p - 3

    def add(u: tuple[int, int] | None, v: tuple[int, int] | None) -> tuple[int, int] | None:
        if u is None:
            return v
        if v is None:
            return u
        if u[0] == v[0] and (u[1] + v[1]) % p == 0:
            return None
        if u == v:
            slope = (3 * u[0] * u[0] + a) * pow(2 * u[1], -1, p) % p
        else:
            slope = (v[1] - u[1]) * pow(v[0] - u[0], -1, p) % p
        x = (slope * slope - u[0] - v[0]) % p
        return x, (slope * (u[0] - x) - u[1]) % p

    result: tuple[int, int] | None = None
    addend: tuple[int, int] | None = point
    while scalar:
        if scalar & 1:
            result = add(result, addend)
        addend = add(addend, addend)
        scalar >>= 1
    return result


def shared_secret(ephemeral: Any, recipient: JWK) -> bytes:
    """Z of ECDH-ES: the ephemeral private key with the recipient's public key."""
    peer = public_key(recipient)
    if isinstance(ephemeral, ec.EllipticCurvePrivateKey):
        return ephemeral.exchange(ec.ECDH(), peer)
    return ephemeral.exchange(peer)


def manage_key(alg: str, enc: str, jwk: JWK, header: Header | None = None,
               cek: bytes | None = None, *, epk: JWK | None = None, z: bytes | None = None,
               p2s: bytes | None = None, p2c: Any = 1000, kek: bytes | None = None,
               gcmkw_iv: bytes | None = None) -> KeyManagement:
    """Key management of RFC 7518 §4 for `alg` to the recipient `jwk`.

    `header` supplies `apu`/`apv` for ECDH-ES. Overrides: `epk` with its shared secret `z`
    (an `epk` the forge cannot compute Z for, such as one off the curve); `p2s`/`p2c` (a `p2c`
    that is not a usable iteration count is written as given and the key is wrapped with a
    random KEK: nobody can decrypt it, and a consumer that tries still pays for the derivation);
    `kek` replaces the derived or shared key-encryption key.
    """
    header = header or {}
    if alg == "dir":
        return KeyManagement(secret(jwk) if cek is None else cek, b"")
    cek = cek if cek is not None else os.urandom(cek_bytes(enc))
    if alg.endswith("GCMKW"):
        iv = gcmkw_iv if gcmkw_iv is not None else os.urandom(12)
        sealed = AESGCM(kek or secret(jwk)).encrypt(iv, cek, b"")
        return KeyManagement(cek, sealed[:-16], {"iv": b64url(iv), "tag": b64url(sealed[-16:])})
    if alg in KEY_WRAP_BITS:
        return KeyManagement(cek, aes_key_wrap(kek or secret(jwk), cek))
    if alg.startswith("RSA"):
        return KeyManagement(cek, public_key(jwk).encrypt(cek, _rsa_padding(alg)))
    if alg.startswith("ECDH-ES"):
        return _ecdh(alg, enc, jwk, header, cek, epk, z, kek)
    if alg.startswith("PBES2"):
        return _pbes2(alg, jwk, cek, p2s, p2c, kek)
    raise ValueError(f"the forge has no key management {alg!r}")


def _rsa_padding(alg: str) -> asym.AsymmetricPadding:
    if alg == "RSA1_5":
        return asym.PKCS1v15()
    digest = hashes.SHA256() if alg == "RSA-OAEP-256" else hashes.SHA1()
    return asym.OAEP(asym.MGF1(digest), digest, None)


def _ecdh(alg: str, enc: str, jwk: JWK, header: Header, cek: bytes, epk: JWK | None,
          z: bytes | None, kek: bytes | None) -> KeyManagement:
    if epk is None:
        ephemeral = ephemeral_key(jwk["crv"])
        epk, z = public_jwk_of(ephemeral.public_key()), shared_secret(ephemeral, jwk)
    elif z is None:
        raise ValueError("an epk given to the forge needs its shared secret z")
    apu, apv = unb64(header.get("apu", "")), unb64(header.get("apv", ""))
    params = {"epk": epk}
    if alg == "ECDH-ES":
        return KeyManagement(concat_kdf(z, enc, len(cek) * 8, apu, apv), b"", params)
    bits = KEY_WRAP_BITS[alg.split("+")[1]]
    wrapping = kek or concat_kdf(z, alg, bits, apu, apv)
    return KeyManagement(cek, aes_key_wrap(wrapping, cek), params)


MAX_FORGED_P2C = 1_000_000


def pbes2_key(alg: str, password: bytes, p2s: bytes, p2c: int) -> bytes:
    """RFC 7518 §4.8.1.1: PBKDF2 with salt UTF8(alg) || 0x00 || p2s."""
    bits = KEY_WRAP_BITS[alg.split("+")[1]]
    kdf = PBKDF2HMAC(_HASH_OF[alg[8:11]](), bits // 8, alg.encode() + b"\x00" + p2s, p2c)
    return kdf.derive(password)


def _pbes2(alg: str, jwk: JWK, cek: bytes, p2s: bytes | None, p2c: Any,
           kek: bytes | None) -> KeyManagement:
    p2s = os.urandom(16) if p2s is None else p2s
    usable = isinstance(p2c, int) and not isinstance(p2c, bool) and 0 < p2c <= MAX_FORGED_P2C
    if kek is None:
        bits = KEY_WRAP_BITS[alg.split("+")[1]]
        kek = pbes2_key(alg, secret(jwk), p2s, p2c) if usable else os.urandom(bits // 8)
    return KeyManagement(cek, aes_key_wrap(kek, cek), {"p2s": b64url(p2s), "p2c": p2c})


# -- a whole token ------------------------------------------------------------------------------

@dataclass
class Recipient:
    encrypted_key: bytes
    header: Header | None = None


@dataclass
class JWE:
    """A JWE's parts, serializable three ways. The protected header is kept as exact bytes."""

    protected: bytes
    recipients: list[Recipient]
    iv: bytes
    ciphertext: bytes
    tag: bytes
    unprotected: Header | None = None
    aad: bytes | None = None

    def compact(self) -> str:
        if len(self.recipients) != 1 or self.unprotected or self.recipients[0].header:
            raise ValueError("compact serialization has one recipient and no unprotected header")
        return compact(b64url(self.protected), b64url(self.recipients[0].encrypted_key),
                       b64url(self.iv), b64url(self.ciphertext), b64url(self.tag))

    def _shared(self) -> dict[str, Any]:
        members: dict[str, Any] = {}
        if self.protected:
            members["protected"] = b64url(self.protected)
        if self.unprotected is not None:
            members["unprotected"] = self.unprotected
        return members

    def _tail(self) -> dict[str, Any]:
        members: dict[str, Any] = {}
        if self.aad is not None:
            members["aad"] = b64url(self.aad)
        members.update(iv=b64url(self.iv), ciphertext=b64url(self.ciphertext),
                       tag=b64url(self.tag))
        return members

    @staticmethod
    def _recipient(recipient: Recipient) -> dict[str, Any]:
        members: dict[str, Any] = {}
        if recipient.header is not None:
            members["header"] = recipient.header
        # RFC 7516 §7.2.1: present when the encrypted key is non-empty, absent otherwise.
        if recipient.encrypted_key:
            members["encrypted_key"] = b64url(recipient.encrypted_key)
        return members

    def flattened_members(self) -> dict[str, Any]:
        if len(self.recipients) != 1:
            raise ValueError("flattened serialization has exactly one recipient")
        return {**self._shared(), **self._recipient(self.recipients[0]), **self._tail()}

    def general_members(self) -> dict[str, Any]:
        return {**self._shared(), "recipients": [self._recipient(r) for r in self.recipients],
                **self._tail()}

    def flattened(self) -> str:
        return json.dumps(self.flattened_members())

    def general(self) -> str:
        return json.dumps(self.general_members())

    def serialize(self, serialization: str) -> str:
        return {"compact": self.compact, "flattened": self.flattened,
                "general": self.general}[serialization]()


def encrypt(header: Header, plaintext: bytes, jwk: JWK, *,
            protected: bytes | None = None, dumps: Any = None,
            recipient_header: Header | None = None, unprotected: Header | None = None,
            aad: bytes | None = None, cek: bytes | None = None, iv: bytes | None = None,
            compressed: bytes | None = None, padded: bytes | None = None,
            tag: bytes | None = None, **key_overrides: Any) -> JWE:
    """One recipient's JWE. `header` is the protected header; `alg`/`enc` are read from the union
    of it, `recipient_header` and `unprotected`, and key-management parameters (`epk`, `p2s`,
    ...) join the header that holds `alg`.

    Overrides: `protected` (exact bytes, used as given), `dumps` (how the header dict becomes
    bytes, e.g. `json.dumps` with its spaces), `cek`, `iv`, `compressed` (the bytes sealed when
    `zip` is set), `padded` (AES-CBC input), `tag`, and the key-management ones of `manage_key`.
    """
    union = {**(unprotected or {}), **(recipient_header or {}), **header}
    alg, enc = union["alg"], union["enc"]
    managed = manage_key(alg, enc, jwk, union, cek, **key_overrides)
    header = dict(header)
    recipient_header = dict(recipient_header) if recipient_header is not None else None
    if "alg" in header or recipient_header is None:
        header.update(managed.params)
    else:
        recipient_header.update(managed.params)
    raw = protected if protected is not None else (dumps or encode_json)(header)
    raw = raw.encode() if isinstance(raw, str) else raw
    body = plaintext
    if union.get("zip") == "DEF":
        body = compressed if compressed is not None else deflate(plaintext)
    iv = iv if iv is not None else os.urandom(iv_bytes(enc))
    ciphertext, real_tag = seal(enc, managed.cek, iv, body, aad_for(raw, aad), padded)
    return JWE(raw, [Recipient(managed.encrypted_key, recipient_header)], iv, ciphertext,
               tag if tag is not None else real_tag, unprotected, aad)


def encrypt_to(recipients: list[tuple[Header, JWK]], plaintext: bytes,
               protected: Header) -> JWE:
    """A JWE to several recipients (RFC 7516 §7.2.1): one CEK sealed once under the `enc` of
    the protected header, wrapped for each (per-recipient header holding its `alg`, public
    key); key-management parameters (`epk`, ...) join each recipient's own header."""
    enc = protected["enc"]
    cek = os.urandom(cek_bytes(enc))
    wrapped = []
    for header, jwk in recipients:
        union = {**header, **protected}
        managed = manage_key(union["alg"], enc, jwk, union, cek)
        if managed.cek != cek:
            raise ValueError(f"{union['alg']} derives its own content key: it cannot share one "
                             "with other recipients (RFC 7516 §7.2.1)")
        wrapped.append(Recipient(managed.encrypted_key, {**header, **managed.params}))
    raw = encode_json(protected)
    iv = os.urandom(iv_bytes(enc))
    ciphertext, tag = seal(enc, cek, iv, plaintext, aad_for(raw))
    return JWE(raw, wrapped, iv, ciphertext, tag)
