"""The strict reference (`harness.forge.reference`) as one more consumer of the published
vectors, so the Known answers table shows where the reference and the libraries part.

A key set goes to the reference whole: it picks the key itself, strictly (a repeated `kid`
or a set mixing secret and public keys is refused), which is what the JWK vectors test.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

from harness.adapters.base import SERIALIZATIONS, Adapter, Allowed, KeyData, Serialization
from harness.core.errors import Rejected, Unsupported
from harness.core.suites import Suite
from harness.forge import reference

REFERENCE = "reference"


class ReferenceConsumer(Adapter):
    """Consumes only; the reference has no allow-list of its own: it takes what the RFCs
    register and refuses the rest, whatever mode the row names."""

    name: ClassVar[str] = REFERENCE
    distribution: ClassVar[str] = "jose-harness"
    consumes: ClassVar[dict[str, frozenset[Serialization]]] = {
        "JWS": frozenset(SERIALIZATIONS), "JWE": frozenset(SERIALIZATIONS)}

    @property
    def version(self) -> str:
        return "harness"

    def supports(self, suite: Suite) -> bool:
        return True

    def allows_by_default(self, suite: Suite) -> bool:
        return True

    def _key(self, key: KeyData, token: str) -> dict[str, Any]:
        if not isinstance(key, dict):
            raise Unsupported("the reference takes keys as JWK only")
        return key

    @staticmethod
    def _token(token: str, serialization: Serialization) -> str | dict[str, Any]:
        return token if serialization == "compact" else json.loads(token)

    def _sign(self, suite: Suite, payload: bytes, key: KeyData, header: dict[str, Any],
              allowed: Allowed, serialization: Serialization) -> str:
        raise Unsupported("the reference only consumes")

    def _consume(self, read: Callable[..., bytes], token: str, key: KeyData,
                 serialization: Serialization) -> bytes:
        try:
            return bytes(read(self._token(token, serialization), self._key(key, token)))
        except reference.ReferenceRefused as refusal:
            raise Rejected(f"ReferenceRefused: {refusal.rule}") from refusal
        except ValueError as error:  # JSON text the reference was never handed
            raise Rejected(f"not JSON: {error}") from error

    def _verify(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                serialization: Serialization) -> bytes:
        return self._consume(reference.verify_jws, token, key, serialization)

    def _decrypt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                 serialization: Serialization) -> bytes:
        return self._consume(reference.decrypt_jwe, token, key, serialization)
