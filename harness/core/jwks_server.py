"""A JWKS endpoint on 127.0.0.1, for the libraries whose key-resolving form fetches a key set over
HTTP (PyJWT's `PyJWKClient`): the library makes a real request, as it does in an application.

One server per process, started on first use and stopped when the process ends (through
`harness.core.shutdown.at_exit`). A forked worker does not inherit the serving thread, so a
process that did not start the server starts its own. Each key set is served at a path named by
the digest of its JSON, so one server serves every key set a worker meets.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness.core.shutdown import at_exit

CONTENT_TYPE = "application/jwk-set+json"


class JwksServer:
    """Serves registered key sets at `/jwks/<sha256>.json`; anything else is 404."""

    def __init__(self) -> None:
        self.bodies: dict[str, bytes] = {}
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                body = server.bodies.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", CONTENT_TYPE)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.05,),
                                        name="jwks-server", daemon=True)
        self._thread.start()

    def url_for(self, jwks: dict[str, Any]) -> str:
        body = json.dumps(jwks, separators=(",", ":"), sort_keys=True).encode("utf-8")
        path = f"/jwks/{hashlib.sha256(body).hexdigest()}.json"
        self.bodies[path] = body
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}{path}"

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)


_servers: dict[int, JwksServer] = {}
_lock = threading.Lock()


def serve(jwks: dict[str, Any]) -> str:
    """The URL at which this process's server serves `jwks` (starting the server if needed)."""
    with _lock:
        server = _servers.get(os.getpid())
        if server is None:
            server = _servers[os.getpid()] = JwksServer()
            at_exit(stop)
    return server.url_for(jwks)


def stop() -> None:
    """Stop this process's server, if it started one (never one a parent process started)."""
    with _lock:
        server = _servers.pop(os.getpid(), None)
    if server is not None:
        server.stop()
