"""The algorithm-names sheet: every name each library registers, read from the library's own
registry objects (`Adapter.registered_names`), held against the IANA JOSE registry
(`harness.core.jose_registry`). Written as `algorithm_names.csv` into the run folder, with the
departures printed at the end of the summary and listed in the report.

A name the registry lacks, or a registered algorithm spelled otherwise (`ES256k` for `ES256K`),
is a departure of that library. Where the spelling is the only difference the matrix shows it
too: the adapter implements the suite under the library's own name, so its tokens fail at every
other consumer and the others' tokens fail at it (producer and consumer failures), not
"unsupported".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from harness.adapters.base import Adapter
from harness.core.errors import Unsupported
from harness.core.jose_registry import judge_name

NAMES_CSV = "algorithm_names.csv"
COLUMNS = ("library", "version", "location", "name", "verdict", "registered_as", "departs",
           "explanation")


def name_rows(adapters: Sequence[Adapter]) -> pd.DataFrame:
    rows = []
    for adapter in adapters:
        try:
            names = adapter.registered_names()
        except Unsupported as why:
            rows.append({"library": adapter.name, "version": adapter.version, "location": "",
                         "name": "", "verdict": "not read", "registered_as": "",
                         "departs": False, "explanation": str(why)})
            continue
        for location, listed in sorted(names.items()):
            for name in sorted(set(map(str, listed))):
                verdict = judge_name(name, location)
                rows.append({"library": adapter.name, "version": adapter.version,
                             "location": location, "name": name, "verdict": verdict.verdict,
                             "registered_as": verdict.registered_as,
                             "departs": verdict.departs, "explanation": verdict.explanation})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def write_names_sheet(adapters: Sequence[Adapter], folder: Path) -> pd.DataFrame:
    frame = name_rows(adapters)
    frame.to_csv(folder / NAMES_CSV, index=False)
    return frame


def read_names_sheet(folder: Path) -> pd.DataFrame | None:
    path = folder / NAMES_CSV
    if not path.exists():
        return None
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame["departs"] = frame["departs"].str.lower() == "true"
    return frame


def departures_by_library(frame: pd.DataFrame) -> dict[str, list[str]]:
    """library -> one line per departing name: `name` (location): explanation."""
    out: dict[str, list[str]] = {}
    for row in frame[frame["departs"]].itertuples():
        out.setdefault(str(row.library), []).append(
            f"{row.name} ({row.location}): {row.explanation}")
    return out


def summary_lines(frame: pd.DataFrame) -> list[str]:
    """The summary's closing lines: per library, its names that depart from IANA's."""
    libraries = list(dict.fromkeys(frame["library"]))
    read = frame[frame["verdict"] != "not read"]
    departing = departures_by_library(frame)
    lines = [f"\nAlgorithm names against the IANA JOSE registry ({NAMES_CSV}): "
             f"{read['name'].ne('').sum()} names of {len(libraries)} libraries, "
             f"{len(departing)} with departures"]
    for library in libraries:
        own = read[read["library"] == library]
        if own.empty:
            why = frame[frame["library"] == library]["explanation"].iloc[0]
            lines.append(f"  {library}: not read: {why}")
            continue
        drafts = own[own["verdict"] == "draft"]["name"].tolist()
        note = f"; draft names {', '.join(drafts)}" if drafts else ""
        if library not in departing:
            lines.append(f"  {library}: all {len(own)} names registered{note}")
            continue
        lines.append(f"  {library}: {len(departing[library])} of {len(own)} names depart{note}")
        lines += [f"    {line}" for line in departing[library]]
    return lines
