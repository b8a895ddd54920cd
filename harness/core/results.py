"""Run folders: `results/<UTC timestamp>-<short id>/`, never overwritten, `results/latest` newest.

`interop.jsonl` is appended row by row (flushed as rows arrive, so a crash or Ctrl-C keeps
what finished); `interop.csv` is derived from it; `run.json` records what was run, on what.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import secrets
import subprocess
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import __version__
from harness.core.errors import HarnessError

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_RESULTS = Path("results")
INTEROP_JSONL = "interop.jsonl"
INTEROP_CSV = "interop.csv"
RUN_JSON = "run.json"
LATEST = "latest"
UNREADABLE_LINES = "unreadable_lines"
ROW_FIELDS = ("scenario", "case", "producer", "consumer", "suite", "mode", "expected", "actual",
              "passed", "detail", "duration_ms", "requirement", "config", "attack_class",
              "policy", "wall_ms", "peak_rss_kb", "error_source", "entry_point", "key_form",
              "raw_key", "genuine_verifies", "genuine_detail", "token_bytes", "cpu_ms",
              "consume_wall_ms", "memory_growth_kb", "baseline_cpu_ms", "time_budget_ms",
              "cost_verdict", "cost_detail", "conformance", "severity", "failed_in")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True,
                             text=True, timeout=5, cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def environment(libraries: dict[str, str], missing: dict[str, str]) -> dict[str, Any]:
    return {
        "harness_version": __version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "libraries": libraries,
        "missing_libraries": missing,
        "command": sys.argv,
        # With `host`, lets a reader tell a run still going from one killed outright.
        "pid": os.getpid(),
        "host": platform.node(),
    }


@contextlib.contextmanager
def unwritable(path: Path) -> Iterator[None]:
    """A full disk, a file-size limit or a read-only folder: a clear error naming the path
    (what was written before stays)."""
    try:
        yield
    except OSError as error:
        raise HarnessError(f"cannot write {path}: {error.strerror or error}; what was written "
                           "before is kept") from error


class Run:
    """One run folder and its files."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, root: Path, meta: dict[str, Any]) -> Run:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = root / f"{stamp}-{secrets.token_hex(3)}"
        with unwritable(path):
            path.mkdir(parents=True, exist_ok=False)
        run = cls(path)
        run.write_meta({**meta, "started": utc_now(), "finished": None, "status": "running"})
        with unwritable(root / LATEST):
            point_latest(root, path)
        return run

    @property
    def meta_path(self) -> Path:
        return self.path / RUN_JSON

    def read_meta(self) -> dict[str, Any]:
        try:
            meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise HarnessError(f"{self.path} is not a run folder: it has no {RUN_JSON}") from None
        except (OSError, ValueError) as error:
            raise HarnessError(f"{self.meta_path} is corrupt: {error}") from None
        if not isinstance(meta, dict):
            raise HarnessError(f"{self.meta_path} is corrupt: not a JSON object")
        return meta

    def write_meta(self, meta: dict[str, Any]) -> None:
        tmp = self.meta_path.with_suffix(".json.tmp")
        with unwritable(tmp):
            tmp.write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
            os.replace(tmp, self.meta_path)

    def update_meta(self, **changes: Any) -> None:
        self.write_meta({**self.read_meta(), **changes})

    def append_rows(self, rows: Iterable[dict[str, Any]]) -> None:
        """Whole lines in one write, so only a crash inside that write can tear the last."""
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        path = self.path / INTEROP_JSONL
        with unwritable(path), path.open("a", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()

    def interop_rows(self) -> pd.DataFrame:
        return read_rows(self.path / INTEROP_JSONL)

    def process_gone(self, meta: dict[str, Any]) -> bool:
        """A run still marked `running` whose process no longer exists on this host."""
        pid = meta.get("pid")
        if meta.get("status") != "running" or not isinstance(pid, int) \
                or meta.get("host") != platform.node():
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # alive, another user's
            pass
        return False

    def write_csv(self, rows: pd.DataFrame | None = None) -> pd.DataFrame:
        """`interop.csv` from the JSON lines (or from `rows`, read from them already); the rows
        it wrote, so they are read once."""
        rows = self.interop_rows() if rows is None else rows
        write_rows_csv(rows, self.path / INTEROP_CSV)
        return rows


def write_rows_csv(rows: pd.DataFrame, target: Path) -> Path:
    """The rows as CSV, written beside `target` and renamed onto it: a writer killed halfway
    (a stopped run's background outputs) leaves no torn file under the real name."""
    partial = target.with_name(target.name + ".part")
    rows.to_csv(partial, index=False)
    os.replace(partial, target)
    return target


def read_rows(path: Path) -> pd.DataFrame:
    """Load `interop.jsonl`; a clear `HarnessError` names the first bad line when it is corrupt.

    A last line cut short by a crash is dropped, since every earlier line is whole, and
    counted in the frame's `attrs["unreadable_lines"]` so readers can say so.
    """
    if not path.exists():
        raise HarnessError(f"{path} does not exist")
    records, torn = [], 0
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            if number == len(lines):
                torn = 1
                break
            raise HarnessError(f"{path}:{number} is not a JSON row; the file is corrupt") from None
        if not isinstance(record, dict) or "actual" not in record:
            raise HarnessError(f"{path}:{number} is not an interop row; the file is corrupt")
        records.append(record)
    import pandas as pd  # here, not at the top: see harness.interop.command

    frame = pd.DataFrame.from_records(records)
    # Older or smaller runs lack the optional fields; give every frame the full schema.
    frame = frame.reindex(columns=[*ROW_FIELDS, *(c for c in frame.columns
                                                  if c not in ROW_FIELDS)])
    frame.attrs[UNREADABLE_LINES] = torn
    return frame


def point_latest(root: Path, target: Path) -> None:
    link = root / LATEST
    tmp = root / f".{LATEST}.{secrets.token_hex(3)}"
    os.symlink(target.name, tmp)
    os.replace(tmp, link)


def resolve_run(root: Path, name: str | None) -> Run:
    """The run folder `name` (a path, or a folder name under `root`), or the newest."""
    if name:
        path = Path(name)
        if not path.exists():
            path = root / name
    else:
        path = root / LATEST
    if not path.exists():
        raise HarnessError(f"no run at {path}; run `make interop` first")
    return Run(path.resolve())
