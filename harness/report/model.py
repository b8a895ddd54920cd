"""The report model: one run folder's stored rows turned into the report's parts.

The report never runs a test. This module builds the `Report` (tables as pandas frames,
sentences for what is absent); `html` and `markdown` only lay it out, and `write` hands one
`Report` to both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from harness.core.blame import blame
from harness.core.findings import masked
from harness.interop.algorithm_names import read_names_sheet
from harness.interop.vectors_table import vector_defects, vector_misses, vectors_table
from harness.report.anchors import evidence_id
from harness.report.anomalies import (
    EVIDENCE_COLUMNS,
    as_text,
    config_label,
    findings,
    interop_rows,
    is_policy,
    is_security,
)
from harness.report.answer import AnswerRow, answer
from harness.report.findings import description, rated, security_findings
from harness.report.rundata import RunData
from harness.report.scorecard import scorecard, support
from harness.report.throughput import noise_warnings

EXAMPLES_PER_CAUSE = 10
PASS_RULE = (
    "A case declares what a correct consumer must do. `accept` passes only when the consumer "
    "returned exactly the producer's payload; `reject` passes only when the consumer refused "
    "with one of its own error types. `unsupported` (declared by the adapter, never guessed) "
    "gets no verdict; `error` and `hang` always fail. Rows marked policy (the RFC leaves the "
    "choice) are reported, not judged, unless the library errs or hangs on them."
)
SUPPORT_MEANING = {
    "by default": "works as a new user calls it",
    "once enabled": "works once the algorithm is allowed explicitly",
    "unsupported": "declared unsupported by the adapter",
    "fails": "the library could not take its own token in either mode",
}
KNOWN_ANSWERS_RULE = (
    "Published vectors (Wycheproof; RFC 7520, RFC 7797 and RFC 8037 through the JOSE cookbook) "
    "handed to each library with the vector's own key, the algorithm allowed: a `valid` vector "
    "counts as accepted only with the exact payload, an `invalid` one only when refused; "
    "`acceptable` vectors (and RFC 7797, an optional extension) are policy, reported and not "
    "judged, except that an error or a hang on one is a miss. `known_answers`: the library "
    "signs the cookbook's payload and header and must give "
    "the cookbook's token (deterministic algorithms only). A vector listed in "
    "`vectors/defects.json` as wrong against the RFC counts as a defect, never as a miss. "
    "Counts are cells: one vector under two key forms (JWK and PEM) is two cells.")
SUPPORT_RULE = ("Support comes from a library's own compact round trip in each mode, the "
                "`default` mode first.")


NAMES_RULE = ("Each library's registered algorithm names, read from its own registry objects, "
              "held against the IANA JOSE registry (RFC 7518 §7.1, RFC 8037, RFC 8812, "
              "RFC 9864): a name IANA lacks, or a registered algorithm spelled otherwise, is a "
              "departure of that library (`algorithm_names.csv`).")


@dataclass
class Report:
    data: RunData
    facts: list[tuple[str, str]]
    scorecard: pd.DataFrame
    grids: dict[str, pd.DataFrame]
    support: pd.DataFrame
    security: pd.DataFrame
    findings: dict[str, dict[str, pd.DataFrame]]
    failing: pd.DataFrame
    known_answers: pd.DataFrame = field(default_factory=pd.DataFrame)
    vector_misses: pd.DataFrame = field(default_factory=pd.DataFrame)
    vector_defects: pd.DataFrame = field(default_factory=pd.DataFrame)
    # One row per finding (core.findings), most severe first, with description and anchors.
    security_findings: pd.DataFrame = field(default_factory=pd.DataFrame)
    # Every judged cell between two libraries with the side charged (core.blame).
    blamed: pd.DataFrame = field(default_factory=pd.DataFrame)
    answer: list[AnswerRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # algorithm_names.csv: each library's registered names against IANA's (None: not written).
    algorithm_names: pd.DataFrame | None = None


def _duration(seconds: Any) -> str:
    return "–" if seconds in (None, "") else f"{float(seconds):.1f} s"


def run_facts(data: RunData) -> list[tuple[str, str]]:
    meta = data.meta
    libraries = meta.get("libraries") or {}
    facts = [
        ("run", f"{data.name} ({meta.get('status', 'unknown status')})"),
        ("harness", f"{meta.get('harness_version', '?')} (commit "
                    f"{meta.get('git_commit') or 'unknown'})"),
        ("Python", f"{meta.get('implementation', '')} {meta.get('python', '?')}".strip()),
        ("machine", f"{meta.get('platform', '?')}, {meta.get('machine', '?')}, "
                    f"{meta.get('cpu_count', '?')} CPUs"),
        ("libraries", ", ".join(library_label(meta, k, v) for k, v in libraries.items())
         or "none recorded"),
        ("not installed", ", ".join(f"{k} ({v})" for k, v in data.missing_libraries.items())
         or "none: every known library was tested"),
        ("command", " ".join(map(str, meta.get("command") or [])) or "not recorded"),
        ("selection", "; ".join(f"{k}: {', '.join(map(str, v))}"
                                for k, v in (meta.get("selection") or {}).items()) or "–"),
        ("interop", f"{meta.get('started', '?')} → {meta.get('finished') or 'not finished'}, "
                    f"{_duration(meta.get('interop_seconds'))}, {len(data.rows)} rows"
         if "interop" not in data.absent else data.absent["interop"]),
    ]
    if data.loadtest is None:
        facts.append(("load test", data.absent["loadtest"]))
    else:
        table = data.loadtest
        lt = {**(meta.get("loadtest") or {}), **data.loadtest_meta}
        command = lt.get("command")
        command = " ".join(map(str, command)) if isinstance(command, list) else command
        processes = lt.get("processes") or ", ".join(map(str, sorted(set(table["processes"]))))
        parts = [f"{lt.get('started') or table['started'].min()} → "
                 f"{lt.get('finished') or 'end not recorded'}",
                 f"{len(table)} cells", f"{processes} process(es)",
                 f"{_duration(table['duration_s'].sum())} measured"]
        parts += [f"{key} {lt[key]}" for key in ("status", "profile") if lt.get(key)]
        if lt.get("duration_per_cell_s"):
            parts.append(f"{lt['duration_per_cell_s']} s per cell")
        if lt.get("load_average_start") and lt.get("load_average_end"):
            parts.append(f"load average {lt['load_average_start'][0]:.2f} at the start, "
                         f"{lt['load_average_end'][0]:.2f} at the end")
        facts.append(("load test", ", ".join(parts)))
        facts.append(("load-test command", command or "not recorded (no loadtest/meta.json)"))
    return facts


def library_label(meta: dict[str, Any], name: str, version: Any) -> str:
    """`pyjwt 2.15.1`, or for a peer its language and runtime too:
    `pyjwt@2.10.0 2.10.0 (python peer, cpython 3.11.7)`."""
    peer = (meta.get("peers") or {}).get(name)
    if not peer:
        return f"{name} {version}"
    runtime = f", {peer['runtime']}" if peer.get("runtime") else ""
    return f"{name} {version} ({peer.get('language', '?')} peer{runtime})"


def version_mismatch(data: RunData) -> list[str]:
    """The load test must have measured the same versions the rows were made with."""
    recorded = data.loadtest_meta.get("libraries") or data.loadtest_meta.get("versions") or {}
    libraries = data.meta.get("libraries") or {}
    return [f"load test measured {name} {version}, interop ran {libraries[name]}"
            for name, version in recorded.items()
            if name in libraries and str(version) != str(libraries[name])]


def loadtest_meta_warnings(meta: dict[str, Any]) -> list[str]:
    """Cells the load test measured but refused to report, and cells it skipped."""
    def cell(entry: dict[str, Any]) -> str:
        return f"{entry.get('library')} {entry.get('suite')} {entry.get('operation')}"
    warnings = []
    rejected = meta.get("rejected") or []
    if rejected:
        warnings.append(f"{len(rejected)} cell(s) rejected by the load test's own checks, so "
                        "absent from the table: " + "; ".join(
                            f"{cell(r)} ({', '.join(map(str, r.get('reasons') or []))})"
                            for r in rejected))
    remeasured = meta.get("remeasured") or []
    if remeasured:
        warnings.append(f"{len(remeasured)} cell(s) had a noisy window (efficiency outside "
                        "0.95–1.05) and were measured once more; the table keeps the second "
                        "measurement unless it had no numbers: " + "; ".join(
                            f"{cell(r)} ({_efficiency(r.get('first_efficiency'))} then "
                            f"{_efficiency(r.get('efficiency'))})" for r in remeasured))
    skipped = meta.get("skipped") or []
    if skipped:
        warnings.append(f"{len(skipped)} cell(s) not measured because the library does not "
                        "support them: " + "; ".join(cell(r) for r in skipped))
    return warnings


def _efficiency(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else "rejected"


def interop_grids(rows: pd.DataFrame, libraries: list[str]) -> dict[str, pd.DataFrame]:
    """Per interop scenario, producer × consumer counts: passed, failed, unsupported."""
    rows = interop_rows(rows)
    grids = {}
    for scenario, subset in rows.groupby("scenario", sort=True):
        counts = pd.DataFrame({
            "passed": subset["passed"].eq(True), "failed": subset["passed"].eq(False),
            "unsupported": subset["actual"] == "unsupported",
            "producer": subset["producer"], "consumer": subset["consumer"]})
        table = counts.groupby(["producer", "consumer"])[["passed", "failed", "unsupported"]]
        grids[str(scenario)] = table.sum().astype(int).reindex(
            pd.MultiIndex.from_product([libraries, libraries], names=["producer", "consumer"]),
            fill_value=0)
    return grids


def security_grid(rows: pd.DataFrame) -> pd.DataFrame:
    """Per attack or claims scenario, consumer configuration and consuming library: passed,
    failed, policy, unsupported. Configurations stay apart: some weaknesses show in one only."""
    rows = rows[is_security(rows)]
    if rows.empty:
        return pd.DataFrame()
    # A policy row fails only when the consumer crashed or hung on it; otherwise it is policy.
    failed = rows["passed"].eq(False)
    frame = pd.DataFrame({
        "scenario": rows["scenario"], "config": config_label(rows),
        "attack_class": as_text(rows["attack_class"]),
        "consumer": rows["consumer"],
        "passed": rows["passed"].eq(True), "failed": failed,
        "policy": is_policy(rows) & ~failed, "unsupported": rows["actual"] == "unsupported"})
    return frame.groupby(["scenario", "config", "consumer"]).agg(
        attack_class=("attack_class", lambda s: ", ".join(sorted(set(s) - {""}))),
        passed=("passed", "sum"), failed=("failed", "sum"), policy=("policy", "sum"),
        unsupported=("unsupported", "sum")).reset_index()


FORGED_PRODUCERS = ("forge", "vector")


def failing_rows(rows: pd.DataFrame, blamed: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every failing row with its evidence anchor and its cause (numbers masked). A forged row's
    cause is its case's severity and one-line description (the library's text, if any, stays in
    `detail`); a library pair's row says which side it is charged to."""
    rows = rated(rows)
    failed = rows[rows["passed"].eq(False)].copy()
    columns = [*EVIDENCE_COLUMNS, "severity", "charged", "anchor", "cause"]
    if failed.empty:
        return pd.DataFrame(columns=columns)
    failed["anchor"] = [evidence_id(s, p, c) for s, p, c in
                        zip(failed["scenario"], failed["producer"], failed["consumer"],
                            strict=True)]
    forged = failed["producer"].isin(FORGED_PRODUCERS)
    causes = as_text(failed["detail"]).map(masked)
    failed["cause"] = [
        f"{sev or 'unrated'}: {description(str(case))}" if is_forged
        else (text or "returned payload differs")
        for is_forged, sev, case, text in zip(forged, as_text(failed["severity"]),
                                               failed["case"], causes, strict=True)]
    failed["charged"] = ""
    if blamed is not None and not blamed.empty:
        charged = blamed["charged"].reindex(failed.index)
        failed["charged"] = [
            f"{side}: {row[side]}" if side in ("producer", "consumer") else (side or "")
            for side, (_, row) in zip(charged.fillna(""), failed.iterrows(), strict=True)]
    return failed[[c for c in columns if c in failed]]


