"""Base64url oddities and broken structure (RFC 7515 §2, §5.2, §7.1).

RFC 7515 §5.2 decodes each part "following the restriction that no line breaks, whitespace,
or other additional characters have been used", and base64url has no `=` padding (§2) and no
`+` or `/`: a consumer that tolerates them accepts tokens that were never signed as written
(malleability). Each defect is put where the signature still matches (the signature segment) and
where it changes the signed text (the header, re-signed over the text as written).
"""

from __future__ import annotations

import json
from typing import Any

from harness.forge.encoding import b64url, compact, segment
from harness.interop.scenario import Context
from scenarios.attacks.jws_common import (
    DEFAULT_CONFIGS,
    HMAC_RSA_EC,
    Catalogue,
    Forged,
    sign_text,
    valid,
    with_signature,
)
from scenarios.payloads import PAYLOAD

SUITES = HMAC_RSA_EC
cases = Catalogue(globals(), requirement="RFC 7515 §5.2 step 1-2; §2", suites=SUITES,
                  configs=DEFAULT_CONFIGS, attack_class="base64url", severity="malleability",
                  why="RFC 7515 §2: base64url without padding, line breaks or other "
                      "characters; another spelling of the genuine signature is a second "
                      "token for one signature.")


def _in_signature(change: Any) -> Any:
    """The genuine token with its signature segment's text changed."""
    return with_signature(lambda text, alg: change(text))


def _in_header(change: Any) -> Any:
    """A token whose header segment's text is changed and then signed exactly as written."""
    def forge(ctx: Context) -> Forged:
        jwk = ctx.keys.private(ctx.suite.key)
        header = {"alg": ctx.suite.alg, "typ": "JWT", "x": ""}
        while len(segment(header)) % 4 not in (2, 3):  # unused bits in the last character
            header["x"] += "a"
        head, body = segment(header), segment(PAYLOAD)
        return Forged(sign_text(change(head), body, jwk, ctx.suite.alg),
                      clean=sign_text(head, body, jwk, ctx.suite.alg))
    return forge


def _pad(text: str) -> str:
    return text + "=" * (-len(text) % 4 or 4)


def _to_standard(text: str) -> str:
    return text.replace("-", "+").replace("_", "/")


def _header_with_alphabet_chars(ctx: Context) -> Forged:
    """A header whose encoding needs `-` or `_` (chosen `typ` text), then written with `+`/`/`."""
    jwk = ctx.keys.private(ctx.suite.key)
    for n in range(64):
        head = segment({"alg": ctx.suite.alg, "typ": "JWT", "x": "?>" * n})
        if "-" in head or "_" in head:
            break
    body = segment(PAYLOAD)
    return Forged(sign_text(_to_standard(head), body, jwk, ctx.suite.alg),
                  clean=sign_text(head, body, jwk, ctx.suite.alg))


DEFECTS: dict[str, tuple[str, Any]] = {
    "padding": ("`=` padding", _pad),
    "whitespace": ("a space in the middle", lambda text: text[:4] + " " + text[4:]),
    "line_break": ("a line break in the middle", lambda text: text[:4] + "\n" + text[4:]),
    "invalid_character": ("a `!` in the middle", lambda text: text[:4] + "!" + text[4:]),
    "trailing_bits": ("its last character's unused low bits set",
                      lambda text: _set_trailing_bits(text)),
}


