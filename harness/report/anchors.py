"""Anchors in report.html: every summary cell links to the rows that are its evidence."""

from __future__ import annotations

import re


def slug(*parts: str) -> str:
    return "-".join(re.sub(r"[^a-z0-9]+", "_", str(p).lower()).strip("_") for p in parts)


def evidence_id(scenario: str, producer: str, consumer: str) -> str:
    """The failing rows of one scenario and library pair (forged rows: producer `forge`)."""
    return "ev-" + slug(scenario, producer, consumer)


def finding_id(consumer: str, severity: str, group: str, cause: str) -> str:
    return "finding-" + slug(consumer, severity, group, cause)[:120]


def misses_id(library: str, source: str) -> str:
    """Anchor of one library's misses on one vector source, in the Known answers section."""
    return "ka-" + slug(library, source)
