"""Releases side by side: the cells where a library and a release of it answer differently."""

from __future__ import annotations

import pandas as pd

from harness.interop.releases import pair_matrix, release_changes, release_pairs, summary_lines


def _row(consumer: str, case: str, actual: str, producer: str = "forge") -> dict:
    return {"case": case, "suite": "JWS HS256", "mode": "default", "config": "defaults",
            "entry_point": "jwt", "producer": producer, "consumer": consumer, "actual": actual,
            "passed": actual == "rejected", "detail": ""}


def test_a_release_that_accepts_what_today_refuses_is_listed_first() -> None:
    rows = pd.DataFrame([
        _row("pyjwt", "claims.iss.substring", "rejected"),
        _row("pyjwt@2.10.0", "claims.iss.substring", "accepted"),
        _row("pyjwt", "claims.iss.number", "rejected"),
        _row("pyjwt@2.10.0", "claims.iss.number", "error"),
        _row("pyjwt", "claims.iss.other", "rejected"),
        _row("pyjwt@2.10.0", "claims.iss.other", "rejected"),
        # Each release's own round trip lines up with the other's.
        _row("pyjwt", "jws.roundtrip.compact", "accepted", producer="pyjwt"),
        _row("pyjwt@2.10.0", "jws.roundtrip.compact", "accepted", producer="pyjwt@2.10.0"),
    ])
    names = ["pyjwt", "pyjwt@2.10.0", "jwcrypto@1.5.0"]
    assert release_pairs(names) == [("pyjwt", "pyjwt@2.10.0")]
    changed = release_changes(rows, "pyjwt", "pyjwt@2.10.0")
    assert sorted(changed["case"]) == ["claims.iss.number", "claims.iss.substring"]
    lines = summary_lines(rows, names)
    assert "2 of 4 shared cells differ" in lines[-3]
    assert lines[-2] == "  claims.iss.substring: pyjwt rejected, pyjwt@2.10.0 accepted (×1)"


def test_the_pair_matrix_keeps_wide_counts_apart() -> None:
    # 1036/1048 is wider than the name "jose": the columns must still be split by a space.
    rows = pd.DataFrame([_row(consumer, "jws.roundtrip.compact", "rejected", producer)
                         for producer in ("jose", "jose@5") for consumer in ("jose", "jose@5")
                         for _ in range(1048)])
    grid = pair_matrix(rows, ["jose", "jose@5"])
    assert grid[1].split() == ["jose", "1048/1048", "1048/1048"]
    assert grid[0].split()[-2:] == ["jose", "jose@5"]
