"""Every forged JWS attack token is what its case says: it differs from its defect-free twin,
the twin verifies in a real library (so the case tests its defect, not a broken forge), and
each class's defect is checked by decoding the token by hand."""

from __future__ import annotations

import base64
import importlib
import json
import pkgutil
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

import scenarios.attacks
from harness.adapters import load_adapter
from harness.core.errors import Rejected, Unsupported
from harness.core.suites import ALL_SUITES
from harness.forge import ecdsa
from harness.forge.encoding import unb64
from harness.forge.jws import hmac_signature
from harness.interop.scenario import Consumer, Context
from scenarios.attacks.jws_common import Catalogue, Forged, attacker_public, consumer_key
from tests import fakes

MODULES = ("alg_none", "empty_signature", "key_confusion", "embedded_key", "kid",
           "psychic_ecdsa", "crit", "unencoded_payload", "jws_json", "key_use", "structure")


def catalogues() -> list[tuple[str, Catalogue]]:
    found = []
    for info in pkgutil.iter_modules(scenarios.attacks.__path__):
        module = importlib.import_module(f"scenarios.attacks.{info.name}")
        found += [(info.name, c) for c in vars(module).values() if isinstance(c, Catalogue)]
    return found


def forged_instances() -> list[tuple[str, str, object, object]]:
    """(module, case name, suite, config) for every declared forge, suite and configuration."""
    items = []
    for module, catalogue in catalogues():
        namespace = vars(importlib.import_module(f"scenarios.attacks.{module}"))
        for name in catalogue.forges:
            declared = namespace[name].__case__
            for (suite,) in declared["suites"](ALL_SUITES):
                for config in declared["configs"]:
                    items.append((module, name, suite, config))
    return items


INSTANCES = forged_instances()


def context(keys, suite, config) -> Context:
    return Context(None, Consumer(fakes.AcceptAll(), "enabled", config), (suite,), "enabled",
                   keys, config)


def forge(keys, module: str, name: str, suite, config) -> tuple[Context, Forged]:
    ctx = context(keys, suite, config)
    catalogue = next(c for m, c in catalogues() if m == module and name in c.forges)
    return ctx, catalogue.forges[name](ctx)


def verifies_somewhere(ctx: Context, token: str, forged: Forged) -> list[str]:
    """Names of the real libraries that accept `token` with the consumer's key."""
    key = forged.clean_key or consumer_key(ctx, forged)
    suite = forged.suite or ctx.suite
    accepted = []
    for name in ("jwcrypto", "joserfc"):
        try:
            payload = load_adapter(name).verify(suite, token, key, mode="enabled",
                                                serialization=forged.serialization)
        except (Rejected, Unsupported):
            continue
        if payload == forged.payload:
            accepted.append(name)
    return accepted


def test_every_attack_module_declares_cases() -> None:
    assert {m for m, _ in catalogues()} >= set(MODULES)
    assert len(INSTANCES) > 300


@pytest.mark.parametrize(("module", "name", "suite", "config"), INSTANCES,
                         ids=[f"{m}.{n}-{s.tag}-{c.name}" for m, n, s, c in INSTANCES])
def test_forged_token_differs_from_a_twin_that_verifies(keys, module, name, suite,
                                                        config) -> None:
    try:
        ctx, forged = forge(keys, module, name, suite, config)
    except Unsupported:
        return  # the case declares this configuration meaningless (PKCS#1 for an EC key)
    assert isinstance(forged.token, str)
    if forged.clean is None:
        return
    # The defect is in the token, or (key-use and weak-key cases) in the consumer's key.
    assert forged.token != forged.clean or forged.key is not None
    if config.raw_key:
        # Key text handed over untouched may verify nowhere (that is recorded beside the row,
        # `genuine_verifies`): the twin is checked with the same key as a JWK instead.
        forged = replace(forged, clean_key=ctx.keys.public(ctx.suite.key))
    assert verifies_somewhere(ctx, forged.clean, forged), "the defect-free twin must verify"


def _parts(token: str) -> tuple[dict, bytes, bytes]:
    head, body, signature = token.split(".")
    return json.loads(unb64(head)), body.encode(), unb64(signature)


def _one(keys, module: str, name: str, suite_name: str, config_name: str = "default"):
    for m, n, suite, config in INSTANCES:
        if (m, n, suite.name, config.name) == (module, name, suite_name, config_name):
            return forge(keys, module, name, suite, config)
    raise LookupError((module, name, suite_name, config_name))


@pytest.mark.parametrize("slug,alg", [("lowercase", "none"), ("capitalised", "None"),
                                      ("uppercase", "NONE"), ("mixedcase", "nOnE")])
