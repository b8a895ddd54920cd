"""Valid but unusual JWE that a correct consumer must accept (RFC 7516, RFC 7518).

Tokens that some producer legitimately makes and a strict-but-wrong consumer refuses: a
protected header written with spaces (the AAD is the header's base64url exactly as received,
RFC 7516 §5.2 steps 14-15 and §7.2.1, never a re-encoding), members in other places of the
JSON serialization, several recipients, an empty plaintext, compression, unknown non-critical
header parameters, a shared secret that begins with a zero octet. One token here breaks
the writer's rule, an `epk` coordinate short of its full size: refusing or reading it is the
consumer's choice, crashing is not.
Built by the forge, so no producing library's habits hide the consumer's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

from harness.adapters.base import Serialization
from harness.forge import jwe
from harness.forge.encoding import unb64
from harness.interop.scenario import ConsumerConfig, Context, case, named_suites
from scenarios.attacks._jwe import decrypt, forge
from scenarios.payloads import PAYLOAD

SUITES = named_suites("JWE A128KW + A128GCM", "JWE RSA-OAEP-256 + A256GCM",
                      "JWE ECDH-ES (X25519) + A128CBC-HS256", "JWE dir + A256GCM")
ECDH = named_suites("JWE ECDH-ES (P-256) + A256GCM", "JWE ECDH-ES+A128KW (X25519) + A128GCM")
AAD_RULE = "RFC 7516 §5.2 steps 14-15; §7.2.1"


def _spaced(header: dict) -> bytes:
    # json.dumps' own default separators (", " and ": "), as jwcrypto's json_encode and many
    # hand-written producers emit them.
    return json.dumps(header).encode()


@case(requirement=AAD_RULE, suites=SUITES, producer="forge")
def spaced_protected_compact(ctx: Context) -> tuple[bytes, bytes]:
    """Compact JWE whose protected header has spaces after `:` and `,`."""
    return decrypt(ctx, forge(ctx, dumps=_spaced).compact())


@case(requirement=AAD_RULE, suites=SUITES, producer="forge")
def spaced_protected_flattened(ctx: Context) -> tuple[bytes, bytes]:
    """Flattened JSON JWE whose protected header has spaces: AAD is the received base64url."""
    return decrypt(ctx, forge(ctx, dumps=_spaced).flattened(), "flattened")


@case(requirement=AAD_RULE, suites=SUITES, producer="forge")
def spaced_protected_general(ctx: Context) -> tuple[bytes, bytes]:
    """General JSON JWE whose protected header has spaces."""
    return decrypt(ctx, forge(ctx, dumps=_spaced).general(), "general")


@case(requirement=AAD_RULE, suites=SUITES, producer="forge")
def reordered_escaped_protected(ctx: Context) -> tuple[bytes, bytes]:
    """Compact JWE whose protected header puts `enc` first and spells a letter as `\\u0041`."""
    suite = ctx.suite
    raw = f'{{"enc":"{suite.enc}", "alg" : "{suite.alg}"}}'.replace("A", "\\u0041", 1)
    token = forge(ctx, dumps=lambda header: _with_params(raw, header))
    return decrypt(ctx, token.compact())


def _with_params(raw: str, header: dict) -> bytes:
    """`raw` plus the key-management parameters the forge added to `header` (`epk`...)."""
    extra = {k: v for k, v in header.items() if k not in {"alg", "enc"}}
    if not extra:
        return raw.encode()
    return (raw[:-1] + "," + json.dumps(extra)[1:]).encode()


@case(requirement="RFC 7516 §5.2 step 15", suites=SUITES, producer="forge")
def aad_member(ctx: Context) -> tuple[bytes, bytes]:
    """Flattened JSON JWE with an `aad` member (AAD = protected '.' BASE64URL(aad))."""
    return decrypt(ctx, forge(ctx, aad=b"context \x00\xff").flattened(), "flattened")


def _moved(ctx: Context, name: str, where: str, serialization: Serialization
           ) -> tuple[bytes, bytes]:
    """A JSON JWE with header parameter `name` moved out of the protected header to `where`."""
    suite = ctx.suite
    header = {"alg": suite.alg, "enc": suite.enc}
    token = jwe.encrypt({k: v for k, v in header.items() if k != name}, PAYLOAD,
                        ctx.keys.private(suite.key), **{where: {name: header[name]}})
    return decrypt(ctx, token.serialize(serialization), serialization)


@case(requirement="RFC 7516 §7.2.1", suites=SUITES, producer="forge")
def alg_in_recipient_header(ctx: Context) -> tuple[bytes, bytes]:
    """General JSON JWE with `enc` protected and `alg` (and `epk`) in the recipient's header."""
    return _moved(ctx, "alg", "recipient_header", "general")


