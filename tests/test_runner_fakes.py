"""The runner gives the outcomes the design predicts for adapters whose behaviour is known."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from harness.adapters.base import Adapter
from harness.core.errors import HarnessError
from harness.core.suites import select_suites
from harness.interop.runner import World, check_declares_unsupported, execute, plan
from harness.interop.scenario import Case, Context, discover, family_suites
from tests import fakes

SUITES = select_suites(["JWS HS256", "JWS ES256", "JWE A128KW + A128GCM",
                        "JWE RSA-OAEP-256 + A256GCM"])


def _forged_case(ctx: Context) -> tuple[bytes, bytes]:
    """A token that no correct consumer accepts; the fake adapters cannot tell."""
    token = ctx.producer.sign(ctx.suite, b"forged", ctx.keys.private(ctx.suite.key))
    return b"forged", ctx.consumer.verify(ctx.suite, token, ctx.keys.public(ctx.suite.key))


REJECT_CASE = Case(id="tests.forged.any", scenario="tests.forged", description="forged",
                   requirement="test", expected="reject", run=_forged_case,
                   suites=family_suites("JWS"))


def runner_cases() -> list[Case]:
    """The catalogue the runner tests run: every library-made case and one forged scenario
    (the whole attack catalogue, with its policy cases, is checked on its own below and in
    tests/test_attacks_jws*.py). The keygen cases need an adapter that generates keys: they
    run against their own fakes in tests/test_keygen.py."""
    return [c for c in discover() if (not c.forged or c.scenario == "attacks.alg_none")
            and not c.scenario.startswith("keygen.")]


def run_matrix(adapters: list[Adapter], keys, jobs: int = 1,
               extra_cases: tuple[Case, ...] = ()) -> pd.DataFrame:
    cases = [*runner_cases(), *extra_cases]
    world = World({a.name: a for a in adapters}, keys, {c.id: c for c in cases})
    rows: list[dict] = []
    execute(plan(cases, SUITES, ["default", "enabled"]), world, jobs, rows.extend)
    return pd.DataFrame(rows)


def judged(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows the verdict applies to: policy rows are reported, judged only when the consumer
    crashed or hung (see `fakes.assert_policy_rows_judged_only_on_faults`)."""
    return rows[rows.policy != True]  # noqa: E712 - a nullable column


def test_accept_all_passes_every_accept_case_and_fails_every_reject_case(keys) -> None:
    rows = judged(run_matrix([fakes.AcceptAll()], keys, extra_cases=(REJECT_CASE,)))
    # A forged accept case holds a real JWE/JWS that a fake cannot open, so only the tokens the
    # fakes made themselves come back with their payload.
    accept = rows[(rows.expected == "accept") & (rows.producer != "forge")]
    reject = rows[rows.expected == "reject"]
    assert len(accept) > 0 and len(reject) > 0
    assert (accept.actual == "accepted").all() and (accept.passed == True).all()  # noqa: E712
    assert (reject.actual == "accepted").all() and (reject.passed == False).all()  # noqa: E712


def test_reject_all_fails_every_accept_case_with_its_error_text(keys) -> None:
    rows = judged(run_matrix([fakes.RejectAll()], keys, extra_cases=(REJECT_CASE,)))
    accept, reject = rows[rows.expected == "accept"], rows[rows.expected == "reject"]
    assert (accept.actual == "rejected").all() and (accept.passed == False).all()  # noqa: E712
    assert (accept.detail == "RejectAll: refused").all()
    assert (reject.passed == True).all()  # noqa: E712


def test_supports_nothing_is_never_judged(keys) -> None:
    rows = run_matrix([fakes.SupportsNothing()], keys, extra_cases=(REJECT_CASE,))
    assert (rows.actual == "unsupported").all()
    assert rows.passed.isna().all()


def test_pairs_cover_producer_by_consumer(keys) -> None:
    rows = run_matrix([fakes.AcceptAll(), fakes.RejectAll(), fakes.SupportsNothing()], keys)
    pairs = rows[rows.producer != "forge"].groupby(["producer", "consumer"]).size()
    assert len(pairs) == 9 and pairs.nunique() == 1
    # Whatever produced it, the consumer decides: accept-all accepts what reject-all made.
    cell = rows[(rows.producer == "reject-all") & (rows.consumer == "accept-all")]
    assert (cell.actual == "accepted").all()
    # Forged tokens are made once and offered to every consumer.
    assert rows[rows.producer == "forge"].groupby("case").consumer.nunique().eq(3).all()
    # A producer that supports nothing makes every pair with it unsupported.
    assert (rows[rows.producer == "supports-nothing"].actual == "unsupported").all()


def test_an_undocumented_exception_is_an_error_row_not_a_crash(keys) -> None:
    rows = run_matrix([fakes.RaisesUndocumented()], keys)
    assert (rows.actual == "error").all()
    assert rows.detail.str.startswith("KeyError").all()
    assert (judged(rows).passed == False).all()  # noqa: E712


