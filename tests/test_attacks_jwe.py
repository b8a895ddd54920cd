"""The JWE attack cases: each forged token has the one defect its case names (checked by taking
it apart), fake consumers are judged as they must be, and a bomb against a consumer that
inflates becomes a `hang` row without harming the test process."""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import replace
from typing import Any

import pandas as pd
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from harness.adapters.base import KeyData, Serialization
from harness.core.errors import Rejected
from harness.core.suites import ALL_SUITES, SUITES_BY_NAME
from harness.forge.encoding import unb64
from harness.interop.runner import Unit, World, execute, plan, run_cell
from harness.interop.scenario import Consumer, Context, Isolation, discover
from tests import fakes

MODULES = ("attacks.invalid_curve", "attacks.pbes2_count", "attacks.zip_bomb",
           "attacks.token_type", "attacks.jwe_json", "attacks.jwe_tags", "jwe.unusual")
CASES = [c for c in discover() if c.scenario in MODULES]


class Capture(fakes.FakeAdapter):
    """Keeps the token it is given and refuses it."""

    name = "capture"

    def __init__(self) -> None:
        super().__init__()
        self.tokens: list[str] = []

    def _verify(self, suite: Any, token: str, key: KeyData, allowed: Any,
                serialization: Serialization) -> bytes:
        self.tokens.append(token)
        raise Rejected("captured")

    _decrypt = _verify


def _forged(case_id: str) -> list[tuple[Any, str]]:
    """(suite, token) for every suite the case runs on."""
    case = next(c for c in CASES if c.id == case_id)
    found = []
    for (suite,) in case.suites(ALL_SUITES):
        capture = Capture()
        ctx = Context(None, Consumer(capture, "enabled"), (suite,), "enabled", KEYS)
        with pytest.raises(Rejected):
            case.run(ctx)
        found.append((suite, capture.tokens[0]))
    assert found, case_id
    return found


def _header(token: str) -> dict[str, Any]:
    return json.loads(unb64(token.split(".")[0]))


def _parts(token: str) -> list[bytes]:
    return [unb64(part) for part in token.split(".")]


KEYS: Any = None


@pytest.fixture(autouse=True)
def _keys(keys: Any) -> None:
    global KEYS
    KEYS = keys


def test_every_module_declares_cases() -> None:
    assert {c.scenario for c in CASES} == set(MODULES)
    assert all(c.forged for c in CASES)


def test_invalid_curve_tokens_carry_the_hostile_epk() -> None:
    for suite, token in _forged("attacks.invalid_curve.off_curve_epk"):
        epk = _header(token)["epk"]
        assert epk["crv"] == suite.key.param
        assert int.from_bytes(unb64(epk["x"]), "big") == 3
    for suite, token in _forged("attacks.invalid_curve.other_curve_epk"):
        assert _header(token)["epk"]["crv"] not in (suite.key.param,)
    for _, token in _forged("attacks.invalid_curve.zero_epk"):
        assert not unb64(_header(token)["epk"]["x"]).strip(b"\0")
    low = {s.key.param: unb64(_header(t)["epk"]["x"])
           for s, t in _forged("attacks.invalid_curve.low_order_epk")}
    assert low["X25519"].hex().startswith("e0eb7a7c") and low["X448"][0] == 1


@pytest.mark.parametrize("name,p2c", [("huge_count", 10**8), ("zero_count", 0),
                                      ("negative_count", -1000), ("fractional_count", 1000.5),
                                      ("string_count", "100000000")])
def test_pbes2_counts(name: str, p2c: Any) -> None:
    for _, token in _forged(f"attacks.pbes2_count.{name}"):
        header = _header(token)
        assert header["p2c"] == p2c and len(unb64(header["p2s"])) == 16


def test_pbes2_short_salts() -> None:
    for name, size in (("empty_salt", 0), ("one_byte_salt", 1)):
        for _, token in _forged(f"attacks.pbes2_count.{name}"):
            assert len(unb64(_header(token)["p2s"])) == size and _header(token)["p2c"] == 1000


