"""The JWE forge makes what it says: its pieces checked against RFC 7518's own test vectors and
`cryptography`, and a forged token for every JWE suite decrypting in real libraries."""

from __future__ import annotations

import json
import zlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from harness.adapters import load_adapter
from harness.core.keyforms import private_key, secret
from harness.core.suites import ALL_SUITES
from harness.forge import jwe
from harness.forge.encoding import b64url, unb64

JWE_SUITES = [s for s in ALL_SUITES if s.family == "JWE"]
CONSUMERS = [load_adapter("joserfc"), load_adapter("jwcrypto")]


@pytest.mark.parametrize("suite", JWE_SUITES, ids=lambda s: s.tag)
def test_a_forged_token_decrypts_in_joserfc_and_jwcrypto(suite, keys) -> None:
    jwk = keys.private(suite.key)
    token = jwe.encrypt({"alg": suite.alg, "enc": suite.enc}, b"exact plaintext", jwk)
    for consumer in CONSUMERS:
        for serialization in ("compact", "general"):
            text = token.serialize(serialization)
            assert consumer.decrypt(suite, text, jwk, mode="enabled",
                                    serialization=serialization) == b"exact plaintext"


def test_compact_parts_and_aad(keys) -> None:
    suite = next(s for s in JWE_SUITES if s.alg == "dir" and s.enc == "A256GCM")
    jwk = keys.private(suite.key)
    raw = b'{"alg": "dir", "enc": "A256GCM"}'
    token = jwe.encrypt({"alg": "dir", "enc": "A256GCM"}, b"hi", jwk, protected=raw)
    head, key, iv, ciphertext, tag = token.compact().split(".")
    assert unb64(head) == raw and key == "" and len(unb64(iv)) == 12 and len(unb64(tag)) == 16
    # The AAD is the header's base64url as sent, so AES-GCM opens it with exactly that.
    opened = AESGCM(secret(jwk)).decrypt(unb64(iv), unb64(ciphertext) + unb64(tag),
                                         head.encode("ascii"))
    assert opened == b"hi"


def test_cbc_tag_is_half_the_hmac_and_iv_is_a_block(keys) -> None:
    suite = next(s for s in JWE_SUITES if s.alg == "A256KW" and s.enc == "A256CBC-HS512")
    token = jwe.encrypt({"alg": suite.alg, "enc": suite.enc}, b"x" * 20, keys.private(suite.key))
    assert len(token.iv) == 16 and len(token.tag) == 32 and len(token.ciphertext) == 32
    assert len(token.recipients[0].encrypted_key) == 64 + 8


def test_json_members_follow_rfc7516_section_7_2() -> None:
    token = jwe.JWE(b'{"enc":"A128GCM"}', [jwe.Recipient(b"", {"alg": "dir"})], b"i" * 12,
                    b"c", b"t" * 16, unprotected={"kid": "k"}, aad=b"extra")
    flat = json.loads(token.flattened())
    assert "encrypted_key" not in flat and flat["header"] == {"alg": "dir"}
    assert flat["unprotected"] == {"kid": "k"} and unb64(flat["aad"]) == b"extra"
    general = json.loads(token.general())
    assert general["recipients"] == [{"header": {"alg": "dir"}}] and "header" not in general
    assert jwe.aad_for(token.protected, token.aad) == (
        b64url(token.protected) + "." + b64url(b"extra")).encode()
    with pytest.raises(ValueError):
        token.compact()


def test_concat_kdf_matches_rfc7518_appendix_c() -> None:
    z = bytes([158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156,
               251, 49, 110, 163, 218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196])
    key = jwe.concat_kdf(z, "A128GCM", 128, b"Alice", b"Bob")
    assert b64url(key) == "VqqN6vgjbSBcIijNcacQGg"


@pytest.mark.parametrize("crv", ["P-256", "P-521"])
def test_unchecked_point_arithmetic_agrees_with_cryptography_on_the_curve(crv, keys) -> None:
    jwk = next(keys.private(s.key) for s in JWE_SUITES if s.key.param == crv)
    scalar = private_key(jwk).private_numbers().private_value
    peer = jwe.ephemeral_key(crv)
    numbers = peer.public_key().public_numbers()
    product = jwe.ec_multiply(scalar, (numbers.x, numbers.y), crv)
    expected = private_key(jwk).exchange(ec.ECDH(), peer.public_key())
    assert product is not None and product[0].to_bytes(len(expected), "big") == expected


def test_pbes2_writes_unusable_counts_as_given(keys) -> None:
    suite = next(s for s in JWE_SUITES if s.alg.startswith("PBES2"))
    for p2c in (10**8, 0, -5, 1000.5, "2048"):
        token = jwe.encrypt({"alg": suite.alg, "enc": suite.enc}, b"x", keys.private(suite.key),
                            p2c=p2c, p2s=b"")
        header = json.loads(token.protected)
        assert header["p2c"] == p2c and header["p2s"] == ""


@pytest.mark.parametrize("wrapped", [False, True])
def test_bombs_inflate_to_exactly_their_size(wrapped) -> None:
    size = 5 * jwe.BOMB_BLOCK
    bomb = jwe.deflate_bomb(size, wrapped)
    inflater = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
    assert inflater.decompress(bomb) == bytes(size) and inflater.eof  # checksum included
    assert bomb.startswith(b"\x78\x9c") == wrapped
    assert len(jwe.deflate_bomb(1024 * jwe.BOMB_BLOCK)) < 1100 * 1024


@pytest.mark.parametrize("name", ["JWE ECDH-ES (P-256) + A256GCM",
                                  "JWE ECDH-ES+A128KW (X25519) + A128GCM"])
def test_a_shared_secret_with_a_leading_zero_keeps_it_and_decrypts(name, keys) -> None:
    """The leading-zero case's token: Z starts with 0x00 and is the field's full size, and a
    library that keeps the zero (joserfc, cryptography's ECDH) decrypts it."""
    from harness.core.suites import SUITES_BY_NAME
    from scenarios.jwe.unusual import leading_zero_epk

    suite = SUITES_BY_NAME[name]
    epk, z = leading_zero_epk(keys.public(suite.key))
    assert z[0] == 0 and len(z) == 32
    token = jwe.encrypt({"alg": suite.alg, "enc": suite.enc}, b"zero", keys.private(suite.key),
                        epk=epk, z=z).compact()
    assert json.loads(unb64(token.split(".")[0]))["epk"] == epk
    assert load_adapter("joserfc").decrypt(suite, token, keys.private(suite.key),
                                           mode="default") == b"zero"


@pytest.mark.parametrize("name, size", [("JWE ECDH-ES (P-256) + A256GCM", 32),
                                        ("JWE ECDH-ES (P-521) + A256GCM", 66)])
def test_a_short_coordinate_is_one_octet_short_of_the_same_point(name, size, keys) -> None:
    """The short-coordinate case's `epk`: `x` lacks its leading zero, so read as an integer it
    is still the point, and a lenient library (joserfc) decrypts the token."""
    from harness.core.suites import SUITES_BY_NAME
    from scenarios.jwe.unusual import short_coordinate_epk

    suite = SUITES_BY_NAME[name]
    epk, z = short_coordinate_epk(keys.public(suite.key))
    assert len(unb64(epk["x"])) == size - 1 and len(unb64(epk["y"])) == size
    token = jwe.encrypt({"alg": suite.alg, "enc": suite.enc}, b"short", keys.private(suite.key),
                        epk=epk, z=z).compact()
    assert load_adapter("joserfc").decrypt(suite, token, keys.private(suite.key),
                                           mode="default") == b"short"
