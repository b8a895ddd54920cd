"""Keys the libraries make: the sheet flags a weak default, the cross-check charges an export
that drops a member, and thumbprints are held against RFC 7638."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from harness.adapters import installed_adapters
from harness.core.blame import blame
from harness.core.keys import KeySet
from harness.core.suites import SUITES_BY_NAME
from harness.forge.thumbprint import (
    RFC7638_EXAMPLE,
    RFC7638_EXAMPLE_NAME,
    RFC7638_EXAMPLE_THUMBPRINT,
    ThumbprintRefused,
    thumbprint,
)
from harness.interop.keygen_sheet import keygen_table, summary_lines, thumbprint_table
from harness.interop.runner import World, execute, plan
from harness.interop.scenario import discover, select_cases
from tests import fakes_keygen

CASES = select_cases(discover(), ["keygen"])


def test_reference_thumbprint_is_the_rfc_example_and_refuses_a_missing_member() -> None:
    assert thumbprint(RFC7638_EXAMPLE) == RFC7638_EXAMPLE_THUMBPRINT
    # The example's `alg` and `kid` are not hashed (RFC 7638 §3.2).
    assert thumbprint({k: RFC7638_EXAMPLE[k] for k in ("e", "kty", "n")}) == \
        RFC7638_EXAMPLE_THUMBPRINT
    with pytest.raises(ThumbprintRefused, match="'e'"):
        thumbprint({"kty": "RSA", "n": RFC7638_EXAMPLE["n"]})


def test_real_libraries_agree_on_the_rfc_example() -> None:
    adapters, _ = installed_adapters()
    offering = [a for a in adapters if a.keygen_api]
    assert offering, "no installed library offers key generation"
    for adapter in offering:
        assert adapter.thumbprint(dict(RFC7638_EXAMPLE)) == RFC7638_EXAMPLE_THUMBPRINT, \
            adapter.name


def test_sheet_flags_a_1024_bit_default_and_not_its_correct_twin() -> None:
    table = keygen_table([fakes_keygen.KeygenOk(), fakes_keygen.Weak1024(),
                          fakes_keygen.RefusesWeak()])
    rsa = table[(table["request"] == "default") & (table["kty"] == "RSA")].set_index("library")
    assert rsa.loc["keygen-1024", "bits"] == 1024
    assert "under RFC 7518's 2048" in rsa.loc["keygen-1024", "below_minimum"]
    assert rsa.loc["keygen-ok", "bits"] == 2048 and rsa.loc["keygen-ok", "below_minimum"] == ""
    # The first two let a user ask for what RFC 7518 forbids; the third refuses, with its text.
    forbidden = table[table["request"] == "forbidden"]
    allows = forbidden[forbidden["library"] != "refuses-weak"]
    assert set(allows["allowed"]) == {"yes"} and set(allows["bits"]) == {1024, 128}
    refuses = forbidden[forbidden["library"] == "refuses-weak"]
    assert set(refuses["outcome"]) == {"refused"} and set(refuses["allowed"]) == {"no"}
    assert refuses["detail"].str.contains("too small").all()
    assert any("DEFAULT TOO SMALL: RSA 1024" in line
               for line in summary_lines(table, pd.DataFrame(columns=["library", "agrees"])))


def test_an_export_without_e_fails_the_cross_check_charged_to_its_producer(
        keys: KeySet) -> None:
    adapters = [fakes_keygen.KeygenOk(), fakes_keygen.KeygenOkToo(),
                fakes_keygen.DropsExponent()]
    world = World({a.name: a for a in adapters}, keys, {c.id: c for c in CASES})
    rows: list[dict] = []
    execute(plan(CASES, [SUITES_BY_NAME["JWS RS256"], SUITES_BY_NAME["JWS ES256"]],
                 ["default"]), world, 1, rows.extend)
    frame = pd.DataFrame(rows)
    assert set(frame["config"]) == {"exported JWK", "exported JWKS"}
    bad = frame[(frame["producer"] == "drops-e") & (frame["suite"] == "JWS RS256")]
    assert len(bad) == 6 and (bad["passed"] == False).all()  # noqa: E712
    assert bad["detail"].str.contains("drops-e's JWK.? export lacks its required member 'e'",
                                      regex=True).all(), bad["detail"].tolist()
    assert bad["conformance"].str.contains("'e'").all()
    charged = blame(frame).loc[bad[bad["consumer"] != "drops-e"].index, "charged"]
    assert set(charged) == {"producer"}
    good = frame[~frame.index.isin(bad.index)]
    assert (good["passed"] == True).all(), good[good["passed"] != True]["detail"].tolist()  # noqa: E712


def test_a_thumbprint_in_jwk_order_is_caught_and_its_correct_twin_passes(keys: KeySet) -> None:
    table = thumbprint_table([fakes_keygen.KeygenOk(), fakes_keygen.ThumbprintInJwkOrder()],
                             keys)
    ok = table[table["library"] == "keygen-ok"]
    wrong = table[table["library"] == "thumbprint-jwk-order"]
    assert (ok["agrees"] == "yes").all() and len(ok) == len(wrong) > 10
    assert (wrong["agrees"] == "no").all()
    assert wrong["detail"].str.contains("RFC 7638 §3.3 orders them lexicographically").all()
    example = ok[ok["key"] == RFC7638_EXAMPLE_NAME]
    assert example["thumbprint"].iloc[0] == RFC7638_EXAMPLE_THUMBPRINT


def test_the_report_shows_the_sheet_and_a_departing_thumbprint(tmp_path, keys: KeySet) -> None:
    from harness.core.results import Run
    from harness.interop.keygen_sheet import write_keygen_sheet
    from harness.report.write import write_report
    from tests.runfolders import make_run, row

    run = make_run(tmp_path, "20261202T000000Z-keygen", {"keygen-ok": "1"},
                   [row("keygen.crosscheck.library_made_key", "keygen-ok", "keygen-ok")])
    adapters = [fakes_keygen.Weak1024(), fakes_keygen.ThumbprintInJwkOrder()]
    written, _ = write_keygen_sheet(adapters, keys, run, charts=False)
    assert {p.name for p in written} == {"keygen.csv", "thumbprints.csv"}
    # Member names and sizes only: no key material (a base64url run of 40+ characters).
    assert not re.search(r"[A-Za-z0-9_-]{40,}", (run / "keygen.csv").read_text())
    html, markdown = write_report(Run(run))
    text = markdown.read_text(encoding="utf-8")
    section = text[text.index("## Key generation"):]
    assert "| keygen-1024 | 1024 bits ✗ under RFC 7518's minimum |" in section
    assert "thumbprint-jwk-order" in section and "orders them lexicographically" in section
    assert "Thumbprints that depart from RFC 7638" in html.read_text(encoding="utf-8")
