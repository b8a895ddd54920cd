"""Faults, injected into real `harness` processes: stop signals at several points, SIGKILL, a
full disk, a damaged key cache, a torn last line, two runs at once. After each, no process of
the run remains, every row that finished is readable, and a new run works."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.core.results import INTEROP_JSONL, LATEST, Run, read_rows
from harness.core.shutdown import Stopped, raise_if_stopped, signals_held, stop_on_signals
from harness.report.model import build
from harness.report.rundata import load_run

HARNESS = [sys.executable, "-m", "harness.cli"]
# Long enough (tens of thousands of cells) to be stopped mid-way, with two worker processes.
LONG_INTEROP = ["interop", "--scenario", "jwe.roundtrip", "--jobs", "2", "--no-charts"]
TINY_INTEROP = ["interop", "--scenario", "jws.roundtrip", "--suite", "JWS HS256", "--library",
                "joserfc", "--jobs", "1", "--no-charts"]


def children(pid: int) -> set[int]:
    """Every live descendant of `pid` (zombies excluded), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    left = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            left.add(pid)
    return left


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the run to get there")
        time.sleep(0.05)


def start(args: list[str], results: Path, **kwargs) -> subprocess.Popen[str]:
    return subprocess.Popen([*HARNESS, *args, "--results", str(results)], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def run_folder(results: Path) -> Path:
    return (results / LATEST).resolve()


def rows_written(results: Path) -> int:
    path = results / LATEST / INTEROP_JSONL
    return path.read_text().count("\n") if path.exists() else 0


def assert_nothing_left(pids: set[int]) -> None:
    try:
        wait_for(lambda: not alive(pids), timeout=10)
    except AssertionError:
        left = {pid: Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")[:120]
                for pid in alive(pids)}
        raise AssertionError(f"processes left running: {left}") from None


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143),
                                              (signal.SIGHUP, 129)])
@pytest.mark.parametrize("point", ["first rows", "before the pool"])
def test_a_stop_signal_stops_interop_and_its_workers_and_keeps_the_rows(
        tmp_path: Path, signum: int, code: int, point: str) -> None:
    process = start(LONG_INTEROP, tmp_path)
    if point == "first rows":
        wait_for(lambda: rows_written(tmp_path) > 0 and len(children(process.pid)) >= 2)
    else:
        wait_for(lambda: (tmp_path / LATEST).exists())
    workers = children(process.pid)
    os.kill(process.pid, signum)
    _, err = process.communicate(timeout=180)
    assert process.returncode == code, err
    assert f"interrupted by {signal.Signals(signum).name}" in err
    assert_nothing_left(workers)
    folder = run_folder(tmp_path)
    meta = json.loads((folder / "run.json").read_text())
    assert meta["status"] == "interrupted" and meta["signal"] == signal.Signals(signum).name
    if (folder / INTEROP_JSONL).exists():
        rows = read_rows(folder / INTEROP_JSONL)
        assert rows.attrs["unreadable_lines"] == 0 and len(rows) < 28512
    again = start(TINY_INTEROP, tmp_path)
    assert again.wait(timeout=300) == 0, again.communicate()[1]


HUNG_MATRIX = """
import sys, time
from harness.core.keys import load_key_set
from harness.core.shutdown import stop_on_signals
from harness.core.suites import select_suites
from harness.interop.runner import World, execute, plan
from harness.interop.scenario import discover, select_cases
from tests.fakes import AcceptAll


class Hangs(AcceptAll):
    name = "hangs"

    def _verify(self, *args, **kwargs):
        print("hanging", flush=True)
        time.sleep(600)


cases = select_cases(discover(), ["jws.roundtrip"])
world = World({"hangs": Hangs()}, load_key_set(), {case.id: case for case in cases})
with stop_on_signals():
    execute(plan(cases, select_suites(["JWS HS*"]), ["default"]), world, 2, lambda rows: None)
"""


