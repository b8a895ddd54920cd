"""`kid` abuse (RFC 7515 §4.1.4, RFC 7517 §4.5, RFC 8725 §3.10).

Two kinds of case. Tokens the attacker signs with a key derived from the kid's text (an empty
key behind a `/dev/null` path, a secret chosen by an SQL-like kid) must be refused: a library
never reads files or databases for a kid. Tokens the real key signs but whose kid is odd (not
a string, matching no key, matching two keys of a JWKS) are policy: RFC 7515 makes the kid a
hint whose use the application decides, and RFC 7517 §4.5 only says kids SHOULD be distinct.
"""

from __future__ import annotations

from typing import Any

from harness.core.keys import public_jwk
from harness.forge.encoding import b64url
from harness.interop.scenario import RESOLVING_ENTRY_POINTS, ConsumerConfig, Context
from scenarios.attacks.jws_common import HMAC_RSA_EC, Catalogue, Forged, attacker_key, signed, valid
from scenarios.payloads import PAYLOAD

CONFIGS = (ConsumerConfig("jwk"), ConsumerConfig("jwks", key_form="jwks"))
cases = Catalogue(globals(), requirement="RFC 8725 §3.10",
                  entry_points=RESOLVING_ENTRY_POINTS, attack_class="kid",
                  suites=HMAC_RSA_EC, configs=CONFIGS, severity="forgery",
                  why="RFC 8725 §3.10: a kid is attacker input; a key it selects or a "
                      "signature by another key lets anyone sign.")


def _secret_from_kid(kid: str, secret: bytes) -> Any:
    def forge(ctx: Context) -> Forged:
        token = signed({"alg": "HS256", "typ": "JWT", "kid": kid}, PAYLOAD,
                       {"kty": "oct", "k": b64url(secret)}, "HS256")[1]
        return Forged(token, clean=valid(ctx))
    return forge


cases.add("path_kid_with_empty_key",
          "An HS256 token with kid `../../../../../../dev/null`, MACed with an empty key (what "
          "reading that file as the key would give), is refused.",
          _secret_from_kid("../../../../../../dev/null", b""), suites=("JWS HS256",))
cases.add("path_kid_with_known_file",
          "An HS256 token with kid `/proc/sys/kernel/randomize_va_space`, MACed with that "
          "file's usual content, is refused.",
          _secret_from_kid("/proc/sys/kernel/randomize_va_space", b"2\n"),
          suites=("JWS HS256",))
cases.add("sql_kid_with_chosen_secret",
          "An HS256 token with kid `x' UNION SELECT 'attacker' -- `, MACed with `attacker`, "
          "is refused.",
          _secret_from_kid("x' UNION SELECT 'attacker' -- ", b"attacker"),
          suites=("JWS HS256",))
cases.add("real_kid_attacker_signature",
          "A token naming the real key's kid but signed by the attacker's key is refused.",
          lambda ctx: Forged(signed({"alg": ctx.suite.alg, "kid": ctx.keys.private(
              ctx.suite.key)["kid"]}, PAYLOAD, attacker_key(ctx.suite.key), ctx.suite.alg)[1],
              clean=valid(ctx, {"kid": ctx.keys.private(ctx.suite.key)["kid"]})))


def _odd_kid(kid: Any) -> Any:
    def forge(ctx: Context) -> Forged:
        return Forged(valid(ctx, {"kid": kid}), clean=valid(ctx))
    return forge


ODD_KIDS: dict[str, tuple[Any, str]] = {
    "integer": (1, "an integer"), "object": ({"kid": "x"}, "an object"),
    "null": (None, "null"), "list": (["current"], "a list"),
    "path": ("../../../../etc/passwd", "a path"),
    "sql": ("' OR '1'='1", "an SQL-like string"),
}
for _name, (_kid, _what) in ODD_KIDS.items():
    cases.add(f"{_name}_kid_genuine_signature",
              f"A token the real key signed whose kid is {_what}: the kid MUST be a string "
              "(RFC 7515 §4.1.4) and names no key; refusing or ignoring it is the "
              "application's choice.", severity="leniency",
              why="The real key signed the token; only the kid's type is wrong.",
              forge=_odd_kid(_kid), policy=True, requirement="RFC 7515 §4.1.4")


def _duplicate_kids(attacker_first: bool, signer: str) -> Any:
    """A JWKS where the real key and an attacker key share a kid; `signer` signs."""
    def forge(ctx: Context) -> Forged:
        real = ctx.keys.private(ctx.suite.key)
        rogue = {**attacker_key(ctx.suite.key), "kid": real["kid"]}
        pair = [public_jwk(rogue), public_jwk(real)]
        jwks = {"keys": pair if attacker_first else pair[::-1]}
        key = rogue if signer == "attacker" else real
        token = signed({"alg": ctx.suite.alg, "kid": real["kid"]}, PAYLOAD, key,
                       ctx.suite.alg)[1]
        return Forged(token, clean=valid(ctx, {"kid": real["kid"]}), key=jwks)
    return forge


for _first in (True, False):
    for _signer in ("attacker", "real"):
        _order = "attacker key first" if _first else "real key first"
        cases.add(f"duplicate_kid_{'attacker' if _first else 'real'}_first_{_signer}_signs",
                  f"A JWKS holding two keys with one kid ({_order}); the {_signer} key signs. "
                  "RFC 7517 §4.5 says kids SHOULD differ: first match, try all, or refuse "
                  "the ambiguity are all choices an application may make.",
                  _duplicate_kids(_first, _signer), policy=True,
                  severity="forgery" if _signer == "attacker" else "leniency",
                  why="The attacker's key signed it." if _signer == "attacker"
                  else "The real key signed it.",
                  requirement="RFC 7517 §4.5", configs=(ConsumerConfig("jwks", "jwks"),))
