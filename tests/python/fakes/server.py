"""A tiny real HTTP server on 127.0.0.1 for fake vendor APIs.

A fake is a `Handler`: it receives the parsed request and returns a `Reply`. The server runs in a
background thread, records every request (for assertions on what the client sent), and stops
when the context manager exits.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list -> JSON; str/bytes sent as-is
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0  # to provoke client timeouts


Handler = Callable[[Request], Reply]


@dataclass
class RunningServer:
    base_url: str
    requests: list[Request]


@contextmanager
def serve(handler: Handler) -> Iterator[RunningServer]:
    """Serve `handler` on a free port of 127.0.0.1 until the block exits."""
    recorded: list[Request] = []
    lock = threading.Lock()

    class _RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={key.lower(): value for key, value in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            with lock:
                recorded.append(request)
            reply = handler(request)
            if reply.delay_seconds:
                threading.Event().wait(reply.delay_seconds)
            if isinstance(reply.body, bytes):
                payload = reply.body
            elif isinstance(reply.body, str):
                payload = reply.body.encode()
            elif reply.body is None:
                payload = b""
            else:
                payload = json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json", **reply.headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:  # silence the default stderr log
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), _RequestHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        yield RunningServer(base_url=f"http://127.0.0.1:{port}", requests=recorded)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
