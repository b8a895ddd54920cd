"""Per-operation latency histograms with 1 % wide buckets, cheap to fill and exact to merge.

Locust rounds response times under 100 ms to whole milliseconds, which says nothing about a
10 µs operation, so each process keeps its own histogram of nanosecond timings. Values are
buffered as plain ints during a batch and bucketed later with numpy, so the timed loop pays
only a clock read and a list append per operation.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

BASE = 1.01
_SCALE = 1.0 / math.log(BASE)
PERCENTILES = (50.0, 90.0, 99.0, 99.9)


class Histogram:
    """Counts of nanosecond values in buckets `[BASE**i, BASE**(i+1))`, keyed by `i`."""

    def __init__(self, counts: dict[int, int] | None = None) -> None:
        self.counts: Counter[int] = Counter(counts or {})

    def record_ns(self, values: Iterable[int]) -> None:
        data = np.fromiter(values, dtype=np.float64)
        if data.size == 0:
            return
        buckets = np.floor(np.log(np.maximum(data, 1.0)) * _SCALE).astype(np.int64)
        low = int(buckets.min())
        for offset, count in enumerate(np.bincount(buckets - low).tolist()):
            if count:
                self.counts[low + offset] += count

    def merge(self, other: Histogram) -> None:
        self.counts.update(other.counts)

    @property
    def count(self) -> int:
        return sum(self.counts.values())

    def percentile_ns(self, percent: float) -> float:
        """The value below which `percent` % of the operations fall (bucket's geometric middle)."""
        total = self.count
        if total == 0:
            return math.nan
        rank = percent / 100.0 * total
        seen = 0
        for bucket in sorted(self.counts):
            seen += self.counts[bucket]
            if seen >= rank:
                return BASE ** (bucket + 0.5)
        return BASE ** (max(self.counts) + 0.5)

    def percentiles_us(self) -> dict[str, float]:
        return {key: round(self.percentile_ns(p) / 1000.0, 2)
                for key, p in zip(("p50_us", "p90_us", "p99_us", "p999_us"), PERCENTILES,
                                  strict=True)}

    def to_json(self) -> dict[str, Any]:
        return {"unit": "ns", "base": BASE, "count": self.count,
                "buckets": {str(k): v for k, v in sorted(self.counts.items())}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Histogram:
        if data.get("base") != BASE or data.get("unit") != "ns":
            raise ValueError("histogram in another unit or bucket base")
        return cls({int(k): int(v) for k, v in data.get("buckets", {}).items()})
