"""HTTP load-test charts: req/s and p99 per profile and library, and what a JWE access token
costs the server per request over its inner JWS and over no token check."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI
import matplotlib.pyplot as plt
import pandas as pd

from harness.loadtest.http_profiles import PROFILES
from harness.loadtest.http_ratios import cost_ratios


def _bars(grid: pd.DataFrame, ylabel: str, title: str, target: Path) -> Path:
    fig, ax = plt.subplots(figsize=(max(7.0, 1.2 * len(grid) + 3), 5))
    grid.plot.bar(ax=ax, width=0.8)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("")
    ax.set_title(title, fontsize=10)
    ax.tick_params(axis="x", labelsize=8, labelrotation=20)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target


def _grid(table: pd.DataFrame, column: str) -> pd.DataFrame:
    order = [p.name for p in PROFILES if p.name in set(table.profile)]
    grid = table.pivot_table(index="profile", columns="library", values=column)
    return grid.reindex(order)


def http_charts(table: pd.DataFrame, folder: Path) -> list[Path]:
    written = [
        _bars(_grid(table, "req_per_s"), "requests per second",
              "GET /resource, req/s per access-token profile (Locust-bound cells: see the "
              "table's `saturated`)", folder / "http_throughput.png"),
        _bars(_grid(table, "p99_us") / 1000.0, "p99 latency (ms)",
              "GET /resource, p99 latency", folder / "http_p99.png"),
    ]
    ratios = cost_ratios(table)
    if not ratios.empty:
        frame = ratios.assign(label=ratios.profile).pivot_table(
            index="library", columns="label", values=["jwe_over_jws", "jwe_over_no_check"])
        frame.columns = [f"{profile} / {'its JWS' if kind == 'jwe_over_jws' else 'no check'}"
                         for kind, profile in frame.columns]
        written.append(_bars(frame, "server CPU per request, ratio",
                             "JWE cost over its inner JWS and over no token check",
                             folder / "http_cost_ratio.png"))
    return written