def test_alg_none_spellings(keys, slug, alg) -> None:
    _, empty = _one(keys, "alg_none", f"{slug}_empty_signature", "JWS RS256")
    header, _, signature = _parts(empty.token)
    assert header["alg"] == alg and signature == b"" and empty.token.endswith(".")
    _, garbage = _one(keys, "alg_none", f"{slug}_garbage_signature", "JWS RS256")
    assert _parts(garbage.token)[2] == b"garbage"
    _, missing = _one(keys, "alg_none", "missing_alg_genuine_signature", "JWS HS256")
    assert "alg" not in _parts(missing.token)[0]


@pytest.mark.parametrize("form", ["pem", "pkcs1", "openssh", "der", "jwk-json"])
def test_key_confusion_macs_with_the_public_key_as_held(keys, form) -> None:
    ctx, forged = _one(keys, "key_confusion", "hs256_with_public_key_as_secret", "JWS RS256",
                       f"broad-{form}")
    held = forged.key
    assert held == ctx.verification_key(ctx.suite.key)
    secret = held if isinstance(held, bytes) else held.encode()
    header, _, signature = _parts(forged.token)
    assert header["alg"] == "HS256"
    signing_input = forged.token.rsplit(".", 1)[0].encode()
    assert signature == hmac_signature("HS256", secret, signing_input)
    if form in ("pem", "pkcs1"):
        assert secret.startswith(b"-----BEGIN")
    if form == "jwk-json":
        assert json.loads(secret)["kty"] == "RSA" and "d" not in json.loads(secret)


def test_embedded_keys_are_the_attackers(keys) -> None:
    from cryptography import x509
    for name, member in (("jwk_header_with_attacker_key", "jwk"),
                         ("x5c_header_with_attacker_certificate", "x5c")):
        ctx, forged = _one(keys, "embedded_key", name, "JWS ES256", "jwk")
        header, _, _ = _parts(forged.token)
        attacker = attacker_public(ctx.suite.key)
        real = keys.public(ctx.suite.key)
        if member == "jwk":
            assert header["jwk"] == attacker and header["jwk"]["x"] != real["x"]
        else:
            cert = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
            numbers = cert.public_key().public_numbers()
            assert numbers.x == int.from_bytes(unb64(attacker["x"]), "big")
        # The token verifies with the attacker's key, so only trusting it would accept it.
        assert load_adapter("jwcrypto").verify(ctx.suite, forged.token, attacker,
                                               mode="enabled") == forged.payload


def test_kid_values_and_duplicate_jwks(keys) -> None:
    _, forged = _one(keys, "kid", "integer_kid_genuine_signature", "JWS HS256", "jwk")
    assert _parts(forged.token)[0]["kid"] == 1
    _, forged = _one(keys, "kid", "null_kid_genuine_signature", "JWS HS256", "jwk")
    assert _parts(forged.token)[0]["kid"] is None
    _, forged = _one(keys, "kid", "path_kid_with_empty_key", "JWS HS256", "jwk")
    assert forged.token.rsplit(".", 1)[1] and _parts(forged.token)[2] == hmac_signature(
        "HS256", b"", forged.token.rsplit(".", 1)[0].encode())
    ctx, forged = _one(keys, "kid", "duplicate_kid_attacker_first_attacker_signs", "JWS RS256",
                       "jwks")
    kids = [k["kid"] for k in forged.key["keys"]]
    assert kids[0] == kids[1] == _parts(forged.token)[0]["kid"]
    assert forged.key["keys"][1] == keys.public(ctx.suite.key)


@pytest.mark.parametrize("alg", ["ES256", "ES384", "ES512", "ES256K"])
def test_psychic_signatures_have_the_stated_r_and_s(keys, alg) -> None:
    suite = f"JWS {alg}"
    n, size = ecdsa.ORDERS[alg], ecdsa.OCTETS[alg]
    expectations = {"r_s_zero": (0, 0), "r_s_order": (n, n)}
    for name, (r, s) in expectations.items():
        _, forged = _one(keys, "psychic_ecdsa", name, suite, "jwk")
        signature = _parts(forged.token)[2]
        assert len(signature) == 2 * size and ecdsa.split(alg, signature) == (r, s)
    _, forged = _one(keys, "psychic_ecdsa", "s_order", suite, "jwk")
    assert ecdsa.split(alg, _parts(forged.token)[2])[1] == n
    _, forged = _one(keys, "psychic_ecdsa", "der_encoded", suite, "jwk")
    genuine = ecdsa.split(alg, _parts(forged.clean)[2])
    assert decode_dss_signature(_parts(forged.token)[2]) == genuine
    for name, length in (("leading_zero", 2 * size + 1), ("truncated", 2 * size - 1),
                         ("doubled_length", 4 * size)):
        _, forged = _one(keys, "psychic_ecdsa", name, suite, "jwk")
        assert len(_parts(forged.token)[2]) == length


