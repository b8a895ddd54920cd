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


def warm_up(validate: Validate | None, tokens_path: Path | None) -> None:
    """Validate the first good token once, so key imports happen before the window."""
    if validate is None or tokens_path is None:
        return
    tokens = json.loads(tokens_path.read_text(encoding="utf-8"))
    good = next(token for token, status, _ in tokens if status == 200)
    validate(good)


def listening(fds: list[int]) -> list[socket.socket]:
    return [socket.socket(fileno=fd) for fd in fds]


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
    parser.add_argument("--fd", type=int, action="append", required=True,
                        help="a listening socket's fd (one per profile)")
    parser.add_argument("--tokens", type=Path, action="append", default=[],
                        help="each profile's tokens (its first good one is validated at "
                             "start-up)")
    parser.add_argument("--cpu", type=int, help="the core to pin the server to")
    parser.add_argument("--parent-pid", type=int, help="exit when this process is gone")
    args = parser.parse_args(argv)
    if len(args.profile) != len(args.fd) or len(args.tokens) not in (0, len(args.fd)):
        parser.error("give one --fd (and one --tokens) per --profile")
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
            sockets = listening(args.fd)
            validators: dict[int, Validate | None] = {}
            for index, (profile, sock) in enumerate(zip(args.profile, sockets, strict=True)):
                validate = (build or library_validator)(args.library, profile)
                warm_up(validate, args.tokens[index] if args.tokens else None)
                validators[sock.getsockname()[1]] = validate
            serve(make_app(validators), sockets)
    except Stopped as stop:
        return exit_code(stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