@case(requirement="RFC 7516 §7.2.1", suites=SUITES, producer="forge")
def enc_in_shared_unprotected(ctx: Context) -> tuple[bytes, bytes]:
    """Flattened JSON JWE with `alg` protected and `enc` in the shared unprotected header."""
    return _moved(ctx, "enc", "unprotected", "flattened")


def _two_recipients(ctx: Context, first: jwe.Recipient | None) -> jwe.JWE:
    """Our recipient second, after `first` (by default, the same CEK to the retired key)."""
    suite = ctx.suite
    cek = os.urandom(jwe.cek_bytes(suite.enc or ""))
    ours = forge(ctx, cek=cek, recipient_header={"kid": ctx.keys.private(suite.key)["kid"]})
    if first is None:
        retired = ctx.keys.private(suite.key, "retired")
        managed = jwe.manage_key(suite.alg, suite.enc or "", retired, cek=cek)
        first = jwe.Recipient(managed.encrypted_key, {"kid": retired["kid"]})
    ours.recipients.insert(0, first)
    return ours


TWO_RECIPIENT_SUITES = named_suites("JWE A128KW + A128GCM", "JWE RSA-OAEP-256 + A256GCM")
# The key as one JWK, and as a JWKS holding the current and retired keys (selection by `kid`).
KEY_CONFIGS = (ConsumerConfig("default"), ConsumerConfig("jwks", key_form="jwks"))


@case(requirement="RFC 7516 §5.2 step 18; §7.2.1", suites=TWO_RECIPIENT_SUITES,
      producer="forge", configs=KEY_CONFIGS)
def second_of_two_recipients(ctx: Context) -> tuple[bytes, bytes]:
    """General JSON JWE for two recipients (another key first, the consumer's second)."""
    return decrypt(ctx, _two_recipients(ctx, None).general(), "general")


@case(requirement="RFC 7516 §5.2 step 18", suites=TWO_RECIPIENT_SUITES, producer="forge",
      configs=KEY_CONFIGS)
def good_after_bad_recipient(ctx: Context) -> tuple[bytes, bytes]:
    """General JSON JWE whose first recipient's encrypted key is garbage: decryption succeeds
    for the consumer's recipient, so the JWE is valid (RFC 7516 §5.2 step 18)."""
    token = _two_recipients(ctx, jwe.Recipient(os.urandom(40), {"kid": "someone-else"}))
    return decrypt(ctx, token.general(), "general")


@case(requirement="RFC 7516 §4.1.3", suites=SUITES, producer="forge")
def deflated(ctx: Context) -> tuple[bytes, bytes]:
    """Compact JWE with `zip: DEF` and a small payload (raw DEFLATE, RFC 1951)."""
    return decrypt(ctx, forge(ctx, {"zip": "DEF"}).compact())


@case(requirement="RFC 7516 §5.1; RFC 7518 §5.2.2.1, §5.3", suites=SUITES, producer="forge")
def empty_plaintext(ctx: Context) -> tuple[bytes, bytes]:
    """Compact JWE of a zero-length plaintext (an empty ciphertext segment)."""
    return decrypt(ctx, forge(ctx, plaintext=b"").compact(), sent=b"")


@case(requirement="RFC 7516 §4", suites=SUITES, producer="forge")
def unknown_header_parameter(ctx: Context) -> tuple[bytes, bytes]:
    """Compact JWE whose protected header has a private, non-critical parameter (`x-trace`):
    unknown parameters not listed in `crit` are ignored."""
    return decrypt(ctx, forge(ctx, {"x-trace": "4f1c"}).compact())


@case(requirement="RFC 7518 §4.6.1.2; §4.6.2", suites=ECDH, producer="forge")
def ecdh_party_info(ctx: Context) -> tuple[bytes, bytes]:
    """ECDH-ES with `apu` and `apv`: the Concat KDF takes them into the derived key."""
    header = {"apu": jwe.b64url(b"Alice"), "apv": jwe.b64url(b"Bob")}
    return decrypt(ctx, forge(ctx, header).compact())


