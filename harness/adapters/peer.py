"""Peers: an adapter whose library runs in another process, over JSON lines (`peers/README.md`).

A peer is a long-running child (node `jose`, a Go or C driver, another release of a Python
library in its own venv) that answers one JSON object per request line on stdout. `info`, asked
once when the adapter is made, declares what it implements, so `supports`, `allows_by_default`,
the serializations and the entry points stay declared and the made-up-suite probe still applies;
every operation the declaration rules out is `Unsupported` here, without a round trip.

One child per process: a worker forked from the harness never shares its parent's child (the
pipe would interleave two conversations); it starts its own on first use. The one exception is
a hostile case's isolated child (`lending`): its parent waits for it, so it borrows the parent's
child instead of paying a runtime's start for one cell, with ids of its own; afterwards the
parent checks with a `ping` that the conversation is whole, and starts a fresh child if not.
A child that dies or does not answer in time costs the cell it was in (`PeerFault`: `error` or
`hang`) and is started again for the next one. Children die with the harness
(`die_with_parent`), and a stop signal while a request is out kills the child, whose
half-answered conversation is useless.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import resource
import select
import signal
import subprocess
import time
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.adapters.base import (
    Adapter,
    Allowed,
    EntryPoint,
    KeyData,
    Mode,
    Operation,
    Serialization,
)
from harness.core.claims import ClaimsOptions
from harness.core.errors import HarnessError, PeerFault, Rejected, Unsupported
from harness.core.keyforms import handed_over, unb64
from harness.core.keys import b64url
from harness.core.shutdown import die_with_parent
from harness.core.suites import ALL_SUITES, MADE_UP_SUITE, Suite

PROTOCOL_VERSION = 1
# A cell's answer: above any genuine operation (an RSA-4096 sign, a PBES2 derivation at the
# libraries' own counts), at the isolated cases' own limit, so a hostile token that makes the
# peer spin becomes a `hang`.
DEFAULT_TIMEOUT_S = 10.0
# Starting a runtime and answering `info` (node, a venv importing its library).
START_TIMEOUT_S = 30.0
STDERR_TAIL = 2000
# After lending its child to an isolated case: how long the `ping` that checks the conversation
# may wait before the child is taken for lost and replaced.
SYNC_TIMEOUT_S = 2.0
_PROCESSES: weakref.WeakSet[PeerProcess] = weakref.WeakSet()
# True only while the current process waits for an isolated child (see `lending`), and that
# process's pid: only its own children are lent, never ones a worker inherited from the harness's
# main process (two workers' isolated children would talk to the same child at once).
_lending = False
_lender: int | None = None
# What runtimes print when they die of memory exhaustion: such a death on a hostile token is the
# library's denial of service, a `hang` (out of memory) like an in-process MemoryError.
OUT_OF_MEMORY = ("JavaScript heap out of memory", "Fatal process OOM",
                 "Fatal process out of memory", "runtime: out of memory", "Out of memory!",
                 "memory allocation of")


class Loan:
    """What `lending` yields: the caller says when the isolated child was killed or died, so
    the conversation it may have left half done is not waited on."""

    def __init__(self) -> None:
        self.broken = False

    def lost(self) -> None:
        self.broken = True


@contextlib.contextmanager
def lending(*adapters: object) -> Iterator[Loan]:
    """Around forking an isolated case: the forked child borrows this process's peer children;
    afterwards each is checked with a `ping` before its next request, and the cell's own peers
    are replaced at once when the loan was lost (the isolated child killed or dead).

    The peers among `adapters` (the cell's producer and consumer) get their child started, or
    checked, here, before the fork: one started inside the isolated child would inherit its
    address-space limit, under which node cannot reserve its code range and dies at start
    (SIGTRAP, "Fatal process OOM in Failed to reserve virtual memory for CodeRange")."""
    global _lending, _lender
    lent = [adapter.process for adapter in adapters if isinstance(adapter, PeerAdapter)]
    for process in lent:
        process.prepare()
    loan = Loan()
    _lending, _lender = True, os.getpid()
    try:
        yield loan
    finally:
        _lending, _lender = False, None
        for process in list(_PROCESSES):
            if process._owner == os.getpid() and process._child is not None:
                # Only the cell's own peers can be busy with a killed child's request (a PBES2
                # derivation goes on for minutes): they are replaced. Any other peer is checked
                # with a `ping` like after any loan; replacing the three node peers after every
                # hang had cost about 140 ms of restart each.
                if loan.broken and process in lent:
                    process._kill()
                else:
                    process._needs_sync = True




def answer_limit_bytes() -> int | None:
    """Under an address-space cap (an isolated case), the most payload bytes a `verify` or
    `decrypt` answer may carry: the answer arrives as base64 in JSON, and reading it holds the
    line, the text and the bytes at once (about six times the payload). None without a cap."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            in_use = int(statm.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return soft // 8
    return max(0, soft - in_use) // 6

def suite_object(suite: Suite) -> dict[str, Any]:
    """A suite as the protocol sends it: drivers decide from family/alg/enc/crv, not the name."""
    curve = suite.key.param if suite.key.kty in ("EC", "OKP") else None
    return {"name": suite.name, "family": suite.family, "alg": suite.alg, "enc": suite.enc,
            "kty": suite.key.kty, "crv": curve}


@dataclass(frozen=True)
class PeerSpec:
    """How to start one peer and how to describe it: `name` is what rows and `--library` use
    (`jose@6`, `pyjwt@2.10.0`); `how_to_get` is the one line shown when it is missing."""

    name: str
    command: tuple[str, ...]
    language: str
    cwd: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    how_to_get: str = ""
    # The Python library a release peer is another version of (`pyjwt` for `pyjwt@2.10.0`).
    library: str | None = None
    # How long one cell may wait for its answer before the cell is a `hang`.
    timeout_s: float = DEFAULT_TIMEOUT_S
    # An address-space limit for the child (MiB), as hostile cases have in-process; None: none
    # (node reserves far more address space than it uses).
    memory_mb: int | None = None


class PeerProcess:
    """One child speaking the protocol, started lazily in the process that uses it."""

    def __init__(self, spec: PeerSpec) -> None:
        self.spec = spec
        self._child: subprocess.Popen[bytes] | None = None
        self._owner: int | None = None
        # What stdout has said past the last whole line; `_scanned` of it holds no newline.
        # A bytearray, searched from `_scanned` only: a 20 MB answer arrives in 64 KiB pipe
        # reads, and re-copying and re-scanning the whole of it per read took seconds.
        self._buffer = bytearray()
        self._scanned = 0
        self._stderr: collections.deque[bytes] = collections.deque(maxlen=64)
        self._next_id = 0
        self.starts = 0
        self._borrowed = False
        self._needs_sync = False
        _PROCESSES.add(self)

    # -- lifecycle ----------------------------------------------------------------------------

    def prepare(self) -> None:
        """Before lending: the conversation checked and a child running, in this process."""
        if self._needs_sync and self._owner == os.getpid():
            self._sync()
        with contextlib.suppress(PeerFault):  # the isolated child meets the same fault as a row
            self._ensure()

    def _ensure(self) -> subprocess.Popen[bytes]:
        if (_lending and self._owner == _lender and self._owner != os.getpid()
                and self._child is not None):
            # An isolated case's child: the parent waits, so its conversation is ours for now.
            self._owner, self._borrowed = os.getpid(), True
            self._next_id = os.getpid() * 1_000_000
            return self._child
        if self._borrowed and self._child is not None:
            return self._child  # not our child: poll() cannot see it; a death shows on the pipe
        if self._owner != os.getpid():
            # Inherited across a fork: the child is the parent's. Let go of the pipes without
            # touching the process, and start one of our own.
            if self._child is not None:
                for pipe in (self._child.stdin, self._child.stdout, self._child.stderr):
                    with contextlib.suppress(OSError):
                        pipe.close()  # type: ignore[union-attr]
                self._child.returncode = 0  # so Popen.__del__ leaves the parent's child alone
            self._child = None
        if self._child is None or self._child.poll() is not None:
            self._start()
        assert self._child is not None
        return self._child

    def _start(self) -> None:
        parent, memory_mb = os.getpid(), self.spec.memory_mb
        env = {**os.environ, **self.spec.env}

        def in_child() -> None:
            die_with_parent(parent)
            if memory_mb:  # what an isolated case's child would have had, or less if it is one
                _, hard = resource.getrlimit(resource.RLIMIT_AS)
                limit = memory_mb * 1024 * 1024
                limit = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        try:
            child = subprocess.Popen(
                list(self.spec.command), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, cwd=self.spec.cwd, env=env, preexec_fn=in_child)
        except (OSError, subprocess.SubprocessError) as error:
            raise PeerFault(f"{self.spec.name}: cannot start {' '.join(self.spec.command)}: "
                            f"{error}", source="harness") from error
        for pipe in (child.stdout, child.stderr):
            os.set_blocking(pipe.fileno(), False)  # type: ignore[union-attr]
        self._child, self._owner, self._buffer, self._scanned = child, parent, bytearray(), 0
        self._borrowed = self._needs_sync = False
        self._stderr.clear()
        self.starts += 1

    def _sync(self) -> None:
        """After a loan: a `ping` (any answer with its id will do) proves the conversation is
        whole; stale answers of the isolated child are skipped by id. No answer: start anew."""
        self._needs_sync = False
        if self._child is None:
            return
        with contextlib.suppress(PeerFault):
            self.request({"op": "ping"}, SYNC_TIMEOUT_S)

    def close(self) -> None:
        """Close stdin (the child exits), then make sure it did."""
        child, self._child = self._child, None
        if child is None or self._owner != os.getpid():
            return
        with contextlib.suppress(OSError):
            child.stdin.close()  # type: ignore[union-attr]
        try:
            child.wait(timeout=2)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        for pipe in (child.stdout, child.stderr):
            with contextlib.suppress(OSError):
                pipe.close()  # type: ignore[union-attr]

    def _kill(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signal.SIGKILL)
        child.wait()
        self._drain_stderr(child)
        for pipe in (child.stdin, child.stdout, child.stderr):
            with contextlib.suppress(OSError):
                pipe.close()  # type: ignore[union-attr]

    # -- one request, one answer --------------------------------------------------------------

    def request(self, message: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        """Send `message` with a fresh id and return the answer that carries it."""
        if self._needs_sync and self._owner == os.getpid():
            self._sync()
        child = self._ensure()
        self._next_id += 1
        ident = self._next_id
        line = (json.dumps({"id": ident, **message}, separators=(",", ":")) + "\n").encode()
        deadline = time.monotonic() + timeout_s
        try:
            self._write(child, line, deadline, timeout_s)
            return self._read_answer(child, ident, deadline, message.get("op", "?"), timeout_s)
        except BaseException:
            # A stop signal, a time-out or a death: the conversation is lost with the child.
            self._kill()
            raise

    def _write(self, child: subprocess.Popen[bytes], data: bytes, deadline: float,
               timeout_s: float) -> None:
        stdin = child.stdin.fileno()  # type: ignore[union-attr]
        view = memoryview(data)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._hung(child, "reading its request", timeout_s)
            # Drain stderr while writing, so a child that logs a lot cannot block us both.
            err = child.stderr.fileno()  # type: ignore[union-attr]
            readable, writable, _ = select.select([err], [stdin], [], remaining)
            if readable:
                self._drain_stderr(child)
            if writable:
                try:
                    view = view[os.write(stdin, view[:1 << 16]):]
                except BrokenPipeError:
                    raise self._died(child, "its request") from None

    def _read_answer(self, child: subprocess.Popen[bytes], ident: int, deadline: float,
                     op: str, timeout_s: float) -> dict[str, Any]:
        out = child.stdout.fileno()  # type: ignore[union-attr]
        err = child.stderr.fileno()  # type: ignore[union-attr]
        while True:
            answer = self._answer_in_buffer(ident)
            if answer is not None:
                return answer
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._hung(child, op, timeout_s)
            readable, _, _ = select.select([out, err], [], [], remaining)
            if err in readable:
                self._drain_stderr(child)
            if out in readable:
                try:
                    chunk = os.read(out, 1 << 20)
                except BlockingIOError:
                    continue
                if not chunk:
                    raise self._died(child, op)
                self._buffer += chunk

    def _answer_in_buffer(self, ident: int) -> dict[str, Any] | None:
        while (end := self._buffer.find(b"\n", self._scanned)) >= 0:
            line = bytes(self._buffer[:end])
            del self._buffer[:end + 1]
            self._scanned = 0
            try:
                answer = json.loads(line)
            except ValueError:
                continue  # the protocol lets a runtime print non-JSON lines (node's warnings)
            if isinstance(answer, dict) and answer.get("id") == ident:
                return answer
        self._scanned = len(self._buffer)
        return None

    def _drain_stderr(self, child: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(OSError, ValueError):
            while True:
                chunk = os.read(child.stderr.fileno(), 1 << 16)  # type: ignore[union-attr]
                if not chunk:
                    return
                self._stderr.append(chunk)

    def cpu_seconds(self) -> tuple[int, float] | None:
        """(pid, CPU seconds) of the child so far, every thread (Linux `schedstat`, ns)."""
        child = self._child
        if child is None:
            return None
        total = 0
        try:
            for task in os.listdir(f"/proc/{child.pid}/task"):
                with open(f"/proc/{child.pid}/task/{task}/schedstat", encoding="ascii") as stat:
                    total += int(stat.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return child.pid, total / 1e9

    def stderr_tail(self) -> str:
        text = b"".join(self._stderr).decode("utf-8", "replace").strip()
        return text[-STDERR_TAIL:]

    def _died(self, child: subprocess.Popen[bytes], op: object) -> PeerFault:
        try:
            status = child.wait(timeout=2)
        except subprocess.TimeoutExpired:
            status = None
        self._drain_stderr(child)
        how = ("did not exit" if status is None else
               f"killed by {signal.Signals(-status).name}" if status < 0 else
               f"exit status {status}")
        tail = self.stderr_tail()
        if any(sign in tail for sign in OUT_OF_MEMORY):
            return PeerFault(f"{self.spec.name}: out of memory: the peer's process died during "
                             f"{op} ({how}); restarted for the next cell; stderr: {tail}",
                             actual="hang")
        return PeerFault(f"{self.spec.name}: the peer's process died during {op} ({how}); "
                         f"restarted for the next cell" + (f"; stderr: {tail}" if tail else ""))

    def _hung(self, child: subprocess.Popen[bytes], op: object, timeout_s: float) -> PeerFault:
        return PeerFault(f"{self.spec.name}: no answer to {op} within {timeout_s:g} s (killed; "
                         f"restarted for the next cell)", actual="hang")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen = dict(pairs)
    if len(seen) != len(pairs):
        raise ValueError("a member name appears twice")
    return seen


class PeerAdapter(Adapter):
    """A library in another process, as an `Adapter`: capabilities from `info`, operations as
    requests. `name`, `version` and `language` come from the spec and the peer's own `info`."""

    rejection_errors = ()

    def __init__(self, spec: PeerSpec) -> None:
        super().__init__()
        self.spec, self.timeout_s = spec, spec.timeout_s
        self.name = spec.name  # type: ignore[misc]
        self.distribution = spec.name  # type: ignore[misc]
        self.language = spec.language
        self.process = PeerProcess(spec)
        suites = [suite_object(s) for s in (*ALL_SUITES, MADE_UP_SUITE)]
        try:
            info = self._ask("info", START_TIMEOUT_S, suites=suites)
        except (PeerFault, Rejected, Unsupported) as error:
            tail = self.process.stderr_tail()
            raise HarnessError(f"peer {spec.name} did not answer info: {error}"
                               + (f" (stderr: {tail})" if tail and tail not in str(error) else "")
                               ) from error
        self.info = info if isinstance(info, dict) else {}
        try:
            self._supported = frozenset(self.info["supports"])
            self._by_default = frozenset(self.info.get("allows_by_default", ())) & self._supported
            self.produces = {f: frozenset(v) for f, v in  # type: ignore[misc]
                             (self.info.get("produces") or {}).items()}
            self.consumes = {f: frozenset(v) for f, v in  # type: ignore[misc]
                             (self.info.get("consumes") or {}).items()}
            self.entry_points = dict(self.info.get("entry_points")  # type: ignore[misc]
                                     or {"jws": "the driver's verify/decrypt"})
        except (KeyError, TypeError, AttributeError) as error:
            raise HarnessError(f"peer {spec.name} answered info without a valid "
                               f"{error}: {str(info)[:300]}") from error
        self.library_version = str(self.info.get("version", "?"))
        self.runtime = str(self.info.get("runtime", ""))
        # Extensions a driver may declare (peers/README.md): keys as text or bytes, JSON tokens
        # as their exact text, and the claims validation of a JWT API.
        self.key_forms = frozenset(self.info.get("key_forms", ()))
        self.token_text = bool(self.info.get("token_text"))
        self.claims = bool(self.info.get("claims"))
        self.requires_allow_list = bool(self.info.get("requires_allow_list"))  # type: ignore[misc]

    @property
    def version(self) -> str:
        return self.library_version

    def describe(self) -> dict[str, Any]:
        """What `run.json` records of the peer beside its version."""
        return {"language": self.language, "version": self.library_version,
                "library": self.info.get("name"), "runtime": self.runtime,
                "release_of": self.spec.library, "protocol": PROTOCOL_VERSION,
                "command": list(self.spec.command)}

    def close(self) -> None:
        self.process.close()

    def cpu_seconds(self) -> tuple[int, float] | None:
        """The peer process's CPU so far: what a cost verdict charges a peer with, since the
        harness's own CPU for a peer's cell is JSON and a pipe, not the library's work."""
        return self.process.cpu_seconds()

    # -- capabilities -------------------------------------------------------------------------

    def supports(self, suite: Suite) -> bool:
        return suite.name in self._supported

    def allows_by_default(self, suite: Suite) -> bool:
        return suite.name in self._by_default

    # -- the protocol -------------------------------------------------------------------------

    def _ask(self, op: str, timeout_s: float | None = None, **fields: Any) -> Any:
        answer = self.process.request({"op": op, **fields}, timeout_s or self.timeout_s)
        return self.outcome(answer)

    def outcome(self, answer: dict[str, Any]) -> Any:
        """An answer's result, or the exception its other member stands for."""
        if "result" in answer:
            return answer["result"]
        if "rejected" in answer:
            raise Rejected(str(answer["rejected"]))
        if "unsupported" in answer:
            raise Unsupported(f"{self.name}: {answer['unsupported']}")
        if "oversize" in answer:
            raise PeerFault(f"{self.name}: the peer did not refuse: its answer holds "
                            f"{answer['oversize']} bytes, more than the case's memory cap lets "
                            f"the harness read", actual="hang")
        if "error" in answer and str(answer["error"]).startswith("MemoryError"):
            # As in-process: running out of memory on a hostile token is a hang, not a crash.
            raise PeerFault(str(answer["error"]), actual="hang")
        if "error" in answer:
            source = answer.get("error_source", "library")
            # The row names the peer already; the text stays the library's own.
            raise PeerFault(str(answer["error"]),
                            source=source if source in ("library", "harness") else "library")
        raise PeerFault(f"{self.name}: an answer with none of result, rejected, unsupported, "
                        f"error: {str(answer)[:200]}", source="harness")

    def batch(self, requests: Sequence[dict[str, Any]], timeout_s: float | None = None
              ) -> list[dict[str, Any]]:
        """Several requests in one round trip; the answers in order (each its own outcome)."""
        numbered = [{"id": i + 1, **request} for i, request in enumerate(requests)]
        answers = self._ask("batch", timeout_s or self.timeout_s * max(1, len(numbered)),
                            requests=numbered)
        return list(answers)

    def bench(self, operation: Operation, n: int, request: dict[str, Any],
              timeout_s: float = 120.0) -> float:
        """Seconds the peer took for `n` operations in its own loop (its runtime's figure)."""
        result = self._ask("bench", timeout_s, operation=operation, n=n, request=request)
        return float(result["seconds"])

    def _key(self, key: KeyData) -> Any:
        if isinstance(key, dict):
            return key
        raw = handed_over(key)
        if isinstance(key, str) and "text" in self.key_forms:
            return {"key_text": str(key), "handed_over": raw}
        if isinstance(key, bytes) and "bytes" in self.key_forms:
            return {"key_bytes": b64url(bytes(key)), "handed_over": raw}
        form = "text" if isinstance(key, str) else "bytes"
        raise Unsupported(f"{self.name}: the peer takes keys as JWK only (this key is {form})")

    def _token(self, token: str, serialization: Serialization) -> Any:
        if serialization == "compact" or self.token_text:
            return token
        try:
            message = json.loads(token, object_pairs_hook=_no_duplicates)
        except ValueError as error:
            raise Unsupported(f"{self.name}: the token is not a JSON object the protocol can "
                              f"carry unchanged ({error})") from error
        if not isinstance(message, dict):
            raise Unsupported(f"{self.name}: the token is JSON but not an object")
        return message

    @staticmethod
    def _token_back(token: Any) -> str:
        return token if isinstance(token, str) else json.dumps(token, separators=(",", ":"))

    def request_of(self, operation: Operation, suite: Suite, data: Any, key: KeyData, *,
                   mode: Mode, header: dict[str, Any] | None = None,
                   serialization: Serialization = "compact", algorithms: Allowed = None,
                   entry_point: EntryPoint = "jws") -> dict[str, Any]:
        """The fields of one operation's request (without id and op), as `bench` also sends."""
        fields: dict[str, Any] = {"suite": suite_object(suite), "key": self._key(key),
                                  "serialization": serialization, "mode": mode,
                                  "algorithms": algorithms}
        if operation == "sign":
            fields.update(payload=b64url(data), header=header or {})
        elif operation == "encrypt":
            fields.update(plaintext=b64url(data), header=header or {})
        else:
            fields.update(token=self._token(data, serialization), entry_point=entry_point)
            limit = answer_limit_bytes()
            if limit is not None:
                fields["max_bytes"] = limit
        return fields

    def _operation(self, operation: Operation, suite: Suite, data: Any, key: KeyData,
                   mode: Mode, header: dict[str, Any] | None, serialization: Serialization,
                   allowed: Allowed, entry_point: EntryPoint = "jws") -> Any:
        fields = self.request_of(operation, suite, data, key, mode=mode, header=header,
                                 serialization=serialization, algorithms=allowed,
                                 entry_point=entry_point)
        try:
            result = self._ask(operation, **fields)
            if operation in ("sign", "encrypt"):
                return self._token_back(result)
            member = "payload" if operation == "verify" else "plaintext"
            if not isinstance(result, dict) or not isinstance(result.get(member), str):
                raise PeerFault(f"{self.name}: {operation} answered without a {member}: "
                                f"{str(result)[:200]}", source="library")
            return unb64(result[member])
        except MemoryError:
            # Under an isolated case's cap: the library did not refuse (a decompression bomb
            # inflated) and its answer, as base64 in JSON, is more than the cap holds here.
            raise PeerFault(f"{self.name}: out of memory: the peer did not refuse and its "
                            f"{operation} answer was too large for the case's memory cap "
                            f"in the harness", actual="hang") from None

    # The public operations keep the caller's mode (the `_` ones below serve `prepared`).
    def sign(self, suite: Suite, payload: bytes, key: KeyData, *, mode: Mode,
             header: dict[str, Any] | None = None, serialization: Serialization = "compact",
             algorithms: Sequence[str] | None = None) -> str:
        self.check(suite, mode, "sign", serialization, explicit=algorithms is not None)
        return self._operation("sign", suite, payload, key, mode, header, serialization,
                               self.allow_list(suite, mode, algorithms))  # type: ignore[no-any-return]

    def encrypt(self, suite: Suite, plaintext: bytes, key: KeyData, *, mode: Mode,
                header: dict[str, Any] | None = None, serialization: Serialization = "compact",
                algorithms: Sequence[str] | None = None) -> str:
        self.check(suite, mode, "encrypt", serialization, explicit=algorithms is not None)
        return self._operation("encrypt", suite, plaintext, key, mode, header, serialization,
                               self.allow_list(suite, mode, algorithms))  # type: ignore[no-any-return]

    def verify(self, suite: Suite, token: str, key: KeyData, *, mode: Mode,
               serialization: Serialization = "compact",
               algorithms: Sequence[str] | None = None,
               entry_point: EntryPoint = "jws") -> bytes:
        self.check(suite, mode, "verify", serialization, explicit=algorithms is not None)
        self.check_entry_point(entry_point)
        return self._operation("verify", suite, token, key, mode, None,  # type: ignore[no-any-return]
                               serialization, self.allow_list(suite, mode, algorithms),
                               entry_point)

    def decrypt(self, suite: Suite, token: str, key: KeyData, *, mode: Mode,
                serialization: Serialization = "compact",
                algorithms: Sequence[str] | None = None,
                entry_point: EntryPoint = "jws") -> bytes:
        self.check(suite, mode, "decrypt", serialization, explicit=algorithms is not None)
        self.check_entry_point(entry_point)
        return self._operation("decrypt", suite, token, key, mode, None,  # type: ignore[no-any-return]
                               serialization, self.allow_list(suite, mode, algorithms),
                               entry_point)

    def validate_claims(self, suite: Suite, token: str, key: KeyData, options: ClaimsOptions,
                        *, mode: Mode, algorithms: Sequence[str] | None = None
                        ) -> dict[str, Any]:
        self.check(suite, mode, "verify", "compact", explicit=algorithms is not None)
        if not self.claims:
            raise Unsupported(f"{self.name}: its driver offers no claims validation "
                              f"(the protocol's optional validate_claims)")
        result = self._ask("validate_claims", suite=suite_object(suite), token=token,
                           key=self._key(key), mode=mode,
                           algorithms=self.allow_list(suite, mode, algorithms),
                           options={"leeway_s": options.leeway_s, "audience": options.audience,
                                    "issuer": options.issuer,
                                    "required": list(options.required)})
        if not isinstance(result, dict) or not isinstance(result.get("claims"), dict):
            raise PeerFault(f"{self.name}: validate_claims answered without claims: "
                            f"{str(result)[:200]}")
        return result["claims"]  # type: ignore[no-any-return]

    # `prepared` (timed loops) calls these; the mode follows from the allow-list it computed.
    def _sign(self, suite: Suite, payload: bytes, key: KeyData, header: dict[str, Any],
              allowed: Allowed, serialization: Serialization) -> str:
        return self._operation("sign", suite, payload, key, _mode_of(allowed),  # type: ignore[no-any-return]
                               header, serialization, allowed)

    def _verify(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                serialization: Serialization) -> bytes:
        return self._operation("verify", suite, token, key, _mode_of(allowed),  # type: ignore[no-any-return]
                               None, serialization, allowed)

    def _encrypt(self, suite: Suite, plaintext: bytes, key: KeyData, header: dict[str, Any],
                 allowed: Allowed, serialization: Serialization) -> str:
        return self._operation("encrypt", suite, plaintext, key,  # type: ignore[no-any-return]
                               _mode_of(allowed), header, serialization, allowed)

    def _decrypt(self, suite: Suite, token: str, key: KeyData, allowed: Allowed,
                 serialization: Serialization) -> bytes:
        return self._operation("decrypt", suite, token, key, _mode_of(allowed),  # type: ignore[no-any-return]
                               None, serialization, allowed)


def _mode_of(allowed: Allowed) -> Mode:
    return "default" if allowed is None else "enabled"
