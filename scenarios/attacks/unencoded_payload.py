"""`b64: false` (RFC 7797): the payload is signed as it is, not base64url-encoded.

RFC 7797 §6 requires `crit: ["b64"]` with it so that a recipient that does not implement the
extension refuses the token rather than reading the payload another way. Supporting the
extension at all is optional, so a correct RFC 7797 token is policy.
"""

from __future__ import annotations

from typing import Any

from harness.forge.encoding import b64url, segment
from harness.forge.jws import raw_signature
from harness.interop.scenario import Context
from scenarios.attacks.jws_common import DEFAULT_CONFIGS, HMAC_RSA_EC, Catalogue, Forged, signed

SUITES = HMAC_RSA_EC
# No "." and ASCII only, so the unencoded payload fits the compact serialization (§5.2).
PAYLOAD = b'{"sub":"alice","scope":"read write"}'
cases = Catalogue(globals(), requirement="RFC 7797 §6", suites=SUITES,
                  configs=DEFAULT_CONFIGS, attack_class="b64", severity="leniency",
                  why="The key holder signed the token; RFC 7797 format rules are broken, but "
                      "no one without the key can make it.")


def unencoded(header: dict[str, Any], signed_over: str) -> Any:
    """A compact token carrying the payload unencoded; the signature covers `signed_over`:
    `raw` (RFC 7797: header '.' payload) or `encoded` (RFC 7515: header '.' base64url)."""
    def forge(ctx: Context) -> Forged:
        head = segment({"alg": ctx.suite.alg, **header})
        body = PAYLOAD.decode() if signed_over == "raw" else segment(PAYLOAD)
        signature = raw_signature(ctx.suite.alg, ctx.keys.private(ctx.suite.key),
                                  f"{head}.{body}".encode())
        clean = signed({"alg": ctx.suite.alg}, PAYLOAD, ctx.keys.private(ctx.suite.key),
                       ctx.suite.alg)[1]
        return Forged(f"{head}.{PAYLOAD.decode()}.{b64url(signature)}", clean=clean,
                      payload=PAYLOAD)
    return forge


cases.add("b64_false_with_crit",
          "A correct RFC 7797 token (`b64: false`, `crit: [\"b64\"]`): accepted with the "
          "payload as sent by a library implementing RFC 7797, refused by one that does not.",
          unencoded({"b64": False, "crit": ["b64"]}, "raw"), policy=True, expected="accept")
cases.add("b64_false_without_crit",
          "`b64: false` without `crit` (RFC 7797 §6 requires it), signed over the unencoded "
          "payload, is refused.",
          unencoded({"b64": False}, "raw"), severity="malleability",
          why="Without `crit`, a consumer that does not know `b64` and one that does read "
              "different payloads from one signature (RFC 7797 §6).")
cases.add("b64_false_without_crit_standard_signature",
          "`b64: false` without `crit`, signed the RFC 7515 way with the payload segment as "
          "text: a recipient that ignores `b64` reads the segment as base64url; RFC 7797 §6 "
          "leaves this to recipients that do not implement the extension.",
          unencoded({"b64": False}, "encoded"), policy=True)
cases.add("b64_string_false_with_crit",
          "`b64: \"false\"` (a string, not a boolean) with `crit: [\"b64\"]` is refused.",
          unencoded({"b64": "false", "crit": ["b64"]}, "raw"))
cases.add("b64_false_unprotected_payload_with_dot",
          "`b64: false` with `crit` over a payload containing `.`, which the compact "
          "serialization cannot carry (RFC 7797 §5.2), is refused.",
          lambda ctx: _dotted(ctx), requirement="RFC 7797 §5.2")


def _dotted(ctx: Context) -> Forged:
    head = segment({"alg": ctx.suite.alg, "b64": False, "crit": ["b64"]})
    body = "a.b"
    signature = raw_signature(ctx.suite.alg, ctx.keys.private(ctx.suite.key),
                              f"{head}.{body}".encode())
    return Forged(f"{head}.{body}.{b64url(signature)}", payload=body.encode())
