"""The load test's parts: histograms, validation, the prepared operation, the floor, and a
Locust master with two workers on 127.0.0.1 merging their histograms."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.adapters import load_adapter
from harness.core.errors import Unsupported
from harness.core.keys import KeySet
from harness.core.suites import SUITES_BY_NAME
from harness.loadtest.cells import Cell, prepare, profile_suites
from harness.loadtest.histogram import Histogram
from harness.loadtest.measure import (
    LOCUSTFILE,
    Timing,
    cell_counts,
    cell_entry,
    free_port,
    locust_span,
    loop_problems,
    read_run,
)
from harness.loadtest.primitives import primitive
from harness.loadtest.schedule import Schedule
from harness.loadtest.validate import CellCounts, problems
from scenarios.payloads import PAYLOAD


def test_histogram_percentiles_within_a_bucket_and_merging_is_exact() -> None:
    first, second = Histogram(), Histogram()
    first.record_ns(range(1_000, 101_000, 100))        # 1 µs .. 101 µs, uniform
    second.record_ns([5_000_000] * 10)                  # ten 5 ms outliers
    first.merge(second)
    assert first.count == 1010
    # The 505th of 1010 values is 51.4 µs; buckets are 1 % wide.
    assert first.percentile_ns(50) == pytest.approx(51_400, rel=0.01)
    assert first.percentile_ns(99.9) == pytest.approx(5_000_000, rel=0.01)
    again = Histogram.from_json(json.loads(json.dumps(first.to_json())))
    assert again.counts == first.counts


def test_validation_names_each_problem() -> None:
    good = CellCounts(requests=10, operations=500, failures=0, histogram_count=500)
    assert problems(good) == []
    assert "no requests" in problems(CellCounts(0, 0, 0, 0))[0]
    assert "holds 499 operations but Locust counted 500" in problems(
        CellCounts(10, 500, 0, 499))[0]
    assert "2 of 10 batches failed: boom" in problems(CellCounts(10, 500, 2, 500,
                                                                 errors=["boom"]))[0]
    assert "only 1 of 2 workers" in problems(CellCounts(10, 500, 0, 500, expected_workers=2,
                                                        reporting_workers=1))[0]
    assert "went missing: w1" in problems(CellCounts(10, 500, 0, 500,
                                                     missing_workers=["w1"]))[0]


def test_prepared_operations_are_the_adapters_own(keys: KeySet) -> None:
    adapter = load_adapter("pyjwt")
    suite = SUITES_BY_NAME["JWS ES256"]
    cell = prepare(adapter, suite, "verify", keys)
    assert cell.call(cell.arg) == PAYLOAD == adapter.verify(suite, cell.token,
                                                            keys.public(suite.key),
                                                            mode="default")
    with pytest.raises(Unsupported):
        prepare(adapter, SUITES_BY_NAME["JWE dir + A256GCM"], "encrypt", keys)


FLOOR_SUITES = [s.name for s in profile_suites()] + [
    "JWE RSA1_5 + A128CBC-HS256", "JWE RSA-OAEP + A256CBC-HS512", "JWE ECDH-ES (P-384) + A192GCM",
    "JWE ECDH-ES+A128KW (X448) + A128GCM", "JWE PBES2-HS512+A256KW + A192CBC-HS384",
    "JWS ES512", "JWS EdDSA (Ed448)", "JWS HS512", "JWS PS384"]


@pytest.mark.parametrize("suite_name", FLOOR_SUITES)
def test_the_floor_does_the_suites_real_work(suite_name: str, keys: KeySet) -> None:
    suite = SUITES_BY_NAME[suite_name]
    adapter = load_adapter("joserfc")
    for operation in (("sign", "verify") if suite.family == "JWS" else ("encrypt", "decrypt")):
        token = prepare(adapter, suite, operation, keys).token
        floor = primitive(suite, operation, keys.private(suite.key), token, PAYLOAD)
        result = floor.run()
        if operation == "decrypt":
            assert result == PAYLOAD
        if operation == "encrypt":
            assert PAYLOAD not in repr(result).encode()
        assert floor.description


def test_a_master_and_two_workers_on_loopback_merge_their_histograms(tmp_path: Path,
                                                                     keys: KeySet) -> None:
    port = str(free_port())
    env = {**os.environ, "HARNESS_LOADTEST_ADAPTERS": "pyjwt",
           "HARNESS_LOADTEST_OUT": str(tmp_path)}
    base = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "PyjwtUser",
            "--tags", "HS256:sign"]
    master = subprocess.Popen(
        [*base, "--master", "--headless", "--expect-workers", "2", "-u", "2", "-r", "2",
         # Long enough for a worker whose user prepares slowly on a loaded machine to still run.
         "-t", "5s", "--master-bind-host", "127.0.0.1", "--master-bind-port", port,
         "--json-file", str(tmp_path / "locust"), "--only-summary"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    workers = [subprocess.Popen([*base, "--worker", "--master-host", "127.0.0.1",
                                 "--master-port", port], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    try:
        output, _ = master.communicate(timeout=60)
        for worker in workers:
            output += "\n--- worker ---\n" + worker.communicate(timeout=30)[0]
    finally:
        for process in (master, *workers):
            if process.poll() is None:
                process.kill()
    cell = Cell("pyjwt", SUITES_BY_NAME["JWS HS256"], "sign")
    entries, summary = read_run(tmp_path)
    entry = cell_entry(cell, entries)
    counts = cell_counts(cell, entry, summary)
    assert summary["runner"] == "master" and summary["expected_workers"] == 2
    assert counts.reporting_workers == 2, output
    assert problems(counts) == [], output
    assert counts.histogram_count == entry["total_content_length"] > 0
    assert locust_span(entry) > 0


def test_a_plain_locust_run_that_measured_nothing_exits_non_zero(tmp_path: Path) -> None:
    env = {**os.environ, "HARNESS_LOADTEST_ADAPTERS": "tests.fakes_loadtest:SlowToStart",
           "HARNESS_LOADTEST_OUT": str(tmp_path)}
    env.pop("HARNESS_SCHEDULE", None)
    done = subprocess.run([sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
                           "-u", "1", "-r", "1", "-t", "1s", "--only-summary", "SlowToStartUser"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    assert "REJECTED: Locust recorded no requests" in done.stderr


def test_the_schedule_gives_every_cell_its_own_slot_of_rounds() -> None:
    schedule = Schedule(cells=("HS256:sign", "HS256:verify"), locust_s=1.2, inprocess_s=0.6,
                        floor_s=0.0, gap_s=0.05, rounds=12)
    assert schedule.round_s == pytest.approx(0.15)
    assert schedule.part_seconds() == pytest.approx({"locust": 0.1, "inprocess": 0.05,
                                                     "floor": 0.0})
    # 12 rounds in 4 passes: every cell once per pass, 3 rounds a slot, 8 slots in all.
    assert schedule.slots == ("HS256:sign", "HS256:verify") * 4
    assert schedule.rounds_per_slot == 3
    assert schedule.slot_s == pytest.approx(0.5)
    assert schedule.slot_start(100.0, 1) == pytest.approx(100.5)
    assert schedule.total_s == pytest.approx(4.0)
    one_pass = Schedule(cells=schedule.cells, locust_s=1.2, inprocess_s=0.6, floor_s=0.0,
                        gap_s=0.05, rounds=12, passes=1)
    assert one_pass.slots == schedule.cells and one_pass.slot_s == pytest.approx(1.85)
    assert Schedule.from_env(schedule.to_env()) == schedule
    assert Schedule.from_env(None) is None and Schedule.from_env("") is None


def test_missing_rounds_parts_and_counts_that_disagree_are_named() -> None:
    timing = Timing(duration_s=1, inprocess_s=0.2, primitive_s=0.1, processes=2, batch_ms=5,
                    rounds=3)
    full = {"locust": [10, 0.1, 0.1], "inprocess": [5, 0.05, 0.05], "floor": [50, 0.01, 0.01]}
    states = [{"rounds": [full] * 3}, {"rounds": [full] * 3}]
    assert loop_problems(states, timing, 60) == []
    assert "counted 60 Locust operations but Locust counted 61" in \
        loop_problems(states, timing, 61)[0]
    short = [states[0], {"rounds": [full] * 2}]
    assert "only 2 of 3 rounds ran" in loop_problems(short, timing, 50)[0]
    no_floor = [{"rounds": [{k: v for k, v in full.items() if k != "floor"}] * 3}]
    assert "the floor part(s) did not run" in loop_problems(no_floor, timing, 30)[0]
    assert loop_problems([{**states[0], "error": "boom"}], timing, 30) == ["boom"]


def test_the_harness_side_never_imports_locust() -> None:
    # Importing Locust monkey-patches the process with gevent, which hangs the interop runner's
    # forked workers in the same process.
    done = subprocess.run([sys.executable, "-c", "import sys, harness.cli, "
                           "harness.loadtest.command, harness.loadtest.measure; "
                           "print(sorted({'locust', 'gevent'} & set(sys.modules)))"],
                          capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"
