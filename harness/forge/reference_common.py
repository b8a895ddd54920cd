"""What the strict reference's JWS and JWE halves share: the refusal, strict base64url and JSON,
the registered names, `crit`, header disjointness and key choice.

Each refusal names one rule and where the RFC states it, so a refused token says exactly what
its producer got wrong.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from harness.core.keys import JWK

Header = dict[str, Any]


class ReferenceRefused(Exception):
    """The token breaks `rule`: one sentence naming the rule and its RFC section."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


class ReferenceCannotJudge(ReferenceRefused):
    """The reference refuses the token for a bound of its own, not for an RFC rule (a `p2c` above
    its iteration cap, a plaintext above its inflate cap): `conformance` says "not judged"."""


# -- registered names (IANA "JSON Web Signature and Encryption Algorithms", exact case) ---------

JWS_ALGS = frozenset({
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512",
    "PS256", "PS384", "PS512",       # RFC 7518 §3.1
    "EdDSA",                         # RFC 8037 §3.1
    "ES256K",                        # RFC 8812 §3.2
    "Ed25519", "Ed448",              # RFC 9864 §2.2 (fully specified EdDSA)
})
JWE_ALGS = frozenset({
    "RSA1_5", "RSA-OAEP", "RSA-OAEP-256", "A128KW", "A192KW", "A256KW", "dir", "ECDH-ES",
    "ECDH-ES+A128KW", "ECDH-ES+A192KW", "ECDH-ES+A256KW", "A128GCMKW", "A192GCMKW",
    "A256GCMKW", "PBES2-HS256+A128KW", "PBES2-HS384+A192KW", "PBES2-HS512+A256KW",  # §4.1
})
JWE_ENCS = frozenset({"A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512", "A128GCM", "A192GCM",
                      "A256GCM"})  # RFC 7518 §5.1
# Header Parameter names RFC 7515 §4.1, RFC 7516 §4.1 and RFC 7518 §4.6.1/§4.7.1/§4.8.1 define:
# RFC 7515 §4.1.11 forbids them in `crit`.
REGISTERED_HEADER_NAMES = frozenset({
    "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit", "enc",
    "zip", "epk", "apu", "apv", "iv", "tag", "p2s", "p2c"})

# -- base64url and JSON -------------------------------------------------------------------------

_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64decode(text: Any, what: str) -> bytes:
    """Strict base64url (RFC 7515 §2): the URL-safe alphabet only, no padding, no whitespace,
    and the canonical encoding (unused bits zero), so exactly one text stands for given bytes."""
    if not isinstance(text, str):
        raise ReferenceRefused(f"{what} is not a base64url string (RFC 7515 §2)")
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ReferenceRefused(
            f"{what} is not unpadded base64url: characters outside A-Z a-z 0-9 - _ or '=' "
            "padding (RFC 7515 §2, §3.1)")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ReferenceRefused(f"{what} is not valid base64url (RFC 7515 §2)") from None
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii") != text:
        raise ReferenceRefused(f"{what} is not the canonical base64url of its bytes: unused "
                               "bits are set (RFC 7515 §2, RFC 4648 §3.5)")
    return data


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise _Duplicate(repeated[0])
    return dict(pairs)


