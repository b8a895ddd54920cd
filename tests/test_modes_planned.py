"""Which modes a case runs in: both by default; once, `enabled`, when the configuration brings
its own allow-list to a token no library made; once per consumer for a one-mode case (its
default configuration where that allows the suite, the suite enabled where not)."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from harness.core.suites import Suite, select_suites
from harness.interop.runner import World, cell_count, execute, plan
from harness.interop.scenario import Case, ConsumerConfig, Context, family_suites
from tests import fakes

SUITES = select_suites(["JWS HS256", "JWS ES256"])
ES256 = SUITES[1]


class AllowsHs256Only(fakes.AcceptAll):
    """Implements both suites, allows ES256 only once it is enabled."""

    name = "allows-hs256-only"

    def allows_by_default(self, suite: Suite) -> bool:
        return suite.alg == "HS256"


def _forged(ctx: Context) -> tuple[bytes, bytes]:
    token = fakes.AcceptAll().sign(ctx.suite, b"forged", {}, mode="enabled")
    return b"forged", ctx.consumer.verify(ctx.suite, token, ctx.keys.public(ctx.suite.key))


def _made(ctx: Context) -> tuple[bytes, bytes]:
    token = ctx.producer.sign(ctx.suite, b"made", ctx.keys.private(ctx.suite.key))
    return b"made", ctx.consumer.verify(ctx.suite, token, ctx.keys.public(ctx.suite.key))


FORGED = Case(id="tests.modes.forged", scenario="tests.modes", description="forged",
              requirement="test", expected="reject", run=_forged, suites=family_suites("JWS"),
              forged=True)
ONE_MODE = replace(FORGED, id="tests.modes.one_mode", one_mode=True)
BROAD = ConsumerConfig("broad", algorithms=("HS256", "ES256"))


def _run(cases: list[Case], modes: list[str], keys) -> tuple[pd.DataFrame, int]:
    adapters = [fakes.AcceptAll(), AllowsHs256Only(), fakes.SupportsNothing()]
    world = World({a.name: a for a in adapters}, keys, {c.id: c for c in cases})
    units = plan(cases, SUITES, modes)  # type: ignore[arg-type]
    rows: list[dict] = []
    execute(units, world, 1, rows.extend)
    return pd.DataFrame(rows), cell_count(units, world)


def test_a_case_runs_every_pair_in_both_modes(keys) -> None:
    rows, cells = _run([FORGED], ["default", "enabled"], keys)
    assert len(rows) == cells == 2 * 2 * 3
    assert rows.groupby("mode").size().to_dict() == {"default": 6, "enabled": 6}


def test_a_configuration_with_its_own_allow_list_runs_a_forged_token_once(keys) -> None:
    # The consumer gets the same call in both modes: the allow-list is the configuration's.
    case = replace(FORGED, configs=(ConsumerConfig("default"), BROAD))
    rows, cells = _run([case], ["default", "enabled"], keys)
    assert len(rows) == cells
    broad = rows[rows.config == "broad"]
    assert set(broad["mode"]) == {"enabled"} and len(broad) == 2 * 3
    assert set(rows[rows.config == "default"]["mode"]) == {"default", "enabled"}
    # Asked for default mode alone, the configuration still runs, in that mode.
    alone, _ = _run([case], ["default"], keys)
    assert set(alone[alone.config == "broad"]["mode"]) == {"default"}


def test_a_library_made_token_keeps_both_modes_under_its_own_allow_list(keys) -> None:
    # The producer's call differs between the modes, so both cells stay.
    made = replace(FORGED, id="tests.modes.made", forged=False, configs=(BROAD,),
                   expected="accept", run=_made)
    rows, _ = _run([made], ["default", "enabled"], keys)
    assert set(rows["mode"]) == {"default", "enabled"}


def test_a_one_mode_case_meets_each_consumer_once(keys) -> None:
    rows, cells = _run([ONE_MODE], ["default", "enabled"], keys)
    assert len(rows) == cells
    by_cell = rows.groupby(["consumer", "suite"])["mode"].apply(sorted).to_dict()
    # Allowed by default: the default cell alone. ES256 for the consumer that allows it only
    # once enabled: the default cell is `unsupported` and the enabled one runs the library.
    assert by_cell[("accept-all", "JWS HS256")] == ["default"]
    assert by_cell[("accept-all", "JWS ES256")] == ["default"]
    assert by_cell[("allows-hs256-only", "JWS HS256")] == ["default"]
    assert by_cell[("allows-hs256-only", "JWS ES256")] == ["default", "enabled"]
    es256 = rows[(rows.consumer == "allows-hs256-only") & (rows.suite == ES256.name)]
    assert es256.set_index("mode")["actual"].to_dict() == {"default": "unsupported",
                                                           "enabled": "accepted"}
    # A consumer that implements neither suite says so in both modes.
    assert by_cell[("supports-nothing", "JWS HS256")] == ["default", "enabled"]


def test_a_one_mode_case_asked_for_enabled_alone_runs_every_consumer(keys) -> None:
    rows, cells = _run([ONE_MODE], ["enabled"], keys)
    assert len(rows) == cells == 2 * 3
    assert (rows[rows.consumer != "supports-nothing"]["actual"] == "accepted").all()


def test_the_one_mode_cases_are_the_costly_refusals() -> None:
    from harness.interop.scenario import discover
    one_mode = {case.id for case in discover() if case.one_mode}
    # Where the cost of refusing is the subject (inflation, PBKDF2 rounds, huge segments), not
    # the allow-list; the algorithm-confusion attacks keep both modes.
    costly = {case.id for case in discover() if case.isolation is not None and case.forged
              and case.attack_class in ("zip-bomb", "pbes2", "huge") and len(case.modes) == 2}
    assert one_mode == costly and len(one_mode) == 13
    assert not any(case.one_mode for case in discover() if case.attack_class == "key-confusion")
