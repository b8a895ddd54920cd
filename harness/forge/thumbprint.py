"""RFC 7638 JWK thumbprints computed strictly, on `hashlib` alone: the reference the libraries'
thumbprints are held against.

RFC 7638 §3.2: the hash input holds the key type's required members only (RFC 7518 §6.2.1,
§6.3.1, §6.4.1; for OKP, RFC 8037 §2), whatever else the JWK carries (`kid`, `alg`, `use`,
private members). §3.3: the members in lexicographic order of their names, no whitespace, the
values exactly as they appear in the JWK, UTF-8. §3.4: SHA-256 here; the thumbprint is the
base64url of the digest, without padding.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

RFC7638_EXAMPLE: dict[str, str] = {
    "kty": "RSA",
    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
         "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
         "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI"
         "4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    "e": "AQAB",
    "alg": "RS256",
    "kid": "2011-04-29",
}
RFC7638_EXAMPLE_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
RFC7638_EXAMPLE_NAME = "RFC 7638 §3.1 example"
# RFC 7638 §3.2 with RFC 7518 §6 and RFC 8037 §2: the required members of each key type.
REQUIRED_MEMBERS: dict[str, tuple[str, ...]] = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
    "oct": ("k", "kty"),
}
BASE64URL_MEMBERS = frozenset({"e", "n", "x", "y", "k"})


class ThumbprintRefused(ValueError):
    """The JWK has no RFC 7638 thumbprint: a required member is missing or malformed."""


def _check_base64url(name: str, value: str) -> None:
    if "=" in value or any(c in value for c in "+/ \n"):
        raise ThumbprintRefused(f"member {name!r} is not unpadded base64url (RFC 7515 §2)")
    try:
        base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as error:
        raise ThumbprintRefused(f"member {name!r} is not base64url: {error}") from None


def hash_input(jwk: dict[str, Any]) -> bytes:
    """The exact octets RFC 7638 §3.3 hashes for `jwk`."""
    kty = jwk.get("kty")
    if kty not in REQUIRED_MEMBERS:
        raise ThumbprintRefused(f"kty {kty!r} has no registered required members (RFC 7638 §3.2)")
    chosen: dict[str, str] = {}
    for name in REQUIRED_MEMBERS[kty]:
        value = jwk.get(name)
        if not isinstance(value, str) or not value:
            raise ThumbprintRefused(f"the {kty} key lacks its required member {name!r} "
                                    "(RFC 7638 §3.2)")
        if name in BASE64URL_MEMBERS:
            _check_base64url(name, value)
        chosen[name] = value
    # The names are already in lexicographic order; sort_keys keeps it true whatever the table.
    text = json.dumps(chosen, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def thumbprint(jwk: dict[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of `jwk`, base64url without padding."""
    digest = hashlib.sha256(hash_input(jwk)).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