# One ephemeral key in 256 gives a shared secret whose first octet is zero. Z is the
# x-coordinate as a byte string of the field's size (NIST SP 800-56A §5.7.1.2, which RFC 7518
# §4.6.2 cites; for X25519 the function's 32-byte output, RFC 8037 §3.2), so its leading zero is
# part of the KDF's input. Rhonabwy 1.1.11 was seen to refuse exactly those tokens (22 of 22 in
# 6,000; none of the others).
Z_RULE = "RFC 7518 §4.6.2 (Z per NIST SP 800-56A §5.7.1.2); RFC 8037 §3.2"
LEADING_ZERO_SUITES = named_suites("JWE ECDH-ES (P-256) + A256GCM",
                                   "JWE ECDH-ES+A128KW (P-256) + A128GCM",
                                   "JWE ECDH-ES+A128KW (X25519) + A128GCM")
_EPHEMERAL_KEYS: dict[tuple[str, str], tuple[dict, bytes]] = {}


def _ephemeral_where(recipient: dict, wanted: Callable[[bytes, bytes], bool],
                     what: str) -> tuple[dict, bytes]:
    """An ephemeral public JWK for `recipient` and the shared secret Z it gives, such that
    `wanted(x, z)` holds for its x-coordinate octets and Z; searched once per recipient key,
    property and process (one key in 256 has a given leading zero octet: about 30 ms)."""
    slot = (json.dumps(recipient, sort_keys=True), what)
    if slot not in _EPHEMERAL_KEYS:
        # 10,000 tries fail with a probability of e^-39; a search that never succeeds means the
        # harness's own forge shortens what it should keep at full length.
        for _ in range(10_000):
            ephemeral = jwe.ephemeral_key(recipient["crv"])
            public = jwe.public_jwk_of(ephemeral.public_key())
            z = jwe.shared_secret(ephemeral, recipient)
            if wanted(unb64(public["x"]), z):
                break
        else:
            raise RuntimeError(f"no {recipient['crv']} key in 10,000 gave {what}: the forge "
                               f"shortens it")
        _EPHEMERAL_KEYS[slot] = (public, z)
    return _EPHEMERAL_KEYS[slot]


def leading_zero_epk(recipient: dict) -> tuple[dict, bytes]:
    """An ephemeral public JWK whose shared secret with `recipient` starts with 0x00, and that
    secret."""
    return _ephemeral_where(recipient, lambda x, z: z[0] == 0,
                            "a shared secret starting with 0x00")


def short_coordinate_epk(recipient: dict) -> tuple[dict, bytes]:
    """An ephemeral public JWK whose `x` is written one octet short (its leading zero dropped,
    as an integer-to-bytes conversion without padding does), and the shared secret."""
    public, z = _ephemeral_where(recipient, lambda x, z: x[0] == 0,
                                 "an x-coordinate starting with 0x00")
    return {**public, "x": jwe.b64url(unb64(public["x"])[1:])}, z


@case(requirement=Z_RULE, suites=LEADING_ZERO_SUITES, producer="forge")
def ecdh_z_leading_zero(ctx: Context) -> tuple[bytes, bytes]:
    """ECDH-ES whose shared secret Z begins with a zero octet: the Concat KDF takes Z at its
    full length, so a consumer that drops the zero derives another key and refuses the token."""
    recipient = ctx.keys.public(ctx.suite.key)
    epk, z = leading_zero_epk(recipient)
    return decrypt(ctx, forge(ctx, epk=epk, z=z).compact())


# The JWK's own rule (RFC 7518 §6.2.1.2): "The length of this octet string MUST be the full size
# of a coordinate for the curve". Authlib writes such keys about half the time on P-521, and one
# in 256 of a P-256 key's x needs the zero; jose2go 1.5 picks the curve by the octet count and
# dereferences a nil curve on 31 octets (a panic).
SHORT_COORDINATE_SUITES = named_suites("JWE ECDH-ES (P-256) + A256GCM",
                                       "JWE ECDH-ES+A128KW (P-256) + A128GCM",
                                       "JWE ECDH-ES (P-521) + A256GCM")


@case(requirement="RFC 7518 §6.2.1.2", expected="reject", suites=SHORT_COORDINATE_SUITES,
      producer="forge", policy=True, severity="leniency",
      why="read as integers the coordinates are still the sender's point, so reading them "
          "costs only the writer's rule")
def ecdh_epk_short_coordinate(ctx: Context) -> tuple[bytes, bytes]:
    """ECDH-ES whose `epk` writes `x` one octet short of the curve's coordinate size (its
    leading zero dropped). The rule binds the writer; a reader may refuse the key or read the
    same point from it (policy), but must not crash on it (an `error` row)."""
    recipient = ctx.keys.public(ctx.suite.key)
    epk, z = short_coordinate_epk(recipient)
    return decrypt(ctx, forge(ctx, epk=epk, z=z).compact())
