"""The JWS attack catalogue judged through the runner with fake adapters: accept-all is flagged
on every judged case and reject-all on none; a library that fetches a `jku` is flagged even
though it refuses; the attack outputs (CSV, chart, summary) come from the rows."""

from __future__ import annotations

import json
import urllib.request

import pandas as pd

from harness.adapters.base import KeyData, Mode, Serialization
from harness.core.errors import Rejected
from harness.core.suites import Suite, select_suites
from harness.interop.attack_report import (
    UNEXPECTED_ACCEPTS_CSV,
    unexpected_accepts,
    verdict_counts,
    verdict_of,
    verdicts_of,
    write_attack_outputs,
)
from harness.interop.listener import HitCounter
from harness.interop.runner import World, execute, plan
from harness.interop.scenario import discover
from tests import fakes
from tests.test_attacks_jws import MODULES

SUITES = select_suites(["JWS HS256", "JWS RS256", "JWS ES256", "JWS ES512",
                        "JWS EdDSA (Ed25519)"])
JWS_SCENARIOS = {f"attacks.{name}" for name in MODULES}


def attack_cases(names: set[str] = JWS_SCENARIOS):
    return [c for c in discover() if c.scenario in names]


def run_attacks(adapters, keys, cases=None, jobs: int = 2) -> pd.DataFrame:
    cases = cases or attack_cases()
    world = World({a.name: a for a in adapters}, keys, {c.id: c for c in cases})
    rows: list[dict] = []
    execute(plan(cases, SUITES, ["enabled"]), world, jobs, rows.extend)
    return pd.DataFrame(rows)


def test_accept_all_is_flagged_on_every_case_and_reject_all_on_none(keys) -> None:
    rows = run_attacks([fakes.AcceptAll(), fakes.RejectAll()], keys)
    assert set(rows.scenario) == JWS_SCENARIOS
    judged = rows[~rows.policy.astype(bool)]
    accept_all = judged[judged.consumer == "accept-all"]
    reject_all = judged[judged.consumer == "reject-all"]
    assert set(accept_all.case) == {c.id for c in attack_cases()
                                    if not c.policy and c.suites(SUITES)}
    # PKCS#1 has no EC or OKP keys: the only configurations no adapter can be judged in.
    meaningless = accept_all.detail == "PKCS#1 holds RSA keys only"
    assert (accept_all[~meaningless].passed == False).all()  # noqa: E712
    assert (accept_all[meaningless].actual == "unsupported").all()
    assert (reject_all.passed != False).all(), reject_all[reject_all.passed == False][  # noqa: E712
        ["case", "suite", "actual", "detail", "peak_rss_kb"]].to_string()
    # Unsupported only where a case first needs a genuine token to pass (key confusion).
    unsupported = reject_all[reject_all.actual == "unsupported"]
    assert set(unsupported.scenario) <= {"attacks.key_confusion"}
    fakes.assert_policy_rows_judged_only_on_faults(rows)


def test_the_listener_counts_a_fetch() -> None:
    with HitCounter(b'{"keys": []}') as listener:
        url = listener.url("jwks.json")
        with urllib.request.urlopen(url, timeout=5) as response:
            assert json.loads(response.read()) == {"keys": []}
        assert listener.hits == ["/jwks.json"]


def fetch_named_jku(token: str) -> None:
    """What a careless library does: request the `jku` URL the token's header names."""
    header = json.loads(fakes._unb64(token.split(".")[0]))
    if "jku" in header:
        urllib.request.urlopen(header["jku"], timeout=5).read()


class FetchesJku(fakes.RejectAll):
    """Refuses every token, but first fetches the `jku` it names, as a careless library would."""

    name = "fetches-jku"

    def _verify(self, suite: Suite, token: str, key: KeyData, mode: Mode,
                serialization: Serialization) -> bytes:
        fetch_named_jku(token)
        raise Rejected("refused after fetching")


def test_a_library_that_fetches_jku_is_flagged_although_it_refuses(keys) -> None:
    cases = [c for c in attack_cases({"attacks.embedded_key"}) if "listener" in c.id]
    rows = run_attacks([FetchesJku()], keys, cases)
    jku = rows[rows.case.str.endswith("jku_header_to_listener")]
    x5u = rows[rows.case.str.endswith("x5u_header_to_listener")]
    assert len(jku) > 0 and (jku.passed == False).all()  # noqa: E712
    assert jku.detail.str.contains("fetched the jku URL 1 time").all()
    # A finding about the library, not a harness bug: the run does not exit 3 for it.
    assert (jku.actual == "error").all() and (jku.error_source == "library").all()
    assert (x5u.actual == "rejected").all()


