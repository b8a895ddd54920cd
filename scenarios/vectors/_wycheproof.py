"""Wycheproof's JOSE vectors (`vectors/wycheproof/testvectors_v1/`) as cases.

Every test becomes `tc<tcId>`: `valid` must be accepted with its payload, `invalid` refused,
`acceptable` is policy. The test's flags (Wycheproof's `bugType` notes) are the row's attack
class. A consumer verifying a JWS holds the group's public key (the secret for HMAC); one
decrypting a JWE holds its private key; a group whose key is a key set hands over the set.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from harness.core.severity import severity_of_vector
from harness.interop.scenario import DataCase, data_case
from scenarios.vectors._build import (
    VECTOR_MODES,
    configs_for,
    consume,
    damaged_case,
    header_of,
    jwe_suite,
    jws_suite,
    public_of,
    unb64,
    vector_suites,
)
from scenarios.vectors._files import VectorDamaged, defect_of, read_json, shown, vectors_root

FOLDER = "wycheproof/testvectors_v1"
EXPECTED = {"valid": "accept", "invalid": "reject", "acceptable": "accept"}
TEST_FIELDS = ("tcId", "result", "flags")


def _payload(family: str, test: dict[str, Any]) -> bytes | None:
    """What a valid test must give back: the JWE's published plaintext, the JWS's payload."""
    if family == "JWE":
        return bytes.fromhex(test["pt"]) if "pt" in test else None
    token = test["jws"]
    if isinstance(token, dict):
        return unb64(token.get("payload", ""))
    parts = token.split(".")
    # A few tests marked valid carry a character outside base64url in a segment (tcId 372,
    # 373): the payload they mean is the one the remaining characters spell.
    return unb64(re.sub(r"[^A-Za-z0-9_-]", "", parts[1])) if len(parts) == 3 else b""


def _group_enc(group: dict[str, Any]) -> Any:
    """The enc the group's tests use, from the first whose header reads: a hostile test's
    header may not decode, yet its consumer is configured like its group's."""
    for test in group.get("tests") or []:
        enc = header_of(test.get("jwe", "")).get("enc") if isinstance(test, dict) else None
        if enc:
            return enc
    return None


def _test_case(path: Path, root: Path, group: dict[str, Any], test: dict[str, Any],
               bug_types: dict[str, str]) -> DataCase:
    where = shown(path, root)
    lacking = [f for f in TEST_FIELDS if f not in test]
    family = "JWE" if "jwe" in test else "JWS"
    if "jws" not in test and "jwe" not in test:
        lacking.append("jws or jwe")
    name = f"tc{test['tcId']}" if "tcId" in test else f"damaged_{id(test)}"
    requirement = f"Wycheproof {path.name} tcId {test.get('tcId', '?')}"
    if lacking or test.get("result") not in EXPECTED or "private" not in group:
        why = (f"lacks {', '.join(lacking)}" if lacking else
               "its group has no key" if "private" not in group else
               f"unknown result {test.get('result')!r}")
        return damaged_case(name, family, f"{where}: test tcId {test.get('tcId', '?')}: {why}",
                            requirement)
    token = test[family.lower()]
    header = header_of(token)
    key = group["private"] if family == "JWE" else group.get("public") or public_of(
        group["private"])
    suite = (jwe_suite(key, header, test.get("enc") or header.get("enc") or _group_enc(group))
             if family == "JWE"
             else jws_suite(key, header))
    try:
        payload = _payload(family, test) if test["result"] != "invalid" else b""
    except (ValueError, TypeError) as error:
        return damaged_case(name, family, f"{where}: test tcId {test['tcId']}: unreadable "
                            f"payload: {error}", requirement)
    defect = defect_of(root, path, test["tcId"])
    flags = [str(f) for f in test["flags"]]
    description = (f"{group.get('comment', '')}: {test.get('comment', '')} "
                   f"({test['result']}{'; flags ' + ', '.join(flags) if flags else ''})")
    return data_case(
        name, description.strip(),
        consume(family, suite, token, key, payload, refuse=test["result"] == "invalid"),
        requirement=f"{requirement} ({group.get('comment', '')}: {test.get('comment', '')})",
        expected=EXPECTED[test["result"]],
        suites=vector_suites(suite), producer="vector", configs=configs_for(key, family, True),
        modes=VECTOR_MODES, policy=test["result"] == "acceptable" or defect is not None,
        attack_class=", ".join(flags) or (None if test["result"] != "invalid" else "unflagged"),
        # The file's notes give each flag a bugType: what accepting the vector would cost.
        severity=severity_of_vector(flags, [bug_types[f] for f in flags if f in bug_types],
                                    f"{group.get('comment', '')} {test.get('comment', '')}"),
        defect=defect)


def wycheproof_cases(file_name: str, root: Path | None = None) -> list[DataCase]:
    """One case per test of the file; a damaged file or test is a case that fails naming it."""
    root = root or vectors_root()
    path = root / FOLDER / file_name
    try:
        data = read_json(path)
        groups = data["testGroups"]
        if not isinstance(groups, list):
            raise TypeError("testGroups is not a list")
    except VectorDamaged as error:
        return [damaged_case("damaged", "JWS", str(error), f"Wycheproof {file_name}")]
    except (KeyError, TypeError) as error:
        return [damaged_case("damaged", "JWS", f"{shown(path, root)}: damaged vector file: "
                             f"{error}", f"Wycheproof {file_name}")]
    notes = data.get("notes") if isinstance(data.get("notes"), dict) else {}
    bug_types = {name: str(note.get("bugType", "")) for name, note in notes.items()
                 if isinstance(note, dict)}
    cases = []
    for group in groups:
        for test in (group.get("tests") or []) if isinstance(group, dict) else []:
            if isinstance(test, dict):
                cases.append(_test_case(path, root, group, test, bug_types))
    return cases