FINDING_KEYS = ["producer", "case", "config", "entry_point", "key_form", "attack_class",
                "requirement", "actual", "cause"]


def grouped_findings(rows: pd.DataFrame) -> pd.DataFrame:
    """Findings of one kind, one line per what they share (case, producer, configuration and
    cause with numbers masked): how many cells, one example, and the anchor of their evidence.
    Columns that are empty for every line are left out."""
    if rows.empty:
        return pd.DataFrame(columns=[*FINDING_KEYS, "cells", "example", "anchor"])
    rows = rows.assign(**{key: "" for key in ("entry_point", "key_form") if key not in rows})
    frame = rows.assign(cause=as_text(rows["detail"]).map(masked),
                        **{key: as_text(rows[key]) for key in FINDING_KEYS[:-1]},
                        anchor=[evidence_id(s, p, c) for s, p, c in
                                zip(rows["scenario"], rows["producer"], rows["consumer"],
                                    strict=True)],
                        example=as_text(rows["suite"]) + " / " + as_text(rows["mode"]))
    table = (frame.groupby(FINDING_KEYS, sort=False)
             .agg(cells=("suite", "size"), example=("example", "first"),
                  anchor=("anchor", "first"))
             .sort_values("cells", ascending=False, kind="stable").reset_index())
    empty = [key for key in FINDING_KEYS if (table[key] == "").all()]
    return table.drop(columns=empty)


