"""What `harness interop` was asked for, and its exit codes (shared by `command`, which runs the
cells, and `outputs`, which writes the rest once they have run)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

EXIT_OK, EXIT_HARNESS, EXIT_ERROR_ROWS, EXIT_FINDINGS = 0, 1, 3, 4


@dataclass
class InteropOptions:
    libraries: list[str]
    suites: list[str]
    scenarios: list[str]
    modes: list[str]
    jobs: int | None  # None: `command.default_jobs()`, one per usable core
    results: Path
    dry_run: bool = False
    fail_on_findings: bool = False
    charts: bool = True
    # Other releases of the Python libraries, each a peer in its own venv (`pyjwt==2.10.0`).
    with_pins: list[str] = field(default_factory=list)
    # Every peer on this machine joins a run that names no library.
    peers: bool = False

