"""The report as Markdown: the same parts as the HTML page, shorter, for a pull request or a
chat message. Charts and every failing row stay in report.html. Texts from the rows are
escaped so that a library's error text can neither break a table nor inject HTML."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from harness.core.cost import legend as cost_legend
from harness.core.outcomes import LEGEND
from harness.core.severity import SEVERITY_LEGEND, count_text
from harness.interop.algorithm_names import departures_by_library
from harness.interop.summary import MAX_GROUPS
from harness.report.anomalies import ENTRY_POINT_RULE, KINDS
from harness.report.answer import Link
from harness.report.keygen_section import KEYGEN_RULE, disagreements, keygen_overview
from harness.report.model import (
    KNOWN_ANSWERS_RULE,
    NAMES_RULE,
    PASS_RULE,
    SUPPORT_RULE,
    Report,
)
from harness.report.peers import PEER_COLUMNS, PEERS_RULE, no_peers_text, peers_table
from harness.report.scorecard import CONFORMANCE_RULE
from harness.report.throughput import iqr_text, rate

MAX_LISTED = 20


def cell(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    text = " ".join(html.escape(str(value), quote=False).split())
    # Backslash first; then whatever Markdown would turn into a table cell break, code, emphasis,
    # a link or an image (an image would make a viewer fetch it).
    for special in "\\|`*_[]!":
        text = text.replace(special, "\\" + special)
    return text


def md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(cell(h) for h in headers) + " |",
             "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def _names(items: list[Link], empty: str = "–") -> str:
    return ", ".join(text for text, _ in items) or empty


def answer_lines(report: Report) -> list[str]:
    out = ["## Which library for which job", ""]
    if not report.answer or not report.grids:
        return [*out, "This run has no round trips between libraries, so it cannot say which "
                "library fits which job.", ""]
    out += ["Libraries that take each other's tokens for every suite of the job, both ways; "
            "findings once per behaviour, most severe first. Evidence: `report.html`.", ""]
    rows = []
    for row in report.answer:
        suites = ", ".join(s.removeprefix("JWS ").removeprefix("JWE ") for s in row.job.suites)
        if row.missing:
            suites += ("; " if suites else "") + "not run: " + ", ".join(
                s.removeprefix("JWS ").removeprefix("JWE ") for s in row.missing)
        speed = _names(row.throughput, row.note or "not measured")
        if row.note and row.throughput:
            speed += f" ({row.note})"
        rows.append([f"{row.job.name} ({suites})", _names(row.by_default, "none"),
                     _names(row.once_enabled), _names(row.left_out), _names(row.findings, "none"),
                     speed])
    return out + md_table(["job", "work together by default", "also once enabled", "left out",
                           "most severe findings", "throughput"], rows)


def render_md(report: Report) -> str:
    data = report.data
    out = [f"# JOSE library adoption report: {data.name}", "",
           "Charts, the full grids and every failing row: `report.html` in this folder.", ""]
    out += answer_lines(report)
    out += ["## Scorecard", "", CONFORMANCE_RULE, ""]
    out += md_table(list(report.scorecard.columns), report.scorecard.itertuples(index=False))

    out += ["## What was run", ""]
    out += [f"- **{label}**: {cell(value)}" for label, value in report.facts]
    out += ["", *(f"> Note: {cell(text)}" for text in report.notes), ""]

    out += ["## Peers", ""]
    peers = peers_table(data.meta)
    out += ([PEERS_RULE, "", *md_table(PEER_COLUMNS, peers.itertuples(index=False))]
            if len(peers) else [no_peers_text(data.meta), ""])

    out += ["## Legend", ""]
    out += md_table(["actual", "meaning"], LEGEND.items())
    out += [PASS_RULE, "", SUPPORT_RULE, ""]
    out += md_table(["severity", "meaning", "for example"],
                    ([name, meaning, example] for name, (meaning, example)
                     in SEVERITY_LEGEND.items()))
    out += md_table(["finding", "the consumer ..."], KINDS.items())
    out += [cost_legend(), "", ENTRY_POINT_RULE, ""]

    out += ["## Interop", ""]
    if not report.grids:
        out += ["No interop rows in this run.", ""]
    for scenario, grid in report.grids.items():
        passed, failed = int(grid["passed"].sum()), int(grid["failed"].sum())
        out.append(f"- `{cell(scenario)}`: {passed} of {passed + failed} judged cells pass, "
                   f"{int(grid['unsupported'].sum())} unsupported")
    failing = report.failing
    if not failing.empty:
        groups = (failing.groupby(["producer", "consumer", "actual", "charged", "cause"],
                                  sort=False)
                  .size().sort_values(ascending=False).reset_index(name="cells"))
        out += ["", f"Failing cells by library pair and cause ({len(groups)} groups):", ""]
        out += md_table(["producer", "consumer", "actual", "cells", "charged", "cause"],
                        groups[["producer", "consumer", "actual", "cells", "charged", "cause"]]
                        .head(MAX_GROUPS).itertuples(index=False))
    out.append("")
    if not report.support.empty:
        fails = [(suite, library) for suite in report.support.index
                 for library in report.support.columns
                 if report.support.loc[suite, library] == "fails"]
        listed = "; ".join(f"{lib} fails its own {s} round trip" for s, lib in fails[:MAX_LISTED])
        more = f"; and {len(fails) - MAX_LISTED} more" if len(fails) > MAX_LISTED else ""
        out += ["Support grid: " + (listed + more if fails else
                                    "every library takes its own token where it claims support."),
                ""]

    out += ["## Security and claims", ""]
    if report.security.empty:
        out += ["This run has no attack or claims rows: security findings are not known.", ""]
    else:
        out += ["Passed / judged cases per consuming library (✗ failed, + policy):", ""]
        sec = report.security
        libraries = [name for name in data.libraries if name in set(sec["consumer"])]
        wide = sec.assign(text=[
            f"{int(r.passed)}/{int(r.passed + r.failed)}" + (f" ✗{int(r.failed)}" if r.failed
                                                             else "")
            + (f" +{int(r.policy)}" if r.policy else "") for r in sec.itertuples()])
        wide = wide.pivot_table(index=["scenario", "config"], columns="consumer", values="text",
                                aggfunc="first", sort=False).reindex(columns=libraries)
        out += md_table(["scenario", "configuration", *libraries],
                        ([scenario, config or "–", *(v if isinstance(v, str) else "–"
                                                     for v in values)]
                         for (scenario, config), values in zip(wide.index, wide.to_numpy(),
                                                               strict=True)))

    out += known_answers_md(report)
    out += algorithm_names_md(report)
    out += keygen_md(report)

    out += ["## Anomalies per library", ""]
    found = report.security_findings
    for library, kinds in report.findings.items():
        out.append(f"### {cell(library)}")
        out.append("")
        mine = found[found["consumer"] == library] if not found.empty else found
        by_severity = count_text(mine["severity"].value_counts().to_dict()) if len(mine) else "none"
        out.append(f"findings: {len(mine)} ({by_severity}); unexpected rejects: "
                   f"{len(kinds['unexpected rejects'])} cells")
        out.append("")
        if len(mine):
            out.append(f"Findings, most severe first ({len(mine)}; the cells are in report.html "
                       "and interop.csv):")
            out.append("")
            out += md_table(["severity", "group", "kind", "description", "cases", "cells",
                             "entry points", "key forms", "cause"],
                            ([f.severity, f.group, f.kind, f.description,
                              f.cases if f.case_count <= 3
                              else f"{f.first_case} and {f.case_count - 1} more", f.cells,
                              getattr(f, "entry_points", "") or "–",
                              getattr(f, "key_forms", "") or "–",
                              f.cause] for f in mine.head(MAX_LISTED).itertuples()))

    out += ["## Load test", ""]
    if data.loadtest is None:
        out += [cell(data.absent["loadtest"]), ""]
    else:
        out += [f"> Warning: {cell(w)}" for w in report.warnings] or [
            "Efficiency is within bounds on every cell: the window looked quiet."]
        out.append("")
        lt = data.loadtest
        spread = iqr_text(lt, "ops_per_s", rate)
        out += md_table(["library", "suite", "operation", "ops/s", "ops/s IQR", "p50 µs",
                         "p99 µs", "efficiency", "overhead ×"],
                        ([r.library, r.suite, r.operation, rate(r.ops_per_s), iqr,
                          f"{r.p50_us:.1f}", f"{r.p99_us:.1f}", f"{r.efficiency:.3f}",
                          f"{r.overhead_x:.2f}"]
                         for r, iqr in zip(lt.itertuples(index=False), spread, strict=True)))
    out += http_load_md(data.run.path)
    return "\n".join(out) + "\n"


def http_load_md(run_path: Any) -> list[str]:
    """The HTTP load test (`loadtest-http/`), when the run has one."""
    from harness.report.http_load import RULE, SHOWN, notes, read_http_load

    load = read_http_load(run_path)
    if load is None:
        return []
    out = ["", "### HTTP resource servers (loadtest-http)", "", RULE, ""]
    if not load.table.empty:
        out += md_table(SHOWN, load.table[SHOWN].itertuples(index=False))
    if not load.ratios.empty:
        out += ["", "Server CPU per request, JWE over its inner JWS and over no check:", ""]
        out += md_table(list(load.ratios.columns), load.ratios.itertuples(index=False))
    out += [f"- {line}" for line in notes(load) if not line.startswith("skipped")]
    return out


def known_answers_md(report: Report) -> list[str]:
    out = ["## Known answers", ""]
    table = report.known_answers
    if table.empty:
        return [*out, "This run has no vector rows (scenarios `vectors.*`).", ""]
    out += [KNOWN_ANSWERS_RULE, ""]

    def ratio(good: int, missed: int) -> str:
        return f"{good}/{good + missed}" if good + missed else "–"
    out += md_table(["source", "library", "valid accepted", "invalid refused", "unsupported",
                     "defects", "misses"],
                    ([r["source"], r["library"], ratio(r["valid accepted"], r["valid missed"]),
                      ratio(r["invalid refused"], r["invalid missed"]), r["unsupported"],
                      r["defects"], r["misses"]] for r in table.to_dict("records")))
    listed = report.vector_defects.drop_duplicates(["case", "defect"])
    if not listed.empty:
        out += [f"Vectors listed as defects ({len(listed)}):", ""]
        out += md_table(["case", "defect"], listed[["case", "defect"]].itertuples(index=False))
    misses = report.vector_misses
    if not misses.empty:
        out += [f"Misses ({len(misses)}; the first {MAX_LISTED} here, every one in report.html):",
                ""]
        out += md_table(["library", "case", "flags", "config", "actual", "detail"],
                        misses[["library", "case", "flags", "config", "actual", "detail"]]
                        .head(MAX_LISTED).itertuples(index=False))
    return out



def algorithm_names_md(report: Report) -> list[str]:
    out = ["## Algorithm names", ""]
    frame = report.algorithm_names
    if frame is None:
        return [*out, "This run has no algorithm-names sheet (algorithm_names.csv).", ""]
    out += [NAMES_RULE, ""]
    departing = departures_by_library(frame)
    rows = []
    for library in dict.fromkeys(frame["library"]):
        own = frame[(frame["library"] == library) & (frame["verdict"] != "not read")]
        lines = departing.get(str(library), [])
        rows.append([library, len(own), "; ".join(lines) or "none"])
    return [*out, *md_table(["library", "names", "departures from IANA"], rows), ""]
def keygen_md(report: Report) -> list[str]:
    if report.data.keygen is None:
        return []
    overview = keygen_overview(report.data.keygen, report.data.thumbprints)
    out = ["## Key generation", "", KEYGEN_RULE, ""]
    out += md_table(list(overview.columns), overview.itertuples(index=False))
    wrong = disagreements(report.data.thumbprints)
    if len(wrong):
        out += [f"Thumbprints that depart from RFC 7638 ({len(wrong)}):", ""]
        out += md_table(["library", "key", "detail"], wrong.itertuples(index=False))
    return out
