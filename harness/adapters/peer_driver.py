"""A peer driver for the harness's own adapters: `python -m harness.adapters.peer_driver pyjwt`.

It serves the peer protocol (`peers/README.md`) on top of an `Adapter`, so another release of a
Python library, installed in its own venv, takes part in the matrix as a peer (`pyjwt@2.10.0`
beside today's `pyjwt`). What the adapter declares `Unsupported` is answered `unsupported`, its
library's refusals `rejected`, and anything else `error` with where it was raised.

It also offers the protocol's extensions (keys as text or bytes, JSON tokens as their exact
text, `validate_claims`), since the adapter takes all of them.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any, BinaryIO

from harness.adapters import load_adapter
from harness.adapters.base import Adapter
from harness.core.claims import ClaimsOptions
from harness.core.errors import HarnessError, Rejected, Unsupported
from harness.core.keyforms import RawBytes, RawText, unb64
from harness.core.keys import b64url
from harness.core.suites import ALL_SUITES, KeySpec, Suite

HARNESS_CODE = str(Path(__file__).resolve().parent.parent) + os.sep
_SUITES = {(s.family, s.alg, s.enc, s.key.kty,
            s.key.param if s.key.kty in ("EC", "OKP") else None): s for s in ALL_SUITES}



def suite_of(message: dict[str, Any]) -> Suite:
    """The harness's suite for a suite object; a suite it does not know (the made-up probe)
    keeps its fields, so the adapter declares it unsupported itself."""
    key = (message["family"], message["alg"], message.get("enc"), message.get("kty"),
           message.get("crv"))
    known = _SUITES.get(key)
    if known is not None:
        return known
    return Suite(message["family"], message["alg"], message.get("enc"),
                 KeySpec(str(message.get("kty")), str(message.get("crv") or "?")), "peer")


class Driver:
    def __init__(self, adapter: Adapter) -> None:
        self.adapter = adapter
        # One dict per distinct key, so the adapter's import cache (by identity) stays small
        # and each key is imported once, as in the harness's own process.
        self._keys: dict[str, Any] = {}

    def key(self, data: Any) -> Any:
        if isinstance(data, dict) and "key_text" in data:
            text = data["key_text"]
            return RawText(text) if data.get("handed_over") else str(text)
        if isinstance(data, dict) and "key_bytes" in data:
            raw = unb64(data["key_bytes"])
            return RawBytes(raw) if data.get("handed_over") else raw
        slot = json.dumps(data, sort_keys=True)
        return self._keys.setdefault(slot, data)

    @staticmethod
    def token(data: Any) -> str:
        return data if isinstance(data, str) else json.dumps(data)

    def info(self, request: dict[str, Any]) -> dict[str, Any]:
        adapter = self.adapter
        suites = [suite_of(s) for s in request.get("suites", [])]
        supported = [s for s in suites if adapter.supports(s)]
        return {
            "name": adapter.name, "version": adapter.version, "language": "python",
            # The release runs on the harness's own cryptography: name it beside the interpreter.
            "runtime": f"{sys.implementation.name} {sys.version.split()[0]}, cryptography "
                       f"{metadata.version('cryptography')}",
            "supports": [s.name for s in supported],
            "allows_by_default": [s.name for s in supported if adapter.allows_by_default(s)],
            "produces": {f: sorted(v) for f, v in adapter.produces.items()},
            "consumes": {f: sorted(v) for f, v in adapter.consumes.items()},
            "entry_points": dict(adapter.entry_points),
            "key_forms": ["text", "bytes"], "token_text": True, "claims": True,
            "requires_allow_list": adapter.requires_allow_list,
        }

    def operation(self, op: str, r: dict[str, Any]) -> Any:
        adapter, suite = self.adapter, suite_of(r["suite"])
        common = {"mode": r.get("mode", "default"),
                  "serialization": r.get("serialization", "compact"),
                  "algorithms": r.get("algorithms")}
        key = self.key(r["key"])
        if op == "sign":
            return adapter.sign(suite, unb64(r["payload"]), key, header=r.get("header") or None,
                                **common)
        if op == "encrypt":
            return adapter.encrypt(suite, unb64(r["plaintext"]), key,
                                   header=r.get("header") or None, **common)
        entry = r.get("entry_point", "jws")
        if op == "verify":
            return {"payload": consumed(r, adapter.verify(suite, self.token(r["token"]), key,
                                                       entry_point=entry, **common))}
        if op == "decrypt":
            return {"plaintext": consumed(r, adapter.decrypt(suite, self.token(r["token"]), key,
                                                          entry_point=entry, **common))}
        raise ValueError(f"unknown op {op!r}")

    def validate_claims(self, r: dict[str, Any]) -> dict[str, Any]:
        options = r.get("options") or {}
        claims = self.adapter.validate_claims(
            suite_of(r["suite"]), r["token"], self.key(r["key"]),
            ClaimsOptions(leeway_s=options.get("leeway_s"), audience=options.get("audience"),
                          issuer=options.get("issuer"),
                          required=tuple(options.get("required") or ())),
            mode=r.get("mode", "default"), algorithms=r.get("algorithms"))
        return {"claims": claims}

    def bench(self, r: dict[str, Any]) -> dict[str, Any]:
        operation, n, fields = r["operation"], int(r["n"]), r["request"]
        suite = suite_of(fields["suite"])
        call = self.adapter.prepared(operation, suite, self.key(fields["key"]),
                                     mode=fields.get("mode", "default"),
                                     serialization=fields.get("serialization", "compact"),
                                     algorithms=fields.get("algorithms"))
        data = (unb64(fields["payload" if operation == "sign" else "plaintext"])
                if operation in ("sign", "encrypt") else self.token(fields["token"]))
        call(data)  # the key import and first-call caches, outside the timed loop
        started = time.perf_counter()
        for _ in range(n):
            call(data)
        return {"n": n, "seconds": time.perf_counter() - started}

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        ident, op = request.get("id"), request.get("op")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if op == "info":
                    result: Any = self.info(request)
                elif op == "batch":
                    result = [self.answer(r) for r in request.get("requests", [])]
                elif op == "bench":
                    result = self.bench(request)
                elif op == "validate_claims":
                    result = self.validate_claims(request)
                elif op in ("sign", "verify", "encrypt", "decrypt"):
                    result = self.operation(op, request)
                else:
                    return {"id": ident, "unsupported": f"this driver has no op {op!r}"}
        except Oversize as oversize:
            return {"id": ident, "oversize": oversize.size}
        except Unsupported as error:
            return {"id": ident, "unsupported": str(error)}
        except Rejected as error:
            return {"id": ident, "rejected": str(error)}
        except MemoryError:
            return {"id": ident, "error": "MemoryError: the library ran out of memory",
                    "error_source": "library"}
        except Exception as error:  # an undocumented exception: where it came from says whose
            return {"id": ident, "error": describe(error), "error_source": source_of(error)}
        return {"id": ident, "result": result}


class Oversize(Exception):
    """A consumed payload larger than the request's `max_bytes` (peers/README.md)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.size = size