def test_crit_headers(keys) -> None:
    _, forged = _one(keys, "crit", "unknown_extension", "JWS HS256")
    header = _parts(forged.token)[0]
    assert header["crit"] == ["urn:example:must-understand"]
    assert "urn:example:must-understand" in header
    _, forged = _one(keys, "crit", "name_absent_from_header", "JWS HS256")
    header = _parts(forged.token)[0]
    assert header["crit"] == ["urn:example:absent"] and "urn:example:absent" not in header
    _, forged = _one(keys, "crit", "empty_list", "JWS HS256")
    assert _parts(forged.token)[0]["crit"] == []


def test_unencoded_payload_is_signed_as_it_is(keys) -> None:
    ctx, forged = _one(keys, "unencoded_payload", "b64_false_with_crit", "JWS HS256")
    head, body, signature = forged.token.split(".")
    assert json.loads(unb64(head)) == {"alg": "HS256", "b64": False, "crit": ["b64"]}
    assert body.encode() == forged.payload
    secret = unb64(keys.private(ctx.suite.key)["k"])
    assert unb64(signature) == hmac_signature("HS256", secret, f"{head}.{body}".encode())


def test_jws_json_shapes(keys) -> None:
    _, forged = _one(keys, "jws_json", "empty_signatures", "JWS HS256")
    assert json.loads(forged.token)["signatures"] == []
    _, forged = _one(keys, "jws_json", "good_and_bad_signature_good_first", "JWS HS256")
    assert len(json.loads(forged.token)["signatures"]) == 2
    _, forged = _one(keys, "jws_json", "unprotected_alg_none_flattened", "JWS HS256")
    parsed = json.loads(forged.token)
    assert parsed["header"] == {"alg": "none"}
    assert json.loads(unb64(parsed["protected"])) == {"alg": "HS256"}
    _, forged = _one(keys, "jws_json", "duplicate_alg_in_protected_compact", "JWS HS256")
    assert unb64(forged.token.split(".")[0]) == b'{"alg":"HS256","alg":"none"}'
    for member in ("payload", "signature", "protected"):
        _, forged = _one(keys, "jws_json", f"duplicate_{member}_member", "JWS HS256")
        assert forged.token.count(f'"{member}":') == 2
        # A parser that keeps the last member sees the genuine token.
        assert json.loads(forged.token) == json.loads(forged.clean)


def test_weak_and_mislabelled_keys(keys) -> None:
    _, forged = _one(keys, "key_use", "use_enc", "JWS RS256", "jwk")
    assert forged.key["use"] == "enc" and "use" not in forged.clean_key
    _, forged = _one(keys, "key_use", "weak_hmac_16", "JWS HS256", "jwk")
    assert len(unb64(forged.key["k"])) == 16
    _, forged = _one(keys, "key_use", "weak_rsa_1024", "JWS RS256", "jwk")
    assert len(unb64(forged.key["n"])) * 8 == 1024


def test_base64url_defects_and_structure(keys) -> None:
    _, forged = _one(keys, "structure", "signature_padding", "JWS HS256")
    assert forged.token.endswith("=") and forged.token.rstrip("=") == forged.clean
    _, forged = _one(keys, "structure", "header_whitespace", "JWS HS256")
    assert " " in forged.token.split(".")[0]
    _, forged = _one(keys, "structure", "signature_trailing_bits", "JWS HS256")
    assert unb64(forged.token.split(".")[2]) == unb64(forged.clean.split(".")[2])
    _, forged = _one(keys, "structure", "header_trailing_bits", "JWS HS256")
    head, clean_head = forged.token.split(".")[0], forged.clean.split(".")[0]
    assert head != clean_head and len(head) % 4 in (2, 3)
    assert unb64(head) == unb64(clean_head)
    for name, count in (("one_segment", 1), ("extra_segment", 4), ("five_segments", 5)):
        _, forged = _one(keys, "structure", name, "JWS HS256")
        assert len(forged.token.split(".")) == count
    _, forged = _one(keys, "structure", "header_json_array", "JWS HS256")
    assert isinstance(json.loads(unb64(forged.token.split(".")[0])), list)
    _, forged = _one(keys, "structure", "huge_signature", "JWS HS256")
    assert len(forged.token) > 16 * 1024 * 1024
