"""Fake adapters that test the harness itself: they accept everything, reject everything,
support nothing, raise an undocumented exception, or kill their process."""

from __future__ import annotations

import base64
import json
import os
import zlib
from typing import Any

from harness.adapters.base import SERIALIZATIONS, Adapter, Allowed, KeyData, Mode, Serialization
from harness.core.errors import Rejected, Unsupported
from harness.core.suites import MADE_UP_SUITE, Suite

EVERY_FORM = {"JWS": frozenset(SERIALIZATIONS), "JWE": frozenset(SERIALIZATIONS)}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FakeAdapter(Adapter):
    """Makes tokens whose payload is readable by any fake; never checks a signature."""

    distribution = "pytest"
    produces = EVERY_FORM
    consumes = EVERY_FORM
    entry_points = {"jws": "the fake's verify/decrypt", "jwt": "the fake's JWT API: the same",
                    "resolver": "the fake's key-resolving form: the same"}

    def supports(self, suite: Suite) -> bool:
        return suite != MADE_UP_SUITE

    def allows_by_default(self, suite: Suite) -> bool:
        return True

    def _make(self, suite: Suite, payload: bytes, header: dict[str, Any]) -> str:
        head = _b64(json.dumps({"alg": suite.alg, **header}).encode())
        return f"{head}.{_b64(payload)}.c2ln"

    def _read(self, token: str) -> bytes:
        if token.startswith("{"):
            members = json.loads(token)
            if "token" not in members:  # a forged JSON token: accepted as it is
                return token.encode()
            token = members["token"]
        return _unb64(token.split(".")[1])

    def _sign(self, suite: Suite, payload: bytes, key: KeyData, header: dict[str, Any],
              allowed: Allowed, serialization: Serialization) -> str:
        token = self._make(suite, payload, header)
        return token if serialization == "compact" else json.dumps({"token": token})

    _encrypt = _sign

    def _verify(self, suite: Suite, token: str, key: KeyData, mode: Mode,
                serialization: Serialization) -> bytes:
        return self._read(token)

    _decrypt = _verify

    def _verify_jwt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                    serialization: Serialization) -> bytes:
        # A fake's JWT API does whatever its JWS call does (a subclass's override included).
        return self._verify(suite, token, key, "default", serialization)

    def _decrypt_jwt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                     serialization: Serialization) -> bytes:
        return self._decrypt(suite, token, key, "default", serialization)

    _verify_resolved = _verify_jwt

    def _validate_claims(self, suite: Suite, token: str, key: KeyData, options: Any,
                         allowed: Allowed) -> dict[str, Any]:
        # Whatever a fake does to a signature it does to the claims: accept, refuse, raise, die.
        return json.loads(self._verify(suite, token, key, "default", "compact"))

    # Several signatures and recipients: the layout RFC 7515/7516 §7.2.1 describes around a
    # readable `token` member, so the harness's layout check sees what a library would write.
    def _sign_multi(self, signers: list[tuple[Suite, KeyData, dict[str, Any]]],
                    payload: bytes, allowed: Allowed) -> str:
        return json.dumps({"token": self._make(signers[0][0], payload, {}),
                           "payload": _b64(payload),
                           "signatures": [{"protected": _b64(json.dumps(
                               {"alg": suite.alg, **header}).encode()), "signature": "c2ln"}
                               for suite, _, header in signers]})

    def _encrypt_multi(self, recipients: list[tuple[Suite, KeyData, dict[str, Any]]],
                       plaintext: bytes, allowed: Allowed) -> str:
        enc = recipients[0][0].enc
        return json.dumps({"token": self._make(recipients[0][0], plaintext, {}),
                           "protected": _b64(json.dumps(self._shared(enc)).encode()),
                           "recipients": [{"header": self._recipient(suite, header, index),
                                           "encrypted_key": "a2V5"}
                                          for index, (suite, _, header)
                                          in enumerate(recipients)],
                           "iv": "aXY", "ciphertext": _b64(plaintext), "tag": "dGFn"})

    def _shared(self, enc: str | None) -> dict[str, Any]:
        return {"enc": enc}

    def _recipient(self, suite: Suite, header: dict[str, Any], index: int) -> dict[str, Any]:
        return {"alg": suite.alg, **header}

    def registered_names(self) -> dict[str, list[str]]:
        return {"JWS alg": ["HS256", "ES256"], "JWE alg": ["RSA-OAEP-256"],
                "JWE enc": ["A256GCM"]}
    def _validate_access_token(self, token: str, check: Any) -> dict[str, Any]:
        # Decrypt and verify as the fake does everything: no claim or header is checked.
        if check.encryption is not None:
            token = self._decrypt(check.encryption, token, check.decryption_key, "default",
                                  "compact").decode()
        return json.loads(self._verify(check.signing, token, check.verification_key, "default",
                                       "compact"))


