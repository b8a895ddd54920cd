"""`harness report`: what the page and the Markdown say, read from synthetic run folders in the
agreed layout; absent parts stated in words; untrusted texts escaped; bad folders refused."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from harness.cli import main
from harness.core.results import Run
from harness.report.anchors import evidence_id
from harness.report.model import build
from harness.report.rundata import load_run
from tests.runfolders import HOSTILE, full_run, loadtest_row, make_run, row, zip_run


class Page(HTMLParser):
    """Every element's attributes, ids and text, as a browser would parse them."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def attr(self, name: str) -> list[str]:
        return [a[name] or "" for _, a in self.tags if name in a]

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


def external_references(page: Page, raw: str) -> list[str]:
    """Anything that would make a browser fetch: non-data sources, non-anchor links, scripts,
    stylesheets, CSS urls and imports."""
    found = [src for src in page.attr("src") if not src.startswith("data:image/png;base64,")]
    found += [href for href in page.attr("href") if not href.startswith("#")]
    found += [tag for tag, _ in page.tags if tag in ("script", "link", "iframe", "object",
                                                     "embed", "base")]
    found += re.findall(r"url\(|@import", raw)
    return found


@pytest.fixture
def full(tmp_path: Path) -> tuple[Path, Page, str, str]:
    path = full_run(tmp_path)
    assert main(["report", str(path)]) == 0
    raw = (path / "report.html").read_text(encoding="utf-8")
    return path, Page(raw), raw, (path / "report.md").read_text(encoding="utf-8")


def test_the_page_holds_every_section_and_loads_nothing(full) -> None:
    _, page, raw, _ = full
    ids = set(page.attr("id"))
    assert {"run", "legend", "scorecard", "interop", "support", "security", "anomalies",
            "loadtest", "evidence"} <= ids
    assert external_references(page, raw) == []
    # Heatmaps (one interop scenario, five security scenarios), support grid and efficiency
    # chart drawn from the rows, and the three stored load-test charts embedded.
    assert len(page.attr("src")) == 1 + 5 + 1 + 1 + 3
    # Every in-page link lands on an element of the page.
    assert {href[1:] for href in page.attr("href")} <= ids


def test_untrusted_texts_are_escaped(full) -> None:
    _, page, raw, md = full
    assert "<script>" not in raw and "evil.example" not in " ".join(page.attr("src"))
    assert HOSTILE in page.words  # shown as text, verbatim
    assert "<script>" not in md and "&lt;script&gt;" in md
    # A `|` in a detail cannot split a Markdown table row.
    table_rows = [line for line in md.splitlines() if "alert" in line]
    assert table_rows and all("\\|" in line for line in table_rows)
    # Nor can it become a Markdown image a viewer would fetch.
    assert "![" not in md and "\\!\\[i\\](https://evil.example/y.png) \\\\" in md


def test_facts_scorecard_and_anomalies(full) -> None:
    path, page, _, md = full
    words = page.words
    for fact in ("joserfc 1.8.0", "jwcrypto 1.6.1", "CPython 3.11.7", "2 CPUs",
                 "harness interop", "9.1 s", "harness loadtest", "4 cells"):
        assert fact in words, fact
    report = build(load_run(Run(path)))
    card = report.scorecard.set_index("library")
    # Findings by severity, most severe first: the policy row is no finding, the hang is a
    # denial of service, an undocumented exception on a hostile token refused it (leniency).
    assert card.loc["jwcrypto", "findings"] == "1 forgery, 1 dos"
    assert card.loc["joserfc", "findings"] == "1 leniency"
    # Two libraries: no third consumer to cross-check with, so no side is charged.
    assert card.loc["joserfc", "produces conformant tokens"] == "100.0% (0 of 1 cells charged)"
    assert card.loc["joserfc", "reads conformant tokens"] == \
        "100.0% (0 of 2 cells charged, 2 undetermined)"
    assert card.loc["jwcrypto", "produces conformant tokens"] == \
        "100.0% (0 of 2 cells charged, 2 undetermined)"
    assert card.loc["joserfc", "suites by default"] == "1 of 3"
    assert card.loc["joserfc", "suites once enabled"] == "2 of 3"
    assert card.loc["jwcrypto", "suites by default"] == "1 of 3"
    assert report.support.loc["JWS ES384", "jwcrypto"] == "fails"
    assert card.loc["joserfc", "claims validation"] == "as the RFCs require: 100.0% (1/1)"
    assert "HS256 sign 52k/s" in card.loc["joserfc", "throughput"]
    # sqrt(26k/52k × 8k/9k)
    assert "0.67× the fastest" in card.loc["jwcrypto", "throughput"]
    # The answer table's throughput reads as a rate once (a "k/s/s" slipped in once).
    answers = [text for row in report.answer for text, _ in row.throughput]
    assert answers and all(text.count("/s") == 1 for text in answers), answers
    assert card.loc["authlib", "version"] == "not installed"
    # Unexpected accepts (security) apart from unexpected rejects (interop), per consumer.
    jwcrypto, joserfc = report.findings["jwcrypto"], report.findings["joserfc"]
    assert list(jwcrypto["unexpected accepts"]["case"]) == ["attacks.alg_none.lowercase"]
    assert list(jwcrypto["unexpected rejects"]["detail"]) == ["own token refused"]
    assert len(joserfc["unexpected rejects"]) == 2
    assert list(joserfc["errors on hostile input"]["case"]) == ["attacks.crit.unknown"]
    assert joserfc["unexpected accepts"].empty
    assert "authlib was not installed" in words and "pip install 'authlib'" in words
    assert "findings: 2 (1 forgery, 1 dos); unexpected rejects: 1 cells" in md
    assert "| attacks.alg\\_none | jwk | 1/1 | 0/1 ✗1 |" in md
    assert "| attacks.kid | jwks | 0/0 +1 | – |" in md


