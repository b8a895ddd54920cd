"""`nbf` (RFC 7519 §4.1.5): "the current date/time MUST be after or equal to the not-before
date/time", with a small leeway allowed; "Its value MUST be a number containing a NumericDate
value"."""

from __future__ import annotations

from scenarios.claims.common import ACCEPT, POLICY_REJECT, REJECT, Claims, situation

NBF = "RFC 7519 §4.1.5"
# What accepting a token this module's cases refuse costs, unless a case says otherwise.
SEVERITY = "bypass"
WHY = ("RFC 7519 §4.1.5: a token used before its time skips the not-before check.")


@situation(NBF, REJECT)
def future(now: int, claims: Claims) -> Claims:
    """`nbf` in an hour: not yet valid beyond any leeway."""
    return {**claims, "nbf": now + 3600}


@situation(NBF, defaults=POLICY_REJECT, audience_issuer=POLICY_REJECT, with_options=ACCEPT)
def within_leeway(now: int, claims: Claims) -> Claims:
    """`nbf` in 10 s: within the 30 s leeway `with-options` sets; otherwise a library's choice."""
    return {**claims, "nbf": now + 10}


@situation(NBF + ", §2 (NumericDate)", REJECT)
def string(now: int, claims: Claims) -> Claims:
    """`nbf` as a string of digits (in an hour): not a NumericDate; ignoring it lets an early
    token pass."""
    return {**claims, "nbf": str(now + 3600)}


@situation(NBF + ", §2 (NumericDate)", REJECT, severity="leniency",
           why="Read as 1, `nbf` lies in 1970: the token is valid either way.")
def boolean(now: int, claims: Claims) -> Claims:
    """`nbf: true`: not a NumericDate (read as 1, it would be long past)."""
    return {**claims, "nbf": True}