def test_parallel_run_gives_the_same_rows(keys) -> None:
    serial = run_matrix([fakes.AcceptAll(), fakes.RejectAll()], keys, jobs=1)
    parallel = run_matrix([fakes.AcceptAll(), fakes.RejectAll()], keys, jobs=2)
    columns = ["case", "producer", "consumer", "suite", "mode", "actual", "passed"]
    assert (serial[columns].sort_values(columns).reset_index(drop=True)
            .equals(parallel[columns].sort_values(columns).reset_index(drop=True)))


def test_a_dying_worker_becomes_error_rows_and_the_run_finishes(keys) -> None:
    rows = run_matrix([fakes.KillsProcess()], keys, jobs=2)
    assert len(rows) == len(plan(runner_cases(), SUITES, ["default", "enabled"]))
    assert (rows.actual == "error").all()
    assert rows.detail.str.contains("process died").all()


def test_only_the_pairs_whose_consumer_kills_the_process_are_blamed(keys) -> None:
    cases = [c for c in runner_cases() if c.id == "jws.roundtrip.compact"]
    world = World({a.name: a for a in (fakes.AcceptAll(), fakes.KillsProcess())}, keys,
                  {c.id: c for c in cases})
    rows: list[dict] = []
    execute(plan(cases, SUITES, ["enabled"]), world, 2, rows.extend)
    frame = pd.DataFrame(rows)
    assert len(frame) == 2 * 2 * 2  # 2 JWS suites × 2 producers × 2 consumers, no duplicate
    killed = frame[frame.consumer == "kills-process"]
    spared = frame[frame.consumer == "accept-all"]
    assert (killed.actual == "error").all() and (killed.error_source == "library").all()
    assert (spared.actual == "accepted").all() and (spared.passed == True).all()  # noqa: E712


def test_the_made_up_suite_probe(keys) -> None:
    check_declares_unsupported(fakes.AcceptAll())
    with pytest.raises(HarnessError, match="claimed to sign"):
        check_declares_unsupported(fakes.ClaimsMadeUpSuite())
    with pytest.raises(HarnessError, match="ValueError"):
        check_declares_unsupported(fakes.FailsOnMadeUpSuite())


def test_forged_cases_run_once_per_consumer_and_flag_accept_all(keys) -> None:
    # Forged by the harness (published vectors, the other tokens no library makes, have their
    # own tests in test_vectors.py).
    cases = [c for c in discover() if c.forged and c.token_from == "forge"]
    assert cases, "the attack scenarios declare forged cases"
    world = World({a.name: a for a in (fakes.AcceptAll(), fakes.RejectAll())}, keys,
                  {c.id: c for c in cases})
    rows: list[dict] = []
    suites = select_suites(["JWS HS256", "JWS RS256"])
    execute(plan(cases, suites, ["enabled"]), world, 1, rows.extend)
    frame = pd.DataFrame(rows)
    assert set(frame.producer) == {"forge"}
    assert set(frame.config) >= {"default", "broad"}
    judged = frame[~frame.policy.astype(bool)]  # policy cases: reported, judged on faults only
    accept_all = judged[judged.consumer == "accept-all"]
    reject_all = judged[judged.consumer == "reject-all"]
    assert (accept_all.passed == False).all()  # noqa: E712 - flagged on every case
    # Flagged on none: refused, or unsupported where a case first needs a genuine token to pass.
    assert (reject_all.passed != False).all()  # noqa: E712
    assert (reject_all.passed == True).mean() > 0.9  # noqa: E712


def _harness_bug(ctx: Context) -> tuple[bytes, bytes]:
    """Asks the key set for a key it never holds: the harness's own code raises."""
    from harness.core.suites import KeySpec
    ctx.keys.private(KeySpec("oct", "999"))
    return b"", b""


HARNESS_BUG_CASE = Case(id="tests.bug.any", scenario="tests.bug", description="bug",
                        requirement="test", expected="accept", run=_harness_bug,
                        suites=family_suites("JWS"))


def test_errors_say_whether_the_library_or_the_harness_raised(keys) -> None:
    library = run_matrix([fakes.RaisesUndocumented()], keys)
    assert (library[library.actual == "error"].error_source == "library").all()
    world = World({"accept-all": fakes.AcceptAll()}, keys, {HARNESS_BUG_CASE.id: HARNESS_BUG_CASE})
    rows: list[dict] = []
    execute(plan([HARNESS_BUG_CASE], SUITES, ["enabled"]), world, 1, rows.extend)
    assert rows and all(r["actual"] == "error" and r["error_source"] == "harness" for r in rows)


