"""Fake libraries with one known weakness each, and their correct twins, for the consumer
dimensions that catch them: a key text handed over untouched, the JWT entry point, the
key-resolving entry point, and the cost of a refusal. Each weakness shows through one dimension
only, so a test can tell that it is that dimension, and not another, which catches it.

They verify what they must for real (HMAC with `hmac`, AES-GCM with `cryptography`), never a
library under test; what they do not need to check (an RSA signature) they take on trust, as
the fakes of tests/fakes.py do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import zlib
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from harness.adapters.base import Allowed, KeyData, Serialization
from harness.core.errors import Rejected, Unsupported
from harness.core.keyforms import handed_over
from harness.core.suites import Suite
from harness.interop.reference_consumer import ReferenceConsumer
from tests.fakes import FakeAdapter

HMAC_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
# What a careful fake inflates at most, as joserfc caps it.
INFLATE_CAP = 250 * 1024


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _compact_header(token: str) -> dict[str, Any]:
    return json.loads(_unb64(token.split(".")[0]))


def _headers(token: str) -> list[dict[str, Any]]:
    """Every header of a compact or JSON token, protected and unprotected."""
    if not token.lstrip().startswith("{"):
        return [_compact_header(token)]
    members = json.loads(token)
    found = []
    for member in [members, *members.get("signatures", [])]:
        if "protected" in member:
            found.append(json.loads(_unb64(member["protected"])))
        if isinstance(member.get("header"), dict):
            found.append(member["header"])
    return found


class _Verifier(FakeAdapter):
    """Checks the algorithm against the configured suite and, for HMAC, the MAC itself."""

    def _check_signature(self, suite: Suite, token: str, key: KeyData) -> bytes:
        head, body, signature = token.split(".")
        alg = _compact_header(token).get("alg")
        if alg in HMAC_HASHES and suite.key.kty != "oct":
            secret = self._secret_for_confused(key)
            mac = hmac.new(secret, f"{head}.{body}".encode(), HMAC_HASHES[alg]).digest()
            if not hmac.compare_digest(mac, _unb64(signature)):
                raise Rejected("fake: bad HMAC")
            return _unb64(body)
        if alg != suite.alg:
            raise Rejected(f"fake: {alg} is not the configured {suite.alg}")
        return _unb64(body)

    def _secret_for_confused(self, key: KeyData) -> bytes:
        raise Rejected("fake: an HMAC token for a public-key suite")


class HmacWithAnyKeyText(_Verifier):
    """Wrong: key text handed to it untouched becomes an HMAC secret, whatever it holds (a PEM
    public key, a JWK JSON text). Key text the adapter imports first is a key object, never a
    secret, so only the raw-text configurations catch it."""

    name = "hmac-any-text"

    def _secret_for_confused(self, key: KeyData) -> bytes:
        if handed_over(key):
            return key.encode() if isinstance(key, str) else bytes(key)
        raise Rejected("fake: an imported public key is no HMAC secret")

    def _verify(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                serialization: Serialization) -> bytes:
        return self._check_signature(suite, token, key)


class HmacRefusesKeyText(HmacWithAnyKeyText):
    """The correct twin: a public key, however it is handed over, is never an HMAC secret."""

    name = "hmac-refuses-text"

    def _secret_for_confused(self, key: KeyData) -> bytes:
        raise Rejected("fake: a public key is no HMAC secret")


class CritInJwsCallOnly(FakeAdapter):
    """Wrong: its JWS call refuses a `crit` it does not understand, its JWT API forgets to."""

    name = "crit-jws-only"

    def _verify(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                serialization: Serialization) -> bytes:
        if any("crit" in header for header in _headers(token)):
            raise Rejected("fake: crit names an extension it does not understand")
        return self._read(token)

    def _verify_jwt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                    serialization: Serialization) -> bytes:
        return self._read(token)


class CritEverywhere(CritInJwsCallOnly):
    """The correct twin: both entry points refuse it."""

    name = "crit-everywhere"

    def _verify_jwt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                    serialization: Serialization) -> bytes:
        return self._verify(suite, token, key, allowed, serialization)


class _GcmDecrypter(FakeAdapter):
    """Decrypts a compact `dir` + A256GCM JWE for real and inflates `zip: DEF` its own way."""

    def supports(self, suite: Suite) -> bool:
        return suite.name == "JWE dir + A256GCM"

    def _decrypt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                 serialization: Serialization) -> bytes:
        if serialization != "compact" or not isinstance(key, dict):
            raise Unsupported("fake: compact JWE with a JWK only")
        head, _, iv, ciphertext, tag = token.split(".")
        plaintext = AESGCM(_unb64(key["k"])).decrypt(_unb64(iv), _unb64(ciphertext)
                                                     + _unb64(tag), head.encode("ascii"))
        if _compact_header(token).get("zip") == "DEF":
            return self._inflate(plaintext)
        return plaintext

    def _inflate(self, compressed: bytes) -> bytes:
        raise NotImplementedError


class InflatesThenRefuses(_GcmDecrypter):
    """Wrong: it inflates the whole stream, and only then finds the plaintext too big."""

    name = "inflates-then-refuses"

    def _inflate(self, compressed: bytes) -> bytes:
        plaintext = zlib.decompress(compressed, -zlib.MAX_WBITS)
        if len(plaintext) > INFLATE_CAP:
            raise Rejected(f"fake: plaintext of {len(plaintext)} bytes is above the cap")
        return plaintext


class InflatesWithCap(_GcmDecrypter):
    """The correct twin: it stops inflating at the cap."""

    name = "inflates-with-cap"

    def _inflate(self, compressed: bytes) -> bytes:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        plaintext = inflater.decompress(compressed, INFLATE_CAP + 1)
        if len(plaintext) > INFLATE_CAP:
            raise Rejected("fake: plaintext above the cap (stopped inflating there)")
        return plaintext


class _ResolvingReference(ReferenceConsumer):
    """The strict reference behind all three entry points; its `resolver` is an application's
    key callback over the key set it is given."""

    entry_points = {"jws": "the reference's verify", "jwt": "the same",
                    "resolver": "a key callback over the JWKS"}

    def _verify_jwt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                    serialization: Serialization) -> bytes:
        return self._verify(suite, token, key, allowed, serialization)

    def _resolve(self, header: dict[str, Any], key_set: KeyData) -> KeyData:
        return key_set  # the reference picks from the set by kid itself, strictly

    def _verify_resolved(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                         serialization: Serialization) -> bytes:
        return self._verify(suite, token, self._resolve(_compact_header(token), key), allowed,
                            serialization)


class ResolverTrustsEmbeddedJwk(_ResolvingReference):
    """Wrong: its key callback returns the `jwk` the token carries when there is one. Its JWS
    call and JWT API are handed the configured key and never look at the header's `jwk`, so only
    the resolver entry point catches it."""

    name = "resolver-trusts-jwk"

    def _resolve(self, header: dict[str, Any], key_set: KeyData) -> KeyData:
        embedded = header.get("jwk")
        return embedded if isinstance(embedded, dict) else key_set


class ResolverPicksByKid(_ResolvingReference):
    """The correct twin: its callback resolves from the configured key set alone."""

    name = "resolver-by-kid"
