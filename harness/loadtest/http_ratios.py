"""What a JWE access token costs a resource server: server CPU per request of each JWE profile
over its inner JWS profile's and over the no-check baseline's, per library."""

from __future__ import annotations

import pandas as pd

from harness.loadtest.http_profiles import NO_CHECK, PROFILES_BY_NAME


def cost_ratios(table: pd.DataFrame) -> pd.DataFrame:
    """Per library and JWE profile: server CPU per request over its inner JWS profile's and
    over the no-check baseline's (CPU per request, which a Locust-bound cell does not hide)."""
    cost = table.set_index(["library", "profile"])["server_cpu_us_per_req"]
    rows = []
    for (library, profile), value in cost.items():
        inner = PROFILES_BY_NAME[profile].inner if profile in PROFILES_BY_NAME else None
        if inner is None or not value:
            continue
        jws = cost.get((library, inner))
        none = cost.get((library, NO_CHECK))
        rows.append({"library": library, "profile": profile, "inner": inner,
                     "jwe_over_jws": round(value / jws, 2) if jws else None,
                     "jwe_over_no_check": round(value / none, 2) if none else None,
                     "jws_over_no_check": round(jws / none, 2) if jws and none else None})
    return pd.DataFrame(rows, columns=["library", "profile", "inner", "jwe_over_jws",
                                       "jwe_over_no_check", "jws_over_no_check"])
