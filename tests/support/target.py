"""A real HTTP target on 127.0.0.1 for the tests: threaded, keep-alive, with routes of known behaviour.

Routes: ``/health`` (200), ``/slow?ms=N`` (200 after N ms), ``/status/N`` (that status), ``/hang`` (accepts, never
answers until the server stops), ``/redirect?to=URL`` (302 to URL), ``/pages/...`` (200: a site under a path),
``/token/...`` (200: a path that carries a value), ``/degrade?after=S`` (200 for S seconds after the server's first
request to it, then 500), anything else 404.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: TargetServer

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes: without this, Nagle + delayed ACK add ~40 ms to each response
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self._answer()

    def _answer(self) -> None:
        url = urlsplit(self.path)
        self.server.count(url.path)
        if url.path == "/health":
            self._send(200, b'{"status": "ok"}')
        elif url.path == "/slow":
            delay_ms = float(parse_qs(url.query).get("ms", ["100"])[0])
            time.sleep(delay_ms / 1000.0)
            self._send(200, b"slow")
        elif url.path.startswith("/status/"):
            self._send(int(url.path.rsplit("/", 1)[1]), b"status")
        elif url.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", parse_qs(url.query)["to"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif url.path.startswith(("/pages/", "/token/")):
            self._send(200, b"page")
        elif url.path == "/degrade":
            after = float(parse_qs(url.query).get("after", ["2"])[0])
            self._send(500 if self.server.seconds_since_first("/degrade") > after else 200, b"degrade")
        elif url.path == "/hang":
            self.server.stopping.wait()
        else:
            self._send(404, b"not found")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class TargetServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.stopping = threading.Event()
        self.hits: dict[str, int] = {}
        self.first_hit: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up mid-response (a scenario stopping) is normal here, not worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]

    def count(self, path: str) -> None:
        with self._lock:
            self.hits[path] = self.hits.get(path, 0) + 1
            self.first_hit.setdefault(path, time.monotonic())

    def seconds_since_first(self, path: str) -> float:
        """Seconds since the first request to ``path`` (counted with ``count``)."""
        return time.monotonic() - self.first_hit[path]

    def __enter__(self) -> TargetServer:
        threading.Thread(target=self.serve_forever, name="target-server", daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
