"""A tiny peer speaking the protocol of peers/README.md, for the peer adapter's tests.

`python tests/fake_peer.py MODE [--once FILE]`; MODE is one of
- `accept`: implements every JWS suite it is offered; its tokens are `header.payload.fake`, and
  it accepts every token, giving back the token's middle segment as the payload;
- `reject`: signs as `accept` does, refuses every token;
- `nothing`: implements no suite;
- `crash-after=N` / `hang-after=N`: as `accept`, but the Nth operation after `info` exits
  without answering / never answers; with `--once FILE` only the first time (FILE marks it),
  so exactly one cell is lost.
Verification honours `max_bytes` (answers `oversize`). Every mode obeys the protocol's
test-only `crash` and `hang` ops, and `oom`: dies as node does
when V8 reaches its heap limit (the message on stderr, then SIGABRT). It prints a non-JSON line
first, as node does, which the adapter must skip.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main(argv: list[str]) -> int:
    mode = argv[0]
    once = argv[argv.index("--once") + 1] if "--once" in argv else None
    kind, _, count = mode.partition("=")
    fail_at = int(count) if count else 0
    seen = 0
    out = sys.stdout
    print("(node:1234) Warning: not JSON, to be skipped", file=out, flush=True)

    def fail_now() -> bool:
        if kind not in ("crash-after", "hang-after") or seen != fail_at:
            return False
        if once is None:
            return True
        if os.path.exists(once):
            return False
        open(once, "w").close()
        return True

    def answer(request: dict) -> dict | None:
        nonlocal seen
        ident, op = request.get("id"), request.get("op")
        if op == "crash":
            os._exit(3)
        if op == "hang":
            time.sleep(3600)
        if op == "oom":
            print("FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of "
                  "memory", file=sys.stderr, flush=True)
            os.abort()
        if op == "info":
            suites = [] if kind == "nothing" else [
                s["name"] for s in request["suites"] if s["family"] == "JWS"
                and s["alg"] != "XX999"]
            return {"id": ident, "result": {
                "name": "fake", "version": "0.0.1", "language": "python",
                "runtime": "fake", "supports": suites, "allows_by_default": suites,
                "produces": {"JWS": ["compact"]}, "consumes": {"JWS": ["compact"]},
                "entry_points": {"jws": "fake verify", "jwt": "fake verify"}}}
        if op == "batch":
            return {"id": ident, "result": [answer(r) for r in request["requests"]]}
        seen += 1
        if fail_now():
            if kind == "crash-after":
                print("fake peer: crashing as told", file=sys.stderr, flush=True)
                os._exit(3)
            time.sleep(3600)
        if op == "sign":
            header = b64(json.dumps({"alg": request["suite"]["alg"]}).encode())
            return {"id": ident, "result": f"{header}.{request['payload']}.fake"}
        if op == "verify":
            if kind == "reject":
                return {"id": ident, "rejected": "FakeError: refused, as always"}
            payload = request["token"].split(".")[1]
            limit = request.get("max_bytes")
            if limit is not None and len(payload) * 3 // 4 > limit:
                return {"id": ident, "oversize": len(payload) * 3 // 4}
            return {"id": ident, "result": {"payload": payload}}
        if op == "bench":
            return {"id": ident, "result": {"n": request["n"], "seconds": 0.001}}
        return {"id": ident, "unsupported": f"fake has no op {op}"}

    for line in sys.stdin:
        out.write(json.dumps(answer(json.loads(line))) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
