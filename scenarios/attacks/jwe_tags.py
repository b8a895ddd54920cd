"""Authentication tags, IVs and padding of the content encryption (RFC 7518 §5.2, §5.3).

AES-GCM's tag is 128 bits (RFC 7518 §5.3); a consumer that accepts a truncated tag (a prefix of
the genuine one here) lets an attacker forge with 2^32 tries at 4 bytes. AES-CBC-HMAC must check
the full truncated HMAC (T_LEN octets) over AAD, IV and ciphertext before it decrypts, so a
modified IV, tag or block, and bad padding under a valid tag, are all refused, and padding never
answers before the MAC (a padding oracle, RFC 7518 §5.2.2.2).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial

from harness.core.keyforms import secret
from harness.forge import jwe
from harness.interop.scenario import Context, case, named_suites
from scenarios.attacks._jwe import decrypt, forge
from scenarios.payloads import PAYLOAD

GCM_CASE = partial(case, requirement="RFC 7518 §5.3", expected="reject", producer="forge",
                suites=named_suites("JWE dir + A128GCM", "JWE A256KW + A256GCM"),
                attack_class="jwe-tag")
CBC_CASE = partial(case, requirement="RFC 7518 §5.2.2.2", expected="reject", producer="forge",
                suites=named_suites("JWE dir + A128CBC-HS256", "JWE A256KW + A256CBC-HS512"),
                attack_class="jwe-tag")


def _flip(data: bytes, index: int = -1) -> bytes:
    index %= len(data)
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1:]


def _altered(ctx: Context, part: str, change: Callable[[bytes], bytes]) -> tuple[bytes, bytes]:
    """A genuine compact token with one part (`tag`, `iv`, `ciphertext`) changed."""
    token = forge(ctx)
    setattr(token, part, change(getattr(token, part)))
    return decrypt(ctx, token.compact())


@GCM_CASE(severity="forgery",
    why="An altered or shortened tag verifies a ciphertext nobody with the key sealed.")
def gcm_tag_truncated_4(ctx: Context) -> tuple[bytes, bytes]:
    """AES-GCM with the first 4 bytes of the genuine tag."""
    return _altered(ctx, "tag", lambda tag: tag[:4])


@GCM_CASE(severity="forgery",
    why="An altered or shortened tag verifies a ciphertext nobody with the key sealed.")
def gcm_tag_truncated_12(ctx: Context) -> tuple[bytes, bytes]:
    """AES-GCM with the first 12 bytes of the genuine tag."""
    return _altered(ctx, "tag", lambda tag: tag[:12])


@GCM_CASE(severity="forgery",
    why="An altered or shortened tag verifies a ciphertext nobody with the key sealed.")
def gcm_tag_empty(ctx: Context) -> tuple[bytes, bytes]:
    """AES-GCM with an empty tag."""
    return _altered(ctx, "tag", lambda tag: b"")


@GCM_CASE(severity="malleability",
    why="The genuine tag with a byte more: a second encoding.")
def gcm_tag_extended(ctx: Context) -> tuple[bytes, bytes]:
    """AES-GCM with the genuine tag followed by one more byte."""
    return _altered(ctx, "tag", lambda tag: tag + b"\x00")


@GCM_CASE(severity="forgery",
    why="A changed IV with the old tag passes only if the tag is not checked.")
def gcm_iv_modified(ctx: Context) -> tuple[bytes, bytes]:
    """AES-GCM with one bit of the IV flipped and the original tag."""
    return _altered(ctx, "iv", _flip)


@case(requirement="RFC 7518 §5.3", expected="reject", producer="forge", policy=True,
      suites=named_suites("JWE dir + A128GCM", "JWE A256KW + A256GCM"), attack_class="jwe-tag",
      severity="leniency", why="The key holder sealed it with a longer IV; no one else could.")
def gcm_iv_16_bytes(ctx: Context) -> tuple[bytes, bytes]:
    """AES-GCM sealed with a 16-byte IV and its valid tag (RFC 7518 §5.3 requires 96 bits of the
    producer; refusing is the stricter reading, so this is policy)."""
    return decrypt(ctx, forge(ctx, iv=bytes(range(16))).compact())


@CBC_CASE(severity="forgery",
    why="An altered or shortened tag verifies a ciphertext nobody with the key sealed.")
def cbc_tag_truncated(ctx: Context) -> tuple[bytes, bytes]:
    """AES-CBC-HMAC with the first half of the genuine tag."""
    return _altered(ctx, "tag", lambda tag: tag[:len(tag) // 2])


@CBC_CASE(severity="forgery",
    why="An altered or shortened tag verifies a ciphertext nobody with the key sealed.")
def cbc_tag_modified(ctx: Context) -> tuple[bytes, bytes]:
    """AES-CBC-HMAC with one bit of the tag flipped."""
    return _altered(ctx, "tag", _flip)


@CBC_CASE(severity="malleability",
    why=("The key holder's full HMAC: a second encoding of the genuine tag (RFC 7518 §5.2.2.1 "
         "step 5)."))
def cbc_tag_untruncated(ctx: Context) -> tuple[bytes, bytes]:
    """AES-CBC-HMAC carrying the whole HMAC output instead of its first T_LEN octets."""
    enc, key = ctx.suite.enc or "", ctx.keys.private(ctx.suite.key)
    cek = secret(key) if ctx.suite.alg == "dir" else os.urandom(jwe.cek_bytes(enc))
    token = forge(ctx, cek=cek)
    token.tag = jwe.cbc_hmac(enc, cek, token.iv, token.ciphertext, jwe.aad_for(token.protected))
    return decrypt(ctx, token.compact())


@CBC_CASE(severity="forgery",
    why="A flipped IV bit with the old tag: the MAC was not checked.")
def cbc_iv_modified(ctx: Context) -> tuple[bytes, bytes]:
    """AES-CBC-HMAC with one bit of the IV flipped: the first block would decrypt with that bit
    flipped, so only the MAC stops it."""
    return _altered(ctx, "iv", lambda iv: _flip(iv, 0))


@CBC_CASE(severity="forgery",
    why="A changed block with the old tag: the MAC was not checked (the padding-oracle probe).")
def cbc_last_block_modified(ctx: Context) -> tuple[bytes, bytes]:
    """AES-CBC-HMAC with a bit of the second-to-last block flipped (the padding-oracle probe:
    it changes the last block's padding) and the original tag."""
    return _altered(ctx, "ciphertext", lambda data: _flip(data, -17))


@CBC_CASE(severity="leniency",
    why="The key holder sealed it; only the padding rule is broken.")
def cbc_bad_padding_valid_tag(ctx: Context) -> tuple[bytes, bytes]:
    """AES-CBC whose last block has invalid PKCS#7 padding (…, 0x05, 0x03) under a valid tag."""
    padded = jwe.cbc_padded(PAYLOAD)
    return decrypt(ctx, forge(ctx, padded=padded[:-2] + b"\x05\x03").compact())
