"""A progress line on stderr: redrawn in place on a terminal, every tenth of the way otherwise."""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import Any, TextIO


class Progress:
    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total, self.done = total, 0
        self.stream = stream or sys.stderr
        self.counts: Counter[str] = Counter()
        self.started = time.monotonic()
        self.interactive = self.stream.isatty()
        self._next_report = 0.1

    def update(self, rows: list[dict[str, Any]]) -> None:
        self.done += len(rows)
        self.counts.update(row["actual"] for row in rows)
        fraction = self.done / self.total if self.total else 1.0
        if self.interactive:
            self.stream.write("\r" + self._line(fraction))
            self.stream.flush()
        elif fraction >= self._next_report or self.done == self.total:
            self.stream.write(self._line(fraction) + "\n")
            self._next_report = int(fraction * 10 + 1) / 10

    def close(self) -> None:
        if self.interactive:
            self.stream.write("\n")

    def _line(self, fraction: float) -> str:
        elapsed = time.monotonic() - self.started
        counts = " ".join(f"{name} {count}" for name, count in sorted(self.counts.items()))
        return f"[{self.done}/{self.total}] {fraction:4.0%} {elapsed:5.1f}s  {counts}"
