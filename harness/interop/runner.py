"""The runner: every case × suite × mode × producer × consumer, across the cores.

Work is shipped to forked worker processes as (case, suites, mode) units; each worker runs the
unit for every producer × consumer pair with adapters and keys it inherited at fork, so no key
is imported more than once per process. Rows come back to the parent, which appends them to
the run's `interop.jsonl` as they arrive.
"""

from __future__ import annotations

import contextlib
import os
import sysconfig
import time
import traceback
import warnings
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import harness
import scenarios
from harness.adapters.base import Adapter, Mode
from harness.adapters.peer import lending
from harness.core.errors import (
    Finding,
    HarnessError,
    PeerFault,
    ProducerFailed,
    Rejected,
    Unsupported,
)
from harness.core.keys import KeySet
from harness.core.outcomes import Actual, verdict
from harness.core.shutdown import kill_pool, signals_held, worker_pool
from harness.core.suites import MADE_UP_SUITE, Suite
from harness.interop.conformance import ISOLATED, row_conformance
from harness.interop.costs import cost_fields, genuine_baseline, warm_up
from harness.interop.isolation import run_isolated
from harness.interop.scenario import (
    DEFAULT_CONFIG,
    PRODUCER_FAILED,
    Case,
    Consumer,
    ConsumerConfig,
    Context,
    Producer,
    ProducerMemo,
)

Row = dict[str, Any]
UNITS_PER_CHUNK = 6


FORGE = "forge"
VECTOR = "vector"
DIED = "the library's process died in this cell"


@dataclass(frozen=True)
class Unit:
    """One case on one suite choice, mode and consumer configuration; run for every producer ×
    consumer pair (every consumer, for a case whose token the harness forges)."""

    case_id: str
    suites: tuple[Suite, ...]
    mode: Mode
    config: ConsumerConfig = DEFAULT_CONFIG
    # (producer, consumer) when only that one pair is to run: a unit whose process died is
    # retried pair by pair, so only the pair that kills it is blamed.
    only: tuple[str, str] | None = None
    # A one-mode case's `enabled` unit whose `default` twin is in the plan: the pairs whose
    # libraries all allow the suites by default ran there and are left out here.
    after_default: bool = False

    @property
    def suite_label(self) -> str:
        return " then ".join(s.name for s in self.suites)


@dataclass
class World:
    """What workers inherit at fork: the adapters, the keys and the cases, by name."""

    adapters: dict[str, Adapter]
    keys: KeySet
    cases: dict[str, Case]
    # Consumers that take published vectors only (the strict reference), beside the libraries.
    vector_consumers: dict[str, Adapter] = field(default_factory=dict)

    def consumers_of(self, case: Case) -> list[str]:
        extra = list(self.vector_consumers) if case.token_from == VECTOR else []
        return [*self.adapters, *extra]

    def adapter(self, name: str) -> Adapter:
        return self.adapters.get(name) or self.vector_consumers[name]


_WORLD: World | None = None


def plan(cases: Sequence[Case], suites: Sequence[Suite], modes: Sequence[Mode]) -> list[Unit]:
    """Every case × suite choice × mode × consumer configuration × entry point; the `resolver`
    entry point resolves from a key set, so it runs with the configurations holding a JWKS."""
    units = []
    for case in cases:
        planned_by_config = {config: modes_of(case, config, modes) for config in case.configs}
        for choice in case.suites(suites):
            for mode in modes:
                for config, planned in planned_by_config.items():
                    if mode not in planned:
                        continue
                    after_default = (case.one_mode and mode == "enabled" and "default" in planned
                                     and config.algorithms is None)
                    units += [Unit(case.id, choice, mode, replace(config, entry_point=entry),
                                   after_default=after_default)
                              for entry in case.entry_points
                              if entry != "resolver" or config.key_form == "jwks"]
    return units


def modes_of(case: Case, config: ConsumerConfig, modes: Sequence[Mode]) -> list[Mode]:
    """The selected modes a case runs in with this configuration. A configuration with its own
    allow-list makes the consumer call the same in both modes, and a forged or published token
    is the same too: that case runs once, `enabled` (the suite explicitly allowed)."""
    chosen = [mode for mode in modes if mode in case.modes]
    if case.forged and config.algorithms is not None and "enabled" in chosen:
        return ["enabled"]
    return chosen


def cell_count(units: Sequence[Unit], world: World) -> int:
    return sum(len(pairs_of(unit, world)) for unit in units)


