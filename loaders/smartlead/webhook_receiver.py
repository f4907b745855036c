"""A small HTTP server that receives Smartlead webhooks into the spool (see spool.py).

    python -m loaders.smartlead.webhook_receiver --port 8787 --spool-dir warehouse/webhook_spool

The shared secret comes from SMARTLEAD_WEBHOOK_SECRET or `sources.smartlead.webhook_secret` in
.dlt/secrets.toml; the server refuses to start without one.

`POST <path>` (default `/webhooks/smartlead`):
- `secret_key` missing or different from the shared secret (constant-time compare) -> 401,
  nothing written;
- body not JSON, or not a JSON object -> 400; a trace (the reason and the start of the body,
  secrets redacted) goes to `rejected-*.jsonl`, at most SMARTLEAD_WEBHOOK_REJECTED_PER_MINUTE a
  minute and while the unloaded rejected spool is under SMARTLEAD_WEBHOOK_REJECTED_MAX_BYTES:
  anyone can send these, so what they leave on disk is bounded;
- an authenticated event whose text UTF-8 cannot hold (a lone surrogate such as `\\ud83d`) -> 400,
  written whole (secret removed) to the rejected spool;
- otherwise the event (without `secret_key`) is appended to the spool and fsynced, then 200.
`GET /health` -> 200 (for load balancers). Other paths -> 404, other methods -> 405, a body over
SMARTLEAD_WEBHOOK_MAX_BODY_BYTES -> 413 before it is read, no Content-Length (chunked) -> 411.
A connection idle or a request that does not arrive within SMARTLEAD_WEBHOOK_READ_TIMEOUT_SECONDS
is closed (408 when a body was cut short); beyond SMARTLEAD_WEBHOOK_MAX_CONNECTIONS at once a
connection gets 503 without a thread. A delivery the client aborts leaves nothing. Request lines
are logged without bodies, refusals at most once a minute, and the secret is never logged.
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
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any, ClassVar

from loaders.common.http import MissingSecretError, require_secret
from loaders.common.settings_env import ConfigError, integer, positive_float
from loaders.common.undecodable import lone_surrogate_path, storable_text, undecodable_reason
from loaders.smartlead.helpers import redact_secrets, without_secrets
from loaders.smartlead.settings import (
    WEBHOOK_HEALTH_PATH,
    WEBHOOK_LIMIT_ENV_PREFIX,
    WEBHOOK_MAX_BODY_BYTES,
    WEBHOOK_MAX_CONNECTIONS,
    WEBHOOK_PATH,
    WEBHOOK_READ_TIMEOUT_SECONDS,
    WEBHOOK_REJECTED_PER_MINUTE,
    WEBHOOK_REJECTED_SPOOL_MAX_BYTES,
    WEBHOOK_REJECTED_TRACE_CHARS,
    WEBHOOK_SECRET_DLT,
    WEBHOOK_SECRET_ENV,
)
from loaders.smartlead.spool import Spool

logger = logging.getLogger(__name__)

__all__ = ["ReceiverLimits", "WebhookReceiver", "main", "secret_matches"]

REFUSAL_LOG_SECONDS = 60.0  # at most one log line of refusals per this many seconds


def secret_matches(given: Any, expected: str) -> bool:
    """Constant-time comparison of the body's `secret_key` with the shared secret."""
    if not isinstance(given, str) or not expected:
        return False
    # surrogatepass: a `\\ud83d` in the given key is just a wrong key, not a crash
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


@dataclass(frozen=True)
class ReceiverLimits:
    """What one client can make the receiver hold or write. `from_env` reads
    SMARTLEAD_WEBHOOK_<FIELD NAME IN CAPITALS> (e.g. SMARTLEAD_WEBHOOK_MAX_CONNECTIONS)."""

    max_body_bytes: int = WEBHOOK_MAX_BODY_BYTES
    read_timeout_seconds: float = WEBHOOK_READ_TIMEOUT_SECONDS
    max_connections: int = WEBHOOK_MAX_CONNECTIONS
    rejected_per_minute: int = WEBHOOK_REJECTED_PER_MINUTE
    rejected_trace_chars: int = WEBHOOK_REJECTED_TRACE_CHARS
    rejected_max_bytes: int = WEBHOOK_REJECTED_SPOOL_MAX_BYTES

    @staticmethod
    def env_name(field_name: str) -> str:
        return f"{WEBHOOK_LIMIT_ENV_PREFIX}{field_name.upper()}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ReceiverLimits:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in fields(cls):
            name = cls.env_name(field.name)
            default = field.default
            if isinstance(default, float):
                values[field.name] = positive_float(name, env.get(name), default)
                continue
            assert isinstance(default, int)
            number = integer(name, env.get(name), default)
            least = 0 if field.name == "rejected_per_minute" else 1  # 0: no traces at all
            if number < least:
                raise ConfigError(f"{name} must be at least {least}, got {env.get(name)!r}")
            values[field.name] = number
        return cls(**values)


