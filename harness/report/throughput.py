"""Reading the load-test table: headline figures, whether the window was noisy, and the
efficiency chart (Locust rate ÷ in-process rate per cell, with the thresholds drawn)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import IO

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI
import matplotlib.pyplot as plt
import pandas as pd

# DESIGN.md: batching reaches ~97% of the in-process rate on a quiet machine; issue 4 asks for
# at least 0.97 on the median cell and 0.90 on every cell. Above 1.10 the in-process reference
# loop itself was the slower one, which also says the window was disturbed.
EFFICIENCY_MEDIAN_FLOOR = 0.97
EFFICIENCY_CELL_FLOOR = 0.90
EFFICIENCY_CELL_CEILING = 1.10
HEADLINE_CELLS = (("JWS HS256", "sign"), ("JWS ES256", "verify"),
                  ("JWE RSA-OAEP-256 + A256GCM", "decrypt"))


def rate(value: float) -> str:
    if value is None or pd.isna(value):
        return "–"
    if value >= 10_000:
        return f"{value / 1000:.0f}k/s"
    if value >= 1000:
        return f"{value / 1000:.1f}k/s"
    return f"{value:.0f}/s"


def iqr_text(table: pd.DataFrame, figure: str, show: Callable[[float], str]) -> pd.Series:
    """Each row's interquartile range across rounds of the figure, as `q1–q3`; `–` for a
    table from before rounds."""
    if f"{figure}_q1" not in table or f"{figure}_q3" not in table:
        return pd.Series("–", index=table.index)
    return pd.Series([f"{show(lo)}–{show(hi)}" if not (pd.isna(lo) or pd.isna(hi)) else "–"
                      for lo, hi in zip(table[f"{figure}_q1"], table[f"{figure}_q3"],
                                        strict=True)], index=table.index)


def cell_name(row: pd.Series) -> str:
    return f"{row['library']} {row['suite']} {row['operation']}"


def noisy_cells(table: pd.DataFrame) -> pd.DataFrame:
    eff = table["efficiency"]
    return table[(eff < EFFICIENCY_CELL_FLOOR) | (eff > EFFICIENCY_CELL_CEILING)]


def noise_warnings(table: pd.DataFrame) -> list[str]:
    """Sentences saying why this load test's numbers are less trustworthy; empty when quiet."""
    if table.empty:
        return ["the load test's table holds no cell: nothing was measured or every cell was "
                "rejected"]
    warnings = []
    median = float(table["efficiency"].median())
    if median < EFFICIENCY_MEDIAN_FLOOR:
        warnings.append(f"median efficiency {median:.3f} is below {EFFICIENCY_MEDIAN_FLOOR}: "
                        "the machine was busy or Locust's own cost distorted the rates")
    bad = noisy_cells(table)
    if not bad.empty:
        names = ", ".join(f"{cell_name(r)} ({r['efficiency']:.3f})" for _, r in bad.iterrows())
        warnings.append(f"{len(bad)} cell(s) outside {EFFICIENCY_CELL_FLOOR}–"
                        f"{EFFICIENCY_CELL_CEILING} efficiency: {names}")
    failed = table[table["failures"] > 0]
    if not failed.empty:
        warnings.append(f"{len(failed)} cell(s) recorded failed operations: "
                        + ", ".join(cell_name(r) for _, r in failed.iterrows()))
    return warnings


def relative_speed(table: pd.DataFrame) -> pd.Series:
    """Per library, the geometric mean of its speed ÷ the fastest library's, over the (suite,
    operation) cells every library measured; NaN where no cell is shared.

    Each library's cells ran minutes apart, and the host's speed moves its rates by more than
    their differences; so where every library ran the same floor (the same `primitive`, on
    the same key and bytes) the speeds are compared through their overhead over it (fastest
    overhead ÷ own overhead), which the host's speed moves on both sides at once. Where the
    floors differ (PBES2 at each library's own iteration count) the rates are compared."""
    libraries = table["library"].unique()
    index = ["suite", "operation"]
    wide = table.pivot_table(index=index, columns="library", values="ops_per_s",
                             aggfunc="first").dropna()
    if wide.empty or len(libraries) < 2:
        return pd.Series(math.nan, index=libraries)
    ratios = wide.div(wide.max(axis=1), axis=0)
    if "overhead_x" in table and "primitive" in table:
        overhead = table.pivot_table(index=index, columns="library", values="overhead_x",
                                     aggfunc="first").reindex(index=wide.index,
                                                              columns=wide.columns)
        floors = table.groupby(index)["primitive"].nunique().reindex(wide.index)
        same = (floors == 1) & overhead.notna().all(axis=1) & (overhead > 0).all(axis=1)
        through_floor = overhead.rdiv(overhead.min(axis=1), axis=0)
        ratios = ratios.where(~same, through_floor, axis=0)
    return ratios.apply(lambda col: math.exp(col.map(math.log).mean())).reindex(libraries)


def headline(table: pd.DataFrame | None, library: str) -> str:
    if table is None:
        return "no load test"
    own = table[table["library"] == library]
    if own.empty:
        return "not measured"
    parts = []
    for suite, operation in HEADLINE_CELLS:
        cell = own[(own["suite"] == suite) & (own["operation"] == operation)]
        if not cell.empty:
            parts.append(f"{suite.removeprefix('JWS ').removeprefix('JWE ')} {operation} "
                         f"{rate(cell['ops_per_s'].iloc[0])}")
    if not parts:
        parts.append(f"median of {len(own)} cells {rate(own['ops_per_s'].median())}")
    speed = relative_speed(table).get(library, math.nan)
    if not pd.isna(speed):
        parts.append(f"{speed:.2f}× the fastest (geometric mean over shared cells)")
    return "; ".join(parts)


def efficiency_chart(table: pd.DataFrame, target: Path | IO[bytes]) -> Path | IO[bytes]:
    libraries = list(dict.fromkeys(table["library"]))
    fig, ax = plt.subplots(figsize=(max(5.0, 1.6 + 1.2 * len(libraries)), 3.6))
    for i, library in enumerate(libraries):
        values = table.loc[table["library"] == library, "efficiency"].to_numpy(dtype=float)
        spread = [(j % 7 - 3) * 0.04 for j in range(len(values))]
        colours = ["#c62828" if (v < EFFICIENCY_CELL_FLOOR or v > EFFICIENCY_CELL_CEILING)
                   else "#1565c0" for v in values]
        ax.scatter([i + s for s in spread], values, c=colours, s=14)
    for level, style in ((1.0, "-"), (EFFICIENCY_MEDIAN_FLOOR, "--"),
                         (EFFICIENCY_CELL_FLOOR, ":")):
        ax.axhline(level, color="#555555", linestyle=style, linewidth=0.8)
    ax.set_xticks(range(len(libraries)), libraries, rotation=20, ha="right")
    ax.set_xlim(-0.6, len(libraries) - 0.4)
    ax.set_ylabel("Locust rate ÷ in-process rate")
    ax.set_title("Efficiency per cell; lines at 1.0, 0.97, 0.90", fontsize=10)
    fig.tight_layout()
    fig.savefig(target, dpi=110, format="png")
    plt.close(fig)
    return target
