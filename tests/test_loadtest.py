"""`harness loadtest` end to end on a tiny profile, and the rejections it must make loudly.

No timing is asserted: only that numbers exist, agree with each other and land in the files.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from harness.cli import main
from harness.core.results import Run
from harness.loadtest.output import TABLE_COLUMNS

TINY = ["--duration", "1", "--inprocess", "0.2", "--primitive", "0.1"]


def _loadtest(tmp_path: Path, *argv: str) -> int:
    return main(["loadtest", "--results", str(tmp_path), *TINY, *argv])


def test_a_tiny_profile_writes_the_table_and_locust_output(tmp_path: Path, capsys) -> None:
    code = _loadtest(tmp_path, "--library", "pyjwt", "--suite", "JWS HS256,JWE dir + A256GCM")
    err = capsys.readouterr().err
    assert code == 0, err
    run = (tmp_path / "latest").resolve()
    folder = run / "loadtest"
    table = pd.read_csv(folder / "table.csv")
    assert tuple(table.columns) == TABLE_COLUMNS
    assert list(zip(table.library, table.suite, table.operation, strict=True)) == [
        ("pyjwt", "JWS HS256", "sign"), ("pyjwt", "JWS HS256", "verify")]
    assert (table.ops_per_s > 0).all() and (table.inprocess_ops_per_s > 0).all()
    assert (table.p50_us <= table.p90_us).all() and (table.p99_us <= table.p999_us).all()
    assert (table.failures == 0).all() and (table.processes == 1).all()
    assert set(table.primitive) == {"HMAC-SHA256", "HMAC-SHA256 verify"}
    # PyJWT has no JWE: its cells are skipped and listed, not failed.
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["status"] == "complete" and not meta["rejected"]
    assert {s["operation"] for s in meta["skipped"]} == {"encrypt", "decrypt"}
    assert "skip pyjwt JWE dir + A256GCM encrypt" in err
    # Locust's own numbers and the harness histograms agree on every operation.
    histograms = json.loads((folder / "histograms.json").read_text())
    locust = {e["name"]: e for e in json.loads((folder / "locust.json").read_text())}
    for row in table.itertuples():
        tag = f"HS256:{row.operation}"
        assert histograms[f"pyjwt|{tag}"]["histogram"]["count"] == row.operations
        assert locust[tag]["total_content_length"] == row.operations
        assert locust[tag]["num_requests"] == row.requests > 0
    stats = pd.read_csv(folder / "locust_stats.csv")
    assert set(stats["task"]) == {"HS256:sign", "HS256:verify"}
    # A cell measured again (a noisy window) has a row per run; the table keeps the last.
    assert stats.drop_duplicates("task", keep="last")["operations"].sum() \
        == table["operations"].sum()
    # One Locust run measured both cells, one after the other.
    assert (folder / "locust" / "pyjwt" / "locust_stats.csv").exists()
    assert [c["tag"] for c in meta["cells"]] == ["HS256:sign", "HS256:verify"]
    assert all(0 < c["cpu"]["locust_cpu_share"] <= 1.05 for c in meta["cells"])
    for chart in ("throughput.png", "latency.png", "overhead.png"):
        assert (folder / chart).stat().st_size > 0
    assert json.loads((run / "run.json").read_text())["loadtest"]["status"] == "complete"
    private = "".join(p.read_text(errors="replace") for p in folder.rglob("*.json"))
    assert '"k":' not in private and '"d":' not in private


def _run_with(tmp_path: Path, libraries: dict[str, str]) -> Run:
    return Run.create(tmp_path, {"libraries": libraries, "kind": "interop"})


def test_added_to_the_newest_run_only_when_versions_match(tmp_path: Path, capsys) -> None:
    from importlib.metadata import version
    matching = _run_with(tmp_path, {"pyjwt": version("PyJWT")})
    assert _loadtest(tmp_path, "--library", "pyjwt", "--suite", "JWS HS256",
                     "--operation", "sign", "--no-charts") == 0
    assert (matching.path / "loadtest" / "table.csv").exists()
    # The same run already holds a load test, so the next one starts a new run.
    assert _loadtest(tmp_path, "--library", "pyjwt", "--suite", "JWS HS256",
                     "--operation", "sign", "--no-charts") == 0
    newest = (tmp_path / "latest").resolve()
    assert newest != matching.path and (newest / "loadtest" / "table.csv").exists()
    stale = _run_with(tmp_path, {"pyjwt": "0.0.1"})
    assert _loadtest(tmp_path, "--library", "pyjwt", "--suite", "JWS HS256",
                     "--operation", "sign", "--no-charts") == 0
    assert not (stale.path / "loadtest").exists()
    assert "added to the newest run" in capsys.readouterr().err


def test_failing_operations_reject_their_cell_and_spare_the_next(tmp_path: Path, capsys) -> None:
    code = _loadtest(tmp_path, "--library", "tests.fakes_loadtest:FailsUnderLoad",
                     "--suite", "JWS HS256", "--no-charts")
    err = capsys.readouterr().err
    assert code == 3
    assert "fails-under-load JWS HS256 verify: REJECTED" in err
    assert "batches failed" in err and "refused after 5000 calls" in err
    # The sign cell ran in the same Locust run and quotes no error of its neighbour's.
    assert "fails-under-load JWS HS256 sign: REJECTED" not in err
    folder = (tmp_path / "latest").resolve() / "loadtest"
    assert pd.read_csv(folder / "table.csv").operation.tolist() == ["sign"]
    rejected = json.loads((folder / "meta.json").read_text())["rejected"]
    assert [(r["library"], r["operation"]) for r in rejected] == [("fails-under-load", "verify")]


def test_a_cell_that_recorded_nothing_is_rejected(tmp_path: Path, capsys) -> None:
    code = _loadtest(tmp_path, "--library", "tests.fakes_loadtest:CannotStartUnderLoad",
                     "--suite", "JWS HS256", "--operation", "verify", "--no-charts")
    err = capsys.readouterr().err
    assert code == 3
    assert "preparing the cell failed" in err and "no token under Locust" in err
    assert "Locust recorded no requests" in err


def test_a_library_that_kills_its_run_loses_only_the_cell_that_kills_it(
        tmp_path: Path, capsys) -> None:
    code = _loadtest(tmp_path, "--library", "tests.fakes_loadtest:KillsUnderLoad,pyjwt",
                     "--suite", "JWS HS256", "--no-charts")
    err = capsys.readouterr().err
    assert code == 3 and "measuring its cells one by one" in err
    assert "kills-under-load JWS HS256 verify: REJECTED: Locust exited" in err
    folder = (tmp_path / "latest").resolve() / "loadtest"
    table = pd.read_csv(folder / "table.csv")
    assert list(zip(table.library, table.operation, strict=True)) == [
        ("kills-under-load", "sign"), ("pyjwt", "sign"), ("pyjwt", "verify")]
    rejected = json.loads((folder / "meta.json").read_text())["rejected"]
    assert [(r["library"], r["operation"]) for r in rejected] == [("kills-under-load", "verify")]


def test_a_noisy_cell_is_measured_once_more_and_both_efficiencies_are_kept(
        tmp_path: Path, capsys) -> None:
    code = _loadtest(tmp_path, "--library", "tests.fakes_loadtest:SlowInLocustBatches",
                     "--suite", "JWS HS256", "--operation", "sign", "--no-charts",
                     "--remeasure-noisy")
    err = capsys.readouterr().err
    assert code == 0, err
    assert "1 cell(s) with an efficiency outside 0.95-1.05" in err
    folder = (tmp_path / "latest").resolve() / "loadtest"
    table = pd.read_csv(folder / "table.csv")
    [remeasured] = json.loads((folder / "meta.json").read_text())["remeasured"]
    assert remeasured["first_efficiency"] < 0.95 and remeasured["efficiency"] < 0.95
    # The second measurement is the one kept, whatever it says.
    assert table.efficiency.tolist() == [remeasured["efficiency"]]
    stats = pd.read_csv(folder / "locust_stats.csv")
    assert stats.run.tolist() == ["slow-in-batches", "slow-in-batches-again"]


def test_a_worker_that_dies_fails_its_run_and_only_its_cell_is_lost(tmp_path: Path,
                                                                     capsys) -> None:
    code = _loadtest(tmp_path, "--library", "tests.fakes_loadtest:KillsUnderLoad",
                     "--suite", "JWS HS256", "--processes", "2", "--no-charts")
    err = capsys.readouterr().err
    assert code == 3 and "measuring its cells one by one" in err
    assert "verify: REJECTED: the schedule did not complete" in err
    assert "worker(s) went missing" in err
    table = pd.read_csv((tmp_path / "latest").resolve() / "loadtest" / "table.csv")
    assert table.operation.tolist() == ["sign"] and (table.processes == 2).all()


def test_workers_keep_their_heartbeats_through_long_plain_loops(tmp_path: Path, capsys) -> None:
    # 4.5 s of plain loop on each side of the Locust window: longer than the master waits for
    # a worker's heartbeat, so the loops must let the workers' timers run.
    code = main(["loadtest", "--results", str(tmp_path), "--library", "pyjwt", "--suite",
                 "JWS HS256", "--operation", "sign", "--processes", "2", "--duration", "0.5",
                 "--inprocess", "9", "--primitive", "0.1", "--no-charts"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "went missing" not in err and "one by one" not in err


def test_two_processes_load_each_cell_together(tmp_path: Path, monkeypatch, capsys) -> None:
    from harness.loadtest import measure
    monkeypatch.setattr(measure, "PROGRESS_EVERY_S", 0.3)
    code = _loadtest(tmp_path, "--library", "pyjwt", "--suite", "JWS HS256", "--processes", "2",
                     "--no-charts")
    err = capsys.readouterr().err
    assert code == 0, err
    # A long run says how far it is while Locust measures.
    # Each cell's rounds come in four passes: eight slots for two cells.
    assert re.search(r"pyjwt: [1-7]/8 slots \(2 cells\) measured", err), err
    folder = (tmp_path / "latest").resolve() / "loadtest"
    table = pd.read_csv(folder / "table.csv")
    assert list(table.operation) == ["sign", "verify"] and (table.processes == 2).all()
    histograms = json.loads((folder / "histograms.json").read_text())
    for tag in ("HS256:sign", "HS256:verify"):
        processes = histograms[f"pyjwt|{tag}"]["processes"]
        assert len(processes) == 2
        # A loaded machine may drop a last round that would start after the slot's end.
        assert all(p["operations"] > 0 and len(p["rounds"]) >= 10
                   and all(set(r) == {"locust", "inprocess", "floor"} for r in p["rounds"])
                   for p in processes.values())
        # Each process's rounds count exactly the Locust operations it timed.
        assert all(sum(r["locust"][0] for r in p["rounds"]) == p["operations"]
                   for p in processes.values())


@pytest.mark.parametrize(("argv", "message"), [
    (["--library", "nosuchlib"], "unknown library 'nosuchlib'"),
    (["--suite", "JWS XX512"], "no suite matches JWS XX512"),
    (["--operation", "sing"], "unknown operation 'sing'"),
    (["--library", "pyjwt", "--suite", "JWE*"], "no cell any selected library supports"),
    (["--duration", "0.2"], "--duration must be at least 0.5 seconds"),
    (["--inprocess", "0"], "--inprocess and --batch-ms must be positive"),
    (["--duration", "nan"], "must be numbers"),
])
def test_bad_arguments_exit_non_zero_and_write_nothing(argv: list[str], message: str,
                                                       tmp_path: Path, capsys) -> None:
    assert main(["loadtest", "--results", str(tmp_path), *argv]) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_dry_run_lists_the_default_profile(tmp_path: Path, capsys) -> None:
    assert main(["loadtest", "--results", str(tmp_path), "--dry-run",
                 "--library", "pyjwt,joserfc,jwcrypto"]) == 0
    out = capsys.readouterr()
    assert "pyjwt\tJWS EdDSA (Ed25519)\tsign\tEdDSA(Ed25519):sign" in out.out
    assert "joserfc\tJWE PBES2-HS256+A128KW + A128GCM\tdecrypt" in out.out
    assert "58 cells, 14 skipped; about " in out.err
    assert list(tmp_path.iterdir()) == []


def test_a_second_measurement_without_numbers_leaves_the_first(tmp_path: Path, monkeypatch,
                                                               capsys) -> None:
    from harness.core.suites import SUITES_BY_NAME
    from harness.loadtest import command
    from harness.loadtest.cells import Cell
    from harness.loadtest.measure import CellRejected
    from harness.loadtest.output import LoadtestFolder

    cell = Cell("pyjwt", SUITES_BY_NAME["JWS HS256"], "sign")
    first = {"library": "pyjwt", "suite": "JWS HS256", "operation": "sign", "efficiency": 0.8}
    folder = LoadtestFolder(Run.create(tmp_path, {"libraries": {}}))
    folder.add_row(dict(first))
    meta: dict = {"cells": [], "remeasured": []}
    monkeypatch.setattr(command, "measured", lambda *args, **kwargs: [
        (cell, CellRejected(cell, ["Locust did not finish in time"]))])
    command.remeasure_noisy("pyjwt", [(cell, first)], folder, None, meta)  # type: ignore[arg-type]
    assert folder.rows == [first]
    assert meta["remeasured"] == [{"library": "pyjwt", "suite": "JWS HS256", "operation": "sign",
                                   "first_efficiency": 0.8, "efficiency": None,
                                   "second_rejected": ["Locust did not finish in time"]}]
    assert "the first measurement stays" in capsys.readouterr().err
