"""What is measured: the project as deployed, the peer as it runs and with --nodelay, and the
pure-asyncio echo server. Each target knows how to start its server and which pages to drive."""

import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bench.servers import ServerProcess, ServerStartError
from server.commands import APPLICATION, command, free_port

PROJECT_DIR = Path(__file__).resolve().parent.parent


@dataclass
class Target:
    """A server to measure and the routes the figures use on it (None: it has no such route)."""

    key: str
    label: str
    kind: str  # "project", "peer" or "echo"
    figures: tuple  # which figures run against it
    session_paths: list = field(default_factory=list)
    # The seed's round trip, like for like: a page that writes a session value, then one that
    # only reads the session (the peer's session_paths are that already).
    session_pair_paths: list | None = None
    session_cookie: str | None = None
    # The login form: its page, whether a POST needs the CSRF cookie and token first, a
    # body that fails validation, and a text every re-rendered form with errors contains.
    login_path: str | None = None
    login_csrf: bool = False
    login_invalid_body: str | None = None
    login_error_marker: str | None = None
    selected_by: str | None = None  # the --targets name that selects it, when not its key
    echo_path: str | None = None
    db_path: str | None = None
    db_user: str | None = None
    ready_path: str | None = None
    argv_for_port: object = None  # callable(port) -> argv
    cwd: Path = PROJECT_DIR
    env: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)

    def server(self, log_dir):
        port = free_port()
        return ServerProcess(
            self.label,
            self.argv_for_port(port),
            port,
            self.cwd,
            self.env,
            log_dir,
            ready_path=self.ready_path,
        )


# ----------------------------------------------------------------------------------------------
# The project, served as deployed
# ----------------------------------------------------------------------------------------------
def project_env(options, conn_max_age=None, http_handler=None):
    """The environment of a production start on plain-HTTP loopback (see docs/performance.md)."""
    env = dict(os.environ)
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": options.secret_key,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Plain HTTP on loopback: no TLS terminator in front, so no HTTPS redirect and no
            # Secure-only cookies (a client over http:// would never send them back).
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "DATABASE_URL": options.database_url,
            "REDIS_URL": options.redis_url,
        }
    )
    if conn_max_age is not None:
        env["CONN_MAX_AGE"] = str(conn_max_age)
    if http_handler is not None:
        env["HTTP_HANDLER"] = http_handler
    return env


def project_server_kinds(options):
    """The servers of ``--project-server``, in order; ``auto`` means what ``make run`` runs:
    daphne through ``python -m server.daphne``."""
    return ["daphne" if kind == "auto" else kind for kind in options.project_server]


def project_argv(kind):
    if kind == "plain-daphne":
        # daphne's own command line, without the project's fixes: for comparison.
        daphne = str(Path(sys.executable).parent / "daphne")
        return lambda port: [daphne, "-b", "127.0.0.1", "-p", str(port), APPLICATION]
    if kind == "split":
        # SERVER=split make run: the supervisor's tree (nginx, granian, daphne) is the server.
        return lambda port: [sys.executable, "-m", "server", "split", "--port", str(port)]
    return lambda port: command(kind, port=port)


def database_user(database_url):
    return urlsplit(database_url).username


# A login form that fails validation on the project and the peer alike, without a database
# lookup or a password hash: the seed's length rules (3 to 8, 3 to 16 characters) refuse both
# fields on the peer; the project's login form checks only what the user model allows, so an
# empty password (required) is what it refuses before authenticating. No failed login is
# counted by either throttle.
INVALID_LOGIN = "username=ab&password="


