"""Blame: a failing cell between two libraries is charged to the side that departs from the RFC.

A cell that failed in the producer's own call (`failed_in` `producer`: the library refused to
make the token, raised, or its peer process died or hung while making it) has no token to
judge: it charges its producer, whichever consumer it was made for.

Where the rows carry the reference's verdict on the produced token (`conformance`: `conformant`,
or the first RFC rule the token breaks), it decides: a non-conformant token charges its
producer, with that rule as the cause; a conformant token that fails charges the consumer.

Where they do not (an older run, or a token the reference cannot judge), the other consumers
decide, as a cross-check. The panel is every consumer of the same token (case, producer, suite,
mode) except the producer itself (it may read its own departure back) and the consumer in
question:
- most of the panel refuses it too: the token is at fault, the producer is charged;
- most of the panel takes it: the consumer is charged. "Most", not "every": when two consumers
  depart from the RFC in the same place (one ignores `zip`, another reads only zlib-wrapped DEF),
  each must still be charged for refusing a token the others take;
- no panel, or an even split: undetermined, charged to neither.
"""

from __future__ import annotations

import pandas as pd

from harness.core.findings import masked, text_of

PRODUCER, CONSUMER, UNDETERMINED = "producer", "consumer", "undetermined"
NOT_LIBRARIES = ("forge", "vector")
SECURITY_PREFIXES = ("attacks.", "claims.", "vectors.")
CONFORMANT = "conformant"
TOKEN_KEY = ["case", "producer", "suite", "mode"]


def library_pairs(rows: pd.DataFrame) -> pd.DataFrame:
    """Judged cells where one library's token went to another library."""
    if rows.empty:
        return rows
    attack = (text_of(rows["attack_class"]) != "" if "attack_class" in rows
              else pd.Series(False, index=rows.index))
    keep = (~rows["producer"].isin(NOT_LIBRARIES) & (rows["producer"] != rows["consumer"])
            & ~text_of(rows["scenario"]).str.startswith(SECURITY_PREFIXES) & ~attack
            & rows["passed"].notna())
    return rows[keep]


def blame(rows: pd.DataFrame) -> pd.DataFrame:
    """Every judged cell between two libraries with `failed`, `charged` (producer, consumer,
    undetermined; empty for a passing cell), `basis` (conformance, cross-check) and `cause`."""
    pairs = library_pairs(rows).copy()
    if pairs.empty:
        return pairs.assign(failed=[], charged=[], basis=[], cause=[])
    pairs["failed"] = pairs["passed"].eq(False)
    fails = pairs.groupby(TOKEN_KEY, dropna=False)["failed"]
    # Panel: the token's other consumers (the producer's own reading is not in `pairs`).
    panel_n = fails.transform("size") - 1
    panel_fail = fails.transform("sum") - pairs["failed"].astype(int)
    verdict = (text_of(pairs["conformance"]) if "conformance" in pairs
               else pd.Series("", index=pairs.index))
    in_producer = (text_of(pairs["failed_in"]) == PRODUCER if "failed_in" in pairs
                   else pd.Series(False, index=pairs.index))
    detail = text_of(pairs["detail"])
    charged, basis, cause = [], [], []
    for failed, producer_failed, conformance, n, refused, text in zip(
            pairs["failed"], in_producer, verdict, panel_n, panel_fail, detail, strict=True):
        if not failed:
            charged.append("")
            basis.append("")
            cause.append("")
            continue
        reason = masked(text) or "payload differs"
        if producer_failed:  # no token to judge: the producer's own call failed
            charged.append(PRODUCER)
            basis.append("producer failed")
            cause.append(reason)
            continue
        if conformance:
            side = CONSUMER if conformance == CONFORMANT else PRODUCER
            charged.append(side)
            basis.append("conformance")
            cause.append(reason if side == CONSUMER else conformance)
            continue
        side = (UNDETERMINED if n == 0 or 2 * refused == n
                else PRODUCER if 2 * refused > n else CONSUMER)
        charged.append(side)
        basis.append("cross-check")
        cause.append(reason)
    return pairs.assign(charged=charged, basis=basis, cause=cause)


def charged_counts(blamed: pd.DataFrame, library: str, side: str) -> tuple[int, int]:
    """(cells charged to `library` on `side`, judged cells with `library` on that side)."""
    mine = blamed[blamed[side] == library]
    return int((mine["charged"] == side).sum()), len(mine)


def charged_causes(blamed: pd.DataFrame, library: str, side: str) -> list[tuple[str, int]]:
    """The causes of the cells charged to `library` on `side`, most cells first."""
    mine = blamed[(blamed[side] == library) & (blamed["charged"] == side)]
    counts = mine["cause"].value_counts()
    return [(str(cause), int(n)) for cause, n in counts.items()]


def pair_charges(blamed: pd.DataFrame, scenario: str | None = None) -> pd.DataFrame:
    """Per (producer, consumer): failing cells charged to the producer, the consumer, neither."""
    subset = blamed if scenario is None else blamed[blamed["scenario"] == scenario]
    failing = subset[subset["failed"]]
    if failing.empty:
        return pd.DataFrame(columns=[PRODUCER, CONSUMER, UNDETERMINED])
    table = pd.crosstab([failing["producer"], failing["consumer"]], failing["charged"])
    return table.reindex(columns=[PRODUCER, CONSUMER, UNDETERMINED], fill_value=0)
