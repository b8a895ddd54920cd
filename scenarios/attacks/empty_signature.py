"""Empty signatures, and an HMAC made with an empty key (RFC 7515 §5.2, RFC 7518 §3.2)."""

from __future__ import annotations

from typing import Any

from harness.interop.scenario import ConsumerConfig, Context
from scenarios.attacks.jws_common import (
    DEFAULT_CONFIGS,
    REPRESENTATIVE,
    Catalogue,
    Forged,
    signed,
    valid,
    with_signature,
)
from scenarios.payloads import PAYLOAD

cases = Catalogue(globals(), requirement="RFC 7515 §5.2", suites=REPRESENTATIVE,
                  configs=DEFAULT_CONFIGS, attack_class="empty-signature",
                  severity="forgery",
                  why=("No signature, or one by an empty key: anyone can make the token (RFC 7515"
                       " §5.2 step 8)."))


def _without_signature(signature: str) -> Any:
    return with_signature(lambda text, alg: signature)


cases.add("empty_signature",
          "A correct header and payload with an empty signature segment is refused.",
          _without_signature(""))
cases.add("zero_byte_signature",
          "A signature of one zero byte (`AA`) is refused.", _without_signature("AA"))
cases.add("no_signature_segment",
          "A token with only two segments (the signature segment and its dot missing) is refused.",
          lambda ctx: Forged(".".join(valid(ctx).split(".")[:2]), clean=valid(ctx)))


def _empty_key(ctx: Context) -> Forged:
    """The consumer is configured with an empty secret (a missing setting read as ""), and
    the token is an HMAC under that same empty key."""
    form = ctx.config.key_form
    key = b"" if form == "raw" else {"kty": "oct", "k": ""}
    token = signed({"alg": ctx.suite.alg, "typ": "JWT"}, PAYLOAD, {"kty": "oct", "k": ""},
                   ctx.suite.alg)[1]
    return Forged(token, key=key)


cases.add("hmac_with_empty_key",
          "An HMAC token verified with an empty secret (and made with it) is refused: an empty "
          "key authenticates nothing, and RFC 7518 §3.2 requires a key at least as long as "
          "the hash output.",
          _empty_key, requirement="RFC 7518 §3.2; RFC 8725 §3.5",
          suites=("JWS HS256", "JWS HS512"),
          configs=(ConsumerConfig("raw", key_form="raw"), ConsumerConfig("jwk")))


cases.add("hmac_by_empty_key_to_real_key",
          "An HMAC token made with an empty key, offered to a consumer holding its real "
          "secret, is refused.",
          lambda ctx: Forged(signed({"alg": ctx.suite.alg, "typ": "JWT"}, PAYLOAD,
                                    {"kty": "oct", "k": ""}, ctx.suite.alg)[1],
                             clean=valid(ctx, {"typ": "JWT"})),
          requirement="RFC 7518 §3.2", suites=("JWS HS256", "JWS HS512"))
