"""The strict reference's JWE decryption (RFC 7516 §5.2, RFC 7518 §4-§5, RFC 8037 §3.2), on
`cryptography` alone."""

from __future__ import annotations

import os
import zlib
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import constant_time, hashes, padding
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import padding as asym
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap

from harness.core.keys import JWK
from harness.core.suites import CONTENT_KEY_BITS, KEY_WRAP_BITS
from harness.forge.jwe import cbc_hmac_tag, concat_kdf, pbes2_key
from harness.forge.reference_common import (
    JWE_ALGS,
    JWE_ENCS,
    Header,
    ReferenceCannotJudge,
    ReferenceRefused,
    b64decode,
    check_crit,
    check_key_use,
    choose_key,
    disjoint,
    header_object,
    json_token,
    require_alg,
)
from harness.forge.reference_keys import (
    ec_private,
    ec_public,
    expect_kty,
    okp_private,
    okp_public,
    rsa_private,
    secret,
)

# The reference's own bounds (RFC 7518 §4.8.1.2 sets no maximum for p2c; RFC 7516 §11 leaves
# the size of an inflated plaintext to the recipient). Tokens beyond them are not judged.
MAX_P2C = 1_000_000
MAX_INFLATED = 16 * 1024 * 1024
MIN_P2S_OCTETS = 8
_RFC = "RFC 7516 §4.1.13, RFC 7515 §4.1.11"
_BAD_TAG = "the authentication tag does not verify (RFC 7516 §5.2 step 16)"


def decrypt_jwe(token: str | dict[str, Any], key: dict[str, Any]) -> bytes:
    """The plaintext of a JWE for the recipient `key` (a private JWK or a JWK Set), or
    `ReferenceRefused`. Compact, flattened or general JSON (a dict or its text); with several
    recipients, the ones the key fits (by `kid` where both have one) are tried in order."""
    members = json_token(token)
    if members is None:
        return _decrypt_compact(token, key)  # type: ignore[arg-type]
    return _decrypt_json(members, key)


def _decrypt_compact(token: str, key: JWK) -> bytes:
    parts = token.split(".")
    if len(parts) != 5:
        raise ReferenceRefused(f"a compact JWE has 5 parts, this one {len(parts)} "
                               "(RFC 7516 §7.1)")
    protected_b64, encrypted_key, iv, ciphertext, tag = parts
    if not protected_b64:
        raise ReferenceRefused("the compact JWE has no protected header (RFC 7516 §7.1)")
    return _decrypt_one(protected_b64, None, None, encrypted_key, iv, ciphertext, tag, None,
                        key)


def _decrypt_json(members: dict[str, Any], key: JWK) -> bytes:
    if "recipients" in members:
        if "header" in members or "encrypted_key" in members:
            raise ReferenceRefused("a general JWE puts header and encrypted_key in the "
                                   "recipients array only (RFC 7516 §7.2.1, §7.2.2)")
        recipients = members["recipients"]
        if not isinstance(recipients, list) or not recipients:
            raise ReferenceRefused("recipients is not a non-empty array (RFC 7516 §7.2.1)")
    else:
        recipients = [{name: members[name] for name in ("header", "encrypted_key")
                       if name in members}]
    if not all(isinstance(r, dict) for r in recipients):
        raise ReferenceRefused("a recipient is not a JSON object (RFC 7516 §7.2.1)")
    for name in ("iv", "ciphertext", "tag"):
        if name not in members:
            raise ReferenceRefused(f"the JSON JWE has no {name} member (RFC 7516 §7.2.1)")
    first: ReferenceRefused | None = None
    for recipient in _fitting(recipients, key):
        try:
            return _decrypt_one(members.get("protected", ""), members.get("unprotected"),
                                recipient.get("header"), recipient.get("encrypted_key", ""),
                                members["iv"], members["ciphertext"], members["tag"],
                                members.get("aad"), key)
        except ReferenceRefused as refusal:
            first = first or refusal
    assert first is not None
    raise first


