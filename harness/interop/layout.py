"""Whether a general JSON token with several signatures or recipients is laid out as the case
asked its producer: the rule it breaks, or None.

The case asks for what RFC 7515 §7.2.1 and RFC 7516 §7.2.1 let a producer write and what real
deployments rely on: one signature per signer with its `alg` and `kid` protected; for a JWE,
`enc` once in the protected header (every recipient shares the one content encryption) and
each recipient's `alg` and `kid` in its own header, with distinct `kid`s so that each consumer
can pick its recipient. A producer that writes otherwise made a token the application did not
ask for: its row is charged to the producer with this rule as the cause.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from harness.core.keyforms import unb64
from harness.core.suites import Suite

Asked = Sequence[tuple[Suite, Any, dict[str, Any]]]


def _object(text: Any) -> dict[str, Any] | None:
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _protected(member: Any) -> dict[str, Any]:
    if not isinstance(member, str) or not member:
        return {}
    try:
        value = json.loads(unb64(member))
    except ValueError:  # binascii.Error is one
        return {}
    return value if isinstance(value, dict) else {}


def _shared_kid(kids: list[Any]) -> str | None:
    repeated = sorted({str(k) for k in kids if kids.count(k) > 1})
    if repeated:
        return (f"two signatures or recipients share kid {repeated[0]!r}, so a consumer "
                "cannot pick its own by kid (RFC 7515 §4.1.4, RFC 7516 §4.1.6, RFC 7517 §4.5)")
    return None


def jws_layout(token: str, asked: Asked) -> str | None:
    members = _object(token)
    signatures = members.get("signatures") if members else None
    if not isinstance(signatures, list) or len(signatures) != len(asked):
        return (f"not a general JSON JWS with {len(asked)} signatures (RFC 7515 §7.2.1)")
    headers = [_protected(s.get("protected")) if isinstance(s, dict) else {} for s in signatures]
    kids = [h.get("kid") for h in headers]
    shared = _shared_kid(kids)
    if shared:
        return shared
    return _as_asked(headers, asked,
                     "no signature carries the asked kid {kid!r} in its protected header "
                     "(RFC 7515 §4.1.4, §7.2.1)",
                     "the signature with kid {kid!r} has alg {alg!r}, not the asked {asked} "
                     "(RFC 7515 §4.1.1)")


def jwe_layout(token: str, asked: Asked) -> str | None:
    members = _object(token)
    recipients = members.get("recipients") if members else None
    if not members or not isinstance(recipients, list) or len(recipients) != len(asked):
        return (f"not a general JSON JWE with {len(asked)} recipient"
                f"{'s' if len(asked) != 1 else ''} (RFC 7516 §7.2.1)")
    protected = _protected(members.get("protected"))
    headers = [r.get("header") if isinstance(r, dict) and isinstance(r.get("header"), dict)
               else {} for r in recipients]
    enc = asked[0][0].enc
    if any("enc" in h for h in headers):
        return ("enc is in a per-recipient header: the recipients share one content encryption, "
                "asked for once in the protected header (RFC 7516 §7.2.1, §4.1.2)")
    if protected.get("enc") != enc:
        return (f"the protected header's enc is {protected.get('enc')!r}, not the asked {enc} "
                "(RFC 7516 §4.1.2, §7.2.1)")
    shared = _shared_kid([h.get("kid") for h in headers])
    if shared:
        return shared
    return _as_asked(headers, asked,
                     "no recipient header carries the asked kid {kid!r} (RFC 7516 §4.1.6, "
                     "§7.2.1)",
                     "the recipient with kid {kid!r} has alg {alg!r} in its header, not the "
                     "asked {asked} (RFC 7516 §4.1.1, §7.2.1)")


def _as_asked(headers: list[dict[str, Any]], asked: Asked, missing: str, wrong: str
              ) -> str | None:
    """Each asked signer or recipient found by its kid, with its alg: the first departure, as
    `missing` or `wrong` (templates of kid, alg and the asked alg)."""
    for suite, _, header in asked:
        kid = header.get("kid")
        found = next((h for h in headers if h.get("kid") == kid), None)
        if found is None:
            return missing.format(kid=kid)
        if found.get("alg") != suite.alg:
            return wrong.format(kid=kid, alg=found.get("alg"), asked=suite.alg)
    return None
