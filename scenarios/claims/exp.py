"""`exp` (RFC 7519 §4.1.4): "the current date/time MUST be before the expiration date/time";
"Implementers MAY provide for some small leeway"; "Its value MUST be a number containing a
NumericDate value" (RFC 7519 §2: seconds since the epoch, non-integer values allowed)."""

from __future__ import annotations

from scenarios.claims.common import (
    ACCEPT,
    LEEWAY_S,
    POLICY_ACCEPT,
    POLICY_REJECT,
    REJECT,
    Claims,
    Raw,
    situation,
    without,
)

EXP = "RFC 7519 §4.1.4"
TYPED = "RFC 7519 §4.1.4, §2 (NumericDate)"
# What accepting a token this module's cases refuse costs, unless a case says otherwise.
SEVERITY = "bypass"
WHY = ("RFC 7519 §4.1.4: an expired (or never-expiring) token accepted skips the expiry check "
       "the application relies on.")


@situation(EXP, REJECT)
def past(now: int, claims: Claims) -> Claims:
    """`exp` an hour ago: expired beyond any leeway."""
    return {**claims, "exp": now - 3600}


@situation(EXP, defaults=POLICY_REJECT, audience_issuer=POLICY_REJECT, with_options=ACCEPT)
def now(now: int, claims: Claims) -> Claims:
    """`exp` = now: expired, unless a clock-skew leeway applies.

    The RFC allows a small leeway, so a library's own default leeway is its choice (policy);
    with the 30 s leeway the application set, the token must pass.
    """
    return {**claims, "exp": now}


@situation(EXP, defaults=POLICY_REJECT, audience_issuer=POLICY_REJECT, with_options=ACCEPT)
def within_leeway(now: int, claims: Claims) -> Claims:
    """`exp` 10 s ago: within the 30 s leeway `with-options` sets."""
    return {**claims, "exp": now - 10}


@situation(EXP, defaults=POLICY_REJECT, audience_issuer=POLICY_REJECT, with_options=REJECT)
def beyond_leeway(now: int, claims: Claims) -> Claims:
    """`exp` 45 s ago: beyond the 30 s leeway set, within a 60 s library default.

    Under `with-options` a pass means the library ignored the leeway the application set.
    """
    return {**claims, "exp": now - (LEEWAY_S + 15)}


@situation(TYPED, ACCEPT)
def float_future(now: int, claims: Claims) -> Claims:
    """`exp` in an hour with a fraction (3600.5 s): a valid NumericDate."""
    return {**claims, "exp": now + 3600.5}


@situation(TYPED, REJECT)
def float_past(now: int, claims: Claims) -> Claims:
    """`exp` an hour ago with a fraction (-3600.5 s): expired."""
    return {**claims, "exp": now - 3600.5}


@situation(TYPED, REJECT, severity="leniency",
           why=("The string names a time an hour ahead, so a consumer that parses it lets through"
                " nothing the number would refuse; one that ignores `exp` altogether shows it on "
                "`past`."))
def string(now: int, claims: Claims) -> Claims:
    """`exp` as a string of digits (in an hour): not a number, so not a NumericDate."""
    return {**claims, "exp": str(now + 3600)}


@situation(TYPED, REJECT)
def boolean(now: int, claims: Claims) -> Claims:
    """`exp: true`: not a NumericDate (Python reads `True` as the integer 1)."""
    return {**claims, "exp": True}


@situation(TYPED, REJECT)
def null(now: int, claims: Claims) -> Claims:
    """`exp: null`: present, and not a NumericDate."""
    return {**claims, "exp": None}


@situation(TYPED, POLICY_ACCEPT)
def huge(now: int, claims: Claims) -> Claims:
    """`exp` = 2^64: a NumericDate far in the future, beyond 64-bit integers.

    Nothing in RFC 7519 bounds a token's lifetime, so accepting is right and refusing is a
    policy; crashing on the number (an `error` row) is neither.
    """
    return {**claims, "exp": 2**64}


@situation("RFC 7519 §2, RFC 8259 §6", POLICY_REJECT)
def overflow(now: int, claims: Claims) -> Claims:
    """`exp` = 1e400: valid JSON that overflows a double to infinity, a token that never expires.

    RFC 8259 §6 lets a parser limit the range of numbers, so refusing is the implementation's
    choice; a token that can never expire is the risk of accepting it.
    """
    return {**claims, "exp": Raw("1e400")}


@situation("RFC 7519 §7.2 step 10, RFC 8259 §6", REJECT)
def nan(now: int, claims: Claims) -> Claims:
    """`exp: NaN`: not JSON at all, and a value no comparison ever finds expired."""
    return {**claims, "exp": Raw("NaN")}


@situation("RFC 7519 §7.2 step 10, RFC 8259 §6", REJECT)
def infinity(now: int, claims: Claims) -> Claims:
    """`exp: Infinity`: not JSON, and a token that never expires."""
    return {**claims, "exp": Raw("Infinity")}


@situation("RFC 7519 §4.1 (exp is OPTIONAL), §4.1.4", defaults=POLICY_ACCEPT,
           audience_issuer=POLICY_ACCEPT, with_options=REJECT)
def missing(now: int, claims: Claims) -> Claims:
    """No `exp`: optional in the RFC; refused when the application requires it.

    Whether a token that never expires is acceptable is the application's choice, unless it
    listed `exp` as required (`with-options` does).
    """
    return without(claims, "exp")
