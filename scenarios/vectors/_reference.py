"""The strict reference consumer's word on a library-made known-answer token."""

from __future__ import annotations

from typing import Any

from harness.forge.reference import ReferenceRefused, verify_jws


def reference_verifies(token: str, key: dict[str, Any], payload: bytes) -> tuple[bool, str]:
    """(verdict, what the reference said)."""
    try:
        returned = verify_jws(token, key, payload)
    except ReferenceRefused as refusal:
        return False, f"the reference refuses it: {refusal.rule}"
    if returned != payload:
        return False, "the reference returns another payload"
    return True, "the reference accepts it"
