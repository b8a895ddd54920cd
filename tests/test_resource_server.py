"""The resource-server scenario (RFC 9068 §4) catches a consumer that skips one check: a fake
resource server built on the strict reference, and its twin that never looks at `typ`."""

from __future__ import annotations

import json
import time
from typing import Any

import pandas as pd

from harness.adapters import load_adapter
from harness.adapters.base import AT_JWT, AccessTokenCheck
from harness.core.errors import Rejected
from harness.core.suites import select_suites
from harness.forge.encoding import unb64
from harness.forge.reference import ReferenceRefused, decrypt_jwe, verify_jws
from harness.interop.runner import World, execute, plan
from harness.interop.scenario import discover
from tests.fakes import FakeAdapter

SUITES = select_suites(["JWS RS256", "JWE RSA-OAEP-256 + A256GCM"])


class ReferenceResourceServer(FakeAdapter):
    """Decrypts and verifies with the strict reference, then checks what RFC 9068 §4 lists."""

    name = "reference-rs"
    checks_typ = True

    def _validate_access_token(self, token: str, check: AccessTokenCheck) -> dict[str, Any]:
        try:
            if check.encryption is not None:
                token = decrypt_jwe(token, check.decryption_key).decode()  # type: ignore[arg-type]
            header = json.loads(unb64(token.split(".")[0]))
            claims = json.loads(verify_jws(token, check.verification_key))  # type: ignore[arg-type]
        except ReferenceRefused as error:
            raise Rejected(str(error)) from error
        if header.get("alg") != check.signing.alg:
            raise Rejected("alg is not the registered one")
        if self.checks_typ and str(header.get("typ", "")).lower() not in AT_JWT:
            raise Rejected("typ is not at+jwt")
        aud = claims.get("aud")
        if claims.get("iss") != check.issuer or check.audience not in (
                aud if isinstance(aud, list) else [aud]):
            raise Rejected("iss or aud")
        if claims.get("exp", 0) <= time.time():
            raise Rejected("expired")
        return claims


class SkipsTyp(ReferenceResourceServer):
    name = "skips-typ"
    checks_typ = False


def test_the_consumer_that_skips_typ_is_caught_and_its_twin_passes(keys) -> None:
    cases = [c for c in discover() if c.scenario == "nested.resource_server"]
    assert {c.name for c in cases} >= {"good", "expired", "other_audience", "other_issuer",
                                       "typ_jwt", "typ_missing", "inner_alg_none"}
    assert all(c.severity for c in cases if c.expected == "reject")
    adapters = {a.name: a for a in (load_adapter("joserfc"), ReferenceResourceServer(),
                                    SkipsTyp())}
    world = World(adapters, keys, {c.id: c for c in cases})
    rows: list[dict] = []
    execute(plan(cases, SUITES, ["enabled"]), world, 1, rows.extend)
    frame = pd.DataFrame(rows)
    frame = frame[frame.producer.isin(["joserfc", "forge"])]
    twin = frame[frame.consumer == "reference-rs"]
    skips = frame[frame.consumer == "skips-typ"]
    assert len(twin) == len(skips) > 0
    assert (twin.passed == True).all(), twin[twin.passed != True][["case", "detail"]]  # noqa: E712
    failed = skips[skips.passed != True]  # noqa: E712
    assert set(failed.case) == {"nested.resource_server.typ_jwt",
                                "nested.resource_server.typ_missing"}
    assert (failed.actual == "accepted").all() and set(failed.severity) == {"bypass"}
    # Both the encrypted and the plain access token carried the wrong typ.
    for name in ("typ_jwt", "typ_missing"):
        assert set(failed[failed.case.str.endswith(name)].suite) == \
            set(twin[twin.case.str.endswith(name)].suite)
