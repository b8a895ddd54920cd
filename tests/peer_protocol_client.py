"""A small client of the peer protocol (peers/README.md, version 1), for testing the drivers
under peers/ before and beside the harness's peer adapter.

It starts one driver as a child, sends one JSON line per request and reads answers in order,
skipping stdout lines that are not JSON objects (node's warnings), as the protocol says.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from harness.adapters.peer import suite_object
from harness.core.keyforms import unb64
from harness.core.keys import b64url

ROOT = Path(__file__).resolve().parent.parent
# The driver command lines, as the Makefile installs them: the node peers by `make node-peers`
# (npm ci), the others by `make peers` (Debian packages, built under .cache/peers/).
PEERS: dict[str, list[str]] = {
    "jose": ["node", "peers/jose6/driver.mjs"],
    "jose@5": ["node", "peers/jose5/driver.mjs"],
    "node-jose": ["node", "peers/node-jose/driver.mjs"],
    "go-jose": [".cache/peers/go-jose"],
    "jose2go": [".cache/peers/jose2go"],
    "crypt-jwt": ["perl", "peers/crypt-jwt/driver.pl"],
    "latchset-jose": [".cache/peers/latchset-jose"],
    "cjose": [".cache/peers/cjose"],
    "rhonabwy": [".cache/peers/rhonabwy"],
    "jsonwebtoken": [".cache/peers/jsonwebtoken"],
}


# The protocol's encodings, as the peer adapter sends them (re-exported for the tests).
b64 = b64url
__all__ = ["PEERS", "ROOT", "PeerClient", "PeerError", "b64", "suite_object", "unb64"]


class PeerError(RuntimeError):
    """The child died, stopped answering, or answered out of order."""


class PeerClient:
    def __init__(self, command: Sequence[str], cwd: Path = ROOT, timeout_s: float = 10.0):
        self.command = list(command)
        self.timeout_s = timeout_s
        self._next_id = 0
        self._buffer = b""
        self.skipped_lines: list[str] = []
        self.process = subprocess.Popen(self.command, cwd=cwd, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def __enter__(self) -> PeerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def send(self, op: str, **fields: Any) -> dict[str, Any]:
        """One request, its whole answer object (with exactly one of result/rejected/...)."""
        self._next_id += 1
        request_id = self._next_id
        self._write({"id": request_id, "op": op, **fields})
        answer = self._read()
        if answer.get("id") != request_id:
            raise PeerError(f"answer {answer.get('id')!r} to request {request_id}")
        return answer

    def call(self, op: str, **fields: Any) -> Any:
        """The result of a request; anything else raises `PeerError` with the answer."""
        answer = self.send(op, **fields)
        if "result" not in answer:
            raise PeerError(json.dumps(answer))
        return answer["result"]

    def batch(self, requests: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        numbered = []
        for request in requests:
            self._next_id += 1
            numbered.append({"id": self._next_id, **request})
        answers: list[dict[str, Any]] = self.call("batch", requests=numbered)
        return answers

    def _write(self, request: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(request).encode("utf-8") + b"\n")
            self.process.stdin.flush()
        except BrokenPipeError as error:
            raise PeerError(f"peer exited: {self._stderr_tail()}") from error

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        deadline = time.monotonic() + self.timeout_s
        fd = self.process.stdout.fileno()
        while True:
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                try:
                    answer = json.loads(line)
                except ValueError:
                    answer = None
                if isinstance(answer, dict):
                    return answer
                self.skipped_lines.append(line.decode("utf-8", "replace"))
            left = deadline - time.monotonic()
            if left <= 0:
                raise PeerError(f"no answer within {self.timeout_s} s")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise PeerError(f"peer exited ({self.process.wait()}): "
                                    f"{self._stderr_tail()}")
                self._buffer += chunk

    def _stderr_tail(self) -> str:
        if self.process.poll() is None or self.process.stderr is None:
            return ""
        return self.process.stderr.read()[-2000:].decode("utf-8", "replace")
