"""Cross-check a peer driver against the Python libraries, through `peer_protocol_client`.

    .venv/bin/python -m tests.peer_crosscheck jose --library joserfc --suite 'JWS *'

For every suite the peer declares (and the Python library implements), in `enabled` mode: the
peer's own round trip, Python producing for the peer, and the peer producing for Python, in
each serialization both sides offer. Prints one line per failure and the counts. A tool for
the driver's author until the harness's peer adapter runs peers in the matrix.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from typing import Any

from harness.adapters import load_adapter
from harness.adapters.base import Adapter
from harness.core.errors import Unsupported
from harness.core.keys import KeySet, load_key_set
from harness.core.suites import ALL_SUITES, Suite, select_suites
from tests.peer_protocol_client import PEERS, PeerClient, b64, suite_object, unb64

CLAIMS = b'{"iss":"https://issuer.example","sub":"peer-check","aud":"api"}'
PRODUCE = {"JWS": "sign", "JWE": "encrypt"}
CONSUME = {"JWS": "verify", "JWE": "decrypt"}
DATA = {"JWS": "payload", "JWE": "plaintext"}


def enabled_names(suite: Suite) -> list[str]:
    names = [suite.alg] + ([suite.enc] if suite.enc else [])
    return [*names, "DEF"] if suite.family == "JWE" else names


def peer_request(suite: Suite, serialization: str, **fields: Any) -> dict[str, Any]:
    return {"suite": suite_object(suite), "serialization": serialization,
            "mode": "enabled", "algorithms": enabled_names(suite), "header": {},
            "entry_point": "jws", **fields}


def python_produce(lib: Adapter, suite: Suite, keys: KeySet, serialization: str) -> Any:
    if suite.family == "JWS":
        token = lib.sign(suite, CLAIMS, keys.private(suite.key), mode="enabled",
                         serialization=serialization)  # type: ignore[arg-type]
    else:
        token = lib.encrypt(suite, CLAIMS, keys.public(suite.key), mode="enabled",
                            serialization=serialization)  # type: ignore[arg-type]
    return token if serialization == "compact" else json.loads(token)


def python_consume(lib: Adapter, suite: Suite, keys: KeySet, serialization: str,
                   token: Any) -> bytes:
    text = token if isinstance(token, str) else json.dumps(token)
    if suite.family == "JWS":
        return lib.verify(suite, text, keys.public(suite.key), mode="enabled",
                          serialization=serialization)  # type: ignore[arg-type]
    return lib.decrypt(suite, text, keys.private(suite.key), mode="enabled",
                       serialization=serialization)  # type: ignore[arg-type]


def producer_key(suite: Suite, keys: KeySet) -> dict[str, Any]:
    return keys.private(suite.key) if suite.family == "JWS" else keys.public(suite.key)


def consumer_key(suite: Suite, keys: KeySet) -> dict[str, Any]:
    return keys.public(suite.key) if suite.family == "JWS" else keys.private(suite.key)


def offered(info: dict[str, Any], lib: Adapter | None, suite: Suite) -> list[str]:
    forms = set(info["produces"].get(suite.family, [])) & set(info["consumes"].get(suite.family,
                                                                                   []))
    if lib is not None:
        forms &= set(lib.produces.get(suite.family, ())) & set(lib.consumes.get(suite.family, ()))
    return [form for form in ("compact", "flattened", "general") if form in forms]


def check(peer: PeerClient, info: dict[str, Any], suites: list[Suite], libs: list[Adapter],
          keys: KeySet) -> Counter[str]:
    counts: Counter[str] = Counter()
    for suite in suites:
        if suite.name not in info["supports"]:
            continue
        family = suite.family
        for form in offered(info, None, suite):
            produced = peer.send(PRODUCE[family], **peer_request(
                suite, form, key=producer_key(suite, keys),
                **{DATA[family]: b64(CLAIMS)}))
            token = produced.get("result")
            if token is None:
                if "unsupported" not in produced:
                    report(counts, "self", suite, form, f"produce: {produced}")
                    continue
                counts["self: unsupported"] += 1
                for lib in libs:
                    if lib.supports(suite) and form in offered(info, lib, suite):
                        python_to_peer(peer, lib, suite, keys, form, counts)
                continue
            consumed = peer.send(CONSUME[family], **peer_request(
                suite, form, key=consumer_key(suite, keys), token=token))
            verdict(counts, "self", suite, form, consumed)
            for lib in libs:
                if not lib.supports(suite) or form not in offered(info, lib, suite):
                    continue
                cross_check(peer, lib, suite, keys, form, token, counts)
    return counts


def cross_check(peer: PeerClient, lib: Adapter, suite: Suite, keys: KeySet, form: str,
                peer_token: Any, counts: Counter[str]) -> None:
    try:
        got = python_consume(lib, suite, keys, form, peer_token)
        if got == CLAIMS:
            counts[f"peer->{lib.name}: pass"] += 1
        else:
            report(counts, f"peer->{lib.name}", suite, form, f"payload differs: {got!r}")
    except Unsupported:
        counts[f"peer->{lib.name}: unsupported"] += 1
    except Exception as error:  # every failure is one reported cell
        report(counts, f"peer->{lib.name}", suite, form, f"{type(error).__name__}: {error}")
    python_to_peer(peer, lib, suite, keys, form, counts)


def python_to_peer(peer: PeerClient, lib: Adapter, suite: Suite, keys: KeySet, form: str,
                   counts: Counter[str]) -> None:
    family = suite.family
    try:
        token = python_produce(lib, suite, keys, form)
    except Unsupported:
        counts[f"{lib.name}->peer: unsupported"] += 1
        return
    except Exception as error:
        report(counts, f"{lib.name}->peer", suite, form, f"python produce: {error}")
        return
    consumed = peer.send(CONSUME[family], **peer_request(
        suite, form, key=consumer_key(suite, keys), token=token))
    verdict(counts, f"{lib.name}->peer", suite, form, consumed)


def verdict(counts: Counter[str], pair: str, suite: Suite, form: str,
            answer: dict[str, Any]) -> None:
    if "unsupported" in answer:
        counts[f"{pair}: unsupported"] += 1
        return
    result = answer.get("result")
    data = None if result is None else result.get("payload", result.get("plaintext"))
    if data is not None and unb64(data) == CLAIMS:
        counts[f"{pair}: pass"] += 1
    else:
        report(counts, pair, suite, form, json.dumps(answer)[:300])


def report(counts: Counter[str], pair: str, suite: Suite, form: str, why: str) -> None:
    counts[f"{pair}: FAIL"] += 1
    print(f"FAIL {pair} {suite.name} [{form}]: {why}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("peer", choices=sorted(PEERS))
    parser.add_argument("--library", action="append", default=[])
    parser.add_argument("--suite", action="append", default=[])
    args = parser.parse_args(argv)
    keys = load_key_set()
    libs = [load_adapter(name) for name in args.library]
    suites = select_suites(args.suite) if args.suite else list(ALL_SUITES)
    started = time.perf_counter()
    with PeerClient(PEERS[args.peer], timeout_s=60) as peer:
        info = peer.call("info", suites=[suite_object(s) for s in ALL_SUITES])
        declared = Counter(name.split()[0] for name in info["supports"])
        print(f"{info['name']} {info['version']} ({info['runtime']}): supports "
              f"{dict(declared)}, by default {len(info['allows_by_default'])}")
        counts = check(peer, info, suites, libs, keys)
    for key in sorted(counts):
        print(f"{key}: {counts[key]}")
    print(f"{time.perf_counter() - started:.1f} s")
    return 1 if any(key.endswith("FAIL") for key in counts) else 0


if __name__ == "__main__":
    sys.exit(main())
