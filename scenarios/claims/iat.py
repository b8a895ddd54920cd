"""`iat` (RFC 7519 §4.1.6): "the time at which the JWT was issued ... Its value MUST be a number
containing a NumericDate value". The RFC sets no rule for an `iat` in the future: refusing it
is a policy."""

from __future__ import annotations

from scenarios.claims.common import POLICY_REJECT, Claims, situation

IAT = "RFC 7519 §4.1.6"
# What accepting a token this module's cases refuse costs, unless a case says otherwise.
SEVERITY = "leniency"
WHY = ("RFC 7519 §4.1.6 asks nothing of the consumer; an odd `iat` costs nothing.")


@situation(IAT, POLICY_REJECT)
def future(now: int, claims: Claims) -> Claims:
    """`iat` in an hour: issued in the future; the RFC does not say to refuse it."""
    return {**claims, "iat": now + 3600}


@situation(IAT + ", §2 (NumericDate)", POLICY_REJECT)
def string(now: int, claims: Claims) -> Claims:
    """`iat` as a string of digits: not a NumericDate, in a claim no option here uses."""
    return {**claims, "iat": str(now - 5)}
