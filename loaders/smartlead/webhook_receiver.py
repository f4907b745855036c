"""A small HTTP server that receives Smartlead webhooks into the spool (see spool.py).

    python -m loaders.smartlead.webhook_receiver --port 8787 --spool-dir warehouse/webhook_spool

The shared secret comes from SMARTLEAD_WEBHOOK_SECRET or `sources.smartlead.webhook_secret` in
.dlt/secrets.toml; the server refuses to start without one.

`POST <path>` (default `/webhooks/smartlead`):
- body not JSON, or not a JSON object -> 400, recorded in `rejected-*.jsonl` (secrets redacted);
- `secret_key` missing or different from the shared secret (constant-time compare) -> 401,
  nothing written;
- otherwise the event (without `secret_key`) is appended to the spool and fsynced, then 200.
Other paths -> 404, other methods -> 405, bodies over 1 MB -> 413. Request lines are logged
without bodies and the secret is never logged.
"""

from __future__ import annotations

import argparse
import hmac
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any

from loaders.common.http import MissingSecretError, require_secret
from loaders.smartlead.settings import (
    WEBHOOK_MAX_BODY_BYTES,
    WEBHOOK_PATH,
    WEBHOOK_SECRET_DLT,
    WEBHOOK_SECRET_ENV,
)
from loaders.smartlead.spool import Spool

logger = logging.getLogger(__name__)

__all__ = ["WebhookReceiver", "main", "secret_matches"]


def secret_matches(given: Any, expected: str) -> bool:
    """Constant-time comparison of the body's `secret_key` with the shared secret."""
    if not isinstance(given, str) or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class _ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # bursts of concurrent deliveries

    def __init__(self, address: tuple[str, int], spool: Spool, secret: str, path: str) -> None:
        super().__init__(address, _WebhookHandler)
        self.spool = spool
        self.secret = secret
        self.webhook_path = path


class _WebhookHandler(BaseHTTPRequestHandler):
    server: _ReceiverServer
    protocol_version = "HTTP/1.1"

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _path(self) -> str:
        return self.path.split("?", 1)[0].rstrip("/") or "/"

    def do_POST(self) -> None:
        if self._path() != self.server.webhook_path.rstrip("/"):
            self._drain()
            self._reply(404, {"ok": False, "error": "not found"})
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._reply(411, {"ok": False, "error": "Content-Length required"})
            return
        if length > WEBHOOK_MAX_BODY_BYTES:
            self.close_connection = True
            self._reply(413, {"ok": False, "error": "body too large"})
            return
        body = self.rfile.read(length) if length else b""
        text = body.decode("utf-8", errors="replace")
        try:
            event = json.loads(text)
        except json.JSONDecodeError as error:
            self._reject(f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}", text)
            return
        if not isinstance(event, dict):
            self._reject(f"event is not a JSON object ({type(event).__name__})", text)
            return
        if not secret_matches(event.get("secret_key"), self.server.secret):
            self._reply(401, {"ok": False, "error": "bad or missing secret_key"})
            return
        try:
            self.server.spool.append_event(event)
        except OSError:
            logger.exception("smartlead webhook: could not write the spool")
            self._reply(503, {"ok": False, "error": "spool unavailable, retry later"})
            return
        self._reply(200, {"ok": True})

    def _reject(self, reason: str, text: str) -> None:
        try:
            self.server.spool.append_rejected(reason, text)
        except OSError:
            logger.exception("smartlead webhook: could not write the rejected spool")
        self._reply(400, {"ok": False, "error": reason})

    def _drain(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if 0 < length <= WEBHOOK_MAX_BODY_BYTES:
            self.rfile.read(length)
        else:
            self.close_connection = True

    def _not_allowed(self) -> None:
        self._drain()
        self.send_response(405)
        self.send_header("Allow", "POST")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_PUT = do_PATCH = do_DELETE = do_HEAD = _not_allowed  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        # the request line has no secret (it travels in the body); keep it at debug level
        logger.debug("smartlead webhook %s: " + format, self.address_string(), *args)


class WebhookReceiver:
    """The receiver as an object: `start()` serves in a background thread, `stop()` ends it."""

    def __init__(
        self,
        spool: Spool,
        secret: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = WEBHOOK_PATH,
    ) -> None:
        if not secret:
            raise ValueError("a webhook secret is required")
        self.server = _ReceiverServer((host, port), spool, secret, path)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        host = str(self.server.server_address[0])
        return f"http://{host}:{self.port}{self.server.webhook_path}"

    def start(self) -> WebhookReceiver:
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, name="smartlead-webhooks", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


SPOOL_DIR_ENV = "OUTREACH_WEBHOOK_SPOOL_DIR"


def main(argv: Sequence[str] | None = None, *, default_spool_dir: Path | None = None) -> int:
    """`default_spool_dir`: where `outreach ingest` reads the spool (the runner passes it), else
    OUTREACH_WEBHOOK_SPOOL_DIR, else warehouse/webhook_spool."""
    spool_dir = default_spool_dir or Path(os.environ.get(SPOOL_DIR_ENV, "").strip() or "warehouse/webhook_spool")
    parser = argparse.ArgumentParser(
        prog="python -m loaders.smartlead.webhook_receiver",
        description=f"Receive Smartlead webhooks into a durable spool (secret: ${WEBHOOK_SECRET_ENV}).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument(
        "--spool-dir", type=Path, default=spool_dir, help=f"default: ${SPOOL_DIR_ENV}, where `ingest` reads it"
    )
    parser.add_argument("--path", default=WEBHOOK_PATH, help=f"URL path to accept (default {WEBHOOK_PATH})")
    parser.add_argument("--max-file-bytes", type=int, default=None, help="rotate spool files above this size")
    args = parser.parse_args(argv)
    # force: `outreach webhook-receiver` has configured WARNING already; the address must show
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    try:
        secret = require_secret("smartlead webhook", WEBHOOK_SECRET_ENV, WEBHOOK_SECRET_DLT)
    except MissingSecretError as error:  # one line naming the setting, not a traceback
        print(f"error: {error}: the receiver does not start without the secret Smartlead sends", file=sys.stderr)
        return 2
    spool = Spool(args.spool_dir, **({} if args.max_file_bytes is None else {"max_bytes": args.max_file_bytes}))
    receiver = WebhookReceiver(spool, secret, host=args.host, port=args.port, path=args.path)

    def _stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=receiver.server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    logger.info("smartlead webhooks: listening on %s, spool %s", receiver.url, args.spool_dir)
    try:
        receiver.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        receiver.server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
