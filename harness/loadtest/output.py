"""`results/<run>/loadtest/`: the tidy table, meta.json, Locust's own files gathered, histograms.

Which run folder: the newest when every measured library has the version recorded in its
run.json and it holds no load test yet; a new run folder otherwise, so a report never mixes
library versions and nothing already written is replaced.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from harness.core.errors import HarnessError
from harness.core.results import LATEST, Run, environment, point_latest, resolve_run, utc_now
from harness.loadtest.instructions import INSTRUCTION_COLUMNS

LOADTEST = "loadtest"
# A figure `x` measured over rounds comes with `x_q1` and `x_q3`, its interquartile range.
TABLE_COLUMNS = ("library", "suite", "operation", "ops_per_s", "ops_per_s_q1", "ops_per_s_q3",
                 "p50_us", "p90_us", "p99_us", "p999_us",
                 "inprocess_ops_per_s", "inprocess_ops_per_s_q1", "inprocess_ops_per_s_q3",
                 "efficiency", "efficiency_q1", "efficiency_q3", "efficiency_wall", "primitive",
                 "primitive_ops_per_s", "primitive_ops_per_s_q1", "primitive_ops_per_s_q3",
                 "overhead_x", "overhead_x_q1", "overhead_x_q3", "instructions_per_op",
                 "rounds", "processes", "requests", "operations", "failures", "duration_s",
                 "started")


def choose_run(root: Path, libraries: dict[str, str], missing: dict[str, str],
               selection: dict[str, Any], folder: str = LOADTEST) -> tuple[Run, bool]:
    """(run, reused): the newest run if its library versions match and it has no `folder`
    yet (`loadtest`, or `loadtest-http` for the HTTP load test), else a new one."""
    if (root / LATEST).exists():
        try:
            run = resolve_run(root, None)
            recorded = run.read_meta().get("libraries", {})
        except HarnessError:
            recorded, run = {}, None
        if run and recorded and all(recorded.get(name) == version
                                    for name, version in libraries.items()) \
                and not (run.path / folder).exists():
            point_latest(root, run.path)
            return run, True
    run = Run.create(root, {**environment(libraries, missing), "kind": folder,
                            "selection": selection})
    return run, False


class LoadtestFolder:
    """The `loadtest/` folder of a run; the table is rewritten after every cell."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.path = run.path / LOADTEST
        self.path.mkdir(parents=True, exist_ok=False)
        self.rows: list[dict[str, Any]] = []
        self.runs: list[Path] = []
        self.write_table()

    def run_folder(self, name: str) -> Path:
        """Where one Locust run writes: a library's, a re-measure's, or one cell's alone."""
        folder = self.path / "locust" / name
        self.runs.append(folder)
        return folder

    def add_row(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self.write_table()

    def replace_row(self, row: dict[str, Any]) -> None:
        """A cell measured again: its new row takes the old one's place."""
        key = (row["library"], row["suite"], row["operation"])
        self.rows = [row if (r["library"], r["suite"], r["operation"]) == key else r
                     for r in self.rows]
        self.write_table()

    def table(self) -> pd.DataFrame:
        return pd.DataFrame.from_records(self.rows, columns=list(TABLE_COLUMNS))

    def write_table(self) -> Path:
        target = self.path / "table.csv"
        tmp = target.with_suffix(".csv.tmp")
        self.table().to_csv(tmp, index=False)
        os.replace(tmp, target)
        return target

    def write_instructions(self, rows: list[dict[str, Any]]) -> Path:
        target = self.path / "instructions.csv"
        pd.DataFrame.from_records(rows, columns=list(INSTRUCTION_COLUMNS)).to_csv(target,
                                                                                  index=False)
        return target

    def write_meta(self, meta: dict[str, Any]) -> None:
        tmp = self.path / "meta.json.tmp"
        tmp.write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
        os.replace(tmp, self.path / "meta.json")

    def mark_run(self, **loadtest: Any) -> None:
        meta = self.run.read_meta()
        self.run.update_meta(loadtest={**meta.get("loadtest", {}), **loadtest})

    def gather_locust_output(self, kept: dict[str, str]) -> None:
        """Every run's Locust numbers and histograms side by side, one file of each kind.

        `locust_stats.csv` is made from Locust's `--json-file` output, its final numbers: the
        `--csv` files Locust writes once a second miss the last second and, once the JSON file
        is written (which resets Locust's stats), can lose the row. They stay in `locust/<run>/`.
        `kept` names, per `library|tag`, the run whose measurement is in the table: a cell
        measured twice keeps that run's histogram.
        """
        entries, histograms = [], {}
        # In the order the runs were made, so a cell measured again keeps its last histogram.
        for folder in self.runs:
            found = _read_json(folder / "locust.json", [])
            entries += [{**entry, "run": folder.name} for entry in found]
            cells = _read_json(folder / "histograms.json", {}).get("cells", {})
            histograms.update({key: cell for key, cell in cells.items()
                               if kept.get(key, folder.name) == folder.name})
        columns = ["run", "method", "name", "num_requests", "num_failures", "total_content_length",
                   "total_response_time", "min_response_time", "max_response_time",
                   "start_time", "last_request_timestamp"]
        frame = pd.DataFrame.from_records(entries, columns=columns).rename(columns={
            "method": "library", "name": "task", "total_content_length": "operations",
            "total_response_time": "total_response_time_ms"})
        frame.to_csv(self.path / "locust_stats.csv", index=False)
        (self.path / "locust.json").write_text(json.dumps(entries, indent=1) + "\n",
                                               encoding="utf-8")
        (self.path / "histograms.json").write_text(json.dumps(histograms, indent=1) + "\n",
                                                   encoding="utf-8")


def _read_json(path: Path, empty: Any) -> Any:
    """A run's file, or `empty` when a killed run left it missing or half written."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return empty


def finish_meta(meta: dict[str, Any], status: str) -> dict[str, Any]:
    return {**meta, "finished": utc_now(), "status": status,
            "load_average_end": list(os.getloadavg())}
