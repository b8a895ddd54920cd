"""The HTTP load test's master/worker form, as the README documents it for several machines,
run for real on 127.0.0.1: a resource server started on its own (`--listen`, `--write-plan`),
a Locust master, and two Locust workers started as separate processes. The master's window is
the workers' merged, and its numbers are sane."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.loadtest.http_profiles import PLAN_ENV
from harness.loadtest.measure import free_port
from harness.loadtest.resource_server import arguments

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = ROOT / "harness" / "loadtest" / "http_locustfile.py"
LOCUST = str(Path(sys.executable).with_name("locust"))
WORKERS = 2


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait()


def test_a_master_and_two_workers_merge_their_windows(tmp_path, key_set_path) -> None:
    plan, out = tmp_path / "plan.json", tmp_path / "out.json"
    env = {**os.environ, "HARNESS_KEYS": str(key_set_path)}
    server = subprocess.Popen(
        [sys.executable, "-m", "harness.loadtest.resource_server", "--library", "joserfc",
         "--profile", "HS256", "--listen", "127.0.0.1:0", "--write-plan", str(plan),
         "--tokens-count", "40", "--window", "0.6", "--warmup", "0.2"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    processes = [server]
    try:
        deadline = time.monotonic() + 10
        while not plan.exists() and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert plan.exists(), "the server wrote no plan"
        port = json.loads(plan.read_text())["windows"][0]["port"]
        master_port = str(free_port())
        locust_env = {**env, PLAN_ENV: str(plan), "HARNESS_HTTP_OUT": str(out)}
        common = ["-f", str(LOCUSTFILE), "--loglevel", "WARNING"]
        processes.append(subprocess.Popen(
            [LOCUST, *common, "--master", "--master-bind-host", "127.0.0.1",
             "--master-bind-port", master_port, "--expect-workers", str(WORKERS),
             "--headless", "-u", "4", "-r", "4", "-t", "40s", "--only-summary",
             "--host", f"http://127.0.0.1:{port}", "ResourceUser"],
            cwd=ROOT, env=locust_env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        for _ in range(WORKERS):
            processes.append(subprocess.Popen(
                [LOCUST, *common, "--worker", "--master-host", "127.0.0.1", "--master-port",
                 master_port, "ResourceUser"],
                cwd=ROOT, env=locust_env, stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT))
        # A bound for a machine under load, not the expected time (about 8 s here).
        processes[1].wait(timeout=40)
    finally:
        for process in reversed(processes):
            _stop(process)
    result = json.loads(out.read_text())
    assert result["ready"] and len(result["health"]) == WORKERS
    (window,) = result["windows"]
    parts = window["processes"]
    assert window["reported"] == len(parts) == WORKERS
    assert window["requests"] == sum(part["requests"] for part in parts) > 0
    assert window["histogram"]["count"] == window["requests"]
    assert [part["histogram_count"] for part in parts] == [part["requests"] for part in parts]
    # Sane: a real server answered every token right, within the window, and the master read
    # its CPU (same machine) and summed every Locust process's.
    assert window["wrong"] == {}
    assert 0.5 <= window["window_s"] <= 0.8
    assert window["server_alive"] and 0 < window["server_cpu_s"] <= 0.8
    assert window["locust_cpu_s"] >= sum(part["locust_cpu_s"] for part in parts) > 0


@pytest.mark.parametrize(("argv", "message"), [
    (["--listen", "127.0.0.1"], "--listen takes HOST:PORT, not '127.0.0.1'"),
    (["--listen", "127.0.0.1:0", "--fd", "3"], "give one --fd or one --listen"),
    (["--fd", "3", "--write-plan", "plan.json"], "--write-plan goes with --listen"),
    (["--listen", ":0", "--write-plan", "p.json", "--window", "0.1"], "--window of at least"),
])
def test_a_server_started_on_its_own_refuses_bad_arguments(argv, message, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        arguments(["--library", "joserfc", "--profile", "HS256", *argv])
    assert stop.value.code == 2
    assert message in capsys.readouterr().err


def test_an_unknown_profile_is_named(capsys) -> None:
    with pytest.raises(SystemExit):
        arguments(["--library", "joserfc", "--profile", "HS257", "--listen", ":0"])
    assert "unknown profile(s) HS257" in capsys.readouterr().err
