"""The strict reference's JWS verification (RFC 7515 §5.2, RFC 7518 §3, RFC 7797, RFC 8037,
RFC 8812), on `cryptography` alone."""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import constant_time, hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from harness.core.keys import JWK
from harness.forge.encoding import b64url
from harness.forge.jws import hmac_signature
from harness.forge.reference_common import (
    JWS_ALGS,
    Header,
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
from harness.forge.reference_keys import ec_public, okp_public, rsa_public, secret

_HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
_HMAC_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
_ES_CURVE = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521", "ES256K": "secp256k1"}
_ES_OCTETS = {"ES256": 32, "ES384": 48, "ES512": 66, "ES256K": 32}
_EDDSA_CURVES = {"EdDSA": ("Ed25519", "Ed448"), "Ed25519": ("Ed25519",), "Ed448": ("Ed448",)}
UNDERSTOOD = frozenset({"b64"})
_RFC = "RFC 7515 §4.1.11"


def verify_jws(token: str | dict[str, Any], key: dict[str, Any],
               payload: bytes | None = None) -> bytes:
    """The payload of a JWS whose signature verifies under `key`, or `ReferenceRefused`.

    `token` is compact, or the general or flattened JSON serialization (a dict or its text);
    `payload` is detached content (RFC 7515 Appendix F). With several signatures, the ones the
    key fits (by `kid` where both have one) are tried and one must verify."""
    members = json_token(token)
    if members is None:
        return _verify_compact(token, key, payload)  # type: ignore[arg-type]
    return _verify_json(members, key, payload)


def _verify_compact(token: str, key: JWK, detached: bytes | None) -> bytes:
    parts = token.split(".")
    if len(parts) != 3:
        raise ReferenceRefused(f"a compact JWS has 3 parts, this one {len(parts)} "
                               "(RFC 7515 §7.1)")
    protected_b64, payload_b64, signature_b64 = parts
    if not protected_b64:
        raise ReferenceRefused("the compact JWS has no protected header (RFC 7515 §7.1)")
    return _verify_one(protected_b64, None, payload_b64, signature_b64, key, detached,
                       compact=True)


def _verify_json(members: dict[str, Any], key: JWK, detached: bytes | None) -> bytes:
    if "signatures" in members:
        if "signature" in members or "protected" in members or "header" in members:
            raise ReferenceRefused("a general JWS puts protected, header and signature in the "
                                   "signatures array only (RFC 7515 §7.2.1, §7.2.2)")
        signatures = members["signatures"]
        if not isinstance(signatures, list) or not signatures:
            raise ReferenceRefused("signatures is not a non-empty array (RFC 7515 §7.2.1)")
    elif "signature" in members:
        signatures = [{name: members[name] for name in ("protected", "header", "signature")
                       if name in members}]
    else:
        raise ReferenceRefused("the JSON JWS has neither signatures nor signature "
                               "(RFC 7515 §7.2)")
    if "payload" not in members and detached is None:
        raise ReferenceRefused("the JSON JWS has no payload member and no detached content "
                               "was given (RFC 7515 §7.2.1, Appendix F)")
    payload_text = members.get("payload", "")
    if not isinstance(payload_text, str):
        raise ReferenceRefused("the payload member is not a string (RFC 7515 §7.2.1)")
    if not all(isinstance(s, dict) for s in signatures):
        raise ReferenceRefused("a signature is not a JSON object (RFC 7515 §7.2.1)")
    candidates = _fitting(signatures, key)
    first: ReferenceRefused | None = None
    for signature in candidates:
        try:
            return _verify_one(signature.get("protected"), signature.get("header"),
                               payload_text, signature.get("signature"), key, detached,
                               compact=False)
        except ReferenceRefused as refusal:
            first = first or refusal
    assert first is not None
    raise first


def _fitting(signatures: list[dict[str, Any]], key: JWK) -> list[dict[str, Any]]:
    """Signatures the key may have made: by kid where the key and the signature carry one."""
    kid = key.get("kid") if "keys" not in key else None
    if kid is None:
        return signatures
    named = [s for s in signatures if _kid_of(s) == kid]
    unnamed = [s for s in signatures if _kid_of(s) is None]
    return named or unnamed or signatures


def _kid_of(signature: dict[str, Any]) -> Any:
    header = signature.get("header")
    if isinstance(header, dict) and "kid" in header:
        return header["kid"]
    try:
        protected, _ = header_object(signature.get("protected") or "", "protected", "RFC 7515")
    except ReferenceRefused:
        return None
    return protected.get("kid")


def _verify_one(protected_b64: Any, unprotected: Any, payload_text: str, signature_b64: Any,
                key: JWK, detached: bytes | None, compact: bool) -> bytes:
    if protected_b64 is None or protected_b64 == "":
        protected: Header = {}
        protected_b64 = ""
    else:
        protected, _ = header_object(protected_b64, "the JWS protected header", "RFC 7515")
    if unprotected is not None and not isinstance(unprotected, dict):
        raise ReferenceRefused("the JWS unprotected header is not a JSON object "
                               "(RFC 7515 §7.2.1)")
    union = disjoint([("protected header", protected), ("unprotected header", unprotected)],
                     "RFC 7515 §7.2.1")
    check_crit(protected, union, set(unprotected or {}), UNDERSTOOD, _RFC)
    alg = require_alg(union, JWS_ALGS, "JWS", "RFC 7515 §4.1.1")
    encoded = _b64_flag(protected, union)
    if signature_b64 is None:
        raise ReferenceRefused("the JWS has no signature member (RFC 7515 §7.2.1)")
    signature = b64decode(signature_b64, "the JWS signature")
    if detached is not None:
        if payload_text:
            raise ReferenceRefused("detached content was given but the JWS carries a payload "
                                   "(RFC 7515 Appendix F)")
        payload = detached
        # RFC 7797 §5.2 restricts only a payload carried in a compact token, not detached.
        payload_text = b64url(detached) if encoded else ""
    elif encoded:
        payload = b64decode(payload_text, "the JWS payload")
    else:
        payload = _unencoded(payload_text.encode("utf-8"), compact).encode("utf-8")
    signing_input = protected_b64.encode("ascii") + b"." + (
        payload_text.encode("ascii") if encoded else payload)
    jwk = choose_key(key, union)
    check_key_use(jwk, alg, "JWS")
    _check_signature(alg, jwk, signing_input, signature)
    return payload


def _unencoded(payload: bytes, compact: bool) -> str:
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise ReferenceRefused("the unencoded payload is not UTF-8 text (RFC 7797 §5)") from None
    if compact and "." in text:
        raise ReferenceRefused("an unencoded compact payload contains '.' (RFC 7797 §5.2)")
    return text


def _b64_flag(protected: Header, union: Header) -> bool:
    """RFC 7797 §3/§6: `b64` is a boolean, integrity protected and listed in `crit`."""
    if "b64" not in union:
        return True
    value = union["b64"]
    if "b64" not in protected:
        raise ReferenceRefused("b64 is in an unprotected header; it MUST be integrity "
                               "protected (RFC 7797 §3)")
    if not isinstance(value, bool):
        raise ReferenceRefused(f"b64 is {value!r}, not a boolean (RFC 7797 §3)")
    if "b64" not in (protected.get("crit") or []):
        raise ReferenceRefused("b64 is used without being listed in crit (RFC 7797 §6)")
    return value


def _check_signature(alg: str, jwk: JWK, data: bytes, signature: bytes) -> None:
    bad = ReferenceRefused(f"the {alg} signature does not verify (RFC 7515 §5.2 step 8)")
    if alg.startswith("HS"):
        key = secret(jwk, alg)
        if len(key) < _HMAC_BYTES[alg]:
            raise ReferenceRefused(f"the {alg} key has {len(key) * 8} bits; a key of the hash "
                                   "size or larger MUST be used (RFC 7518 §3.2)")
        if not constant_time.bytes_eq(hmac_signature(alg, key, data), signature):
            raise bad
        return
    try:
        if alg[:2] in {"RS", "PS"}:
            public = rsa_public(jwk, alg)
            if len(signature) != (public.key_size + 7) // 8:
                raise ReferenceRefused(f"the {alg} signature is {len(signature)} octets, not "
                                       "the modulus length (RFC 8017 §8.1.2, §8.2.2 step 1)")
            digest = _HASHES[alg[-3:]]()
            scheme = (padding.PKCS1v15() if alg.startswith("RS") else
                      padding.PSS(padding.MGF1(digest), digest.digest_size))
            public.verify(signature, data, scheme, digest)
        elif alg in _ES_CURVE:
            _check_ecdsa(alg, jwk, data, signature)
        else:
            okp_public(jwk, _EDDSA_CURVES[alg], alg).verify(signature, data)
    except InvalidSignature:
        raise bad from None


def _check_ecdsa(alg: str, jwk: JWK, data: bytes, signature: bytes) -> None:
    public = ec_public(jwk, _ES_CURVE[alg], alg)
    size = _ES_OCTETS[alg]
    if len(signature) != 2 * size:
        raise ReferenceRefused(f"the {alg} signature is {len(signature)} octets, not "
                               f"R || S of {2 * size} (RFC 7518 §3.4)")
    r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
    digest = hashes.SHA256() if alg == "ES256K" else _HASHES[alg[2:5]]()
    if r == 0 or s == 0:
        raise InvalidSignature
    public.verify(encode_dss_signature(r, s), data, ec.ECDSA(digest))
