"""What forged JWE cases share: forge a token for the case's suite, hand it to the consumer."""

from __future__ import annotations

from typing import Any

from harness.adapters.base import Serialization
from harness.forge import jwe
from harness.interop.scenario import Context
from scenarios.payloads import PAYLOAD


def forge(ctx: Context, header: dict[str, Any] | None = None, plaintext: bytes = PAYLOAD,
          **overrides: Any) -> jwe.JWE:
    """A JWE for the case's suite to the consumer's current key; `header` adds to alg/enc."""
    suite = ctx.suite
    protected = {"alg": suite.alg, "enc": suite.enc, **(header or {})}
    return jwe.encrypt(protected, plaintext, ctx.keys.private(suite.key), **overrides)


def decrypt(ctx: Context, token: str, serialization: Serialization = "compact",
            sent: bytes = PAYLOAD) -> tuple[bytes, bytes]:
    """(sent, what the consumer returned) with the private key in the configuration's form."""
    return sent, ctx.consumer.decrypt(ctx.suite, token, ctx.decryption_key(ctx.suite.key),
                                      serialization=serialization)