def check_declares_unsupported(adapter: Adapter) -> None:
    """Offer a made-up suite: an adapter must answer `Unsupported`, not fail another way."""
    for operation in ("sign", "verify"):
        try:
            getattr(adapter, operation)(MADE_UP_SUITE, b"probe" if operation == "sign" else "x.y.z",
                                        {"kty": "oct", "k": "cHJvYmU"}, mode="enabled")
        except Unsupported:
            continue
        except Exception as error:  # any other answer is the finding
            raise HarnessError(
                f"adapter {adapter.name!r} answered a made-up suite with "
                f"{type(error).__name__}: {error}, not Unsupported") from error
        raise HarnessError(f"adapter {adapter.name!r} claimed to {operation} a made-up suite")


HARNESS_CODE = tuple(str(Path(module.__file__).resolve().parent) + os.sep
                     for module in (harness, scenarios) if module.__file__)


STDLIB = str(Path(sysconfig.get_paths()["stdlib"]).resolve()) + os.sep


def _in_stdlib(place: str) -> bool:
    # A Python without a venv installs libraries under the standard library's own directory.
    return place.startswith(STDLIB) and not any(
        part in place for part in ("site-packages", "dist-packages"))


def _describe(error: BaseException) -> str:
    frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    where = f" (at {os.path.basename(frame.filename)}:{frame.lineno})" if frame else ""
    return f"{type(error).__name__}: {error}{where}"


def error_source(error: BaseException) -> str:
    """`library` when the exception was raised inside the library (or what it calls): an
    undocumented exception type, a finding; `harness` when the harness's own code raised it: a
    bug to fix. Decided by where the innermost frame of the traceback lies."""
    frames = traceback.extract_tb(error.__traceback__) if error.__traceback__ else []
    if not frames:
        return "harness"
    # The standard library raises on behalf of its caller (`json.loads` in the harness is the
    # harness's bug), so the innermost frame outside it decides.
    places = [str(Path(frame.filename).resolve()) for frame in frames]
    inner = next((place for place in reversed(places) if not _in_stdlib(place)),
                 places[-1])
    return "harness" if inner.startswith(HARNESS_CODE) else "library"


def _attempt(case: Case, ctx: Context) -> tuple[Actual, str, bool, dict[str, Any]]:
    """Run the case (in a child process when it is isolated): actual, detail, payload match,
    and extra row fields (where an error came from, the measurements of an isolated run)."""
    if case.isolation is None:
        return _with_notes(_classify(lambda: case.run(ctx)), ctx)
    limits = case.isolation
    declared = _declared_unsupported(ctx)
    if declared is not None:
        # No child for a cell the consumer declares it cannot run: forking one and measuring
        # its baseline (a PBES2 token's derivation) cost 80-150 ms per unsupported row.
        return "unsupported", declared, True, {}
    if case.warm is not None:
        # Whatever fails here fails again inside the child, where the row records it.
        with contextlib.suppress(Exception):
            case.warm(ctx)

    baseline_slot = (ctx.consumer.name, ctx.suite, ctx.mode, ctx.config, id(ctx.keys))
    known = _BASELINES.get(baseline_slot)

    def measured_case() -> tuple[tuple[Actual, str, bool, dict[str, Any]],
                                 tuple[float | None, str | None]]:
        # In the child: a genuine token's cost first (the budget), then the case, measured
        # around the consumer's call alone so that forging the token is not counted. A
        # baseline an earlier child measured for the same slot is taken as it is, after the
        # same warm-up.
        if known is None:
            baseline, token = genuine_baseline(ctx)
        elif warm_up(ctx, known[1]):
            baseline, token = known
        else:  # the warm-up failed: this child measures its own, as the first one did
            baseline, token = genuine_baseline(ctx)
        ctx.consumer.track_memory = True
        actual, detail, matches, extra = _with_notes(_classify(lambda: case.run(ctx)), ctx)
        return (actual, detail, matches,
                {**extra, **cost_fields(ctx.consumer.measured, baseline)}), (baseline, token)
    # A peer's child serves the isolated case (no start per cell), started before the fork.
    producer = ctx.producer.adapter if ctx.producer else None
    with lending(producer, ctx.consumer.adapter) as loan:
        result = run_isolated(measured_case, limits.timeout_s, limits.memory_mb)
        if result.timed_out or result.died or result.out_of_memory:
            loan.lost()
            # A lost loan restarts the cell's peers: the next case measures its own baseline
            # in the fresh, cold peer rather than take one measured in the warm one.
            _BASELINES.pop(baseline_slot, None)
    measured = {"wall_ms": round(result.wall_ms, 3), "peak_rss_kb": result.peak_rss_kb}
    if result.timed_out:
        return "hang", f"no answer within {limits.timeout_s:g} s (killed)", True, measured
    if result.out_of_memory:
        return "hang", f"hit the {limits.memory_mb} MiB memory cap", True, measured
    if result.died:
        return "error", result.died, True, {**measured, "error_source": "library"}
    if result.error is not None:  # _classify itself failed in the child: a harness bug
        return "error", _describe(result.error), True, {**measured, "error_source": "harness"}
    (actual, detail, matches, extra), (baseline, token) = result.value
    if known is None and baseline is not None and token is not None:
        _BASELINES[baseline_slot] = (baseline, token)
    return actual, detail, matches, {**extra, **measured}