class CountsTokens(fakes.AcceptAll):
    """Accepts everything and counts the tokens it was asked to make."""

    name = "counts-tokens"  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.made = 0

    def _sign(self, *args, **kwargs) -> str:  # type: ignore[override]
        self.made += 1
        return super()._sign(*args, **kwargs)


def _two_equal_tokens(ctx: Context) -> tuple[bytes, bytes]:
    key = ctx.keys.private(ctx.suite.key)
    first = ctx.producer.sign(ctx.suite, b"same", key)
    second = ctx.producer.sign(ctx.suite, b"same", key)
    for token in (first, second):
        ctx.consumer.verify(ctx.suite, token, ctx.keys.public(ctx.suite.key))
    return b"same", b"same"


def test_a_producer_makes_a_units_token_once_for_all_its_consumers(keys) -> None:
    """With five consumers, the producer signs once per unit and place in the cell: a case
    that asks for two tokens with the same arguments still gets two."""
    producer = CountsTokens()
    consumers = [fakes.AcceptAll(), fakes.RejectAll(), fakes.SupportsNothing(),
                 fakes.RaisesUndocumented(), fakes.AcceptAll()]
    consumers[-1].name = "accept-all-2"  # type: ignore[misc]
    case = Case(id="tests.memo.two", scenario="tests.memo", description="two tokens",
                requirement="test", expected="accept", run=_two_equal_tokens,
                suites=family_suites("JWS"))
    world = World({a.name: a for a in (producer, *consumers)}, keys, {case.id: case})
    units = plan([case], SUITES, ["default", "enabled"])
    rows: list[dict] = []
    execute(units, world, 1, rows.extend)
    frame = pd.DataFrame(rows)
    made_by_it = frame[frame.producer == producer.name]
    assert len(made_by_it) == len(units) * 6
    # Two signatures per unit, not two per (unit, consumer).
    assert producer.made == 2 * len(units)
    accepted = made_by_it[made_by_it.consumer == "accept-all"]
    assert (accepted.actual == "accepted").all()


def test_an_isolated_case_the_consumer_declares_unsupported_forks_no_child(
        keys, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.interop import runner
    from harness.interop.scenario import Isolation

    def no_child(*_args, **_kwargs):
        raise AssertionError("a child was forked for a cell the consumer cannot run")
    monkeypatch.setattr(runner, "run_isolated", no_child)
    case = replace(REJECT_CASE, id="tests.forged.isolated", isolation=Isolation(5.0, 512))
    world = World({"supports-nothing": fakes.SupportsNothing()}, keys, {case.id: case})
    rows: list[dict] = []
    execute(plan([case], SUITES, ["default", "enabled"]), world, 1, rows.extend)
    assert rows and all(row["actual"] == "unsupported" for row in rows)
    assert all("does not implement" in row["detail"] for row in rows)


def _wrong_text_case(ctx: Context) -> tuple[str, str]:
    """A known answer compared as text (a producer's token against the published one)."""
    return "eyJhbGciOiJIUzI1NiJ9.e30.expected", "eyJhbGciOiJIUzI1NiJ9.e30.produced!"


WRONG_TEXT_CASE = Case(id="tests.text.wrong", scenario="tests.text", description="wrong text",
                       requirement="test", expected="accept", run=_wrong_text_case,
                       suites=family_suites("JWS"))


def test_a_wrong_text_answer_is_a_failed_cell_not_a_lost_run(keys) -> None:
    # A known answer's tokens are text: describing how they differ once killed the whole run.
    world = World({"accept-all": fakes.AcceptAll()}, keys, {WRONG_TEXT_CASE.id: WRONG_TEXT_CASE})
    rows: list[dict] = []
    execute(plan([WRONG_TEXT_CASE], SUITES, ["enabled"]), world, 1, rows.extend)
    frame = pd.DataFrame(rows)
    assert (frame.actual == "accepted").all() and (frame.passed == False).all()  # noqa: E712
    assert frame.detail.str.startswith(
        "returned payload differs (34 characters where 33 were expected)").all()


def test_a_harness_failure_while_judging_costs_its_cell_only(
        keys, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.interop import runner

    judge = runner.verdict

    def failing(expected, actual, matches, policy=False):  # type: ignore[no-untyped-def]
        if actual == "rejected":
            raise KeyError("the judge's own bug")
        return judge(expected, actual, matches, policy=policy)
    monkeypatch.setattr(runner, "verdict", failing)
    rows = run_matrix([fakes.AcceptAll(), fakes.RejectAll()], keys)
    lost = rows[rows.error_source == "harness"]
    assert len(lost) > 0 and len(rows) == len(run_matrix([fakes.AcceptAll(),
                                                         fakes.RejectAll()], keys))
    assert (lost.actual == "error").all() and (lost.passed == False).all()  # noqa: E712
    assert lost.detail.str.startswith("KeyError: \"the judge's own bug\"").all()
    assert (rows[rows.error_source != "harness"].actual != "error").all()