def _rows() -> pd.DataFrame:
    base = {"scenario": "attacks.x", "producer": "forge", "suite": "JWS HS256", "mode": "enabled",
            "requirement": "RFC 0", "config": "default", "detail": ""}
    return pd.DataFrame([
        {**base, "case": "a", "consumer": "lib1", "attack_class": "alg-none",
         "expected": "reject", "actual": "accepted", "passed": False, "policy": False},
        {**base, "case": "b", "consumer": "lib1", "attack_class": "kid", "expected": "reject",
         "actual": "accepted", "passed": None, "policy": True},
        {**base, "case": "c", "consumer": "lib2", "attack_class": "alg-none",
         "expected": "reject", "actual": "rejected", "passed": True, "policy": False},
        {**base, "case": "d", "consumer": "lib2", "attack_class": "huge", "expected": "reject",
         "actual": "hang", "passed": False, "policy": False},
        {**base, "scenario": "jws.roundtrip", "case": "e", "consumer": "lib2",
         "attack_class": None, "expected": "accept", "actual": "accepted", "passed": True,
         "policy": False},
    ])


def test_unexpected_accepts_leave_out_policy_and_refusals() -> None:
    table = unexpected_accepts(_rows())
    assert list(table.case) == ["a"] and list(table.library) == ["lib1"]
    counts = verdict_counts(_rows()).set_index(["library", "attack_class"])
    assert counts.loc[("lib1", "alg-none"), "unexpected accept"] == 1
    assert counts.loc[("lib1", "kid"), "policy"] == 1
    assert counts.loc[("lib2", "huge"), "hang"] == 1
    assert counts.loc[("lib2", "alg-none"), "passed"] == 1
    assert len(counts) == 4  # the non-attack row is left out


def test_the_verdicts_of_all_rows_at_once_are_each_rows_verdict() -> None:
    """Every branch of `verdict_of`, with the values a JSON-lines row can hold (a missing
    policy or cost verdict is NaN, `passed` None)."""
    base = {"scenario": "attacks.kid", "case": "c", "consumer": "lib", "attack_class": "kid"}
    variants = [
        {"actual": "unsupported", "passed": None, "policy": False, "expected": "reject"},
        {"actual": "rejected", "passed": False, "policy": True, "expected": "reject",
         "cost_verdict": "dos"},
        {"actual": "error", "passed": False, "policy": True, "expected": "reject"},
        {"actual": "hang", "passed": False, "policy": False, "expected": "reject"},
        {"actual": "rejected", "passed": None, "policy": True, "expected": "reject",
         "cost_verdict": "within"},
        {"actual": "rejected", "passed": True, "policy": False, "expected": "reject"},
        {"actual": "accepted", "passed": False, "policy": False, "expected": "reject"},
        {"actual": "rejected", "passed": False, "policy": False, "expected": "accept"},
        {"actual": "accepted", "passed": False, "policy": float("nan"), "expected": "reject"},
    ]
    rows = pd.DataFrame([{**base, **variant} for variant in variants])
    expected = [verdict_of(row) for _, row in rows.iterrows()]
    assert verdicts_of(rows).tolist() == expected
    assert expected[:8] == ["unsupported", "dos", "error", "hang", "policy", "passed",
                            "unexpected accept", "unexpected reject"]
    without = rows.drop(columns=["cost_verdict"])
    assert verdicts_of(without).tolist() == [verdict_of(row) for _, row in without.iterrows()]


def test_attack_outputs_are_written(tmp_path) -> None:
    lines = write_attack_outputs(_rows(), ["lib1", "lib2"], tmp_path)
    written = pd.read_csv(tmp_path / UNEXPECTED_ACCEPTS_CSV)
    assert list(written.columns) == ["library", "case", "suite", "config", "entry_point",
                                     "key_form", "attack_class", "severity", "requirement",
                                     "detail"]
    assert len(written) == 1 and (tmp_path / "attack-verdicts.png").stat().st_size > 0
    assert "Unexpected accepts: 1 rows in unexpected-accepts.csv" in lines
    # Findings per library, by severity (these rows declare none: unrated; a hang is dos).
    assert "  lib1: 1 unrated" in lines
    assert "  lib2: 1 dos" in lines  # its hang
    assert write_attack_outputs(_rows()[_rows().attack_class.isna()], ["lib2"], tmp_path) == []


class FetchesJkuAndAccepts(fakes.AcceptAll):
    """Fetches the `jku` it names and then takes the token: an unexpected accept."""

    name = "fetches-and-accepts"

    def _verify(self, suite: Suite, token: str, key: KeyData, mode: Mode,
                serialization: Serialization) -> bytes:
        fetch_named_jku(token)
        return super()._verify(suite, token, key, mode, serialization)


def test_a_library_that_fetches_and_accepts_is_an_unexpected_accept(keys) -> None:
    cases = [c for c in attack_cases({"attacks.embedded_key"})
             if c.id.endswith("jku_header_to_listener")]
    rows = run_attacks([FetchesJkuAndAccepts()], keys, cases)
    assert len(rows) > 0 and (rows.actual == "accepted").all()
    assert (rows.passed == False).all()  # noqa: E712
    assert rows.detail.str.contains("fetched the jku URL 1 time").all()