# Per worker process: (consumer, suite, mode, configuration, key set) -> the genuine baseline
# an isolated child measured and its token. Measuring it again in every child (six genuine
# tokens) was a third of an isolated case's own time; a float and a token per slot stay here.
_BASELINES: dict[tuple[str, Suite, Mode, ConsumerConfig, int], tuple[float, str]] = {}


def _declared_unsupported(ctx: Context) -> str | None:
    """Why the consumer cannot run the cell whatever the token, or None: the adapter's own
    declaration (suite, default-mode allow-list, a serialization of the family, the entry
    point), asked before any token exists."""
    adapter, config, suite = ctx.consumer.adapter, ctx.config, ctx.suite
    offered = adapter.consumes.get(suite.family) or frozenset()
    serialization = "compact" if "compact" in offered or not offered else sorted(offered)[0]
    operation = "verify" if suite.family == "JWS" else "decrypt"
    try:
        adapter.check(suite, ctx.mode, operation, serialization,  # type: ignore[arg-type]
                      explicit=config.algorithms is not None)
        adapter.check_entry_point(config.entry_point)
    except Unsupported as declared:
        return str(declared)
    return None


def _with_notes(classified: tuple[Actual, str, bool, dict[str, Any]], ctx: Context
                ) -> tuple[Actual, str, bool, dict[str, Any]]:
    """Add what the case noted about its cell (e.g. whether the key form verifies a genuine
    token) to the row's extra fields."""
    actual, detail, matches, extra = classified
    return actual, detail, matches, {**ctx.notes, **extra}


def _failed_in(error: BaseException) -> dict[str, str]:
    """A row's `failed_in`: `producer` when the cell failed in the producer's call, so it is
    the producer's to answer for (core.blame), whichever consumer it was made for."""
    by_producer = (isinstance(error, ProducerFailed)
                   or PRODUCER_FAILED in getattr(error, "__notes__", ()))
    return {"failed_in": "producer"} if by_producer else {}


def _classify(attempt: Callable[[], tuple[bytes, ...]]) -> tuple[Actual, str, bool,
                                                                  dict[str, Any]]:
    """A case returns (sent, received), or (sent, received, note) when the row's detail must
    say how it was judged even when it passes."""
    try:
        with warnings.catch_warnings():
            # Libraries warn about deprecated algorithms on every call; the rows say it once.
            warnings.simplefilter("ignore")
            sent, received, *rest = attempt()
    except Unsupported as error:
        return "unsupported", str(error), True, {}
    except Rejected as error:
        return "rejected", str(error), True, {}
    except ProducerFailed as error:
        return "error", str(error), True, {"error_source": "library", **_failed_in(error)}
    except Finding as finding:
        extra = {"error_source": "library"} if finding.actual == "error" else {}
        return finding.actual, str(finding), False, extra  # type: ignore[return-value]
    except PeerFault as fault:  # the peer's process died, hung or failed; restarted next cell
        return fault.actual, str(fault), True, {  # type: ignore[return-value]
            "error_source": fault.source, **_failed_in(fault)}
    except MemoryError as error:
        return "hang", "MemoryError: the library ran out of memory", True, _failed_in(error)
    except Exception as error:  # an undocumented exception type is recorded, not fatal
        return "error", _describe(error), True, {"error_source": error_source(error),
                                                 **_failed_in(error)}
    note = str(rest[0]) if rest else ""
    if sent == received:
        return "accepted", note, True, {}
    differs = f"returned payload differs ({_difference(sent, received)}): {received[:80]!r}"
    return "accepted", f"{note}; {differs}" if note else differs, False, {}


