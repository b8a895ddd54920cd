"""Outcomes: what a correct consumer must do (expected), what it did (actual), and the verdict."""

from __future__ import annotations

from typing import Literal

Actual = Literal["accepted", "rejected", "unsupported", "error", "hang"]
ACTUALS: tuple[Actual, ...] = ("accepted", "rejected", "unsupported", "error", "hang")

LEGEND = {
    "accepted": "the consumer returned a payload (for `accept` cases, it must be the exact one)",
    "rejected": "the consumer refused the token with one of the library's own error types",
    "unsupported": "the adapter declared the library cannot do this (in this mode); no verdict",
    "error": "an exception type the library does not document, or a crash (error_source "
             "library: a finding), or a harness bug (error_source harness); always a failure",
    "hang": "the case hit its time or memory limit in an isolated child process; a failure",
}


# What fails a cell whatever the case: a policy case frees accepting or refusing, not these.
FAULTS: tuple[Actual, ...] = ("error", "hang")


def verdict(expected: str, actual: Actual, payload_matches: bool = True,
            policy: bool = False) -> bool | None:
    """`True` pass, `False` fail, `None` when the case could not be judged (unsupported, or a
    policy case the consumer accepted or refused)."""
    if actual == "unsupported" or (policy and actual not in FAULTS):
        return None
    if expected == "accept":
        return actual == "accepted" and payload_matches
    return actual == "rejected"
