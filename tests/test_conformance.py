"""Every interop row whose producer is a library carries the reference's `conformance` verdict
on the tokens it made: fake producers that build real tokens with the forge, one correct and
one that breaks a rule, show the field names the rule, and forged rows leave it empty."""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from harness.adapters.base import Allowed, KeyData, Mode, Serialization
from harness.core.errors import Rejected
from harness.core.keyforms import secret
from harness.core.results import ROW_FIELDS
from harness.core.suites import Suite, select_suites
from harness.forge import jwe, jws
from harness.forge.reference import CONFORMANT, ReferenceRefused, decrypt_jwe, verify_jws
from harness.interop.runner import World, execute, plan
from harness.interop.scenario import discover
from harness.interop.summary import render
from tests import fakes

SUITES = select_suites(["JWE A128KW + A128GCM", "JWE dir + A256GCM", "JWS HS256"])


class ForgeMade(fakes.FakeAdapter):
    """Signs and encrypts for real with the forge (the keys are symmetric, so the public key a
    producer gets is the secret); consumes with the strict reference."""

    name = "forge-made"
    wrap_deflate = False
    iv_octets = 12

    def _sign(self, suite: Suite, payload: bytes, key: KeyData, header: dict[str, Any],
              allowed: Allowed, serialization: Serialization) -> str:
        return jws.sign({"alg": suite.alg, **header}, payload, key)

    def _encrypt(self, suite: Suite, plaintext: bytes, key: KeyData, header: dict[str, Any],
                 allowed: Allowed, serialization: Serialization) -> str:
        protected = {"alg": suite.alg, "enc": suite.enc, **header}
        compressed = (jwe.deflate(plaintext, wrapped=True)
                      if self.wrap_deflate and header.get("zip") == "DEF" else None)
        iv = os.urandom(self.iv_octets if suite.enc.endswith("GCM") else 16)
        return jwe.encrypt(protected, plaintext, key, compressed=compressed,
                           iv=iv).serialize(serialization)

    def _verify(self, suite: Suite, token: str, key: KeyData, mode: Mode,
                serialization: Serialization) -> bytes:
        try:
            return verify_jws(token, key)
        except ReferenceRefused as refusal:
            raise Rejected(refusal.rule) from None

    def _decrypt(self, suite: Suite, token: str, key: KeyData, mode: Mode,
                 serialization: Serialization) -> bytes:
        try:
            return decrypt_jwe(token, key)
        except ReferenceRefused as refusal:
            raise Rejected(refusal.rule) from None


class ZlibDeflater(ForgeMade):
    name = "zlib-deflater"
    wrap_deflate = True


class LongGcmIv(ForgeMade):
    name = "long-gcm-iv"
    iv_octets = 16


def _rows(adapters: list[fakes.FakeAdapter], keys, scenarios: tuple[str, ...],
          forged: bool = False) -> pd.DataFrame:
    cases = [c for c in discover() if c.scenario in scenarios and c.forged == forged]
    world = World({a.name: a for a in adapters}, keys, {c.id: c for c in cases})
    rows: list[dict] = []
    execute(plan(cases, SUITES, ["enabled"]), world, 1, rows.extend)
    return pd.DataFrame(rows)


def test_a_correct_producer_is_conformant_and_a_zlib_deflater_is_named(keys) -> None:
    rows = _rows([ForgeMade(), ZlibDeflater()], keys, ("jwe.roundtrip", "jws.roundtrip"))
    assert "conformance" in ROW_FIELDS and rows.conformance.notna().all()
    correct = rows[rows.producer == "forge-made"]
    assert (correct.conformance == CONFORMANT).all()
    assert (correct.passed == True).all()  # noqa: E712 - the reference consumes them too
    deflated = rows[(rows.producer == "zlib-deflater")
                    & (rows.case == "jwe.roundtrip.compact_deflate")]
    assert len(deflated) == 2 * 2  # two JWE suites, two consumers
    assert deflated.conformance.str.contains("zlib-wrapped").all()
    assert deflated.conformance.str.contains("RFC 7516 §4.1.3").all()
    others = rows[(rows.producer == "zlib-deflater")
                  & (rows.case != "jwe.roundtrip.compact_deflate")]
    assert (others.conformance == CONFORMANT).all()
    summary = render(rows)
    assert "non-conformant 4" in summary and "zlib-deflater ×4: zip: DEF" in summary


