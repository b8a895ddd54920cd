import pytest

from harness.core.suites import ALL_SUITES, SUITES_BY_NAME, key_specs, select_suites


def test_registry_holds_every_rfc_suite() -> None:
    jws = [s for s in ALL_SUITES if s.family == "JWS"]
    jwe = [s for s in ALL_SUITES if s.family == "JWE"]
    # 3 HS, 3 RS, 3 PS, ES256/384/512, ES256K, EdDSA on 2 curves, RFC 9864's Ed25519, Ed448
    assert len(jws) == 17
    assert SUITES_BY_NAME["JWS Ed25519"].key == SUITES_BY_NAME["JWS EdDSA (Ed25519)"].key
    # (dir, 6 AES KW, 3 RSA, 4 ECDH-ES × 5 curves, 3 PBES2) × 6 content encryptions
    assert len(jwe) == (1 + 6 + 3 + 20 + 3) * 6
    assert len(SUITES_BY_NAME) == len(ALL_SUITES)
    assert len({s.tag for s in ALL_SUITES}) == len(ALL_SUITES)


def test_names_follow_the_design_vocabulary() -> None:
    assert "JWS HS256" in SUITES_BY_NAME
    assert "JWE RSA-OAEP-256 + A256GCM" in SUITES_BY_NAME
    suite = SUITES_BY_NAME["JWE ECDH-ES+A256KW (X25519) + A128CBC-HS256"]
    assert suite.tag == "ECDH-ES+A256KW(X25519)+A128CBC-HS256"
    assert suite.key.id == "OKP-X25519"


def test_suites_know_their_keys() -> None:
    assert SUITES_BY_NAME["JWE dir + A256CBC-HS512"].key.id == "oct-512"
    assert SUITES_BY_NAME["JWE A192GCMKW + A128GCM"].key.id == "oct-192"
    assert SUITES_BY_NAME["JWS ES512"].key.id == "EC-P-521"
    assert SUITES_BY_NAME["JWS ES256K"].key.id == "EC-secp256k1"
    assert SUITES_BY_NAME["JWE PBES2-HS256+A128KW + A128GCM"].key.id == "oct-password"
    assert {spec.kty for spec in key_specs()} == {"oct", "RSA", "EC", "OKP"}


def test_select_by_glob_on_name_or_tag() -> None:
    assert [s.name for s in select_suites(["JWS ES*"])] == [
        "JWS ES256", "JWS ES384", "JWS ES512", "JWS ES256K"]
    assert [s.name for s in select_suites(["RSA-OAEP-256+A256GCM"])] == [
        "JWE RSA-OAEP-256 + A256GCM"]
    assert len(select_suites(None)) == len(ALL_SUITES)


def test_an_unknown_suite_pattern_is_named() -> None:
    with pytest.raises(KeyError, match="JWS XX512"):
        select_suites(["JWS HS256", "JWS XX512"])


def test_key_management_cases_take_every_alg_and_key_with_two_encs() -> None:
    from harness.interop.scenario import KEY_MANAGEMENT_ENCS, key_management_suites

    chosen = [choice[0] for choice in key_management_suites()(ALL_SUITES)]
    jwe = [s for s in ALL_SUITES if s.family == "JWE"]
    # Every key management and every key it takes is still there, ...
    assert {(s.alg, s.key) for s in chosen} == {(s.alg, s.key) for s in jwe}
    # ... with both content encryptions where the key fits them, and `dir`'s other key sizes
    # (192, 256, 384 bits) with the first enc each fits.
    assert all(s.enc in KEY_MANAGEMENT_ENCS for s in chosen if s.alg != "dir")
    assert sorted(s.enc for s in chosen if s.alg == "ECDH-ES+A128KW"
                  and s.curve == "X25519") == sorted(KEY_MANAGEMENT_ENCS)
    assert [s.enc for s in chosen if s.alg == "dir"] == [
        "A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512", "A128GCM", "A192GCM"]
    assert len(chosen) == (6 + 3 + 20 + 3) * 2 + 5
    # Selection order is kept, and no JWS suite slips in.
    assert chosen == [s for s in ALL_SUITES if s in chosen]


def test_key_management_cases_run_a_narrow_selection_as_given() -> None:
    from harness.interop.scenario import key_management_suites

    narrow = select_suites(["JWE A128KW + A192GCM", "JWE A128KW + A128GCM", "JWS HS256",
                            "JWE RSA-OAEP + A192CBC-HS384"])
    assert [c[0].name for c in key_management_suites()(narrow)] == [
        "JWE A128KW + A128GCM", "JWE RSA-OAEP + A192CBC-HS384"]
    assert key_management_suites()(select_suites(["JWS *"])) == []
