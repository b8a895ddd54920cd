"""ECDSA "psychic" signatures (CVE-2022-21449) and malformed ECDSA encodings (RFC 7518 §3.4):
r and s must lie in [1, n-1], and the JWS signature is exactly R || S in the curve's length."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.forge import ecdsa
from harness.forge.encoding import b64url, unb64
from harness.interop.scenario import ConsumerConfig
from scenarios.attacks.jws_common import BROAD, Catalogue, with_signature

SUITES = ("JWS ES256", "JWS ES384", "JWS ES512", "JWS ES256K")
CONFIGS = (ConsumerConfig("jwk"), ConsumerConfig("pem", key_form="pem"),
           ConsumerConfig("broad", algorithms=(*BROAD, "ES384", "ES512", "ES256K")))
cases = Catalogue(globals(), requirement="RFC 7518 §3.4", suites=SUITES, configs=CONFIGS,
                  attack_class="psychic-ecdsa", severity="malleability",
                  why="RFC 7518 §3.4: R || S, each exactly the curve's length; another "
                      "encoding of the genuine (r, s) is a second token for one signature.")


def _resigned(change: Callable[[str, bytes], bytes]) -> Any:
    """A genuine token whose signature bytes `change(alg, signature)` replaces."""
    return with_signature(lambda text, alg: b64url(change(alg, unb64(text))))


def _order(alg: str) -> int:
    return ecdsa.ORDERS[alg]


CHANGES: dict[str, tuple[str, Callable[[str, bytes], bytes]]] = {
    "r_s_zero": ("r = s = 0", lambda alg, sig: ecdsa.raw(alg, 0, 0)),
    "r_s_order": ("r = s = n, the curve order", lambda alg, sig: ecdsa.raw(
        alg, _order(alg), _order(alg))),
    "r_order": ("r = n with the genuine s", lambda alg, sig: ecdsa.raw(
        alg, _order(alg), ecdsa.split(alg, sig)[1])),
    "s_order": ("s = n with the genuine r", lambda alg, sig: ecdsa.raw(
        alg, ecdsa.split(alg, sig)[0], _order(alg))),
    "r_plus_order": ("r + n in place of the genuine r (equal modulo n)",
                     lambda alg, sig: _plus_order(alg, sig)),
    "s_negated": ("n - s in place of s (the other valid s, a malleated signature: a "
                  "strict low-s consumer may refuse it, ECDSA itself accepts it)",
                  lambda alg, sig: ecdsa.raw(alg, ecdsa.split(alg, sig)[0],
                                             _order(alg) - ecdsa.split(alg, sig)[1])),
    "der_encoded": ("the genuine (r, s) DER-encoded instead of raw R || S", ecdsa.der),
    "leading_zero": ("the genuine signature with a zero byte prepended",
                     lambda alg, sig: b"\0" + sig),
    "truncated": ("the genuine signature without its last byte", lambda alg, sig: sig[:-1]),
    "doubled_length": ("r and s each left-padded to twice the curve's length",
                       lambda alg, sig: _widened(alg, sig)),
}


def _plus_order(alg: str, sig: bytes) -> bytes:
    r, s = ecdsa.split(alg, sig)
    size = ecdsa.OCTETS[alg]
    big = r + _order(alg)
    if big.bit_length() > size * 8:
        return ecdsa.raw(alg, _order(alg), s)  # r + n does not fit: r = n is the same defect
    return ecdsa.raw(alg, big, s)


def _widened(alg: str, sig: bytes) -> bytes:
    r, s = ecdsa.split(alg, sig)
    size = 2 * ecdsa.OCTETS[alg]
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


# Values no key makes: accepting one verifies a signature nobody computed.
FORGED = ("r_order", "r_s_order", "r_s_zero", "s_order", "truncated")
for _name, (_what, _change) in CHANGES.items():
    cases.add(_name, f"An ECDSA signature with {_what} is refused.", _resigned(_change),
              **({"policy": True} if _name == "s_negated" else {}),
              **({"severity": "forgery", "why": "r or s outside [1, n-1] (FIPS 186 "
                  "verification step 1): a signature anyone writes without the key, the "
                  "psychic-signature bug (CVE-2022-21449)."} if _name in FORGED else {}))
