"""The claims-validation sheet: what each library does with each claims situation, per consumer
configuration, derived from the `claims.*` rows of a run (`claims.csv`, `claims-sheet.png`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.patches import Patch, Rectangle

from harness.core.claims import ClaimsOptions, situation_of
from harness.interop.scenario import Case

CLAIMS_CSV = "claims.csv"
CLAIMS_CHART = "claims-sheet.png"
COLUMNS = ("library", "situation", "configuration", "outcome", "detail", "expected", "policy",
           "verdict", "requirement", "description")
# The order a reader follows: the control, time claims, then identity claims, then types.
TOPIC_ORDER = ("baseline", "exp", "nbf", "iat", "aud", "iss", "types")
OUTCOME_COLOURS = {"accepted": "#a6dba0", "rejected": "#c6d3e3", "unsupported": "#ffffff",
                   "error": "#f4a582", "hang": "#b07cc6"}
EXPECTED_COLOURS = {"accept": "#d9f0d3", "reject": "#e4ebf3"}
SHORT = {"accepted": "accept", "rejected": "reject", "unsupported": "n/a", "error": "ERROR",
         "hang": "HANG"}
FAIL_EDGE = "#d7191c"


def _verdict(row: pd.Series) -> str:
    if row["actual"] == "unsupported":
        return "not judged"
    if row["actual"] in ("error", "hang"):
        return "fail"  # always a failure (harness.core.outcomes.LEGEND), even where policy decides
    if row["policy"]:
        return "policy"
    return "pass" if row["passed"] else "fail"


def claims_options(cases: Sequence[Case]) -> dict[str, ClaimsOptions]:
    """Configuration name -> its claims options, from fewest options set to most."""
    found: dict[str, ClaimsOptions] = {}
    for case in cases:
        for config in case.configs:
            options = getattr(config, "claims", None)
            if isinstance(options, ClaimsOptions):
                found.setdefault(config.name, options)
    return dict(sorted(found.items(), key=lambda item: item[1].count_set()))


def claims_table(rows: pd.DataFrame, cases: Sequence[Case] = (),
                 libraries: Sequence[str] = ()) -> pd.DataFrame:
    """One row per (library, situation, configuration), in reading order."""
    if "scenario" not in rows:
        return pd.DataFrame(columns=list(COLUMNS))
    claims = rows[rows["scenario"].astype(str).str.startswith("claims.")].copy()
    if claims.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    described = {case.id: case.description.replace("\n", " ") for case in cases}
    position = {case.id: index for index, case in enumerate(cases)}
    claims["situation"] = [situation_of(case, config)
                           for case, config in zip(claims["case"], claims["config"], strict=True)]
    claims["policy"] = claims["policy"].fillna(False).astype(bool)
    table = pd.DataFrame({
        "library": claims["consumer"], "situation": claims["situation"],
        "configuration": claims["config"], "outcome": claims["actual"],
        "detail": claims["detail"].fillna(""), "expected": claims["expected"],
        "policy": claims["policy"], "verdict": claims.apply(_verdict, axis=1),
        "requirement": claims["requirement"],
        "description": claims["case"].map(described).fillna("")})
    table["_topic"] = _rank(table["situation"].str.split(".").str[0], list(TOPIC_ORDER))
    # A situation sits where the first of its cases was declared.
    first_case = claims["case"].map(position).fillna(len(position))
    table["_case"] = first_case.groupby(table["situation"]).transform("min")
    table["_config"] = _rank(table["configuration"], list(claims_options(cases)))
    table["_library"] = _rank(table["library"], list(libraries))
    table = table.sort_values(["_topic", "_case", "situation", "_config", "configuration",
                               "_library", "library"], kind="stable")
    return table.drop(columns=["_topic", "_case", "_config", "_library"]).reset_index(drop=True)


def _rank(values: pd.Series, order: list[str]) -> pd.Series:
    return values.map(lambda value: order.index(value) if value in order else len(order))


def claims_chart(table: pd.DataFrame, target: Path, libraries: Sequence[str] = (),
                 summaries: dict[str, str] | None = None) -> Path:
    """Situations down, configuration × (expected, libraries) across; colour is what the
    library did, a red frame marks an outcome the RFC forbids, hatching marks policy."""
    situations = list(dict.fromkeys(table["situation"]))
    configs = list(dict.fromkeys(table["configuration"]))
    # A library that supports none of it gets a footnote, not three columns of "n/a".
    unsupported = table.groupby("library")["outcome"].agg(lambda o: (o == "unsupported").all())
    omitted = {lib: str(table.loc[table["library"] == lib, "detail"].iloc[0])
               for lib in unsupported[unsupported].index}
    present = [lib for lib in dict.fromkeys(table["library"]) if lib not in omitted]
    libs = [lib for lib in libraries if lib in present] + \
        [lib for lib in present if lib not in libraries]
    cell = table.set_index(["situation", "configuration", "library"])
    first = table.drop_duplicates(["situation", "configuration"]).set_index(
        ["situation", "configuration"])
    block = len(libs) + 1
    gap = 0.4
    width = len(configs) * block + (len(configs) - 1) * gap
    fig, ax = plt.subplots(figsize=(5.8 + 0.82 * width, 2.6 + 0.25 * len(situations)))
    for c, config in enumerate(configs):
        left = c * (block + gap)
        ax.text(left + block / 2, -2.0, config, ha="center", va="center", fontsize=10,
                fontweight="bold")
        ax.text(left + block / 2, -1.35, (summaries or {}).get(config, ""), ha="center",
                va="center", fontsize=7, wrap=True)
        for j, name in enumerate(["expected", *libs]):
            ax.text(left + j + 0.5, -0.45, name, ha="center", va="center", fontsize=8,
                    fontstyle="italic" if j == 0 else "normal")
        for i, situation in enumerate(situations):
            if (situation, config) not in first.index:
                continue
            expected = first.loc[(situation, config)]
            policy = bool(expected["policy"])
            ax.add_patch(Rectangle((left, i), 1, 1, facecolor=EXPECTED_COLOURS.get(
                expected["expected"], "white"), edgecolor="#9e9e9e" if policy else "white",
                hatch="////" if policy else None, linewidth=0.6 if policy else 1))
            label = f"({expected['expected']})" if policy else expected["expected"]
            ax.text(left + 0.5, i + 0.5, label, ha="center", va="center", fontsize=7,
                    fontstyle="italic" if policy else "normal")
            for j, lib in enumerate(libs, start=1):
                key = (situation, config, lib)
                if key not in cell.index:
                    continue
                found = cell.loc[key]
                failed = found["verdict"] == "fail"
                ax.add_patch(Rectangle(
                    (left + j, i), 1, 1, facecolor=OUTCOME_COLOURS.get(found["outcome"], "white"),
                    edgecolor=FAIL_EDGE if failed else "white", linewidth=2.2 if failed else 1,
                    zorder=3 if failed else 2))
                text = SHORT.get(found["outcome"], found["outcome"])
                ax.text(left + j + 0.5, i + 0.5, ("✗ " + text) if failed else text,
                        ha="center", va="center", fontsize=7, zorder=4,
                        color=FAIL_EDGE if failed else "black",
                        fontweight="bold" if failed else "normal")
    topics = [s.split(".")[0] for s in situations]
    for i in range(1, len(situations)):
        if topics[i] != topics[i - 1]:
            ax.axhline(i, color="#555555", linewidth=0.8, zorder=5)
    labels = [_label(situation, str(table.loc[table["situation"] == situation,
                                              "description"].iloc[0]))
              for situation in situations]
    ax.set_yticks([i + 0.5 for i in range(len(situations))], labels, fontsize=7.5)
    ax.set_xticks([])
    ax.set_xlim(0, width)
    ax.set_ylim(len(situations), -2.5)
    ax.tick_params(axis="y", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    handles = [Patch(facecolor=OUTCOME_COLOURS[o], edgecolor="#999999", label=SHORT[o] + "ed"
                     if o in ("accepted", "rejected") else o)
               for o in ("accepted", "rejected", "error", "hang", "unsupported")]
    handles += [Patch(facecolor="white", edgecolor=FAIL_EDGE, linewidth=2,
                      label="✗ fails: departs from RFC 7519 / RFC 8725, or crashes (ERROR)"),
                Patch(facecolor="white", edgecolor="#999999", hatch="////",
                      label="(expected) policy: the RFC leaves it to the application")]
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.02), ncol=4,
               fontsize=7.5, frameon=False)
    if omitted:
        fig.text(0.5, 0.0, "Not shown, unsupported throughout: " + "; ".join(
            f"{lib} ({why})" for lib, why in omitted.items()), ha="center", fontsize=7.5)
    fig.suptitle("JWT claims validation: what each library does with a correctly signed token "
                 "(HS256)", fontsize=11)
    fig.tight_layout(rect=(0, 0.07, 1, 0.97))
    # Long situation labels can outgrow the margin tight_layout leaves; keep all of them.
    fig.savefig(target, dpi=110, bbox_inches="tight", pad_inches=0.2)
    plt.close(fig)
    return target


def _label(situation: str, description: str) -> str:
    """The situation and what the token carries: the description up to its first colon."""
    what, quoted = description, False
    for index, char in enumerate(description):
        quoted = quoted != (char == "`")
        if not quoted and description.startswith(": ", index):
            what = description[:index]
            break
    what = what.replace("`", "").rstrip(".")
    what = what if len(what) <= 46 else what[:45] + "…"
    return f"{situation}  ·  {what}" if what else situation


def write_claims_sheet(rows: pd.DataFrame, cases: Sequence[Case], folder: Path,
                       libraries: Sequence[str] = (), charts: bool = True,
                       draw: Callable[..., None] | None = None) -> list[Path]:
    """`claims.csv` (and the chart) when the run has claims rows; nothing otherwise. `draw`:
    how to draw the chart (`PendingCharts.draw`, in a worker); without it, here."""
    table = claims_table(rows, cases, libraries)
    if table.empty:
        return []
    written = [folder / CLAIMS_CSV]
    table.to_csv(written[0], index=False)
    if charts:
        arguments = (table, folder / CLAIMS_CHART, list(libraries),
                     {name: options.summary() for name, options in claims_options(cases).items()})
        if draw is None:
            claims_chart(*arguments)
        else:
            draw(claims_chart, *arguments)
        written.append(folder / CLAIMS_CHART)
    return written