def _fitting(recipients: list[dict[str, Any]], key: JWK) -> list[dict[str, Any]]:
    kid = key.get("kid") if "keys" not in key else None
    if kid is None or len(recipients) == 1:
        return recipients
    def kid_of(recipient: dict[str, Any]) -> Any:
        header = recipient.get("header")
        return header.get("kid") if isinstance(header, dict) else None
    named = [r for r in recipients if kid_of(r) == kid]
    return named or [r for r in recipients if kid_of(r) is None] or recipients


def _decrypt_one(protected_b64: Any, shared: Any, per_recipient: Any, encrypted_key_b64: Any,
                 iv_b64: Any, ciphertext_b64: Any, tag_b64: Any, aad_b64: Any,
                 key: JWK) -> bytes:
    if not isinstance(protected_b64, str):
        raise ReferenceRefused("the protected member is not a string (RFC 7516 §7.2.1)")
    protected: Header = {}
    if protected_b64:
        protected, _ = header_object(protected_b64, "the JWE protected header", "RFC 7516")
    union = disjoint([("protected header", protected), ("shared unprotected header", shared),
                      ("per-recipient header", per_recipient)], "RFC 7516 §7.2.1")
    unprotected_names = set(shared or {}) | set(per_recipient or {})
    check_crit(protected, union, unprotected_names, frozenset(), _RFC)
    if "zip" in unprotected_names:
        raise ReferenceRefused("zip is in an unprotected header; it MUST occur only in the "
                               "protected header (RFC 7516 §4.1.3)")
    alg = require_alg(union, JWE_ALGS, "JWE key management", "RFC 7516 §4.1.1")
    enc = union.get("enc")
    if enc is None:
        raise ReferenceRefused("the header has no enc (RFC 7516 §4.1.2)")
    if not isinstance(enc, str) or enc not in JWE_ENCS:
        raise ReferenceRefused(f"enc {enc!r} is not a registered content encryption algorithm "
                               "name (exact case; RFC 7518 §5.1)")
    zip_ = union.get("zip")
    if zip_ is not None and zip_ != "DEF":
        raise ReferenceRefused(f"zip {zip_!r} is not a registered compression algorithm: only "
                               "DEF is (RFC 7516 §4.1.3, RFC 7518 §7.3)")
    encrypted_key = b64decode(encrypted_key_b64 or "", "the JWE encrypted key")
    iv = b64decode(iv_b64, "the JWE initialization vector")
    ciphertext = b64decode(ciphertext_b64, "the JWE ciphertext")
    tag = b64decode(tag_b64, "the JWE authentication tag")
    aad = aad_input(protected_b64, aad_b64)
    jwk = choose_key(key, union)
    check_key_use(jwk, alg, "JWE", enc)
    cek = _content_key(alg, enc, jwk, union, encrypted_key)
    try:
        plaintext = _open(enc, cek, iv, ciphertext, tag, aad)
    except ReferenceRefused as refusal:
        raise _past_first_round(alg, enc, refusal) from None
    return _inflate(plaintext) if zip_ == "DEF" else plaintext


def _past_first_round(alg: str, enc: str, refusal: ReferenceRefused) -> ReferenceRefused:
    """Direct ECDH-ES to A192CBC-HS384/A256CBC-HS512 whose tag verifies but whose padding does
    not: the content key is Concat KDF's output, the MAC key its first half (from the first
    SHA-256 round) and the AES key the rest (the second round's bytes). A valid tag with the
    wrong AES key is a producer whose KDF is right for 256 bits and wrong past them."""
    if alg != "ECDH-ES" or enc not in ("A192CBC-HS384", "A256CBC-HS512") or \
            "bad PKCS #7 padding" not in str(refusal):
        return refusal
    bits = 384 if enc == "A192CBC-HS384" else 512
    return ReferenceRefused(
        f"the {enc} content key's MAC half matches the Concat KDF output and its AES half does "
        f"not (valid tag, bad PKCS #7 padding): the producer's KDF output is right for the MAC "
        f"key and wrong after it; for ECDH-ES keydatalen \"is length of the key used by the "
        f"'enc' algorithm\", {bits} bits here (RFC 7518 §4.6.2)")


