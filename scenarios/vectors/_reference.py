"""The strict reference consumer (`harness.forge.reference`), imported only when a case asks for
it: where it is not installed the case says so instead of failing."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

REFERENCE_MODULE = "harness.forge.reference"


def reference() -> ModuleType | None:
    try:
        return importlib.import_module(REFERENCE_MODULE)
    except ImportError:
        return None


def reference_verifies(token: str, key: dict[str, Any], payload: bytes) -> tuple[bool | None, str]:
    """(verdict, what the reference said): None when there is no reference to ask."""
    module = reference()
    if module is None:
        return None, "reference not available"
    try:
        returned = module.verify_jws(token, key, payload)
    except module.ReferenceRefused as refusal:
        return False, f"the reference refuses it: {refusal.rule}"
    if returned != payload:
        return False, "the reference returns another payload"
    return True, "the reference accepts it"
