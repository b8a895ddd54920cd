"""The strict reference (`harness.forge.reference`) as one more consumer of the published
vectors, so the Known answers table shows where the reference and the libraries part.

The reference module is imported when a vector is first handed to it; where it is not
installed (an older tree), every vector row of the reference is `unsupported` with "reference
not available", so the table says so instead of silently lacking the line.
"""

from __future__ import annotations

import base64
import importlib
import json
from types import ModuleType
from typing import Any, ClassVar

from harness.adapters.base import (
    SERIALIZATIONS,
    Adapter,
    Allowed,
    KeyData,
    Serialization,
    is_jwks,
    pick_by_kid,
)
from harness.core.errors import Rejected, Unsupported
from harness.core.suites import Suite

REFERENCE = "reference"
REFERENCE_MODULE = "harness.forge.reference"
NOT_AVAILABLE = "reference not available"


def load_reference() -> ModuleType:
    try:
        return importlib.import_module(REFERENCE_MODULE)
    except ImportError as error:
        raise Unsupported(f"{NOT_AVAILABLE} ({REFERENCE_MODULE}: {error})") from None


def _kid(token: str) -> Any:
    """The kid the token's protected header names (compact or JSON), to pick from a JWKS."""
    try:
        value = json.loads(token) if token.lstrip().startswith("{") else None
        head = (value.get("protected") or (value.get("signatures") or value.get("recipients")
                                          or [{}])[0].get("protected", "")
                if value else token.split(".")[0])
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
        return header.get("kid") if isinstance(header, dict) else None
    except (ValueError, TypeError, AttributeError, IndexError):
        return None


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
        if isinstance(key, dict) and is_jwks(key):
            return pick_by_kid(key, _kid(token))
        if not isinstance(key, dict):
            raise Unsupported("the reference takes keys as JWK only")
        return key

    @staticmethod
    def _token(token: str, serialization: Serialization) -> str | dict[str, Any]:
        return token if serialization == "compact" else json.loads(token)

    def _sign(self, suite: Suite, payload: bytes, key: KeyData, header: dict[str, Any],
              allowed: Allowed, serialization: Serialization) -> str:
        raise Unsupported("the reference only consumes")

    def _verify(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                serialization: Serialization) -> bytes:
        module = load_reference()
        try:
            return bytes(module.verify_jws(self._token(token, serialization),
                                           self._key(key, token)))
        except module.ReferenceRefused as refusal:
            raise Rejected(f"ReferenceRefused: {refusal.rule}") from refusal
        except ValueError as error:  # JSON text the reference was never handed
            raise Rejected(f"not JSON: {error}") from error

    def _decrypt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                 serialization: Serialization) -> bytes:
        module = load_reference()
        try:
            return bytes(module.decrypt_jwe(self._token(token, serialization),
                                            self._key(key, token)))
        except module.ReferenceRefused as refusal:
            raise Rejected(f"ReferenceRefused: {refusal.rule}") from refusal
        except ValueError as error:
            raise Rejected(f"not JSON: {error}") from error