class _TraceAllowance:
    """A token bucket: at most `per_minute` traces a minute (a burst of up to that many)."""

    def __init__(self, per_minute: int, clock: Callable[[], float]) -> None:
        self._per_second = per_minute / 60.0
        self._capacity = float(per_minute)
        self._tokens = float(per_minute)
        self._clock = clock
        self._last = clock()
        self._lock = threading.Lock()
        self.skipped = 0  # traces not written since the last one that was

    def take(self) -> int | None:
        """None when no trace may be written now; else the traces skipped before this one."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self._capacity, self._tokens + (now - self._last) * self._per_second)
            self._last = now
            if self._tokens < 1.0:
                self.skipped += 1
                return None
            self._tokens -= 1.0
            skipped, self.skipped = self.skipped, 0
            return skipped


class _RefusalLog:
    """Counts refused deliveries by status; logs them at most once every REFUSAL_LOG_SECONDS
    (a flood of refusals must not become a flood of log lines)."""

    _MEANING: ClassVar[dict[int, str]] = {
        400: "body not a JSON object",
        401: f"secret_key missing or wrong: check {WEBHOOK_SECRET_ENV}",
        408: "body not sent in time",
        411: "no Content-Length",
        413: "body too large",
        503: "too many connections",
    }

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._counts: Counter[int] = Counter()
        self._next_log = clock()
        self._lock = threading.Lock()

    def refused(self, status: int) -> None:
        with self._lock:
            self._counts[status] += 1
            now = self._clock()
            if now < self._next_log:
                return
            counts, self._counts = self._counts, Counter()
            self._next_log = now + REFUSAL_LOG_SECONDS
        described = ", ".join(
            f"{count} x {code} ({self._MEANING.get(code, 'refused')})" for code, count in sorted(counts.items())
        )
        logger.warning("smartlead webhook: refused %s (the next such line in %.0f s)", described, REFUSAL_LOG_SECONDS)


_BUSY_BODY = b'{"ok": false, "error": "too many connections, retry later"}'
_BUSY_REPLY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
    b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY)
)


class _ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # bursts of concurrent deliveries

    def __init__(
        self,
        address: tuple[str, int],
        spool: Spool,
        secret: str,
        path: str,
        limits: ReceiverLimits,
        clock: Callable[[], float],
    ) -> None:
        super().__init__(address, _WebhookHandler)
        self.spool = spool
        self.secret = secret
        self.webhook_path = path.rstrip("/") or "/"
        self.limits = limits
        self.clock = clock
        self.traces = _TraceAllowance(limits.rejected_per_minute, clock)
        self.refusals = _RefusalLog(clock)
        self._slots = threading.BoundedSemaphore(limits.max_connections)

    def process_request(self, request: Any, client_address: Any) -> None:
        """A thread per connection, up to `max_connections`; beyond, 503 and close, no thread."""
        if not self._slots.acquire(blocking=False):
            self.refusals.refused(503)
            try:
                request.settimeout(1.0)
                request.sendall(_BUSY_REPLY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class _BodyNotReceived(Exception):
    """The client stopped sending (closed the connection, or not within the read timeout)."""

    def __init__(self, timed_out: bool) -> None:
        super().__init__("timed out" if timed_out else "connection closed")
        self.timed_out = timed_out


class _WebhookHandler(BaseHTTPRequestHandler):
    server: _ReceiverServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # idle connections and slow requests are closed: every read waits at most this long
        self.connection.settimeout(self.server.limits.read_timeout_seconds)

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _refuse(self, status: int, error: str, *, close: bool = False) -> None:
        self.server.refusals.refused(status)
        if close:
            self.close_connection = True
        self._reply(status, {"ok": False, "error": error})

    def _path(self) -> str:
        return self.path.split("?", 1)[0].rstrip("/") or "/"

    def _content_length(self) -> int | None:
        """The announced body size; None when there is none to trust (chunked, unreadable)."""
        if self.headers.get("Transfer-Encoding"):
            return None
        text = self.headers.get("Content-Length")
        if text is None:
            return 0
        try:
            length = int(text)
        except ValueError:
            return None
        return length if length >= 0 else None

    def handle_expect_100(self) -> bool:
        # `Expect: 100-continue`: refuse a body too large before the client sends it
        length = self._content_length()
        if length is not None and length > self.server.limits.max_body_bytes and self.command == "POST":
            self._refuse(413, "body too large", close=True)
            return False
        return super().handle_expect_100()

    def _read_body(self, length: int) -> bytes:
        """`length` bytes, all within the read timeout, or `_BodyNotReceived`."""
        deadline = self.server.clock() + self.server.limits.read_timeout_seconds
        chunks: list[bytes] = []
        remaining = length
        try:
            while remaining > 0:
                if self.server.clock() > deadline:  # trickled a byte at a time: still a timeout
                    raise _BodyNotReceived(timed_out=True)
                chunk = self.rfile.read1(min(remaining, 65536))
                if not chunk:
                    raise _BodyNotReceived(timed_out=False)
                chunks.append(chunk)
                remaining -= len(chunk)
        except TimeoutError:
            raise _BodyNotReceived(timed_out=True) from None
        return b"".join(chunks)

    def do_POST(self) -> None:
        try:
            self._post()
        except _BodyNotReceived as stopped:
            self.close_connection = True
            if stopped.timed_out:  # the client may still be listening; an aborted one is not
                self._refuse(408, "request body not received in time", close=True)
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:  # every delivery gets an answer; the body is never logged
            logger.exception("smartlead webhook: could not handle a delivery")
            self.close_connection = True
            self._reply(500, {"ok": False, "error": "internal error, retry later"})

    def _post(self) -> None:
        limits = self.server.limits
        length = self._content_length()
        if length is None:
            self._refuse(411, "Content-Length required", close=True)
            return
        if length > limits.max_body_bytes:
            self._refuse(413, f"body too large (at most {limits.max_body_bytes} bytes)", close=True)
            return
        body = self._read_body(length)
        if self._path() != self.server.webhook_path:
            self._refuse(404, "not found")
            return
        text = body.decode("utf-8", errors="replace")
        try:
            event = json.loads(text)
        except json.JSONDecodeError as error:
            self._reject(f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}", text)
            return
        except RecursionError:
            self._reject("invalid JSON: nested too deeply", text)
            return
        if not isinstance(event, dict):
            self._reject(f"event is not a JSON object ({type(event).__name__})", _json_text(event))
            return
        if not secret_matches(event.get("secret_key"), self.server.secret):
            self._refuse(401, "bad or missing secret_key")
            return
        bad_text = lone_surrogate_path(event)
        if bad_text is not None:  # authentic but unstorable: kept whole as a rejection, answered
            self._reject(undecodable_reason(bad_text), _json_text(event), authenticated=True)
            return
        try:
            self.server.spool.append_event(event)
        except OSError:
            logger.exception("smartlead webhook: could not write the spool")
            self._reply(503, {"ok": False, "error": "spool unavailable, retry later"})
            return
        self._reply(200, {"ok": True})

    def _reject(self, reason: str, text: str, *, authenticated: bool = False) -> None:
        """400, and a trace in the rejected spool: whole for an authenticated event; for anything
        else the start of the body, within the rate and size limits (anyone can send these)."""
        try:
            self._write_trace(reason, text, authenticated)
        except OSError:
            logger.exception("smartlead webhook: could not write the rejected spool")
        self._refuse(400, reason)

    def _write_trace(self, reason: str, text: str, authenticated: bool) -> None:
        server, limits = self.server, self.server.limits
        if not authenticated:
            skipped = server.traces.take()
            if skipped is None or server.spool.rejected_bytes() >= limits.rejected_max_bytes:
                return
            if skipped:
                reason += f" ({skipped} similar deliveries before this one left no trace: rate limit)"
            cut = len(text) > limits.rejected_trace_chars
            text = text[: limits.rejected_trace_chars] + (" [cut]" if cut else "")
        # the secret's key however spelled, and the secret itself wherever it appears
        text = redact_secrets(text).replace(server.secret, "[REDACTED]")
        server.spool.append_rejected(reason, text)

    def _health(self) -> bool:
        if self._path() != WEBHOOK_HEALTH_PATH:
            return False
        self._reply(200, {"ok": True})
        return True

    def do_GET(self) -> None:
        if not self._health():
            self._not_allowed()

    def do_HEAD(self) -> None:
        if not self._health():
            self._not_allowed()

    def _not_allowed(self) -> None:
        length = self._content_length()
        if length and length <= self.server.limits.max_body_bytes:
            try:
                self._read_body(length)
            except _BodyNotReceived:
                self.close_connection = True
                return
        else:
            self.close_connection = True  # an unread body must not be read as the next request
        self.send_response(405)
        self.send_header("Allow", "POST" if self._path() == self.server.webhook_path else "GET, HEAD")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _not_allowed  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        # the request line has no secret (it travels in the body); keep it at debug level
        logger.debug("smartlead webhook %s: " + format, self.address_string(), *args)


def _json_text(value: Any) -> str:
    """Parsed JSON as text for a trace: secret keys removed, lone surrogates kept as escapes."""
    return storable_text(json.dumps(without_secrets(value), ensure_ascii=False))


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
        limits: ReceiverLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not secret:
            raise ValueError("a webhook secret is required")
        self.server = _ReceiverServer((host, port), spool, secret, path, limits or ReceiverLimits(), clock)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        host = str(self.server.server_address[0])
        return f"http://{host}:{self.port}{self.server.webhook_path}"

    @property
    def health_url(self) -> str:
        host = str(self.server.server_address[0])
        return f"http://{host}:{self.port}{WEBHOOK_HEALTH_PATH}"

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


def main(
    argv: Sequence[str] | None = None,
    *,
    default_spool_dir: Path | None = None,
    prog: str = "python -m loaders.smartlead.webhook_receiver",
    description: str | None = None,
    epilog: str | None = None,
) -> int:
    """`default_spool_dir`: where `outreach ingest` reads the spool (the runner passes it), else
    OUTREACH_WEBHOOK_SPOOL_DIR, else warehouse/webhook_spool. `prog`, `description`, `epilog`: the
    runner's `--help` (which lists the environment variables)."""
    spool_dir = default_spool_dir or Path(os.environ.get(SPOOL_DIR_ENV, "").strip() or "warehouse/webhook_spool")
    parser = argparse.ArgumentParser(
        prog=prog,
        description=description or f"Receive Smartlead webhooks into a durable spool (secret: ${WEBHOOK_SECRET_ENV}).",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for action in parser._actions:  # argparse's own -h, as a sentence like the others
        if isinstance(action, argparse._HelpAction):
            action.help = "Show this help message and exit."
    parser.add_argument("--host", default="127.0.0.1", help="The interface to bind (default 127.0.0.1).")
    parser.add_argument("--port", type=int, default=8787, help="The port to listen on (default 8787).")
    parser.add_argument(
        "--spool-dir",
        type=Path,
        default=spool_dir,
        help=f"The spool folder (default: ${SPOOL_DIR_ENV}, where `outreach ingest` reads it).",
    )
    parser.add_argument("--path", default=WEBHOOK_PATH, help=f"The URL path to accept (default {WEBHOOK_PATH}).")
    parser.add_argument(
        "--max-file-bytes", type=int, default=None, help="Rotate a spool file once it is larger than this."
    )
    args = parser.parse_args(argv)
    # force: `outreach webhook-receiver` has configured WARNING already; the address must show
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    try:
        secret = require_secret("smartlead webhook", WEBHOOK_SECRET_ENV, WEBHOOK_SECRET_DLT)
        limits = ReceiverLimits.from_env()
    except MissingSecretError as error:  # one line naming the setting, not a traceback
        print(f"error: {error}: the receiver does not start without the secret Smartlead sends", file=sys.stderr)
        return 2
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    spool = Spool(args.spool_dir, **({} if args.max_file_bytes is None else {"max_bytes": args.max_file_bytes}))
    receiver = WebhookReceiver(spool, secret, host=args.host, port=args.port, path=args.path, limits=limits)

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
