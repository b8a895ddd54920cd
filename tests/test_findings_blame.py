"""Findings (one per behaviour, with a severity) and blame (the side that departs from the RFC),
checked on fake adapters run through the real runner and on synthetic rows."""

from __future__ import annotations

import pandas as pd

from harness.core.blame import blame, charged_counts, pair_charges
from harness.core.findings import findings, severity_counts
from harness.core.severity import SEVERITIES
from harness.core.suites import select_suites
from harness.interop.runner import World, execute, plan
from harness.interop.scenario import discover
from tests import fakes
from tests.runfolders import row


def _run(adapters: list, keys, case_ids: list[str] | None = None, prefixes: tuple = (),
         suites: list[str] = ("JWS HS256",)) -> pd.DataFrame:
    cases = [c for c in discover() if (case_ids and c.id in case_ids)
             or (prefixes and c.scenario.startswith(prefixes))]
    world = World({a.name: a for a in adapters}, keys, {c.id: c for c in cases})
    rows: list[dict] = []
    execute(plan(cases, select_suites(list(suites)), ["default"]), world, 1, rows.extend)
    return pd.DataFrame(rows)


def test_accept_all_yields_findings_in_every_severity(keys) -> None:
    rows = _run([fakes.AcceptAll()], keys, prefixes=("attacks.", "claims."))
    found = findings(rows)
    counts = severity_counts(found, "accept-all")
    assert list(counts) == list(SEVERITIES), counts
    # A finding counts once however many cells show it: fewer findings than evidence cells.
    assert len(found) < int(found["cells"].sum())
    # Four spellings of `alg: none`, each under two configurations, are one forgery finding.
    none = found[(found["group"] == "alg-none") & (found["severity"] == "forgery")]
    assert len(none) == 1 and none["case_count"].iloc[0] >= 5
    # Claims configurations never multiply a finding: one situation, one finding.
    nan = found[found["group"] == "claims.exp.nan"]
    assert len(nan) == 1 and nan["cells"].iloc[0] == 3 and nan["severity"].iloc[0] == "bypass"


def test_reject_all_has_no_security_finding(keys) -> None:
    rows = _run([fakes.RejectAll()], keys, prefixes=("attacks.alg_none", "claims.exp"))
    assert findings(rows).empty


ZIP_CASES = ["jwe.roundtrip.compact_deflate", "jwe.roundtrip.compact"]
ZIP_SUITES = ["JWE A128KW + A128GCM"]


def test_zip_mangling_producer_and_zip_ignoring_consumer_are_charged_by_cross_check(
        keys) -> None:
    # These fakes' tokens are not real JOSE, so the reference would call every one of them
    # non-conformant: without the column, the cross-check decides (tests/test_conformance.py
    # charges a real zlib-wrapping producer through the reference).
    adapters = [fakes.ZipFake(), fakes.ZipFakeToo(), fakes.ZipFakeThree(), fakes.ZlibDef(),
                fakes.IgnoresZip()]
    rows = _run(adapters, keys, ZIP_CASES, suites=ZIP_SUITES).drop(columns=["conformance"])
    blamed = blame(rows)
    failing = blamed[blamed["failed"]]
    assert not failing.empty and set(failing["case"]) == {"jwe.roundtrip.compact_deflate"}
    # zlib-def's own DEF is refused by everyone else: charged as producer ...
    made = failing[failing["producer"] == "zlib-def"]
    assert (made["charged"] == "producer").all()
    # ... and it refuses everyone's raw DEF that the others read: charged as consumer.
    read = failing[(failing["consumer"] == "zlib-def") & (failing["producer"] != "ignores-zip")]
    assert len(read) and (read["charged"] == "consumer").all()
    # ignores-zip makes a correct token and only mangles what it reads: consumer only.
    assert charged_counts(blamed, "ignores-zip", "producer") == (0, 8)
    charged, judged = charged_counts(blamed, "ignores-zip", "consumer")
    assert charged == 3 and judged == 8  # the 3 correct producers' DEF; zlib-def's is its own
    # Correct libraries are never charged.
    for name in ("zip-ok", "zip-ok-2", "zip-ok-3"):
        assert charged_counts(blamed, name, "producer")[0] == 0
        assert charged_counts(blamed, name, "consumer")[0] == 0
    grid = pair_charges(blamed)
    assert grid.loc[("zip-ok", "ignores-zip"), "consumer"] == 1


