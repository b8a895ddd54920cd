"""The child that `instructions.py` runs under callgrind: one cell's operation n times, then
2n times, then its floor the same way, with `os.sched_yield()` between the loops.

callgrind is started with `--dump-before=os_sched_yield`, so each loop's instructions land in
a dump of their own; start-up, imports and preparation land in the first and cancel. Usage:

    python -m harness.loadtest.count SPEC SUITE OPERATION N
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from typing import Any

from harness.core.keys import load_key_set
from harness.core.suites import SUITES_BY_NAME
from harness.loadtest.cells import load_adapter_spec, prepare
from harness.loadtest.primitives import primitive
from scenarios.payloads import PAYLOAD

# Calls before counting, so lazy caches (imported keys, compiled regexes) are filled.
WARM_UP = 3


def loops(call: Callable[[Any], Any], arg: Any, n: int) -> None:
    for _ in range(WARM_UP):
        call(arg)
    gc.collect()
    os.sched_yield()
    for _ in range(n):
        call(arg)
    os.sched_yield()
    for _ in range(2 * n):
        call(arg)
    os.sched_yield()


def main(argv: list[str]) -> int:
    spec, suite_name, operation, n = argv[0], argv[1], argv[2], int(argv[3])
    keys = load_key_set()
    suite = SUITES_BY_NAME[suite_name]
    prepared = prepare(load_adapter_spec(spec), suite, operation, keys)  # type: ignore[arg-type]
    floor = primitive(suite, operation, keys.private(suite.key), prepared.token, PAYLOAD)
    gc.freeze()
    loops(prepared.call, prepared.arg, n)
    loops(lambda _arg: floor.run(), None, n)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
