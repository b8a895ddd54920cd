"""A tiny HTTP listener on 127.0.0.1 that counts the requests it gets.

`jku` and `x5u` attack cases put its URL in a header: a correct library never fetches it, so
any counted hit is a finding even when the token is then refused.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


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

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/{path.lstrip('/')}"

    def __enter__(self) -> HitCounter:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