def test_zip_bombs_are_deflated_zeros_inside_a_genuine_jwe() -> None:
    for suite, token in _forged("attacks.zip_bomb.raw_1mib"):
        assert _header(token)["zip"] == "DEF"
        if suite.alg == "dir":
            _, _, iv, ciphertext, tag = _parts(token)
            head = token.split(".")[0].encode()
            sealed = AESGCM(unb64(KEYS.private(suite.key)["k"])).decrypt(iv, ciphertext + tag,
                                                                          head)
            assert zlib.decompress(sealed, -zlib.MAX_WBITS) == bytes(1 << 20)
    for _, token in _forged("attacks.zip_bomb.zlib_1gib"):
        assert 1 << 20 < len(token) < 2 << 20


def test_token_type_swaps_the_object_kind() -> None:
    for suite, token in _forged("attacks.token_type.jwe_where_jws_expected"):
        assert suite.family == "JWS" and token.count(".") == 4 and "enc" in _header(token)
    for suite, token in _forged("attacks.token_type.jws_where_jwe_expected"):
        assert suite.family == "JWE" and token.count(".") == 2 and "enc" not in _header(token)


def test_jwe_json_shapes() -> None:
    for _, token in _forged("attacks.jwe_json.empty_recipients"):
        assert json.loads(token)["recipients"] == []
    for suite, token in _forged("attacks.jwe_json.alg_in_protected_and_recipient_header"):
        members = json.loads(token)
        assert members["recipients"][0]["header"]["alg"] == suite.alg
    for name in ("unprotected_enc_overrides", "unprotected_enc_ignored"):
        for suite, token in _forged(f"attacks.jwe_json.{name}"):
            members = json.loads(token)
            assert json.loads(unb64(members["protected"]))["enc"] == suite.enc
            assert members["unprotected"]["enc"] != suite.enc
    for suite, token in _forged("attacks.jwe_json.recipient_alg_overrides"):
        members = json.loads(token)
        assert json.loads(unb64(members["protected"]))["alg"] == suite.alg
        assert members["recipients"][0]["header"]["alg"] != suite.alg
    for _, token in _forged("attacks.jwe_json.duplicate_enc_first_wins"):
        assert unb64(token.split(".")[0]).count(b'"enc"') == 2
    for _, token in _forged("attacks.jwe_json.duplicate_protected_member"):
        assert token.count('"protected"') == 2


def test_tag_defects() -> None:
    lengths = {"gcm_tag_truncated_4": 4, "gcm_tag_truncated_12": 12, "gcm_tag_empty": 0,
               "gcm_tag_extended": 17}
    for name, length in lengths.items():
        for _, token in _forged(f"attacks.jwe_tags.{name}"):
            assert len(_parts(token)[4]) == length
    for suite, token in _forged("attacks.jwe_tags.cbc_tag_truncated"):
        assert len(_parts(token)[4]) == int(suite.enc[-3:]) // 32  # half of T_LEN
    for suite, token in _forged("attacks.jwe_tags.cbc_tag_untruncated"):
        assert len(_parts(token)[4]) == int(suite.enc[-3:]) // 8
    for _, token in _forged("attacks.jwe_tags.gcm_iv_16_bytes"):
        assert len(_parts(token)[2]) == 16


def test_unusual_tokens_keep_their_oddities() -> None:
    for _, token in _forged("jwe.unusual.spaced_protected_general"):
        assert b'", "' in unb64(json.loads(token)["protected"])
    for _, token in _forged("jwe.unusual.reordered_escaped_protected"):
        assert unb64(token.split(".")[0]).startswith(b'{"enc":"\\u0041')
    for suite, token in _forged("jwe.unusual.empty_plaintext"):
        # AES-GCM seals nothing into nothing; AES-CBC into one block of padding.
        assert len(_parts(token)[3]) == (16 if "CBC" in suite.enc else 0)


