"""JWS JSON serialization (RFC 7515 §7.2): empty signature lists, several signatures of which
some are bad, unprotected headers that repeat or override protected ones, and duplicate member
names in the JSON text."""

from __future__ import annotations

import json
from typing import Any

from harness.forge.encoding import b64url, segment
from harness.forge.jws import raw_signature
from harness.interop.scenario import Context
from scenarios.attacks.jws_common import (
    DEFAULT_CONFIGS,
    HMAC_RSA_EC,
    Catalogue,
    Forged,
    attacker_key,
    json_text,
    signed,
)
from scenarios.payloads import PAYLOAD

SUITES = HMAC_RSA_EC
cases = Catalogue(globals(), requirement="RFC 7515 §7.2", suites=SUITES,
                  configs=DEFAULT_CONFIGS, attack_class="jws-json", severity="malleability",
                  why="The genuine signature with a header or member the signature does not "
                      "cover: a second token for one signature (RFC 7515 §7.2.1, §10.12).")


def entry(ctx: Context, protected: Any, header: dict[str, Any] | None = None,
          by_attacker: bool = False, payload: bytes = PAYLOAD) -> dict[str, Any]:
    """One signature object: `protected` as given (a dict, or exact JSON text)."""
    head = segment(protected)
    jwk = attacker_key(ctx.suite.key) if by_attacker else ctx.keys.private(ctx.suite.key)
    signature = raw_signature(ctx.suite.alg, jwk, f"{head}.{segment(payload)}".encode())
    member: dict[str, Any] = {"protected": head, "signature": b64url(signature)}
    if header is not None:
        member["header"] = header
    return member


def general(signatures: list[dict[str, Any]], payload: bytes = PAYLOAD) -> str:
    return json_text({"payload": segment(payload), "signatures": signatures})


def flattened(member: dict[str, Any], payload: bytes = PAYLOAD) -> str:
    return json_text({"payload": segment(payload), **member})


def _good(ctx: Context) -> dict[str, Any]:
    return entry(ctx, {"alg": ctx.suite.alg})


cases.add("empty_signatures",
          "General JSON with `signatures: []` is refused: nothing is signed.",
          severity="forgery", why="No signature at all: anyone writes it.",
          forge=lambda ctx: Forged(general([]), clean=general([_good(ctx)]),
                             serialization="general"))
cases.add("only_bad_signatures",
          "General JSON whose two signatures are both by the attacker's key is refused.",
          severity="forgery", why="Only the attacker signed it.",
          forge=lambda ctx: Forged(general([entry(ctx, {"alg": ctx.suite.alg},
                                                  by_attacker=True)] * 2),
                                   clean=general([_good(ctx)]), serialization="general"))
for _order in ("good_first", "bad_first"):
    cases.add(f"good_and_bad_signature_{_order}",
              "General JSON with one valid signature and one by the attacker's key "
              f"({_order.replace('_', ' ')}): RFC 7515 §7.2 leaves to the application which "
              "signatures must be valid, so accepting one valid signature is allowed.",
              severity="leniency", why="One signature is genuine.",
              forge=lambda ctx, order=_order: Forged(general(
                  [_good(ctx), entry(ctx, {"alg": ctx.suite.alg}, by_attacker=True)][
                      ::1 if order == "good_first" else -1]),
                  clean=general([_good(ctx)]), serialization="general"), policy=True)


def _override(header: dict[str, Any], serialization: str) -> Any:
    def forge(ctx: Context) -> Forged:
        member = entry(ctx, {"alg": ctx.suite.alg}, header)
        clean = entry(ctx, {"alg": ctx.suite.alg})
        if serialization == "general":
            return Forged(general([member]), clean=general([clean]), serialization="general")
        return Forged(flattened(member), clean=flattened(clean), serialization="flattened")
    return forge


