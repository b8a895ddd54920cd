"""The scorecard's "× the fastest": through the overhead over a shared floor, which the host's
speed cannot move, and through the rates only where the libraries' floors differ."""

from __future__ import annotations

import pandas as pd
import pytest

from harness.report.throughput import relative_speed
from tests.runfolders import loadtest_row


def test_libraries_are_compared_through_their_overhead_over_the_same_floor() -> None:
    # jwcrypto's cells ran while the host was 40% slower: its rates and its floor both fell.
    table = pd.DataFrame([
        loadtest_row("joserfc", "JWS HS256", "sign", 50_000, floor=100_000),
        loadtest_row("jwcrypto", "JWS HS256", "sign", 15_000, floor=60_000),
        loadtest_row("joserfc", "JWS ES256", "verify", 9_000, floor=10_000),
        loadtest_row("jwcrypto", "JWS ES256", "verify", 4_800, floor=6_000)])
    speed = relative_speed(table)
    # Overheads 2 vs 4 and 1.11 vs 1.25: sqrt(0.5 × 0.889); the rates alone would say 0.40.
    assert speed["joserfc"] == pytest.approx(1.0)
    assert speed["jwcrypto"] == pytest.approx((0.5 * (10_000 / 9_000) / 1.25) ** 0.5)


def test_where_the_floors_differ_the_rates_are_compared() -> None:
    rows = [loadtest_row("joserfc", "JWE PBES2-HS256+A128KW + A128GCM", "decrypt", 4_000),
            loadtest_row("jwcrypto", "JWE PBES2-HS256+A128KW + A128GCM", "decrypt", 1_000)]
    rows[0]["primitive"], rows[1]["primitive"] = "PBKDF2-SHA256 x2048", "PBKDF2-SHA256 x8192"
    rows[1]["overhead_x"] = 1.0
    speed = relative_speed(pd.DataFrame(rows))
    assert speed["jwcrypto"] == pytest.approx(0.25)
