"""Producer known answers: each library signs the cookbook's payload with the cookbook's key and
protected header, and must produce the cookbook's token byte for byte (RFC 7520 §4, RFC 8037
§A.4). Only deterministic algorithms can: RSASSA-PKCS1-v1_5 (`RS*`), HMAC (`HS*`) and EdDSA.

The library in the row's consumer column is the one that signs (configuration `signs`). Where
the token differs only in how the library wrote the same header members as JSON (order,
spaces), the signature over the library's own header octets must be the deterministic one
(recomputed with `cryptography`), the strict reference must accept the token when it is
installed, and the row says so.
"""

from __future__ import annotations

import json
from typing import Any

from harness.adapters.base import Serialization
from harness.core.keys import public_jwk
from harness.forge.jws import raw_signature
from harness.interop.scenario import ConsumerConfig, Context, DataCase, Producer, data_case
from scenarios.vectors._build import (
    VECTOR_MODES,
    damaged_case,
    jws_suite,
    unb64,
    unsupported,
    vector_suites,
)
from scenarios.vectors._files import VectorDamaged, read_json, shown, vectors_root
from scenarios.vectors._reference import reference_verifies

SIGNS = ConsumerConfig("signs")
DETERMINISTIC = ("RS", "HS", "EdDSA")
# (case name, example file under jose-cookbook/, which signature of a multi-signature example)
EXAMPLES = (
    ("rfc7520_4_1", "jws/4_1.rsa_v15_signature.json", None),
    ("rfc7520_4_4", "jws/4_4.hmac-sha2_integrity_protection.json", None),
    ("rfc7520_4_5", "jws/4_5.signature_with_detached_content.json", None),
    ("rfc7520_4_6", "jws/4_6.protecting_specific_header_fields.json", None),
    ("rfc7520_4_7", "jws/4_7.protecting_content_only.json", None),
    ("rfc7520_4_8_sig1", "jws/4_8.multiple_signatures.json", 0),
    ("rfc7520_4_8_sig3", "jws/4_8.multiple_signatures.json", 2),
    ("rfc8037_a_4", "curve25519/jws.json", None),
    ("rfc7797_compact", "rfc7797/hmac-sha2_b64_false.json", None),
)
UNENCODED = "the adapters' sign() always base64url-encodes the payload: no RFC 7797 `b64: false`"
UNPROTECTED_ONLY = ("the example has no protected header; the adapters always write `alg` "
                    "into the protected header")


def _decoded(segment: str) -> Any:
    try:
        return json.loads(unb64(segment))
    except ValueError:
        return None


def _known(example: dict[str, Any], index: int | None) -> dict[str, Any]:
    """The cookbook's answer for one signature: key, alg, protected header (decoded and as
    published) and the signature, with the payload."""
    signing = example["signing"][index] if index is not None else example["signing"]
    keys = example["input"]["key"]
    algs = example["input"]["alg"]
    return {"key": keys[index] if index is not None else keys,
            "alg": algs[index] if index is not None else algs,
            "protected": signing.get("protected"), "protected_b64u": signing.get("protected_b64u"),
            "signature": signing["sig"], "payload": example["input"]["payload"].encode("utf-8"),
            "unprotected": signing.get("unprotected")}


def _judge(known: dict[str, Any], token: str) -> tuple[bytes, ...]:
    head, body, signature = [*token.split("."), "", "", ""][:3]
    wanted = ".".join((known["protected_b64u"], body, known["signature"]))
    note = ("the cookbook's unprotected header is not part of what is signed, and the adapters "
            "cannot set it: compared the protected header and the signature"
            if known["unprotected"] else "")
    if unb64(body) != known["payload"]:
        return wanted.encode(), token.encode(), "the library encoded another payload"
    if (head, signature) == (known["protected_b64u"], known["signature"]):
        return token.encode(), token.encode(), "byte for byte" + (f"; {note}" if note else "")
    written = _decoded(head)
    if written != known["protected"]:
        return wanted.encode(), token.encode(), (
            f"the library's protected header is not the cookbook's: it wrote "
            f"{json.dumps(written)}, the cookbook {json.dumps(known['protected'])}")
    recomputed = raw_signature(known["alg"], known["key"], f"{head}.{body}".encode("ascii"))
    if unb64(signature) != recomputed:
        return wanted.encode(), token.encode(), (
            "the signature over the library's own header is not the deterministic one")
    verifier = known["key"] if known["key"]["kty"] == "oct" else public_jwk(known["key"])
    verdict, said = reference_verifies(token, verifier, known["payload"])
    text = (f"same header members in another JSON encoding ({unb64(head).decode()!r} for "
            f"{unb64(known['protected_b64u']).decode()!r}); the signature over the library's "
            f"header is the deterministic one; {said}")
    if verdict is False:
        return wanted.encode(), token.encode(), text
    return token.encode(), token.encode(), text + (f"; {note}" if note else "")


def _signs(known: dict[str, Any], suite: Any) -> Any:
    header = {k: v for k, v in known["protected"].items() if k != "alg"}
    serialization: Serialization = "compact"

    def run(ctx: Context) -> tuple[bytes, ...]:
        producer = Producer(ctx.consumer.adapter, ctx.mode)
        token = producer.sign(suite, known["payload"], known["key"], header=header,
                              serialization=serialization)
        return _judge(known, token)
    return run


def _case(name: str, relative: str, index: int | None) -> DataCase:
    root = vectors_root()
    path = root / "jose-cookbook" / relative
    requirement = f"cookbook {relative}" + (f" signature {index + 1}" if index is not None
                                            else "")
    try:
        known = _known(read_json(path), index)
    except VectorDamaged as error:
        return damaged_case(name, "JWS", str(error), requirement)
    except (KeyError, TypeError, IndexError) as error:
        return damaged_case(name, "JWS", f"{shown(path, root)}: damaged example: lacks {error}",
                            requirement)
    suite = jws_suite({**known["key"], "alg": known["alg"]}, known["protected"] or {})
    if not known["protected"]:
        run = unsupported(UNPROTECTED_ONLY)
    elif known["protected"].get("b64") is False:
        run = unsupported(UNENCODED)
    elif not str(known["alg"]).startswith(DETERMINISTIC):
        run = unsupported(f"{known['alg']} signatures are randomized: no known answer")
    else:
        run = _signs(known, suite)
    return data_case(name, f"{relative}: the library signs the cookbook's payload and header and "
                           "must produce the cookbook's token", run, requirement=requirement,
                     suites=vector_suites(suite), producer="vector", configs=(SIGNS,),
                     modes=VECTOR_MODES)


DATA_CASES = [_case(*example) for example in EXAMPLES]
