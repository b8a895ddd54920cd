"""Everything the report and the compare read from one run folder, loaded once and checked.

Only stored files are read; nothing is run. A part the run does not have (no interop rows, no
load test, no claims sheet) is recorded in `absent` with the reason, so the report can say so.
A part that exists but cannot be read is a `HarnessError` naming the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from harness.core.errors import HarnessError
from harness.core.results import INTEROP_JSONL, ROW_FIELDS, UNREADABLE_LINES, Run, read_rows
from harness.interop.reference_consumer import REFERENCE
from harness.report.anomalies import TOKEN_SOURCES

LOADTEST_DIR = "loadtest"
LOADTEST_TABLE = "table.csv"
LOADTEST_META = "meta.json"
CLAIMS_CSV = "claims.csv"
KEYGEN_CSV = "keygen.csv"
THUMBPRINTS_CSV = "thumbprints.csv"
UNEXPECTED_ACCEPTS_CSV = "unexpected-accepts.csv"
LOADTEST_COLUMNS = ("library", "suite", "operation", "ops_per_s", "p50_us", "p90_us", "p99_us",
                    "p999_us", "inprocess_ops_per_s", "efficiency", "primitive",
                    "primitive_ops_per_s", "overhead_x", "processes", "requests", "operations",
                    "failures", "duration_s", "started")
# Read when present: the interquartile ranges across rounds (`x_q1`, `x_q3`), the rounds and
# the instruction counts, which runs from before interleaved rounds lack.
LOADTEST_SPREAD = ("ops_per_s", "inprocess_ops_per_s", "efficiency", "primitive_ops_per_s",
                   "overhead_x")
LOADTEST_OPTIONAL = (*(f"{figure}_{q}" for figure in LOADTEST_SPREAD for q in ("q1", "q3")),
                     "rounds", "instructions_per_op", "efficiency_wall")
LOADTEST_KEY = ["library", "suite", "operation"]
CLAIMS_COLUMNS = ("library", "situation", "configuration", "outcome", "detail")
# Fields only security rows carry (see SCHEMAS.md); present as empty columns on other runs.
SECURITY_FIELDS = ("config", "attack_class", "policy", "wall_ms", "peak_rss_kb", "entry_point",
                   "key_form", "raw_key", "genuine_verifies", "token_bytes", "cpu_ms",
                   "memory_growth_kb", "cost_verdict", "defect")


@dataclass
class RunData:
    run: Run
    meta: dict[str, Any]
    rows: pd.DataFrame
    loadtest: pd.DataFrame | None = None
    loadtest_meta: dict[str, Any] = field(default_factory=dict)
    claims: pd.DataFrame | None = None
    # The key-generation sheet and thumbprint agreement, when the keygen scenario ran.
    keygen: pd.DataFrame | None = None
    thumbprints: pd.DataFrame | None = None
    absent: dict[str, str] = field(default_factory=dict)
    stored_accepts: int | None = None  # rows in unexpected-accepts.csv, when the run has one
    unreadable_lines: int = 0  # a torn last line of interop.jsonl, skipped

    @property
    def name(self) -> str:
        return self.run.path.name

    @property
    def libraries(self) -> list[str]:
        """Libraries of the run, in run.json order, then any only the rows or load test name.
        The strict reference is no library to adopt: only the Known answers table shows it."""
        names = list(self.meta.get("libraries") or {})
        seen = [*self.rows["producer"].dropna(), *self.rows["consumer"].dropna()]
        if self.loadtest is not None:
            seen += list(self.loadtest["library"])
        return list(dict.fromkeys([*names, *(n for n in seen
                                             if n not in (*TOKEN_SOURCES, REFERENCE))]))

    @property
    def missing_libraries(self) -> dict[str, str]:
        return dict(self.meta.get("missing_libraries") or {})


def _read_csv(path: Path, columns: tuple[str, ...], text: bool = False) -> pd.DataFrame:
    try:
        frame = (pd.read_csv(path, dtype=str, keep_default_na=False) if text
                 else pd.read_csv(path))
    except (OSError, ValueError) as error:
        raise HarnessError(f"{path} is corrupt: {error}") from None
    lacking = [c for c in columns if c not in frame.columns]
    if lacking:
        raise HarnessError(f"{path} is corrupt: it lacks the columns {', '.join(lacking)}")
    return frame


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise HarnessError(f"{path} is corrupt: {error}") from None
    if not isinstance(value, dict):
        raise HarnessError(f"{path} is corrupt: not a JSON object")
    return value


def load_run(run: Run) -> RunData:
    if not run.path.is_dir():
        raise HarnessError(f"{run.path} is not a run folder")
    data = RunData(run=run, meta=run.read_meta(), rows=pd.DataFrame(columns=list(ROW_FIELDS)))
    if (run.path / INTEROP_JSONL).exists():
        data.rows = read_rows(run.path / INTEROP_JSONL)
        data.unreadable_lines = data.rows.attrs.get(UNREADABLE_LINES, 0)
    else:
        data.absent["interop"] = "this run has no interop rows (no `make interop` in it)"
    for name in SECURITY_FIELDS:
        if name not in data.rows.columns:
            data.rows[name] = None

    folder = run.path / LOADTEST_DIR
    if (folder / LOADTEST_TABLE).exists():
        table = _read_csv(folder / LOADTEST_TABLE, LOADTEST_COLUMNS)
        numeric = [c for c in LOADTEST_COLUMNS if c not in ("library", "suite", "operation",
                                                            "primitive", "started")]
        numeric += [c for c in LOADTEST_OPTIONAL if c in table.columns]
        try:
            table[numeric] = table[numeric].apply(pd.to_numeric)
        except ValueError as error:
            raise HarnessError(f"{folder / LOADTEST_TABLE} is corrupt: {error}") from None
        data.loadtest = table
        if (folder / LOADTEST_META).exists():
            data.loadtest_meta = _read_json(folder / LOADTEST_META)
    elif data.meta.get("loadtest"):
        status = (data.meta["loadtest"] or {}).get("status", "unknown")
        data.absent["loadtest"] = (f"run.json records a load test (status {status}) but "
                                   f"{LOADTEST_DIR}/{LOADTEST_TABLE} is missing: its numbers "
                                   "are lost; rerun `make loadtest`")
    else:
        data.absent["loadtest"] = ("no load test in this run yet: `make loadtest` adds one "
                                   "(to this run when the library versions match)")
    if (run.path / UNEXPECTED_ACCEPTS_CSV).exists():
        data.stored_accepts = len(_read_csv(run.path / UNEXPECTED_ACCEPTS_CSV, ("library",),
                                            text=True))

    if (run.path / CLAIMS_CSV).exists():
        data.claims = _read_csv(run.path / CLAIMS_CSV, CLAIMS_COLUMNS, text=True)
    else:
        data.absent["claims"] = "no claims-validation sheet (claims.csv) in this run"
    if (run.path / KEYGEN_CSV).exists():
        data.keygen = _read_csv(run.path / KEYGEN_CSV, ("library", "request", "kty", "outcome"),
                                text=True)
    if (run.path / THUMBPRINTS_CSV).exists():
        data.thumbprints = _read_csv(run.path / THUMBPRINTS_CSV, ("library", "key", "agrees"),
                                     text=True)
    return data
