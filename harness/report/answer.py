"""The answer first: which library for which job, read from the stored rows.

A job is a handful of suites and the cases that exercise them (the compact round trip, or the
JSON serializations). For each job the table says which libraries take each other's tokens for
every suite of the job by default, which only once the algorithms are enabled, which are left
out and why (unsupported, or a failing pair and the side it is charged to), each library's most
severe finding on that family of tokens, and its throughput for the job's consuming operation
when the run has a load test. Every item carries the anchor of its evidence in report.html.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from harness.core.blame import library_pairs
from harness.core.severity import most_severe, rank
from harness.report.anchors import evidence_id, slug
from harness.report.throughput import rate

Link = tuple[str, str]  # (text, anchor without '#')


@dataclass(frozen=True)
class Job:
    name: str
    suites: tuple[str, ...]
    cases: tuple[str, ...]
    operation: str  # the consumer's operation the load test measured for it ("" for none)


COMPACT = ("jws.roundtrip.compact", "jwe.roundtrip.compact")
JSON_CASES = ("jws.serialization.flattened", "jws.serialization.general",
              "jwe.serialization.flattened", "jwe.serialization.general")
JOBS = (
    Job("signed access tokens", ("JWS RS256", "JWS ES256", "JWS EdDSA (Ed25519)"), COMPACT,
        "verify"),
    Job("encrypted access tokens", ("JWE RSA-OAEP-256 + A256GCM",
                                    "JWE ECDH-ES+A256KW (P-256) + A256GCM"), COMPACT, "decrypt"),
    Job("symmetric tokens", ("JWS HS256", "JWE dir + A256GCM", "JWE A256KW + A256GCM"), COMPACT,
        "verify/decrypt"),
    Job("JSON serialization", ("JWS RS256", "JWS ES256", "JWS HS256",
                               "JWE RSA-OAEP-256 + A256GCM", "JWE A256KW + A256GCM",
                               "JWE ECDH-ES+A256KW (P-256) + A256GCM"), JSON_CASES, ""),
)


@dataclass
class AnswerRow:
    job: Job
    by_default: list[Link] = field(default_factory=list)
    once_enabled: list[Link] = field(default_factory=list)
    left_out: list[Link] = field(default_factory=list)
    findings: list[Link] = field(default_factory=list)
    throughput: list[Link] = field(default_factory=list)
    note: str = ""
    missing: list[str] = field(default_factory=list)  # the job's suites this run did not run


def _families(suites: tuple[str, ...]) -> set[str]:
    return {name.split(" ", 1)[0] for name in suites}


def _own_support(rows: pd.DataFrame, job: Job, library: str) -> str:
    """`default`, `enabled`, or `no`: whether the library takes its own token for every suite of
    the job (in that mode)."""
    own = rows[(rows["producer"] == library) & (rows["consumer"] == library)
               & rows["case"].isin(job.cases) & rows["suite"].isin(job.suites)]
    for mode in ("default", "enabled"):
        works = own[(own["mode"] == mode) & own["passed"].eq(True)]
        if set(job.suites) <= set(works["suite"]):
            return mode
    return "no"


def _pairs(pairs: pd.DataFrame, job: Job, mode: str, libraries: list[str]) -> pd.DataFrame:
    """`pairs`: `library_pairs` of the run's rows."""
    return pairs[pairs["case"].isin(job.cases) & pairs["suite"].isin(job.suites)
                 & (pairs["mode"] == mode) & pairs["producer"].isin(libraries)
                 & pairs["consumer"].isin(libraries)]


def _together(pairs: pd.DataFrame, job: Job, mode: str, candidates: list[str],
              blamed: pd.DataFrame) -> tuple[list[str], dict[str, Link]]:
    """The candidates that work with every other one in this mode; the rest, each with the pair
    that fails and the side charged. A library charged for a failing pair leaves the group first
    (the side that departs from the RFC), so one bad reader does not exclude a good writer."""
    group = list(candidates)
    dropped: dict[str, Link] = {}
    while len(group) > 1:
        cells = _pairs(pairs, job, mode, group)
        failing = cells[cells["passed"].eq(False)]
        if failing.empty:
            break
        charged = blamed.loc[blamed.index.intersection(failing.index)]
        blame_of = {}
        for _, cell in charged.iterrows():
            side = cell["charged"]
            who = cell[side] if side in ("producer", "consumer") else None
            for name in ([who] if who else [cell["producer"], cell["consumer"]]):
                blame_of[name] = blame_of.get(name, 0) + 1
        worst = max(blame_of, key=lambda n: (blame_of[n], -group.index(n)))
        cell = failing[(failing["producer"] == worst) | (failing["consumer"] == worst)].iloc[0]
        other = cell["consumer"] if cell["producer"] == worst else cell["producer"]
        role = "writing for" if cell["producer"] == worst else "reading"
        dropped[worst] = (f"{worst}: fails {role} {other}",
                          evidence_id(str(cell["scenario"]), str(cell["producer"]),
                                      str(cell["consumer"])))
        group.remove(worst)
    return group, dropped