class AcceptAll(FakeAdapter):
    name = "accept-all"


class RejectAll(FakeAdapter):
    name = "reject-all"

    def _verify(self, suite: Suite, token: str, key: KeyData, mode: Mode,
                serialization: Serialization) -> bytes:
        raise Rejected("RejectAll: refused")

    _decrypt = _verify


class SupportsNothing(FakeAdapter):
    name = "supports-nothing"

    def supports(self, suite: Suite) -> bool:
        return False


class RaisesUndocumented(FakeAdapter):
    name = "raises-undocumented"

    def _verify(self, suite: Suite, token: str, key: KeyData, mode: Mode,
                serialization: Serialization) -> bytes:
        raise KeyError("an exception type the library does not document")

    _decrypt = _verify


class FlakyProducer(FakeAdapter):
    """Raises an undocumented exception on its first token of each suite, then makes them as
    AcceptAll does (jose2go's ECDH-ES panics now and then): the first consumer's cell fails in
    the producer, and the token made again serves the others."""

    name = "flaky-producer"

    def __init__(self) -> None:
        super().__init__()
        self.failed: set[str] = set()

    def _sign(self, suite: Suite, payload: bytes, key: KeyData, header: dict[str, Any],
              allowed: Allowed, serialization: Serialization) -> str:
        if suite.name not in self.failed:
            self.failed.add(suite.name)
            raise KeyError("the producer's undocumented failure")
        return super()._sign(suite, payload, key, header, allowed, serialization)

    _encrypt = _sign


class KillsProcess(FakeAdapter):
    name = "kills-process"

    def _verify(self, suite: Suite, token: str, key: KeyData, mode: Mode,
                serialization: Serialization) -> bytes:
        os._exit(17)

    _decrypt = _verify


class ClaimsMadeUpSuite(FakeAdapter):
    """Wrong: it says yes to a suite no library implements."""

    name = "claims-made-up"

    def supports(self, suite: Suite) -> bool:
        return True


class FailsOnMadeUpSuite(FakeAdapter):
    """Wrong: it fails with its own error instead of declaring `Unsupported`."""

    name = "fails-made-up"

    def check(self, suite: Suite, mode: Mode, operation: Any,
              serialization: Serialization = "compact", explicit: bool = False) -> None:
        if suite == MADE_UP_SUITE:
            raise ValueError("no such algorithm")
        super().check(suite, mode, operation, serialization, explicit)


def _deflate(data: bytes, wrapped: bool = False) -> bytes:
    """Raw DEFLATE (RFC 1951, what RFC 7516 §4.1.3 means), or zlib-wrapped (RFC 1950)."""
    packer = zlib.compressobj(wbits=15 if wrapped else -15)
    return packer.compress(data) + packer.flush()


def _inflate(data: bytes, wrapped: bool = False) -> bytes:
    try:
        return zlib.decompress(data, wbits=15 if wrapped else -15)
    except zlib.error as error:
        raise Rejected(f"cannot inflate: {error}") from error


class ZipFake(FakeAdapter):
    """Honours `zip: DEF` as RFC 7516 says: raw DEFLATE out, raw DEFLATE in."""

    name = "zip-ok"
    wraps_output = False  # zlib-wraps what it compresses
    reads_wrapped = False  # inflates only zlib-wrapped input
    ignores_zip = False  # returns the compressed bytes as they are

    def _sign(self, suite: Suite, payload: bytes, key: KeyData, header: dict[str, Any],
              allowed: Allowed, serialization: Serialization) -> str:
        if header.get("zip") == "DEF":
            payload = _deflate(payload, wrapped=self.wraps_output)
        return super()._sign(suite, payload, key, header, allowed, serialization)

    _encrypt = _sign

    def _verify(self, suite: Suite, token: str, key: KeyData, mode: Mode,
                serialization: Serialization) -> bytes:
        body = self._read(token)
        header = json.loads(_unb64(token.split(".")[0]))
        if header.get("zip") == "DEF" and not self.ignores_zip:
            return _inflate(body, wrapped=self.reads_wrapped)
        return body

    _decrypt = _verify