def aad_input(protected_b64: str, aad_b64: Any) -> bytes:
    """RFC 7516 §5.2 step 14-15: the AAD is the protected header as received, base64url text,
    then '.' and the `aad` member as received."""
    text = protected_b64
    if aad_b64 is not None:
        b64decode(aad_b64, "the JWE aad member")
        text += "." + aad_b64
    return text.encode("ascii")


# -- key management -----------------------------------------------------------------------------

def _content_key(alg: str, enc: str, jwk: JWK, header: Header, encrypted_key: bytes) -> bytes:
    size = CONTENT_KEY_BITS[enc] // 8
    if alg == "dir":
        return _direct(secret(jwk, alg), encrypted_key, size, alg, enc)
    if alg == "RSA1_5":
        return _rsa1_5(jwk, encrypted_key, size)
    if alg.startswith("RSA-OAEP"):
        digest = hashes.SHA256() if alg == "RSA-OAEP-256" else hashes.SHA1()
        try:
            cek = rsa_private(jwk, alg).decrypt(
                encrypted_key, asym.OAEP(asym.MGF1(digest), digest, None))
        except ValueError:
            raise ReferenceRefused(f"{alg} decryption of the encrypted key fails "
                                   "(RFC 7518 §4.3, RFC 8017 §7.1.2)") from None
        return _sized(cek, size, alg, enc)
    if alg.startswith("ECDH-ES"):
        return _ecdh(alg, enc, jwk, header, encrypted_key, size)
    if alg.startswith("PBES2"):
        return _pbes2(alg, enc, jwk, header, encrypted_key, size)
    if alg.endswith("GCMKW"):
        return _gcm_unwrap(alg, enc, jwk, header, encrypted_key, size)
    return _unwrap(alg, enc, _kek(secret(jwk, alg), alg), encrypted_key, size)


def _sized(cek: bytes, size: int, alg: str, enc: str) -> bytes:
    if len(cek) != size:
        raise ReferenceRefused(f"the {alg} content key is {len(cek)} octets; {enc} needs "
                               f"{size} (RFC 7518 §5.2.2.1/§5.3, RFC 7516 §5.2 step 10)")
    return cek


def _direct(cek: bytes, encrypted_key: bytes, size: int, alg: str, enc: str) -> bytes:
    if encrypted_key:
        raise ReferenceRefused(f"{alg} carries a JWE Encrypted Key; it MUST be empty "
                               "(RFC 7516 §5.2 step 10)")
    return _sized(cek, size, "shared", enc)


def _kek(key: bytes, alg: str) -> bytes:
    bits = KEY_WRAP_BITS[alg.split("+")[-1]]
    if len(key) * 8 != bits:
        raise ReferenceRefused(f"the {alg} key is {len(key) * 8} bits, not {bits} "
                               "(RFC 7518 §4.4, §4.7)")
    return key


def _unwrap(alg: str, enc: str, kek: bytes, encrypted_key: bytes, size: int) -> bytes:
    try:
        cek = aes_key_unwrap(kek, encrypted_key)
    except (InvalidUnwrap, ValueError):
        raise ReferenceRefused(f"{alg}: the AES key unwrap integrity check fails "
                               "(RFC 7518 §4.4, RFC 3394 §2.2.3)") from None
    return _sized(cek, size, alg, enc)


