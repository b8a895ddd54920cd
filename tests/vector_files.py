"""The published vectors under `vectors/` as flat lists the reference tests walk: Wycheproof's
four JOSE files and the JOSE cookbook (RFC 7520, RFC 7797, RFC 8037 examples)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.keys import b64url

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
WYCHEPROOF = VECTORS / "wycheproof" / "testvectors_v1"
WYCHEPROOF_FILES = ("json_web_signature_test.json", "json_web_encryption_test.json",
                    "json_web_key_test.json", "json_web_crypto_test.json")
COOKBOOK = VECTORS / "jose-cookbook"
DEFECTS = VECTORS / "defects.json"


@dataclass(frozen=True)
class WycheproofTest:
    file: str
    tc_id: int
    result: str            # valid | invalid | acceptable
    comment: str
    flags: tuple[str, ...]
    token: Any             # compact text, JSON text, or None
    key: dict[str, Any]    # what the reference gets: the public key or set if given, else private
    plaintext: bytes | None

    @property
    def id(self) -> str:
        return f"{self.file.removesuffix('.json')}#{self.tc_id}"


def wycheproof_tests() -> list[WycheproofTest]:
    tests = []
    for name in WYCHEPROOF_FILES:
        document = json.loads((WYCHEPROOF / name).read_text(encoding="utf-8"))
        for group in document["testGroups"]:
            for test in group["tests"]:
                is_jwe = "jwe" in test
                key = group["private"] if is_jwe else group.get("public") or group["private"]
                plaintext = bytes.fromhex(test["pt"]) if test.get("pt") is not None else None
                tests.append(WycheproofTest(
                    name, test["tcId"], test["result"], test["comment"], tuple(test["flags"]),
                    test["jwe"] if is_jwe else test["jws"], key, plaintext))
    return tests


@dataclass(frozen=True)
class CookbookExample:
    file: str
    form: str              # compact | json | json_flat
    family: str            # JWS | JWE
    token: Any
    key: dict[str, Any]
    content: bytes         # the payload or plaintext the example must give back
    detached: bool

    @property
    def id(self) -> str:
        return f"{self.file}:{self.form}:{self.key.get('kid', self.key.get('kty'))}"


def _keys_of(example: dict[str, Any]) -> list[dict[str, Any]]:
    given = example["input"].get("key")
    if given is None:  # PBES2: a password
        return [{"kty": "oct", "k": b64url(example["input"]["pwd"].encode("utf-8"))}]
    return given if isinstance(given, list) else [given]


def _examples_in(name: str, example: dict[str, Any]) -> list[CookbookExample]:
    family = "JWE" if "plaintext" in example["input"] else "JWS"
    content = example["input"]["plaintext" if family == "JWE" else "payload"].encode("utf-8")
    found = []
    for form, token in example.get("output", {}).items():
        if form not in {"compact", "json", "json_flat"}:
            continue
        detached = family == "JWS" and (
            token.split(".")[1] == "" if isinstance(token, str) else "payload" not in token)
        for key in _keys_of(example):
            found.append(CookbookExample(name, form, family, token, key, content, detached))
    return found


def cookbook_examples() -> list[CookbookExample]:
    examples = []
    for path in sorted(COOKBOOK.rglob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        name = str(path.relative_to(COOKBOOK))
        if not isinstance(document, dict):
            continue
        if "input" in document:
            examples += _examples_in(name, document)
        for part in ("sign", "encrypt"):  # the nesting example: a JWS inside a JWE
            if isinstance(document.get(part), dict) and "input" in document[part]:
                examples += _examples_in(f"{name}:{part}", document[part])
    return examples


def defects() -> dict[str, dict[str, Any]]:
    """The vectors listed as wrong in `vectors/defects.json`, by the id the tests give them
    (`json_web_signature_test#346`, `rfc7797/4.2.hmac-sha2_b64_false.json:json:oct`)."""
    listed = json.loads(DEFECTS.read_text(encoding="utf-8"))["defects"]
    return {d["id"]: d for d in listed}
