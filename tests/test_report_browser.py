"""report.html in a real browser: headless Chromium (Debian's package, installed by the
Makefile's `test` target) renders a report made from a real small interop run, shows every
section and chart, loads nothing from the network, and leaves a screenshot in the run folder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from harness.cli import main
from harness.report.anchors import evidence_id, misses_id
from harness.report.browser import CHROMIUM, render
from harness.report.browser import REPORT_SCREENSHOT as SCREENSHOT
from tests.runfolders import TINY_PNG, full_run, loadtest_row, make_run, row
from tests.test_cli import SMALL

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason=f"{CHROMIUM} is absent; `make test` installs it as root")


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real small interop run, with a load-test part added in the agreed layout."""
    root = tmp_path_factory.mktemp("results")
    assert main(["interop", "--results", str(root), "--jobs", "2", "--no-charts",
                 "--scenario", "jws.roundtrip,jwe.roundtrip,vectors.curve25519", *SMALL]) == 0
    run = (root / "latest").resolve()
    folder = run / "loadtest"
    folder.mkdir()
    rows = [loadtest_row(library, suite, operation, rate)
            for library, rate in (("pyjwt", 20_000), ("joserfc", 15_000), ("jwcrypto", 9_000))
            for suite, operation in (("JWS ES256", "sign"), ("JWS ES256", "verify"))]
    pd.DataFrame.from_records(rows).to_csv(folder / "table.csv", index=False)
    for chart in ("throughput.png", "latency.png", "overhead.png"):
        (folder / chart).write_bytes(TINY_PNG)
    assert main(["report", "--results", str(root), "--screenshot"]) == 0
    return run


def test_the_report_renders_with_every_section_and_no_network(real_run: Path) -> None:
    page = render((real_run / "report.html").as_uri())
    dom, requests = page.dom, page.requests
    for anchor in ("answer", "run", "legend", "scorecard", "interop", "support", "security",
                   "known", "anomalies", "loadtest", "evidence"):
        assert f'<section id="{anchor}">' in dom, anchor
    for heading in ("Which library for which job", "What was run", "Scorecard", "Interop grids",
                    "Support grid", "Known answers", "Anomalies per library", "Load test"):
        assert f"<h2>{heading}</h2>" in dom
    # The answer first, then the scorecard, then the rest.
    order = [dom.index(f'<section id="{a}">') for a in ("answer", "scorecard", "run", "legend")]
    assert order == sorted(order)
    # Two heatmaps, the support grid, the efficiency chart and three stored load-test charts.
    assert dom.count('src="data:image/png;base64,') == 2 + 1 + 1 + 3
    assert "pyjwt" in dom and "jwcrypto" in dom and "no attack or claims rows" in dom
    # The Ed25519 cookbook example in three serializations and two key forms (JWK, PEM).
    known = dom.split('<section id="known">', 1)[1].split("</section>", 1)[0]
    assert "curve25519" in known and "6/6" in known
    assert requests == []
    shot = (real_run / SCREENSHOT).read_bytes()
    assert shot.startswith(b"\x89PNG") and len(shot) > 20_000


TABLE_BORDER = (208, 208, 208)  # #d0d0d0, the page's table borders


def test_the_first_screen_shows_the_answer_table(real_run: Path, tmp_path: Path) -> None:
    shot = tmp_path / "first-screen.png"
    page = render((real_run / "report.html").as_uri(), screenshot=shot, size="1280,800")
    dom = page.dom
    # Before the answer table there is only the page's title and its navigation: no other
    # table, no other section.
    before = dom.split('<section id="answer">', 1)[0]
    assert "<table" not in before and "<section" not in before
    answer = dom.split('<section id="answer">', 1)[1].split("</section>", 1)[0]
    for job in ("signed access tokens", "encrypted access tokens", "symmetric tokens",
                "JSON serialization"):
        assert job in answer
    # The libraries that work together link to their evidence, throughput to the load test.
    assert 'href="#grid-jws_roundtrip"' in answer and 'href="#loadtest"' in answer
    # The first 800 px hold a table: its borders cover a good share of the top half.
    image = Image.open(shot).convert("RGB")
    width, height = image.size
    top = image.crop((0, 0, width, height // 2))
    pixels = list(top.getdata())
    border = sum(1 for pixel in pixels if pixel == TABLE_BORDER)
    assert border > 2000, f"only {border} table-border pixels in the first half screen"


def test_the_network_check_does_see_a_page_that_loads_something(tmp_path: Path) -> None:
    page = tmp_path / "leaky.html"
    page.write_text('<html><body><img src="http://127.0.0.1:9/x.png"></body></html>')
    assert render(page.as_uri()).requests == ["http://127.0.0.1:9/x.png"]


def test_a_failing_cells_link_opens_its_evidence(tmp_path: Path) -> None:
    run = full_run(tmp_path)
    assert main(["report", str(run)]) == 0
    anchor = evidence_id("jws.roundtrip", "jwcrypto", "joserfc")
    page = render(f"{(run / 'report.html').as_uri()}#{anchor}")
    dom, requests = page.dom, page.requests
    target = dom.split(f'id="{anchor}"', 1)[0].rsplit("<details", 1)[1]
    assert target.startswith(' open=""'), "the browser did not open the evidence"
    # The hostile detail text (a script and an external image) stayed text.
    assert requests == [] and "<script>" not in dom


def test_a_known_answer_miss_opens_its_vectors(tmp_path: Path) -> None:
    """A library that accepted an invalid Wycheproof vector: the miss count links to the list
    of its misses (vector id, flags, what the library did), which the browser opens."""
    flagged = {"config": "jwk", "attack_class": "AlgIsNone", "suite": "JWS HS256",
               "mode": "enabled", "policy": False}
    rows = [row("vectors.wycheproof_jws.tc1", "vector", "joserfc", **flagged | {
                "attack_class": None}),
            row("vectors.wycheproof_jws.tc5", "vector", "joserfc", expected="reject",
                actual="rejected", **flagged),
            row("vectors.wycheproof_jws.tc6", "vector", "jwcrypto", expected="reject",
                actual="accepted", passed=False, detail="took alg none", **flagged)]
    run = make_run(tmp_path, "20261128T200000Z-bbbbbb", {"joserfc": "1", "jwcrypto": "1"},
                   rows)
    assert main(["report", str(run)]) == 0
    anchor = misses_id("jwcrypto", "wycheproof_jws")
    page = render(f"{(run / 'report.html').as_uri()}#{anchor}")
    known = page.dom.split('<section id="known">', 1)[1].split("</section>", 1)[0]
    assert f'href="#{anchor}"' in known
    target = known.split(f'id="{anchor}"', 1)[0].rsplit("<details", 1)[1]
    assert target.startswith(' open=""'), "the browser did not open the misses"
    listed = known.split(f'id="{anchor}"', 1)[1]
    assert "vectors.wycheproof_jws.tc6" in listed and "AlgIsNone" in listed
    assert "took alg none" in listed and page.requests == []
    markdown = (run / "report.md").read_text()
    assert "## Known answers" in markdown and "vectors.wycheproof\\_jws.tc6" in markdown
