"""What every claims case shares: the consumer configurations, the token around the claim under
test, and `situation`, which declares one case per configuration.

Every token is an HS256 JWS signed correctly by the forge, with the claims of a token this
consumer would accept (`base_claims`) except the one the situation changes; times are computed
at run time, relative to now. What a correct consumer must do depends on the configuration as
much as on the claim (an `aud` is fine when the consumer knows its own audience, and a question
of policy when it does not), so each situation states its expected outcome per configuration.
"""

from __future__ import annotations

import functools
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.core.claims import ClaimsOptions, case_name
from harness.core.severity import Severity
from harness.forge.jws import sign
from harness.interop.scenario import ConsumerConfig, Context, Expected, case, named_suites

Claims = dict[str, Any]
Build = Callable[[int, Claims], Claims]

SUITES = named_suites("JWS HS256")
ISSUER = "https://issuer.example.com"
AUDIENCE = "https://api.example.com"
OTHER = "https://other.example.com"
LEEWAY_S = 30


@dataclass(frozen=True)
class ClaimsConfig(ConsumerConfig):
    """A consumer configuration that also sets the claims options."""

    claims: ClaimsOptions = field(default_factory=ClaimsOptions)


DEFAULTS = ClaimsConfig("defaults")
# The two options nearly every application sets, nothing else.
AUDIENCE_ISSUER = ClaimsConfig("audience-issuer",
                               claims=ClaimsOptions(audience=AUDIENCE, issuer=ISSUER))
WITH_OPTIONS = ClaimsConfig("with-options", claims=ClaimsOptions(
    leeway_s=LEEWAY_S, audience=AUDIENCE, issuer=ISSUER, required=("exp", "iss", "aud", "sub")))
CONFIGS = (DEFAULTS, AUDIENCE_ISSUER, WITH_OPTIONS)


@dataclass(frozen=True)
class Expect:
    outcome: Expected
    policy: bool = False


ACCEPT, REJECT = Expect("accept"), Expect("reject")
# The RFC leaves it to the application: reported, never judged. The outcome is the stricter
# reading, shown on the sheet as what a cautious consumer does.
POLICY_REJECT, POLICY_ACCEPT = Expect("reject", policy=True), Expect("accept", policy=True)
# A value the consumer must refuse once it is configured to check that claim (`aud`, `iss`);
# with no option set there is nothing to check it against, and refusing is the library's choice.
REFUSED_WHEN_CHECKED = {"defaults": POLICY_REJECT, "audience_issuer": REJECT,
                        "with_options": REJECT}
# A claim left out: fine by default, a policy when only its value is configured, refused when
# the application lists it as required (`with-options`).
ABSENT = {"defaults": ACCEPT, "audience_issuer": POLICY_REJECT, "with_options": REJECT}


@dataclass(frozen=True)
class Raw:
    """A JSON number written as given (`1e400`, or `NaN` which is not JSON at all)."""

    text: str


def base_claims(now: int, options: ClaimsOptions) -> Claims:
    """Claims this consumer accepts: an `aud` only where it knows its own audience."""
    claims: Claims = {"iss": ISSUER, "sub": "alice", "iat": now - 5, "exp": now + 3600,
                      "jti": "c5d1a7e2"}
    if options.audience is not None:
        claims["aud"] = options.audience
    return claims


def without(claims: Claims, name: str) -> Claims:
    return {key: value for key, value in claims.items() if key != name}


def payload(claims: Claims) -> bytes:
    literals: dict[str, str] = {}

    def mark(value: Any) -> str:
        if not isinstance(value, Raw):
            raise TypeError(f"cannot encode {value!r}")
        marker = f"@raw{len(literals)}@"
        literals[json.dumps(marker)] = value.text
        return marker

    text = json.dumps(claims, separators=(",", ":"), default=mark)
    for marker, literal in literals.items():
        text = text.replace(marker, literal)
    return text.encode()


def _canonical(claims: Any) -> bytes:
    return json.dumps(claims, sort_keys=True).encode()


def check(ctx: Context, build: Build) -> tuple[bytes, bytes]:
    """Sign the situation's claims and hand the token to the consumer's claims validation."""
    config = ctx.config
    options = config.claims if isinstance(config, ClaimsConfig) else ClaimsOptions()
    now = int(time.time())
    sent = payload(build(now, base_claims(now, options)))
    token = sign({"alg": ctx.suite.alg, "typ": "JWT"}, sent, ctx.keys.private(ctx.suite.key))
    claims = ctx.consumer.adapter.validate_claims(
        ctx.suite, token, ctx.verification_key(ctx.suite.key), options, mode=ctx.mode,
        algorithms=config.algorithms)
    return _canonical(json.loads(sent)), _canonical(claims)


def situation(requirement: str, expect: Expect | None = None, *,
              defaults: Expect | None = None, audience_issuer: Expect | None = None,
              with_options: Expect | None = None, severity: Severity | None = None,
              why: str = "") -> Callable[[Build], Build]:
    """Declare a claims situation: one case per configuration, named `<situation>_<config>`.

    The decorated function builds the token's claims from `now` and the base claims; `expect`
    is the outcome under every configuration unless one is given for that configuration.
    `severity` (and `why`): what accepting the token costs where it must be refused; by default
    the module's `SEVERITY` and `WHY`, the reading that holds for most of its claim's situations.
    """
    per_config = {DEFAULTS: defaults or expect, AUDIENCE_ISSUER: audience_issuer or expect,
                  WITH_OPTIONS: with_options or expect}

    def declare(build: Build) -> Build:
        module = sys.modules[build.__module__]
        rated = severity or getattr(module, "SEVERITY", None)
        reason = why or (getattr(module, "WHY", "") if severity is None else "")
        for config, outcome in per_config.items():
            if outcome is None:
                raise TypeError(f"{build.__name__}: no expected outcome for {config.name}")

            def run(ctx: Context, build: Build = build) -> tuple[bytes, bytes]:
                return check(ctx, build)

            # Wrapping keeps the docstring as the description and the source line as the
            # declaration order the discovery sorts by.
            functools.update_wrapper(run, build)
            run.__name__ = run.__qualname__ = case_name(build.__name__, config.name)
            setattr(module, run.__name__, case(
                requirement=requirement, expected=outcome.outcome, suites=SUITES,
                producer="forge", configs=(config,), modes=("default",),
                attack_class="claims", policy=outcome.policy,
                severity=rated if outcome.outcome == "reject" else None, why=reason,
                entry_points=("jwt",))(run))
        return build
    return declare
