"""What the attack rows say, derived at the end of `harness interop`: the unexpected accepts
(security findings) as `unexpected-accepts.csv`, a chart of verdicts per library and attack
class (`attack-verdicts.png`), and the summary lines that list the findings per library."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and CI
import matplotlib.pyplot as plt
import pandas as pd

from harness.interop.scenario import discover

UNEXPECTED_ACCEPTS_CSV = "unexpected-accepts.csv"
ATTACK_VERDICTS_PNG = "attack-verdicts.png"
ACCEPT_COLUMNS = ["library", "case", "suite", "config", "entry_point", "key_form",
                  "attack_class", "requirement", "detail"]
VERDICTS = ("passed", "unexpected accept", "unexpected reject", "dos", "error", "hang",
            "unsupported", "policy")
COLOURS = ("#2e7d32", "#c62828", "#ef6c00", "#ad1457", "#6a1b9a", "#000000", "#bdbdbd",
           "#64b5f6")
MAX_LISTED = 12


def attack_rows(rows: pd.DataFrame) -> pd.DataFrame:
    if "attack_class" not in rows:
        return rows.iloc[0:0]
    return rows[rows["attack_class"].notna()]


def descriptions() -> dict[str, str]:
    """Case id -> the case's description (what the forged token is), for the evidence."""
    try:
        return {case.id: case.description for case in discover()}
    except Exception:  # the table is still written without descriptions
        return {}


def _is_policy(rows: pd.DataFrame) -> pd.Series:
    return rows["policy"].fillna(False).astype(bool)


def unexpected_accepts(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows a correct library refuses that this one accepted, outside policy cases."""
    rows = attack_rows(rows)
    hits = rows[(rows["expected"] == "reject") & (rows["actual"] == "accepted")
                & ~_is_policy(rows)]
    described = descriptions()
    detail = "mode " + hits["mode"].astype(str) + ": accepted" + hits["detail"].fillna("").map(
        lambda text: f" ({text})" if text else "") + hits["case"].map(
        lambda case: f"; the case: {described[case]}" if case in described else "")
    table = pd.DataFrame({"library": hits["consumer"], "case": hits["case"],
                          "suite": hits["suite"], "config": hits["config"],
                          "entry_point": _column(hits, "entry_point", "jws"),
                          "key_form": _column(hits, "key_form", ""),
                          "attack_class": hits["attack_class"],
                          "requirement": hits["requirement"], "detail": detail})
    return table.sort_values(["library", "attack_class", "case", "suite", "config"]) \
        .reset_index(drop=True)


def _column(rows: pd.DataFrame, name: str, missing: str) -> pd.Series:
    return rows[name].fillna(missing) if name in rows else pd.Series(missing, index=rows.index)


def label(config: object, entry_point: object) -> str:
    """A configuration as the summary prints it: `broad-pem`, or `broad-pem via jwt`."""
    name = "" if pd.isna(config) else str(config)
    entry = "jws" if pd.isna(entry_point) else str(entry_point)
    return name if entry == "jws" else f"{name or 'default'} via {entry}"


def verdict_of(row: pd.Series) -> str:
    if row["actual"] == "unsupported":
        return "unsupported"
    if row.get("cost_verdict") == "dos":
        return "dos"
    if bool(row.get("policy") or False):
        return "policy"
    if row["passed"] is True or row["passed"] == True:  # noqa: E712 - object column
        return "passed"
    if row["actual"] in ("error", "hang"):
        return str(row["actual"])
    return "unexpected accept" if row["expected"] == "reject" else "unexpected reject"


def verdict_counts(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows per library, attack class and verdict (columns in VERDICTS order)."""
    rows = attack_rows(rows)
    if rows.empty:
        return pd.DataFrame(columns=["library", "attack_class", *VERDICTS])
    verdicts = rows.apply(verdict_of, axis=1)
    table = pd.crosstab([rows["consumer"], rows["attack_class"]], verdicts)
    table = table.reindex(columns=list(VERDICTS), fill_value=0)
    table.index.names = ["library", "attack_class"]
    return table.reset_index()


def verdict_chart(counts: pd.DataFrame, target: Path) -> Path:
    """One panel per library: a stacked bar of verdicts per attack class."""
    libraries = list(dict.fromkeys(counts["library"]))
    classes = sorted(counts["attack_class"].unique())
    fig, axes = plt.subplots(1, len(libraries), sharey=True, squeeze=False,
                             figsize=(2.0 + 3.2 * len(libraries), 1.2 + 0.32 * len(classes)))
    for ax, library in zip(axes[0], libraries, strict=True):
        frame = counts[counts["library"] == library].set_index("attack_class")[list(VERDICTS)] \
            .reindex(classes, fill_value=0)
        frame.plot.barh(stacked=True, ax=ax, color=COLOURS, legend=False, width=0.8)
        ax.set_title(library)
        ax.set_xlabel("rows")
        ax.set_ylabel("")
        ax.invert_yaxis()
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in COLOURS]
    fig.legend(handles, VERDICTS, loc="lower center", ncol=len(VERDICTS), fontsize=8,
               bbox_to_anchor=(0.5, 0.0))
    fig.suptitle("Attack verdicts per library and attack class")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target


