"""Fake adapters for the key-generation checks: real keys (`cryptography`), real signatures
(the forge) and strict verification (the reference), with one defect each where named."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from harness.adapters.base import Allowed, KeyData, Serialization
from harness.core.errors import Rejected
from harness.core.keys import JWK, generate_jwk, public_jwk
from harness.core.suites import MADE_UP_SUITE, KeySpec, Suite
from harness.forge import jws as forge_jws
from harness.forge.thumbprint import REQUIRED_MEMBERS, thumbprint
from harness.interop.reference_consumer import ReferenceConsumer

COMPACT_JWS = {"JWS": frozenset({"compact"})}


class KeygenOk(ReferenceConsumer):
    """Does it all right: defaults RSA 2048 and oct 256, exports as RFC 7517 says, RFC 7638
    thumbprints; signs with the forge and verifies with the strict reference."""

    name = "keygen-ok"
    distribution = "pytest"
    produces = COMPACT_JWS
    consumes = COMPACT_JWS
    keygen_api = "the fake's generate_key"
    default_rsa_bits = 2048
    default_oct_bits = 256

    def supports(self, suite: Suite) -> bool:
        return suite.family == "JWS" and suite != MADE_UP_SUITE

    def _sign(self, suite: Suite, payload: bytes, key: KeyData, header: dict[str, Any],
              allowed: Allowed, serialization: Serialization) -> str:
        assert isinstance(key, dict)
        return forge_jws.sign({"alg": suite.alg, **header}, payload, key)

    def _generate_key(self, kty: str, crv: str | None, size: int | None) -> JWK:
        if kty in ("RSA", "oct"):
            bits = size or (self.default_rsa_bits if kty == "RSA" else self.default_oct_bits)
            return generate_jwk(KeySpec(kty, str(bits)))
        return generate_jwk(KeySpec(kty, crv or ("P-256" if kty == "EC" else "Ed25519")))

    def _export_jwk(self, jwk: JWK, private: bool) -> JWK:
        return dict(jwk) if private else public_jwk(jwk)

    def _export_jwks(self, jwk: JWK, private: bool) -> JWK:
        return {"keys": [self._export_jwk(jwk, private)]}

    def _thumbprint(self, jwk: JWK) -> str:
        return thumbprint(jwk)


class KeygenOkToo(KeygenOk):
    name = "keygen-ok-2"


class Weak1024(KeygenOk):
    """Generates 1024-bit RSA keys unless told otherwise."""

    name = "keygen-1024"
    default_rsa_bits = 1024


class RefusesWeak(KeygenOk):
    """Refuses what RFC 7518 forbids: RSA under 2048 bits, an oct key under 256."""

    name = "refuses-weak"

    def _generate_key(self, kty: str, crv: str | None, size: int | None) -> JWK:
        if size is not None and size < {"RSA": 2048, "oct": 256}.get(kty, 0):
            raise Rejected(f"refuses-weak: a {size}-bit {kty} key is too small")
        return super()._generate_key(kty, crv, size)


class DropsExponent(KeygenOk):
    """Its public exports leave out the RSA exponent `e`."""

    name = "drops-e"

    def _export_jwk(self, jwk: JWK, private: bool) -> JWK:
        exported = super()._export_jwk(jwk, private)
        return exported if private else {k: v for k, v in exported.items() if k != "e"}


class ThumbprintInJwkOrder(KeygenOk):
    """Hashes the required members in the order the JWK lists them, not lexicographically."""

    name = "thumbprint-jwk-order"

    def _thumbprint(self, jwk: JWK) -> str:
        required = REQUIRED_MEMBERS[jwk["kty"]]
        text = json.dumps({k: v for k, v in jwk.items() if k in required},
                          separators=(",", ":"))
        digest = hashlib.sha256(text.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
