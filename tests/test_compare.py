"""`harness compare`: two small runs made with different library versions, and the output lists
exactly what changed between them."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main
from tests.runfolders import loadtest_row, make_run, row

ALG_NONE = dict(expected="reject", config="jwk", attack_class="alg-none")


def two_runs(root: Path) -> tuple[Path, Path]:
    a = make_run(root, "20261101T000000Z-aaaaaa", {"joserfc": "1.7.0", "jwcrypto": "1.6.1"}, [
        row("jws.roundtrip.compact", "joserfc", "jwcrypto"),                   # will break
        row("jws.roundtrip.compact", "jwcrypto", "joserfc", actual="rejected", passed=False,
            detail="old bug"),                                                 # will be fixed
        row("jws.roundtrip.compact", "jwcrypto", "jwcrypto"),                  # unchanged
        row("attacks.alg_none.lowercase", "forge", "joserfc", actual="rejected", **ALG_NONE),
        row("attacks.alg_none.lowercase", "forge", "jwcrypto", actual="accepted",
            passed=False, **ALG_NONE),                                         # stays an accept
        row("jws.roundtrip.compact", "joserfc", "joserfc", suite="JWS HS256",
            actual="accepted"),                                                # drops support
        row("jws.roundtrip.compact", "joserfc", "joserfc", suite="JWS RS256"),  # only in A
        row("jws.roundtrip.compact", "jwcrypto", "joserfc", suite="JWS PS256",
            actual="unsupported", passed=None),                                # will fail
        row("jws.roundtrip.compact", "joserfc", "jwcrypto", suite="JWS PS256",
            actual="unsupported", passed=None),                                # will pass
    ], loadtest=[
        loadtest_row("joserfc", "JWS HS256", "sign", 40_000),        # +50%: beyond noise
        loadtest_row("joserfc", "JWS ES256", "verify", 9_000),       # +5%: within the margin
        loadtest_row("jwcrypto", "JWS HS256", "sign", 30_000, spread=0.25),  # noisy -30%
        loadtest_row("jwcrypto", "JWS ES256", "verify", 8_000),      # -20%: beyond noise
    ])
    b = make_run(root, "20261128T000000Z-bbbbbb",
                 {"joserfc": "1.8.0", "jwcrypto": "1.6.1", "pyjwt": "2.15.1"}, [
        row("jws.roundtrip.compact", "joserfc", "jwcrypto", actual="rejected", passed=False,
            detail="Invalid signature\nsecond line"),
        row("jws.roundtrip.compact", "jwcrypto", "joserfc"),
        row("jws.roundtrip.compact", "jwcrypto", "jwcrypto"),
        row("attacks.alg_none.lowercase", "forge", "joserfc", actual="accepted", passed=False,
            detail="took alg none", **ALG_NONE),
        row("attacks.alg_none.lowercase", "forge", "jwcrypto", actual="accepted",
            passed=False, **ALG_NONE),
        row("jws.roundtrip.compact", "joserfc", "joserfc", suite="JWS HS256",
            actual="unsupported", passed=None, detail="HS256 removed"),
        row("jws.roundtrip.compact", "pyjwt", "pyjwt"),                         # only in B
        row("jws.roundtrip.compact", "jwcrypto", "joserfc", suite="JWS PS256", actual="error",
            passed=False, detail="TypeError: x"),
        row("jws.roundtrip.compact", "joserfc", "jwcrypto", suite="JWS PS256"),
    ], loadtest=[
        loadtest_row("joserfc", "JWS HS256", "sign", 60_000),
        loadtest_row("joserfc", "JWS ES256", "verify", 9_450),
        loadtest_row("jwcrypto", "JWS HS256", "sign", 21_000, spread=0.25),
        loadtest_row("jwcrypto", "JWS ES256", "verify", 6_400),
    ])
    return a, b


def test_compare_lists_exactly_the_differences(tmp_path: Path, capsys) -> None:
    a, b = two_runs(tmp_path)
    assert main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "compare 20261101T000000Z-aaaaaa (A) → 20261128T000000Z-bbbbbb (B)",
        "library versions: joserfc 1.7.0 → 1.8.0; pyjwt 2.15.1 added",
        "cells: 8 in both runs, 1 only in A, 1 only in B (cells in one run only are not "
        "compared)",
        "broke (passed in A, fail in B): 2",
        "  attacks.alg_none.lowercase  forge → joserfc  JWS ES256  default [jwk]: accepted: "
        "took alg none",
        "  jws.roundtrip.compact  joserfc → jwcrypto  JWS ES256  default: rejected: "
        "Invalid signature",
        "fixed (failed in A, pass in B): 1",
        "  jws.roundtrip.compact  jwcrypto → joserfc  JWS ES256  default: was rejected",
        "new findings (security, one per consumer and behaviour): 1",
        "  joserfc  unrated  alg-none: unexpected accept, 1 cell(s) "
        "(attacks.alg_none.lowercase): took alg none",
        "findings gone: 0",
        "now unsupported: 1",
        "  jws.roundtrip.compact  joserfc → joserfc  JWS HS256  default: HS256 removed",
        "now failing (unsupported in A, fail in B): 1",
        "  jws.roundtrip.compact  jwcrypto → joserfc  JWS PS256  default: error: TypeError: x",
        "newly supported (unsupported in A, pass in B): 1",
        "  jws.roundtrip.compact  joserfc → jwcrypto  JWS PS256  default",
        "throughput: 4 load-test cells in both runs, 2 changed beyond noise; a cell counts as "
        "changed when the interquartile ranges across rounds of its overhead over the "
        "cryptography floor (its rate where a run has no floor), each widened by 5%, do not "
        "overlap (10% for a figure without a range)",
        "run to run: overhead_x within ±5% in 1 of 4 cells; efficiency within ±5% in 4 of 4 "
        "cells; rate B ÷ A median 0.925 (IQR 0.775–1.163)",
        "  jwcrypto JWS ES256 verify: 8.0k/s → 6.4k/s (-20.0%); overhead ×15.00 → ×18.75 "
        "(+25.0%)",
        "  joserfc JWS HS256 sign: 40k/s → 60k/s (+50.0%); overhead ×3.00 → ×2.00 (-33.3%)",
    ]
    # The regression gate.
    assert main(["compare", str(a), str(b), "--fail-on-regression"]) == 4
    assert main(["compare", str(a), str(a), "--fail-on-regression"]) == 0


def test_a_run_compared_with_itself_shows_no_change(tmp_path: Path, capsys) -> None:
    a, _ = two_runs(tmp_path)
    assert main(["compare", a.name, a.name, "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for line in ("library versions: unchanged", "broke (passed in A, fail in B): 0",
                 "now failing (unsupported in A, fail in B): 0",
                 "fixed (failed in A, pass in B): 0",
                 "new findings (security, one per consumer and behaviour): 0",
                 "4 load-test cells in both runs, 0 changed beyond noise"):
        assert line in out


def test_without_a_load_test_the_compare_says_so(tmp_path: Path, capsys) -> None:
    a, _ = two_runs(tmp_path)
    c = make_run(tmp_path, "c", {"joserfc": "1.7.0"}, [row("jws.roundtrip.compact", "joserfc",
                                                           "joserfc")])
    assert main(["compare", str(a), str(c)]) == 0
    assert "no throughput comparison: run B has no load test" in capsys.readouterr().out


@pytest.mark.parametrize("which", ["missing", "corrupt"])
def test_a_missing_or_corrupt_run_is_refused(tmp_path: Path, capsys, which: str) -> None:
    a, b = two_runs(tmp_path)
    if which == "missing":
        b = tmp_path / "no-such-run"
    else:
        (b / "interop.jsonl").write_text("garbage\n{}\n")
    assert main(["compare", str(a), str(b)]) == 2
    err = capsys.readouterr().err
    assert ("no run at" in err) if which == "missing" else ("interop.jsonl:1" in err)


def test_many_changes_are_grouped_by_library_pair_and_cause(tmp_path: Path, capsys) -> None:
    suites = [f"JWS SUITE{i}" for i in range(25)]
    a = make_run(tmp_path, "a", {"joserfc": "1.7.0"},
                 [row("jws.roundtrip.compact", "joserfc", "jwcrypto", suite=s) for s in suites])
    b = make_run(tmp_path, "b", {"joserfc": "1.8.0"}, [
        row("jws.roundtrip.compact", "joserfc", "jwcrypto", suite=s, actual="rejected",
            passed=False, detail=f"bad tag at 0x{i:x} ({'len' if i < 20 else 'pad'})")
        for i, s in enumerate(suites)])
    assert main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert ("broke (passed in A, fail in B): 25\n"
            "  2 groups by library pair and cause:\n"
            "  joserfc → jwcrypto ×20: rejected: bad tag at # (len)\n"
            "      e.g. jws.roundtrip.compact  joserfc → jwcrypto  JWS SUITE0  default\n"
            "  joserfc → jwcrypto ×5: rejected: bad tag at # (pad)\n"
            "      e.g. jws.roundtrip.compact  joserfc → jwcrypto  JWS SUITE20  default\n"
            "fixed") in out


def test_a_slower_host_moves_rates_not_the_overhead_and_old_tables_get_a_wider_margin(
        tmp_path: Path, capsys) -> None:
    versions = {"joserfc": "1.7.0"}
    # B ran on a host 30% slower: the library and its floor both lost 30%.
    a = make_run(tmp_path, "a", versions, [], loadtest=[
        loadtest_row("joserfc", "JWS HS256", "sign", 40_000),
        loadtest_row("joserfc", "JWS ES256", "verify", 9_000)])
    b = make_run(tmp_path, "b", versions, [], loadtest=[
        loadtest_row("joserfc", "JWS HS256", "sign", 28_000, floor=84_000),
        loadtest_row("joserfc", "JWS ES256", "verify", 6_300, floor=84_000)])
    assert main(["compare", str(a), str(b)]) == 0
    assert "2 load-test cells in both runs, 0 changed beyond noise" in capsys.readouterr().out
    # Without a floor the rate is judged; a table without ranges gets 10% each side.
    old = make_run(tmp_path, "old", versions, [], loadtest=[
        {k: v for k, v in loadtest_row("joserfc", "JWS HS256", "sign", 40_000).items()
         if not k.endswith(("_q1", "_q3"))} | {"overhead_x": None}])
    new = make_run(tmp_path, "new", versions, [], loadtest=[
        loadtest_row("joserfc", "JWS HS256", "sign", 47_000) | {"overhead_x": None}])
    assert main(["compare", str(old), str(new)]) == 0
    assert "1 changed beyond noise" not in capsys.readouterr().out
    newer = make_run(tmp_path, "newer", versions, [], loadtest=[
        loadtest_row("joserfc", "JWS HS256", "sign", 50_000) | {"overhead_x": None}])
    assert main(["compare", str(old), str(newer)]) == 0
    out = capsys.readouterr().out
    assert "1 changed beyond noise" in out and "judged on the rate (no floor)" in out


def test_a_finding_seen_in_more_suites_is_not_a_new_finding(tmp_path: Path, capsys) -> None:
    def accepted(suite: str, case: str = "attacks.alg_none.lowercase_empty_signature") -> dict:
        return row(case, "forge", "joserfc", suite=suite, expected="reject",
                   actual="accepted", passed=False, config="default", attack_class="alg-none",
                   severity="forgery")
    libs = {"joserfc": "1.8.0"}
    a = make_run(tmp_path, "20261101T000000Z-aaaaaa", libs, [accepted("JWS ES256"),
                                                              row("attacks.alg_none.x", "forge",
                                                                  "joserfc", suite="JWS HS256",
                                                                  expected="reject",
                                                                  actual="rejected")])
    b = make_run(tmp_path, "20261128T000000Z-bbbbbb", libs, [
        accepted("JWS ES256"), accepted("JWS HS256"),
        accepted("JWS HS256", "attacks.alg_none.uppercase_empty_signature")])
    assert main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    # Two more cells, one more case of the same behaviour: the same finding.
    assert "new findings (security, one per consumer and behaviour): 0" in out
