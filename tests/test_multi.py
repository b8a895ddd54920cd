"""Several signatures and recipients (RFC 7515/7516 §7.2.1) and algorithm names against IANA:
the layout check charges a producer that writes the token otherwise, a consumer that reads
only the first recipient fails the second recipient's cell, the forge's tokens are read by the
strict reference with each key alone, and a library's non-IANA names are listed."""

from __future__ import annotations

import pandas as pd
import pytest

from harness.adapters import load_adapter
from harness.core.blame import blame
from harness.core.jose_registry import judge_name, library_name
from harness.core.suites import SUITES_BY_NAME, select_suites
from harness.forge import jwe, jws, reference
from harness.interop.algorithm_names import name_rows, summary_lines
from harness.interop.runner import World, execute, plan
from harness.interop.scenario import discover
from tests import fakes

SUITES = select_suites(["JWE RSA-OAEP-256 + A256GCM", "JWE ECDH-ES+A256KW (P-256) + A256GCM",
                        "JWS RS256", "JWS ES256"])
SCENARIOS = ("jwe.multi_recipient", "jws.multi_signature")


def _rows(adapters, keys) -> pd.DataFrame:
    cases = [c for c in discover() if c.scenario in SCENARIOS and not c.forged]
    world = World({a.name: a for a in adapters}, keys, {c.id: c for c in cases})
    rows: list[dict] = []
    execute(plan(cases, SUITES, ["enabled"]), world, 1, rows.extend)
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def rows(keys) -> pd.DataFrame:
    return _rows([fakes.PicksByKid(), fakes.EncPerRecipient(), fakes.SharedKid(),
                  fakes.FirstRecipientOnly()], keys)


def test_a_producer_that_lays_out_recipients_wrongly_is_charged_and_its_twin_passes(rows):
    twin = rows[(rows.producer == "picks-by-kid") & (rows.consumer == "picks-by-kid")]
    assert len(twin) > 0 and (twin.passed == True).all()  # noqa: E712
    enc = rows[(rows.producer == "enc-per-recipient") & rows.case.str.startswith("jwe.")]
    assert len(enc) > 0 and (enc.passed == False).all()  # noqa: E712
    assert enc.detail.str.contains("enc is in a per-recipient header").all()
    shared = rows[(rows.producer == "shared-kid") & rows.case.str.contains("two_")]
    assert len(shared) > 0 and (shared.passed == False).all()  # noqa: E712
    assert shared.conformance.str.contains("share kid 'the-first-kid'").all()
    # Its JWS signatures are laid out right: only the shared kid is its fault there.
    blamed = blame(rows)
    wrong = blamed[blamed.producer.isin(["enc-per-recipient", "shared-kid"]) & blamed.failed]
    assert (wrong.charged == "producer").all() and len(wrong) > 0


def test_a_consumer_that_reads_only_the_first_recipient_fails_the_second_cell(rows):
    mine = rows[(rows.producer == "picks-by-kid") & (rows.consumer == "first-recipient-only")
                & (rows.config == "default")]
    by_case = dict(zip(mine.case.str.rsplit(".", n=1).str[-1], mine.passed, strict=True))
    assert by_case["two_recipients_first"] is True and by_case["two_signatures_first"] is True
    assert by_case["two_recipients_second"] is False
    assert by_case["two_signatures_second"] is False
    detail = mine[mine.case.str.endswith("two_recipients_second")].detail.iloc[0]
    assert "no recipient or signature for kid" in detail


def test_the_forge_writes_tokens_the_reference_reads_with_each_key_alone(keys):
    rsa, ec = (SUITES_BY_NAME["JWE RSA-OAEP-256 + A256GCM"].key,
               SUITES_BY_NAME["JWE ECDH-ES+A256KW (P-256) + A256GCM"].key)
    signers = [SUITES_BY_NAME["JWS RS256"], SUITES_BY_NAME["JWS ES256"]]
    token = jwe.encrypt_to([({"alg": "RSA-OAEP-256", "kid": keys.private(rsa)["kid"]},
                             keys.public(rsa)),
                            ({"alg": "ECDH-ES+A256KW", "kid": keys.private(ec)["kid"]},
                             keys.public(ec))], b"to both", {"enc": "A256GCM"}).general()
    for spec in (rsa, ec):
        assert reference.decrypt_jwe(token, keys.private(spec)) == b"to both"
        assert reference.conformance(token, keys.private(spec)) == reference.CONFORMANT
    signed = jws.sign_general([({"alg": s.alg, "kid": keys.private(s.key)["kid"]},
                                keys.private(s.key)) for s in signers], b"signed twice")
    for suite in signers:
        public = {k: v for k, v in keys.private(suite.key).items() if k != "d"}
        assert reference.verify_jws(signed, public) == b"signed twice"
    with pytest.raises(reference.ReferenceRefused):
        reference.verify_jws(signed, keys.public(signers[0].key, "retired"))


def test_names_outside_iana_are_listed_with_the_registered_name_they_stand_for():
    frame = name_rows([fakes.NonIanaNames(), fakes.PicksByKid()])
    departing = frame[frame.departs]
    assert set(departing.name) == {"ES256k", "XS999"}
    assert departing.set_index("name").loc["ES256k", "registered_as"] == "ES256K"
    text = "\n".join(summary_lines(frame))
    assert "non-iana-names: 2 of 4 names depart" in text
    assert "picks-by-kid: all 4 names registered" in text
    assert judge_name("ES521", "JWS alg").verdict == "alias"
    assert judge_name("EdDSA", "JWS alg").verdict == "registered"
    assert judge_name("ML-DSA-44", "JWS alg").verdict == "draft"
    assert library_name("ES256K", {"ES256k", "ES256"}) == "ES256k"


def test_real_libraries_write_several_recipients_and_signatures_the_reference_accepts(keys):
    adapters = [load_adapter("joserfc"), load_adapter("jwcrypto")]
    wanted = {"two_recipients_first", "two_recipients_second", "two_signatures_second"}
    cases = [c for c in discover() if c.scenario in SCENARIOS and c.name in wanted]
    world = World({a.name: a for a in adapters}, keys, {c.id: c for c in cases})
    rows: list[dict] = []
    units = [u for u in plan(cases, SUITES, ["enabled"]) if u.config.name == "default"]
    execute(units, world, 1, rows.extend)
    frame = pd.DataFrame(rows)
    assert len(frame) == len(wanted) * 4
    # Both write the layout asked for, and the strict reference reads it with each key alone.
    assert (frame.conformance == "conformant").all()
    assert frame[frame.consumer == "jwcrypto"].passed.all()
