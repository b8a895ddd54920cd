"""Charts from the interop rows: a producer × consumer pass-rate heatmap per scenario, and a
suite × library support grid (by default, once enabled, unsupported, fails)."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap

from harness.core.blame import blame, pair_charges
from harness.core.shutdown import kill_pool, signals_held, worker_pool
from harness.core.suites import ALL_SUITES, CONTENT_KEY_BITS, SUITES_BY_NAME

SUPPORT_LEVELS = ("by default", "once enabled", "unsupported", "fails")
SUPPORT_COLOURS = ("#2e7d32", "#f9a825", "#bdbdbd", "#c62828")
ROUNDTRIP_CASES = ("jws.roundtrip.compact", "jwe.roundtrip.compact")


def pass_rates(rows: pd.DataFrame) -> pd.DataFrame:
    """Pass rate per scenario, producer and consumer over judged rows (unsupported excluded)."""
    judged = rows[rows["passed"].notna()].copy()
    judged["passed"] = judged["passed"].astype(bool)
    table = judged.groupby(["scenario", "producer", "consumer"])["passed"].agg(["mean", "size"])
    return table.rename(columns={"mean": "pass_rate", "size": "judged"}).reset_index()


def heatmap(rows: pd.DataFrame, scenario: str, libraries: list[str], target: Path,
            blamed: pd.DataFrame | None = None) -> Path:
    """Pass rate per producer and consumer; under a failing pair of libraries, how many failing
    cells are charged to the producer (P) and to the consumer (C). `blamed`: `core.blame` of
    the rows, when the caller has it already."""
    subset = rows[rows["scenario"] == scenario]
    charges = pair_charges(blame(subset) if blamed is None else blamed, scenario)
    # Forged tokens have one producer, the harness's forge, rather than every library.
    made_by = set(subset["producer"])
    producers = [p for p in libraries if p in made_by] or sorted(made_by)
    rates = pass_rates(subset).pivot(index="producer", columns="consumer", values="pass_rate")
    judged = pass_rates(subset).pivot(index="producer", columns="consumer", values="judged")
    rates = rates.reindex(index=producers, columns=libraries)
    judged = judged.reindex(index=producers, columns=libraries)
    size = 1.2 + 1.1 * len(libraries)
    fig, ax = plt.subplots(figsize=(size + 1.5, 1.2 + 1.1 * len(producers)))
    image = ax.imshow(rates.to_numpy(dtype=float), cmap="RdYlGn", vmin=0, vmax=1)
    ax.set_xticks(range(len(libraries)), libraries, rotation=30, ha="right")
    ax.set_yticks(range(len(producers)), producers)
    ax.set_xlabel("consumer")
    ax.set_ylabel("producer")
    for i, producer in enumerate(producers):
        for j, consumer in enumerate(libraries):
            rate, count = rates.loc[producer, consumer], judged.loc[producer, consumer]
            text = "n/a" if pd.isna(rate) else f"{rate:.0%}\n({int(count)})"
            if (producer, consumer) in charges.index:
                charged = charges.loc[(producer, consumer)]
                marks = [f"{label}✗{int(charged[side])}" for side, label in
                         (("producer", "P"), ("consumer", "C")) if int(charged[side])]
                text += ("\n" + " ".join(marks)) if marks else ""
            ax.text(j, i, text, ha="center", va="center", fontsize=8)
    title = f"{scenario}: pass rate (judged cells)"
    if not charges.empty:
        title += "\nP✗/C✗: failing cells charged to the producer / consumer"
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target


def support_table(rows: pd.DataFrame, libraries: list[str]) -> pd.DataFrame:
    """Per suite (registry order) and library, the support level shown by its own round trip.

    A library counts as supporting a suite in a mode when it consumed its own token in that
    mode; the compact round-trip cases are used where the run has them, any self-pair otherwise.
    """
    own = rows[(rows["producer"] == rows["consumer"])]
    roundtrip = own[own["case"].isin(ROUNDTRIP_CASES)]
    own = roundtrip if not roundtrip.empty else own
    own = own[own["suite"].isin(SUITES_BY_NAME)]

    # Per (suite, library): whether a self-pair passed in each mode, and whether every one was
    # declared unsupported; the first that holds of by default, once enabled, unsupported is
    # the level, else it fails. (Column-wise: a `groupby.apply` took 1.4 s on 162,414 rows.)
    passed = own["passed"] == True  # noqa: E712 - a nullable column
    flags = pd.DataFrame({"suite": own["suite"], "producer": own["producer"],
                          "default": passed & (own["mode"] == "default"),
                          "enabled": passed & (own["mode"] == "enabled"),
                          "unsupported": own["actual"] == "unsupported"})
    found = flags.groupby(["suite", "producer"]).agg(
        {"default": "any", "enabled": "any", "unsupported": "all"})
    table = pd.Series(np.select([found["default"], found["enabled"], found["unsupported"]],
                                ["by default", "once enabled", "unsupported"], "fails"),
                      index=found.index)
    grid = table.unstack("producer", fill_value="unsupported") \
        .reindex(columns=libraries, fill_value="unsupported")
    order = [s.name for s in ALL_SUITES if s.name in grid.index]
    return grid.reindex(order)


def _draw_levels(ax: plt.Axes, grid: pd.DataFrame, title: str) -> None:
    codes = grid.map(SUPPORT_LEVELS.index).to_numpy(dtype=float)
    ax.imshow(codes, cmap=ListedColormap(SUPPORT_COLOURS), vmin=-0.5,
              vmax=len(SUPPORT_LEVELS) - 0.5, aspect="auto", interpolation="nearest")
    ax.set_yticks(range(len(grid)), grid.index, fontsize=7)
    ax.set_title(title, fontsize=9)


def support_grid(rows: pd.DataFrame, libraries: list[str], target: Path,
                 grid: pd.DataFrame | None = None) -> Path:
    """JWS suites × library beside JWE key management × (library, content encryption).
    `grid`: the rows' `support_table`, when the caller has it already."""
    grid = support_table(rows, libraries) if grid is None else grid
    suites = [SUITES_BY_NAME[name] for name in grid.index]
    jws = grid[[s.family == "JWS" for s in suites]]
    jwe = grid[[s.family == "JWE" for s in suites]].copy()
    panels = [p for p in (jws, jwe) if not p.empty]
    widths = [len(libraries) if p is jws else len(libraries) * len(CONTENT_KEY_BITS) for p in
              panels]
    height = 1.5 + 0.17 * max(len(jws), len(jwe.index.map(_key_management).unique()), 4)
    fig, axes = plt.subplots(1, len(panels), figsize=(3 + 0.32 * sum(widths) + 2, height),
                             gridspec_kw={"width_ratios": widths}, squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        if panel is jws:
            _draw_levels(ax, panel, "JWS")
            ax.set_xticks(range(len(libraries)), libraries, rotation=90, fontsize=7)
            continue
        panel.index = pd.MultiIndex.from_tuples(
            [(_key_management(n), SUITES_BY_NAME[n].enc) for n in panel.index])
        wide = panel.stack().unstack(level=1).unstack(level=1)  # columns (enc, library)
        wide = wide.swaplevel(axis=1)
        columns = [(lib, enc) for lib in libraries for enc in CONTENT_KEY_BITS
                   if (lib, enc) in wide.columns]
        order = list(dict.fromkeys(_key_management(s.name) for s in ALL_SUITES
                                   if s.family == "JWE"))
        wide = wide.reindex(index=[k for k in order if k in wide.index], columns=columns)
        _draw_levels(ax, wide.fillna("unsupported"), "JWE: key management × content encryption")
        ax.set_xticks(range(len(columns)), [f"{lib}: {enc}" for lib, enc in columns],
                      rotation=90, fontsize=6)
        for boundary in range(len(CONTENT_KEY_BITS), len(columns), len(CONTENT_KEY_BITS)):
            ax.axvline(boundary - 0.5, color="black", linewidth=1.2)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in SUPPORT_COLOURS]
    fig.legend(handles, SUPPORT_LEVELS, loc="upper right", fontsize=8, ncols=4)
    fig.suptitle("Support per suite: each library's own round trip", x=0.3, fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target


def _key_management(name: str) -> str:
    """`JWE ECDH-ES (X25519) + A128GCM` -> `ECDH-ES (X25519)`."""
    return name.removeprefix("JWE ").rsplit(" + ", 1)[0]


# What the forked chart processes draw from: set before the fork, so the rows (a quarter of a
# million with the peers) are inherited, not pickled to each process.
_SHARED: tuple[pd.DataFrame, list[str], pd.DataFrame, pd.DataFrame] | None = None
SUPPORT_GRID = None  # a job's scenario for the support grid rather than a heatmap


def _chart(rows: pd.DataFrame, libraries: list[str], blamed: pd.DataFrame,
           support: pd.DataFrame, job: tuple[str | None, Path]) -> Path:
    scenario, target = job
    if scenario is SUPPORT_GRID:
        return support_grid(rows, libraries, target, support)
    return heatmap(rows, scenario, libraries, target, blamed)


def _chart_job(job: tuple[str | None, Path]) -> Path:
    assert _SHARED is not None
    return _chart(*_SHARED, job)


def _with_rows(function: Callable[..., Path], args: tuple[Any, ...]) -> Path:
    assert _SHARED is not None
    return function(_SHARED[0], *args)


class PendingCharts:
    """Charts being drawn in forked processes on every usable core while the caller writes its
    other outputs on its own (with the node peers, 36 heatmaps and the grid took 9.4 s on one
    core, and the other outputs about as long again); `wait()` returns their paths. Drawn in
    this process when there is one core or one chart. The workers die with the harness and
    are killed, not waited for, when the caller stops or fails (`cancel()`).

    The caller adds its own charts with `draw` (small, picklable arguments) and work on the
    whole rows, which the workers inherited, with `with_rows`. In `wait()` the caller draws,
    from the end of the queue, the jobs no worker has begun rather than only waiting."""

    def __init__(self, rows: pd.DataFrame, libraries: list[str], support: pd.DataFrame,
                 jobs: list[tuple[str | None, Path]], blamed: pd.DataFrame | None = None,
                 extra_jobs: int = 0) -> None:
        global _SHARED
        blamed = blame(rows) if blamed is None else blamed
        self._rows = rows
        self._made: list[Path] = []
        # Each job as a worker's future and as the same call made here.
        self._pending: list[tuple[Future[Path], Callable[[], Path]]] = []
        self._pool: ProcessPoolExecutor | None = None
        workers = min(len(jobs) + extra_jobs, len(os.sched_getaffinity(0)))
        if workers < 2:
            self._made = [_chart(rows, libraries, blamed, support, job) for job in jobs]
            return
        _SHARED = (rows, libraries, blamed, support)
        try:
            # The first submit forks every worker: a stop signal is raised once all are
            # recorded, so that `cancel()` can reach them.
            with signals_held():
                self._pool = worker_pool(workers)
                for job in jobs:
                    self._pending.append((self._pool.submit(_chart_job, job), partial(
                        _chart, rows, libraries, blamed, support, job)))
                if not jobs:
                    # The workers fork now, with the rows to inherit, even when only the
                    # caller's jobs will follow (a run of vectors alone draws no heatmap).
                    self._pool.submit(int)
        except BaseException:
            self.cancel()
            raise
        finally:
            _SHARED = None

    def draw(self, function: Callable[..., Path], *args: Any) -> None:
        """`function(*args)` (a module-level function that writes one file and returns its
        path) in a worker, or here without workers."""
        self._add(partial(function, *args), function, *args)

    def with_rows(self, function: Callable[..., Path], *args: Any) -> None:
        """`function(rows, *args)` in a worker, which has the rows already; here without."""
        self._add(partial(function, self._rows, *args), _with_rows, function, args)

    def _add(self, here: Callable[[], Path], remote: Callable[..., Path], *args: Any) -> None:
        if self._pool is None:
            self._made.append(here())
        else:
            self._pending.append((self._pool.submit(remote, *args), here))

    def wait(self) -> list[Path]:
        pending, self._pending = self._pending, []
        try:
            drawn_here: dict[int, Path] = {}
            for index in reversed(range(len(pending))):
                future, here = pending[index]
                if future.cancel():  # no worker has begun it
                    drawn_here[index] = here()
            self._made += [drawn_here[index] if index in drawn_here else future.result()
                           for index, (future, _) in enumerate(pending)]
        except BaseException:
            self.cancel()
            raise
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        return self._made

    def cancel(self) -> None:
        """Kill the drawing (the caller is failing or stopping); charts drawn so far stay."""
        pool, self._pool, self._pending = self._pool, None, []
        if pool is not None:
            kill_pool(pool)


def start_interop_charts(rows: pd.DataFrame, libraries: list[str], folder: Path,
                         support: pd.DataFrame | None = None,
                         blamed: pd.DataFrame | None = None,
                         extra_jobs: int = 0) -> PendingCharts:
    """Start drawing the heatmaps and the support grid into `folder`. `support` and `blamed`:
    the rows' `support_table` and `blame`, when the caller has them already; `extra_jobs`: how
    many the caller will add (`draw`, `with_rows`), so that they get a worker too."""
    folder.mkdir(parents=True, exist_ok=True)
    # The vectors' scenarios have one producer (the vector file): the report's Known answers
    # table says it.
    jobs: list[tuple[str | None, Path]] = [
        (str(scenario), folder / f"heatmap-{scenario}.png")
        for scenario in sorted(rows["scenario"].unique())
        if not str(scenario).startswith("vectors.")]
    # A run of forged cases only (`--scenario attacks`) has no library round trip to show.
    # Listed last, but submitted first so that the longest starts first.
    support = support_table(rows, libraries) if support is None else support
    if not rows.empty and not support.empty:
        jobs.insert(0, (SUPPORT_GRID, folder / "support-grid.png"))
    return PendingCharts(rows, libraries, support, jobs, blamed, extra_jobs)


def interop_charts(rows: pd.DataFrame, libraries: list[str], folder: Path) -> list[Path]:
    """Draw the heatmaps and the support grid and return their paths, the grid last."""
    made = start_interop_charts(rows, libraries, folder).wait()
    grid = folder / "support-grid.png"
    return [path for path in made if path != grid] + [path for path in made if path == grid]
