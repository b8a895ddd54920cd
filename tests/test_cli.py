"""The command line, end to end: a small real matrix, and bad input that writes nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from harness import adapters
from harness.cli import main
from harness.core.results import read_rows

SMALL = ["--suite", "JWS ES256,JWS EdDSA (Ed25519),JWE ECDH-ES+A256KW (X25519) + A256GCM,"
         "JWE RSA-OAEP-256 + A256GCM"]


def test_a_small_real_matrix_passes_end_to_end(tmp_path: Path, capsys) -> None:
    # The first three libraries, which agree on every cell of these suites, on the interop
    # scenarios and one attack every current release passes: the other forged cases find real
    # library defects, which this test of the harness must not depend on.
    chosen = ["--scenario", "jws,jwe.roundtrip,jwe.serialization,jwe.rotation,nested,"
              "attacks.alg_none"]
    code = main(["interop", "--results", str(tmp_path), "--jobs", "2",
                 "--library", "pyjwt,joserfc,jwcrypto", *SMALL, *chosen])
    assert code == 0
    run = (tmp_path / "latest").resolve()
    rows = pd.read_json(run / "interop.jsonl", lines=True)
    assert set(rows.consumer) == {"pyjwt", "joserfc", "jwcrypto"}
    assert set(rows.producer) == {"pyjwt", "joserfc", "jwcrypto", "forge"}
    assert set(rows["mode"]) == {"default", "enabled"}
    assert not (rows.actual == "error").any()
    # Every library that can consume what another produced returns the exact payload.
    # (Attack cases are judged apart: current releases do accept some hostile tokens.)
    judged = rows[rows.passed.notna() & rows.attack_class.isna()]
    assert len(judged) > 100 and judged.passed.all()
    # PyJWT has no JWE: declared, not failed.
    assert (rows[(rows.consumer == "pyjwt") & rows.suite.str.startswith("JWE")].actual
            == "unsupported").all()
    meta = json.loads((run / "run.json").read_text())
    assert meta["status"] == "complete" and set(meta["libraries"]) == {"pyjwt", "joserfc",
                                                                        "jwcrypto"}
    assert len(pd.read_csv(run / "interop.csv")) == len(rows)
    assert (run / "support-grid.png").stat().st_size > 0
    assert (run / "heatmap-nested.access_token.png").exists()
    support = pd.read_csv(run / "support.csv", index_col=0)
    assert support.loc["JWS ES256", "pyjwt"] == "by default"
    assert support.loc["JWE RSA-OAEP-256 + A256GCM", "pyjwt"] == "unsupported"
    out = capsys.readouterr().out
    accepts = pd.read_csv(run / "unexpected-accepts.csv")
    assert set(accepts.case) == set(rows[(rows.expected == "reject") & (rows.actual == "accepted")
                                         & ~rows.policy.astype(bool)].case)
    assert "Unexpected accepts" in out and (run / "attack-verdicts.png").stat().st_size > 0
    no_private = (run / "interop.jsonl").read_text() + (run / "run.json").read_text()
    assert '"d":' not in no_private and '"k":' not in no_private


@pytest.mark.parametrize(("argv", "message"), [
    (["--library", "nosuchlib"], "unknown library 'nosuchlib'"),
    (["--suite", "JWS XX512"], "no suite matches JWS XX512"),
    (["--scenario", "nosuch.scenario"], "unknown scenario 'nosuch.scenario'"),
    (["--mode", "sometimes"], "unknown mode 'sometimes'"),
])
def test_bad_arguments_exit_non_zero_and_write_no_run(argv: list[str], message: str,
                                                       tmp_path: Path, capsys) -> None:
    assert main(["interop", "--results", str(tmp_path), *argv]) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_library_that_is_not_installed(tmp_path: Path, capsys,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(adapters.REGISTRY, "ghostlib",
                        ("harness.adapters.ghostlib_adapter", "Ghost", "ghostlib"))
    assert main(["interop", "--results", str(tmp_path), "--library", "ghostlib"]) == 2
    err = capsys.readouterr().err
    assert "'ghostlib' is not installed" in err and "pip install 'ghostlib'" in err
    assert list(tmp_path.iterdir()) == []
    # Without naming it, the run goes on without it and says so.
    assert main(["interop", "--results", str(tmp_path), "--dry-run", *SMALL]) == 0
    assert "skipping ghostlib" in capsys.readouterr().err


def test_dry_run_lists_cases_and_writes_nothing(tmp_path: Path, capsys) -> None:
    assert main(["interop", "--results", str(tmp_path), "--dry-run", "--scenario",
                 "jws.roundtrip", *SMALL]) == 0
    out = capsys.readouterr()
    assert "jws.roundtrip.compact\tJWS ES256\tdefault\tdefault" in out.out
    assert "4 units" in out.err
    assert list(tmp_path.iterdir()) == []


def test_fail_on_findings_turns_failures_into_an_exit_code(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(adapters.REGISTRY, "reject-all", ("tests.fakes", "RejectAll", "-"))
    argv = ["interop", "--results", str(tmp_path), "--library", "reject-all", "--jobs", "1",
            "--scenario", "jws.roundtrip", "--suite", "JWS HS256", "--no-charts"]
    assert main(argv) == 0  # failures are findings
    run = (tmp_path / "latest").resolve()
    # Without the chart workers, the harness writes interop.csv itself.
    assert len(pd.read_csv(run / "interop.csv")) == len(read_rows(run / "interop.jsonl")) > 0
    assert main([*argv, "--fail-on-findings"]) == 4


def test_a_corrupt_results_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "interop.jsonl"
    path.write_text('{"actual": "accepted"}\nnot json\n{"actual": "rejected"}\n')
    with pytest.raises(Exception, match=r"interop.jsonl:2 is not a JSON row"):
        read_rows(path)
    # A last line cut short by a crash is dropped; the rows before it are kept.
    path.write_text('{"actual": "accepted"}\n{"actual": "rej')
    assert len(read_rows(path)) == 1


def test_a_stop_while_the_outputs_are_written_keeps_the_whole_csv(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """interop.csv is written by a chart worker after the run; a stop before it is done kills
    the workers, and the CSV is then written in full by the harness itself, never torn."""
    import multiprocessing

    from harness.interop import charts, outputs

    def stopped(*args: object, **kwargs: object) -> list[str]:
        raise KeyboardInterrupt

    monkeypatch.setattr(charts.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(outputs, "write_attack_outputs", stopped)
    assert main(["interop", "--results", str(tmp_path), "--jobs", "1", "--library", "pyjwt",
                 "--suite", "JWS HS256", "--scenario", "jws.roundtrip,attacks.alg_none"]) == 130
    run = (tmp_path / "latest").resolve()
    rows = read_rows(run / "interop.jsonl")
    assert len(pd.read_csv(run / "interop.csv")) == len(rows) > 0
    assert not list(run.glob("*.part"))
    assert not [child for child in multiprocessing.active_children()
                if child.name.startswith("ForkProcess")]


def test_a_stop_before_any_output_still_leaves_the_csv(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A run whose cells all ran is `complete`: stopped before the chart workers even started,
    it still gets its interop.csv."""
    from harness.interop import outputs

    def stopped(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(outputs, "support_table", stopped)
    assert main(["interop", "--results", str(tmp_path), "--jobs", "1", "--library", "pyjwt",
                 "--suite", "JWS HS256", "--scenario", "jws.roundtrip"]) == 130
    run = (tmp_path / "latest").resolve()
    assert len(pd.read_csv(run / "interop.csv")) == len(read_rows(run / "interop.jsonl")) > 0


@pytest.mark.parametrize("jobs", ["0", "-1", "two"])
def test_jobs_must_be_a_positive_count(jobs: str, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["interop", "--results", str(tmp_path), "--jobs", jobs])
    assert stopped.value.code == 2 and "1 or more" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_the_worker_count_is_printed_and_kept_in_run_json(tmp_path: Path, capsys) -> None:
    cores = len(os.sched_getaffinity(0))
    argv = ["interop", "--results", str(tmp_path), "--library", "pyjwt", "--scenario",
            "jws.roundtrip.compact", "--suite", "JWS HS256", "--no-charts"]
    assert main(argv) == 0
    assert f"on {cores} process{'es' if cores > 1 else ''} " in capsys.readouterr().err
    assert main([*argv, "--jobs", "1"]) == 0
    assert "on 1 process " in capsys.readouterr().err
    jobs = sorted(json.loads((run / "run.json").read_text())["jobs"]
                  for run in tmp_path.glob("2*"))
    assert jobs == sorted([cores, 1])


def test_the_outputs_fork_with_one_thread_after_a_serial_run_with_a_jwks_server(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With --jobs 1 the cells run in this process; PyJWT's resolver cells start its JWKS
    server thread. The key-generation sheet's child is forked after the cells: by then the
    process runs one thread again (Background's precondition)."""
    import threading

    from harness.interop import isolation

    threads_at_fork: list[int] = []
    before = threading.active_count()  # pytest's own, if any
    start = isolation.Background.__init__

    def counting(self, function):  # type: ignore[no-untyped-def]
        threads_at_fork.append(threading.active_count())
        start(self, function)
    monkeypatch.setattr(isolation.Background, "__init__", counting)
    assert main(["interop", "--results", str(tmp_path), "--jobs", "1", "--library", "pyjwt",
                 "--suite", "JWS RS256", "--scenario",
                 "attacks.embedded_key.jwk_header_with_attacker_key,keygen", "--no-charts"]) == 0
    rows = read_rows(next(tmp_path.glob("2*")) / "interop.jsonl")
    assert (rows.entry_point == "resolver").any()
    assert threads_at_fork == [before]
