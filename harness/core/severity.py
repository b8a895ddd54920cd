"""How bad a finding is: one scale, most severe first, declared per case (`@case(severity=...)`).

A case that expects `reject` says what accepting its token would cost the application, with the
RFC reasoning in the case itself, so the scale is reviewed like code. Published vectors
(Wycheproof) carry their own flags; `severity_of_flags` maps them onto the same scale.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

Severity = Literal["forgery", "bypass", "dos", "malleability", "leniency"]
SEVERITIES: tuple[Severity, ...] = ("forgery", "bypass", "dos", "malleability", "leniency")

SEVERITY_LEGEND: dict[Severity, tuple[str, str]] = {
    "forgery": ("a token that no holder of the key made is accepted",
                "`alg: none` with no signature, an HS256 token signed with the RSA public key, "
                "a key embedded in the header"),
    "bypass": ("a check the application relies on is skipped",
               "an expired token accepted, a wrong audience or issuer, an unknown `crit`"),
    "dos": ("the consumer hangs or exhausts memory on a hostile token",
            "a decompression bomb, a PBES2 count of millions"),
    "malleability": ("a second encoding of a genuine token is accepted",
                     "base64url with padding, a doubled header name where the protected "
                     "value wins"),
    "leniency": ("a departure from the RFC with no security consequence",
                 "`alg: none` carrying a signature the real key made"),
}


def rank(severity: str | None) -> int:
    """Sort key: most severe first; an unknown or missing severity last."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)  # type: ignore[arg-type]


def most_severe(severities: Iterable[str | None]) -> str | None:
    known = [s for s in severities if s in SEVERITIES]
    return min(known, key=rank) if known else None


def count_text(counts: dict[str, int]) -> str:
    """`1 forgery, 2 bypass, 3 leniency`, most severe first; `none` when empty."""
    parts = [f"{counts[s]} {s}" for s in SEVERITIES if counts.get(s)]
    unrated = sum(n for s, n in counts.items() if s not in SEVERITIES)
    if unrated:
        parts.append(f"{unrated} unrated")
    return ", ".join(parts) or "none"


# Wycheproof `bugType` values (testvectors_v1 schema), most specific first. A vector that
# expects a valid result, or whose bug type is about functionality, has no severity.
WYCHEPROOF_BUG_TYPES: dict[str, Severity | None] = {
    "AUTH_BYPASS": "forgery",
    "CONFIDENTIALITY": "forgery",  # key or plaintext recovery (invalid curve, padding oracle)
    "WRONG_PRIMITIVE": "forgery",
    "KNOWN_BUG": "forgery",
    "MODIFIED_PARAMETER": "forgery",
    "MISSING_STEP": "bypass",
    "SIGNATURE_MALLEABILITY": "malleability",
    "MALLEABILITY": "malleability",
    "BER_ENCODING": "malleability",
    "CAN_OF_WORMS": "leniency",
    "LEGACY": "leniency",
    "EDGE_CASE": "leniency",
    "DEFINED": None,
    "FUNCTIONALITY": None,
    "BASIC": None,
}
# Flag names (the `notes` keys of a vector file) that name the attack class outright.
WYCHEPROOF_FLAGS: dict[str, Severity] = {
    "InvalidCurveAttack": "forgery", "PointNotOnCurve": "forgery", "InvalidPublicKey": "forgery",
    "WeakPublicKey": "forgery", "ModifiedSignature": "forgery", "ModifiedTag": "forgery",
    "TruncatedTag": "forgery", "InvalidSignature": "forgery", "AlgNone": "forgery",
    "ArithmeticError": "forgery", "InvalidEncoding": "malleability",
    "MissingZero": "malleability", "BerEncodedSignature": "malleability",
    "SignatureMalleability": "malleability", "InvalidKeySize": "leniency",
}


def severity_of_flags(flags: Iterable[str], bug_types: Iterable[str] = ()) -> Severity | None:
    """The most severe reading of a vector's bug types, then of its flag names; None when
    neither says (the vector tests functionality, or its flags are not known here)."""
    from_bug = [WYCHEPROOF_BUG_TYPES.get(b.upper()) for b in bug_types]
    found = most_severe(from_bug) or most_severe(WYCHEPROOF_FLAGS.get(f) for f in flags)
    return found  # type: ignore[return-value]


# An invalid Wycheproof vector without a flag that says: its test name tells what was done to
# the token. A changed or missing part accepted is a token no key holder made; another
# encoding of the same parts is malleability; the rest are key policies (sizes, ROCA, `use`).
_FORGED_TESTS = re.compile(r"Modified|Missing|InvalidCurve|IntegerOverflow|invalid_point|"
                           r"wrong_curve|wrong_algorithm|invalid_algorithm", re.IGNORECASE)
_REENCODED_TESTS = re.compile(r"base64|InvalidCharacter", re.IGNORECASE)


def severity_of_vector(flags: Iterable[str], bug_types: Iterable[str], test: str) -> Severity:
    """What accepting an invalid vector costs: its flags' bugTypes, else its flag names, else
    what its test name says was done to the token."""
    bug_types = list(bug_types)
    if any(bug.upper() == "CAN_OF_WORMS" for bug in bug_types):
        # Behaviour the RFCs leave undefined (Wycheproof: "best practice is to reject"), such
        # as a genuine token checked against a key set with duplicate kids: never more.
        return "leniency"
    found = severity_of_flags(flags, bug_types)
    if found is not None:
        return found
    if _FORGED_TESTS.search(test):
        return "forgery"
    return "malleability" if _REENCODED_TESTS.search(test) else "leniency"
