"""Write `report.html` (self-contained) and `report.md` for one run folder.

The model knows nothing of its renderers: this module builds one `Report` and hands it to both.
"""

from __future__ import annotations

from pathlib import Path

from harness.core.results import UNREADABLE_LINES, Run
from harness.report.html import render_html
from harness.report.markdown import render_md
from harness.report.model import build
from harness.report.rundata import load_run

REPORT_HTML = "report.html"
REPORT_MD = "report.md"


def write_report(run: Run) -> tuple[Path, Path]:
    data = load_run(run)
    if data.unreadable_lines and data.meta.get(UNREADABLE_LINES) != data.unreadable_lines:
        run.update_meta(**{UNREADABLE_LINES: data.unreadable_lines})
    report = build(data)
    html_path, md_path = run.path / REPORT_HTML, run.path / REPORT_MD
    for path, text in ((html_path, render_html(report)), (md_path, render_md(report))):
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return html_path, md_path
