"""Real server processes for end-to-end tests: started on free ports, stopped by pid."""

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from server.commands import command, free_port, port_accepts, stop_process
from tests.support.waiting import wait_until

PROJECT_DIR = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = PROJECT_DIR / "test-artifacts"


def database_url_for(database_name, user=None):
    """``DATABASE_URL`` with its database replaced by ``database_name`` (e.g. the test DB).

    ``user`` replaces the MariaDB user (same password): scripts/services.sh creates ``<user>_live``
    so that tests can count and kill exactly a server process's connections.
    """
    parts = urlsplit(os.environ["DATABASE_URL"])
    if user is not None:
        credentials = user if parts.password is None else f"{user}:{parts.password}"
        parts = parts._replace(netloc=f"{credentials}@{parts.hostname}:{parts.port or 3306}")
    return urlunsplit(parts._replace(path=f"/{database_name}"))


def production_env(**overrides):
    """Environment of a production-mode server (DEBUG off) reachable over plain loopback HTTP.

    TLS would terminate at nginx in front (docs/deploy.md), so the HTTPS redirect and the secure
    cookie flags are off here; everything else is as deployed.
    """
    return {
        "DEBUG": "0",
        "SECRET_KEY": "test-only-" + "k" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        **overrides,
    }


class ProcessHandle:
    """A process a test started (``self.process``): killed or stopped by pid, usable in ``with``
    (``start()`` on entry, ``stop()`` on exit)."""

    process = None

    def kill(self):
        """Kill abruptly (SIGKILL, by pid), as a crash or a lost machine would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


class DaphneServer(ProcessHandle):
    """A daphne process serving ``project.asgi:application`` on a free loopback port.

    Started like ``make run`` does, through ``server.daphne`` (daphne with the project's
    WebSocket fixes; it takes daphne's options).
    """

    def __init__(self, env=None, port=None, name="daphne", extra_args=()):
        self.port = port or free_port()
        self.name = name
        self.extra_args = list(extra_args)
        self.env = {**os.environ, "DEBUG": "1", **(env or {})}
        self.process = None
        ARTIFACTS_DIR.mkdir(exist_ok=True)
        self.log_path = ARTIFACTS_DIR / f"{name}-{self.port}.log"

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.port}"

    @property
    def pid(self):
        return self.process.pid

    server = "daphne"

    def command(self):
        """The server's command line, ``make run``'s."""
        return command(self.server, port=self.port, extra_args=self.extra_args)

    def migrate(self):
        """Run ``manage.py migrate`` with this server's environment (e.g. a throwaway database)."""
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=PROJECT_DIR,
            env=self.env,
            check=True,
            timeout=300,
        )

    def start(self, timeout=30):
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command(),
            cwd=PROJECT_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        wait_until(
            lambda: self.process.poll() is not None or port_accepts(self.port),
            timeout=timeout,
            message=f"{self.name} listening on port {self.port}",
        )
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited at start-up:\n{self.log()}")
        return self

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout=10):
        """Stop gracefully (SIGTERM), then forcefully, and wait for the pid to go."""
        stop_process(self.process, timeout)


class UvicornServer(DaphneServer):
    """The same application served by uvicorn, as ``SERVER=uvicorn make run`` does."""

    server = "uvicorn"


class GranianServer(DaphneServer):
    """The same application served by granian (``python -m server.granian``): a supervisor
    process and the worker process it forks, which serves."""

    server = "granian"

    def worker_pids(self):
        """The supervisor's child processes (the worker), from /proc."""
        try:
            with open(f"/proc/{self.pid}/task/{self.pid}/children") as children:
                return [int(pid) for pid in children.read().split()]
        except OSError:
            return []

    def kill(self):
        """Kill the worker and the supervisor abruptly (SIGKILL), as a crash would: killing the
        supervisor alone would leave its worker serving."""
        if self.process is not None and self.process.poll() is None:
            for pid in self.worker_pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        super().kill()


class SplitServer(DaphneServer):
    """``SERVER=split make run``: nginx on the port, granian's WSGI interface for the pages and
    daphne for ``/ws``, under one supervisor process (``python -m server split``), which stops
    all three when it gets SIGTERM. ``pid`` is the supervisor's; :meth:`process_pids` every
    process serving (nginx's master and worker, granian's supervisor and workers, daphne)."""

    server = "split"

    def command(self):
        return [sys.executable, "-m", "server", "split", "--port", str(self.port)]

    def process_pids(self):
        """The supervisor's descendants, from /proc."""
        found, pending = [], [self.pid]
        while pending:
            pid = pending.pop()
            try:
                with open(f"/proc/{pid}/task/{pid}/children") as children:
                    kids = [int(child) for child in children.read().split()]
            except OSError:
                kids = []
            found.extend(kids)
            pending.extend(kids)
        return found

    def start(self, timeout=60):
        super().start(timeout)
        # The port is nginx's: wait for the supervisor's "Serving on" line, printed once granian
        # and daphne accept too.
        wait_until(
            lambda: self.process.poll() is not None or "Serving on" in self.log(),
            timeout=timeout,
            message=f"{self.name}: granian, daphne and nginx listening",
        )
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited at start-up:\n{self.log()}")
        return self

    def kill(self):
        """SIGKILL to every process of the split, as a lost machine would."""
        if self.process is not None and self.process.poll() is None:
            for pid in self.process_pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        super().kill()


# TEST_SERVER chooses the server of the live-server fixtures (daphne_server, start_server's
# default, the browser suite's site): `TEST_SERVER=split make test` runs them on the split.
LIVE_SERVERS = {"daphne": DaphneServer, "split": SplitServer}


def live_server_class():
    """The class of the live server the suite's fixtures start (``TEST_SERVER``, default
    daphne)."""
    name = os.environ.get("TEST_SERVER", "daphne")
    try:
        return LIVE_SERVERS[name]
    except KeyError:
        choices = ", ".join(LIVE_SERVERS)
        raise RuntimeError(f"TEST_SERVER must be one of {choices}, got {name!r}") from None
