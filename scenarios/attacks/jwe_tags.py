"""Authentication tags, IVs and padding of the content encryption (RFC 7518 §5.2, §5.3).

AES-GCM's tag is 128 bits (RFC 7518 §5.3); a consumer that accepts a truncated tag (a prefix of
the genuine one here) lets an attacker forge with 2^32 tries at 4 bytes. AES-CBC-HMAC must check
the full truncated HMAC (T_LEN octets) over AAD, IV and ciphertext before it decrypts, so a
modified IV, tag or block, and bad padding under a valid tag, are all refused, and padding never
answers before the MAC (a padding oracle, RFC 7518 §5.2.2.2).
"""

from __future__ import annotations

import os

from harness.forge import jwe
from harness.keyforms import secret
from harness.scenario import Context, case, named_suites
from scenarios.attacks._jwe import decrypt, forge
from scenarios.payloads import PAYLOAD

GCM = named_suites("JWE dir + A128GCM", "JWE A256KW + A256GCM")
CBC = named_suites("JWE dir + A128CBC-HS256", "JWE A256KW + A256CBC-HS512")
GCM_REQUIREMENT = "RFC 7518 §5.3"
CBC_REQUIREMENT = "RFC 7518 §5.2.2.2"


def _flip(data: bytes, index: int = -1) -> bytes:
    index %= len(data)
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1:]


@case(requirement=GCM_REQUIREMENT, expected="reject", suites=GCM, producer="forge",
      attack_class="jwe-tag")
def gcm_tag_truncated_4(ctx: Context) -> tuple[bytes, bytes]:
    """AES-GCM with the first 4 bytes of the genuine tag."""
    token = forge(ctx)
    token.tag = token.tag[:4]
    return decrypt(ctx, token.compact())


@case(requirement=GCM_REQUIREMENT, expected="reject", suites=GCM, producer="forge",
      attack_class="jwe-tag")
def gcm_tag_truncated_12(ctx: Context) -> tuple[bytes, bytes]:
    """AES-GCM with the first 12 bytes of the genuine tag."""
    token = forge(ctx)
    token.tag = token.tag[:12]
    return decrypt(ctx, token.compact())


@case(requirement=GCM_REQUIREMENT, expected="reject", suites=GCM, producer="forge",
      attack_class="jwe-tag")
def gcm_tag_empty(ctx: Context) -> tuple[bytes, bytes]:
    """AES-GCM with an empty tag."""
    token = forge(ctx)
    token.tag = b""
    return decrypt(ctx, token.compact())


@case(requirement=GCM_REQUIREMENT, expected="reject", suites=GCM, producer="forge",
      attack_class="jwe-tag")
def gcm_tag_extended(ctx: Context) -> tuple[bytes, bytes]:
    """AES-GCM with the genuine tag followed by one more byte."""
    token = forge(ctx)
    token.tag += b"\x00"
    return decrypt(ctx, token.compact())


@case(requirement=GCM_REQUIREMENT, expected="reject", suites=GCM, producer="forge",
      attack_class="jwe-tag")
def gcm_iv_modified(ctx: Context) -> tuple[bytes, bytes]:
    """AES-GCM with one bit of the IV flipped and the original tag."""
    token = forge(ctx)
    token.iv = _flip(token.iv)
    return decrypt(ctx, token.compact())


@case(requirement=GCM_REQUIREMENT, expected="reject", suites=GCM, producer="forge",
      attack_class="jwe-tag", policy=True)
def gcm_iv_16_bytes(ctx: Context) -> tuple[bytes, bytes]:
    """AES-GCM sealed with a 16-byte IV and its valid tag (RFC 7518 §5.3 requires 96 bits of the
    producer; refusing is the stricter reading, so this is policy)."""
    return decrypt(ctx, forge(ctx, iv=bytes(range(16))).compact())


@case(requirement=CBC_REQUIREMENT, expected="reject", suites=CBC, producer="forge",
      attack_class="jwe-tag")
def cbc_tag_truncated(ctx: Context) -> tuple[bytes, bytes]:
    """AES-CBC-HMAC with the first half of the genuine tag."""
    token = forge(ctx)
    token.tag = token.tag[:len(token.tag) // 2]
    return decrypt(ctx, token.compact())


@case(requirement=CBC_REQUIREMENT, expected="reject", suites=CBC, producer="forge",
      attack_class="jwe-tag")
def cbc_tag_modified(ctx: Context) -> tuple[bytes, bytes]:
    """AES-CBC-HMAC with one bit of the tag flipped."""
    token = forge(ctx)
    token.tag = _flip(token.tag)
    return decrypt(ctx, token.compact())


@case(requirement=CBC_REQUIREMENT, expected="reject", suites=CBC, producer="forge",
      attack_class="jwe-tag")
def cbc_tag_untruncated(ctx: Context) -> tuple[bytes, bytes]:
    """AES-CBC-HMAC carrying the whole HMAC output instead of its first T_LEN octets."""
    enc, key = ctx.suite.enc or "", ctx.keys.private(ctx.suite.key)
    cek = secret(key) if ctx.suite.alg == "dir" else os.urandom(jwe.cek_bytes(enc))
    token = forge(ctx, cek=cek)
    token.tag = jwe.cbc_hmac(enc, cek, token.iv, token.ciphertext, jwe.aad_for(token.protected))
    return decrypt(ctx, token.compact())


@case(requirement=CBC_REQUIREMENT, expected="reject", suites=CBC, producer="forge",
      attack_class="jwe-tag")
def cbc_iv_modified(ctx: Context) -> tuple[bytes, bytes]:
    """AES-CBC-HMAC with one bit of the IV flipped: the first block would decrypt with that bit
    flipped, so only the MAC stops it."""
    token = forge(ctx)
    token.iv = _flip(token.iv, 0)
    return decrypt(ctx, token.compact())


@case(requirement=CBC_REQUIREMENT, expected="reject", suites=CBC, producer="forge",
      attack_class="jwe-tag")
def cbc_last_block_modified(ctx: Context) -> tuple[bytes, bytes]:
    """AES-CBC-HMAC with a bit of the second-to-last block flipped (the padding-oracle probe:
    it changes the last block's padding) and the original tag."""
    token = forge(ctx)
    token.ciphertext = _flip(token.ciphertext, -17)
    return decrypt(ctx, token.compact())


@case(requirement="RFC 7518 §5.2.2.2", expected="reject", suites=CBC, producer="forge",
      attack_class="jwe-tag")
def cbc_bad_padding_valid_tag(ctx: Context) -> tuple[bytes, bytes]:
    """AES-CBC whose last block has invalid PKCS#7 padding (…, 0x05, 0x03) under a valid tag."""
    padded = jwe.cbc_padded(PAYLOAD)
    bad = padded[:-2] + b"\x05\x03"
    return decrypt(ctx, forge(ctx, padded=bad).compact())
