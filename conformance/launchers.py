"""The servers under test, started with the project's own launchers, as ``make run`` does.

The command lines come from server/commands.py, the one place that names them; the runner,
``make conformance`` and ``tests/conformance/`` all start servers through this module.
"""

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from server.commands import command, free_port, port_accepts, stop_process

PROJECT_DIR = Path(__file__).resolve().parents[1]


# Group 9 (limits and performance) sends messages of up to 16 MiB, and 4 MiB messages in up to
# 65,536 fragments of 64 bytes. The servers refuse more than they are configured to take with
# 1009 (message too big), as RFC 6455 section 7.4.1 provides, and the suite counts that as
# FAILED: the servers under test get limits that let the largest case through. Those limits are
# WEBSOCKET_MAX_MESSAGE_BYTES (the project's, default 1,000,000 bytes, both servers) and, on
# uvicorn only, websockets' WEBSOCKETS_MAX_FRAGMENTS (default 4,096 frames per message; read
# when websockets is imported, hence an environment variable).
LARGEST_CASE_BYTES = 16 * 1024 * 1024
# With exactly 65,536, case 9.3.1 still ends with 1009 ("too many fragments"): twice that.
MOST_CASE_FRAGMENTS = 2 * 4 * 1024 * 1024 // 64


# The servers the conformance run knows how to judge (server/commands.py has them all).
LAUNCHERS = ("daphne", "uvicorn")
DEFAULT_SERVER = "daphne"


def server_env(**overrides):
    """Environment of a server under test: the embedded defaults (``DEBUG=1``, no database or
    Redis URL, which the echo does not need), without an access log line per case, and with the
    size limits above."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        DEBUG="1",
        ACCESS_LOG="0",
        WEBSOCKET_MAX_MESSAGE_BYTES=str(LARGEST_CASE_BYTES),
        WEBSOCKETS_MAX_FRAGMENTS=str(MOST_CASE_FRAGMENTS),
    )
    env.update(overrides)
    return env


class StartError(RuntimeError):
    """The server exited, or did not listen, at start-up."""


@dataclass
class ServerProcess:
    """One server process on a free loopback port, stopped by its pid.

    ``name`` is a key of :data:`LAUNCHERS`; the process's output goes to ``log_path``.
    """

    name: str
    log_path: Path
    host: str = "127.0.0.1"
    port: int = 0
    env: dict | None = None
    process: subprocess.Popen | None = None

    def __post_init__(self):
        if self.name not in LAUNCHERS:
            raise ValueError(f"unknown server {self.name!r}; one of {', '.join(LAUNCHERS)}")
        self.port = self.port or free_port(self.host)

    @property
    def origin(self):
        """The ``Origin`` of the server's own pages, which its origin check accepts."""
        return f"http://{self.host}:{self.port}"

    def ws_url(self, path):
        return f"ws://{self.host}:{self.port}{path}"

    def command(self):
        return command(self.name, host=self.host, port=self.port)

    def start(self, timeout=60):
        """Start the process and wait until it accepts connections."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own launcher, no shell
                self.command(),
                cwd=PROJECT_DIR,
                env=self.env if self.env is not None else server_env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while not port_accepts(self.port, self.host):
            if self.process.poll() is not None:
                raise StartError(f"{self.name} exited at start-up; see {self.log_path}")
            if time.monotonic() >= deadline:
                self.stop()
                raise StartError(f"{self.name} did not listen within {timeout}s")
            time.sleep(0.05)
        return self

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL after ``timeout`` seconds; wait for the pid to go."""
        stop_process(self.process, timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
