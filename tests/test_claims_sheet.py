"""The claims cases flag the fake adapters as the design predicts, the real libraries accept every
correct token, and the claims sheet has one row per (library, situation, configuration)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harness.adapters import installed_adapters
from harness.adapters.base import Adapter
from harness.core.keys import KeySet
from harness.core.suites import ALL_SUITES
from harness.interop.claims_sheet import (
    CLAIMS_CHART,
    CLAIMS_CSV,
    COLUMNS,
    claims_table,
    write_claims_sheet,
)
from harness.interop.runner import World, execute, plan
from harness.interop.scenario import discover, select_cases
from tests import fakes

CASES = select_cases(discover(), ["claims"])


def _run(adapters: list[Adapter], keys: KeySet) -> pd.DataFrame:
    world = World({a.name: a for a in adapters}, keys, {c.id: c for c in CASES})
    rows: list[dict] = []
    execute(plan(CASES, ALL_SUITES, ["default", "enabled"]), world, 1, rows.extend)
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def fake_rows(keys: KeySet) -> pd.DataFrame:
    return _run([fakes.AcceptAll(), fakes.RejectAll(), fakes.SupportsNothing()], keys)


def test_claims_cases_run_once_per_consumer_in_default_mode(fake_rows) -> None:
    assert set(fake_rows.producer) == {"forge"} and set(fake_rows["mode"]) == {"default"}
    assert set(fake_rows.suite) == {"JWS HS256"}
    assert len(fake_rows) == 3 * len(CASES)


def test_accept_all_is_flagged_on_every_judged_reject_and_never_judged_on_policy(
        fake_rows) -> None:
    rows = fake_rows[fake_rows.consumer == "accept-all"]
    assert (rows.actual == "accepted").all()
    judged, policy = rows[~rows.policy], rows[rows.policy]
    assert len(policy) > 0 and policy.passed.isna().all()
    assert (judged.passed == (judged.expected == "accept")).all()
    assert (judged.expected == "reject").sum() >= 60


def test_reject_all_is_flagged_on_every_judged_accept_only(fake_rows) -> None:
    rows = fake_rows[fake_rows.consumer == "reject-all"]
    assert (rows.actual == "rejected").all()
    judged = rows[~rows.policy]
    assert (judged.passed == (judged.expected == "reject")).all()
    assert (judged.expected == "accept").sum() >= 20


def test_supports_nothing_is_never_judged(fake_rows) -> None:
    rows = fake_rows[fake_rows.consumer == "supports-nothing"]
    assert (rows.actual == "unsupported").all() and rows.passed.isna().all()


def test_the_sheet_has_one_row_per_library_situation_and_configuration(fake_rows,
                                                                        tmp_path: Path) -> None:
    written = write_claims_sheet(fake_rows, CASES, tmp_path, ["reject-all", "accept-all"])
    assert [path.name for path in written] == [CLAIMS_CSV, CLAIMS_CHART]
    assert (tmp_path / CLAIMS_CHART).stat().st_size > 10_000
    sheet = pd.read_csv(tmp_path / CLAIMS_CSV, keep_default_na=False)
    assert tuple(sheet.columns) == COLUMNS
    keys = ["library", "situation", "configuration"]
    assert not sheet.duplicated(keys).any()
    situations, configs = sheet.situation.nunique(), sheet.configuration.nunique()
    assert len(sheet) == 3 * situations * configs == 3 * len(CASES)
    # Reading order: the control first, the configurations from fewest options to most.
    assert sheet.situation.iloc[0] == "baseline.valid"
    assert list(dict.fromkeys(sheet.configuration)) == ["defaults", "audience-issuer",
                                                         "with-options"]
    assert list(dict.fromkeys(sheet.library)) == ["reject-all", "accept-all",
                                                  "supports-nothing"]
    accept_all = sheet[sheet.library == "accept-all"]
    assert set(accept_all.verdict) == {"pass", "fail", "policy"}
    assert set(sheet[sheet.library == "supports-nothing"].verdict) == {"not judged"}
    assert (sheet[sheet.library == "reject-all"].detail == "RejectAll: refused").all()


def test_no_sheet_without_claims_rows(tmp_path: Path) -> None:
    rows = pd.DataFrame([{"scenario": "jws.roundtrip", "case": "jws.roundtrip.compact"}])
    assert write_claims_sheet(rows, CASES, tmp_path) == []
    assert claims_table(rows).empty and not (tmp_path / CLAIMS_CSV).exists()
    assert write_claims_sheet(pd.DataFrame(), CASES, tmp_path) == []


def test_real_libraries_accept_every_correct_token(keys: KeySet) -> None:
    adapters, _ = installed_adapters(None)
    rows = _run(adapters, keys)
    assert set(rows[rows.actual == "unsupported"].consumer) <= {"jwskate"}
    correct = rows[(rows.expected == "accept") & ~rows.policy & (rows.actual != "unsupported")]
    refused = correct[correct.passed != True]  # noqa: E712 - a nullable column
    assert refused.empty, refused[["case", "consumer", "actual", "detail"]].to_string()
    # Not `audience-issuer`: jwcrypto checks no `exp` once `check_claims` is given without it,
    # which is a finding the sheet reports, not a property of the cases.
    expired = rows[rows.case.str.startswith("claims.exp.past_")
                   & (rows.config != "audience-issuer")]
    assert (expired[expired.actual != "unsupported"].actual == "rejected").all()