def _throughput(loadtest: pd.DataFrame | None, job: Job, library: str) -> Link | None:
    if loadtest is None or not job.operation:
        return None
    operations = job.operation.split("/")
    mine = loadtest[(loadtest["library"] == library) & loadtest["suite"].isin(job.suites)
                    & loadtest["operation"].isin(operations)]
    if mine.empty:
        return None
    slowest = mine.loc[mine["ops_per_s"].idxmin()]
    short = str(slowest["suite"]).removeprefix("JWS ").removeprefix("JWE ")
    text = f"{library} {rate(slowest['ops_per_s'])}"
    if len(mine) > 1:
        text += f" (slowest: {short})"
    return text, "loadtest"


def answer(rows: pd.DataFrame, libraries: list[str], found: pd.DataFrame,
           blamed: pd.DataFrame, loadtest: pd.DataFrame | None,
           evidence_rows: pd.DataFrame | None = None) -> list[AnswerRow]:
    """One row per job. `found`: the run's findings; `blamed`: core.blame of the rows."""
    result = []
    families_of = _finding_families(found, evidence_rows if evidence_rows is not None else rows)
    ran = set(rows["suite"].dropna()) if not rows.empty else set()
    pairs = library_pairs(rows)
    own = rows[rows["producer"] == rows["consumer"]]
    for declared in JOBS:
        # A run of a selection answers for the job's suites it ran, and says which it lacks.
        job = replace(declared, suites=tuple(s for s in declared.suites if s in ran))
        out = AnswerRow(job)
        missing = [s for s in declared.suites if s not in ran]
        if not job.suites:
            out.note = "none of the job's suites ran"
            out.missing = missing
            result.append(out)
            continue
        out.missing = missing
        support = {lib: _own_support(own, job, lib) for lib in libraries}
        default = [lib for lib in libraries if support[lib] == "default"]
        group, dropped = _together(pairs, job, "default", default, blamed)
        family = job.suites[0].split(" ", 1)[0].lower()
        scenario = next(c for c in job.cases if c.startswith(family)).rsplit(".", 1)[0]
        out.by_default = [(lib, f"grid-{slug(scenario)}") for lib in group]
        enabled = [lib for lib in libraries if support[lib] in ("default", "enabled")]
        wider, dropped_enabled = _together(pairs, job, "enabled", enabled, blamed)
        out.once_enabled = [(lib, "support") for lib in wider if lib not in group]
        for lib in libraries:
            if lib in group or lib in wider:
                continue
            if lib in dropped_enabled:
                out.left_out.append(dropped_enabled[lib])
            elif lib in dropped:
                out.left_out.append(dropped[lib])
            else:
                out.left_out.append((f"{lib}: not every suite of the job", "support"))
        for lib in libraries:
            relevant = pd.Series([bool(_families(job.suites) & families_of.get(i, set()))
                                  for i in found.index], index=found.index, dtype=bool)
            mine = found[(found["consumer"] == lib) & relevant] if not found.empty else found
            worst = most_severe(mine["severity"]) if not mine.empty else None
            if worst is None:
                continue
            top = mine[mine["severity"] == worst]
            out.findings.append((f"{lib}: {len(top)} {worst}", str(top["id"].iloc[0])))
        out.findings.sort(key=lambda item: rank(item[0].rsplit(" ", 1)[-1]))
        if loadtest is None:
            out.note = "no load test in this run"
        elif not job.operation:
            out.note = "the load test measures compact tokens only"
        for lib in [*group, *(lib for lib in wider if lib not in group)]:
            measured = _throughput(loadtest, job, lib)
            if measured:
                out.throughput.append(measured)
        result.append(out)
    return result


def _finding_families(found: pd.DataFrame, rows: pd.DataFrame) -> dict[int, set[str]]:
    """Per finding, the token families (JWS, JWE) its evidence cells used."""
    families: dict[int, set[str]] = {}
    for index, labels in zip(found.index, found.get("rows", []), strict=False):
        suites = rows.loc[rows.index.intersection(labels), "suite"].astype(str)
        families[index] = {part.split(" ", 1)[0] for suite in suites
                           for part in suite.split(" then ")}
    return families
