"""Six libraries end to end through the command line, and a run without one of them."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from harness.adapters import adapter_names
from harness.cli import main

SIX = {"pyjwt", "joserfc", "jwcrypto", "python-jose", "authlib", "jwskate"}
# Suites every library but PyJWT implements in part: RS256, ES256K (not python-jose; jwskate
# under its own name ES256k), RSA-OAEP-256 and ECDH-ES on X25519 (neither in python-jose).
SMALL = ["--suite", "JWS RS256,JWS ES256K,JWE RSA-OAEP-256 + A256GCM,"
         "JWE ECDH-ES (X25519) + A256GCM"]


def test_the_grid_and_summary_cover_all_six(tmp_path: Path, capsys) -> None:
    assert set(adapter_names()) == SIX
    code = main(["interop", "--results", str(tmp_path), "--jobs", "2",
                 "--scenario", "jws.roundtrip,jwe.roundtrip", *SMALL])
    out = capsys.readouterr().out
    run = (tmp_path / "latest").resolve()
    rows = pd.read_json(run / "interop.jsonl", lines=True)
    assert set(rows.producer) == set(rows.consumer) == SIX
    assert not (rows.actual == "error").any()
    support = pd.read_csv(run / "support.csv", index_col=0)
    assert set(support.columns) >= SIX
    assert support.loc["JWS ES256K", "authlib"] == "by default"
    # jwskate's own round trip works under its own spelling, which no other library reads.
    assert support.loc["JWS ES256K", "jwskate"] == "by default"
    assert support.loc["JWE RSA-OAEP-256 + A256GCM", "python-jose"] == "by default"
    assert support.loc["JWE ECDH-ES (X25519) + A256GCM", "python-jose"] == "unsupported"
    # The compressed JWE is where these libraries part: python-jose writes a zlib stream
    # jwcrypto refuses, and jwskate returns the still-deflated bytes.
    failing = rows[rows.passed == False]  # noqa: E712
    es256k = failing.suite == "JWS ES256K"
    assert code == 0 and set(failing[~es256k].case) == {"jwe.roundtrip.compact_deflate"}
    assert set(failing[~es256k].consumer) == {"jwcrypto", "jwskate", "python-jose"}
    # jwskate's `"alg": "ES256k"` tokens fail at the others, the reference naming the rule.
    assert set(failing[es256k].producer) == {"jwskate"} and "jwskate" not in set(
        failing[es256k].consumer)
    assert failing[es256k].conformance.str.contains("'ES256k' is not a registered").all()
    assert "python-jose" in out and "jwskate" in out and "ES256k" in out
    clean = rows[(rows.case == "jws.roundtrip.compact") & (rows.suite != "JWS ES256K")]
    assert clean[clean.passed.notna()].passed.all()


def test_a_missing_library_is_skipped_with_a_warning(tmp_path: Path, capsys,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # As if jwskate were not installed: its import fails, and the adapter is re-imported.
    monkeypatch.setitem(sys.modules, "jwskate", None)
    monkeypatch.delitem(sys.modules, "harness.adapters.jwskate_adapter", raising=False)
    assert main(["interop", "--results", str(tmp_path), "--dry-run", *SMALL]) == 0
    assert "skipping jwskate" in capsys.readouterr().err
    assert main(["interop", "--results", str(tmp_path), "--library", "jwskate"]) == 2
    assert "'jwskate' is not installed" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
