"""`--instructions`: instructions per operation under valgrind's callgrind, a figure the
machine's load cannot move (the rates beside it are moved by whatever else the host runs).

Each cell runs once under `valgrind --tool=callgrind` (`count.py`): the operation n times,
then 2n times, then the `cryptography` floor n and 2n times, with a callgrind dump between the
loops. Instructions per operation = (instructions of the 2n loop − those of the n loop) ÷ n,
so start-up, imports, preparation and the loop's own entry and exit cancel. Python's hash
seed is fixed, so the only variation left is the operations' own randomness (nonces, fresh
content keys), well under 1 %.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.loadtest.cells import Cell

VALGRIND = "valgrind"
# Enough operations for the loop to dwarf the dump's own cost, few enough for slow cells
# (callgrind runs Python about 50× slower): n is this many operations of a ~1 ms budget.
N_MIN, N_MAX, NATIVE_BUDGET_S = 5, 400, 0.003
TIMEOUT_S = 900
INSTRUCTION_COLUMNS = ("library", "suite", "operation", "n", "instructions_per_op",
                       "primitive_instructions_per_op", "instructions_x")


def valgrind() -> str:
    found = shutil.which(VALGRIND)
    if not found:
        raise HarnessError("--instructions needs valgrind (Debian: apt-get install valgrind; "
                           "`make loadtest ARGS=--instructions` installs it as root)")
    return found


def operations_for(per_call_s: float) -> int:
    return max(N_MIN, min(N_MAX, round(NATIVE_BUDGET_S / max(per_call_s, 1e-9))))


def count_command(spec: str, cell: Cell, n: int, out: Path) -> list[str]:
    return [valgrind(), "--tool=callgrind", f"--callgrind-out-file={out}",
            "--dump-before=os_sched_yield", "--dump-instr=no", sys.executable, "-m",
            "harness.loadtest.count", spec, cell.suite.name, cell.operation, str(n)]


def dump_totals(out: Path) -> list[int]:
    """The instructions of each dump, in order (`out.1`, `out.2`, ...)."""
    totals = []
    index = 1
    while (part := out.with_name(f"{out.name}.{index}")).exists():
        lines = [line for line in part.read_text().splitlines() if line.startswith("totals:")]
        totals.append(int(lines[0].split()[1]) if lines else 0)
        index += 1
    return totals


def per_operation(totals: list[int], n: int) -> tuple[float, float]:
    """(library, floor) instructions per operation from the dumps: start-up, n, 2n of the
    library, warm-up, n, 2n of the floor."""
    if len(totals) < 6:
        raise HarnessError(f"callgrind left {len(totals)} dumps, 6 expected")
    return (totals[2] - totals[1]) / n, (totals[5] - totals[4]) / n


def count_cell(spec: str, cell: Cell, per_call_s: float, folder: Path) -> dict[str, Any]:
    """The cell's instructions per operation and its floor's; raises HarnessError when
    callgrind or the child fails."""
    n = operations_for(per_call_s)
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"callgrind.{cell.id}"
    for old in folder.glob(f"callgrind.{cell.id}*"):
        old.unlink()
    done = subprocess.run(count_command(spec, cell, n, out), capture_output=True, text=True,
                          timeout=TIMEOUT_S, env={**os.environ, "PYTHONHASHSEED": "0"},
                          check=False)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise HarnessError(f"callgrind on {cell.library} {cell.suite.name} {cell.operation} "
                           f"exited {done.returncode}: {tail}")
    library, floor = per_operation(dump_totals(out), n)
    for part in folder.glob(f"callgrind.{cell.id}*"):
        part.unlink()
    return {"library": cell.library, "suite": cell.suite.name, "operation": cell.operation,
            "n": n, "instructions_per_op": round(library),
            "primitive_instructions_per_op": round(floor),
            "instructions_x": round(library / floor, 3) if floor > 0 else None}
