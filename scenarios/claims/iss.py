"""`iss` (RFC 7519 §4.1.1): a case-sensitive StringOrURI, compared exactly (§7.3: no
transformation or canonicalisation). RFC 8725 §3.8: the application validates the issuer. With
an issuer configured only that exact string passes: a prefix, a suffix, another case or a list
must not. With none configured there is nothing to compare, so any string passes."""

from __future__ import annotations

from scenarios.claims.common import (
    ABSENT,
    ACCEPT,
    ISSUER,
    REFUSED_WHEN_CHECKED,
    REJECT,
    Claims,
    situation,
    without,
)

ISS = "RFC 7519 §4.1.1, §7.3"
TYPED = "RFC 7519 §4.1.1, §2 (StringOrURI)"
STRING_MISMATCH = {"defaults": ACCEPT, "audience_issuer": REJECT, "with_options": REJECT}
# What accepting a token this module's cases refuse costs, unless a case says otherwise.
SEVERITY = "bypass"
WHY = ("RFC 7519 §4.1.1: a token from another issuer, accepted, skips the issuer check the "
       "application configured.")


@situation(ISS, **STRING_MISMATCH)
def other(now: int, claims: Claims) -> Claims:
    """`iss` = another issuer."""
    return {**claims, "iss": "https://evil.example.net"}


@situation(ISS, **STRING_MISMATCH)
def prefix(now: int, claims: Claims) -> Claims:
    """`iss` = a prefix of the configured issuer (`https://issuer.example`)."""
    return {**claims, "iss": ISSUER.removesuffix(".com")}


@situation(ISS, **STRING_MISMATCH)
def extended(now: int, claims: Claims) -> Claims:
    """`iss` = the configured issuer with more after it (`...example.com.evil.net`)."""
    return {**claims, "iss": ISSUER + ".evil.net"}


@situation(ISS, **STRING_MISMATCH)
def suffix(now: int, claims: Claims) -> Claims:
    """`iss` = a suffix of the configured issuer (`issuer.example.com`, no scheme)."""
    return {**claims, "iss": ISSUER.removeprefix("https://")}


@situation(ISS, **STRING_MISMATCH)
def substring(now: int, claims: Claims) -> Claims:
    """`iss` = a part from inside the configured issuer (`issuer.example`): a substring test
    passes it (CVE-2024-53861: PyJWT 2.10.0 checked a string issuer with `in`)."""
    return {**claims, "iss": ISSUER.removeprefix("https://").removesuffix(".com")}


@situation(ISS, **STRING_MISMATCH)
def uppercase(now: int, claims: Claims) -> Claims:
    """`iss` = the configured issuer in capitals: StringOrURI compares case-sensitively."""
    return {**claims, "iss": ISSUER.upper()}


@situation(TYPED, **REFUSED_WHEN_CHECKED, severity="leniency",
           why="The configured issuer, in a list: a type error, not another issuer.")
def list_of_one(now: int, claims: Claims) -> Claims:
    """`iss` = [the configured issuer]: a list is not a StringOrURI."""
    return {**claims, "iss": [ISSUER]}


@situation(TYPED, **REFUSED_WHEN_CHECKED)
def list_with_extra(now: int, claims: Claims) -> Claims:
    """`iss` = [the configured issuer, another]: a list that a membership test would pass."""
    return {**claims, "iss": [ISSUER, "https://evil.example.net"]}


@situation(TYPED, **REFUSED_WHEN_CHECKED)
def number(now: int, claims: Claims) -> Claims:
    """`iss` = 42: not a StringOrURI."""
    return {**claims, "iss": 42}


@situation("RFC 8725 §3.8, RFC 7519 §4.1.1", **ABSENT)
def missing(now: int, claims: Claims) -> Claims:
    """No `iss`: refused when required; a policy when only the issuer is configured."""
    return without(claims, "iss")
