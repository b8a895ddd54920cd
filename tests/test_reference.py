"""The strict reference on tokens the forge builds: each rule refused with its RFC section, and
each refused token's correct twin accepted, so a refusal is the defect and not the setup."""

from __future__ import annotations

import gzip
import json
import os

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from harness.core.keys import KeySet, public_jwk
from harness.core.suites import SUITES_BY_NAME, KeySpec
from harness.forge import ecdsa, jwe, jws
from harness.forge.encoding import b64url, segment, unb64
from harness.forge.reference import (
    CONFORMANT,
    MAX_P2C,
    ReferenceRefused,
    conformance,
    decrypt_jwe,
    verify_jws,
)

PLAINTEXT = b'{"sub":"alice","n":42}' * 4


def _refused(call, *args) -> str:
    with pytest.raises(ReferenceRefused) as refused:
        call(*args)
    return refused.value.rule


def _key(keys: KeySet, name: str) -> dict:
    return keys.private(SUITES_BY_NAME[name].key)


# -- the four the issue names, each with its twin -----------------------------------------------

def test_zlib_wrapped_def_is_refused_and_raw_deflate_accepted(keys: KeySet) -> None:
    jwk = _key(keys, "JWE A128KW + A128GCM")
    header = {"alg": "A128KW", "enc": "A128GCM", "zip": "DEF"}
    wrapped = jwe.encrypt(header, PLAINTEXT, jwk,
                          compressed=jwe.deflate(PLAINTEXT, wrapped=True)).compact()
    rule = _refused(decrypt_jwe, wrapped, jwk)
    assert "zlib-wrapped" in rule and "RFC 7516 §4.1.3" in rule and "RFC 1951" in rule
    assert conformance(wrapped, jwk) == rule
    raw = jwe.encrypt(header, PLAINTEXT, jwk).compact()
    assert decrypt_jwe(raw, jwk) == PLAINTEXT
    assert conformance(raw, jwk) == CONFORMANT


def test_gzip_wrapped_def_is_named_as_gzip(keys: KeySet) -> None:
    jwk = _key(keys, "JWE A128KW + A128GCM")
    token = jwe.encrypt({"alg": "A128KW", "enc": "A128GCM", "zip": "DEF"}, PLAINTEXT, jwk,
                        compressed=gzip.compress(PLAINTEXT)).compact()
    assert "gzip-wrapped" in _refused(decrypt_jwe, token, jwk)


def test_a_16_byte_gcm_iv_is_refused_and_12_bytes_accepted(keys: KeySet) -> None:
    jwk = _key(keys, "JWE dir + A256GCM")
    header = {"alg": "dir", "enc": "A256GCM"}
    long_iv = jwe.encrypt(header, PLAINTEXT, jwk, iv=os.urandom(16)).compact()
    rule = _refused(decrypt_jwe, long_iv, jwk)
    assert "128 bits" in rule and "96 bits is REQUIRED" in rule and "RFC 7518 §5.3" in rule
    twin = jwe.encrypt(header, PLAINTEXT, jwk, iv=os.urandom(12)).compact()
    assert decrypt_jwe(twin, jwk) == PLAINTEXT


def test_an_unregistered_alg_name_is_refused_and_the_registered_one_accepted(
        keys: KeySet) -> None:
    jwk = keys.private(KeySpec("EC", "secp256k1"))
    lower_k = jws.sign({"alg": "ES256k"}, PLAINTEXT, jwk, alg="ES256K")
    rule = _refused(verify_jws, lower_k, public_jwk(jwk))
    assert rule.startswith("alg 'ES256k' is not a registered JWS algorithm name")
    twin = jws.sign({"alg": "ES256K"}, PLAINTEXT, jwk)
    assert verify_jws(twin, public_jwk(jwk)) == PLAINTEXT
    assert conformance(twin, public_jwk(jwk)) == CONFORMANT


def test_alg_repeated_in_a_recipient_header_is_refused_and_alg_in_one_place_accepted(
        keys: KeySet) -> None:
    jwk = _key(keys, "JWE A256KW + A256GCM")
    repeated = jwe.encrypt({"alg": "A256KW", "enc": "A256GCM"}, PLAINTEXT, jwk,
                           recipient_header={"alg": "A256KW"}).general()
    rule = _refused(decrypt_jwe, repeated, jwk)
    assert "'alg'" in rule and "per-recipient header" in rule and "RFC 7516 §7.2.1" in rule
    twin = jwe.encrypt({"enc": "A256GCM"}, PLAINTEXT, jwk,
                       recipient_header={"alg": "A256KW"}).general()
    assert decrypt_jwe(twin, jwk) == PLAINTEXT
    assert decrypt_jwe(json.loads(twin), jwk) == PLAINTEXT


