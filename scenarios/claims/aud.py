"""`aud` (RFC 7519 §4.1.3): "If the principal processing the claim does not identify itself with
a value in the "aud" claim when this claim is present, then the JWT MUST be rejected"; the value
is a StringOrURI or an array of them, compared as case-sensitive strings (§7.3). RFC 8725 §3.9:
a relying party MUST reject a JWT whose audience "is not present or not associated with the
recipient" when its issuer serves several.

A consumer configured without its own audience cannot identify itself with any value: refusing
every `aud` is the strict reading, accepting any is common practice; both are reported as
policy under `defaults`."""

from __future__ import annotations

from scenarios.claims.common import (
    ABSENT,
    ACCEPT,
    AUDIENCE,
    OTHER,
    POLICY_REJECT,
    REFUSED_WHEN_CHECKED,
    Claims,
    situation,
    without,
)

AUD = "RFC 7519 §4.1.3"
AUD_EXACT = "RFC 7519 §4.1.3, §7.3"
MATCHES = {"defaults": POLICY_REJECT, "audience_issuer": ACCEPT, "with_options": ACCEPT}
# What accepting a token this module's cases refuse costs, unless a case says otherwise.
SEVERITY = "bypass"
WHY = ("RFC 7519 §4.1.3: a token for another audience, accepted, lets a token issued to one "
       "service be replayed at another.")


@situation(AUD, **MATCHES)
def string(now: int, claims: Claims) -> Claims:
    """`aud` = the consumer's audience, as a single string."""
    return {**claims, "aud": AUDIENCE}


@situation(AUD, **MATCHES)
def list_of_one(now: int, claims: Claims) -> Claims:
    """`aud` = [the consumer's audience]."""
    return {**claims, "aud": [AUDIENCE]}


@situation(AUD, **MATCHES)
def list_with_extra(now: int, claims: Claims) -> Claims:
    """`aud` = [another audience, the consumer's audience]: it identifies with one value."""
    return {**claims, "aud": [OTHER, AUDIENCE]}


@situation(AUD, **REFUSED_WHEN_CHECKED)
def other(now: int, claims: Claims) -> Claims:
    """`aud` = another service's audience."""
    return {**claims, "aud": OTHER}


@situation(AUD, **REFUSED_WHEN_CHECKED)
def list_of_others(now: int, claims: Claims) -> Claims:
    """`aud` = [two other audiences]."""
    return {**claims, "aud": [OTHER, "https://third.example.com"]}


@situation(AUD_EXACT, **REFUSED_WHEN_CHECKED)
def prefix(now: int, claims: Claims) -> Claims:
    """`aud` = a prefix of the consumer's audience (`https://api.example`): a substring match
    would pass it."""
    return {**claims, "aud": AUDIENCE.removesuffix(".com")}


@situation(AUD_EXACT, **REFUSED_WHEN_CHECKED)
def extended(now: int, claims: Claims) -> Claims:
    """`aud` = the consumer's audience with more after it (`...example.com.evil.net`)."""
    return {**claims, "aud": AUDIENCE + ".evil.net"}


@situation(AUD, **REFUSED_WHEN_CHECKED)
def empty_string(now: int, claims: Claims) -> Claims:
    """`aud` = "": present, and no principal identifies with it."""
    return {**claims, "aud": ""}


@situation(AUD, **REFUSED_WHEN_CHECKED)
def empty_list(now: int, claims: Claims) -> Claims:
    """`aud` = []: present, and no principal identifies with it."""
    return {**claims, "aud": []}


@situation(AUD + ", §2 (StringOrURI)", **REFUSED_WHEN_CHECKED)
def number(now: int, claims: Claims) -> Claims:
    """`aud` = 42: neither a StringOrURI nor an array of them."""
    return {**claims, "aud": 42}


@situation(AUD + ", §2 (StringOrURI)", **REFUSED_WHEN_CHECKED, severity="leniency",
           why="The consumer's own audience is inside: a type error, not another audience.")
def nested_list(now: int, claims: Claims) -> Claims:
    """`aud` = [[the consumer's audience]]: an array holding an array, not StringOrURIs."""
    return {**claims, "aud": [[AUDIENCE]]}


@situation("RFC 8725 §3.9, RFC 7519 §4.1.3", **ABSENT)
def missing(now: int, claims: Claims) -> Claims:
    """No `aud`: refused when required; a policy when only the audience is configured.

    RFC 8725 §3.9 says to reject a token with no audience where the issuer serves several
    relying parties, which the library cannot know; `with-options` requires `aud`.
    """
    return without(claims, "aud")
