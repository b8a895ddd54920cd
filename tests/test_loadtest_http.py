"""`harness loadtest --http` on real servers on 127.0.0.1: the measurement logic against a
server of known behaviour (timings are compared with what the server's sleep implies, within
generous bounds, never with a speed), wrong statuses fail a cell, and a server that dies
rejects its cell while the run goes on."""

from __future__ import annotations

from typing import Any

import pytest

from harness.adapters import load_adapter
from harness.loadtest.http_command import (
    CellRejected,
    Cores,
    HttpLoadOptions,
    measure_library,
)
from harness.loadtest.http_profiles import PROFILES_BY_NAME, mint
from harness.loadtest.http_ratios import cost_ratios
from tests.http_servers import BEHAVIOUR_ENV, environment

TEST_SERVER = "tests.http_servers"
SLEEP_S, USERS = 0.01, 4
# One library run over four profiles, each served its own way: a sleeping server, one that
# accepts everything, one that dies 0.1 s into its window (0.25 s after its first request, so
# a starved machine still sees it die before the close), and joserfc's real validation
# (measured by a second run, since the first ends with the dead server).
BEHAVIOURS = f"none=sleep:{SLEEP_S};HS256=accept-all;RS256=dies:0.25"
PROFILES = ["none", "HS256", "RS256", "ES256"]


@pytest.fixture(scope="module")
def outcomes(keys, key_set_path, tmp_path_factory) -> list[tuple[Any, Any]]:
    folder = tmp_path_factory.mktemp("http")
    (folder / "locust").mkdir()
    batch = [(PROFILES_BY_NAME[name], mint(PROFILES_BY_NAME[name], keys, None, count=30),
              "forge") for name in PROFILES]
    options = HttpLoadOptions(server_module=TEST_SERVER, users=USERS, warmup_s=0.15)
    with environment({BEHAVIOUR_ENV: BEHAVIOURS, "HARNESS_KEYS": str(key_set_path)}):
        measured = measure_library(load_adapter("joserfc"), batch, options, 0.5,
                                   Cores.split(), folder)
    assert [profile.name for profile, _ in measured] == PROFILES
    assert (folder / "locust" / "joserfc-again-2" / "server.log").exists()
    return measured


def _outcome(outcomes: list[tuple[Any, Any]], name: str) -> Any:
    return next(outcome for profile, outcome in outcomes if profile.name == name)


def test_a_server_sleeping_per_request_gives_the_rate_and_latency_its_sleep_implies(
        outcomes) -> None:
    sleeping = _outcome(outcomes, "none")
    assert isinstance(sleeping, dict), sleeping
    # One blocking worker: at most 1/sleep requests a second (counting a request twice, or
    # outside the window, would exceed it), and at least half of that on a busy machine.
    assert 0.5 / SLEEP_S <= sleeping["req_per_s"] <= 1.02 / SLEEP_S
    # Closed loop (Little's law): each of the users waits for the others' sleeps.
    assert 0.7 * USERS * SLEEP_S <= sleeping["p50_us"] / 1e6 <= 3 * USERS * SLEEP_S
    # Sleeping costs no CPU: far less than the sleep per request, so neither side saturated.
    assert sleeping["server_cpu_us_per_req"] < SLEEP_S * 1e6 / 2
    assert sleeping["saturated"] == "neither" and sleeping["verdict"] == "ok"


def test_a_server_that_accepts_everything_fails_the_cell_that_sends_refused_tokens(
        outcomes) -> None:
    # The baseline sent no token to refuse (it passed above); a signed profile does.
    accepting = _outcome(outcomes, "HS256")
    assert accepting["verdict"].startswith("failed: ")
    assert "refused_token_answered_200" in accepting["verdict"]
    assert accepting["wrong_statuses"] > 0


def test_a_server_that_dies_mid_window_rejects_that_cell_and_the_run_goes_on(outcomes) -> None:
    rejected = _outcome(outcomes, "RS256")
    assert isinstance(rejected, CellRejected), rejected
    assert "exited with code 7 during the window" in str(rejected)
    # The next cell ran on a new server with joserfc's own validation: every status right.
    real = _outcome(outcomes, "ES256")
    assert isinstance(real, dict), real
    assert real["verdict"] == "ok" and real["requests"] > 0


def test_cost_ratios_divide_a_jwe_profile_by_its_inner_jws_and_by_no_check() -> None:
    import pandas as pd
    table = pd.DataFrame([
        {"library": "x", "profile": "none", "server_cpu_us_per_req": 100.0},
        {"library": "x", "profile": "RS256", "server_cpu_us_per_req": 400.0},
        {"library": "x", "profile": "RSA-OAEP-256+A256GCM", "server_cpu_us_per_req": 1200.0}])
    [ratio] = cost_ratios(table).to_dict("records")
    assert ratio == pytest.approx({"library": "x", "profile": "RSA-OAEP-256+A256GCM",
                                   "inner": "RS256", "jwe_over_jws": 3.0,
                                   "jwe_over_no_check": 12.0, "jws_over_no_check": 4.0})


def test_compare_calls_a_cell_that_now_fails_a_regression(tmp_path) -> None:
    import pandas as pd

    from harness.report.http_load import compare_lines
    row = {"library": "x", "profile": "HS256", "req_per_s": 100.0, "p50_us": 1.0,
           "p99_us": 2.0, "server_cpu_us_per_req": 100.0, "implied_one_core_req_per_s": 1e4,
           "saturated": "server", "verdict": "ok"}
    for run, changes in (("a", {}), ("b", {"verdict": "failed: 3 refused_token_answered_200",
                                           "server_cpu_us_per_req": 150.0})):
        (tmp_path / run / "loadtest-http").mkdir(parents=True)
        pd.DataFrame([{**row, **changes}]).to_csv(tmp_path / run / "loadtest-http" /
                                                   "table.csv", index=False)
    lines, regressed = compare_lines(tmp_path / "a", tmp_path / "b")
    assert regressed
    assert any("verdict ok → failed" in line for line in lines)
    assert any("100 → 150 µs/req (+50%)" in line for line in lines)
    assert compare_lines(tmp_path / "a", tmp_path / "a")[1] is False
