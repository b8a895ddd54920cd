"""The strict reference against the published vectors: every Wycheproof JOSE test and every
cookbook example it can express. Valid ones give back the exact payload, invalid ones are
refused, acceptable ones are only recorded; a vector listed in `vectors/defects.json` must be
one the reference really disagrees with, so the list cannot go stale."""

from __future__ import annotations

import pytest

from harness.core.keyforms import unb64
from harness.forge.reference import ReferenceRefused, decrypt_jwe, is_jwe, verify_jws
from tests.vector_files import (
    CookbookExample,
    WycheproofTest,
    cookbook_examples,
    defects,
    wycheproof_tests,
)

WYCHEPROOF = wycheproof_tests()
COOKBOOK = cookbook_examples()
DEFECTS = defects()


def _consume(test: WycheproofTest) -> bytes:
    if test.token is not None and is_jwe(test.token):
        return decrypt_jwe(test.token, test.key)
    return verify_jws(test.token, test.key)


def _payload_of(token: str) -> bytes:
    return unb64(token.split(".")[1])


def _verdict(test: WycheproofTest) -> tuple[str, str]:
    """("valid", "") when the reference gives back the vector's content, else ("invalid", why)."""
    try:
        content = _consume(test)
    except ReferenceRefused as refusal:
        return "invalid", refusal.rule
    expected = test.plaintext
    if expected is None and isinstance(test.token, str) and not is_jwe(test.token):
        expected = _payload_of(test.token)
    if expected is not None and content != expected:
        return "invalid", f"returned {content[:40]!r}, not the vector's content"
    return "valid", ""


def test_the_vector_files_hold_what_the_issue_counts() -> None:
    counts = {name: sum(t.file == name for t in WYCHEPROOF) for name in
              ("json_web_signature_test.json", "json_web_encryption_test.json",
               "json_web_key_test.json", "json_web_crypto_test.json")}
    assert counts == {"json_web_signature_test.json": 401, "json_web_encryption_test.json": 139,
                      "json_web_key_test.json": 26, "json_web_crypto_test.json": 83}
    assert len(COOKBOOK) >= 40


@pytest.mark.parametrize("test", WYCHEPROOF, ids=lambda t: t.id)
def test_wycheproof(test: WycheproofTest) -> None:
    verdict, why = _verdict(test)
    if test.result == "acceptable":
        pytest.skip(f"acceptable (policy, not judged): the reference says {verdict} {why}")
    if test.id in DEFECTS:
        assert verdict != test.result, f"{test.id} is listed as a defect but the reference agrees"
        return
    assert verdict == test.result, f"{test.id} ({test.comment}, {test.flags}): {why}"


@pytest.mark.parametrize("example", COOKBOOK, ids=lambda e: e.id)
def test_cookbook(example: CookbookExample) -> None:
    try:
        if example.family == "JWE":
            content = decrypt_jwe(example.token, example.key)
        else:
            content = verify_jws(example.token, example.key,
                                 example.content if example.detached else None)
    except ReferenceRefused as refusal:
        assert example.id in DEFECTS, f"{example.id} refused: {refusal.rule}"
        return
    assert example.id not in DEFECTS, f"{example.id} is listed as a defect but verifies"
    assert content == example.content


def test_every_listed_defect_names_a_vector_that_exists() -> None:
    known = {t.id for t in WYCHEPROOF} | {e.id for e in COOKBOOK}
    assert set(DEFECTS) <= known
    assert all(d["reason"] and "RFC" in d["reason"] for d in DEFECTS.values())
