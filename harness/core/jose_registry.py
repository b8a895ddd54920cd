"""The IANA "JSON Web Signature and Encryption Algorithms" and "JSON Web Encryption Compression
Algorithms" registries, as data: every registered name, exact case, with its usage location and
implementation requirement.

Written from the RFCs that fill the registries, so nothing is fetched at run time:
RFC 7518 §7.1 (JWS and JWE algorithms) and §7.3 (`zip`), RFC 8037 §5 (`EdDSA`), RFC 8812 §5
(`ES256K`), RFC 9864 §4 (the fully-specified `Ed25519` and `Ed448`, which make `EdDSA`
Deprecated), and the registrations the registry lists for the W3C Web Cryptography API (SHA-1
and AES-CTR/CBC names, Prohibited; RSA-OAEP with SHA-384/512, Optional). A library's names are
held against it: a name the registry lacks, or a registered algorithm under another spelling, is
a departure of that library (`departures`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Location = Literal["JWS alg", "JWE alg", "JWE enc", "JWE zip"]
LOCATIONS: tuple[Location, ...] = ("JWS alg", "JWE alg", "JWE enc", "JWE zip")


@dataclass(frozen=True)
class Registered:
    name: str
    location: Location
    requirement: str  # Required, Recommended+, Recommended, Optional, Deprecated, Prohibited
    reference: str


def _rows(location: Location, reference: str, entries: str) -> list[Registered]:
    """`entries`: `name:requirement` separated by spaces."""
    return [Registered(name, location, requirement, reference)
            for name, requirement in (entry.split(":") for entry in entries.split())]


REGISTRY: tuple[Registered, ...] = tuple(
    _rows("JWS alg", "RFC 7518 §3.1",
          "HS256:Required HS384:Optional HS512:Optional RS256:Recommended RS384:Optional "
          "RS512:Optional ES256:Recommended+ ES384:Optional ES512:Optional PS256:Optional "
          "PS384:Optional PS512:Optional none:Optional")
    + _rows("JWS alg", "RFC 8037 §5.1; Deprecated by RFC 9864 §4.1", "EdDSA:Deprecated")
    + _rows("JWS alg", "RFC 8812 §5.1", "ES256K:Optional")
    + _rows("JWS alg", "RFC 9864 §2.2, §4.1", "Ed25519:Optional Ed448:Optional")
    + _rows("JWS alg", "W3C Web Cryptography API (IANA registration)", "RS1:Prohibited "
            "HS1:Prohibited")
    + _rows("JWE alg", "RFC 7518 §4.1",
            "RSA1_5:Recommended- RSA-OAEP:Recommended+ RSA-OAEP-256:Optional "
            "A128KW:Recommended A192KW:Optional A256KW:Recommended dir:Recommended "
            "ECDH-ES:Recommended+ ECDH-ES+A128KW:Recommended ECDH-ES+A192KW:Optional "
            "ECDH-ES+A256KW:Recommended A128GCMKW:Optional A192GCMKW:Optional "
            "A256GCMKW:Optional PBES2-HS256+A128KW:Optional PBES2-HS384+A192KW:Optional "
            "PBES2-HS512+A256KW:Optional")
    + _rows("JWE alg", "W3C Web Cryptography API (IANA registration)",
            "RSA-OAEP-384:Optional RSA-OAEP-512:Optional")
    + _rows("JWE enc", "RFC 7518 §5.1",
            "A128CBC-HS256:Required A192CBC-HS384:Optional A256CBC-HS512:Required "
            "A128GCM:Recommended A192GCM:Optional A256GCM:Recommended")
    + _rows("JWE enc", "W3C Web Cryptography API (IANA registration)",
            "A128CBC:Prohibited A192CBC:Prohibited A256CBC:Prohibited A128CTR:Prohibited "
            "A192CTR:Prohibited A256CTR:Prohibited")
    + _rows("JWE zip", "RFC 7518 §7.3", "DEF:Optional")
)

NAMES: dict[Location, frozenset[str]] = {
    location: frozenset(r.name for r in REGISTRY if r.location == location)
    for location in LOCATIONS}
JWS_ALG_NAMES = NAMES["JWS alg"]
JWE_ALG_NAMES = NAMES["JWE alg"]
JWE_ENC_NAMES = NAMES["JWE enc"]
ZIP_NAMES = NAMES["JWE zip"]
ALL_NAMES: frozenset[str] = frozenset(r.name for r in REGISTRY)

# Names some library registers for an algorithm the registry holds under another name (not a
# spelling of it): PyJWT's `ES521` is its alias of ES512 (ECDSA on P-521, RFC 7518 §3.4).
ALIASES: dict[str, str] = {"ES521": "ES512"}
# Names requested of IANA by an Internet-Draft, not by any RFC the harness cites: reported as
# such, not as departures, since the registry may hold them by the time the report is read.
DRAFT_NAMES: dict[str, str] = {
    "ML-DSA-44": "draft-ietf-cose-dilithium", "ML-DSA-65": "draft-ietf-cose-dilithium",
    "ML-DSA-87": "draft-ietf-cose-dilithium",
}
ALL_LOCATIONS = "any"


@dataclass(frozen=True)
class NameVerdict:
    """One name a library registers, held against the IANA registry."""

    name: str
    location: str  # a `Location`, or "any" when the library's registry does not say
    verdict: Literal["registered", "other spelling", "alias", "draft", "not registered"]
    registered_as: str  # the IANA name it stands for, when there is one
    reference: str

    @property
    def departs(self) -> bool:
        return self.verdict in {"other spelling", "alias", "not registered"}

    @property
    def explanation(self) -> str:
        if self.verdict == "registered":
            return f"registered ({self.reference})"
        if self.verdict == "other spelling":
            return (f"{self.name!r} is {self.registered_as!r} spelled otherwise: names are "
                    f"case-sensitive ({self.reference}; RFC 7515 §4.1.1, RFC 7516 §4.1.1)")
        if self.verdict == "alias":
            return (f"{self.name!r} is the library's own name for {self.registered_as!r} "
                    f"({self.reference}); no registered name")
        if self.verdict == "draft":
            return f"{self.name!r} is requested by {self.reference}, not by an RFC"
        return (f"{self.name!r} is not in the IANA JSON Web Signature and Encryption "
                f"Algorithms registry (RFC 7518 §7.1)")


def _registered(name: str, location: str) -> Registered | None:
    for row in REGISTRY:
        if row.name == name and location in (ALL_LOCATIONS, row.location):
            return row
    return None


def judge_name(name: str, location: str = ALL_LOCATIONS) -> NameVerdict:
    """What the registry says of one name a library registers at `location`."""
    exact = _registered(name, location)
    if exact is not None:
        return NameVerdict(name, location, "registered", name, exact.reference)
    for row in REGISTRY:
        if row.name.lower() == name.lower() and location in (ALL_LOCATIONS, row.location):
            return NameVerdict(name, location, "other spelling", row.name, row.reference)
    if name in ALIASES:
        target = _registered(ALIASES[name], location)
        if target is not None:
            return NameVerdict(name, location, "alias", target.name, target.reference)
    if name in DRAFT_NAMES:
        return NameVerdict(name, location, "draft", "", DRAFT_NAMES[name])
    # A registered name used at another location (an `enc` listed as an `alg`, say) is not a
    # departure of the name itself.
    anywhere = _registered(name, ALL_LOCATIONS)
    if anywhere is not None:
        return NameVerdict(name, location, "registered", name,
                           f"{anywhere.reference}, as {anywhere.location}")
    return NameVerdict(name, location, "not registered", "", "")


def departures(names: dict[str, list[str]]) -> list[NameVerdict]:
    """The verdicts on `names` (location -> names) that depart from the registry."""
    return [v for location, listed in names.items() for v in map(
        lambda n, loc=location: judge_name(n, loc), sorted(set(listed))) if v.departs]


def library_name(registered: str, offered: frozenset[str] | set[str]) -> str | None:
    """The name under which a library implements the registered algorithm `registered`: the
    name itself, or its spelling in another case, or an alias (None when it has none)."""
    if registered in offered:
        return registered
    for name in offered:
        if name.lower() == registered.lower() or ALIASES.get(name) == registered:
            return name
    return None