# How a wrong payload relates to the sent one: still compressed (the consumer ignored `zip`), or
# other bytes. Only a payload about the size of the sent one can be its compressed copy, and the
# inflating stops at the sent size, so a bomb's output is neither copied nor inflated here.
_STILL_COMPRESSED = ((-zlib.MAX_WBITS, "still raw-DEFLATE compressed: zip not applied"),
                     (zlib.MAX_WBITS, "still zlib-compressed: zip not applied"))


def _difference(sent: object, received: object) -> str:
    if isinstance(sent, str) and isinstance(received, str):  # a known answer's token
        return f"{len(received)} characters where {len(sent)} were expected"
    if not isinstance(sent, bytes | bytearray) or not isinstance(received, bytes | bytearray):
        return f"a {type(received).__name__} where a {type(sent).__name__} was sent"
    if len(received) <= len(sent) + 64 + len(sent) // 64:
        for wbits, what in _STILL_COMPRESSED:
            inflater = zlib.decompressobj(wbits)
            try:
                if inflater.decompress(received, len(sent) + 1) == sent and inflater.eof:
                    return what
            except zlib.error:
                continue
    return f"{len(received)} bytes where {len(sent)} were sent"


def run_cell(case: Case, unit: Unit, producer: Adapter | None, consumer: Adapter,
             keys: KeySet, memo: ProducerMemo | None = None) -> Row:
    ctx = Context(Producer(producer, unit.mode, memo) if producer else None,
                  Consumer(consumer, unit.mode, unit.config), unit.suites, unit.mode, keys,
                  unit.config)
    started = time.perf_counter()
    actual, detail, matches, measured = _attempt(case, ctx)
    duration_ms = (time.perf_counter() - started) * 1000
    passed = verdict(case.expected, actual, matches, policy=case.policy)
    if actual != "rejected":
        # Only a refusal is judged by its cost; an accept or a hang is judged as it is.
        for name in ("cost_verdict", "cost_detail"):
            measured.pop(name, None)
    elif measured.get("cost_verdict") == "dos":
        # Refusing only after paying for it is a denial of service, whatever the RFC lets the
        # consumer choose: a policy case fails too.
        passed = False
        detail = f"dos: {measured['cost_detail']}; then refused: {detail}"
    # Judged after the timed region, so duration_ms stays the cell's own time.
    judged = None
    if ctx.producer is not None:
        judged = (ISOLATED if case.isolation is not None and actual != "unsupported"
                  else row_conformance(ctx.producer.produced, keys))
    return {
        "scenario": case.scenario, "case": case.id,
        "producer": producer.name if producer else case.token_from, "consumer": consumer.name,
        "suite": unit.suite_label, "mode": unit.mode, "expected": case.expected,
        "actual": actual, "passed": passed, "detail": detail[:2000],
        "duration_ms": round(duration_ms, 3), "requirement": case.requirement,
        "config": unit.config.name, "attack_class": case.attack_class, "policy": case.policy,
        "severity": case.severity,
        **({"defect": case.defect} if case.defect else {}), **config_fields(unit.config),
        **measured, "conformance": judged,
    }


def config_fields(config: ConsumerConfig) -> Row:
    """How the consumer was called, for every row: entry point and key form (and whether the
    key text was handed over untouched)."""
    return {"entry_point": config.entry_point, "key_form": config.key_form,
            "raw_key": config.raw_key}


def pairs_of(unit: Unit, world: World) -> list[tuple[str, str]]:
    """(producer, consumer) names the unit runs; `forge` produces a forged case's token."""
    if unit.only:
        return [unit.only]
    case = world.cases[unit.case_id]
    producers = [case.token_from] if case.forged else list(world.adapters)
    pairs = [(producer, consumer) for producer in producers
             for consumer in world.consumers_of(case)]
    if unit.after_default:
        pairs = [pair for pair in pairs if not _ran_by_default(pair, unit, world)]
    return pairs


def _ran_by_default(pair: tuple[str, str], unit: Unit, world: World) -> bool:
    """Whether each library of the pair allows every suite of the unit by default, so that its
    `default` cell called the library and is the pair's one cell of a one-mode case. The rule
    is `Adapter.check_mode`, the one `check` applies; what else `check` refuses (a
    serialization, an entry point) is refused in both modes alike."""
    sides = [world.adapter(name) for name in pair if name in world.adapters]
    try:
        for adapter in sides:
            for suite in unit.suites:
                adapter.check_mode(suite, "default")
    except Unsupported:
        return False
    return True