def test_conformance_column_decides_when_present() -> None:
    def cell(producer: str, consumer: str, passed: bool, conformance: str) -> dict:
        return row("jwe.roundtrip.compact_deflate", producer, consumer, suite="JWE dir + A128GCM",
                   actual="accepted" if passed else "rejected", passed=passed,
                   detail="" if passed else "Error -3 while decompressing",
                   conformance=conformance)
    bad = "zip: DEF content is zlib-wrapped, not raw DEFLATE (RFC 7516 §4.1.3)"
    rows = pd.DataFrame([
        # Only one other consumer: the cross-check could not decide, the reference does.
        cell("jose", "joserfc", False, bad),
        cell("joserfc", "jose", False, "conformant"),
        cell("joserfc", "jwcrypto", True, "conformant"),
    ])
    blamed = blame(rows).set_index(["producer", "consumer"])
    assert blamed.loc[("jose", "joserfc"), "charged"] == "producer"
    assert blamed.loc[("jose", "joserfc"), "cause"] == bad
    assert blamed.loc[("jose", "joserfc"), "basis"] == "conformance"
    assert blamed.loc[("joserfc", "jose"), "charged"] == "consumer"


def test_a_cell_that_failed_in_the_producer_is_charged_to_the_producer(keys) -> None:
    # Before: the token made again passed every other consumer, so the cross-check charged
    # the consumer that had asked first.
    class AcceptToo(fakes.AcceptAll):
        name = "accept-too"

    # The flaky producer last, so its first token is made for another library, not itself.
    rows = _run([fakes.AcceptAll(), AcceptToo(), fakes.FlakyProducer()], keys,
                ["jws.roundtrip.compact"])
    failed = rows[(rows.producer == "flaky-producer") & (rows.actual == "error")]
    assert len(failed) == 1 and failed.failed_in.tolist() == ["producer"]
    assert failed.detail.str.startswith("KeyError").all()
    assert (rows.drop(failed.index).failed_in.isna()).all()
    blamed = blame(rows.drop(columns=["conformance"]))
    charged = blamed.loc[blamed.index.isin(failed.index)]
    assert charged[["charged", "basis"]].values.tolist() == [["producer", "producer failed"]]
    assert charged_counts(blamed, str(failed.consumer.iloc[0]), "consumer")[0] == 0


def test_without_a_panel_nobody_is_charged() -> None:
    rows = pd.DataFrame([row("jws.roundtrip.compact", "a", "b", actual="rejected", passed=False,
                             detail="bad")])
    assert blame(rows)["charged"].tolist() == ["undetermined"]


def test_a_crash_on_a_policy_case_fails_and_is_a_finding_where_a_refusal_is_not(keys) -> None:
    """The epk with a short coordinate may be read or refused (policy); an undocumented exception
    on it fails the cell and is an `error on hostile input` finding (jose2go's panic)."""
    case = "jwe.unusual.ecdh_epk_short_coordinate"
    rows = _run([fakes.RaisesUndocumented(), fakes.RejectAll()], keys, [case],
                suites=["JWE ECDH-ES (P-256) + A256GCM"])
    raises = rows[rows.consumer == "raises-undocumented"]
    refuses = rows[rows.consumer == "reject-all"]
    assert (raises.actual == "error").all() and (raises.passed == False).all()  # noqa: E712
    assert (refuses.actual == "rejected").all() and refuses.passed.isna().all()
    found = findings(rows)
    assert list(found.consumer) == ["raises-undocumented"]
    assert found.kind.iloc[0] == "error on hostile input" and found.severity.iloc[0] == "leniency"