def summary_lines(accepts: pd.DataFrame, libraries: list[str]) -> list[str]:
    """Unexpected accepts per library, grouped by case and configuration."""
    if accepts.empty:
        return ["Unexpected accepts: none."]
    lines = [f"Unexpected accepts (security findings, {len(accepts)} rows; "
             f"see {UNEXPECTED_ACCEPTS_CSV}):"]
    for library in libraries:
        mine = accepts[accepts["library"] == library]
        if mine.empty:
            lines.append(f"  {library}: none")
            continue
        lines.append(f"  {library}: {len(mine)} rows")
        shown = mine.assign(config=[label(c, e) for c, e in
                                    zip(mine["config"], _column(mine, "entry_point", "jws"),
                                        strict=True)])
        groups = shown.groupby(["case", "config"], sort=False)["suite"].agg(
            lambda s: ", ".join(dict.fromkeys(s)))
        for (case, config), suites in list(groups.items())[:MAX_LISTED]:
            lines.append(f"    {case} [{config}] {suites}")
        if len(groups) > MAX_LISTED:
            lines.append(f"    ... {len(groups) - MAX_LISTED} more in {UNEXPECTED_ACCEPTS_CSV}")
    return lines


def write_attack_outputs(rows: pd.DataFrame, libraries: list[str], folder: Path,
                         charts: bool = True) -> list[str]:
    """Write the CSV (and chart) when the run has attack rows; return the summary lines."""
    if attack_rows(rows).empty:
        return []
    accepts = unexpected_accepts(rows)
    accepts.to_csv(folder / UNEXPECTED_ACCEPTS_CSV, index=False, columns=ACCEPT_COLUMNS)
    if charts:
        verdict_chart(verdict_counts(rows), folder / ATTACK_VERDICTS_PNG)
    return summary_lines(accepts, libraries) + dos_lines(rows)


def dos_lines(rows: pd.DataFrame) -> list[str]:
    """Refusals that cost more than the budget (`harness.core.cost`), per library and case."""
    if "cost_verdict" not in rows:
        return []
    costly = rows[rows["cost_verdict"] == "dos"]
    if costly.empty:
        return []
    lines = [f"Costly refusals (dos, {len(costly)} rows):"]
    shown = costly.assign(config=[label(c, e) for c, e in
                                  zip(costly["config"], _column(costly, "entry_point", "jws"),
                                      strict=True)])
    for (library, case, config), group in shown.groupby(["consumer", "case", "config"],
                                                        sort=False):
        worst = group.sort_values("cpu_ms").iloc[-1]
        lines.append(f"  {library}: {case} [{config}] x{len(group)}, e.g. "
                     f"{worst['cpu_ms']:.0f} ms CPU, {worst['memory_growth_kb'] / 1024:.0f} MiB, "
                     f"{worst['token_bytes'] / 1024:.0f} KiB token")
    return lines[:MAX_LISTED * 2]
