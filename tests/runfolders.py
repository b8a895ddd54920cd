"""Small synthetic run folders in the agreed layout (results/README.md, coord SCHEMAS.md), for
testing what reads run folders: the report and the compare."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pandas as pd

from harness.core.results import ROW_FIELDS
from harness.report.rundata import LOADTEST_COLUMNS, LOADTEST_OPTIONAL

# A 1×1 PNG: stands in for the load-test charts that branch writes.
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
HOSTILE = ('<script>alert("x")</script> <img src="https://evil.example/x.png"> | `tick` **b** '
           "![i](https://evil.example/y.png) \\")


def row(case: str, producer: str, consumer: str, suite: str = "JWS ES256",
        mode: str = "default", expected: str = "accept", actual: str = "accepted",
        passed: bool | None = True, detail: str = "", **extra: Any) -> dict[str, Any]:
    return {"scenario": case.rsplit(".", 1)[0], "case": case, "producer": producer,
            "consumer": consumer, "suite": suite, "mode": mode, "expected": expected,
            "actual": actual, "passed": passed, "detail": detail, "duration_ms": 1.5,
            "requirement": "RFC 7515 §5.2", **extra}


def loadtest_row(library: str, suite: str, operation: str, ops_per_s: float,
                 efficiency: float = 0.98, failures: int = 0, spread: float = 0.02,
                 floor: float = 120_000) -> dict[str, Any]:
    """A table row; every figure's interquartile range is ± `spread` of it, and the floor
    runs at `floor` operations per second whatever the library."""
    values = {"library": library, "suite": suite, "operation": operation,
              "ops_per_s": ops_per_s, "p50_us": 1e6 / ops_per_s, "p90_us": 1.2e6 / ops_per_s,
              "p99_us": 1.5e6 / ops_per_s, "p999_us": 2e6 / ops_per_s,
              "inprocess_ops_per_s": ops_per_s / efficiency, "efficiency": efficiency,
              "primitive": "cryptography", "primitive_ops_per_s": floor,
              "overhead_x": floor / ops_per_s, "processes": 1, "requests": 100,
              "operations": 10_000, "failures": failures, "duration_s": 5.0,
              "started": "2026-11-28T20:00:00+00:00"}
    for figure in ("ops_per_s", "inprocess_ops_per_s", "efficiency", "primitive_ops_per_s",
                   "overhead_x"):
        values[f"{figure}_q1"] = values[figure] * (1 - spread)
        values[f"{figure}_q3"] = values[figure] * (1 + spread)
    return {column: values[column] for column in (*LOADTEST_COLUMNS, *LOADTEST_OPTIONAL)
            if column in values}


def make_run(root: Path, name: str, libraries: dict[str, str], rows: list[dict[str, Any]],
             loadtest: list[dict[str, Any]] | None = None,
             claims: list[dict[str, str]] | None = None,
             missing: dict[str, str] | None = None, charts: bool = True) -> Path:
    path = root / name
    path.mkdir(parents=True)
    meta = {"harness_version": "0.1.0", "git_commit": "abc123", "python": "3.11.7",
            "implementation": "CPython", "platform": "Linux-test", "machine": "x86_64",
            "cpu_count": 2, "libraries": libraries, "missing_libraries": missing or {},
            "command": ["harness", "interop"], "kind": "interop",
            "selection": {"libraries": list(libraries)}, "started": "2026-11-28T20:00:00+00:00",
            "finished": "2026-11-28T20:00:09+00:00", "status": "complete",
            "interop_seconds": 9.1}
    if rows:
        with (path / "interop.jsonl").open("w", encoding="utf-8") as handle:
            for record in rows:
                handle.write(json.dumps(record) + "\n")
        pd.DataFrame.from_records(rows).reindex(columns=list(ROW_FIELDS)).to_csv(
            path / "interop.csv", index=False)
    if loadtest is not None:
        folder = path / "loadtest"
        folder.mkdir()
        pd.DataFrame.from_records(loadtest).to_csv(folder / "table.csv", index=False)
        (folder / "meta.json").write_text(json.dumps({
            "command": ["harness", "loadtest"], "profile": "default", "processes": 1,
            "started": "2026-11-28T20:01:00+00:00", "finished": "2026-11-28T20:03:00+00:00",
            "libraries": libraries, "load_average_start": [0.31, 0.2, 0.1],
            "load_average_end": [1.52, 0.9, 0.4], "duration_per_cell_s": 5.0,
            "rejected": [{"library": "jwcrypto", "suite": "JWS PS256", "operation": "sign",
                          "reasons": ["Locust recorded no requests"]}],
            "remeasured": [{"library": "joserfc", "suite": "JWS ES256", "operation": "verify",
                            "first_efficiency": 0.9312, "efficiency": 0.85}]}))
        meta["loadtest"] = {"started": "2026-11-28T20:01:00+00:00", "status": "complete",
                            "finished": "2026-11-28T20:03:00+00:00", "cells": len(loadtest)}
        if charts:
            for chart in ("throughput.png", "latency.png", "overhead.png"):
                (folder / chart).write_bytes(TINY_PNG)
    if claims is not None:
        pd.DataFrame.from_records(claims).to_csv(path / "claims.csv", index=False)
    (path / "run.json").write_text(json.dumps(meta, indent=2))
    return path


def full_run(root: Path, name: str = "20261128T200000Z-aaaaaa") -> Path:
    """Two libraries and one that is not installed; interop failures, security findings of
    every kind, a claims sheet and a load test with one noisy cell."""
    libs = {"joserfc": "1.8.0", "jwcrypto": "1.6.1"}
    rows = [
        row("jws.roundtrip.compact", "joserfc", "joserfc"),
        row("jws.roundtrip.compact", "joserfc", "jwcrypto"),
        row("jws.roundtrip.compact", "jwcrypto", "jwcrypto"),
        row("jws.roundtrip.compact", "jwcrypto", "joserfc", actual="rejected", passed=False,
            detail=HOSTILE),
        row("jws.roundtrip.compact", "jwcrypto", "joserfc", suite="JWS ES384",
            actual="rejected", passed=False, detail="bad signature 0x7f3a"),
        row("jws.roundtrip.compact", "joserfc", "jwcrypto", suite="JWS HS256",
            actual="unsupported", passed=None, detail="jwcrypto does not do it"),
        row("jws.roundtrip.compact", "joserfc", "joserfc", suite="JWS HS256",
            actual="unsupported", passed=None, detail="not in the default allow-list"),
        row("jws.roundtrip.compact", "joserfc", "joserfc", suite="JWS HS256", mode="enabled"),
        row("jws.roundtrip.compact", "jwcrypto", "jwcrypto", suite="JWS ES384",
            actual="rejected", passed=False, detail="own token refused"),
        row("attacks.alg_none.lowercase", "forge", "joserfc", expected="reject",
            actual="rejected", passed=True, detail="unsupported alg", config="jwk",
            attack_class="alg-none"),
        row("attacks.alg_none.lowercase", "forge", "jwcrypto", expected="reject",
            actual="accepted", passed=False, detail="accepted alg none", config="jwk",
            attack_class="alg-none", severity="forgery"),
        row("attacks.zip_bomb.deflate", "forge", "jwcrypto", expected="reject", actual="hang",
            passed=False, detail="wall-clock limit 5 s", config="default",
            attack_class="zip-bomb", wall_ms=5000.0, peak_rss_kb=900000, severity="dos"),
        row("attacks.crit.unknown", "forge", "joserfc", expected="reject", actual="error",
            passed=False, detail="KeyError: 'crit'", config="default", attack_class="crit",
            severity="bypass"),
        row("attacks.kid.duplicate", "forge", "joserfc", expected="reject", actual="accepted",
            passed=None, detail="took the first key", config="jwks", attack_class="kid",
            policy=True),
        row("claims.exp.past", "forge", "joserfc", expected="reject", actual="rejected",
            passed=True, config="default", severity="bypass"),
        row("claims.exp.past", "forge", "jwcrypto", expected="reject", actual="rejected",
            passed=True, config="default", severity="bypass"),
    ]
    loadtest = [loadtest_row("joserfc", "JWS HS256", "sign", 52000),
                loadtest_row("jwcrypto", "JWS HS256", "sign", 26000),
                loadtest_row("joserfc", "JWS ES256", "verify", 9000, efficiency=0.85),
                loadtest_row("jwcrypto", "JWS ES256", "verify", 8000)]
    claims = [{"library": "joserfc", "situation": "exp in the past", "configuration": "default",
               "outcome": "rejected", "detail": ""},
              {"library": "jwcrypto", "situation": "exp in the past",
               "configuration": "default", "outcome": "rejected", "detail": ""}]
    return make_run(root, name, libs, rows, loadtest=loadtest, claims=claims,
                    missing={"authlib": "'authlib' is not installed: pip install 'authlib'"})


def zip_run(root: Path, name: str = "20261128T210000Z-bbbbbb",
            conformance: bool = True) -> Path:
    """Five libraries and `zip: DEF`: "zlib" writes zlib-wrapped DEF and reads only that,
    "nozip" ignores `zip` when reading; "good", "fine" and "also" follow RFC 7516. With
    `conformance` the rows carry the reference's verdict on each produced token."""
    libs = {"good": "1.0", "fine": "2.0", "also": "2.5", "zlib": "3.0", "nozip": "4.0"}
    wrapped = "zip: DEF content is zlib-wrapped, not raw DEFLATE (RFC 7516 §4.1.3)"
    rows = []
    for producer in libs:
        for consumer in libs:
            passed = (producer == consumer or (producer != "zlib" and consumer not in
                                               ("zlib", "nozip")))
            detail = ("" if passed else "returned payload differs: b'x'" if consumer == "nozip"
                      else "Error -3 while decompressing data")
            extra = {"conformance": wrapped if producer == "zlib" else "conformant"} \
                if conformance else {}
            rows.append(row("jwe.roundtrip.compact_deflate", producer, consumer,
                            suite="JWE A256KW + A256GCM",
                            actual="accepted" if passed or consumer == "nozip" else "rejected",
                            passed=passed, detail=detail, **extra))
            rows.append(row("jwe.roundtrip.compact", producer, consumer,
                            suite="JWE A256KW + A256GCM", **extra))
    return make_run(root, name, libs, rows)