def test_failing_cells_link_to_their_evidence(full) -> None:
    _, page, raw, _ = full
    anchor = evidence_id("jws.roundtrip", "jwcrypto", "joserfc")
    assert f'href="#{anchor}"' in raw and f'id="{anchor}"' in raw
    evidence = raw.split(f'id="{anchor}"', 1)[1].split("</details>", 1)[0]
    # Two failing cells with different causes, each with its detail text.
    assert "<code>bad signature #</code>" in evidence and "bad signature 0x7f3a" in evidence
    assert "&lt;script&gt;" in evidence
    assert f'href="#{evidence_id("attacks.alg_none", "forge", "jwcrypto")}"' in raw
    # The anomalies list findings grouped by cause, each group linking to the same evidence.
    anomalies = raw.split('id="anomalies-joserfc"', 1)[1].split("<h3", 1)[0]
    assert anomalies.count(f'<a href="#{anchor}">rows</a>') == 2
    assert "bad signature #" in anomalies
    # The support grid's failing cell leads to the library's own refused token.
    own = evidence_id("jws.roundtrip", "jwcrypto", "jwcrypto")
    assert f'<a href="#{own}">fails</a>' in raw and "own token refused" in raw
    assert "claims-validation sheet" in page.words.lower()


def test_a_noisy_load_test_is_flagged(full) -> None:
    _, page, _, md = full
    assert "1 cell(s) outside 0.9–1.1 efficiency: joserfc JWS ES256 verify (0.850)" \
        in page.words
    assert "Warning: 1 cell(s) outside" in md
    assert ("1 cell(s) rejected by the load test's own checks, so absent from the table: "
            "jwcrypto JWS PS256 sign (Locust recorded no requests)") in page.words
    assert ("1 cell(s) had a noisy window (efficiency outside 0.95–1.05) and were measured "
            "once more; the table keeps the second measurement unless it had no numbers: "
            "joserfc JWS ES256 verify "
            "(0.931 then 0.850)") in page.words
    assert "load average 0.31 at the start, 1.52 at the end" in page.words
    assert "| jwcrypto | JWS HS256 | sign | 26k/s |" in md


def test_absent_parts_are_stated_not_left_blank(tmp_path: Path) -> None:
    path = make_run(tmp_path, "run", {"pyjwt": "2.15.1"},
                    [row("jws.roundtrip.compact", "pyjwt", "pyjwt")])
    assert main(["report", "--results", str(tmp_path)]) == 2  # no `latest` link: clear error
    assert main(["report", str(path)]) == 0
    words = Page((path / "report.html").read_text()).words
    assert "no load test in this run yet" in words
    assert "no attack or claims rows" in words
    assert "no claims-validation sheet" in words
    assert "No failing cell in this run." in words
    md = (path / "report.md").read_text()
    assert "no load test in this run yet" in md and "security findings are not known" in md


@pytest.mark.parametrize(("damage", "message"), [
    (lambda p: (p / "run.json").unlink(), "is not a run folder: it has no run.json"),
    (lambda p: (p / "run.json").write_text("{not json"), "run.json is corrupt"),
    (lambda p: (p / "interop.jsonl").write_text('{"actual": "accepted"}\nnope\n{}\n'),
     "interop.jsonl:2 is not a JSON row"),
    (lambda p: (p / "loadtest" / "table.csv").write_text("library,suite\nx,y\n"),
     "lacks the columns operation, ops_per_s"),
    (lambda p: (p / "loadtest" / "meta.json").write_text("[1]"), "meta.json is corrupt"),
])
def test_a_corrupt_run_folder_is_refused_and_nothing_is_lost(tmp_path: Path, capsys, damage,
                                                             message: str) -> None:
    path = full_run(tmp_path)
    (path / "report.html").write_text("earlier report")
    damage(path)
    assert main(["report", str(path)]) == 2
    assert message in capsys.readouterr().err
    assert (path / "report.html").read_text() == "earlier report"


def test_a_missing_run_is_refused(tmp_path: Path, capsys) -> None:
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "no run at" in capsys.readouterr().err


