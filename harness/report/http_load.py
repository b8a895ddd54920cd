"""The HTTP load test of a run (`<run>/loadtest-http/`), as the report shows it: the table,
the JWE/JWS/no-check cost ratios, and the stored charts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from harness.loadtest.http_command import HTTP_FOLDER
from harness.loadtest.http_ratios import cost_ratios

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


# A single window has no spread across rounds: a change in CPU per request beyond this share is
# shown; the JWE/JWS ratio, measured minutes apart within one run, moves less with the host.
CHANGE_BAND = 0.20
KEY = ["library", "profile"]


def compare_lines(run_a: Path, run_b: Path) -> tuple[list[str], bool]:
    """The HTTP cells of two runs: verdicts that changed (a cell that now fails is a
    regression), and server CPU per request and JWE/JWS ratios that moved beyond the band."""
    a, b = read_http_load(run_a), read_http_load(run_b)
    if a is None and b is None:
        return [], False  # neither run has an HTTP load test: nothing to say
    if a is None or b is None or a.table.empty or b.table.empty:
        return [f"HTTP load: no comparison (run {'A' if a is None else 'B'} has no "
                f"loadtest-http table)"], False
    both = a.table.merge(b.table, on=KEY, suffixes=("_a", "_b"))
    lines = [f"HTTP load: {len(both)} cells in both runs; server CPU per request and JWE/JWS "
             f"ratios shown when they moved beyond ±{CHANGE_BAND:.0%} (one window per cell, "
             f"no spread to judge by)"]
    regressed = False
    for r in both.itertuples(index=False):
        if r.verdict_a != r.verdict_b:
            regressed = regressed or r.verdict_b != "ok"
            lines.append(f"  {r.library} {r.profile}: verdict {r.verdict_a} → {r.verdict_b}")
        cost_a, cost_b = r.server_cpu_us_per_req_a, r.server_cpu_us_per_req_b
        if cost_a and cost_b and abs(cost_b / cost_a - 1) > CHANGE_BAND:
            lines.append(f"  {r.library} {r.profile}: server {cost_a:.0f} → {cost_b:.0f} µs/req "
                         f"({cost_b / cost_a - 1:+.0%})")
    ratios = a.ratios.merge(b.ratios, on=KEY, suffixes=("_a", "_b"))
    for r in ratios.itertuples(index=False):
        if r.jwe_over_jws_a and r.jwe_over_jws_b \
                and abs(r.jwe_over_jws_b / r.jwe_over_jws_a - 1) > CHANGE_BAND:
            lines.append(f"  {r.library} {r.profile}: JWE/JWS ×{r.jwe_over_jws_a:.2f} → "
                         f"×{r.jwe_over_jws_b:.2f}")
    return lines, regressed
