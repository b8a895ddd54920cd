"""`alg: none` (RFC 7518 §3.6): an unsecured JWS must never pass where a signature is expected,
in any spelling, with an empty, garbage or genuine signature, nor a header without `alg`."""

from __future__ import annotations

from typing import Any

from harness.forge.encoding import b64url, compact, segment
from harness.forge.jws import raw_signature
from harness.interop.scenario import Context
from scenarios.attacks.jws_common import DEFAULT_CONFIGS, REPRESENTATIVE, Catalogue, Forged, valid
from scenarios.payloads import PAYLOAD

cases = Catalogue(globals(), requirement="RFC 8725 §3.1", suites=REPRESENTATIVE,
                  configs=DEFAULT_CONFIGS, attack_class="alg-none", severity="forgery",
                  why=("An unsecured JWS carries no proof of origin (RFC 7518 §3.6): anyone can "
                       "write it."))

SPELLINGS = {"lowercase": "none", "capitalised": "None", "uppercase": "NONE", "mixedcase": "nOnE"}


def _genuine(ctx: Context, head: str) -> str:
    """The signature the consumer's real key makes over this very signing input."""
    jwk = ctx.keys.private(ctx.suite.key)
    return b64url(raw_signature(ctx.suite.alg, jwk, f"{head}.{segment(PAYLOAD)}".encode()))


def _unsecured(alg: str | None, signature: str) -> Any:
    def forge(ctx: Context) -> Forged:
        header = {"typ": "JWT"} if alg is None else {"alg": alg, "typ": "JWT"}
        head = segment(header)
        sig = _genuine(ctx, head) if signature == "genuine" else signature
        clean = None if alg is None else valid(ctx, {"typ": "JWT"})
        return Forged(compact(head, segment(PAYLOAD), sig), clean=clean)
    return forge


SIGNATURES = {"empty": "", "garbage": segment(b"garbage")}
for _slug, _alg in SPELLINGS.items():
    for _kind, _signature in SIGNATURES.items():
        cases.add(f"{_slug}_{_kind}_signature",
                  f"`alg: {_alg}` with {'an' if _kind == 'empty' else 'a'} {_kind} signature is "
                  "refused by a consumer that expects a signature.",
                  _unsecured(_alg, _signature))
    cases.add(f"{_slug}_genuine_signature",
              f"`alg: {_alg}` carrying a signature the real key made is still refused: "
              "the consumer must not guess the algorithm from its key.",
              _unsecured(_alg, "genuine"), severity="leniency",
              why="The signature is the key holder's own over this very header, so no one "
                  "without the key can make this token; accepting it breaks RFC 8725 §3.1 "
                  "(the algorithm is not checked) but forges nothing.")

cases.add("missing_alg_empty_signature",
          "A header without `alg` (REQUIRED, RFC 7515 §4.1.1) and an empty signature is refused.",
          _unsecured(None, ""), requirement="RFC 7515 §4.1.1")
cases.add("missing_alg_genuine_signature",
          "A header without `alg` is refused even with a signature the real key made: the "
          "consumer must not take the algorithm from its key.",
          _unsecured(None, "genuine"), requirement="RFC 7515 §4.1.1", severity="leniency",
          why="The key holder signed this header: a missing `alg` is a format error, not a "
              "token someone else could make.")