def consumed(request: dict[str, Any], data: bytes) -> str:
    limit = request.get("max_bytes")
    if isinstance(limit, int) and len(data) > limit:
        raise Oversize(len(data))
    return b64url(data)


def describe(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__) if error.__traceback__ else []
    where = f" (at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
    return f"{type(error).__name__}: {error}{where}"


def source_of(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__) if error.__traceback__ else []
    if frames and not str(Path(frames[-1].filename).resolve()).startswith(HARNESS_CODE):
        return "library"
    return "harness"


def serve(driver: Driver, requests: BinaryIO, answers: BinaryIO) -> None:
    for line in requests:
        try:
            request = json.loads(line)
        except ValueError as error:
            answer: dict[str, Any] = {"id": None, "error": f"not a JSON line: {error}",
                                      "error_source": "harness"}
        else:
            answer = driver.answer(request) if isinstance(request, dict) else {
                "id": None, "error": "not a JSON object", "error_source": "harness"}
        answers.write(json.dumps(answer, separators=(",", ":")).encode() + b"\n")
        answers.flush()


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m harness.adapters.peer_driver <library>", file=sys.stderr)
        return 2
    # Answers go to the real stdout alone; anything a library prints goes to stderr.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    try:
        adapter = load_adapter(argv[0])
    except HarnessError as error:
        print(f"peer_driver: {error}", file=sys.stderr)
        return 2
    serve(Driver(adapter), sys.stdin.buffer, answers)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
