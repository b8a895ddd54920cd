"""The peer adapter against a tiny fake peer (tests/fake_peer.py): the protocol, declared
capabilities, refusals, and a child that crashes or hangs costing one cell and restarting."""

from __future__ import annotations

import base64
import json
import multiprocessing
import os
import sys
from pathlib import Path

import pandas as pd
import pytest

from harness.adapters.peer import PeerAdapter, PeerSpec, lending
from harness.cli import main
from harness.core.errors import PeerFault, Rejected, Unsupported
from harness.core.suites import SUITES_BY_NAME
from harness.interop.isolation import run_isolated
from harness.interop.runner import check_declares_unsupported

FAKE = str(Path(__file__).with_name("fake_peer.py"))
HS256, A128GCM = SUITES_BY_NAME["JWS HS256"], SUITES_BY_NAME["JWE dir + A128GCM"]
KEY = {"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}


def fake(mode: str, *extra: str, timeout_s: float = 5.0) -> PeerAdapter:
    return PeerAdapter(PeerSpec(f"fake-{mode}", (sys.executable, FAKE, mode, *extra), "python",
                                timeout_s=timeout_s))


def test_operations_travel_as_json_lines_and_capabilities_are_declared() -> None:
    peer = fake("accept")
    try:
        token = peer.sign(HS256, b"\x00payload\xff", KEY, mode="default")
        assert peer.verify(HS256, token, KEY, mode="enabled") == b"\x00payload\xff"
        assert peer.supports(HS256) and not peer.supports(A128GCM)
        assert peer.version == "0.0.1" and peer.describe()["language"] == "python"
        sent = peer.process._next_id
        # Ruled out by the declaration: Unsupported without a round trip.
        with pytest.raises(Unsupported, match="does not implement JWE dir"):
            peer.encrypt(A128GCM, b"x", KEY, mode="enabled")
        with pytest.raises(Unsupported, match="flattened"):
            peer.sign(HS256, b"x", KEY, mode="enabled", serialization="flattened")
        with pytest.raises(Unsupported, match="keys as JWK only"):
            peer.verify(HS256, token, "-----BEGIN PUBLIC KEY-----", mode="enabled")
        assert peer.process._next_id == sent
        request = peer.request_of("sign", HS256, b"abc", KEY, mode="enabled")
        answers = peer.batch([{"op": "sign", **request}] * 3)
        assert [peer.outcome(a).split(".")[1] for a in answers] == ["YWJj"] * 3
        assert peer.bench("sign", 100, request) == 0.001
        check_declares_unsupported(peer)
        assert peer.process.starts == 1
    finally:
        peer.close()


def test_refusals_keep_the_peers_text_and_a_peer_of_nothing_declares_unsupported() -> None:
    rejecting, empty = fake("reject"), fake("nothing")
    try:
        token = rejecting.sign(HS256, b"p", KEY, mode="default")
        with pytest.raises(Rejected, match="FakeError: refused, as always"):
            rejecting.verify(HS256, token, KEY, mode="default")
        check_declares_unsupported(empty)
        with pytest.raises(Unsupported, match="fake-nothing does not implement JWS HS256"):
            empty.sign(HS256, b"p", KEY, mode="enabled")
    finally:
        rejecting.close()
        empty.close()


def test_a_crash_or_a_hang_costs_one_call_and_the_next_call_restarts_the_child() -> None:
    peer = fake("accept", timeout_s=0.5)
    try:
        with pytest.raises(PeerFault, match=r"died during crash \(exit status 3\)") as died:
            peer.process.request({"op": "crash"}, 5)
        assert died.value.actual == "error" and died.value.source == "library"
        assert peer.verify(HS256, peer.sign(HS256, b"p", KEY, mode="default"), KEY,
                           mode="default") == b"p"
        with pytest.raises(PeerFault, match=r"no answer to hang within 0.5 s") as hung:
            peer.process.request({"op": "hang"}, 0.5)
        assert hung.value.actual == "hang"
        assert peer.sign(HS256, b"p", KEY, mode="default").count(".") == 2
        assert peer.process.starts == 3
    finally:
        peer.close()


_INHERITED: list[PeerAdapter] = []  # as the runner's workers inherit their adapters at fork


def _sign_in_worker() -> tuple[int, str]:
    peer = _INHERITED[0]
    token = peer.sign(HS256, b"from the worker", KEY, mode="default")
    return peer.process._child.pid, token  # type: ignore[union-attr]


def test_a_forked_worker_starts_its_own_child_and_leaves_the_parents_alone() -> None:
    peer = fake("accept")
    try:
        parent_child = peer.process._child.pid  # type: ignore[union-attr]
        _INHERITED[:] = [peer]
        with multiprocessing.get_context("fork").Pool(1) as pool:
            worker_child, token = pool.apply(_sign_in_worker)
        assert worker_child != parent_child
        assert peer.verify(HS256, token, KEY, mode="default") == b"from the worker"
        assert peer.process._child.pid == parent_child  # type: ignore[union-attr]
    finally:
        _INHERITED.clear()
        peer.close()


def _manifest(folder: Path, name: str, *command: str, timeout_s: float = 5.0) -> None:
    (folder / name).mkdir()
    (folder / name / "peer.json").write_text(json.dumps({
        "name": name, "language": "python", "command": list(command), "timeout_s": timeout_s,
        "how_to_get": f"how to get {name}"}))


def test_a_run_loses_one_cell_per_crash_or_hang_and_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    peers = tmp_path / "peers"
    peers.mkdir()
    _manifest(peers, "fake-crash", sys.executable, FAKE, "crash-after=2", "--once",
              str(tmp_path / "crashed"))
    _manifest(peers, "fake-hang", sys.executable, FAKE, "hang-after=2", "--once",
              str(tmp_path / "hung"), timeout_s=1.0)
    _manifest(peers, "fake-absent", "no-such-runtime-here", "driver")
    monkeypatch.setenv("HARNESS_PEERS", str(peers))
    argv = ["interop", "--results", str(tmp_path / "results"), "--scenario",
            "jws.roundtrip.compact", "--suite", "JWS HS256", "--no-charts"]
    # Named but not on this machine: bad input, nothing written.
    assert main([*argv, "--library", "fake-absent"]) == 2
    assert "how to get fake-absent" in capsys.readouterr().err
    assert main([*argv, "--library", "pyjwt,fake-crash,fake-hang", "--jobs", "2"]) == 0
    out = capsys.readouterr()
    run = next((tmp_path / "results").glob("2*"))
    rows = pd.read_json(run / "interop.jsonl", lines=True)
    assert len(rows) == 9 * 2
    lost = rows[rows.actual.isin(["error", "hang"])]
    assert sorted(lost.actual) == ["error", "hang"]
    assert lost.detail.str.contains("restarted for the next cell").all()
    kept = rows[~rows.index.isin(lost.index)]
    # pyjwt refuses the fakes' unsigned tokens; every other cell went through.
    refused = (kept.consumer == "pyjwt") & kept.producer.str.startswith("fake")
    assert (kept[refused].actual == "rejected").all()
    assert (kept[~refused].actual == "accepted").all()
    assert "the peer's process died" in out.out and "fake peer: crashing as told" in out.out
    assert "peer fake-crash: 1 cell(s) lost to its process (1 died, 0 did" in out.out
    assert "Peers × Python libraries, library-made tokens (passed/judged):" in out.out
    assert "peer fake-hang: 1 cell(s) lost to its process (0 died, 1 did not" in out.out
    meta = json.loads((run / "run.json").read_text())
    assert meta["peers"]["fake-crash"]["language"] == "python"
    assert meta["libraries"]["fake-hang"] == "0.0.1"
    # The default run takes every peer on the machine and skips the absent one in one line;
    # --no-peers leaves them out and says which.
    assert main([*argv, "--dry-run"]) == 0
    assert "skipping fake-absent: no-such-runtime-here is not installed" in \
        capsys.readouterr().err
    assert main([*argv, "--dry-run", "--no-peers"]) == 0
    assert "left out (--no-peers): fake-crash, fake-hang" in capsys.readouterr().err


def test_a_release_of_an_unknown_library_is_bad_input(tmp_path: Path, capsys) -> None:
    assert main(["interop", "--results", str(tmp_path), "--with", "nosuchlib==1.0"]) == 2
    assert "unknown library 'nosuchlib'" in capsys.readouterr().err
    assert main(["interop", "--results", str(tmp_path), "--with", "pyjwt"]) == 2
    assert "expected <library>==<version>" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_an_isolated_case_borrows_the_child_and_a_hang_there_is_repaired_after() -> None:
    peer = fake("accept")
    try:
        first = peer.process._child.pid  # type: ignore[union-attr]
        with lending():
            done = run_isolated(lambda: _sign_in_isolated(peer), timeout_s=5)
        assert done.value[0] == first
        assert peer.verify(HS256, done.value[1], KEY, mode="default") == b"isolated"
        assert peer.process.starts == 1
        with lending() as loan:
            hung = run_isolated(lambda: peer.process.request({"op": "hang"}, 30), timeout_s=1)
        assert hung.timed_out
        # The parent's child still serves the hung request: the ping finds it lost, and a new
        # child answers the next cell (the runner says so at once: `loan.lost()`).
        assert not loan.broken
        assert peer.sign(HS256, b"after", KEY, mode="default").count(".") == 2
        assert peer.process.starts == 2
    finally:
        peer.close()


def _isolated_in_worker() -> tuple[int, int, int]:
    """In a worker that never used the peer: an isolated case's child, under a memory cap."""
    peer = _INHERITED[0]
    with lending(peer):
        done = run_isolated(lambda: _sign_in_isolated(peer), timeout_s=5, memory_mb=256)
    assert done.value is not None, done
    return done.value[0], peer.process._child.pid, peer.process.starts  # type: ignore[union-attr]


def test_a_lost_loan_replaces_the_cells_own_peer_and_keeps_the_others() -> None:
    """A hang kills the isolated child while the cell's peer still works on its request: that
    peer is replaced at once. A peer the cell did not use keeps its child (a ping checks it)."""
    cells_peer, other = fake("accept"), fake("accept")
    try:
        others_child = other.process._child.pid  # type: ignore[union-attr]
        with lending(cells_peer) as loan:
            hung = run_isolated(lambda: cells_peer.process.request({"op": "hang"}, 30),
                                timeout_s=1)
            loan.lost()
        assert hung.timed_out
        assert cells_peer.process._child is None  # killed, started again at its next request
        assert other.process._child.pid == others_child  # type: ignore[union-attr]
        assert other.verify(HS256, other.sign(HS256, b"kept", KEY, mode="default"), KEY,
                            mode="default") == b"kept"
        assert other.process.starts == 1
        assert cells_peer.sign(HS256, b"after", KEY, mode="default").count(".") == 2
        assert cells_peer.process.starts == 2
    finally:
        cells_peer.close()
        other.close()


def test_an_isolated_case_in_a_worker_borrows_the_workers_own_child_started_before_the_fork(
        ) -> None:
    """Never the child the worker inherited from the main process (two workers' isolated cases
    would share it), and never one started inside the isolated child: node under its
    address-space cap dies at start with SIGTRAP."""
    peer = fake("accept")
    try:
        main_child = peer.process._child.pid  # type: ignore[union-attr]
        _INHERITED[:] = [peer]
        with multiprocessing.get_context("fork").Pool(1) as pool:
            used, workers_own, starts = pool.apply(_isolated_in_worker)
        assert used == workers_own != main_child
        assert starts == 2  # the main process's start, inherited, and the worker's own
    finally:
        _INHERITED.clear()
        peer.close()


def test_a_peer_dying_of_memory_exhaustion_is_a_hang_and_a_large_answer_arrives_whole(
        monkeypatch: pytest.MonkeyPatch) -> None:
    peer = fake("accept")
    try:
        with pytest.raises(PeerFault) as fault:
            peer.process.request({"op": "oom"}, 5)
        assert fault.value.actual == "hang"
        assert "out of memory: the peer's process died" in str(fault.value)
        assert "killed by SIGABRT" in str(fault.value)
        # 24 MB of payload back, in many pipe reads (the answer is one line).
        big = b"x" * (24 << 20)
        token = f"e30.{base64.urlsafe_b64encode(big).rstrip(b'=').decode()}.fake"
        assert peer.verify(HS256, token, KEY, mode="default") == big
        # The harness itself out of memory on an answer (an isolated case's cap): a hang too.
        monkeypatch.setattr("harness.adapters.peer.unb64", _no_memory)
        with pytest.raises(PeerFault) as fault:
            peer.verify(HS256, "e30.eA.fake", KEY, mode="default")
        assert fault.value.actual == "hang" and "too large for the case's memory cap" in str(
            fault.value)
    finally:
        peer.close()


def _verify_under_a_cap(peer: PeerAdapter, token: str) -> tuple[int | None, str]:
    from harness.adapters.peer import answer_limit_bytes
    limit = answer_limit_bytes()
    try:
        return limit, repr(peer.verify(HS256, token, KEY, mode="default"))
    except PeerFault as fault:
        return limit, f"{fault.actual}: {fault}"


def test_under_a_memory_cap_a_too_large_answer_is_a_hang_the_peer_did_not_refuse() -> None:
    from harness.adapters.peer import answer_limit_bytes
    assert answer_limit_bytes() is None  # no cap here: no request carries max_bytes
    peer = fake("accept")
    try:
        # 40 MiB of payload with 200 MiB of address space to spare: the fake peer, as the node
        # drivers do, answers `oversize` instead of sending it.
        size = 40 << 20
        big = base64.urlsafe_b64encode(b"x" * size).rstrip(b"=").decode()
        with open("/proc/self/statm", encoding="ascii") as statm:
            cap_mb = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE") // 2**20 + 200
        done = run_isolated(lambda: _verify_under_a_cap(peer, f"e30.{big}.fake"),
                            timeout_s=10, memory_mb=cap_mb)
        limit, outcome = done.value
        assert limit is not None and 0 < limit < size
        assert outcome == (f"hang: fake-accept: the peer did not refuse: its answer holds {size} "
                           f"bytes, more than the case's memory cap lets the harness read")
        # A small answer under the same cap comes back as ever.
        done = run_isolated(lambda: _verify_under_a_cap(peer, "e30.eA.fake"),
                            timeout_s=10, memory_mb=cap_mb)
        assert done.value[1] == "b'x'"
    finally:
        peer.close()


def _no_memory(text: str) -> bytes:
    raise MemoryError


def _sign_in_isolated(peer: PeerAdapter) -> tuple[int, str]:
    token = peer.sign(HS256, b"isolated", KEY, mode="default")
    return peer.process._child.pid, token  # type: ignore[union-attr]


def test_the_python_driver_serves_the_harness_adapter_as_a_peer(keys) -> None:
    """Today's pyjwt through `harness.adapters.peer_driver`: what a release venv runs."""
    from harness.adapters import load_adapter
    from harness.core.claims import ClaimsOptions
    from harness.core.keyforms import hand_over, public_form

    peer = PeerAdapter(PeerSpec("pyjwt@here", (sys.executable, "-m",
                                               "harness.adapters.peer_driver", "pyjwt"),
                                "python"))
    local = load_adapter("pyjwt")
    try:
        assert peer.version == local.version and peer.requires_allow_list
        es256 = SUITES_BY_NAME["JWS ES256"]
        token = peer.sign(es256, b'{"sub":"alice"}', keys.private(es256.key), mode="default")
        public = keys.public(es256.key)
        assert local.verify(es256, token, public, mode="default") == b'{"sub":"alice"}'
        pem = public_form(keys.private(es256.key), "pem")
        assert peer.verify(es256, token, hand_over(pem), mode="enabled") == b'{"sub":"alice"}'
        with pytest.raises(Rejected, match="InvalidSignatureError"):
            peer.verify(es256, token[:-4] + "AAAA", public, mode="default")
        claims = peer.validate_claims(es256, token, public, ClaimsOptions(), mode="default")
        assert claims == {"sub": "alice"}
        with pytest.raises(Unsupported, match="pyjwt@here does not implement JWE"):
            peer.encrypt(A128GCM, b"x", {"kty": "oct", "k": "AA"}, mode="enabled")
    finally:
        peer.close()


def test_the_load_test_measures_a_peer_by_its_own_loop_in_a_table_of_its_own(
        keys, tmp_path: Path, capsys) -> None:
    from harness.loadtest.peer_bench import bench_peers, write_and_print

    peer = fake("accept")
    try:
        table, skipped = bench_peers([peer], [HS256, A128GCM], ["sign", "verify", "decrypt"],
                                     keys, seconds=0.01)
    finally:
        peer.close()
    # The fake reports 1 ms for any n: the rate is the peer's figure, not the pipe's.
    assert list(table["operation"]) == ["sign", "verify"]
    assert (table["ops_per_s"] == table["n"] / 0.001).all()
    assert skipped[0]["operation"] == "decrypt" and "does not implement" in skipped[0]["reason"]
    write_and_print(table, skipped, tmp_path)
    assert "in-process figures of each peer's own runtime" in capsys.readouterr().out
    assert (tmp_path / "peers.csv").exists()
