"""The forging toolkit: tokens built with `cryptography` primitives and plain base64url/JSON.

No library under test takes part, so a library is never the one forging the attacks it is
judged on. Everything here returns plain `str` tokens (or JSON text for JSON serialization).
`reference` is the strict consumer on the same footing: it judges the tokens libraries make.
"""