def test_a_failed_policy_row_counts_as_failed_in_every_table_and_a_chosen_one_as_policy() -> None:
    """The report's grid, its failing-cell evidence, the anomaly masks and the attack verdicts
    treat a policy row the consumer crashed on as a failure and one it refused as policy."""
    from harness.interop.attack_report import verdict_of
    from harness.report.anomalies import masks
    from harness.report.model import failing_rows, security_grid

    case = "attacks.kid.integer_kid_genuine_signature"
    common = {"expected": "reject", "policy": True, "attack_class": "kid", "severity": "leniency",
              "config": "default", "entry_point": "jws", "key_form": "jwk", "raw_key": False}
    rows = pd.DataFrame([
        row(case, "forge", "crashes", actual="error", passed=False,
            detail="TypeError: kid", error_source="library", **common),
        row(case, "forge", "refuses", actual="rejected", passed=None, **common)])
    grid = security_grid(rows).set_index("consumer")
    assert grid.loc["crashes", ["failed", "policy"]].tolist() == [1, 0]
    assert grid.loc["refuses", ["failed", "policy"]].tolist() == [0, 1]
    assert list(failing_rows(rows)["consumer"]) == ["crashes"]
    errors = masks(rows)["errors on hostile input"]
    assert errors.tolist() == [True, False]
    assert [verdict_of(r) for _, r in rows.iterrows()] == ["error", "policy"]


def test_an_acceptable_vector_crashed_on_is_a_miss_and_a_crashed_claims_policy_row_fails() -> None:
    from harness.interop.vectors_table import vector_misses, vectors_table
    from harness.report.scorecard import _claims

    vector = {"expected": "accept", "policy": True, "producer": "vector", "defect": ""}
    rows = pd.DataFrame([
        row("vectors.wycheproof_jwe.tc22", consumer="lib", actual="error", passed=False,
            detail="ValueError", **vector),
        row("vectors.wycheproof_jwe.tc23", consumer="lib", actual="rejected", passed=None,
            **vector)])
    table = vectors_table(rows).iloc[0]
    assert (table["misses"], table["acceptable refused"]) == (1, 1)
    assert list(vector_misses(rows)["case"]) == ["vectors.wycheproof_jwe.tc22"]
    claims = {"expected": "reject", "policy": True, "producer": "forge"}
    rows = pd.DataFrame([
        row("claims.exp.overflow_defaults", consumer="lib", actual="error", passed=False,
            **claims),
        row("claims.exp.nan_defaults", consumer="lib", actual="rejected", passed=None, **claims)])
    assert _claims(rows, "lib") == "as the RFCs require: 0.0% (0/1); 1 policy choices"


def test_a_wrong_payload_is_one_cause_whatever_its_bytes() -> None:
    import zlib

    from harness.core.findings import masked
    from harness.interop.runner import _difference

    sent = b'{"sub":"alice","scope":"read"}'
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    raw = deflater.compress(sent) + deflater.flush()
    assert _difference(sent, raw) == "still raw-DEFLATE compressed: zip not applied"
    assert _difference(sent, zlib.compress(sent)) == "still zlib-compressed: zip not applied"
    # Random bytes (a wrong key derivation) and a bomb's worth of zeros are just other bytes.
    assert _difference(sent, b"\x8f'\x87\x15") == "4 bytes where 30 were sent"
    assert _difference(sent, zlib.compress(b"\x00" * 10_000_000)).endswith("where 30 were sent")
    details = [f"returned payload differs ({_difference(sent, got)}): {got[:80]!r}"
               for got in (b"\x8f'\x87\x15", b'\xde\xd4"\xaf', b"\x01\x02\x03\x04")]
    assert {masked(detail) for detail in details} == {
        "returned payload differs (# bytes where # were sent)"}
    assert masked("checked; returned payload differs: b'x'") == "checked; returned payload differs"
    assert masked(float("nan")) == masked(None) == ""
    assert masked("returned payload differs (a str where a bytes was sent): 'x: (y)'") == \
        "returned payload differs (a str where a bytes was sent)"
    assert masked("returned payload differs: bytearray(b'x')") == "returned payload differs"
    assert masked(5) == "#"
    assert masked("accepted it, returning b'\\x88\\xaft'") == "accepted it, returning"
