"""The interop charts are drawn in forked processes while the harness writes its other outputs."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pandas as pd
import pytest

from harness.interop import charts
from harness.interop.charts import interop_charts, start_interop_charts
from tests.runfolders import row


def _rows() -> pd.DataFrame:
    cells = []
    for scenario in ("jws.roundtrip", "jws.rotation", "attacks.alg_none"):
        for producer in ("a", "b"):
            for consumer in ("a", "b"):
                passed = not (producer == "b" and consumer == "a")
                cells.append(row(f"{scenario}.compact", producer, consumer, suite="JWS HS256",
                                 actual="accepted" if passed else "rejected", passed=passed))
    return pd.DataFrame.from_records(cells)


@pytest.fixture(autouse=True)
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pool even on a one-core runner, which would draw in-process."""
    monkeypatch.setattr(charts.os, "sched_getaffinity", lambda pid: {0, 1})


def test_charts_are_drawn_while_the_caller_goes_on(tmp_path: Path) -> None:
    pending = start_interop_charts(_rows(), ["a", "b"], tmp_path)
    assert pending._pool is not None  # returned before the drawing is done
    made = pending.wait()
    assert sorted(p.name for p in made) == sorted(
        ["support-grid.png", "heatmap-jws.roundtrip.png", "heatmap-jws.rotation.png",
         "heatmap-attacks.alg_none.png"])
    assert all(path.stat().st_size > 1000 for path in made)
    # The blocking form lists the grid last, as the summary prints them.
    assert interop_charts(_rows(), ["a", "b"], tmp_path / "again")[-1].name == "support-grid.png"


def test_a_failing_caller_leaves_no_chart_process(tmp_path: Path) -> None:
    pending = start_interop_charts(_rows(), ["a", "b"], tmp_path)
    assert pending._pool is not None
    with pytest.raises(RuntimeError):
        try:
            raise RuntimeError("the summary failed")
        finally:
            pending.cancel()
    assert not [child for child in multiprocessing.active_children()
                if child.name.startswith("ForkProcess")]
    # Cancelling twice, or waiting after a cancel, is harmless.
    pending.cancel()
    pending.wait()


def _count_rows(rows: pd.DataFrame, target: Path) -> Path:
    target.write_text(f"{len(rows)} rows, {os.getpid()}")
    return target


def _label(text: str, target: Path) -> Path:
    target.write_text(f"{text}, {os.getpid()}")
    return target


def _gate(gate: Path, target: Path) -> Path:
    """Hold a worker until the gate file exists (at most 20 s)."""
    deadline = time.monotonic() + 20
    while not gate.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("nobody opened the gate")
        time.sleep(0.01)
    return _label("gate", target)


def _open(gate: Path) -> Path:
    gate.write_text(str(os.getpid()))
    return gate


def test_the_caller_adds_its_own_jobs_and_draws_those_no_worker_has_begun(
        tmp_path: Path) -> None:
    """`draw` pickles its small arguments; `with_rows` hands the worker the rows it inherited.
    Their paths come back from `wait()`, in the order given, where the caller, rather than only
    waiting, draws the jobs no worker has begun. Both workers are held at a gate that only the
    last job opens, so the caller must have drawn that one, whatever the timing."""
    rows = _rows()
    gate = tmp_path / "gate"
    pending = start_interop_charts(rows, ["a", "b"], tmp_path, extra_jobs=8)
    pending.with_rows(_count_rows, tmp_path / "rows.txt")
    held = [tmp_path / f"held-{n}.txt" for n in range(2)]
    for target in held:
        pending.draw(_gate, gate, target)
    labels = [tmp_path / f"label-{n}.txt" for n in range(4)]
    for n, target in enumerate(labels):
        pending.draw(_label, f"label {n}", target)
    pending.draw(_open, gate)
    made = pending.wait()
    assert made[-8:] == [tmp_path / "rows.txt", *held, *labels, gate]
    assert int(gate.read_text()) == os.getpid()
    assert (tmp_path / "rows.txt").read_text().startswith(f"{len(rows)} rows, ")
    assert all(path.stat().st_size > 1000 for path in made if path.suffix == ".png")


def test_without_workers_the_added_jobs_run_in_the_caller(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts.os, "sched_getaffinity", lambda pid: {0})
    pending = start_interop_charts(_rows(), ["a", "b"], tmp_path)
    pending.with_rows(_count_rows, tmp_path / "rows.txt")
    assert int((tmp_path / "rows.txt").read_text().split(", ")[1]) == os.getpid()
    assert tmp_path / "rows.txt" in pending.wait()


def test_the_support_table_reads_each_level_from_the_libraries_own_round_trips() -> None:
    def own(library: str, mode: str, actual: str, passed: bool | None) -> dict:
        return row("jws.roundtrip.compact", library, library, suite="JWS HS256", mode=mode,
                   actual=actual, passed=passed)
    rows = pd.DataFrame.from_records([
        own("default", "default", "accepted", True), own("default", "enabled", "accepted", True),
        own("enabled", "default", "unsupported", None),
        own("enabled", "enabled", "accepted", True),
        own("none", "default", "unsupported", None), own("none", "enabled", "unsupported", None),
        own("broken", "default", "unsupported", None), own("broken", "enabled", "error", False),
        # Another pair, or another case, says nothing of a library's own support.
        row("jws.roundtrip.compact", "default", "none", suite="JWS HS256", actual="accepted",
            passed=True)])
    table = charts.support_table(rows, ["default", "enabled", "none", "broken", "absent"])
    assert table.loc["JWS HS256"].tolist() == ["by default", "once enabled", "unsupported",
                                               "fails", "unsupported"]


def test_a_run_with_no_heatmap_still_runs_the_callers_jobs_in_a_worker(tmp_path: Path) -> None:
    """A run of the vectors alone draws no heatmap and no grid: the workers fork anyway, with
    the rows to inherit, for the CSV and the caller's charts."""
    rows = pd.DataFrame.from_records([row("vectors.cookbook_jws.4_1", "vector", "a",
                                          suite="JWS RS256")])
    pending = start_interop_charts(rows, ["a"], tmp_path, extra_jobs=3)
    assert pending._pool is not None
    pending.with_rows(_count_rows, tmp_path / "rows.txt")
    assert tmp_path / "rows.txt" in pending.wait()
    assert (tmp_path / "rows.txt").read_text().startswith("1 rows, ")
