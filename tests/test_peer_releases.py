"""Releases side by side: the cells where a library and a release of it answer differently."""

from __future__ import annotations

import pandas as pd

from harness.interop.pair_matrix import peer_lines
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


def test_the_peers_are_shown_against_the_python_libraries_both_ways() -> None:
    # jose's tokens: joserfc reads 2 of 2, pyjwt 1 of 2; joserfc's: jose reads 0 of 1.
    rows = pd.DataFrame([
        {**_row("joserfc", "jws.roundtrip.compact", "accepted", "jose"), "passed": True},
        {**_row("joserfc", "jws.rotation.current_key", "accepted", "jose"), "passed": True},
        {**_row("pyjwt", "jws.roundtrip.compact", "accepted", "jose"), "passed": True},
        {**_row("pyjwt", "jws.rotation.current_key", "rejected", "jose"), "passed": False},
        {**_row("jose", "jws.roundtrip.compact", "rejected", "joserfc"), "passed": False},
        # Not judged, and a forged token: neither counts.
        {**_row("jose", "jws.roundtrip.compact", "unsupported", "pyjwt"), "passed": None},
        {**_row("jose", "attacks.alg_none.none", "rejected"), "passed": True},
    ])
    lines = peer_lines(rows, ["pyjwt", "joserfc", "jose"], ["jose"])
    produced = lines.index("  the peer produces, the Python library consumes:")
    consumed = lines.index("  the Python library produces, the peer consumes:")
    assert lines[produced + 1].split() == ["producer", "\\", "consumer", "pyjwt", "joserfc"]
    assert lines[produced + 2].split() == ["jose", "1/2", "2/2"]
    assert lines[consumed + 1].split() == ["consumer", "\\", "producer", "pyjwt", "joserfc"]
    assert lines[consumed + 2].split() == ["jose", "–", "0/1"]
    # Without a peer, or with peers alone, there is nothing to set side by side.
    assert peer_lines(rows, ["pyjwt", "joserfc"], []) == []
    assert peer_lines(rows, ["jose"], ["jose"]) == []
    # Python libraries' cells among themselves make no grid of dashes beside a peer.
    python_only = pd.DataFrame([{**_row("joserfc", "jws.roundtrip.compact", "accepted", "pyjwt"),
                                 "passed": True}])
    assert peer_lines(python_only, ["pyjwt", "joserfc", "jose"], ["jose"]) == []