def test_a_stop_signal_does_not_wait_for_a_hung_library(tmp_path: Path) -> None:
    # Without killing its workers, stopping would wait for their chunks: ten minutes here.
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen([sys.executable, "-c", HUNG_MATRIX], cwd=root, text=True,
                               env={**os.environ, "PYTHONPATH": str(root)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "hanging"
    workers = children(process.pid)
    os.kill(process.pid, signal.SIGTERM)
    process.communicate(timeout=180)
    assert_nothing_left(workers)


def test_sigkill_leaves_no_worker_behind_and_the_report_says_the_run_is_gone(
        tmp_path: Path) -> None:
    process = start(LONG_INTEROP, tmp_path)
    wait_for(lambda: rows_written(tmp_path) > 0 and len(children(process.pid)) >= 2)
    workers = children(process.pid)
    process.kill()
    process.communicate(timeout=30)
    assert_nothing_left(workers)
    report = build(load_run(Run(run_folder(tmp_path))))
    assert any("its process" in note and "is gone" in note for note in report.notes)


def test_a_torn_last_line_is_skipped_counted_and_reported(tmp_path: Path) -> None:
    assert start(TINY_INTEROP, tmp_path).wait(timeout=120) == 0
    folder = run_folder(tmp_path)
    whole = read_rows(folder / INTEROP_JSONL)
    with (folder / INTEROP_JSONL).open("a") as handle:
        handle.write('{"scenario": "jws.roundtrip", "case": "jws.rou')
    done = subprocess.run([*HARNESS, "report", str(folder)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "1 unreadable line" in (folder / "report.md").read_text()
    assert json.loads((folder / "run.json").read_text())["unreadable_lines"] == 1
    assert len(read_rows(folder / INTEROP_JSONL)) == len(whole)


def _file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_full_disk_stops_the_run_naming_the_path_and_keeps_what_it_wrote(
        tmp_path: Path) -> None:
    # RLIMIT_FSIZE stands in for a full disk (mounting a small tmpfs needs privileges CI may
    # not have); Python ignores SIGXFSZ, so the write fails with EFBIG as with ENOSPC.
    process = start(LONG_INTEROP, tmp_path, preexec_fn=_file_size_limit(200_000))
    _, err = process.communicate(timeout=120)
    assert process.returncode == 2, err
    assert "cannot write" in err and INTEROP_JSONL in err
    assert not children(process.pid)
    rows = read_rows(run_folder(tmp_path) / INTEROP_JSONL)
    assert len(rows) > 0


def test_a_read_only_results_folder_is_a_clear_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders; the full-disk case covers the path")
    tmp_path.chmod(0o500)
    try:
        process = start(TINY_INTEROP, tmp_path / "results")
        _, err = process.communicate(timeout=120)
    finally:
        tmp_path.chmod(0o700)
    assert process.returncode == 2 and "cannot write" in err


def test_a_damaged_key_cache_stops_the_run_before_it_starts(tmp_path: Path) -> None:
    cache = tmp_path / "keys.json"
    cache.write_text('{"format": 1, "keys": {"RSA-2048": ')
    cache.chmod(0o600)
    process = start(TINY_INTEROP, tmp_path / "results",
                    env={**os.environ, "HARNESS_KEYS": str(cache)})
    _, err = process.communicate(timeout=120)
    assert process.returncode == 2
    assert "is damaged" in err and f"rm {cache}" in err
    assert not (tmp_path / "results" / LATEST).exists()


def test_two_runs_at_once_never_share_a_folder_and_latest_stays_whole(tmp_path: Path) -> None:
    first, second = start(TINY_INTEROP, tmp_path), start(TINY_INTEROP, tmp_path)
    assert first.wait(timeout=120) == 0 and second.wait(timeout=120) == 0
    folders = sorted(path for path in tmp_path.iterdir() if path.name != LATEST)
    assert len(folders) == 2
    for folder in folders:
        rows = read_rows(folder / INTEROP_JSONL)
        assert len(rows) > 0 and rows.attrs["unreadable_lines"] == 0
        assert json.loads((folder / "run.json").read_text())["status"] == "complete"
    assert run_folder(tmp_path) in folders


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143),
                                              (signal.SIGHUP, 129)])
def test_a_stop_signal_stops_a_loadtest_and_its_locust_run(tmp_path: Path, signum: int,
                                                           code: int) -> None:
    process = start(["loadtest", "--library", "pyjwt", "--suite", "HS256", "--duration", "5",
                     "--no-charts"], tmp_path)
    wait_for(lambda: len(children(process.pid)) >= 1 and any(
        (path / "loadtest" / "locust").exists() for path in tmp_path.iterdir()), timeout=60)
    time.sleep(1)  # Locust has started its users
    locust = children(process.pid)
    os.kill(process.pid, signum)
    _, err = process.communicate(timeout=180)
    assert process.returncode == code, err
    assert_nothing_left(locust)
    meta = json.loads((run_folder(tmp_path) / "run.json").read_text())
    assert meta["loadtest"]["status"] == "interrupted"
    assert meta["loadtest"]["signal"] == signal.Signals(signum).name


@pytest.mark.parametrize("processes", [1, 2])
def test_sigkill_of_the_harness_takes_its_locust_run_with_it(tmp_path: Path,
                                                             processes: int) -> None:
    process = start(["loadtest", "--library", "pyjwt", "--suite", "HS256", "--duration", "5",
                     "--processes", str(processes), "--no-charts"], tmp_path)
    # With --processes 2, Locust's master forks two workers of its own.
    wait_for(lambda: len(children(process.pid)) >= 1 + (processes > 1) * 2 and any(
        (path / "loadtest" / "locust").exists() for path in tmp_path.iterdir()), timeout=60)
    locust = children(process.pid)
    process.kill()
    process.communicate(timeout=30)
    assert_nothing_left(locust)


def test_a_stop_signal_whose_exception_was_swallowed_is_raised_again() -> None:
    # Python drops an exception raised inside an at-fork hook or a __del__; the signal is kept.
    with pytest.raises(Stopped) as stopped, stop_on_signals():
        with contextlib.suppress(Stopped):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
        raise_if_stopped()
    assert stopped.value.signum == signal.SIGTERM
    raise_if_stopped()  # outside, and for the next command, nothing is pending any more


def test_a_stop_signal_during_a_held_block_waits_for_its_end() -> None:
    """The pool's set-up holds stop signals: one that arrives inside is raised as `Stopped`
    when the block ends, never half-way through it, and none is lost."""
    reached_end = False
    with pytest.raises(Stopped) as stopped, stop_on_signals(), signals_held():
        os.kill(os.getpid(), signal.SIGHUP)
        time.sleep(0.05)
        reached_end = True
    assert reached_end and stopped.value.signum == signal.SIGHUP