class ZipFakeToo(ZipFake):
    name = "zip-ok-2"


class ZipFakeThree(ZipFake):
    name = "zip-ok-3"


class ZlibDef(ZipFake):
    """Like python-jose: writes and reads only zlib-wrapped DEF."""

    name = "zlib-def"
    wraps_output = reads_wrapped = True


class IgnoresZip(ZipFake):
    """Compresses correctly, but returns the compressed bytes when reading (like jwskate)."""

    name = "ignores-zip"
    ignores_zip = True


class EncPerRecipient(FakeAdapter):
    """Wrong: writes `enc` in every recipient's header, none protected."""

    name = "enc-per-recipient"

    def _shared(self, enc: str | None) -> dict[str, Any]:
        return {}

    def _recipient(self, suite: Suite, header: dict[str, Any], index: int) -> dict[str, Any]:
        return {"alg": suite.alg, "enc": suite.enc, **header}


class SharedKid(FakeAdapter):
    """Wrong: gives every recipient (and signature) the first one's `kid`."""

    name = "shared-kid"

    def _recipient(self, suite: Suite, header: dict[str, Any], index: int) -> dict[str, Any]:
        return {"alg": suite.alg, **header, "kid": "the-first-kid"}

    def _sign_multi(self, signers: list[tuple[Suite, KeyData, dict[str, Any]]],
                    payload: bytes, allowed: Allowed) -> str:
        return super()._sign_multi([(s, k, {**h, "kid": "the-first-kid"}) for s, k, h in signers],
                                   payload, allowed)


def _kids(key: KeyData) -> set[Any]:
    keys = key["keys"] if isinstance(key, dict) and "keys" in key else [key]
    return {k.get("kid") for k in keys if isinstance(k, dict)}


class PicksByKid(FakeAdapter):
    """Reads a general JSON JWE or JWS only when some recipient or signature names its key's
    kid: a consumer that finds its own recipient."""

    name = "picks-by-kid"

    def _members(self, token: str) -> list[Any]:
        members = json.loads(token)
        if "recipients" in members:
            return [r.get("header", {}).get("kid") for r in members["recipients"]]
        return [json.loads(_unb64(s["protected"])).get("kid") for s in members["signatures"]]

    def _verify(self, suite: Suite, token: str, key: KeyData, mode: Mode,
                serialization: Serialization) -> bytes:
        if serialization == "general" and not _kids(key) & set(self._chosen(token)):
            raise Rejected(f"{self.name}: no recipient or signature for kid {_kids(key)}")
        return self._read(token)

    _decrypt = _verify

    def _chosen(self, token: str) -> list[Any]:
        return self._members(token)


class FirstRecipientOnly(PicksByKid):
    """Wrong: reads only the first recipient (or signature) of a general JSON token."""

    name = "first-recipient-only"

    def _chosen(self, token: str) -> list[Any]:
        return self._members(token)[:1]


class NonIanaNames(FakeAdapter):
    """Wrong: registers a name IANA lacks and a registered one spelled otherwise."""

    name = "non-iana-names"

    def registered_names(self) -> dict[str, list[str]]:
        return {"JWS alg": ["HS256", "ES256k", "XS999"], "JWE enc": ["A256GCM"]}


__all__ = [
    "AcceptAll",
    "ClaimsMadeUpSuite",
    "EncPerRecipient",
    "FailsOnMadeUpSuite",
    "FirstRecipientOnly",
    "IgnoresZip",
    "KillsProcess",
    "NonIanaNames",
    "PicksByKid",
    "RaisesUndocumented",
    "RejectAll",
    "SharedKid",
    "SupportsNothing",
    "Unsupported",
    "ZipFake",
    "ZipFakeThree",
    "ZipFakeToo",
    "ZlibDef",
]


def assert_policy_rows_judged_only_on_faults(frame) -> None:
    """A policy row is reported, not judged, unless the consumer crashed or hung on its token:
    the RFC leaves accepting or refusing to it, never an error or a hang."""
    policy = frame[frame.policy.astype(bool)]
    faults = policy.actual.isin(["error", "hang"])
    assert policy[~faults].passed.isna().all()
    assert (policy[faults].passed == False).all()  # noqa: E712
