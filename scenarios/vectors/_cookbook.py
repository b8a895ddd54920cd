"""The JOSE cookbook (`vectors/jose-cookbook/`: RFC 7520, RFC 7797, RFC 8037) as cases.

Each example file becomes one case per output it publishes (`compact`, `flattened` from
`json_flat`, `general` from `json`), and per key when the example signs or encrypts for several
(`_key2`). Every example is valid: the consumer must give back the example's payload. A form
the adapters cannot express (a detached payload) is declared unsupported with the reason.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.interop.scenario import DataCase, data_case
from scenarios.vectors._build import (
    VECTOR_MODES,
    b64,
    case_name,
    configs_for,
    consume,
    damaged_case,
    header_of,
    jwe_suite,
    jws_suite,
    public_of,
    relative,
    unsupported,
    vector_suites,
)
from scenarios.vectors._files import VectorDamaged, defect_of, read_json, shown, vectors_root

FOLDER = "jose-cookbook"
FORMS = (("compact", "compact"), ("json_flat", "flattened"), ("json", "general"))
DETACHED = ("the adapters take no detached payload (RFC 7515 Appendix F): the payload is not in "
            "the token, and the adapter interface has no way to hand it over")


def _keys(example: dict[str, Any]) -> list[dict[str, Any]]:
    given = example["input"].get("key")
    if given is None and "pwd" in example["input"]:
        # PBES2 (RFC 7520 §5.3): the password is the key, as an oct JWK holds it.
        return [{"kty": "oct", "k": b64(example["input"]["pwd"].encode("utf-8"))}]
    return list(given) if isinstance(given, list) else [given]


def _algs(example: dict[str, Any], count: int) -> list[Any]:
    alg = example["input"].get("alg")
    return list(alg) if isinstance(alg, list) else [alg] * count


def short_name(path: Path) -> str:
    """`5_1.key_encryption_using_rsa_v15...json` -> `5_1`; `4.2.hmac-sha2_b64_false` -> `4_2`;
    a name without a section number stays whole (`ecdh-es` -> `ecdh_es`)."""
    stem = path.name.removesuffix(".json")
    number = re.match(r"\d+(?:[._]\d+)*", stem)
    return case_name(number.group(0) if number else stem)


def _detached(token: Any) -> bool:
    if isinstance(token, str):
        return token.count(".") == 2 and token.split(".")[1] == ""
    return isinstance(token, dict) and "payload" not in token


def example_cases(path: Path, root: Path, family: str, *, policy: str | None = None,
                  part: str | None = None) -> list[DataCase]:
    """The cases of one example file. `policy`: why the RFC leaves the outcome to the library
    (RFC 7797 is an extension a library may refuse, through `crit`), so rows are not judged.
    `part`: the member holding `input` and `output` when it is not the file itself (`encrypt`
    in the nesting example)."""
    where, stem = shown(path, root), short_name(path)
    try:
        example = read_json(path)
        example = example[part] if part else example
        outputs = example["output"]
        keys = _keys(example)
        algs = _algs(example, len(keys))
        text = example["input"].get("payload" if family == "JWS" else "plaintext")
        if not isinstance(outputs, dict) or not isinstance(text, str):
            raise KeyError("output or payload")
    except VectorDamaged as error:
        return [damaged_case(f"{stem}_damaged", family, str(error), f"cookbook {path.name}")]
    except (KeyError, TypeError, IndexError, AttributeError) as error:
        return [damaged_case(f"{stem}_damaged", family, f"{where}: damaged example: lacks "
                             f"{error}", f"cookbook {path.name}")]
    payload = text.encode("utf-8")
    cases = []
    for field, serialization in FORMS:
        if field not in outputs:
            continue
        token = outputs[field]
        for index, (jwk, alg) in enumerate(zip(keys, algs, strict=False)):
            name = f"{stem}_{serialization}" + (f"_key{index + 1}" if len(keys) > 1 else "")
            header = {**header_of(token), **({"alg": alg} if isinstance(alg, str) else {})}
            if family == "JWS":
                key = public_of(jwk)
                suite = jws_suite({**key, "alg": alg} if isinstance(alg, str) else key, header)
            else:
                key = jwk
                # The token's own enc first: 5_13's `input.enc` reads "A128CBC-H256", a typo
                # the token's protected header (and RFC 7520 §5.13) does not have.
                suite = jwe_suite({**key, "alg": alg} if isinstance(alg, str) else key, header,
                                  header.get("enc") or example["input"].get("enc"))
            # Listed by case name, or for the whole example by its section (`5_13`) or none.
            defect = (defect_of(root, path, name) or defect_of(root, path, stem)
                      or defect_of(root, path, None))
            configs = configs_for(key, family, True)
            if len(keys) > 1:
                # Signed or encrypted for several keys: an application taking such a message
                # allows every algorithm in it, not only the one of the key it holds.
                names = [str(a) for a in algs] + (
                    [suite.enc or "", "DEF"] if family == "JWE" else [])
                configs = tuple(replace(c, name=f"{c.name}, allows all {len(keys)} algs",
                                        algorithms=tuple(dict.fromkeys(names)))
                                for c in configs)
            run = (unsupported(DETACHED) if family == "JWS" and _detached(token)
                   else consume(family, suite, token, key, payload))
            cases.append(data_case(
                name, f"{example.get('title', path.name)} ({serialization}"
                      f"{', key ' + str(index + 1) if len(keys) > 1 else ''})",
                run, requirement=f"cookbook {relative(path, root / FOLDER)}",
                suites=vector_suites(suite), producer="vector",
                configs=configs, modes=VECTOR_MODES,
                policy=policy is not None or defect is not None, defect=defect))
    return cases


def folder_cases(folder: str, family: str, **options: Any) -> list[DataCase]:
    root = vectors_root()
    base = root / FOLDER / folder
    paths = sorted(base.glob("*.json"))
    if not paths:
        return [damaged_case(f"{case_name(folder)}_missing", family,
                             f"{shown(base, root)}: no example files", f"cookbook {folder}")]
    return [c for path in paths for c in example_cases(path, root, family, **options)]
