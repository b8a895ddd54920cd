"""The cost side of an isolated case: a genuine token's baseline and the row fields of a
measured refusal (the budgets and the verdict live in `harness.core.cost`)."""

from __future__ import annotations

import warnings
from typing import Any

from harness.core.cost import BASELINE_RUNS, Measured, baseline_ms, judge_refusal
from harness.forge import jwe, jws
from harness.interop.scenario import Consumer, Context

# A claims set, so the baseline also goes through a JWT API.
BASELINE_PAYLOAD = b'{"sub":"baseline","n":1}'


def genuine_token(ctx: Context) -> str:
    suite = ctx.suite
    jwk = ctx.keys.private(suite.key)
    if suite.family == "JWS":
        return jws.sign({"alg": suite.alg}, BASELINE_PAYLOAD, jwk)
    return jwe.encrypt({"alg": suite.alg, "enc": suite.enc}, BASELINE_PAYLOAD, jwk).compact()


def genuine_baseline(ctx: Context) -> tuple[float | None, str | None]:
    """Median CPU time (ms) of the consumer, as configured, consuming a genuine token of the
    case's suite, and that token; None when it cannot (the configuration or suite does not work
    for it). The first call is a warm-up: it imports the key and fills caches."""
    times: list[float] = []
    token: str | None = None
    try:
        token = genuine_token(ctx)
        consumer = _genuine_consumer(ctx)
        for run in range(BASELINE_RUNS + 1):
            _consume_genuine(ctx, consumer, token)
            if run and consumer.measured is not None:
                times.append(consumer.measured.cpu_ms)
    except Exception:  # no baseline: the floor of the time budget applies alone
        return None, token
    return baseline_ms(times), token


def warm_up(ctx: Context, token: str) -> bool:
    """One genuine token through the consumer: what `genuine_baseline` does before it measures,
    for a case whose baseline an earlier case of the same slot (consumer, suite, mode,
    configuration) measured. False when it failed."""
    try:
        _consume_genuine(ctx, _genuine_consumer(ctx), token)
    except Exception:
        return False
    return True


def _genuine_consumer(ctx: Context) -> Consumer:
    # Its own, so that the case's consumer measures the case's call alone.
    return Consumer(ctx.consumer.adapter, ctx.mode, ctx.config)


def _consume_genuine(ctx: Context, consumer: Consumer, token: str) -> None:
    key = (ctx.verification_key(ctx.suite.key) if ctx.suite.family == "JWS"
           else ctx.decryption_key(ctx.suite.key))
    consume = consumer.verify if ctx.suite.family == "JWS" else consumer.decrypt
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        consume(ctx.suite, token, key)


def cost_fields(measured: Measured | None, baseline_cpu_ms: float | None) -> dict[str, Any]:
    if measured is None:
        return {}
    fields: dict[str, Any] = {
        "token_bytes": measured.token_bytes, "cpu_ms": measured.cpu_ms,
        "consume_wall_ms": measured.wall_ms, "memory_growth_kb": measured.memory_growth_kb,
        "baseline_cpu_ms": None if baseline_cpu_ms is None else round(baseline_cpu_ms, 4)}
    verdict = judge_refusal(measured, baseline_cpu_ms)
    fields["time_budget_ms"] = verdict.time_budget_ms
    fields["cost_verdict"] = "dos" if verdict.dos else "within"
    fields["cost_detail"] = verdict.why
    return fields