def _set_trailing_bits(text: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    spare = {2: 4, 3: 2}.get(len(text) % 4, 0)  # unused bits in the last character
    if not spare:
        raise ValueError(f"{len(text)} characters leave no unused bits to set")
    value = alphabet.index(text[-1]) | ((1 << spare) - 1)
    return text[:-1] + alphabet[value]


# RFC 4648 §3.5: decoders MAY reject non-zero pad bits; RFC 7515 does not require it.
LENIENT = {"trailing_bits": {"policy": True, "requirement": "RFC 4648 §3.5"}}
# A header written oddly and signed as written: only the key holder makes such a token, and it
# is not a re-encoding of another token, so accepting it is a departure with no consequence.
SIGNED_AS_WRITTEN = {"severity": "leniency",
                     "why": "Signed over the text as written by the key holder: no second "
                            "token for an existing signature."}
for _name, (_what, _change) in DEFECTS.items():
    cases.add(f"signature_{_name}", f"The genuine token with {_what} in its signature segment "
              "is refused.", _in_signature(_change), **LENIENT.get(_name, {}))
    cases.add(f"header_{_name}", f"A token whose header segment has {_what}, signed over the "
              "text as written, is refused.", _in_header(_change),
              **{**SIGNED_AS_WRITTEN, **LENIENT.get(_name, {})})


def _signature_with_alphabet_chars(ctx: Context) -> Forged:
    """A genuine token whose signature needs `-` or `_`, then written with `+`/`/`.

    ECDSA signatures are random and HMAC/RSA ones follow the header, so a header field is
    varied until the signature holds such a character: the forged token always differs from the
    genuine one in the same way, run after run."""
    for n in range(256):
        clean = valid(ctx, header={"x": "a" * n} if n else None)
        head, body, signature = clean.split(".")
        if "-" in signature or "_" in signature:
            return Forged(compact(head, body, _to_standard(signature)), clean=clean)
    raise ValueError(f"no {ctx.suite.alg} signature with `-` or `_` in 256 headers")


cases.add("signature_standard_alphabet",
          "The genuine token with its signature written in the standard base64 alphabet "
          "(`+`, `/`) is refused.", _signature_with_alphabet_chars)
cases.add("header_standard_alphabet",
          "A token whose header is written with `+`/`/` instead of `-`/`_`, signed over the "
          "text as written, is refused.", _header_with_alphabet_chars, **SIGNED_AS_WRITTEN)

shape = Catalogue(globals(), requirement="RFC 7515 §7.1; §5.2", suites=SUITES,
                  configs=DEFAULT_CONFIGS, attack_class="structure")
# What accepting each shape costs: no signature at all is a forgery; the genuine parts in
# another shape are a second token for one signature; a header the key holder signed as
# written is only a departure from RFC 7515 §5.2 (it is valid JSON, UTF-8, an object).
SHAPE_SEVERITY = {
    "empty_token": "forgery", "only_dots": "forgery", "one_segment": "forgery",
    "extra_segment": "malleability", "five_segments": "malleability",
    "trailing_dot": "malleability", "leading_whitespace": "malleability"}
SHAPE_WHY = {"forgery": "No signature segment, or an empty one: nothing proves the origin.",
             "malleability": "The genuine parts in another shape: a second token for one "
                             "signature (RFC 7515 §7.1).",
             "leniency": "The key holder signed this header as written; RFC 7515 §5.2 steps "
                         "2-3 refuse it, no one else could make it."}


def _segments(build: Any) -> Any:
    def forge(ctx: Context) -> Forged:
        clean = valid(ctx)
        return Forged(build(clean.split(".")), clean=clean)
    return forge


def _signed_header(text: bytes | str) -> Any:
    """A token whose header is exactly `text` (not a JSON object), genuinely signed."""
    def forge(ctx: Context) -> Forged:
        head = b64url(text.encode() if isinstance(text, str) else text)
        return Forged(sign_text(head, segment(PAYLOAD), ctx.keys.private(ctx.suite.key),
                                ctx.suite.alg), clean=valid(ctx))
    return forge


SHAPES: dict[str, tuple[str, Any]] = {
    "empty_token": ("An empty string", lambda ctx: Forged("", clean=valid(ctx))),
    "only_dots": ("`..` (three empty segments)", lambda ctx: Forged("..", clean=valid(ctx))),
    "one_segment": ("The header segment alone", _segments(lambda p: p[0])),
    "extra_segment": ("The genuine token with a fourth segment", _segments(
        lambda p: ".".join([*p, p[2]]))),
    "five_segments": ("Five segments (a JWE's shape) made of the genuine parts", _segments(
        lambda p: ".".join([p[0], "", p[1], "", p[2]]))),
    "trailing_dot": ("The genuine token with a trailing `.`", _segments(
        lambda p: ".".join(p) + ".")),
    "leading_whitespace": ("The genuine token with a leading space and trailing newline",
                           _segments(lambda p: " " + ".".join(p) + "\n")),
    "header_not_json": ("A genuinely signed token whose header is not JSON",
                        _signed_header("alg=HS256")),
    "header_json_array": ("A genuinely signed token whose header is a JSON array",
                          lambda ctx: _signed_header(json.dumps([{"alg": ctx.suite.alg}]))(ctx)),
    "header_json_string": ("A genuinely signed token whose header is a JSON string",
                           lambda ctx: _signed_header(json.dumps(ctx.suite.alg))(ctx)),
    "header_trailing_garbage": ("A genuinely signed token whose header is a JSON object "
                                "followed by garbage", lambda ctx: _signed_header(
                                    json.dumps({"alg": ctx.suite.alg}) + "x")(ctx)),
    "header_not_utf8": ("A genuinely signed token whose header bytes are not UTF-8",
                        lambda ctx: _signed_header(
                            b'{"alg":"' + ctx.suite.alg.encode() + b'","x":"\xff"}')(ctx)),
}
for _name, (_what, _forge) in SHAPES.items():
    _severity = SHAPE_SEVERITY.get(_name, "leniency")
    shape.add(_name, f"{_what} is refused.", _forge, severity=_severity,
              why=SHAPE_WHY[_severity])

huge = Catalogue(globals(), requirement="RFC 8725 §3.12; RFC 7515 §5.2",
                 suites=("JWS HS256",), configs=DEFAULT_CONFIGS[:1], attack_class="huge",
                 isolated=True, timeout_s=5.0, memory_mb=1024, severity="dos", one_mode=True,
                 why="RFC 8725 §3.12: input sizes an application never issues must be "
                     "refused before they cost time or memory.")
HUGE_BYTES = 16 * 1024 * 1024


def _huge_header(ctx: Context) -> Forged:
    """A 16 MiB header member, genuinely signed with garbage elsewhere: a consumer must refuse
    (or at least finish) within the limits."""
    # Written as text, not through json.dumps, to keep the forge's own copies few.
    head = b64url(b'{"alg":"' + ctx.suite.alg.encode() + b'","x":"' + b"A" * HUGE_BYTES + b'"}')
    return Forged(compact(head, segment(PAYLOAD), segment(b"garbage")), clean=valid(ctx))


def _huge_signature(ctx: Context) -> Forged:
    head, body, _ = valid(ctx).split(".")
    return Forged(compact(head, body, "A" * HUGE_BYTES), clean=valid(ctx))


def _deep_header(ctx: Context) -> Forged:
    """A header nested 100 000 arrays deep: a recursive JSON parser overflows its stack."""
    depth = 100_000
    text = '{"alg":"' + ctx.suite.alg + '","x":' + "[" * depth + "]" * depth + "}"
    return Forged(compact(b64url(text.encode()), segment(PAYLOAD), segment(b"garbage")),
                  clean=valid(ctx))


huge.add("huge_header", "A token with a 16 MiB header is refused within 5 s and 1 GiB of "
         "address space.",
         _huge_header)
huge.add("huge_signature", "A genuine token whose signature segment is 16 MiB of `A` is "
         "refused within 5 s and 1 GiB of address space.", _huge_signature)
huge.add("deeply_nested_header", "A header nested 100 000 arrays deep is refused within the "
         "limits (a RecursionError is an undocumented error, not a refusal).", _deep_header)
