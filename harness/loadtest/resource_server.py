"""A resource server for one library and one access-token profile: a plain ASGI app on uvicorn.

`GET /resource` with `Authorization: Bearer <token>` answers 200 and a tiny body when the
library's `validate_access_token` accepts the token (RFC 9068 §4), and 401 with a
`WWW-Authenticate` challenge (RFC 6750 §3) otherwise; `GET /healthz` says it is up. An
exception the library does not document answers 500, which the load test counts as a failure.

One worker process on one core (`--cpu`) serves every profile of its library, each on its own
port, so `GET /resource` on a port is validated by that profile's keys and suites; keys are
imported and each profile's first token validated at start-up, so a window measures validation
and HTTP alone. The listening sockets are handed over by the harness (`--fd`): connections
queue from the moment they exist, and no port can be taken by someone else between choosing
and binding it. It dies with the harness.

    python -m harness.loadtest.resource_server --library joserfc --profile RS256 --fd 3 ...

Started on its own, for Locust on this machine or on others, it binds `--listen HOST:PORT`
itself (one per profile; port 0 picks a free one), mints each profile's tokens with another
installed library and writes the plan the Locust processes follow (`--write-plan`, see
`http_plan.py`) once it is ready to serve:

    python -m harness.loadtest.resource_server --library joserfc --profile RS256 \
        --listen 0.0.0.0:8000 --write-plan plan.json --window 10
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from harness.core.errors import Rejected
from harness.core.shutdown import Stopped, die_with_parent, exit_code, stop_on_signals

Validate = Callable[[str], Any]
Scope = dict[str, Any]
Send = Callable[[dict[str, Any]], Awaitable[None]]
BODY = b'{"ok":true}'
REALM = 'Bearer realm="jose-harness"'
# RFC 6750 §3.1: a request without a token gets the challenge alone; a bad token, invalid_token.
CHALLENGE_NONE = REALM.encode()
CHALLENGE_INVALID = f'{REALM}, error="invalid_token"'.encode()


def bearer(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


async def respond(send: Send, status: int, body: bytes = b"",
                  challenge: bytes | None = None) -> None:
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]
    if challenge is not None:
        headers.append((b"www-authenticate", challenge))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def make_app(validators: dict[int, Validate | None]) -> Callable[..., Awaitable[None]]:
    """The ASGI app: the validator of the port the request came in on (one port per profile);
    None is the no-check baseline (every request answers 200)."""
    async def app(scope: Scope, receive: Any, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path == "/healthz":
            await respond(send, 200, BODY)
            return
        server = scope.get("server") or (None, None)
        if path != "/resource" or server[1] not in validators:
            await respond(send, 404)
            return
        validate = validators[server[1]]
        if validate is None:
            await respond(send, 200, BODY)
            return
        token = bearer(scope["headers"])
        if token is None:
            await respond(send, 401, challenge=CHALLENGE_NONE)
            return
        try:
            validate(token)
        except Rejected:
            await respond(send, 401, challenge=CHALLENGE_INVALID)
            return
        except Exception as error:  # an undocumented failure: the load test counts it
            await respond(send, 500, f"{type(error).__name__}".encode())
            return
        await respond(send, 200, BODY)
    return app


def library_validator(library: str, profile_name: str) -> Validate | None:
    """The library's `validate_access_token` bound to the profile's suites and keys, which are
    made once here so the adapter's key cache imports each key once."""
    from harness.adapters import load_adapter
    from harness.core.keys import load_key_set
    from harness.loadtest.http_profiles import AUDIENCE, ISSUER, PROFILES_BY_NAME

    profile = PROFILES_BY_NAME[profile_name]
    signing, encryption = profile.signing_suite, profile.encryption_suite
    if signing is None:
        return None
    adapter, keys = load_adapter(library), load_key_set()
    verification_key = keys.public(signing.key)
    decryption_key = None if encryption is None else keys.private(encryption.key)

    def validate(token: str) -> Any:
        return adapter.validate_access_token(
            token, signing=signing, verification_key=verification_key, issuer=ISSUER,
            audience=AUDIENCE, encryption=encryption, decryption_key=decryption_key)
    return validate


def warm_up(validate: Validate | None, tokens: list[list[Any]] | None) -> None:
    """Validate the first good token once, so key imports happen before the window."""
    if validate is None or not tokens:
        return
    good = next(token for token, status, _ in tokens if status == 200)
    validate(good)


def listening(fds: list[int]) -> list[socket.socket]:
    return [socket.socket(fileno=fd) for fd in fds]


def bound(addresses: list[str]) -> list[socket.socket]:
    sockets = []
    for address in addresses:
        host, _, port = address.rpartition(":")
        # IPPROTO_TCP named, so asyncio sets TCP_NODELAY on each connection (it checks the
        # socket's proto): without it a 200's body waits for a delayed ACK, 40 ms a request.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host or "127.0.0.1", int(port)))
        sock.listen(1024)
        sockets.append(sock)
    return sockets


