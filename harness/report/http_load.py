"""The HTTP load test of a run (`<run>/loadtest-http/`), as the report shows it: the table,
the JWE/JWS/no-check cost ratios, and the stored charts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from harness.loadtest.http_command import HTTP_FOLDER, cost_ratios

HTTP_CHARTS = ("http_throughput.png", "http_p99.png", "http_cost_ratio.png")
SHOWN = ["library", "profile", "req_per_s", "p50_us", "p99_us", "server_cpu_us_per_req",
         "implied_one_core_req_per_s", "saturated", "verdict"]
RULE = ("Each library as a resource server on 127.0.0.1 (uvicorn, one worker pinned to its own "
        "core), validating RFC 9068 access tokens on `GET /resource`, loaded by Locust "
        "FastHttpUsers on the other core(s); 10 % of the tokens must be refused. req/s and "
        "latency are what Locust saw; server µs/req is the server's CPU time (/proc) per "
        "request over the same window, and the one-core rate it implies is the comparable "
        "figure when a cell was Locust-bound or the machine busy (`saturated` says which).")


@dataclass
class HttpLoad:
    table: pd.DataFrame
    ratios: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    charts: list[Path] = field(default_factory=list)


def read_http_load(run_path: Path) -> HttpLoad | None:
    folder = run_path / HTTP_FOLDER
    if not (folder / "table.csv").exists():
        return None
    table = pd.read_csv(folder / "table.csv")
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    charts = [folder / name for name in HTTP_CHARTS if (folder / name).exists()]
    return HttpLoad(table, cost_ratios(table) if not table.empty else pd.DataFrame(), meta,
                    charts)


def notes(load: HttpLoad) -> list[str]:
    """The rejected and failed cells, and the skipped ones, one line each."""
    meta = load.meta
    return ([f"rejected {r['library']} {r['profile']}: {r['reason']}"
             for r in meta.get("rejected", [])]
            + [f"failed {r['library']} {r['profile']}: {r['verdict']}"
               for r in meta.get("failed", [])]
            + [f"skipped {r['library']} {r['profile']}: {r['reason']}"
               for r in meta.get("skipped", [])])