def test_accept_all_is_flagged_on_every_attack_and_reject_all_on_none(keys) -> None:
    attacks = [c for c in CASES if c.expected == "reject"]
    world = World({a.name: a for a in (fakes.AcceptAll(), fakes.RejectAll())}, keys,
                  {c.id: c for c in attacks})
    rows: list[dict] = []
    execute(plan(attacks, list(ALL_SUITES), ["enabled"]), world, 2, rows.extend)
    frame = pd.DataFrame(rows)
    judged = frame[~frame.policy]
    assert set(judged.case) == {c.id for c in attacks if not c.policy}
    assert (judged[judged.consumer == "accept-all"].passed == False).all()  # noqa: E712
    assert (judged[judged.consumer == "reject-all"].passed == True).all()  # noqa: E712
    fakes.assert_policy_rows_judged_only_on_faults(frame)
    isolated = frame[frame.case.str.startswith(("attacks.zip_bomb", "attacks.pbes2_count.huge"))]
    assert isolated.peak_rss_kb.notna().all() and isolated.wall_ms.notna().all()


class Inflates(fakes.FakeAdapter):
    """A consumer without a size limit: it opens `dir` + A256GCM and inflates what it finds."""

    name = "inflates"

    def _decrypt(self, suite: Any, token: str, key: KeyData, allowed: Any,
                 serialization: Serialization) -> bytes:
        head, _, iv, ciphertext, tag = token.split(".")
        secret = base64.urlsafe_b64decode(key["k"] + "==")  # type: ignore[index]
        sealed = AESGCM(secret).decrypt(unb64(iv), unb64(ciphertext) + unb64(tag), head.encode())
        return zlib.decompress(sealed, -zlib.MAX_WBITS)


def test_a_bomb_against_an_inflating_consumer_is_a_hang_not_a_dead_harness(keys) -> None:
    case = next(c for c in CASES if c.id == "attacks.zip_bomb.raw_1gib")
    unit = Unit(case.id, (SUITES_BY_NAME["JWE dir + A256GCM"],), "enabled")
    # The case stops at 2 s; under load the child may be killed before it reaches the cap.
    assert case.isolation is not None
    case = replace(case, isolation=Isolation(10.0, case.isolation.memory_mb))
    row = run_cell(case, unit, None, Inflates(), keys)
    assert row["actual"] == "hang" and row["passed"] is False
    assert "memory" in row["detail"] and row["peak_rss_kb"] > 0
    small = next(c for c in CASES if c.id == "attacks.zip_bomb.raw_1mib")
    row = run_cell(small, Unit(small.id, unit.suites, "enabled"), None, Inflates(), keys)
    assert row["actual"] == "accepted" and row["passed"] is None and row["policy"]


class InflatesAndWraps(Inflates):
    """Like jwcrypto before 1.5.4: inflates without a limit and turns every failure into its own
    refusal, MemoryError included."""

    name = "inflates-and-wraps"

    def _decrypt(self, suite: Any, token: str, key: KeyData, allowed: Any,
                 serialization: Serialization) -> bytes:
        try:
            return super()._decrypt(suite, token, key, allowed, serialization)
        except Exception as error:
            raise Rejected(f"No recipient matched the provided key [{error!r}]") from error


def test_a_refusal_that_is_really_running_out_of_memory_is_a_hang(keys) -> None:
    case = next(c for c in CASES if c.id == "attacks.zip_bomb.raw_1gib")
    unit = Unit(case.id, (SUITES_BY_NAME["JWE dir + A256GCM"],), "enabled")
    row = run_cell(case, unit, None, InflatesAndWraps(), keys)
    assert row["actual"] == "hang" and row["passed"] is False


def test_a_run_of_forged_cases_alone_writes_its_charts(tmp_path) -> None:
    # No library produced a token, so there is no support grid to draw; the run still finishes.
    from harness.cli import main

    assert main(["interop", "--results", str(tmp_path), "--jobs", "1", "--library", "joserfc",
                 "--scenario", "attacks.token_type.jwe_where_jws_expected"]) == 0
    run = (tmp_path / "latest").resolve()
    assert (run / "heatmap-attacks.token_type.png").exists()
    assert not (run / "support-grid.png").exists()
