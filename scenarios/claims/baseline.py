"""The control: the base token every other claims case changes in one claim."""

from __future__ import annotations

from scenarios.claims.common import ACCEPT, Claims, situation


@situation("RFC 7519 §7.2", ACCEPT)
def valid(now: int, claims: Claims) -> Claims:
    """Every claim well-formed and current: accepted, with the claims returned as sent.

    The base token carries `iss`, `sub`, `iat`, `exp` (in an hour) and `jti`, plus `aud` when
    the consumer is configured with its audience. If a consumer refuses this, its other rows
    say nothing about the claim under test.
    """
    return claims