def library_findings(rows: pd.DataFrame,
                     libraries: list[str]) -> dict[str, dict[str, pd.DataFrame]]:
    found = findings(rows)
    return {library: {kind: table[table["consumer"] == library] for kind, table in found.items()}
            for library in libraries}


def build(data: RunData) -> Report:
    libraries = data.libraries
    found = security_findings(data.rows)
    blamed = blame(data.rows)
    report = Report(
        data=data, facts=run_facts(data), scorecard=scorecard(data, blamed, found),
        grids=interop_grids(data.rows, [n for n in libraries if n != "forge"]),
        support=support(data), security=security_grid(data.rows),
        findings=library_findings(data.rows, libraries),
        failing=failing_rows(data.rows, blamed), security_findings=found, blamed=blamed,
        answer=answer(data.rows, [n for n in libraries if n != "forge"], found, blamed,
                      data.loadtest),
        known_answers=vectors_table(data.rows), vector_misses=vector_misses(data.rows),
        vector_defects=vector_defects(data.rows),
        algorithm_names=read_names_sheet(data.run.path))
    if data.loadtest is not None:
        report.warnings = (noise_warnings(data.loadtest) + version_mismatch(data)
                           + loadtest_meta_warnings(data.loadtest_meta))
    if data.run.process_gone(data.meta):
        report.notes.append(f"the run stopped without finishing: run.json says 'running' but "
                            f"its process ({data.meta['pid']}) is gone (killed outright, or "
                            "the machine stopped)")
    elif data.meta.get("signal"):
        report.notes.append(f"the run was stopped by {data.meta['signal']}: the rows are those "
                            "that finished before it stopped")
    if data.unreadable_lines:
        report.notes.append(f"{data.unreadable_lines} unreadable line at the end of "
                            "interop.jsonl (cut short when the run was killed) was skipped")
    if data.meta.get("status") not in (None, "complete") and not data.meta.get("signal"):
        report.notes.append(f"the run's status is {data.meta.get('status')!r}: the rows are "
                            "those that finished before it stopped")
    if "interop" not in data.absent and report.security.empty:
        report.notes.append("this run has no attack or claims rows (scenarios `attacks.*`, "
                            "`claims.*`): its security findings are not known")
    derived = sum(len(kinds["unexpected accepts"]) for kinds in report.findings.values())
    if data.stored_accepts is not None and data.stored_accepts != derived:
        report.notes.append(f"unexpected-accepts.csv lists {data.stored_accepts} rows but the "
                            f"rows hold {derived}; this report counts the rows")
    for name, why in data.missing_libraries.items():
        report.notes.append(f"{name} was not installed, so it is absent from every table: {why}")
    # Absent interop rows and load test are stated among the facts already.
    report.notes.extend(why for part, why in data.absent.items()
                        if part not in ("interop", "loadtest"))
    return report
