"""Payloads the cases send: byte-exact comparison needs them fixed, not generated per run."""

from __future__ import annotations

import json

# Non-ASCII text and JSON escapes, so a library that re-encodes the payload is caught.
CLAIMS = {"sub": "alice", "name": "Zoë Ωmega", "scope": "read write", "n": 42, "ok": True}
PAYLOAD = json.dumps(CLAIMS, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