def run_units(units: Sequence[Unit], world: World) -> list[Row]:
    rows = []
    for unit in units:
        case = world.cases[unit.case_id]
        memos: dict[str, ProducerMemo] = {}  # the unit's tokens, made once per producer
        for producer, consumer in pairs_of(unit, world):
            try:
                rows.append(run_cell(case, unit, world.adapters.get(producer),
                                     world.adapter(consumer), world.keys,
                                     memos.setdefault(producer, {})))
            except Exception as error:  # the harness's own bug: one error row, not a lost run
                rows.append(_failed_row(case, unit, (producer, consumer), _describe(error),
                                        source="harness"))
    return rows


def _run_inherited(units: Sequence[Unit]) -> list[Row]:
    assert _WORLD is not None, "worker started without the world"
    return run_units(units, _WORLD)


def _failed_row(case: Case, unit: Unit, pair: tuple[str, str], why: str, source: str) -> Row:
    """An `error` row for a cell that gave no row of its own: its process died (`library`), or
    the harness's code failed while running or judging it (`harness`, a bug to fix)."""
    producer, consumer = pair
    return {
        "scenario": case.scenario, "case": case.id, "producer": producer, "consumer": consumer,
        "suite": unit.suite_label, "mode": unit.mode, "expected": case.expected,
        "actual": "error", "passed": False, "detail": why,
        "duration_ms": None, "requirement": case.requirement, "config": unit.config.name,
        "attack_class": case.attack_class, "policy": case.policy, "severity": case.severity,
        "error_source": source, "conformance": None, **config_fields(unit.config)}


def _chunks(units: Sequence[Unit], size: int) -> list[list[Unit]]:
    return [list(units[i:i + size]) for i in range(0, len(units), size)]


def execute(units: Sequence[Unit], world: World, jobs: int,
            on_rows: Callable[[list[Row]], None]) -> None:
    """Run every unit, handing rows to `on_rows` as chunks finish.

    With more than one job the work is spread over forked processes. A worker that dies (a
    library crashing the interpreter) breaks the pool and loses every chunk still pending: those
    are retried unit by unit in a fresh pool, and a unit lost again runs pair by pair, one pool
    per pair, so only the producer × consumer pair that kills its process becomes an `error`.
    """
    if jobs <= 1:
        for chunk in _chunks(units, UNITS_PER_CHUNK):
            on_rows(run_units(chunk, world))
        return
    global _WORLD
    _WORLD = world
    try:
        lost = _execute_pool(_chunks(units, UNITS_PER_CHUNK), jobs, on_rows)
        if lost:
            lost = _execute_pool(_chunks([u for chunk in lost for u in chunk], 1), jobs, on_rows)
        for chunk in lost:
            for unit in chunk:
                for pair in pairs_of(unit, world):
                    alone = replace(unit, only=pair)
                    if _execute_pool([[alone]], 1, on_rows):
                        on_rows([_failed_row(world.cases[alone.case_id], alone, pair, DIED,
                                             source="library")])
    finally:
        _WORLD = None


def _execute_pool(chunks: list[list[Unit]], jobs: int,
                  on_rows: Callable[[list[Row]], None]) -> list[list[Unit]]:
    """Run chunks in one pool; return the chunks lost to a broken pool."""
    lost: list[list[Unit]] = []
    futures: dict[Future[list[Row]], list[Unit]] = {}
    pool: ProcessPoolExecutor | None = None
    try:
        # The workers fork at the first submit: a stop signal waits until every one is
        # recorded, and is raised when the block ends, inside this `try`.
        with signals_held():
            pool = worker_pool(jobs)
            for chunk in chunks:
                try:
                    futures[pool.submit(_run_inherited, chunk)] = chunk
                except BrokenProcessPool:
                    lost.append(chunk)
        for future in as_completed(futures):
            # Let go of the future once its rows are written: kept, every row of the run stayed
            # in this process (150 MB by the end of a node-peer run, walked by each collection).
            chunk = futures.pop(future)
            try:
                on_rows(future.result())
            except BrokenProcessPool:
                lost.append(chunk)
    except BaseException:
        if pool is not None:
            kill_pool(pool)
        raise
    finally:
        # On Ctrl-C or an error, drop the queued chunks instead of running them all first.
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return lost

