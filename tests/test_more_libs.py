"""python-jose, Authlib and jwskate adapters: declared capabilities, checked against the real
libraries with one round trip per suite family, alone and against joserfc as the reference."""

from __future__ import annotations

import zlib
from typing import Any

import pytest

from harness.adapters import load_adapter
from harness.adapters.base import Adapter
from harness.core.errors import Rejected, Unsupported
from harness.core.keys import KeySet
from harness.core.suites import ALL_SUITES, SUITES_BY_NAME, Suite

NEW = ("python-jose", "authlib", "jwskate")
PAYLOAD = b'{"sub":"5ba552d67","scope":"openid profile"}'
ZIP = "zip"

# One suite per family; "zip" is `zip: DEF` on a dir suite every library implements.
FAMILIES = {
    "HMAC": "JWS HS256",
    "RSA": "JWS RS256",
    "RSA-PSS": "JWS PS256",
    "EC": "JWS ES256",
    "EdDSA": "JWS EdDSA (Ed25519)",
    "AES-KW": "JWE A128KW + A128GCM",
    "AES-GCMKW": "JWE A256GCMKW + A256GCM",
    "dir": "JWE dir + A128CBC-HS256",
    "RSA-OAEP": "JWE RSA-OAEP-256 + A256GCM",
    "ECDH-ES (EC)": "JWE ECDH-ES+A128KW (P-256) + A128GCM",
    "ECDH-ES (OKP)": "JWE ECDH-ES (X25519) + A256GCM",
    "PBES2": "JWE PBES2-HS256+A128KW + A128CBC-HS256",
    ZIP: "JWE dir + A256GCM",
}

# What each library implements, per family, read from its own registries and confirmed by the
# round trips below: a family missing here must be declared Unsupported, not fail.
IMPLEMENTS = {
    "python-jose": {"HMAC", "RSA", "EC", "AES-KW", "dir", "RSA-OAEP", ZIP},
    "authlib": set(FAMILIES) - {"PBES2"},
    "jwskate": set(FAMILIES) - {ZIP},
}


@pytest.fixture(scope="module")
def reference() -> Adapter:
    return load_adapter("joserfc")


def _produce(adapter: Adapter, suite: Suite, keys: KeySet, plaintext: bytes,
             header: dict[str, Any] | None = None, serialization: Any = "compact") -> str:
    if suite.family == "JWS":
        return adapter.sign(suite, plaintext, keys.private(suite.key), mode="enabled",
                            header=header, serialization=serialization)
    return adapter.encrypt(suite, plaintext, keys.public(suite.key), mode="enabled",
                           header=header, serialization=serialization)


def _consume(adapter: Adapter, suite: Suite, token: str, key: dict[str, Any],
             serialization: Any = "compact") -> bytes:
    operation = adapter.verify if suite.family == "JWS" else adapter.decrypt
    return operation(suite, token, key, mode="enabled", serialization=serialization)


def _consumer_key(suite: Suite, keys: KeySet) -> dict[str, Any]:
    return keys.public(suite.key) if suite.family == "JWS" else keys.private(suite.key)


def _exchange(producer: Adapter, consumer: Adapter, family: str, keys: KeySet) -> bytes:
    suite = SUITES_BY_NAME[FAMILIES[family]]
    plaintext, header = (PAYLOAD * 8, {"zip": "DEF"}) if family == ZIP else (PAYLOAD, None)
    token = _produce(producer, suite, keys, plaintext, header)
    return _consume(consumer, suite, token, _consumer_key(suite, keys))


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("name", NEW)
def test_each_family_round_trips_or_is_declared_unsupported(name: str, family: str,
                                                             keys: KeySet,
                                                             reference: Adapter) -> None:
    adapter = load_adapter(name)
    if family not in IMPLEMENTS[name]:
        with pytest.raises(Unsupported):
            _exchange(adapter, adapter, family, keys)
        return
    expected = PAYLOAD * 8 if family == ZIP else PAYLOAD
    assert _exchange(adapter, adapter, family, keys) == expected
    assert _exchange(adapter, reference, family, keys) == expected
    if family == ZIP and name == "python-jose":
        # It inflates only a zlib stream, not the raw DEFLATE of RFC 7516 §4.1.3 (RFC 1951).
        with pytest.raises(Rejected, match="decompress"):
            _exchange(reference, adapter, family, keys)
    else:
        assert _exchange(reference, adapter, family, keys) == expected


def test_jwskate_does_not_inflate_a_compressed_jwe(keys: KeySet, reference: Adapter) -> None:
    """It ignores `zip`: the plaintext comes back still deflated, with no error."""
    returned = _exchange(reference, load_adapter("jwskate"), ZIP, keys)
    assert returned != PAYLOAD * 8
    assert zlib.decompress(returned, -zlib.MAX_WBITS) == PAYLOAD * 8