def _gcm_unwrap(alg: str, enc: str, jwk: JWK, header: Header, encrypted_key: bytes,
                size: int) -> bytes:
    for name in ("iv", "tag"):
        if name not in header:
            raise ReferenceRefused(f"{alg} needs the {name} header parameter "
                                   "(RFC 7518 §4.7.1)")
    iv = b64decode(header["iv"], f"the {alg} iv")
    tag = b64decode(header["tag"], f"the {alg} tag")
    if len(iv) != 12:
        raise ReferenceRefused(f"the {alg} iv is {len(iv) * 8} bits; it MUST be 96 "
                               "(RFC 7518 §4.7.1.1)")
    if len(tag) != 16:
        raise ReferenceRefused(f"the {alg} tag is {len(tag) * 8} bits; it MUST be 128 "
                               "(RFC 7518 §4.7.1.2)")
    try:
        cek = AESGCM(_kek(secret(jwk, alg), alg)).decrypt(iv, encrypted_key + tag, b"")
    except InvalidTag:
        raise ReferenceRefused(f"{alg}: the key wrap tag does not verify "
                               "(RFC 7518 §4.7)") from None
    return _sized(cek, size, alg, enc)


def _rsa1_5(jwk: JWK, encrypted_key: bytes, size: int) -> bytes:
    """RFC 7516 §11.5 / RFC 3218 §2.3.2: a padding failure or a wrong-size key becomes a random
    CEK, so the recipient fails at the tag exactly as it would for a good padding, and the
    refusal tells an attacker nothing about the padding."""
    key = rsa_private(jwk, "RSA1_5")
    random_cek = os.urandom(size)
    try:
        cek = key.decrypt(encrypted_key, asym.PKCS1v15())
    except ValueError:
        return random_cek
    return cek if len(cek) == size else random_cek


def _ecdh(alg: str, enc: str, jwk: JWK, header: Header, encrypted_key: bytes,
          size: int) -> bytes:
    epk = header.get("epk")
    if not isinstance(epk, dict):
        raise ReferenceRefused(f"{alg} needs an epk JWK header parameter (RFC 7518 §4.6.1.1)")
    if "d" in epk or "k" in epk:
        raise ReferenceRefused("the epk carries private key material; it MUST be a public "
                               "key (RFC 7518 §4.6.1.1)")
    kty = jwk.get("kty")
    if kty == "EC":
        crv = jwk.get("crv")
        if crv not in {"P-256", "P-384", "P-521"}:
            raise ReferenceRefused(f"ECDH-ES is defined on P-256, P-384, P-521 and X25519/"
                                   f"X448, not {crv!r} (RFC 7518 §4.6, RFC 8037 §3.2)")
        private = ec_private(jwk, crv, alg)
        peer = ec_public(epk, crv, alg, "epk")
        z = private.exchange(ec.ECDH(), peer)
    elif kty == "OKP":
        private = okp_private(jwk, ("X25519", "X448"), alg)
        peer = okp_public(epk, (jwk["crv"],), alg, "epk")
        try:
            z = private.exchange(peer)
        except ValueError:
            raise ReferenceRefused("the epk is a low-order point: the shared secret is all "
                                   "zeros (RFC 8037 §3.2, RFC 7748 §6)") from None
    else:
        raise ReferenceRefused(f"{alg} needs an EC or OKP key, the key is kty {kty!r} "
                               "(RFC 7518 §4.6, RFC 8037 §3.2)")
    apu = b64decode(header.get("apu", ""), "apu")
    apv = b64decode(header.get("apv", ""), "apv")
    if alg == "ECDH-ES":
        if encrypted_key:
            raise ReferenceRefused("ECDH-ES (direct key agreement) carries a JWE Encrypted "
                                   "Key; it MUST be empty (RFC 7516 §5.2 step 10)")
        return concat_kdf(z, enc, size * 8, apu, apv)
    bits = KEY_WRAP_BITS[alg.split("+")[1]]
    return _unwrap(alg, enc, concat_kdf(z, alg, bits, apu, apv), encrypted_key, size)