class _Duplicate(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def parse_json(data: bytes | str, what: str, rule: str) -> Any:
    """JSON with every member name unique; `rule` cites where the RFC requires uniqueness."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise ReferenceRefused(f"{what} is not UTF-8 (RFC 7515 §5.2 step 3)") from None
    try:
        return json.loads(text, object_pairs_hook=_unique)
    except _Duplicate as duplicate:
        raise ReferenceRefused(f"{what} repeats the member {duplicate.name!r} ({rule})") from None
    except ValueError:
        raise ReferenceRefused(f"{what} is not JSON (RFC 7515 §5.2 step 3)") from None


def header_object(segment: str, what: str, rfc: str) -> tuple[Header, bytes]:
    """A protected header: strict base64url of a UTF-8 JSON object with unique names."""
    raw = b64decode(segment, what)
    header = parse_json(raw, what, f"{rfc} §4: Header Parameter names MUST be unique")
    if not isinstance(header, dict):
        raise ReferenceRefused(f"{what} is not a JSON object ({rfc} §4)")
    return header, raw


def json_token(token: str | dict[str, Any]) -> dict[str, Any] | None:
    """The JSON serialization as a dict, or None for a compact token."""
    if isinstance(token, dict):
        return token
    if not isinstance(token, str):
        raise ReferenceRefused("the token is neither a string nor a JSON object (RFC 7515 §7)")
    if token.lstrip().startswith("{"):
        value = parse_json(token, "the JSON serialization",
                           "RFC 8259 §4: names within an object should be unique")
        if not isinstance(value, dict):
            raise ReferenceRefused("the JSON serialization is not an object (RFC 7515 §7.2)")
        return value
    return None


# -- headers ------------------------------------------------------------------------------------

def disjoint(parts: list[tuple[str, Header | None]], rfc: str) -> Header:
    """The JOSE Header: the union of the parts, whose names must not repeat across them."""
    union: Header = {}
    seen: dict[str, str] = {}
    for place, header in parts:
        if header is None:
            continue
        if not isinstance(header, dict):
            raise ReferenceRefused(f"the {place} is not a JSON object ({rfc})")
        for name in header:
            if name in seen:
                raise ReferenceRefused(
                    f"header parameter {name!r} appears in both the {seen[name]} and the "
                    f"{place}; the names MUST be disjoint ({rfc})")
            seen[name] = place
        union.update(header)
    return union


def check_crit(protected: Header, union: Header, unprotected_names: set[str],
               understood: frozenset[str], rfc: str) -> None:
    """RFC 7515 §4.1.11 (RFC 7516 §4.1.13): `crit` is integrity protected, a non-empty list of
    names, none registered, none repeated, each present and each understood."""
    if "crit" in unprotected_names:
        raise ReferenceRefused(f"crit is in an unprotected header; it MUST be integrity "
                               f"protected ({rfc})")
    if "crit" not in protected:
        return
    crit = protected["crit"]
    if not isinstance(crit, list) or not all(isinstance(n, str) for n in crit):
        raise ReferenceRefused(f"crit is not an array of names ({rfc})")
    if not crit:
        raise ReferenceRefused(f"crit is the empty list, which producers MUST NOT use ({rfc})")
    if len(set(crit)) != len(crit):
        raise ReferenceRefused(f"crit repeats a name ({rfc})")
    for name in crit:
        if name in REGISTERED_HEADER_NAMES:
            raise ReferenceRefused(f"crit lists {name!r}, a name the JWS/JWE specifications "
                                   f"define, which it MUST NOT list ({rfc})")
        if name not in union:
            raise ReferenceRefused(f"crit lists {name!r}, which is not in the header ({rfc})")
        if name not in understood:
            raise ReferenceRefused(f"crit lists {name!r}, an extension the recipient does not "
                                   f"understand, so the token MUST be rejected ({rfc})")


def require_alg(union: Header, registered: frozenset[str], family: str, rfc: str) -> str:
    alg = union.get("alg")
    if alg is None:
        raise ReferenceRefused(f"the header has no alg ({rfc})")
    if not isinstance(alg, str) or alg not in registered:
        raise ReferenceRefused(f"alg {alg!r} is not a registered {family} algorithm name "
                               "(exact case; RFC 7518 §3.1/§4.1, RFC 8037, RFC 8812)")
    return alg


# -- keys ---------------------------------------------------------------------------------------

def choose_key(key: JWK | dict[str, Any], header: Header) -> JWK:
    """The key to use: the JWK itself, or the one key of a JWK Set the header's `kid` names.

    A set is refused when it is ambiguous: two keys with one `kid` (RFC 7517 §4.5 asks for
    distinct kids), or secret and public keys mixed, so the token's alg would pick the kind of
    key (the algorithm confusion of RFC 8725 §2.1)."""
    if not isinstance(key, dict):
        raise ReferenceRefused("the key is not a JWK object (RFC 7517 §4)")
    if "keys" not in key:
        return key
    keys = key["keys"]
    if not isinstance(keys, list) or not keys or not all(isinstance(k, dict) for k in keys):
        raise ReferenceRefused("the JWK Set has no keys (RFC 7517 §5)")
    kids = [k.get("kid") for k in keys if "kid" in k]
    if len(set(map(str, kids))) != len(kids):
        raise ReferenceRefused("the JWK Set holds two keys with the same kid, so the kid does "
                               "not pick one key (RFC 7517 §4.5)")
    if len({k.get("kty") == "oct" for k in keys}) > 1:
        raise ReferenceRefused("the JWK Set mixes secret (oct) and public keys, so the token's "
                               "alg would choose the kind of key (RFC 8725 §2.1)")
    kid = header.get("kid")
    if kid is not None:
        match = [k for k in keys if k.get("kid") == kid]
        if not match:
            raise ReferenceRefused(f"no key in the JWK Set has kid {kid!r} (RFC 7515 §4.1.4)")
        return match[0]
    if len(keys) == 1:
        return keys[0]
    raise ReferenceRefused("the token has no kid and the JWK Set holds several keys "
                           "(RFC 7515 §4.1.4)")


def check_key_use(jwk: JWK, alg: str, family: str, enc: str | None = None) -> None:
    """`use`, `key_ops` and `alg` of the JWK must allow this use (RFC 7517 §4.2-§4.4)."""
    use = jwk.get("use")
    wanted_use = "sig" if family == "JWS" else "enc"
    if use is not None and use != wanted_use:
        raise ReferenceRefused(f"the key's use is {use!r}, not {wanted_use!r} "
                               "(RFC 7517 §4.2)")
    ops = jwk.get("key_ops")
    if ops is not None:
        allowed = {"verify"} if family == "JWS" else {"decrypt", "unwrapKey", "deriveKey",
                                                        "deriveBits"}
        if not isinstance(ops, list) or not allowed & set(ops):
            raise ReferenceRefused(f"the key's key_ops {ops!r} do not allow "
                                   f"{'/'.join(sorted(allowed))} (RFC 7517 §4.3)")
    key_alg = jwk.get("alg")
    if key_alg is not None and key_alg != alg and not (alg == "dir" and key_alg == enc):
        raise ReferenceRefused(f"the key is for alg {key_alg!r}, the token uses {alg!r} "
                               "(RFC 7517 §4.4, RFC 8725 §3.1)")
