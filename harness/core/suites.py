"""The registry of suites: every JWS and JWE algorithm choice of RFC 7518, RFC 8037, RFC 8812 and
RFC 9864 (the fully-specified `Ed25519` and `Ed448`).

A suite knows the key it needs (its `KeySpec`), so the key set can hold exactly one key pair per
spec and every library is tested on the same key material.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Literal

Family = Literal["JWS", "JWE"]


@dataclass(frozen=True, order=True)
class KeySpec:
    """The key a suite needs: a JWK type and its size in bits or its curve."""

    kty: str
    param: str

    @property
    def id(self) -> str:
        return f"{self.kty}-{self.param}"

    @property
    def is_symmetric(self) -> bool:
        return self.kty == "oct"


@dataclass(frozen=True, order=True)
class Suite:
    """One JOSE algorithm choice: a JWS `alg`, or a JWE `alg` + `enc` pair."""

    family: Family
    alg: str
    enc: str | None
    key: KeySpec
    rfc: str

    @property
    def curve(self) -> str | None:
        """The curve, named in the suite only where the `alg` alone does not fix it."""
        if self.family == "JWS" and self.alg == "EdDSA":
            return self.key.param
        if self.family == "JWE" and self.alg.startswith("ECDH-ES"):
            return self.key.param
        return None

    @property
    def tag(self) -> str:
        """A short name without spaces, for Locust tags and file names: `RSA-OAEP-256+A256GCM`."""
        parts = [self.alg + (f"({self.curve})" if self.curve else "")]
        if self.enc:
            parts.append(self.enc)
        return "+".join(parts)

    @property
    def name(self) -> str:
        text = f"{self.family} {self.alg}"
        if self.curve:
            text += f" ({self.curve})"
        if self.enc:
            text += f" + {self.enc}"
        return text

    def __str__(self) -> str:
        return self.name


HMAC_BITS = {"HS256": 256, "HS384": 384, "HS512": 512}
EC_CURVE_OF = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521", "ES256K": "secp256k1"}
EDDSA_CURVES = ("Ed25519", "Ed448")
RSA_BITS = "2048"

# RFC 7518 §5.1: the content encryption algorithms and the key size each needs.
CONTENT_KEY_BITS = {
    "A128CBC-HS256": 256,
    "A192CBC-HS384": 384,
    "A256CBC-HS512": 512,
    "A128GCM": 128,
    "A192GCM": 192,
    "A256GCM": 256,
}
KEY_WRAP_BITS = {
    "A128KW": 128,
    "A192KW": 192,
    "A256KW": 256,
    "A128GCMKW": 128,
    "A192GCMKW": 192,
    "A256GCMKW": 256,
}
RSA_KEY_MANAGEMENT = ("RSA1_5", "RSA-OAEP", "RSA-OAEP-256")
ECDH_ALGS = ("ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A192KW", "ECDH-ES+A256KW")
ECDH_CURVES = ("P-256", "P-384", "P-521", "X25519", "X448")
PBES2_ALGS = ("PBES2-HS256+A128KW", "PBES2-HS384+A192KW", "PBES2-HS512+A256KW")


def _jws_suites() -> list[Suite]:
    suites = [Suite("JWS", alg, None, KeySpec("oct", str(bits)), "RFC 7518 §3.2")
              for alg, bits in HMAC_BITS.items()]
    for prefix, section in (("RS", "§3.3"), ("PS", "§3.5")):
        suites += [Suite("JWS", f"{prefix}{n}", None, KeySpec("RSA", RSA_BITS),
                         f"RFC 7518 {section}") for n in (256, 384, 512)]
    for alg, crv in EC_CURVE_OF.items():
        rfc = "RFC 8812 §3.2" if alg == "ES256K" else "RFC 7518 §3.4"
        suites.append(Suite("JWS", alg, None, KeySpec("EC", crv), rfc))
    suites += [Suite("JWS", "EdDSA", None, KeySpec("OKP", crv), "RFC 8037 §3.1")
               for crv in EDDSA_CURVES]
    # RFC 9864 §2.2: the fully-specified names, whose `alg` alone fixes the curve.
    suites += [Suite("JWS", crv, None, KeySpec("OKP", crv), "RFC 9864 §2.2")
               for crv in EDDSA_CURVES]
    return suites


def _key_management() -> list[tuple[str, KeySpec | None, str]]:
    """(alg, key spec, requirement); key spec None means "sized by the enc" (`dir`)."""
    choices: list[tuple[str, KeySpec | None, str]] = [("dir", None, "RFC 7518 §4.5")]
    choices += [(alg, KeySpec("oct", str(bits)), "RFC 7518 §4.4" if "GCM" not in alg
                 else "RFC 7518 §4.7") for alg, bits in KEY_WRAP_BITS.items()]
    choices += [(alg, KeySpec("RSA", RSA_BITS), "RFC 7518 §4.2" if alg == "RSA1_5"
                 else "RFC 7518 §4.3") for alg in RSA_KEY_MANAGEMENT]
    for crv in ECDH_CURVES:
        kty = "OKP" if crv.startswith("X") else "EC"
        rfc = "RFC 8037 §3.2" if kty == "OKP" else "RFC 7518 §4.6"
        choices += [(alg, KeySpec(kty, crv), rfc) for alg in ECDH_ALGS]
    choices += [(alg, KeySpec("oct", "password"), "RFC 7518 §4.8") for alg in PBES2_ALGS]
    return choices


def _jwe_suites() -> list[Suite]:
    suites = []
    for alg, key, rfc in _key_management():
        for enc, bits in CONTENT_KEY_BITS.items():
            suites.append(Suite("JWE", alg, enc, key or KeySpec("oct", str(bits)), rfc))
    return suites


ALL_SUITES: tuple[Suite, ...] = tuple(_jws_suites() + _jwe_suites())
SUITES_BY_NAME: dict[str, Suite] = {s.name: s for s in ALL_SUITES}

# A suite no library implements: the runner offers it to every adapter to check that the
# adapter declares `Unsupported` instead of failing some other way.
MADE_UP_SUITE = Suite("JWS", "XX999", None, KeySpec("oct", "256"), "none (probe)")


def key_specs() -> list[KeySpec]:
    return sorted({s.key for s in ALL_SUITES})


def select_suites(patterns: list[str] | None) -> list[Suite]:
    """Suites whose name or tag matches any glob (case-insensitive); all when no pattern.

    Raises `KeyError` naming the patterns that matched nothing, so a typo never silently
    selects an empty run.
    """
    if not patterns:
        return list(ALL_SUITES)
    chosen: list[Suite] = []
    unmatched = []
    for pattern in patterns:
        lowered = pattern.lower()
        hits = [s for s in ALL_SUITES
                if fnmatch.fnmatchcase(s.name.lower(), lowered)
                or fnmatch.fnmatchcase(s.tag.lower(), lowered)]
        if not hits:
            unmatched.append(pattern)
        chosen += [s for s in hits if s not in chosen]
    if unmatched:
        raise KeyError(", ".join(unmatched))
    return [s for s in ALL_SUITES if s in chosen]
