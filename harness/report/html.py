"""The report as one self-contained HTML page: inline CSS, charts as base64 PNG, no script, no
external resource of any kind (a Content-Security-Policy forbids them as well). Every text that
comes from the rows (library error texts above all) is escaped."""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from harness.core.cost import legend as cost_legend
from harness.core.outcomes import LEGEND
from harness.core.severity import SEVERITY_LEGEND, count_text
from harness.interop.algorithm_names import departures_by_library
from harness.interop.charts import SUPPORT_COLOURS, SUPPORT_LEVELS, heatmap, support_grid
from harness.interop.keygen_sheet import KEYGEN_CHART
from harness.report.anchors import evidence_id, misses_id, slug
from harness.report.anomalies import ENTRY_POINT_RULE, KINDS, interop_rows
from harness.report.answer import AnswerRow, Link
from harness.report.http_load import RULE as HTTP_LOAD_RULE
from harness.report.http_load import SHOWN as HTTP_LOAD_SHOWN
from harness.report.http_load import notes as http_load_notes
from harness.report.http_load import read_http_load
from harness.report.keygen_section import KEYGEN_RULE, disagreements, keygen_overview
from harness.report.model import (
    EXAMPLES_PER_CAUSE,
    KNOWN_ANSWERS_RULE,
    NAMES_RULE,
    PASS_RULE,
    SUPPORT_MEANING,
    SUPPORT_RULE,
    Report,
    grouped_findings,
)
from harness.report.peers import PEERS_RULE, no_peers_text, peers_table
from harness.report.rundata import LOADTEST_DIR
from harness.report.scorecard import CONFORMANCE_RULE
from harness.report.throughput import (
    EFFICIENCY_CELL_CEILING,
    EFFICIENCY_CELL_FLOOR,
    efficiency_chart,
    iqr_text,
    rate,
)

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
MAX_FINDING_ROWS = 200
LOADTEST_CHARTS = ("throughput.png", "latency.png", "overhead.png")
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
       max-width: 1200px; padding: 0 1.2em 3em; color: #1b1b1b; line-height: 1.4; }