def test_python_jose_deflates_with_a_zlib_header(keys: KeySet) -> None:
    """Its `zip: DEF` output is an RFC 1950 zlib stream, which jwcrypto (raw DEFLATE only)
    refuses; joserfc and Authlib sniff the zlib header and accept it."""
    jose, jwcrypto = load_adapter("python-jose"), load_adapter("jwcrypto")
    with pytest.raises(Rejected, match="decompressing"):
        _exchange(jose, jwcrypto, ZIP, keys)


@pytest.mark.parametrize("name", NEW)
def test_declarations_are_consistent(name: str) -> None:
    adapter = load_adapter(name)
    supported = [s for s in ALL_SUITES if adapter.supports(s)]
    assert supported, name
    assert all(adapter.supports(s) for s in ALL_SUITES if adapter.allows_by_default(s))
    assert adapter.version


def test_specific_declarations() -> None:
    jose, authlib, jwskate = (load_adapter(n) for n in NEW)
    es256k, rsa1_5 = SUITES_BY_NAME["JWS ES256K"], SUITES_BY_NAME["JWE RSA1_5 + A128GCM"]
    # jwskate registers secp256k1 signing as "ES256k", not RFC 8812's "ES256K": it implements
    # the suite under another name, which the matrix shows as failures, not as unsupported.
    assert jwskate.supports(es256k) and authlib.supports(es256k)
    assert jwskate._alg(es256k) == "ES256k"
    # Authlib marks RSA1_5 deprecated: implemented, refused unless enabled.
    assert authlib.supports(rsa1_5) and not authlib.allows_by_default(rsa1_5)
    assert not any(jose.supports(s) for s in ALL_SUITES if s.alg.startswith(("PS", "ECDH")))
    with pytest.raises(Unsupported, match="flattened"):
        jose.sign(SUITES_BY_NAME["JWS HS256"], PAYLOAD, {"kty": "oct", "k": "AA"},
                  mode="enabled", serialization="flattened")
    with pytest.raises(Unsupported, match="flattened"):
        authlib.decrypt(rsa1_5, "{}", {"kty": "oct", "k": "AA"}, mode="enabled",
                        serialization="flattened")
    with pytest.raises(Unsupported, match="decryption only"):
        jwskate.encrypt(rsa1_5, PAYLOAD, {"kty": "RSA"}, mode="enabled")


def test_authlib_default_refusal_comes_from_the_library(keys: KeySet) -> None:
    """The `default` declaration is Authlib's own: its JsonWebEncryption refuses RSA1_5."""
    from harness.adapters.authlib_adapter import JoseError, JsonWebEncryption, JsonWebKey

    suite = SUITES_BY_NAME["JWE RSA1_5 + A128GCM"]
    token = load_adapter("authlib").encrypt(suite, PAYLOAD, keys.public(suite.key),
                                            mode="enabled")
    private = JsonWebKey.import_key(keys.private(suite.key))
    with pytest.raises(JoseError, match="unsupported_algorithm"):
        JsonWebEncryption().deserialize_compact(token, private)
    assert JsonWebEncryption(algorithms=["RSA1_5", "A128GCM"]).deserialize_compact(
        token, private)["payload"] == PAYLOAD


@pytest.mark.parametrize(("name", "family", "serialization"), [
    ("authlib", "RSA", "flattened"), ("authlib", "EC", "general"),
    ("authlib", "RSA-OAEP", "general"), ("jwskate", "EdDSA", "flattened"),
    ("jwskate", "HMAC", "general"),
])
def test_json_serialization_against_joserfc(name: str, family: str, serialization: str,
                                            keys: KeySet, reference: Adapter) -> None:
    adapter, suite = load_adapter(name), SUITES_BY_NAME[FAMILIES[family]]
    for producer, consumer in ((adapter, reference), (reference, adapter)):
        token = _produce(producer, suite, keys, PAYLOAD, serialization=serialization)
        assert _consume(consumer, suite, token, _consumer_key(suite, keys),
                        serialization=serialization) == PAYLOAD


# Calls that take one key, not a key set: Authlib's JsonWebSignature/JsonWebEncryption (its
# KeySet goes to jwt.decode) and python-jose's jwe.decrypt.
TAKE_ONE_KEY = {("authlib", "JWS"), ("authlib", "JWE"), ("python-jose", "JWE")}