def test_newest_run_by_default(tmp_path: Path) -> None:
    path = full_run(tmp_path)
    (tmp_path / "latest").symlink_to(path.name)
    assert main(["report", "--results", str(tmp_path)]) == 0
    assert (path / "report.html").exists() and (path / "report.md").exists()
    assert json.loads((path / "run.json").read_text())["status"] == "complete"  # untouched


def test_stored_files_that_disagree_or_went_missing_are_stated(tmp_path: Path) -> None:
    path = full_run(tmp_path)
    (path / "unexpected-accepts.csv").write_text(
        "library,case,suite,config,attack_class,requirement,detail\n"
        "jwcrypto,attacks.alg_none.lowercase,JWS ES256,jwk,alg-none,RFC 7515,x\n"
        "joserfc,attacks.other,JWS ES256,jwk,alg-none,RFC 7515,x\n")
    for name in ("table.csv", "meta.json"):
        (path / "loadtest" / name).unlink()
    assert main(["report", str(path)]) == 0
    words = Page((path / "report.html").read_text()).words
    assert "unexpected-accepts.csv lists 2 rows but the rows hold 1" in words
    assert "run.json records a load test (status complete) but loadtest/table.csv is missing" \
        in words


def test_a_load_test_only_run_states_that_it_has_no_interop_rows(tmp_path: Path) -> None:
    path = make_run(tmp_path, "run", {"joserfc": "1.8.0"}, [],
                    loadtest=[loadtest_row("joserfc", "JWS HS256", "sign", 52000)])
    assert main(["report", str(path)]) == 0
    words = Page((path / "report.html").read_text()).words
    assert "this run has no interop rows (no make interop in it)" in words
    assert "No interop rows in this run." in words
    assert "HS256 sign 52k/s" in words


@pytest.mark.parametrize("conformance", [True, False])
def test_blame_lands_on_the_side_that_departs_from_the_rfc(tmp_path: Path,
                                                           conformance: bool) -> None:
    path = zip_run(tmp_path, conformance=conformance)
    report = build(load_run(Run(path)))
    card = report.scorecard.set_index("library")
    # "good", "fine" and "also" make and read conformant tokens: never charged.
    for name in ("good", "fine", "also"):
        assert card.loc[name, "produces conformant tokens"].startswith("100.0% (0 of")
        assert card.loc[name, "reads conformant tokens"].startswith("100.0% (0 of")
    # "zlib" writes zlib-wrapped DEF: charged as producer, with the reference's rule as the
    # cause when the rows carry it; it refuses raw DEF the others read: charged as consumer.
    made = card.loc["zlib", "produces conformant tokens"]
    assert made.startswith("50.0% (4 of 8 cells charged")
    if conformance:
        assert "zlib-wrapped, not raw DEFLATE (RFC 7516 §4.1.3)" in made
    assert card.loc["zlib", "reads conformant tokens"].startswith("50.0% (4 of 8")
    # "nozip" ignores `zip` when reading: charged as consumer only (zlib's token that it also
    # fails on is charged to zlib).
    assert card.loc["nozip", "produces conformant tokens"].startswith("100.0% (0 of 8")
    assert card.loc["nozip", "reads conformant tokens"].startswith("62.5% (3 of 8")
    assert main(["report", str(path)]) == 0
    page = (path / "report.html").read_text()
    # The pair grid marks who is charged.
    assert "charged to producer 1" in page and "charged to consumer 1" in page


def test_peers_are_listed_with_language_version_and_runtime_and_those_left_out_with_why(
        tmp_path: Path) -> None:
    path = make_run(tmp_path, "20261128T220000Z-cccccc", {"joserfc": "1.8.0", "jose@5": "5.10.0"},
                    [row("jws.roundtrip.compact", "jose@5", "joserfc"),
                     row("jws.roundtrip.compact", "joserfc", "jose@5")])
    meta = json.loads((path / "run.json").read_text())
    meta["peers"] = {"jose@5": {"language": "javascript", "version": "5.10.0", "library": "jose",
                                "runtime": "node v20.20.2", "release_of": None, "protocol": 1,
                                "command": ["node", "peers/jose5/driver.mjs"]}}
    meta["peers_not_run"] = {"rhonabwy": {"language": "c", "why": "make peers as root"}}
    (path / "run.json").write_text(json.dumps(meta))
    assert main(["report", str(path)]) == 0
    markdown = (path / "report.md").read_text(encoding="utf-8")
    assert "| jose@5 | javascript | jose | 5.10.0 | node v20.20.2 | – | yes |" in markdown
    assert "| rhonabwy | c | – | – | – | – | no: make peers as root |" in markdown
    assert "5.10.0 (javascript peer)" in markdown  # the scorecard's version column
    page = Page((path / "report.html").read_text(encoding="utf-8"))
    assert "peers" in page.attr("id")
    assert "node v20.20.2" in page.words and "no: make peers as root" in page.words