h1 { margin-bottom: .2em; } h2 { border-bottom: 2px solid #ddd; margin-top: 2em; }
nav a { margin-right: 1em; } code { background: #f3f3f3; padding: 0 .2em; }
table { border-collapse: collapse; margin: .6em 0; font-size: 13px; }
th, td { border: 1px solid #d0d0d0; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f5f5f5; } td.num { text-align: right; }
td.ok { background: #e3f1e4; } td.bad { background: #f9d6d5; } td.na { color: #777; }
td.once { background: #fdf0c8; } td.detail { font-family: ui-monospace, monospace;
  font-size: 12px; max-width: 640px; overflow-wrap: anywhere; white-space: pre-wrap; }
.note { background: #eef3fb; border-left: 4px solid #1565c0; padding: .4em .8em; margin: .5em 0; }
.warn { background: #fff4e5; border-left: 4px solid #ef6c00; padding: .4em .8em; margin: .5em 0; }
.alarm { background: #fdecea; border-left: 4px solid #c62828; padding: .4em .8em; margin: .5em 0; }
img { max-width: 100%; height: auto; }
.charts img { margin: .4em; vertical-align: top; max-width: min(100%, 560px); }
.pair { display: flex; gap: 1.5em; align-items: flex-start; flex-wrap: wrap; }
.pair img { width: 380px; } details { margin: .3em 0; } summary { cursor: pointer; }
details:target, :target { outline: 2px solid #1565c0; }
table.answer td { min-width: 9em; } .sev { font-weight: 600; }
.sev-forgery { color: #b71c1c; } .sev-bypass { color: #d84315; } .sev-dos { color: #6a1b9a; }
.sev-malleability { color: #8d6e00; } .sev-leniency { color: #555; }
"""


def e(value: Any) -> str:
    if value is None or (not isinstance(value, str | list | dict) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True)


def tag(name: str, body: str, **attrs: str) -> str:
    rendered = "".join(f' {k.rstrip("_").replace("_", "-")}="{e(v)}"' for k, v in attrs.items())
    return f"<{name}{rendered}>{body}</{name}>"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], **attrs: str) -> str:
    """Cells are HTML already (callers escape); a plain string cell becomes `<td>`."""
    head = "".join(tag("th", e(h)) for h in headers)
    body = "".join("<tr>" + "".join(c if c.startswith(("<td", "<th")) else tag("td", c)
                                    for c in row) + "</tr>" for row in rows)
    return tag("table", f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody>", **attrs)


def frame_table(frame: pd.DataFrame, cell: Callable[[str, Any], str] | None = None) -> str:
    def render(column: str, value: Any) -> str:
        if cell is not None:
            return cell(column, value)
        if column == "detail":
            return tag("td", e(value), class_="detail")
        return tag("td", e(value))
    return table(list(frame.columns), ([render(c, v) for c, v in zip(frame.columns, row,
                                                                     strict=True)]
                                       for row in frame.itertuples(index=False)))


def png(draw: Callable[[io.BytesIO], Any], alt: str, stored: Path | None = None) -> str:
    """The chart the run stored at `stored` (drawn by the same function from the same rows at
    the end of the run), or drawn now when the run has none (`--no-charts`)."""
    if stored is not None and stored.is_file():
        return stored_png(stored.read_bytes(), alt)
    buffer = io.BytesIO()
    draw(buffer)
    return stored_png(buffer.getvalue(), alt)


def stored_png(data: bytes, alt: str) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img alt="{e(alt)}" src="data:image/png;base64,{encoded}">'


def prose(text: str) -> str:
    """The harness's own sentences: escaped, then `code` spans marked up."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", e(text))


def note(text: str, kind: str = "note") -> str:
    return tag("p", prose(text), class_=kind)


def section(anchor: str, title: str, body: str) -> str:
    return tag("section", tag("h2", e(title)) + body, id=anchor)


SECTIONS = (("answer", "Which library for which job"), ("scorecard", "Scorecard"),
            ("run", "What was run"), ("peers", "Peers"), ("legend", "Legend"),
            ("interop", "Interop grids"), ("support", "Support grid"),
            ("security", "Security and claims"), ("known", "Known answers"),
            ("names", "Algorithm names"),
            ("keygen", "Key generation"),
            ("anomalies", "Anomalies per library"),
            ("loadtest", "Load test"), ("evidence", "Evidence of failing cells"))


def run_section(report: Report) -> str:
    rows = "".join(tag("tr", tag("th", e(label)) + tag("td", prose(value)))
                   for label, value in report.facts)
    return tag("table", tag("tbody", rows)) + "".join(note(text) for text in report.notes)


def peers_section(report: Report) -> str:
    peers = peers_table(report.data.meta)
    if not len(peers):
        return tag("p", e(no_peers_text(report.data.meta)))
    return tag("p", e(PEERS_RULE)) + frame_table(peers)


def links(items: list[Link], empty: str = "–") -> str:
    if not items:
        return e(empty)
    return ", ".join(tag("a", e(text), href=f"#{anchor}") for text, anchor in items)


def _severity_links(items: list[Link]) -> str:
    if not items:
        return e("none")
    return ", ".join(tag("a", e(text), href=f"#{anchor}",
                         class_=f"sev sev-{text.rsplit(' ', 1)[-1]}") for text, anchor in items)


def answer_section(report: Report) -> str:
    rows: list[AnswerRow] = report.answer
    if not rows or report.grids == {}:
        return note("This run has no round trips between libraries, so it cannot say which "
                    "library fits which job.", "warn")
    body = []
    for row in rows:
        suites = ", ".join(s.removeprefix("JWS ").removeprefix("JWE ") for s in row.job.suites)
        if row.missing:
            suites += ("; " if suites else "") + "not run: " + ", ".join(
                s.removeprefix("JWS ").removeprefix("JWE ") for s in row.missing)
        speed = links(row.throughput, row.note or "not measured")
        if row.note and row.throughput:
            speed += " " + e(f"({row.note})")
        body.append([tag("th", e(row.job.name) + tag("br", "") + tag("small", e(suites))),
                     links(row.by_default, "none"), links(row.once_enabled, "–"),
                     links(row.left_out, "–"), _severity_links(row.findings), speed])
    headers = ["job", "work together by default", "also once enabled", "left out",
               "most severe findings (as consumer)",
               "throughput (consumer operation, slowest suite of the job)"]
    return (tag("p", "Libraries that take each other's tokens for every suite of the job, in "
                     "both directions; a library charged for a failing pair (see the scorecard) "
                     "is left out first. Findings count once per behaviour, most severe first "
                     "(legend below). Every name links to its evidence.")
            + table(headers, body, class_="answer"))


def legend_section() -> str:
    outcomes = table(["actual", "meaning"], ([tag("code", e(k)), prose(v)] for k, v in
                                              LEGEND.items()))
    severities = table(["severity", "meaning", "for example"], (
        [tag("td", e(name), class_=f"sev sev-{name}"), e(meaning), prose(example)]
        for name, (meaning, example) in SEVERITY_LEGEND.items()))
    kinds = table(["finding", "the consumer ..."], ([e(k), e(v)] for k, v in KINDS.items()))
    levels = table(["support", "meaning"],
                   ([tag("td", e(level), style=f"background:{colour}"), e(SUPPORT_MEANING[level])]
                    for level, colour in zip(SUPPORT_LEVELS, SUPPORT_COLOURS, strict=True)))
    return (outcomes + tag("p", prose(PASS_RULE)) + tag("p", prose(SUPPORT_RULE)) + levels
            + tag("p", "Severity of a finding, most severe first (declared per case, with the "
                       "RFC reasoning, in scenarios/):") + severities
            + tag("p", "A finding is one behaviour of one consumer, counted once however many "
                       "cells show it: one per case, or one per attack class and cause where "
                       "several cases show the same behaviour (claims cases: one per "
                       "situation, whatever the configuration).")
            + tag("p", prose(CONFORMANCE_RULE))
            + tag("p", "Kinds of finding, per consuming library:") + kinds
            + tag("p", prose(cost_legend())) + tag("p", prose(ENTRY_POINT_RULE)))


def scorecard_section(report: Report) -> str:
    def cell(column: str, value: Any) -> str:
        if column == "findings" and isinstance(value, str):
            css = "ok" if value == "none" else "bad"
            return tag("td", e(value), class_=css)
        if column in ("produces conformant tokens", "reads conformant tokens"):
            css = "ok" if str(value).startswith("100.0%") else "bad" if "%" in str(value) else ""
            return tag("td", e(value), class_=css)
        if column == "library" and value in report.data.libraries:
            return tag("td", tag("a", e(value), href=f"#anomalies-{slug(str(value))}"))
        return tag("td", e(value))
    return (tag("p", prose(CONFORMANCE_RULE) + " Findings count this library as the consumer, "
                     "one per behaviour, most severe first.")
            + frame_table(report.scorecard, cell))


def _grid_cell(counts: pd.Series, anchor: str, charges: pd.Series | None = None) -> str:
    passed, failed, unsupported = (int(counts[k]) for k in ("passed", "failed", "unsupported"))
    judged = passed + failed
    if not judged:
        return tag("td", e(f"{unsupported} unsupported" if unsupported else "–"), class_="na")
    text = f"{passed}/{judged}"
    if failed:
        marks = ""
        if charges is not None:
            parts = [f"{label} {int(charges[side])}" for side, label in
                     (("producer", "charged to producer"), ("consumer", "charged to consumer"),
                      ("undetermined", "undetermined")) if int(charges.get(side, 0))]
            marks = tag("br", "") + tag("small", e("; ".join(parts))) if parts else ""
        return tag("td", tag("a", e(f"{text} ✗{failed}"), href=f"#{anchor}") + marks,
                   class_="bad")
    return tag("td", e(text), class_="ok")


def interop_section(report: Report) -> str:
    if not report.grids:
        return note("No interop rows in this run.")
    libraries = sorted({p for grid in report.grids.values() for p, _ in grid.index},
                       key=report.data.libraries.index)
    rows = report.data.rows
    parts = [tag("p", "Each cell: passed / judged cells, producer (row) to consumer (column); "
                      "a red cell links to its failing rows and says which side each failing "
                      "cell is charged to (the side that departs from the RFC).")]
    charged = {}
    if not report.blamed.empty:
        failing = report.blamed[report.blamed["failed"]]
        charged = {key: group["charged"].value_counts() for key, group in
                   failing.groupby(["scenario", "producer", "consumer"])}
    for scenario, grid in report.grids.items():
        body = [[tag("th", e(p))] + [_grid_cell(grid.loc[(p, c)], evidence_id(scenario, p, c),
                                                charged.get((scenario, p, c)))
                                     for c in libraries] for p in libraries]
        chart = png(lambda buf, s=scenario: heatmap(rows, s, libraries, buf, report.blamed),
                    f"heatmap {scenario}", report.data.run.path / f"heatmap-{scenario}.png")
        parts.append(tag("h3", e(scenario), id=f"grid-{slug(scenario)}")
                     + tag("div", table(["producer \\ consumer", *libraries], body) + chart,
                           class_="pair"))
    return "".join(parts)


def support_section(report: Report) -> str:
    grid = report.support
    if grid.empty:
        return note("No support grid: this run has no round-trip rows between libraries.")
    colours = dict(zip(SUPPORT_LEVELS, SUPPORT_COLOURS, strict=True))
    failing = report.failing

    def cell(suite: str, library: str, level: str) -> str:
        if level == "fails":
            own = failing[(failing["producer"] == library) & (failing["consumer"] == library)
                          & (failing["suite"] == suite)]
            anchor = own["anchor"].iloc[0] if not own.empty else "evidence"
            return tag("td", tag("a", e(level), href=f"#{anchor}"), class_="bad")
        css = {"by default": "ok", "once enabled": "once"}.get(level, "na")
        return tag("td", e(level), class_=css)

    counts = grid.apply(lambda col: col.value_counts()).reindex(SUPPORT_LEVELS).fillna(0)
    summary = table(["support", *grid.columns],
                    ([tag("td", e(level), style=f"background:{colours[level]}")]
                     + [tag("td", e(int(counts.loc[level, lib])), class_="num")
                        for lib in grid.columns] for level in SUPPORT_LEVELS))
    full = table(["suite", *grid.columns],
                 ([e(suite)] + [cell(str(suite), lib, str(grid.loc[suite, lib]))
                                for lib in grid.columns] for suite in grid.index))
    fails = [(suite, lib) for suite in grid.index for lib in grid.columns
             if grid.loc[suite, lib] == "fails"]
    failed = (tag("p", "A library fails its own round trip here:")
              + table(["suite", "library", "evidence"],
                      ([e(suite), e(lib), cell(str(suite), lib, "fails")]
                       for suite, lib in fails))) if fails else note(
        "Every library takes its own token wherever it claims support.")
    libraries = list(grid.columns)
    chart = png(lambda buf: support_grid(interop_rows(report.data.rows), libraries, buf),
                "support grid", report.data.run.path / "support-grid.png")
    return (tag("p", prose(SUPPORT_RULE)) + summary + failed + tag("div", chart)
            + tag("details", tag("summary", f"All {len(grid)} suites as a table") + full))


def security_section(report: Report) -> str:
    parts = []
    grid = report.security
    if grid.empty:
        parts.append(note("This run has no attack or claims rows: which forged or hostile "
                          "tokens each library refuses is not known from it.", "warn"))
    else:
        libraries = [n for n in report.data.libraries if n in set(grid["consumer"])]
        indexed = grid.set_index(["scenario", "config", "consumer"])
        body = []
        for (scenario, config), group in grid.groupby(["scenario", "config"], sort=False):
            row = [tag("th", e(scenario)), e(config or "–"), e(group["attack_class"].iloc[0])]
            for library in libraries:
                key = (scenario, config, library)
                row.append(_security_cell(report, indexed.loc[key], scenario, library)
                           if key in indexed.index else tag("td", "–", class_="na"))
            body.append(row)
        rows = report.data.rows
        scenarios = list(dict.fromkeys(grid["scenario"]))
        charts = "".join(png(lambda buf, s=s: heatmap(rows, s, libraries, buf), f"heatmap {s}",
                             report.data.run.path / f"heatmap-{s}.png") for s in scenarios)
        parts.append(tag("p", "Each cell: passed / judged cases with the library as consumer, "
                              "per consumer configuration; a red cell links to its failing rows.")
                     + table(["scenario", "configuration", "attack class", *libraries], body)
                     + tag("div", charts, class_="charts"))
    claims = report.data.claims
    if claims is None:
        parts.append(note(report.data.absent.get("claims", "no claims sheet")))
    else:
        sheet = claims.pivot_table(index=["situation", "configuration"], columns="library",
                                   values="outcome", aggfunc="first").fillna("–").reset_index()
        parts.append(tag("h3", "Claims-validation sheet") + frame_table(sheet))
    return "".join(parts)


def _security_cell(report: Report, counts: pd.Series, scenario: str, library: str) -> str:
    judged = int(counts["passed"] + counts["failed"])
    text = f"{int(counts['passed'])}/{judged}" + (
        f" (+{int(counts['policy'])} policy)" if counts["policy"] else "")
    if counts["failed"]:
        failing = report.failing
        anchor = failing.loc[(failing["scenario"] == scenario)
                             & (failing["consumer"] == library), "anchor"].iloc[0]
        return tag("td", tag("a", e(f"{text} ✗{int(counts['failed'])}"), href=f"#{anchor}"),
                   class_="bad")
    if judged:
        return tag("td", e(text), class_="ok")
    return tag("td", e(f"policy ×{int(counts['policy'])}" if counts["policy"] else "not judged"),
               class_="na")


def _ratio(good: int, missed: int) -> str:
    return f"{good}/{good + missed}" if good + missed else "–"


def known_answers_section(report: Report) -> str:
    table_ = report.known_answers
    if table_.empty:
        return note("This run has no vector rows (scenarios `vectors.*`): how the libraries "
                    "answer the published known answers is not known from it.", "warn")
    misses = report.vector_misses
    body = []
    for counts in table_.to_dict("records"):
        library, source, missed = str(counts["library"]), str(counts["source"]), counts["misses"]
        valid = _ratio(int(counts["valid accepted"]), int(counts["valid missed"]))
        invalid = _ratio(int(counts["invalid refused"]), int(counts["invalid missed"]))
        acceptable = (f"{counts['acceptable accepted']} accepted, "
                      f"{counts['acceptable refused']} refused"
                      if counts["acceptable accepted"] or counts["acceptable refused"] else "–")
        miss_cell = (tag("td", tag("a", e(f"✗{missed}"), href=f"#{misses_id(library, source)}"),
                         class_="bad") if missed else tag("td", "0", class_="ok num"))
        body.append([tag("th", e(source)), e(library),
                     tag("td", e(valid), class_="bad" if counts["valid missed"] else "ok"),
                     tag("td", e(invalid), class_="bad" if counts["invalid missed"] else "ok"),
                     e(acceptable), tag("td", e(counts["unsupported"]), class_="num"),
                     tag("td", e(counts["defects"]), class_="num"), miss_cell])
    parts = [tag("p", prose(KNOWN_ANSWERS_RULE)),
             table(["source", "library", "valid accepted", "invalid refused", "acceptable",
                    "unsupported", "defects", "misses"], body)]
    listed = report.vector_defects
    if listed.empty:
        parts.append(note("No vector of this run is listed as a defect (`vectors/defects.json`)."))
    else:
        shown = listed.drop_duplicates(["case", "defect"])[["source", "case", "defect"]]
        parts.append(tag("h3", e(f"Vectors listed as defects ({len(shown)})"))
                     + tag("p", "Wrong against the RFC by the reasons given; their rows are "
                                "reported as policy, never as passes; an error or a hang on one "
                                "is a miss.")
                     + frame_table(shown))
    for (library, source), rows in misses.groupby(["library", "source"], sort=False):
        shown = rows[["case", "flags", "config", "suite", "expected", "actual", "detail"]]
        title = f"{source}: {library}, {len(rows)} misses"
        parts.append(tag("details", tag("summary", e(title)) + tag(
            "div", frame_table(shown), id=misses_id(str(library), str(source)))))
    return "".join(parts)


FINDING_COLUMNS = ["severity", "group", "kind", "description", "cases", "cells", "configs",
                   "entry points", "key forms", "cause", "evidence"]


def findings_table(found: pd.DataFrame) -> str:
    """One row per finding with its anchor (`id`), the case's description and the reasoning
    for its severity as a tooltip."""
    body = []
    for _, f in found.iterrows():
        body.append(tag("tr", "".join([
            tag("td", e(f["severity"]), class_=f"sev sev-{f['severity']}", title=f["why"] or ""),
            tag("td", e(f["group"])), tag("td", e(f["kind"])), tag("td", e(f["description"])),
            tag("td", e(f["cases"] if f["case_count"] <= 3 else
                        f"{f['first_case']} and {f['case_count'] - 1} more"),
                class_="detail", title=f["cases"]),
            tag("td", e(f["cells"]), class_="num"), tag("td", e(f["configs"] or "–")),
            tag("td", e(f.get("entry_points") or "–")), tag("td", e(f.get("key_forms") or "–")),
            tag("td", e(f["cause"]), class_="detail"),
            tag("td", tag("a", "rows", href=f"#{f['anchor']}"))]), id=str(f["id"])))
    head = "".join(tag("th", e(h)) for h in FINDING_COLUMNS)
    return tag("table", f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>")


def anomalies_section(report: Report) -> str:
    parts = [tag("p", "Per consuming library: its security findings (one per behaviour, most "
                      "severe first; hover a severity for the reasoning), then its unexpected "
                      "rejects (interop), with the side each is charged to. Full rows: "
                      "interop.csv.")]
    found = report.security_findings
    for library, kinds in report.findings.items():
        mine = found[found["consumer"] == library] if not found.empty else found
        rejects = kinds["unexpected rejects"]
        by_severity = count_text(mine["severity"].value_counts().to_dict()) if len(mine) else ""
        counts = (f"findings: {len(mine)}" + (f" ({by_severity})" if by_severity else "")
                  + f"; unexpected rejects: {len(rejects)} cells")
        body = []
        if len(mine):
            body.append(tag("h4", e(f"security findings ({len(mine)})"), class_="alarm")
                        + findings_table(mine.head(MAX_FINDING_ROWS)))
        hangs = kinds["hangs"]
        if not hangs.empty:  # few, and each one's time and memory matter
            shown = hangs.drop(columns=["consumer", "scenario"]).dropna(axis=1, how="all")
            body.append(tag("h4", e(f"hangs ({len(hangs)}): {KINDS['hangs']}"), class_="warn")
                        + frame_table(shown.head(MAX_FINDING_ROWS)))
        if not rejects.empty:
            groups = grouped_findings(rejects).rename(columns={"anchor": "evidence"})
            if not report.blamed.empty:
                charged = report.blamed["charged"].reindex(rejects.index).fillna("")
                keyed = rejects.assign(charged=charged)
                per = keyed.groupby(["producer", "case"])["charged"].agg(
                    lambda c: ", ".join(f"{k} ×{v}" for k, v in c.value_counts().items() if k))
                groups["charged"] = [per.get((p, c), "") for p, c in
                                     zip(groups.get("producer", ""), groups["case"], strict=False)]
            more = (note(f"{len(groups) - MAX_FINDING_ROWS} more groups in the evidence "
                         "section and interop.csv") if len(groups) > MAX_FINDING_ROWS else "")

            def cell(column: str, value: Any) -> str:
                if column == "evidence":
                    return tag("td", tag("a", "rows", href=f"#{value}"))
                if column == "cause":
                    return tag("td", e(value), class_="detail")
                return tag("td", e(value), class_="num" if column == "cells" else "")
            body.append(tag("h4", e(f"unexpected rejects ({len(rejects)} cells): "
                                    f"{KINDS['unexpected rejects']}"), class_="warn")
                        + frame_table(groups.head(MAX_FINDING_ROWS), cell) + more)
        parts.append(tag("h3", e(library), id=f"anomalies-{slug(library)}")
                     + tag("p", e(counts + ("" if body else ": no finding."))) + "".join(body))
    return "".join(parts)


def loadtest_section(report: Report) -> str:
    data = report.data
    if data.loadtest is None:
        return note(data.absent["loadtest"], "warn")
    table_ = data.loadtest
    parts = [note(w, "warn") for w in report.warnings] or [
        note("Efficiency is within bounds on every cell: the window looked quiet.")]
    if table_.empty:
        return "".join(parts)
    columns = ["library", "suite", "operation", "ops_per_s", "ops/s IQR", "p50_us", "p99_us",
               "p999_us", "efficiency", "primitive", "primitive_ops_per_s", "overhead_x",
               "overhead IQR", "processes", "failures"]
    shown = table_.assign(**{"ops/s IQR": iqr_text(table_, "ops_per_s", rate),
                             "overhead IQR": iqr_text(table_, "overhead_x", "{:.2f}×".format)})
    if "instructions_per_op" in table_ and table_["instructions_per_op"].notna().any():
        columns.append("instructions_per_op")

    def cell(column: str, value: Any) -> str:
        if column in ("ops_per_s", "primitive_ops_per_s"):
            return tag("td", e(rate(value)), class_="num")
        if column == "efficiency":
            noisy = not EFFICIENCY_CELL_FLOOR <= value <= EFFICIENCY_CELL_CEILING
            css = "bad num" if noisy else "num"
            return tag("td", e(f"{value:.3f}"), class_=css)
        if column == "overhead_x":
            return tag("td", e(f"{value:.2f}×"), class_="num")
        if column == "instructions_per_op":
            return tag("td", e("–" if pd.isna(value) else f"{value:,.0f}"), class_="num")
        if isinstance(value, float):
            return tag("td", e(f"{value:.1f}"), class_="num")
        return tag("td", e(value))
    parts.append(tag("p", "Each figure is the median over the cell's interleaved rounds "
                          "(Locust batches, the plain in-process loop and the floor, "
                          "alternating in short rounds), with its interquartile range "
                          "across rounds. Rates are operations per wall-clock second. "
                          "Efficiency = the CPU time per operation of the same callable in a "
                          "plain loop in the same process ÷ its CPU time per operation under "
                          "Locust, round by round; overhead = the library's CPU time per "
                          "operation ÷ the raw primitive's, round by round. CPU time, because "
                          "a moment in which another process held the core falls on one part "
                          "of a round and not the other.")
                 + frame_table(shown[columns], cell))
    charts = [png(lambda buf: efficiency_chart(table_, buf), "load-test efficiency")]
    for name in LOADTEST_CHARTS:
        path = data.run.path / LOADTEST_DIR / name
        if path.exists():
            charts.append(stored_png(path.read_bytes(), f"load test {name}"))
        else:
            parts.append(note(f"{LOADTEST_DIR}/{name} is not in this run folder."))
    parts.append(tag("div", "".join(charts), class_="charts"))
    return "".join(parts)


def evidence_section(report: Report) -> str:
    failing = report.failing
    if failing.empty:
        return note("No failing cell in this run.")
    parts = []
    for anchor, group in failing.groupby("anchor", sort=False):
        first = group.iloc[0]
        causes = []
        for cause, rows in group.groupby("cause", sort=False):
            shown = rows[[c for c in ("case", "suite", "mode", "config", "expected", "actual",
                                      "severity", "charged", "detail") if c in rows]]
            shown = shown.replace("", None)
            shown = shown.dropna(axis=1, how="all").head(EXAMPLES_PER_CAUSE)
            more = (f" (first {EXAMPLES_PER_CAUSE} shown; the rest are in interop.csv)"
                    if len(rows) > EXAMPLES_PER_CAUSE else "")
            causes.append(tag("p", tag("b", e(f"×{len(rows)}")) + " " + tag("code", e(cause))
                                   + e(more)) + frame_table(shown))
        title = (f"{first['scenario']}: {first['producer']} → {first['consumer']}, "
                 f"{len(group)} failing cells")
        parts.append(tag("details", tag("summary", e(title)) + tag("div", "".join(causes),
                                                                    id=str(anchor))))
    return tag("p", "Failing rows by scenario and library pair, grouped by cause (numbers "
                    "masked); following a link opens its group.") + "".join(parts)


def render_html(report: Report) -> str:
    builders = {"answer": lambda: answer_section(report),
                "run": lambda: run_section(report), "legend": legend_section,
                "peers": lambda: peers_section(report),
                "scorecard": lambda: scorecard_section(report),
                "interop": lambda: interop_section(report),
                "support": lambda: support_section(report),
                "security": lambda: security_section(report),
                "known": lambda: known_answers_section(report),
                "names": lambda: algorithm_names_section(report),
                "keygen": lambda: keygen_section(report),
                "anomalies": lambda: anomalies_section(report),
                "loadtest": lambda: loadtest_section(report) + http_load_section(report),
                "evidence": lambda: evidence_section(report)}
    nav = tag("nav", " ".join(tag("a", e(title), href=f"#{anchor}")
                              for anchor, title in SECTIONS))
    body = "".join(section(anchor, title, builders[anchor]()) for anchor, title in SECTIONS)
    title = f"jose-harness report: {report.data.name}"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{e(title)}</title><style>{STYLE}</style></head><body>"
            f"<header>{tag('h1', 'JOSE library adoption report')}"
            f"{tag('p', e(f'Run {report.data.name}, read from {Path(report.data.run.path)}'))}"
            f"{nav}</header>{body}</body></html>\n")


def algorithm_names_section(report: Report) -> str:
    frame = report.algorithm_names
    if frame is None:
        return note("This run has no algorithm-names sheet (algorithm_names.csv).", "warn")
    departing = departures_by_library(frame)
    body = []
    for library in dict.fromkeys(frame["library"]):
        own = frame[(frame["library"] == library) & (frame["verdict"] != "not read")]
        lines = departing.get(str(library), [])
        body.append([tag("th", e(library)), tag("td", e(len(own)), class_="num"),
                     tag("td", "<br>".join(e(line) for line in lines) or "none",
                         class_="bad" if lines else "ok")])
    return tag("p", prose(NAMES_RULE)) + table(["library", "names", "departures from IANA"],
                                               body)
def keygen_section(report: Report) -> str:
    data = report.data
    if data.keygen is None:
        return note("This run has no key-generation sheet (keygen.csv): the keygen scenario "
                    "did not run.")
    chart = data.run.path / KEYGEN_CHART
    parts = [tag("p", prose(KEYGEN_RULE)),
             frame_table(keygen_overview(data.keygen, data.thumbprints))]
    wrong = disagreements(data.thumbprints)
    if len(wrong):
        parts.append(tag("h3", "Thumbprints that depart from RFC 7638") + frame_table(wrong))
    if chart.is_file():
        parts.append(tag("div", stored_png(chart.read_bytes(), "key generation sheet")))
    return "".join(parts)
def http_load_section(report: Report) -> str:
    """The HTTP load test (`loadtest-http/`), when the run has one."""
    load = read_http_load(report.data.run.path)
    if load is None:
        return ""
    parts = [tag("h3", "HTTP resource servers (loadtest-http)"), tag("p", e(HTTP_LOAD_RULE))]
    if not load.table.empty:
        parts.append(frame_table(load.table[HTTP_LOAD_SHOWN]))
    if not load.ratios.empty:
        parts += [tag("p", "Server CPU per request: a JWE access token over its inner JWS and "
                           "over no token check."), frame_table(load.ratios)]
    parts += [note(line, "warn") for line in http_load_notes(load)
              if not line.startswith("skipped")]
    parts.append(tag("div", "".join(stored_png(path.read_bytes(), f"HTTP load {path.name}")
                                    for path in load.charts), class_="charts"))
    return "".join(parts)