@pytest.mark.parametrize("family", ["RSA", "AES-KW", "RSA-OAEP"])
@pytest.mark.parametrize("name", NEW)
def test_a_jwks_is_searched_by_kid(name: str, family: str, keys: KeySet) -> None:
    """By the library's own key-set API; where its call takes one key, the form is declared."""
    adapter, suite = load_adapter(name), SUITES_BY_NAME[FAMILIES[family]]
    retired = {"kid": f"{suite.key.id}-retired"}
    if (name, suite.family) in TAKE_ONE_KEY:
        operation = adapter.verify if suite.family == "JWS" else adapter.decrypt
        with pytest.raises(Unsupported, match="set"):
            operation(suite, "a.b.c", keys.jwks(suite.key, private=suite.family == "JWE"),
                      mode="enabled")
        return
    if suite.family == "JWS":
        token = adapter.sign(suite, PAYLOAD, keys.private(suite.key, "retired"),
                             mode="enabled", header=retired)
        assert adapter.verify(suite, token, keys.jwks(suite.key, private=False),
                              mode="enabled") == PAYLOAD
    else:
        token = adapter.encrypt(suite, PAYLOAD, keys.public(suite.key, "retired"),
                                mode="enabled", header=retired)
        assert adapter.decrypt(suite, token, keys.jwks(suite.key, private=True),
                               mode="enabled") == PAYLOAD


def _tamper(token: str, segment: int) -> str:
    parts = token.split(".")
    text = parts[segment]
    parts[segment] = ("B" if text[0] != "B" else "C") + text[1:]
    return ".".join(parts)


@pytest.mark.parametrize("family", ["HMAC", "EC", "dir", "RSA-OAEP"])
@pytest.mark.parametrize("name", NEW)
def test_a_tampered_token_is_rejected_with_the_libraries_own_errors(
        name: str, family: str, keys: KeySet, reference: Adapter) -> None:
    """`rejection_errors` must cover what each library raises for a bad signature or tag."""
    adapter, suite = load_adapter(name), SUITES_BY_NAME[FAMILIES[family]]
    token = _produce(reference, suite, keys, PAYLOAD)
    bad = _tamper(token, 2 if suite.family == "JWS" else 4)
    with pytest.raises(Rejected):
        _consume(adapter, suite, bad, _consumer_key(suite, keys))


@pytest.mark.parametrize("serialization", ["flattened", "general"])
def test_jwskate_json_forms_declare_a_jwks_unsupported(serialization: str, keys: KeySet) -> None:
    # Its JSON forms' verify_signature takes one key: the harness picks none for it.
    adapter, suite = load_adapter("jwskate"), SUITES_BY_NAME["JWS ES256"]
    token = adapter.sign(suite, PAYLOAD, keys.private(suite.key, "retired"), mode="enabled",
                         header={"kid": f"{suite.key.id}-retired"}, serialization=serialization)
    with pytest.raises(Unsupported, match="one key, not a JwkSet"):
        adapter.verify(suite, token, keys.jwks(suite.key, private=False), mode="enabled",
                       serialization=serialization)
    assert adapter.verify(suite, token, keys.public(suite.key, "retired"), mode="enabled",
                          serialization=serialization) == PAYLOAD


def test_python_jose_imports_an_rsa_decryption_key_once(keys: KeySet,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Given the JWK dict, `jwe.decrypt` would import the private key again on every call
    (cryptography's key check, tens of ms): the adapter hands it the key python-jose's own
    `jwk.construct` made of the JWK, once, for every RSA key management."""
    from jose import jwk as jose_jwk

    adapter = load_adapter("python-jose")
    from_dicts: list[str] = []
    real_construct = jose_jwk.construct

    def counting(key_data: Any, algorithm: Any = None) -> Any:
        if isinstance(key_data, dict):
            from_dicts.append(str(algorithm))
        return real_construct(key_data, algorithm)

    monkeypatch.setattr(jose_jwk, "construct", counting)
    for alg in ("RSA-OAEP", "RSA-OAEP-256", "RSA1_5"):
        suite = SUITES_BY_NAME[f"JWE {alg} + A128GCM"]
        for run in range(3):
            token = adapter.encrypt(suite, b"once %d" % run, keys.public(suite.key),
                                    mode="enabled")
            assert adapter.decrypt(suite, token, keys.private(suite.key),
                                   mode="enabled") == b"once %d" % run
    # One import of the private key and one of the public key, whatever the alg and the count.
    assert len(from_dicts) == 2, from_dicts


def test_python_jose_refuses_a_key_wrap_token_offered_to_its_rsa_key(keys: KeySet) -> None:
    """The prepared RSA key is for tokens whose own `alg` is RSA key management: an A128KW
    token under the RSA suite is refused as it was with the JWK dict, not a TypeError."""
    from jose import jwe as jose_jwe

    adapter = load_adapter("python-jose")
    rsa = SUITES_BY_NAME["JWE RSA-OAEP + A128GCM"]
    wrapped = jose_jwe.encrypt(b"payload", b"0123456789abcdef", encryption="A128GCM",
                               algorithm="A128KW").decode()
    adapter.decrypt(rsa, adapter.encrypt(rsa, b"warm", keys.public(rsa.key), mode="enabled"),
                    keys.private(rsa.key), mode="enabled")  # the prepared key exists
    with pytest.raises(Rejected):
        adapter.decrypt(rsa, wrapped, keys.private(rsa.key), mode="enabled")
