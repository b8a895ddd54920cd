"""Severity is declared per case: every case that expects `reject` says what accepting its token
costs, on the one scale (forgery, bypass, dos, malleability, leniency)."""

from __future__ import annotations

import pytest

from harness.core.severity import SEVERITIES, count_text, most_severe, rank, severity_of_flags
from harness.interop.scenario import case, discover, named_suites


def test_every_reject_case_declares_a_severity() -> None:
    cases = discover()
    rejecting = [c for c in cases if c.expected == "reject"]
    assert rejecting, "no reject case discovered"
    lacking = [c.id for c in rejecting if c.severity not in SEVERITIES]
    assert not lacking, f"reject cases without a severity: {lacking}"
    # A case that must be accepted has nothing to rate.
    assert all(c.severity is None for c in cases if c.expected == "accept")


def test_every_security_case_gives_its_reasoning() -> None:
    unexplained = [c.id for c in discover() if c.severity and not (c.why or c.description)]
    assert not unexplained


@pytest.mark.parametrize(("case_id", "severity"), [
    ("attacks.alg_none.lowercase_empty_signature", "forgery"),
    # The key holder's own signature: no one else could make it.
    ("attacks.alg_none.lowercase_genuine_signature", "leniency"),
    ("attacks.key_confusion.hs256_with_public_key_as_secret", "forgery"),
    ("attacks.structure.signature_padding", "malleability"),
    ("attacks.structure.header_padding", "leniency"),
    ("attacks.pbes2_count.huge_count", "dos"),
    ("claims.exp.past_defaults", "bypass"),
    ("claims.exp.string_defaults", "leniency"),
    ("claims.exp.nan_defaults", "bypass"),
    ("attacks.token_type.jws_where_jwe_expected", "bypass"),
])
def test_chosen_severities(case_id: str, severity: str) -> None:
    found = {c.id: c for c in discover()}
    assert found[case_id].severity == severity


def test_an_unknown_severity_is_refused_at_declaration() -> None:
    with pytest.raises(TypeError, match="not one of"):
        case(requirement="RFC 0", expected="reject", suites=named_suites("JWS HS256"),
             severity="catastrophic")  # type: ignore[arg-type]


def test_scale_order_and_counts() -> None:
    assert SEVERITIES == ("forgery", "bypass", "dos", "malleability", "leniency")
    assert rank("forgery") < rank("leniency") < rank(None)
    assert most_severe(["leniency", None, "bypass"]) == "bypass"
    assert most_severe([None]) is None
    assert count_text({"leniency": 3, "forgery": 1, "bypass": 2}) == \
        "1 forgery, 2 bypass, 3 leniency"
    assert count_text({}) == "none"


@pytest.mark.parametrize(("flags", "bug_types", "severity"), [
    (["InvalidCurveAttack"], [], "forgery"),
    (["BerEncodedSignature"], [], "malleability"),
    (["SomethingNew"], ["SIGNATURE_MALLEABILITY"], "malleability"),
    (["ModifiedTag"], ["AUTH_BYPASS"], "forgery"),
    ([], ["MISSING_STEP"], "bypass"),
    ([], ["EDGE_CASE"], "leniency"),
    ([], ["FUNCTIONALITY"], None),
    (["Unknown"], [], None),
])
def test_wycheproof_flags_map_onto_the_scale(flags: list[str], bug_types: list[str],
                                             severity: str | None) -> None:
    assert severity_of_flags(flags, bug_types) == severity


def test_an_unflagged_invalid_vector_is_rated_by_what_was_done_to_it() -> None:
    from harness.core.severity import severity_of_vector
    assert severity_of_vector([], [], "jwe_aes rejectsModifiedAuthenticationTag") == "forgery"
    assert severity_of_vector([], [], "base64 rejectsInvalidCharacterInsertedInMac") \
        == "malleability"
    assert severity_of_vector([], [], "jws_rsa_roca_key rejectsKeyWithRocaVulnerability") \
        == "leniency"
    # A flag's bugType wins over the test's name.
    assert severity_of_vector(["X"], ["MISSING_STEP"], "rejectsModifiedTag") == "bypass"
    # What the RFCs leave undefined is a best practice, whatever else its flags say.
    assert severity_of_vector(["DuplicateKid", "Ambiguous"], ["KNOWN_BUG", "CAN_OF_WORMS"],
                              "rejectsDuplicateKid") == "leniency"
