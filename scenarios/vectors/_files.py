"""Where the vector files are, how they are read, and the defect list.

The files live in the project's `vectors/` folder; `HARNESS_VECTORS` points at another copy.
A file that cannot be read, or a test that lacks a field, becomes a case that fails with
`VectorDamaged` naming the file and the test, so every other vector still runs.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError

VECTORS_ENV = "HARNESS_VECTORS"
PROJECT_VECTORS = Path(__file__).resolve().parents[2] / "vectors"
DEFECTS_JSON = "defects.json"


class VectorDamaged(HarnessError):
    """A vector file, or one test in it, is not what its schema says."""


def vectors_root() -> Path:
    return Path(os.environ.get(VECTORS_ENV) or PROJECT_VECTORS)


def shown(path: Path, root: Path) -> str:
    """The path as a reader finds it: under the vectors folder when it is there."""
    try:
        return f"vectors/{path.relative_to(root)}"
    except ValueError:
        return str(path)


def read_json(path: Path) -> Any:
    """The file's JSON value; `VectorDamaged` naming the file when it has none."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise VectorDamaged(f"{path}: damaged vector file: {error}") from None


@cache
def defects(root: Path) -> dict[tuple[str, str], str]:
    """(file name, test id) -> why the vector is wrong against the RFC, from `defects.json`.

    The file lists entries with `file`, `tcId` and `reason` (a list, or under `defects`);
    the file may be named by its path under `vectors/` or by its base name. A cookbook example
    is named by its case name (`5_13_general_key1`), its section (`5_13`) or no test at all
    (the whole file)."""
    path = root / DEFECTS_JSON
    if not path.exists():
        return {}
    value = read_json(path)
    entries = value.get("defects", []) if isinstance(value, dict) else value
    found: dict[tuple[str, str], str] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or "file" not in entry:
            raise VectorDamaged(f"{path}: an entry lacks `file`: {entry!r}")
        test = entry.get("tcId", entry.get("test", entry.get("id")))
        found[(Path(str(entry["file"])).name, str(test))] = str(
            entry.get("reason") or "listed as a defect (no reason given)")
    return found


def defect_of(root: Path, path: Path, test: object) -> str | None:
    return defects(root).get((path.name, str(test)))
