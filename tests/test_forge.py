"""The forging toolkit makes what it says: structure checked by hand, signatures checked by
`cryptography` and by the real libraries (a valid forged signature must verify)."""

from __future__ import annotations

import json

import pytest

from harness.adapters import load_adapter
from harness.core.suites import ALL_SUITES
from harness.forge import jws as forge_jws
from harness.forge.encoding import segment, unb64

JWS_SUITES = [s for s in ALL_SUITES if s.family == "JWS"]


def test_segments_keep_the_header_exactly_as_given() -> None:
    raw = b'{"alg" : "HS256"}'
    assert unb64(segment(raw)) == raw
    assert json.loads(unb64(segment({"alg": "none"}))) == {"alg": "none"}
    assert "=" not in segment(b"ab") and "+" not in segment(b"\xfb\xff")


@pytest.mark.parametrize("suite", JWS_SUITES, ids=lambda s: s.tag)
def test_forged_signatures_verify_in_a_real_library(suite, keys) -> None:
    header = {"alg": suite.alg, "kid": "forged"}
    token = forge_jws.sign(header, b"payload", keys.private(suite.key))
    head, body, signature = token.split(".")
    assert json.loads(unb64(head)) == header and unb64(body) == b"payload"
    if suite.alg.startswith("ES"):
        assert len(unb64(signature)) == 2 * forge_jws._EC_OCTETS[suite.alg]
    verifier = load_adapter("jwcrypto")
    assert verifier.verify(suite, token, keys.public(suite.key), mode="enabled") == b"payload"
