"""Charts from the interop rows: a producer × consumer pass-rate heatmap per scenario, and a
suite × library support grid (by default, once enabled, unsupported, fails)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.colors import ListedColormap

SUPPORT_LEVELS = ("by default", "once enabled", "unsupported", "fails")
SUPPORT_COLOURS = ("#2e7d32", "#f9a825", "#bdbdbd", "#c62828")
ROUNDTRIP_CASES = ("jws.roundtrip.compact", "jwe.roundtrip.compact")


def pass_rates(rows: pd.DataFrame) -> pd.DataFrame:
    """Pass rate per scenario, producer and consumer over judged rows (unsupported excluded)."""
    judged = rows[rows["passed"].notna()].copy()
    judged["passed"] = judged["passed"].astype(bool)
    table = judged.groupby(["scenario", "producer", "consumer"])["passed"].agg(["mean", "size"])
    return table.rename(columns={"mean": "pass_rate", "size": "judged"}).reset_index()


def heatmap(rows: pd.DataFrame, scenario: str, libraries: list[str], target: Path) -> Path:
    subset = rows[rows["scenario"] == scenario]
    rates = pass_rates(subset).pivot(index="producer", columns="consumer", values="pass_rate")
    judged = pass_rates(subset).pivot(index="producer", columns="consumer", values="judged")
    rates = rates.reindex(index=libraries, columns=libraries)
    judged = judged.reindex(index=libraries, columns=libraries)
    size = 1.2 + 1.1 * len(libraries)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    image = ax.imshow(rates.to_numpy(dtype=float), cmap="RdYlGn", vmin=0, vmax=1)
    ax.set_xticks(range(len(libraries)), libraries, rotation=30, ha="right")
    ax.set_yticks(range(len(libraries)), libraries)
    ax.set_xlabel("consumer")
    ax.set_ylabel("producer")
    for i, producer in enumerate(libraries):
        for j, consumer in enumerate(libraries):
            rate, count = rates.loc[producer, consumer], judged.loc[producer, consumer]
            text = "n/a" if pd.isna(rate) else f"{rate:.0%}\n({int(count)})"
            ax.text(j, i, text, ha="center", va="center", fontsize=8)
    ax.set_title(f"{scenario}: pass rate (judged cells)")
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target


def support_table(rows: pd.DataFrame, libraries: list[str]) -> pd.DataFrame:
    """Per suite and library, the support level shown by the library's own round trip.

    A library counts as supporting a suite in a mode when it consumed its own token in that
    mode; the compact round-trip cases are used where the run has them, any self-pair otherwise.
    """
    own = rows[rows["producer"] == rows["consumer"]]
    roundtrip = own[own["case"].isin(ROUNDTRIP_CASES)]
    own = roundtrip if not roundtrip.empty else own
    own = own[~own["suite"].str.contains(" then ", regex=False)]

    def level(group: pd.DataFrame) -> str:
        works = {mode: bool(((group["mode"] == mode) & (group["passed"] == True)).any())  # noqa: E712
                 for mode in ("default", "enabled")}
        if works["default"]:
            return "by default"
        if works["enabled"]:
            return "once enabled"
        if (group["actual"] == "unsupported").all():
            return "unsupported"
        return "fails"

    table = own.groupby(["suite", "producer"]).apply(level, include_groups=False)
    grid = table.unstack("producer").reindex(columns=libraries)
    return grid.fillna("unsupported")


def support_grid(rows: pd.DataFrame, libraries: list[str], target: Path) -> Path:
    grid = support_table(rows, libraries)
    codes = grid.map(SUPPORT_LEVELS.index).to_numpy(dtype=float)
    height = max(3.0, 0.16 * len(grid) + 1.5)
    fig, ax = plt.subplots(figsize=(2.2 + 1.3 * len(libraries) + 2.5, height))
    ax.imshow(codes, cmap=ListedColormap(SUPPORT_COLOURS), vmin=-0.5,
              vmax=len(SUPPORT_LEVELS) - 0.5, aspect="auto", interpolation="nearest")
    ax.set_xticks(range(len(libraries)), libraries)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(grid)), grid.index, fontsize=6)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in SUPPORT_COLOURS]
    ax.legend(handles, SUPPORT_LEVELS, loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=8)
    ax.set_title("Support per suite: a library's own round trip", pad=24)
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target


def interop_charts(rows: pd.DataFrame, libraries: list[str], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for scenario in sorted(rows["scenario"].unique()):
        made.append(heatmap(rows, scenario, libraries, folder / f"heatmap-{scenario}.png"))
    if not rows.empty:
        made.append(support_grid(rows, libraries, folder / "support-grid.png"))
    return made
