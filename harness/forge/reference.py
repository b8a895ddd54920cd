"""The strict reference consumer: verifies and decrypts exactly as RFC 7515/7516/7518/7797/8037/
8812 say, on `cryptography` and the forge's own pieces alone, never on a library under test.

Published vectors (`vectors/`) check it; it judges every token a library produces
(`conformance`), which says which side of a failing pair broke the RFC. Its rules, each refusal
naming one (`ReferenceRefused.rule`):

- IANA-registered `alg`/`enc`/`zip` names only, exact case; `none` is refused when a key is given.
- Keys: HMAC keys of at least the hash size, RSA of 2048 bits or more (odd exponent >= 3, no
  ROCA fingerprint), the curve the alg names, EC coordinates of full length and points on the
  curve; a JWK's `use`, `key_ops` and `alg` must allow the use; a JWK Set must not repeat a
  kid or mix secret and public keys.
- Strict base64url (no padding, no other alphabet, canonical), headers that are JSON objects
  with unique names, protected/unprotected/per-recipient names disjoint, `crit` as RFC 7515
  §4.1.11 says (only `b64` is understood, for JWS), `zip` and `crit` protected.
- ECDSA signatures exactly R || S of 2 × the curve size, RSA signatures of the modulus length.
- JWE: AAD over the received protected octets, GCM with a 96-bit IV and 128-bit tag, CBC-HMAC
  with a 128-bit IV and T_LEN tag, raw DEFLATE for `zip: DEF` (not zlib, not gzip), the A*KW
  integrity check, A*GCMKW `iv`/`tag`, ECDH-ES with an `epk` on the recipient's curve, PBES2
  with `p2s` of 8 octets or more and a positive integer `p2c`, RSA1_5 without a padding oracle.
- Its own bounds, beyond which a token is refused but "not judged": `p2c` above
  `MAX_P2C` (1,000,000) and plaintexts inflating beyond `MAX_INFLATED` (16 MiB).
"""

from __future__ import annotations

from typing import Any

from harness.forge.reference_common import ReferenceCannotJudge, ReferenceRefused, json_token
from harness.forge.reference_jwe import MAX_INFLATED, MAX_P2C, decrypt_jwe
from harness.forge.reference_jws import verify_jws

__all__ = ["CONFORMANT", "MAX_INFLATED", "MAX_P2C", "NOT_JUDGED", "ReferenceCannotJudge",
           "ReferenceRefused", "conformance", "decrypt_jwe", "is_jwe", "verify_jws"]

CONFORMANT = "conformant"
NOT_JUDGED = "not judged: "


def is_jwe(token: str | dict[str, Any]) -> bool:
    """A JWE has five compact parts or JSON members `ciphertext`; a JWS has three or `payload`."""
    try:
        members = json_token(token)
    except ReferenceRefused:
        return False
    if members is None:
        return isinstance(token, str) and token.count(".") == 4
    return "ciphertext" in members


def conformance(token: str | dict[str, Any], key: dict[str, Any]) -> str:
    """`conformant`, the first rule the token breaks, or "not judged: ..." when the token is
    beyond the reference's own bounds. For a JWE `key` is the recipient's private key; for a
    JWS the public (or secret) key."""
    try:
        if is_jwe(token):
            decrypt_jwe(token, key)
        else:
            verify_jws(token, key)
    except ReferenceCannotJudge as bound:
        return NOT_JUDGED + bound.rule
    except ReferenceRefused as refusal:
        return refusal.rule
    return CONFORMANT
