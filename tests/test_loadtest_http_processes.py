"""`harness loadtest --http --processes N`: Locust's master and N forked workers load a cell
together, and the master's window is the workers' merged (counts added, histograms merged,
CPU summed); against a server of known behaviour the rate is still what its sleep implies.
Bad --processes exits 2 with a message."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.adapters import load_adapter
from harness.cli import main
from harness.loadtest.http_command import Cores, HttpLoadOptions, measure_library
from harness.loadtest.http_profiles import PROFILES_BY_NAME, mint
from tests.http_servers import BEHAVIOUR_ENV, environment

TEST_SERVER = "tests.http_servers"
SLEEP_S, USERS, PROCESSES = 0.01, 4, 2
PROFILES = ["none", "HS256"]


@pytest.fixture(scope="module")
def measured(keys, key_set_path, tmp_path_factory) -> tuple[list[tuple[Any, Any]], Any]:
    folder = tmp_path_factory.mktemp("http-processes")
    (folder / "locust").mkdir()
    batch = [(PROFILES_BY_NAME[name], mint(PROFILES_BY_NAME[name], keys, None, count=30),
              "forge") for name in PROFILES]
    options = HttpLoadOptions(server_module=TEST_SERVER, users=USERS, warmup_s=0.15,
                              processes=PROCESSES)
    # `none` sleeps per request; HS256 is joserfc's real validation.
    with environment({BEHAVIOUR_ENV: f"none=sleep:{SLEEP_S}",
                      "HARNESS_KEYS": str(key_set_path)}):
        outcomes = measure_library(load_adapter("joserfc"), batch, options, 0.6,
                                   Cores.split(), folder)
    windows = json.loads((folder / "locust" / "joserfc" / "windows.json").read_text())
    return outcomes, windows


def test_the_masters_window_is_the_sum_of_its_workers(measured) -> None:
    outcomes, windows = measured
    assert [profile.name for profile, _ in outcomes] == PROFILES
    assert windows["ready"] and windows["loaders"] == PROCESSES
    for (_, row), window in zip(outcomes, windows["windows"], strict=True):
        assert isinstance(row, dict), row
        parts = window["processes"]
        assert window["reported"] == len(parts) == PROCESSES
        assert len({part["pid"] for part in parts}) == PROCESSES
        assert window["requests"] == sum(part["requests"] for part in parts) == row["requests"]
        assert window["histogram"]["count"] == window["requests"]
        assert sum(part["histogram_count"] for part in parts) == window["requests"]
        assert all(part["requests"] > 0 for part in parts), parts
        # Locust's CPU is every process's, the master's included.
        assert window["locust_cpu_s"] == pytest.approx(
            sum(part["locust_cpu_s"] for part in parts) + window["master_cpu_s"])
        assert row["locust_processes"] == PROCESSES and row["verdict"] == "ok"
        assert "master + 2 workers" in row["pinning"]


def test_two_processes_still_give_the_rate_a_sleeping_server_implies(measured) -> None:
    outcomes, _ = measured
    sleeping = outcomes[0][1]
    # One blocking server worker: at most 1/sleep a second however many Locust processes
    # load it (a request counted twice, or by two processes, would exceed it).
    assert 0.5 / SLEEP_S <= sleeping["req_per_s"] <= 1.02 / SLEEP_S
    assert sleeping["saturated"] == "neither"


def _exit_code(argv: list[str]) -> int:
    """What the command exits with: main's return, or argparse's own exit."""
    try:
        return main(argv)
    except SystemExit as stop:
        return int(stop.code or 0)


@pytest.mark.parametrize(("value", "message"), [
    ("0", "--processes must be a whole number of Locust processes, at least 1 (got 0)"),
    ("-3", "at least 1 (got -3)"),
    ("2.5", "--processes/-p: invalid int value: '2.5'"),
    ("two", "--processes/-p: invalid int value: 'two'"),
])
def test_bad_processes_exit_2_with_a_message(value, message, tmp_path, capsys) -> None:
    assert _exit_code(["loadtest", "--http", f"--processes={value}", "--dry-run",
                       "--results", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_more_processes_than_users_exit_2(tmp_path, capsys) -> None:
    assert main(["loadtest", "--http", "--processes", "4", "--users", "2", "--results",
                 str(tmp_path)]) == 2
    assert "--users (2) must be at least --processes (4)" in capsys.readouterr().err
