"""JWS signatures made with `cryptography` alone (RFC 7515, RFC 7518 §3, RFC 8037)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from harness.core.keyforms import private_key, secret
from harness.core.keys import JWK
from harness.forge.encoding import b64url, compact, encode_json, segment

_HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
_EC_OCTETS = {"ES256": 32, "ES256K": 32, "ES384": 48, "ES512": 66}


def signing_input(header: Any, payload: bytes) -> bytes:
    """ASCII(BASE64URL(header) '.' BASE64URL(payload)); `header` may be raw bytes or text."""
    return f"{segment(header)}.{segment(payload)}".encode("ascii")


def hmac_signature(alg: str, key: bytes, data: bytes) -> bytes:
    mac = hmac.HMAC(key, _HASHES[alg[-3:]]())
    mac.update(data)
    return mac.finalize()


@cache
def _private_key(jwk_json: bytes) -> Any:
    # The forge signs thousands of tokens with the same few keys.
    return private_key(json.loads(jwk_json))


def raw_signature(alg: str, jwk: JWK, data: bytes) -> bytes:
    """The JWS signature bytes of `data` under `alg` with a private JWK (or oct secret)."""
    if alg.startswith("HS"):
        return hmac_signature(alg, secret(jwk), data)
    key = _private_key(encode_json(jwk))
    if alg.startswith("RS"):
        return key.sign(data, padding.PKCS1v15(), _HASHES[alg[-3:]]())
    if alg.startswith("PS"):
        digest = _HASHES[alg[-3:]]()
        return key.sign(data, padding.PSS(padding.MGF1(digest), digest.digest_size), digest)
    if alg.startswith("ES"):
        digest = hashes.SHA256() if alg == "ES256K" else _HASHES[alg[2:5]]()
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(digest)))
        size = _EC_OCTETS[alg]
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    if alg in {"EdDSA", "Ed25519", "Ed448"}:
        return key.sign(data)
    raise ValueError(f"the forge cannot sign {alg!r}")


def sign(header: dict[str, Any], payload: bytes, jwk: JWK, alg: str | None = None) -> str:
    """A compact JWS whose header is exactly `header`, signed with `alg` (default: its alg)."""
    data = signing_input(header, payload)
    signature = raw_signature(alg or header["alg"], jwk, data)
    return compact(data.decode("ascii"), b64url(signature))


def sign_general(signers: list[tuple[dict[str, Any], JWK]], payload: bytes) -> str:
    """A general JSON JWS (RFC 7515 §7.2.1) with one signature per (protected header, private
    key), each over its own protected header and the one payload."""
    signatures = []
    for header, jwk in signers:
        data = signing_input(header, payload)
        signatures.append({"protected": segment(header),
                           "signature": b64url(raw_signature(header["alg"], jwk, data))})
    return json.dumps({"payload": segment(payload), "signatures": signatures})
