"""Peers in the load test: each peer times n operations in its own loop (`bench`).

A peer runs in another process and often another runtime, so Locust in the harness would time
the pipe as much as the library (a round trip costs 200-400 µs here). Its figures are the
peer's own: the wall time of its loop alone, from its runtime's monotonic clock, with the same
payload, keys and tokens as the Python cells. They are in-process figures of that runtime, in a
table of their own (`peers.csv`), never mixed into the Locust table.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from harness.adapters.base import Operation
from harness.adapters.peer import PeerAdapter
from harness.core.errors import HarnessError, PeerFault, Rejected, Unsupported
from harness.core.keys import KeySet
from harness.core.suites import Suite
from harness.loadtest.cells import FAMILY_OPERATIONS, cell_mode
from scenarios.payloads import PAYLOAD

PEERS_CSV = "peers.csv"
ROUNDS = 3
CALIBRATION_N = 20
MAX_N = 200_000


def _request(peer: PeerAdapter, suite: Suite, operation: Operation, keys: KeySet
             ) -> dict[str, Any]:
    """The request the peer repeats: its own token for a consuming operation, made first and
    checked to give the payload back."""
    mode = cell_mode(peer, suite)
    private, public = keys.private(suite.key), keys.public(suite.key)
    produce_op, consume_op = FAMILY_OPERATIONS[suite.family]
    produce_key, consume_key = (private, public) if suite.family == "JWS" else (public, private)
    allowed = peer.allow_list(suite, mode)
    if operation == produce_op:
        return peer.request_of(operation, suite, PAYLOAD, produce_key, mode=mode,
                               algorithms=allowed)
    produce = peer.sign if suite.family == "JWS" else peer.encrypt
    token = produce(suite, PAYLOAD, produce_key, mode=mode)
    consume = peer.verify if suite.family == "JWS" else peer.decrypt
    if consume(suite, token, consume_key, mode=mode) != PAYLOAD:
        raise HarnessError(f"{peer.name} {suite.name}: its own round trip does not return the "
                           "payload; nothing to measure")
    return peer.request_of(consume_op, suite, token, consume_key, mode=mode, algorithms=allowed)


def bench_cell(peer: PeerAdapter, suite: Suite, operation: Operation, keys: KeySet,
               seconds: float) -> dict[str, Any]:
    request = _request(peer, suite, operation, keys)
    per_op = peer.bench(operation, CALIBRATION_N, request) / CALIBRATION_N
    n = int(min(MAX_N, max(CALIBRATION_N, seconds / ROUNDS / max(per_op, 1e-7))))
    rates = [n / max(peer.bench(operation, n, request), 1e-9) for _ in range(ROUNDS)]
    median = statistics.median(rates)
    return {"library": peer.name, "language": peer.language, "version": peer.version,
            "runtime": peer.runtime, "suite": suite.name, "operation": operation, "n": n,
            "rounds": ROUNDS, "ops_per_s": round(median, 1),
            "us_per_op": round(1e6 / median, 2), "min_ops_per_s": round(min(rates), 1),
            "max_ops_per_s": round(max(rates), 1),
            "figure": f"in-process, {peer.language} ({peer.runtime or '?'}), the peer's own loop"}


def bench_peers(peers: list[PeerAdapter], suites: list[Suite], operations: list[str],
                keys: KeySet, seconds: float) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    """Every cell each peer declares it can do: its rows, and the cells skipped with why."""
    rows, skipped = [], []
    for peer in peers:
        for suite in suites:
            for operation in FAMILY_OPERATIONS[suite.family]:
                if operation not in operations:
                    continue
                try:
                    peer.check(suite, cell_mode(peer, suite), operation)
                    rows.append(bench_cell(peer, suite, operation, keys, seconds))
                except (Unsupported, Rejected, PeerFault, HarnessError) as why:
                    skipped.append({"library": peer.name, "suite": suite.name,
                                    "operation": operation, "reason": str(why)})
                    continue
                row = rows[-1]
                print(f"peer bench: {peer.name} {suite.name} {operation}: "
                      f"{row['ops_per_s']:,.0f} ops/s ({row['us_per_op']:g} µs, n={row['n']})",
                      file=sys.stderr)
    return pd.DataFrame(rows), skipped


def write_and_print(table: pd.DataFrame, skipped: list[dict[str, str]], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PEERS_CSV
    table.to_csv(path, index=False)
    print("\nPeers, in-process figures of each peer's own runtime (bench: the peer times n "
          "operations in its own loop; not comparable one to one with Locust's rates):")
    if table.empty:
        print("  no peer cell measured")
    else:
        shown = table[["library", "language", "suite", "operation", "ops_per_s", "us_per_op",
                       "min_ops_per_s", "max_ops_per_s", "n"]]
        print(shown.to_string(index=False))
    for skip in skipped:
        print(f"  skip {skip['library']} {skip['suite']} {skip['operation']}: {skip['reason']}")
    return path
