"""The published vectors as cases: every test of every file is a case named by its file and
test id, a damaged file or test is an error naming both while the rest still run, listed
defects are reported as such, and vectors.csv counts what each library did."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from harness.adapters import load_adapter
from harness.core.keys import load_key_set
from harness.core.suites import ALL_SUITES, SUITES_BY_NAME
from harness.interop.reference_consumer import REFERENCE, ReferenceConsumer
from harness.interop.runner import World, plan, run_units
from harness.interop.scenario import Case, discover
from harness.interop.vectors_table import vector_misses, vectors_table, write_vectors_csv
from scenarios.vectors import _files
from scenarios.vectors._cookbook import example_cases
from scenarios.vectors._files import PROJECT_VECTORS, VECTORS_ENV
from scenarios.vectors._wycheproof import wycheproof_cases
from tests.fakes import AcceptAll, RejectAll

WYCHEPROOF = {"wycheproof_jws": ("json_web_signature_test.json", 401),
              "wycheproof_jwe": ("json_web_encryption_test.json", 139),
              "wycheproof_jwk": ("json_web_key_test.json", 26),
              "wycheproof_crypto": ("json_web_crypto_test.json", 83)}


def as_cases(items: list, scenario: str = "vectors.tmp") -> list[Case]:
    return [Case(id=f"{scenario}.{i.name}", scenario=scenario, description=i.description,
                 run=i.run, **i.declared) for i in items]


def run(cases: list[Case], *adapters, vector_consumers=None) -> pd.DataFrame:
    world = World({a.name: a for a in adapters}, load_key_set(), {c.id: c for c in cases},
                  vector_consumers or {})
    return pd.DataFrame(run_units(plan(cases, ALL_SUITES, ["enabled"]), world))


@pytest.fixture(scope="module")
def vector_cases() -> list[Case]:
    return [c for c in discover() if c.scenario.startswith("vectors.")]


def test_every_wycheproof_test_is_a_case_named_by_its_tcid(vector_cases: list[Case]) -> None:
    for module, (file_name, count) in WYCHEPROOF.items():
        mine = [c for c in vector_cases if c.scenario == f"vectors.{module}"]
        assert len(mine) == count, module
        tests = [t for g in json.loads((PROJECT_VECTORS / "wycheproof/testvectors_v1"
                                        / file_name).read_text())["testGroups"]
                 for t in g["tests"]]
        assert {c.id for c in mine} == {f"vectors.{module}.tc{t['tcId']}" for t in tests}
    jws = {c.name: c for c in vector_cases if c.scenario == "vectors.wycheproof_jws"}
    assert jws["tc1"].expected == "accept" and jws["tc2"].expected == "reject"
    assert all(c.token_from == "vector" and c.forged and c.modes == ("enabled",)
               for c in vector_cases)
    # No damaged vector in the project's copy.
    assert not [c for c in vector_cases if c.description.startswith("damaged")]


def test_flags_become_the_attack_class_and_keys_choose_the_suite(
        vector_cases: list[Case]) -> None:
    by_id = {c.id: c for c in vector_cases}
    none_alg = [c for c in vector_cases if c.attack_class and "AlgIsNone" in c.attack_class]
    assert none_alg and all(c.expected == "reject" for c in none_alg)
    # The key says ES512's curve under a name outside the registry ("ES521"): the header's
    # registered name is the suite.
    es = [c for c in vector_cases if c.scenario == "vectors.wycheproof_jws"
          and c.suites(ALL_SUITES) == [(SUITES_BY_NAME["JWS ES512"],)]]
    assert es
    # A key set is handed over as one (configuration jwks); an asymmetric JWS key also as PEM.
    assert [c.name for c in by_id["vectors.wycheproof_jwk.tc1"].configs] == ["jwks"]
    assert [c.name for c in by_id["vectors.wycheproof_jws.tc18"].configs] == ["jwk", "pem"]
    # The cookbook's 5_13 input reads enc "A128CBC-H256"; the token's header decides.
    multi = by_id["vectors.cookbook_jwe.5_13_general_key1"]
    assert multi.suites(ALL_SUITES) == [(SUITES_BY_NAME["JWE RSA1_5 + A128CBC-HS256"],)]


def test_a_real_library_takes_the_valid_vectors_and_refuses_alg_none(
        vector_cases: list[Case]) -> None:
    chosen = [c for c in vector_cases if c.scenario in ("vectors.wycheproof_jws",
                                                        "vectors.cookbook_jws")]
    rows = run(chosen, load_adapter("jwcrypto"))
    valid = rows[(rows.expected == "accept") & (rows.actual != "unsupported")]
    assert len(valid) > 80 and valid.passed.mean() > 0.9
    none = rows[rows.attack_class.fillna("").str.contains("AlgIsNone")]
    assert not none.empty and (none.actual == "rejected").all()
    detached = rows[rows.case == "vectors.cookbook_jws.4_5_compact"]
    assert set(detached.actual) == {"unsupported"}
    assert "detached" in detached.detail.iloc[0]


def _damaged_copy(tmp_path: Path) -> Path:
    root = tmp_path / "vectors"
    shutil.copytree(PROJECT_VECTORS, root)
    path = root / "wycheproof/testvectors_v1/json_web_signature_test.json"
    data = json.loads(path.read_text())
    del data["testGroups"][0]["tests"][2]["jws"]  # tcId 3
    path.write_text(json.dumps(data))
    (root / "wycheproof/testvectors_v1/json_web_key_test.json").write_text('{"testGroups": [')
    (root / "jose-cookbook/jws/4_4.hmac-sha2_integrity_protection.json").write_text("{oops")
    return root


def test_a_damaged_vector_file_names_the_file_and_test_and_the_rest_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _damaged_copy(tmp_path)
    monkeypatch.setenv(VECTORS_ENV, str(root))
    signatures = as_cases(wycheproof_cases("json_web_signature_test.json"), "vectors.jws")
    keys = as_cases(wycheproof_cases("json_web_key_test.json"), "vectors.jwk")
    cookbook = as_cases(example_cases(
        root / "jose-cookbook/jws/4_4.hmac-sha2_integrity_protection.json", root, "JWS"),
        "vectors.cookbook")
    assert len(signatures) == 401 and len(keys) == 1 and len(cookbook) == 1
    rows = run(signatures + keys + cookbook, load_adapter("jwcrypto"))
    damaged = rows[rows.actual == "error"].set_index("case")
    assert set(damaged.error_source) == {"harness"}
    three = damaged.loc["vectors.jws.tc3", "detail"]
    assert "json_web_signature_test.json: test tcId 3: lacks jws or jwe" in three
    assert "json_web_key_test.json: damaged vector file" in damaged.loc["vectors.jwk.damaged",
                                                                        "detail"]
    assert "4_4.hmac-sha2_integrity_protection.json" in damaged.loc[
        "vectors.cookbook.4_4_damaged", "detail"]
    # Every other test of the damaged signature file still ran, and was judged unless
    # vectors/defects.json lists it (reported as a defect, never judged).
    others = rows[rows.case.str.startswith("vectors.jws.") & (rows.case != "vectors.jws.tc3")]
    assert others.case.nunique() == 400 and others.actual.isin(["accepted", "rejected"]).all()
    listed = others.defect.notna()
    assert listed.sum() > 0 and others[~listed].passed.notna().all()
    assert others[listed].passed.isna().all()


def test_a_listed_defect_is_reported_as_such(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "vectors"
    shutil.copytree(PROJECT_VECTORS, root)
    (root / "defects.json").write_text(json.dumps([
        {"file": "wycheproof/testvectors_v1/json_web_signature_test.json", "tcId": 346,
         "reason": "the key's alg is PS256, the token's PS384"}]))
    monkeypatch.setenv(VECTORS_ENV, str(root))
    _files.defects.cache_clear()
    cases = {c.name: c for c in as_cases(wycheproof_cases("json_web_signature_test.json"))}
    listed = cases["tc346"]
    assert listed.defect == "the key's alg is PS256, the token's PS384" and listed.policy
    assert cases["tc345"].defect is None and not cases["tc345"].policy
    rows = run([listed, cases["tc345"]], RejectAll())
    assert rows.set_index("case").loc["vectors.tmp.tc346", "defect"].iloc[0].startswith("the key")
    table = vectors_table(rows)
    assert table[["defects", "valid missed", "misses"]].sum().tolist() == [2, 2, 2]
    _files.defects.cache_clear()


def test_vectors_csv_counts_each_outcome(tmp_path: Path, vector_cases: list[Case]) -> None:
    chosen = [c for c in vector_cases if c.scenario == "vectors.wycheproof_jwk"]
    rows = run(chosen, AcceptAll(), RejectAll())
    path = write_vectors_csv(vectors_table(rows), tmp_path)
    assert path is not None
    table = pd.read_csv(path).set_index("library")
    valid = sum(c.expected == "accept" for c in chosen)
    invalid = len(chosen) - valid
    # Each key set vector runs once (configuration jwks) per library.
    assert table.loc["accept-all", "valid accepted"] == valid
    assert table.loc["accept-all", "invalid missed"] == invalid
    assert table.loc["reject-all", "invalid refused"] == invalid
    assert table.loc["reject-all", "misses"] == valid
    misses = vector_misses(rows)
    assert set(misses.library) == {"accept-all", "reject-all"}
    # An invalid vector's miss carries its flags (or "unflagged"), a valid one's none.
    invalid_misses = misses[misses["expected"] == "reject"]
    assert invalid_misses["flags"].str.len().gt(0).all()
    assert misses["case"].str.startswith("vectors.").all()
    assert write_vectors_csv(vectors_table(rows[~rows.scenario.str.startswith("vectors.")]),
                             tmp_path) is None


def test_known_answers_are_byte_for_byte_in_a_deterministic_library(
        vector_cases: list[Case]) -> None:
    chosen = [c for c in vector_cases if c.scenario == "vectors.known_answers"]
    rows = run(chosen, load_adapter("jwcrypto"), load_adapter("pyjwt")).set_index(
        ["case", "consumer"])
    rs256 = rows.loc[("vectors.known_answers.rfc7520_4_1", "jwcrypto")]
    assert rs256.passed and rs256.config == "signs" and rs256.detail == "byte for byte"
    # PyJWT writes "typ": "JWT" into every header: not the cookbook's token.
    pyjwt = rows.loc[("vectors.known_answers.rfc7520_4_4", "pyjwt")]
    assert not pyjwt.passed and '"typ": "JWT"' in pyjwt.detail
    assert rows.loc[("vectors.known_answers.rfc7520_4_7", "jwcrypto"), "actual"] == "unsupported"


def test_the_reference_consumes_vectors_and_judges_key_sets_itself(
        vector_cases: list[Case]) -> None:
    chosen = {c.id: c for c in vector_cases}
    ids = ["vectors.wycheproof_jws.tc1", "vectors.wycheproof_jws.tc2",
           "vectors.wycheproof_jwk.tc1", "vectors.wycheproof_jwk.tc4"]
    assert [chosen[i].expected for i in ids] == ["accept", "reject", "reject", "reject"]
    rows = run([chosen[i] for i in ids], RejectAll(),
               vector_consumers={REFERENCE: ReferenceConsumer()})
    mine = rows[(rows.consumer == REFERENCE) & (rows.actual != "unsupported")]
    assert set(mine.case) == set(ids)
    assert mine.passed.all(), mine[["case", "config", "actual", "detail"]]
    # The key-set vectors are refused by the reference's own key choice, with its rule.
    jwks = mine[mine.case.str.startswith("vectors.wycheproof_jwk")]
    assert (jwks.actual == "rejected").all() and jwks.detail.str.contains("RFC").all()


class KeepsKeys(RejectAll):
    """Refuses every token and keeps the key objects it was handed."""

    name = "keeps-keys"

    def __init__(self) -> None:
        super().__init__()
        self.handed: list[object] = []

    def _verify(self, suite, token, key, mode, serialization):  # type: ignore[no-untyped-def]
        self.handed.append(key)
        return super()._verify(suite, token, key, mode, serialization)

    _decrypt = _verify


def test_vectors_holding_the_same_key_hand_over_one_object(vector_cases: list[Case]) -> None:
    """Vectors that hold the same key (RFC 7520's 4096-bit RSA keys among them) hand the
    consumer one object, which an adapter imports once (90-190 ms for a library each time)."""
    consumer = KeepsKeys()
    rows = run(vector_cases, consumer)
    assert (rows.actual == "rejected").any()
    jwks = [key for key in consumer.handed if isinstance(key, dict)]
    contents = {json.dumps(key, sort_keys=True) for key in jwks}
    assert len(jwks) > 2 * len(contents)
    assert len({id(key) for key in jwks}) == len(contents)
