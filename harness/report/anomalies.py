"""Which rows are findings, and of what kind, the x509-limbo way: an unexpected accept (a
consumer took a token it must refuse: a security finding) is kept apart from an unexpected
reject (a consumer refused a token it must take: an interop finding). Hangs and errors on
hostile input are their own kinds. Policy rows (the RFC leaves the choice) are never findings.

The library a finding is about is the consumer: it is the one that accepted or refused.
"""

from __future__ import annotations

import pandas as pd

SECURITY_PREFIXES = ("attacks.", "claims.")
VECTOR_PREFIX = "vectors."
FORGE = "forge"
# Who made a token no library under test produced: the harness's forge, a published vector.
TOKEN_SOURCES = (FORGE, "vector")
EVIDENCE_COLUMNS = ["consumer", "producer", "scenario", "case", "suite", "mode", "config",
                    "entry_point", "key_form", "attack_class", "requirement", "expected",
                    "actual", "wall_ms", "peak_rss_kb", "cpu_ms", "memory_growth_kb",
                    "token_bytes", "genuine_verifies", "detail"]
KINDS = {
    "unexpected accepts": "took a token it must refuse (security)",
    "unexpected rejects": "refused or mangled a token it must take (interop)",
    "hangs": "hit the time or memory limit of an isolated case",
    "costly refusals": "refused a hostile token only after paying more than the cost budget "
                       "(dos)",
    "errors on hostile input": "raised an undocumented exception instead of refusing",
}
ENTRY_POINT_RULE = (
    'Every finding names how the consumer was called: its configuration (`config`), the entry '
    "point (`jws`: the library's JWS/JWE call; `jwt`: its JWT API; `resolver`: its key-"
    'resolving form, a key callable or key client over the key set; shown as `<config> via jwt`'
    ' or `<config> via resolver`) and the key form (`key_form`: jwk, jwks, pem, pkcs1, der, '
    'openssh, jwk-json, jwks-json, raw; configurations named `raw-...` hand the key text to the'
    ' library untouched). `genuine_verifies` false: that key form does not verify a genuine '
    'token either, and the forgery was sent all the same.')
# Rows of runs before entry points were a dimension went through the JWS/JWE call.
DEFAULT_ENTRY_POINT = "jws"


def as_text(column: pd.Series) -> pd.Series:
    """Strings, with "" for missing values (whatever dtype an all-missing column came as)."""
    return pd.Series(["" if pd.isna(v) else str(v) for v in column], index=column.index,
                     dtype=object)


def entry_points(rows: pd.DataFrame) -> pd.Series:
    if "entry_point" not in rows:
        return pd.Series(DEFAULT_ENTRY_POINT, index=rows.index, dtype=object)
    return as_text(rows["entry_point"]).replace("", DEFAULT_ENTRY_POINT)


def config_label(rows: pd.DataFrame) -> pd.Series:
    """The consumer configuration as tables show it: its name, then the entry point when it
    is not the JWS/JWE call (`broad-pem via jwt`)."""
    entry = entry_points(rows)
    config = as_text(rows["config"]) if "config" in rows else pd.Series("", index=rows.index)
    return config.where(entry == DEFAULT_ENTRY_POINT,
                        (config.replace("", "default") + " via " + entry))


def is_security(rows: pd.DataFrame) -> pd.Series:
    return as_text(rows["scenario"]).str.startswith(SECURITY_PREFIXES) | (rows["producer"] == FORGE)


def is_policy(rows: pd.DataFrame) -> pd.Series:
    return rows["policy"].eq(True) if "policy" in rows else pd.Series(False, index=rows.index)


def masks(rows: pd.DataFrame) -> dict[str, pd.Series]:
    """One boolean mask per kind of finding, in `KINDS` order."""
    expected, actual = rows["expected"], rows["actual"]
    # A policy case is judged only when the consumer crashed or hung on it (then it failed).
    judged = ~is_policy(rows) | rows["passed"].eq(False)
    return {
        "unexpected accepts": judged & (expected == "reject") & (actual == "accepted"),
        "unexpected rejects": judged & (expected == "accept") & rows["passed"].eq(False)
                              & (actual != "hang") & ~(is_policy(rows) & (actual == "error")),
        "hangs": actual == "hang",
        "costly refusals": (as_text(rows["cost_verdict"]) == "dos") if "cost_verdict" in rows
                           else pd.Series(False, index=rows.index),
        "errors on hostile input": judged & (expected == "reject") & (actual == "error"),
    }


def findings(rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {kind: rows.loc[mask, [c for c in EVIDENCE_COLUMNS if c in rows]]
            for kind, mask in masks(rows).items()}


def is_vector(rows: pd.DataFrame) -> pd.Series:
    """Rows of published vectors (the report's Known answers section)."""
    return as_text(rows["scenario"]).str.startswith(VECTOR_PREFIX)


def interop_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows between two libraries under test (no forged tokens or vectors, no attack or claims
    cases)."""
    return rows[~is_security(rows) & ~is_vector(rows)]
