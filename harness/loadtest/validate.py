"""What makes a load-test cell untrustworthy, said loudly instead of written as a number.

Locust exits 0 after a run that recorded nothing, and a worker that died or never reported
only lowers the totals; so every cell is checked before its row exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class CellCounts:
    """Final numbers of one cell: Locust's (batches, operations, failures) and the harness's."""

    requests: int
    operations: int
    failures: int
    histogram_count: int
    expected_workers: int = 0
    reporting_workers: int = 0
    missing_workers: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def problems(counts: CellCounts) -> list[str]:
    """Why the cell must be rejected; empty when its numbers can be trusted."""
    found = []
    detail = f": {counts.errors[0]}" if counts.errors else ""
    if counts.requests == 0:
        found.append(f"Locust recorded no requests (the run measured nothing){detail}")
    if counts.failures:
        found.append(f"{counts.failures} of {counts.requests} batches failed{detail}")
    if counts.histogram_count != counts.operations:
        found.append(f"the harness histogram holds {counts.histogram_count} operations but "
                     f"Locust counted {counts.operations}")
    if counts.missing_workers:
        found.append(f"worker(s) went missing: {', '.join(counts.missing_workers)}")
    if counts.expected_workers and counts.reporting_workers < counts.expected_workers:
        found.append(f"only {counts.reporting_workers} of {counts.expected_workers} workers "
                     f"reported operations")
    return found


def reporting_processes(summary_cell: dict[str, Any]) -> int:
    """How many processes timed at least one operation of the cell."""
    return sum(1 for state in summary_cell.get("processes", {}).values()
               if state.get("operations"))
