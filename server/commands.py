"""The command line of each server the project supports, in one place: the tests, the benchmark
and the conformance run start servers exactly as ``make run`` does."""

import argparse
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

APPLICATION = "project.asgi:application"
SERVERS = ("daphne", "uvicorn", "granian")


def command(
    server: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    extra_args: Sequence[str] = (),
    python: str = sys.executable,
) -> list[str]:
    """The argv that serves the project with ``server`` (one of :data:`SERVERS`) on host:port.

    ``extra_args`` are the server's own options (daphne's, :mod:`server.uvicorn`'s or
    :mod:`server.granian`'s).
    """
    if server == "daphne":
        # daphne's command line, with the project's WebSocket fixes (server/daphne.py).
        options = ["-b", host, "-p", str(port), *extra_args]
        return [python, "-m", "server.daphne", *options, APPLICATION]
    if server == "uvicorn":
        return [python, "-m", "server.uvicorn", "--host", host, "--port", str(port), *extra_args]
    if server == "granian":
        return [python, "-m", "server.granian", "--host", host, "--port", str(port), *extra_args]
    raise ValueError(f"unknown server {server!r}; the project serves with {', '.join(SERVERS)}")


def launcher_arguments(description: str) -> argparse.ArgumentParser:
    """The command line :mod:`server.uvicorn` and :mod:`server.granian` share: an address, the
    proxy headers to trust behind nginx, and the access log."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--proxy-headers",
        action="store_true",
        help="trust X-Forwarded-For/-Proto from --forwarded-allow-ips (behind nginx)",
    )
    parser.add_argument("--forwarded-allow-ips", default="127.0.0.1")
    parser.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="log every request (default: the ACCESS_LOG setting)",
    )
    return parser


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_accepts(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def stop_process(process: subprocess.Popen[Any] | None, timeout: float = 10) -> None:
    """Stop ``process`` (a ``Popen``) by its pid: SIGTERM, then SIGKILL after ``timeout``; wait
    for it to be gone."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)