def project_targets(options):
    """The project as deployed on each ``--project-server``, and for the DB figure on the first
    server Django's stock ASGI handler with CONN_MAX_AGE=0 (a) and =60 (b), against which the
    project's pooled handler (c) is measured."""
    targets = []
    for index, server_name in enumerate(project_server_kinds(options)):
        common = {
            "kind": "project",
            "session_paths": ["/"],
            "session_pair_paths": ["/", options.project_session_read_page],
            "session_cookie": "sessionid",
            "login_path": options.project_login_path,
            "login_csrf": True,
            "login_invalid_body": INVALID_LOGIN,
            "login_error_marker": "field-error",
            "echo_path": options.project_echo_path,
            "db_path": options.project_db_page,
            "db_user": database_user(options.database_url),
            "ready_path": "/healthz",
            "argv_for_port": project_argv(server_name),
        }
        if index > 0:
            targets.append(
                Target(
                    key=f"project_{server_name}",
                    label=f"project ({server_name})",
                    figures=("idle", "session", "login", "echo", "db", "fanout"),
                    env=project_env(options),
                    notes={"CONN_MAX_AGE": "default (60)"},
                    selected_by="project",
                    **common,
                )
            )
            continue
        targets += [
            Target(
                key="project",
                label=f"project ({server_name})",
                figures=("idle", "session", "login", "echo", "db", "fanout"),
                env=project_env(options),
                notes={"CONN_MAX_AGE": "default (60)"},
                **common,
            ),
            *(
                Target(
                    key=key,
                    label=f"project ({server_name}, Django's handler, CONN_MAX_AGE={age})",
                    figures=("db",),
                    env=project_env(options, conn_max_age=age, http_handler="django"),
                    notes={"CONN_MAX_AGE": str(age), "HTTP_HANDLER": "django"},
                    **common,
                )
                for key, age in (("project_cma0", 0), ("project_stock", 60))
            ),
        ]
    return targets


def prepare_project(options, log, log_dir):
    """Migrate the bench database and empty the bench's Redis database (it is the bench's own)."""
    import redis

    env = project_env(options)
    log(f"migrating {options.database_url.rsplit('@', 1)[-1]}")
    completed = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if completed.returncode != 0:
        log_path = Path(log_dir) / "migrate.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(completed.stdout + completed.stderr)
        last_lines = "\n".join((completed.stdout + completed.stderr).strip().splitlines()[-3:])
        raise ServerStartError(
            f"manage.py migrate failed for the bench database (full output: {log_path}):\n"
            f"{last_lines}\nmake bench creates the database and user with scripts/services.sh."
        )
    try:
        redis.Redis.from_url(options.redis_url, socket_connect_timeout=2).flushdb()
    except redis.RedisError as exc:
        raise ServerStartError(f"Redis at {options.redis_url} does not answer: {exc}") from exc


def logged_in_sessions(options, count):
    """Session cookies of ``count`` logged-in bench users (bench/django_sessions.py)."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench.django_sessions", str(count)],
        cwd=PROJECT_DIR,
        env=project_env(options),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if completed.returncode != 0:
        raise RuntimeError((completed.stdout + completed.stderr).strip()[-1500:])
    import json

    return json.loads(completed.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------------------------
# The peer (the seed's stack) and the pure-asyncio echo server
# ----------------------------------------------------------------------------------------------
def peer_targets(options):
    peer_dir = Path(options.peer_dir).resolve()
    python = peer_dir / ".venv-peer" / "bin" / "python"
    if not (peer_dir / "app.py").exists():
        raise ServerStartError(f"no peer at {peer_dir} (set PEER_DIR to the peer_flask folder)")
    if not python.exists():
        raise ServerStartError(
            f"the peer is not set up: {python} is missing; run `bash {peer_dir}/setup.sh` "
            "(make bench does)"
        )
    env = dict(os.environ)

    def argv(*flags):
        return lambda port: [str(python), "app.py", "--port", str(port), *flags]

    common = {
        "kind": "peer",
        "figures": ("idle", "session", "login", "echo", "db"),
        # The seed's session round trip: / writes the session, /whoami reads it.
        "session_paths": ["/", "/whoami"],
        "session_cookie": "session",
        # The seed's WTForms LoginForm; no CSRF protection.
        "login_path": "/login",
        "login_invalid_body": INVALID_LOGIN,
        "login_error_marker": "username length must be 3-8",
        "echo_path": "/ws",
        "db_path": "/db?name=alex&age=18",
        "db_user": "bench",
        "ready_path": "/whoami",
        "cwd": peer_dir,
        "env": env,
    }
    return [
        Target(key="peer", label="peer", argv_for_port=argv(), **common),
        Target(
            key="peer_nodelay",
            label="peer --nodelay",
            argv_for_port=argv("--nodelay"),
            **common,
        ),
    ]


def echo_target():
    return Target(
        key="asyncio_echo",
        label="asyncio websockets echo",
        kind="echo",
        figures=("idle", "echo"),
        echo_path="/",
        argv_for_port=lambda port: [sys.executable, "-m", "bench.echo_server", str(port)],
        env=dict(os.environ),
    )


def new_secret_key():
    return secrets.token_urlsafe(50)