# -- more of the rules --------------------------------------------------------------------------

def test_aad_is_the_received_protected_text(keys: KeySet) -> None:
    """Sealed over one encoding of the header, sent with another encoding of the same JSON."""
    jwk = _key(keys, "JWE dir + A128GCM")
    header = {"alg": "dir", "enc": "A128GCM"}
    token = jwe.encrypt(header, PLAINTEXT, jwk, protected=b'{"alg":"dir","enc":"A128GCM"}')
    parts = token.compact().split(".")
    parts[0] = segment(b'{"enc":"A128GCM","alg":"dir"}')
    assert "tag does not verify" in _refused(decrypt_jwe, ".".join(parts), jwk)
    spaced = jwe.encrypt(header, PLAINTEXT, jwk, protected=b'{ "alg": "dir", "enc": "A128GCM" }')
    assert decrypt_jwe(spaced.compact(), jwk) == PLAINTEXT


def test_zip_outside_the_protected_header_is_refused(keys: KeySet) -> None:
    jwk = _key(keys, "JWE A128KW + A128GCM")
    token = jwe.encrypt({"alg": "A128KW", "enc": "A128GCM"}, PLAINTEXT, jwk,
                        unprotected={"zip": "DEF"}).flattened()
    assert "RFC 7516 §4.1.3" in _refused(decrypt_jwe, token, jwk)


def test_short_pbes2_salt_and_huge_count(keys: KeySet) -> None:
    jwk = _key(keys, "JWE PBES2-HS256+A128KW + A128GCM")
    header = {"alg": "PBES2-HS256+A128KW", "enc": "A128GCM"}
    short = jwe.encrypt(header, PLAINTEXT, jwk, p2s=b"1234567").compact()
    assert "RFC 7518 §4.8.1.1" in _refused(decrypt_jwe, short, jwk)
    assert decrypt_jwe(jwe.encrypt(header, PLAINTEXT, jwk, p2s=b"12345678").compact(),
                       jwk) == PLAINTEXT
    huge = jwe.encrypt(header, PLAINTEXT, jwk, p2c=MAX_P2C + 1).compact()
    assert conformance(huge, jwk).startswith("not judged: p2c")


def test_gcmkw_needs_iv_and_tag_of_the_right_length(keys: KeySet) -> None:
    jwk = _key(keys, "JWE A128GCMKW + A128GCM")
    token = jwe.encrypt({"alg": "A128GCMKW", "enc": "A128GCM"}, PLAINTEXT, jwk,
                        gcmkw_iv=os.urandom(16)).compact()
    assert "RFC 7518 §4.7.1.1" in _refused(decrypt_jwe, token, jwk)


def test_ecdh_epk_on_another_curve_is_refused(keys: KeySet) -> None:
    jwk = _key(keys, "JWE ECDH-ES (P-256) + A128GCM")
    other = jwe.ephemeral_key("P-384")
    token = jwe.encrypt({"alg": "ECDH-ES", "enc": "A128GCM"}, PLAINTEXT, jwk,
                        epk=jwe.public_jwk_of(other.public_key()), z=b"\0" * 32).compact()
    assert "curve P-256" in _refused(decrypt_jwe, token, jwk)


def test_rsa1_5_refusals_do_not_tell_padding_from_tag(keys: KeySet) -> None:
    jwk = _key(keys, "JWE RSA1_5 + A128GCM")
    header = {"alg": "RSA1_5", "enc": "A128GCM"}
    good = jwe.encrypt(header, PLAINTEXT, jwk)
    assert decrypt_jwe(good.compact(), jwk) == PLAINTEXT
    bad_padding = jwe.JWE(good.protected, [jwe.Recipient(b"\x01" * 256)], good.iv,
                          good.ciphertext, good.tag)
    bad_tag = jwe.JWE(good.protected, good.recipients, good.iv, good.ciphertext, b"\0" * 16)
    assert _refused(decrypt_jwe, bad_padding.compact(), jwk) == \
        _refused(decrypt_jwe, bad_tag.compact(), jwk)


def test_ecdsa_signature_must_be_r_and_s_of_the_curve_size(keys: KeySet) -> None:
    jwk = _key(keys, "JWS ES256")
    token = jws.sign({"alg": "ES256"}, PLAINTEXT, jwk)
    head, body, signature = token.split(".")
    der = ecdsa.der("ES256", unb64(signature))
    rule = _refused(verify_jws, f"{head}.{body}.{b64url(der)}", public_jwk(jwk))
    assert "R || S of 64" in rule and "RFC 7518 §3.4" in rule
    assert verify_jws(token, public_jwk(jwk)) == PLAINTEXT