def _pbes2(alg: str, enc: str, jwk: JWK, header: Header, encrypted_key: bytes,
           size: int) -> bytes:
    expect_kty(jwk, "oct", alg)
    for name in ("p2s", "p2c"):
        if name not in header:
            raise ReferenceRefused(f"{alg} needs the {name} header parameter "
                                   "(RFC 7518 §4.8.1)")
    salt = b64decode(header["p2s"], "p2s")
    if len(salt) < MIN_P2S_OCTETS:
        raise ReferenceRefused(f"p2s is {len(salt)} octets; a salt of 8 or more octets MUST "
                               "be used (RFC 7518 §4.8.1.1)")
    count = header["p2c"]
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ReferenceRefused(f"p2c {count!r} is not a positive integer iteration count "
                               "(RFC 7518 §4.8.1.2)")
    if count > MAX_P2C:
        raise ReferenceCannotJudge(f"p2c {count} is above the reference's bound of {MAX_P2C} "
                                   "iterations (RFC 7518 §4.8.1.2 sets no maximum)")
    password = secret(jwk, alg)
    return _unwrap(alg, enc, pbes2_key(alg, password, salt, count), encrypted_key, size)


# -- content encryption -------------------------------------------------------------------------

def _open(enc: str, cek: bytes, iv: bytes, ciphertext: bytes, tag: bytes, aad: bytes) -> bytes:
    if enc.endswith("GCM"):
        if len(iv) != 12:
            raise ReferenceRefused(f"the {enc} IV is {len(iv) * 8} bits; an IV of 96 bits is "
                                   "REQUIRED (RFC 7518 §5.3)")
        if len(tag) != 16:
            raise ReferenceRefused(f"the {enc} tag is {len(tag) * 8} bits; it MUST be 128 "
                                   "(RFC 7518 §5.3)")
        try:
            return AESGCM(cek).decrypt(iv, ciphertext + tag, aad)
        except InvalidTag:
            raise ReferenceRefused(_BAD_TAG) from None
    if len(iv) != 16:
        raise ReferenceRefused(f"the {enc} IV is {len(iv) * 8} bits; it is a 128-bit value "
                               "(RFC 7518 §5.2.2.1)")
    if len(tag) != len(cek) // 2:
        raise ReferenceRefused(f"the {enc} tag is {len(tag)} octets, not T_LEN = "
                               f"{len(cek) // 2} (RFC 7518 §5.2.3-§5.2.5)")
    if not constant_time.bytes_eq(cbc_hmac_tag(enc, cek, iv, ciphertext, aad), tag):
        raise ReferenceRefused(_BAD_TAG)
    if not ciphertext or len(ciphertext) % 16:
        raise ReferenceRefused(f"the {enc} ciphertext is not whole AES blocks "
                               "(RFC 7518 §5.2.2.1)")
    decryptor = Cipher(algorithms.AES(cek[len(cek) // 2:]), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise ReferenceRefused(f"the {enc} plaintext has bad PKCS #7 padding under a valid "
                               "tag (RFC 7518 §5.2.2.1)") from None


def _inflate(data: bytes) -> bytes:
    """RFC 7516 §4.1.3: DEF is DEFLATE (RFC 1951) itself, not a zlib (RFC 1950) or gzip
    (RFC 1952) stream around it."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, MAX_INFLATED)
    except zlib.error:
        raise ReferenceRefused(_not_raw(data)) from None
    if inflater.unconsumed_tail:
        raise ReferenceCannotJudge(f"the plaintext inflates beyond the reference's bound of "
                                   f"{MAX_INFLATED} octets (RFC 7516 §11 leaves it open)")
    if not inflater.eof or inflater.unused_data:
        raise ReferenceRefused(_not_raw(data) if not inflater.eof else
                               "zip: DEF content has bytes after the end of the DEFLATE "
                               "stream (RFC 7516 §4.1.3, RFC 1951)")
    return out


def _not_raw(data: bytes) -> str:
    if len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0:
        return "zip: DEF content is zlib-wrapped (RFC 1950), not raw DEFLATE (RFC 7516 §4.1.3, " \
               "RFC 1951)"
    if data[:2] == b"\x1f\x8b":
        return "zip: DEF content is gzip-wrapped (RFC 1952), not raw DEFLATE (RFC 7516 §4.1.3, " \
               "RFC 1951)"
    return "zip: DEF content is not a complete raw DEFLATE stream (RFC 7516 §4.1.3, RFC 1951)"
