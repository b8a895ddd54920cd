"""The claims options an application sets when it validates a JWT, as plain data.

Adapters translate a `ClaimsOptions` into their library's own JWT API (keyword arguments,
a claims registry, a `check_claims` dict); the scenarios under `scenarios/claims/` declare what
a correct consumer must do with each claims situation under each set of options.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClaimsOptions:
    """What the application asks of the claims; every field unset means the library's defaults.

    `leeway_s`: clock-skew allowance in seconds for `exp`/`nbf` (None: the library's default,
    which differs between libraries). `audience`: the value this consumer identifies itself
    with in `aud`. `issuer`: the only `iss` it trusts. `required`: claim names that must be
    present.
    """

    leeway_s: float | None = None
    audience: str | None = None
    issuer: str | None = None
    required: tuple[str, ...] = ()

    @property
    def is_default(self) -> bool:
        return self == ClaimsOptions()

    def count_set(self) -> int:
        return sum(value not in (None, ()) for value in
                   (self.leeway_s, self.audience, self.issuer, self.required))

    def summary(self) -> str:
        """What a reader of the claims sheet needs to know about these options."""
        if self.is_default:
            return "no options: the library's defaults"
        parts = []
        if self.leeway_s is not None:
            parts.append(f"leeway {self.leeway_s:g} s")
        if self.audience is not None:
            parts.append("audience")
        if self.issuer is not None:
            parts.append("issuer")
        if self.required:
            parts.append("required " + "/".join(self.required))
        return ", ".join(parts)


# A claims case runs one situation under one configuration, because what a correct consumer
# must do depends on both: its name is the situation's, then the configuration's.
def case_name(situation: str, config: str) -> str:
    return f"{situation}_{config.replace('-', '_')}"


def situation_of(case_id: str, config: str) -> str:
    """`claims.exp.past_with_options` under `with-options` -> `exp.past`."""
    return case_id.removeprefix("claims.").removesuffix("_" + config.replace("-", "_"))
