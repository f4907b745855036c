"""Run `fakesnow -s` (a Snowflake-compatible HTTP server backed by DuckDB) for the duration of a test.

The server keeps its databases in memory, so every server starts empty; callers still use a
fresh database name per server (`fresh_database_name`) so two servers can never be confused.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

HOST = "127.0.0.1"


class FakesnowServerError(RuntimeError):
    """The fakesnow server could not be started."""


class _ExitedEarly(FakesnowServerError):
    """The server process died while starting (typically: its port was taken meanwhile)."""


def fakesnow_command() -> list[str]:
    """The venv's `fakesnow` executable (next to the running interpreter), else `python -m fakesnow`."""
    executable = Path(sys.executable).parent / "fakesnow"
    if executable.exists():
        return [str(executable)]
    return [sys.executable, "-m", "fakesnow"]


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def fresh_database_name(prefix: str = "OUTREACH_TEST") -> str:
    """A database name no earlier server or test has used."""
    return f"{prefix}_{uuid.uuid4().hex[:12].upper()}"


def _accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _tail(path: Path, max_chars: int = 4000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "<no server output>"
    return text[-max_chars:] if text.strip() else "<no server output>"


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGINT is fakesnow's clean shutdown; escalate if it does not exit."""
    if process.poll() is not None:
        return
    for send, wait_seconds in (
        (lambda: process.send_signal(signal.SIGINT), 10),
        (process.terminate, 5),
        (process.kill, 5),
    ):
        with contextlib.suppress(ProcessLookupError):
            send()
        try:
            process.wait(timeout=wait_seconds)
            return
        except subprocess.TimeoutExpired:
            continue


def _start(command_prefix: list[str], log_file: Path, startup_timeout: float) -> tuple[subprocess.Popen[bytes], int]:
    """Start the server on a free port and wait until it listens; raise with its output if it cannot."""
    port = free_port()
    command = [*command_prefix, "-s", "--host", HOST, "-p", str(port)]
    with log_file.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + startup_timeout
        while not _accepts_connections(port):
            if process.poll() is not None:
                raise _ExitedEarly(
                    f"fakesnow server exited with code {process.returncode} before listening on port {port}"
                    f" ({' '.join(command)}). Server output:\n{_tail(log_file)}"
                )
            if time.monotonic() > deadline:
                raise FakesnowServerError(
                    f"fakesnow server did not accept connections on {HOST}:{port} within {startup_timeout:.0f}s"
                    f" ({' '.join(command)}). Server output:\n{_tail(log_file)}"
                )
            time.sleep(0.1)
        if process.poll() is not None:  # something else answered on the port
            raise _ExitedEarly(
                f"fakesnow server exited with code {process.returncode}; port {port} is used by another process."
                f" Server output:\n{_tail(log_file)}"
            )
    except BaseException:
        _stop(process)
        raise
    return process, port


@contextlib.contextmanager
def fakesnow_server(
    *,
    startup_timeout: float = 30.0,
    log_path: str | os.PathLike[str] | None = None,
    attempts: int = 3,
) -> Iterator[int]:
    """Start `fakesnow -s -p <free port>`, yield the port once it accepts connections, always stop it.

    The server's stdout and stderr go to `log_path` (a temporary file by default) and are quoted
    in the error raised when it exits early or does not listen in time. A server that dies at
    start (typically: the free port was taken in the meantime) is retried on a new port.
    """
    with tempfile.TemporaryDirectory(prefix="fakesnow-") as tmp:
        log_file = Path(log_path) if log_path is not None else Path(tmp) / "fakesnow.log"
        command_prefix = fakesnow_command()
        for attempt in range(1, attempts + 1):
            try:
                process, port = _start(command_prefix, log_file, startup_timeout)
                break
            except _ExitedEarly:
                if attempt == attempts:
                    raise
        try:
            yield port
        finally:
            _stop(process)
