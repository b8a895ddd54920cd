"""Load-test charts from the table: throughput, latency percentiles, overhead above the floor.
The throughput and overhead bars carry error bars: the interquartile range across rounds."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

PERCENTILE_COLUMNS = ("p50_us", "p90_us", "p99_us", "p999_us")


def _cell_label(table: pd.DataFrame) -> pd.Series:
    return table["suite"].str.replace(r"^(JWS|JWE) ", "", regex=True) + " " + table["operation"]


def _log_when_wide(ax: plt.Axes, values: pd.Series, axis: str = "y") -> None:
    positive = values[values > 0]
    if len(positive) and positive.max() / positive.min() > 30:
        (ax.set_yscale if axis == "y" else ax.set_xscale)("log")


def _grouped_bars(table: pd.DataFrame, column: str, ylabel: str, title: str,
                  target: Path) -> Path:
    frame = table.assign(cell=_cell_label(table))
    grid = frame.pivot_table(index="cell", columns="library", values=column, sort=False)
    bars = len(grid) * max(1, len(grid.columns))
    fig, ax = plt.subplots(figsize=(min(20.0, max(6.0, 2 + 0.11 * bars)), 6))
    grid.plot.bar(ax=ax, width=0.8, yerr=_iqr_errors(frame, column, grid), capsize=1.5,
                  error_kw={"elinewidth": 0.7, "ecolor": "#333333"})
    _log_when_wide(ax, frame[column].dropna())
    ax.set_ylabel(ylabel)
    ax.set_xlabel("")
    ax.set_title(title)
    ax.tick_params(axis="x", labelsize=7)
    plt.setp(ax.get_xticklabels(), rotation=60, ha="right")
    ax.grid(axis="y", alpha=0.3)
    # Beside the plot, not over it: the last suites' bars are as tall as the first ones'.
    ax.legend(title="library", fontsize=8, loc="upper left", bbox_to_anchor=(1.005, 1.0))
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target


def _iqr_errors(frame: pd.DataFrame, column: str, grid: pd.DataFrame) -> np.ndarray | None:
    """Asymmetric error bars (median − q1, q3 − median) per library and cell, in the grid's
    shape; None when the table has no spread columns (a table from before rounds)."""
    if f"{column}_q1" not in frame or f"{column}_q3" not in frame:
        return None
    low, high = (frame.pivot_table(index="cell", columns="library", values=f"{column}_{q}",
                                   sort=False).reindex(index=grid.index, columns=grid.columns)
                 for q in ("q1", "q3"))
    below = (grid - low).clip(lower=0).fillna(0).to_numpy().T
    above = (high - grid).clip(lower=0).fillna(0).to_numpy().T
    return np.stack([below, above], axis=1)


def latency_chart(table: pd.DataFrame, target: Path) -> Path:
    frame = table.assign(cell=table["library"] + "  " + _cell_label(table))
    frame = frame.sort_values(["suite", "operation", "library"])
    fig, ax = plt.subplots(figsize=(8, max(3.0, 0.22 * len(frame) + 1.2)))
    for column, marker in zip(PERCENTILE_COLUMNS, ("o", "s", "^", "x"), strict=True):
        ax.scatter(frame[column], frame["cell"], marker=marker, s=18, label=column[:-3])
    ax.set_xscale("log")
    ax.set_xlabel("latency per operation (µs, harness histogram)")
    ax.tick_params(axis="y", labelsize=7)
    ax.invert_yaxis()
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3, which="both")
    ax.set_title("Latency percentiles per cell")
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target


def loadtest_charts(table: pd.DataFrame, folder: Path) -> list[Path]:
    if table.empty:
        return []
    processes = ", ".join(str(p) for p in sorted(table["processes"].unique()))
    return [
        _grouped_bars(table, "ops_per_s", "operations per second (bars: IQR over rounds)",
                      f"Throughput per suite and library ({processes} process(es))",
                      folder / "throughput.png"),
        latency_chart(table, folder / "latency.png"),
        _grouped_bars(table, "overhead_x", "× slower than the cryptography primitive",
                      "Library overhead above the raw cryptography operation",
                      folder / "overhead.png"),
    ]
