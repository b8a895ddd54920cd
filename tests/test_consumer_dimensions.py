"""Entry points, key text handed over untouched, and cost verdicts: each catches a fake library
whose weakness shows through it alone, and passes that fake's correct twin."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harness.adapters.base import Adapter
from harness.core import cost
from harness.core.cost import (
    BASELINE_RUNS,
    MEMORY_GROWTH_BUDGET_KB,
    SMALL_TOKEN_BYTES,
    TIME_FLOOR_MS,
    Measured,
    judge_refusal,
    time_budget_ms,
)
from harness.core.suites import select_suites
from harness.interop.attack_report import summary_lines, unexpected_accepts
from harness.interop.costs import BASELINE_PAYLOAD
from harness.interop.runner import World, execute, plan
from harness.interop.scenario import discover, select_cases
from harness.report.anomalies import config_label, masks
from tests import fakes_attacks


def run(adapters: list[Adapter], keys, scenarios: list[str], suites: list[str],
        modes: tuple[str, ...] = ("default",)) -> pd.DataFrame:
    cases = select_cases(discover(), scenarios)
    world = World({a.name: a for a in adapters}, keys, {c.id: c for c in cases})
    rows: list[dict] = []
    execute(plan(cases, select_suites(suites), list(modes)), world, 1, rows.extend)
    return pd.DataFrame(rows)


def failing(rows: pd.DataFrame, library: str) -> pd.DataFrame:
    mine = rows[rows.consumer == library]
    return mine[mine.passed.eq(False)]


# -- the verdict, with given numbers ----------------------------------------------------------

def test_time_budget_is_relative_with_a_floor() -> None:
    assert time_budget_ms(None) == TIME_FLOOR_MS
    assert time_budget_ms(0.01) == TIME_FLOOR_MS  # 100x of 10 µs is below the floor
    assert time_budget_ms(1.0) == 100.0


@pytest.mark.parametrize(("cpu_ms", "growth_kb", "token_bytes", "dos"), [
    (5.0, 0, 1000, False),                                   # cheap refusal
    (150.0, 0, 1000, True),                                  # 150x a 1 ms baseline
    (50.0, MEMORY_GROWTH_BUDGET_KB + 1, 1000, True),         # memory from a small token
    (50.0, MEMORY_GROWTH_BUDGET_KB + 1, SMALL_TOKEN_BYTES, False),  # a big token may cost more
    (50.0, MEMORY_GROWTH_BUDGET_KB, 1000, False),            # at the budget is within it
    (50.0, None, 1000, False),                               # memory not tracked: time alone
])
def test_refusal_verdict(cpu_ms: float, growth_kb: int | None, token_bytes: int,
                         dos: bool) -> None:
    verdict = judge_refusal(Measured(token_bytes, cpu_ms, cpu_ms, growth_kb), 1.0)
    assert verdict.dos is dos
    assert bool(verdict.why) is dos


def test_time_verdict_says_how_many_times_a_genuine_token() -> None:
    verdict = judge_refusal(Measured(100, 400.0, 400.0, 0), 2.0)
    assert verdict.dos and "200 times a genuine token" in verdict.why


# -- key text handed over untouched -----------------------------------------------------------

def test_hmac_with_any_key_text_is_caught_only_through_raw_text(keys) -> None:
    rows = run([fakes_attacks.HmacWithAnyKeyText(), fakes_attacks.HmacRefusesKeyText()], keys,
               ["attacks.key_confusion"], ["JWS RS256", "JWS ES256"])
    caught = failing(rows, "hmac-any-text")
    assert not caught.empty
    assert (caught.actual == "accepted").all()
    assert caught.raw_key.all() and caught.config.str.startswith("raw-").all()
    # Every form it is handed as text is caught, JWKS JSON and bare bytes included.
    assert {"pem", "der", "openssh", "jwk-json", "jwks-json", "raw"} <= set(caught.key_form)
    assert failing(rows, "hmac-refuses-text").empty
    # The genuine token verified with each form, and it is recorded beside the row.
    assert rows[rows.actual != "unsupported"].genuine_verifies.eq(True).all()


def test_a_form_that_cannot_verify_still_gets_the_forgery(keys) -> None:
    class CannotVerifyText(fakes_attacks.HmacWithAnyKeyText):
        """Refuses every asymmetric token when the key is text, but takes it as a secret."""

        name = "cannot-verify-text"

        def _verify(self, suite, token, key, allowed, serialization):  # type: ignore[no-untyped-def]
            if isinstance(key, str | bytes) and not token.startswith("eyJhbGciOiJIUz"):
                from harness.core.errors import Rejected
                raise Rejected("fake: this key text is no public key to me")
            return super()._verify(suite, token, key, allowed, serialization)

    rows = run([CannotVerifyText()], keys, ["attacks.key_confusion"], ["JWS RS256"])
    raw = rows[rows.raw_key & (rows.actual != "unsupported")]
    assert raw.genuine_verifies.eq(False).all()
    assert (raw.actual == "accepted").all()  # sent, and caught, all the same


# -- the JWT entry point ----------------------------------------------------------------------

def test_crit_checked_in_the_jws_call_only_is_caught_through_the_jwt_api(keys) -> None:
    rows = run([fakes_attacks.CritInJwsCallOnly(), fakes_attacks.CritEverywhere()], keys,
               ["attacks.crit"], ["JWS HS256"])
    caught = failing(rows, "crit-jws-only")
    assert not caught.empty and (caught.entry_point == "jwt").all()
    assert set(rows.entry_point) == {"jws", "jwt"}
    assert failing(rows, "crit-everywhere").empty
    # Summary and report name the entry point beside the configuration.
    assert set(config_label(caught)) <= {"default via jwt", "broad via jwt"}


# -- the cost verdict -------------------------------------------------------------------------

def test_inflating_fully_before_refusing_is_caught_only_by_the_cost_verdict(
        keys, monkeypatch: pytest.MonkeyPatch) -> None:
    # The 16 MiB tier against a memory budget of 8 MiB: the same rule as 80 MiB against 64 MiB,
    # inflated inside the 512 MiB address-space cap even from a large pytest process.
    monkeypatch.setattr(cost, "MEMORY_GROWTH_BUDGET_KB", 8 * 1024)
    rows = run([fakes_attacks.InflatesThenRefuses(), fakes_attacks.InflatesWithCap()], keys,
               ["attacks.zip_bomb.raw_16mib"], ["JWE dir + A256GCM"])
    bad = rows[rows.consumer == "inflates-then-refuses"]
    assert (bad.actual == "rejected").all()  # a plain refusal, inside the hard limits
    assert (bad.cost_verdict == "dos").all() and bad.passed.eq(False).all()
    assert (bad.memory_growth_kb > 8 * 1024).all()
    assert (bad.token_bytes < SMALL_TOKEN_BYTES).all()
    assert masks(rows)["costly refusals"][bad.index].all()
    lines = summary_lines(unexpected_accepts(rows), ["inflates-then-refuses"], rows)
    assert any("dos" in line and "costly refusal" in line for line in lines), lines
    good = rows[rows.consumer == "inflates-with-cap"]
    assert (good.actual == "rejected").all()
    assert (good.cost_verdict == "within").all() and not good.passed.eq(False).any()


# -- the key-resolving entry point ------------------------------------------------------------

def test_a_resolver_trusting_the_embedded_jwk_is_caught_only_through_the_resolver(keys) -> None:
    rows = run([fakes_attacks.ResolverTrustsEmbeddedJwk(), fakes_attacks.ResolverPicksByKid()],
               keys, ["attacks.embedded_key.jwk_header_with_attacker_key"], ["JWS ES256"])
    caught = failing(rows, "resolver-trusts-jwk")
    assert not caught.empty and (caught.actual == "accepted").all()
    assert (caught.entry_point == "resolver").all() and (caught.key_form == "jwks").all()
    # The resolver ran for the key set only, and the other entry points refused the token.
    ran = rows[rows.actual != "unsupported"]
    assert set(ran.entry_point) == {"jws", "jwt", "resolver"}
    assert set(rows[rows.entry_point == "resolver"].key_form) == {"jwks"}
    assert failing(rows, "resolver-by-kid").empty
    assert (rows[rows.consumer == "resolver-by-kid"].actual != "accepted").all()
    assert set(config_label(caught)) == {"jwks via resolver"}


def test_bombs_vary_the_ratio_as_well_as_the_size_and_are_judged_by_cost(
        keys, monkeypatch: pytest.MonkeyPatch) -> None:
    from scenarios.attacks import zip_bomb
    ratio_cases = [c for c in discover() if c.id.startswith("attacks.zip_bomb.ratio")]
    assert {ratio for _, ratio, _ in zip_bomb.RATIOS} >= {10, 100, 300}
    assert len(ratio_cases) == len(zip_bomb.RATIOS)
    assert all(c.isolation and c.severity == "dos" and c.policy for c in ratio_cases)
    # 12 MiB at 100:1 is a 197 KiB token: under the size whose memory growth is judged.
    monkeypatch.setattr(cost, "MEMORY_GROWTH_BUDGET_KB", 8 * 1024)
    rows = run([fakes_attacks.InflatesThenRefuses(), fakes_attacks.InflatesWithCap()], keys,
               ["attacks.zip_bomb.ratio100_12mib"], ["JWE dir + A256GCM"])
    bad = rows[rows.consumer == "inflates-then-refuses"]
    assert (bad.actual == "rejected").all() and (bad.cost_verdict == "dos").all()
    assert bad.passed.eq(False).all() and (bad.token_bytes < SMALL_TOKEN_BYTES).all()
    good = rows[rows.consumer == "inflates-with-cap"]
    assert (good.actual == "rejected").all() and (good.cost_verdict == "within").all()


class CountsGenuineTokens(fakes_attacks.InflatesWithCap):
    """The correct twin, writing a line to `counts` for each genuine token it decrypts (from
    the isolated children, which share no memory with the test)."""

    name = "counts-genuine-tokens"
    counts: Path

    def _decrypt(self, suite, token, key, allowed, serialization) -> bytes:  # type: ignore[no-untyped-def]
        plaintext = super()._decrypt(suite, token, key, allowed, serialization)
        if plaintext == BASELINE_PAYLOAD:
            with self.counts.open("a") as counts:
                counts.write("genuine\n")
        return plaintext


def test_one_genuine_baseline_per_consumer_suite_and_configuration(keys, tmp_path) -> None:
    """Each isolated case measured six genuine tokens in its child; the first measures them
    and the later cases of the same consumer, suite, mode and configuration take its
    baseline, after one genuine token of warm-up each."""
    fake = CountsGenuineTokens()
    fake.counts = tmp_path / "counts"
    bombs = ["attacks.zip_bomb.raw_16mib", "attacks.zip_bomb.ratio100_12mib",
             "attacks.zip_bomb.raw_80mib"]
    rows = run([fake], keys, bombs, ["JWE dir + A256GCM"])
    assert set(rows.case) == set(bombs) and (rows.actual == "rejected").all()
    slots = rows.groupby(["config", "entry_point"])
    assert (slots.baseline_cpu_ms.nunique() == 1).all() and rows.baseline_cpu_ms.notna().all()
    expected = sum(BASELINE_RUNS + 1 + len(cells) - 1 for _, cells in slots)
    assert fake.counts.read_text().count("genuine") == expected < len(rows) * (BASELINE_RUNS + 1)
