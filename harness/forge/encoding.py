"""base64url and JSON pieces of a token, exactly as given: nothing is normalised."""

from __future__ import annotations

import json
from typing import Any

from harness.core.keyforms import unb64
from harness.core.keys import b64url

__all__ = ["b64url", "compact", "encode_json", "segment", "unb64"]


def encode_json(value: Any) -> bytes:
    """Compact JSON, the way most libraries write headers."""
    return json.dumps(value, separators=(",", ":")).encode()


def segment(value: Any) -> str:
    """One base64url segment from bytes, text, or a JSON value (a header dict)."""
    if isinstance(value, bytes):
        return b64url(value)
    if isinstance(value, str):
        return b64url(value.encode())
    return b64url(encode_json(value))


def compact(*segments: str) -> str:
    return ".".join(segments)