for _form in ("flattened", "general"):
    cases.add(f"unprotected_alg_none_{_form}",
              f"{_form.capitalize()} JSON whose unprotected header repeats `alg` as `none` is "
              "refused: protected and unprotected names MUST be disjoint (RFC 7515 §7.2.1).",
              _override({"alg": "none"}, _form), requirement="RFC 7515 §7.2.1; §5.2 step 4")
    cases.add(f"unprotected_alg_same_{_form}",
              f"{_form.capitalize()} JSON whose unprotected header repeats the protected "
              "`alg` with the same value is refused: the names MUST be disjoint.",
              severity="leniency", why="The repeated value agrees with the protected one.",
              forge=lambda ctx, form=_form: _override({"alg": ctx.suite.alg}, form)(ctx),
              requirement="RFC 7515 §7.2.1; §5.2 step 4")


def _alg_only_unprotected(ctx: Context) -> Forged:
    member = entry(ctx, {"typ": "JWT"}, {"alg": ctx.suite.alg})
    return Forged(flattened(member), clean=flattened(_good(ctx)), serialization="flattened")


cases.add("alg_only_in_unprotected_header",
          "Flattened JSON with `alg` only in the unprotected header, validly signed: legal "
          "(RFC 7515 §4.1.1 needs `alg` somewhere in the JOSE header), though RFC 8725 §3.1 "
          "advises binding it; a consumer may refuse.", _alg_only_unprotected, policy=True,
          severity="leniency",
          expected="accept")


def _duplicate_alg(ctx: Context, serialization: str) -> Forged:
    """A protected header with `alg` twice, the genuine algorithm first and `none` last,
    validly signed with the genuine algorithm: a parser that keeps the last member (as RFC
    7515 §5.2 requires, or refuses duplicates) sees `none`; one that keeps the first sees a
    valid signature."""
    text = f'{{"alg":"{ctx.suite.alg}","alg":"none"}}'
    jwk = ctx.keys.private(ctx.suite.key)
    head, token = signed(text, PAYLOAD, jwk, ctx.suite.alg)
    clean = signed({"alg": ctx.suite.alg}, PAYLOAD, jwk, ctx.suite.alg)[1]
    if serialization == "compact":
        return Forged(token, clean=clean)
    member = {"protected": head, "signature": token.rsplit(".", 1)[1]}
    clean_head, _, clean_sig = clean.split(".")
    return Forged(flattened(member), serialization="flattened",
                  clean=flattened({"protected": clean_head, "signature": clean_sig}))


cases.add("duplicate_alg_in_protected_compact",
          "A compact token whose protected header is `{\"alg\":\"<alg>\",\"alg\":\"none\"}`, "
          "signed with the genuine algorithm, is refused (duplicates refused or the last one, "
          "`none`, used).", lambda ctx: _duplicate_alg(ctx, "compact"),
          requirement="RFC 7515 §5.2 step 4; §10.12")
cases.add("duplicate_alg_in_protected_flattened",
          "The same duplicate `alg` in a flattened JSON protected header is refused.",
          lambda ctx: _duplicate_alg(ctx, "flattened"),
          requirement="RFC 7515 §5.2 step 4; §10.12")


def _duplicate_member(ctx: Context, member: str) -> Forged:
    """Flattened JSON text with `member` twice: the genuine value last, a bad one first."""
    good = flattened(_good(ctx))
    parsed = json.loads(good)
    bad = {"payload": segment(b'{"sub":"mallory"}'), "signature": segment(b"forged"),
           "protected": segment({"alg": "none"})}[member]
    text = good[:-1] + f',"{member}":"{parsed[member]}"}}'
    text = text.replace(f'"{member}":"{parsed[member]}"', f'"{member}":"{bad}"', 1)
    return Forged(text, clean=good, serialization="flattened")


for _member in ("payload", "signature", "protected"):
    cases.add(f"duplicate_{_member}_member",
              f"Flattened JSON text with `{_member}` twice, a bad value first and the genuine "
              "one last: I-JSON (RFC 7493) forbids duplicates, RFC 7515 §10.12 allows a "
              "parser that keeps the last; accepting the last value or refusing are both "
              "allowed.", lambda ctx, m=_member: _duplicate_member(ctx, m), policy=True,
              requirement="RFC 7515 §10.12")