def write_plan(args: argparse.Namespace, sockets: list[socket.socket],
               tokens: list[list[list[Any]]]) -> None:
    from harness.loadtest.http_plan import plan
    from harness.loadtest.http_profiles import Token

    windows = [(profile, sock.getsockname()[1], [Token(*t) for t in profile_tokens])
               for profile, sock, profile_tokens in zip(args.profile, sockets, tokens,
                                                        strict=True)]
    data = plan(windows, os.getpid(), args.warmup, args.window, same_machine_only=True)
    tmp = args.write_plan.with_suffix(args.write_plan.suffix + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, args.write_plan)
    print(f"serving {args.library} {', '.join(f'{w[0]} on port {w[1]}' for w in windows)}; "
          f"plan for Locust in {args.write_plan}", flush=True)


def serve(app: Callable[..., Awaitable[None]], sockets: list[socket.socket]) -> None:
    import uvicorn

    config = uvicorn.Config(app, http="httptools", loop="asyncio", lifespan="off",
                            log_level="warning", access_log=False, workers=1)
    uvicorn.Server(config).run(sockets=sockets)


def pin(cpu: int | None) -> None:
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--library", required=True)
    parser.add_argument("--profile", action="append", required=True,
                        help="a profile, once per listening socket, in the order of --fd")
    parser.add_argument("--fd", type=int, action="append", default=[],
                        help="a listening socket's fd (one per profile)")
    parser.add_argument("--listen", action="append", default=[], metavar="HOST:PORT",
                        help="instead of --fd: bind this address (one per profile)")
    parser.add_argument("--write-plan", type=Path,
                        help="with --listen: mint each profile's tokens (unless --tokens) and "
                             "write the plan for Locust (HARNESS_HTTP_PLAN) here")
    parser.add_argument("--tokens-count", type=int, default=200,
                        help="with --write-plan: tokens minted per profile (default: 200)")
    parser.add_argument("--window", type=float, default=2.5,
                        help="with --write-plan: seconds each profile's window lasts")
    parser.add_argument("--warmup", type=float, default=0.5,
                        help="with --write-plan: seconds of load before each window")
    parser.add_argument("--tokens", type=Path, action="append", default=[],
                        help="each profile's tokens (its first good one is validated at "
                             "start-up)")
    parser.add_argument("--cpu", type=int, help="the core to pin the server to")
    parser.add_argument("--parent-pid", type=int, help="exit when this process is gone")
    args = parser.parse_args(argv)
    sockets = len(args.fd) + len(args.listen)
    if (args.fd and args.listen) or len(args.profile) != sockets \
            or len(args.tokens) not in (0, sockets):
        parser.error("give one --fd or one --listen (and one --tokens) per --profile")
    if args.write_plan and (args.fd or args.window < 0.5 or args.warmup < 0
                            or args.tokens_count < 10):
        parser.error("--write-plan goes with --listen, a --window of at least 0.5 s, a "
                     "--warmup of at least 0 s and --tokens-count of at least 10")
    for address in args.listen:
        _, colon, port = address.rpartition(":")
        if not colon or not port.isdigit():
            parser.error(f"--listen takes HOST:PORT, not {address!r}")
    from harness.loadtest.http_profiles import PROFILES_BY_NAME
    unknown = [name for name in args.profile if name not in PROFILES_BY_NAME]
    if unknown:
        parser.error(f"unknown profile(s) {', '.join(unknown)}; the profiles are "
                     f"{', '.join(PROFILES_BY_NAME)}")
    return args


Build = Callable[[str, str], Validate | None]


def main(argv: list[str] | None = None, build: Build | None = None) -> int:
    """Serve until stopped; `build(library, profile)` makes each validator (by default the
    library's)."""
    args = arguments(argv)
    die_with_parent(args.parent_pid)
    pin(args.cpu)
    try:
        with stop_on_signals():
            sockets = listening(args.fd) if args.fd else bound(args.listen)
            tokens = [json.loads(path.read_text(encoding="utf-8")) for path in args.tokens]
            if args.write_plan and not tokens:
                from harness.loadtest.http_plan import minted_tokens
                tokens = [[t.to_json() for t in minted_tokens(args.library, profile,
                                                               args.tokens_count)[0]]
                          for profile in args.profile]
            validators: dict[int, Validate | None] = {}
            for index, (profile, sock) in enumerate(zip(args.profile, sockets, strict=True)):
                validate = (build or library_validator)(args.library, profile)
                warm_up(validate, tokens[index] if tokens else None)
                validators[sock.getsockname()[1]] = validate
            if args.write_plan:
                write_plan(args, sockets, tokens)
            serve(make_app(validators), sockets)
    except Stopped as stop:
        return exit_code(stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
