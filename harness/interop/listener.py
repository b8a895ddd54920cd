"""A tiny HTTP listener on 127.0.0.1 that counts the requests it gets.

`jku` and `x5u` attack cases put its URL in a header: a correct library never fetches it, so
any counted hit is a finding even when the token is then refused.
"""

from __future__ import annotations

import os
import selectors
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


class _LocalServer(ThreadingHTTPServer):
    def server_bind(self) -> None:
        # HTTPServer's own looks its host up (`getfqdn`: a reverse DNS query, 20-30 ms, and
        # an import of the idna codec in every isolated case's fresh child).
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class HitCounter:
    """Serves `body` at every path on an ephemeral port; `hits` lists the paths requested."""

    def __init__(self, body: bytes, content_type: str = "application/json") -> None:
        self.body, self.content_type = body, content_type
        self.hits: list[str] = []
        counter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                counter.hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", counter.content_type)
                self.send_header("Content-Length", str(len(counter.body)))
                self.end_headers()
                self.wfile.write(counter.body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # the count is the record; stderr stays quiet

        self._server = _LocalServer(("127.0.0.1", 0), Handler)
        # Its own loop, woken by a pipe to stop: `serve_forever` notices `shutdown()` only at its
        # next poll, and a poll of 50 ms was most of a jku/x5u cell's time.
        self._wake_read, self._wake_write = os.pipe()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._server, selectors.EVENT_READ)
            selector.register(self._wake_read, selectors.EVENT_READ)
            while True:
                for key, _ in selector.select():
                    if key.fileobj == self._wake_read:
                        return
                    self._server._handle_request_noblock()  # type: ignore[attr-defined]

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/{path.lstrip('/')}"

    def __enter__(self) -> HitCounter:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        os.write(self._wake_write, b"x")
        self._thread.join(timeout=5)
        self._server.server_close()
        os.close(self._wake_read)
        os.close(self._wake_write)
