"""Nested tokens: signed, then encrypted (RFC 7519 §5.2, RFC 9068)."""
