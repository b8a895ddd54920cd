"""Registered claims of the wrong JSON type that no option here checks: `sub` must be a
StringOrURI (RFC 7519 §4.1.2), `jti` a case-sensitive string (§4.1.7). The RFC does not say a
consumer must refuse a malformed claim it does not use, so these are policy; RFC 8725 §3.10
warns against trusting such values downstream."""

from __future__ import annotations

from scenarios.claims.common import POLICY_REJECT, Claims, situation

# What accepting a token this module's cases refuse costs, unless a case says otherwise.
SEVERITY = "leniency"
WHY = ("RFC 7519 §4.1.2, §4.1.7 type rules: a wrongly typed value the application reads at its "
       "own risk; no check is skipped.")


@situation("RFC 7519 §4.1.2", POLICY_REJECT)
def sub_number(now: int, claims: Claims) -> Claims:
    """`sub` = 1234: a number where a StringOrURI belongs."""
    return {**claims, "sub": 1234}


@situation("RFC 7519 §4.1.2", POLICY_REJECT)
def sub_object(now: int, claims: Claims) -> Claims:
    """`sub` = `{"id": "alice"}`: an object where a StringOrURI belongs."""
    return {**claims, "sub": {"id": "alice"}}


@situation("RFC 7519 §4.1.7", POLICY_REJECT)
def jti_object(now: int, claims: Claims) -> Claims:
    """`jti` = `{"n": 1}`: an object where a string belongs."""
    return {**claims, "jti": {"n": 1}}


@situation("RFC 7519 §4.1.7", POLICY_REJECT)
def jti_number(now: int, claims: Claims) -> Claims:
    """`jti` = 7: a number where a string belongs."""
    return {**claims, "jti": 7}