def test_short_hmac_key_and_padding_and_crit(keys: KeySet) -> None:
    short = {"kty": "oct", "k": b64url(b"k" * 31)}
    assert "RFC 7518 §3.2" in _refused(verify_jws, jws.sign({"alg": "HS256"}, b"x", short), short)
    jwk = _key(keys, "JWS HS256")
    padded = jws.sign({"alg": "HS256"}, b"xy", jwk) + "="
    assert "RFC 7515 §2" in _refused(verify_jws, padded, jwk)
    for crit, words in (([], "empty list"), (["alg"], "MUST NOT list"),
                        (["exp"], "not in the header"), (["x-ext"], "does not understand")):
        header = {"alg": "HS256", "crit": crit, "x-ext": 1}
        assert words in _refused(verify_jws, jws.sign(header, b"x", jwk), jwk)


def test_unencoded_payload_and_detached_content(keys: KeySet) -> None:
    jwk = _key(keys, "JWS HS256")
    header = {"alg": "HS256", "b64": False, "crit": ["b64"]}
    data = jws.signing_input(header, b"")[:-1] + b".$.02"
    signature = b64url(jws.raw_signature("HS256", jwk, data))
    protected = data.split(b".")[0].decode()
    flat = {"protected": protected, "payload": "$.02", "signature": signature}
    assert verify_jws(flat, jwk) == b"$.02"
    assert verify_jws(f"{protected}..{signature}", jwk, payload=b"$.02") == b"$.02"
    no_crit = {"alg": "HS256", "b64": False}
    data = segment(no_crit).encode() + b".$.02"
    token = {"protected": segment(no_crit), "payload": "$.02",
             "signature": b64url(jws.raw_signature("HS256", jwk, data))}
    assert "RFC 7797 §6" in _refused(verify_jws, token, jwk)


def test_a_recipient_is_chosen_by_kid(keys: KeySet) -> None:
    first = _key(keys, "JWE A256KW + A256GCM")
    second = keys.private(SUITES_BY_NAME["JWE A256KW + A256GCM"].key, "retired")
    token = jwe.encrypt({"enc": "A256GCM"}, PLAINTEXT, first,
                        recipient_header={"alg": "A256KW", "kid": first["kid"]})
    members = token.general_members()
    cek_holder = jwe.manage_key("A256KW", "A256GCM", second, cek=b"\0" * 32)
    members["recipients"].insert(0, {"header": {"alg": "A256KW", "kid": second["kid"]},
                                     "encrypted_key": b64url(cek_holder.encrypted_key)})
    assert decrypt_jwe(members, first) == PLAINTEXT


@pytest.mark.parametrize("enc", ["A192CBC-HS384", "A256CBC-HS512"])
def test_direct_ecdh_with_a_kdf_wrong_past_its_first_round_is_charged_to_rfc_7518_4_6_2(
        keys: KeySet, enc: str) -> None:
    """Rhonabwy 1.1.11's tokens: the MAC half of the content key right (the tag verifies), the
    AES half not (the padding fails)."""
    import dataclasses

    jwk = _key(keys, f"JWE ECDH-ES (P-256) + {enc}")
    ephemeral = jwe.ephemeral_key("P-256")
    z = jwe.shared_secret(ephemeral, jwk)
    header = {"alg": "ECDH-ES", "enc": enc}
    genuine = jwe.encrypt(header, PLAINTEXT, jwk, epk=jwe.public_jwk_of(ephemeral.public_key()),
                          z=z)
    right = jwe.concat_kdf(z, enc, jwe.cek_bytes(enc) * 8)
    half = len(right) // 2
    for _ in range(100):
        wrong = right[:half] + os.urandom(half)
        ciphertext, tag = jwe.seal(enc, wrong, genuine.iv, PLAINTEXT,
                                   jwe.aad_for(genuine.protected))
        # About one wrong AES key in 256 decrypts, under the right one, to bytes that end in a
        # valid PKCS #7 padding; the garbage is then a plaintext and the reference rightly
        # accepts it (a flaky failure once in CI's runs), so such a key is drawn again.
        garbage = Cipher(algorithms.AES(right[half:]), modes.CBC(genuine.iv)).decryptor()
        tail = garbage.update(ciphertext) + garbage.finalize()
        if not 1 <= tail[-1] <= 16 or tail[-tail[-1]:] != bytes([tail[-1]]) * tail[-1]:
            break
    else:
        pytest.fail("100 wrong AES keys in a row decrypted to a valid PKCS #7 padding")
    token = dataclasses.replace(genuine, ciphertext=ciphertext, tag=tag).compact()
    rule = _refused(decrypt_jwe, token, jwk)
    assert "RFC 7518 §4.6.2" in rule and "keydatalen" in rule and "wrong after it" in rule
    assert decrypt_jwe(genuine.compact(), jwk) == PLAINTEXT