def test_a_16_byte_gcm_iv_is_named_and_cbc_rows_are_not_blamed(keys) -> None:
    rows = _rows([LongGcmIv()], keys, ("jwe.roundtrip",))
    gcm = rows[rows.suite.str.endswith("GCM")]
    assert gcm.conformance.str.contains("an IV of 96 bits is REQUIRED").all()
    assert (rows[rows.suite.str.startswith("JWS")].conformance == CONFORMANT).all()


def test_judging_changes_no_other_field(keys) -> None:
    rows = _rows([ForgeMade()], keys, ("jwe.roundtrip",))
    assert set(rows.columns) - {"conformance"} <= set(ROW_FIELDS)
    assert rows.duration_ms.notna().all() and (rows.actual == "accepted").all()


def test_forged_and_unsupported_rows_have_no_conformance(keys) -> None:
    forged = _rows([fakes.RejectAll()], keys, ("attacks.alg_none",), forged=True)
    assert not forged.empty and forged.conformance.isna().all()
    nothing = _rows([fakes.SupportsNothing()], keys, ("jwe.roundtrip",))
    assert not nothing.empty and nothing.conformance.isna().all()


def test_the_key_for_a_jwe_is_the_recipients_private_key(keys) -> None:
    from harness.core.keys import public_jwk
    from harness.core.suites import SUITES_BY_NAME
    from harness.interop.conformance import recipient_private_key

    private = keys.private(SUITES_BY_NAME["JWE RSA-OAEP-256 + A256GCM"].key)
    assert recipient_private_key(keys, public_jwk(private)) is private
    assert secret(recipient_private_key(keys, keys.public(SUITES[0].key))) == secret(
        keys.private(SUITES[0].key))


def test_a_nested_row_names_the_first_broken_token(keys) -> None:
    from harness.core.suites import SUITES_BY_NAME
    from harness.interop.conformance import row_conformance
    from harness.interop.scenario import Produced

    hs = keys.private(SUITES_BY_NAME["JWS HS256"].key)
    kw = keys.private(SUITES_BY_NAME["JWE A128KW + A128GCM"].key)
    good_jws = jws.sign({"alg": "HS256"}, b"x", hs)
    bad_jwe = jwe.encrypt({"alg": "A128KW", "enc": "A128GCM", "zip": "DEF"}, b"x", kw,
                          compressed=jwe.deflate(b"x", wrapped=True)).compact()
    unknown = Produced("JWE", bad_jwe, {"kty": "oct", "k": kw["k"], "kid": "nobody"})
    assert row_conformance([Produced("JWS", good_jws, hs)], keys) == CONFORMANT
    assert "zlib" in row_conformance([Produced("JWS", good_jws, hs),
                                      Produced("JWE", bad_jwe, kw)], keys)
    assert row_conformance([Produced("JWS", good_jws, hs), unknown], keys).startswith(
        "not judged: the recipient's private key")
    assert "zlib" in row_conformance([unknown, Produced("JWE", bad_jwe, kw)], keys)
    assert row_conformance([], keys) is None


def test_a_zlib_deflating_producer_is_charged_through_the_reference(keys) -> None:
    from harness.core.blame import blame
    rows = _rows([ForgeMade(), ZlibDeflater()], keys, ("jwe.roundtrip",))
    blamed = blame(rows)
    failing = blamed[blamed["failed"]]
    # The only failing pairs: the zlib-wrapped DEF, refused by the strict consumer; there is
    # no third consumer to cross-check with, and the reference's verdict charges the producer.
    assert len(failing) and set(failing["producer"]) == {"zlib-deflater"}
    assert (failing["charged"] == "producer").all()
    assert (failing["basis"] == "conformance").all()
