"""``python -m server split``: the pages over WSGI, the WebSockets on daphne, one address.

Three processes from the same settings, started and stopped together (server/supervise.py):

* nginx on HOST:PORT, the only public address: ``/ws`` and ``/ws/...`` go to daphne, every other
  path to granian. Its configuration is written to a directory of its own (``--workdir``, a
  temporary one by default) with every path nginx writes inside it, so it needs no root and
  touches nothing of the system's nginx.
* granian's WSGI interface on ``project.wsgi`` (``python -m server.granian --wsgi``) on a
  loopback port: HTTP is parsed in Rust and Django's sync path runs in granian's threads,
  without an event loop hand-over per request (docs/performance.md has the figures).
* daphne (``server.daphne``, with the project's WebSocket fixes) on another loopback port.

Both back ends trust nginx's ``X-Forwarded-For``/``-Proto`` (``--proxy-headers``); they listen on
loopback only, so nothing else can send those headers. deploy/ has the same topology for
production (deploy/nginx/chat-split.conf.template and the systemd units).
"""

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from server.commands import command, free_port
from server.supervise import Stage

NGINX_CONF = """\
# Written by server/split.py for one run of `python -m server split`.
worker_processes 1;
daemon off;
pid {workdir}/nginx.pid;
error_log stderr warn;

events {{
    worker_connections 4096;
}}

http {{
    include {mime_types};
    default_type application/octet-stream;
    access_log off;  # granian and daphne log requests (ACCESS_LOG)
    client_body_temp_path {workdir}/client_body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    server_tokens off;
    tcp_nodelay on;

    upstream chat_pages {{
        server 127.0.0.1:{http_port};
        # Kept-alive connections to granian: no connect per request.
        keepalive 32;
    }}
    upstream chat_websockets {{
        server 127.0.0.1:{ws_port};
    }}

    # A WebSocket handshake passes "Upgrade" and "Connection: upgrade" on (nginx passes neither
    # hop-by-hop header by itself); any other request an empty Connection header, which nginx
    # leaves out, so the kept-alive connection to granian stays open.
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      '';
    }}

    server {{
        listen {listen};
        # The application's own limits answer (its 413 page), as without nginx.
        client_max_body_size 0;

        # Set here only: a proxy_set_header in a location would drop all of these there.
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_redirect off;
        proxy_buffering off;

        location = /ws {{
            proxy_pass http://chat_websockets;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
        }}
        location /ws/ {{
            proxy_pass http://chat_websockets;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
        }}
        location / {{
            proxy_pass http://chat_pages;
        }}
    }}
}}
"""


def nginx_binary() -> str:
    """nginx's path (Debian installs it in /usr/sbin, often not on a user's PATH)."""
    found = shutil.which("nginx")
    if found is None and os.access("/usr/sbin/nginx", os.X_OK):
        found = "/usr/sbin/nginx"
    if found is None:
        raise SystemExit("SERVER=split needs nginx: scripts/ensure-nginx.sh installs it")
    return found


def write_nginx_conf(
    workdir: str | Path, *, host: str, port: int, http_port: int, ws_port: int
) -> Path:
    """Write nginx.conf for the split into ``workdir``; its path."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    listen = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    conf = workdir / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            workdir=workdir,
            mime_types="/etc/nginx/mime.types",
            listen=listen,
            http_port=http_port,
            ws_port=ws_port,
        )
    )
    return conf


def split_stages(
    *,
    host: str,
    port: int,
    workdir: str | Path,
    http_port: int | None = None,
    ws_port: int | None = None,
    access_log: bool | None = None,
) -> list[Stage]:
    """The split's start-up stages (server/supervise.py): granian and daphne, then nginx."""
    http_port = http_port or free_port()
    ws_port = ws_port or free_port()
    conf = write_nginx_conf(workdir, host=host, port=port, http_port=http_port, ws_port=ws_port)
    log_option = [] if access_log is None else ["--access-log" if access_log else "--no-access-log"]
    granian = command(
        "granian", port=http_port, extra_args=["--wsgi", "--proxy-headers", *log_option]
    )
    daphne = command("daphne", port=ws_port, extra_args=["--proxy-headers"])
    nginx = [nginx_binary(), "-e", "stderr", "-p", str(workdir), "-c", str(conf)]
    return [
        [
            ("granian", granian, ("127.0.0.1", http_port)),
            ("daphne", daphne, ("127.0.0.1", ws_port)),
        ],
        [("nginx", nginx, (host, port))],
    ]


def split_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of the three processes. Pages and WebSockets are served by different
    processes, so the session must be shared: without Redis (and without a chosen
    ``SESSION_BACKEND``) the embedded default's local-memory sessions are replaced by the
    database backend (SQLite), and the start-up line says so."""
    env = dict(environ)
    shared = env.get("REDIS_URL") or env.get("REDIS_SENTINELS")
    if not shared and not env.get("SESSION_BACKEND"):
        env["SESSION_BACKEND"] = "db"
    return env


def default_workdir() -> str:
    return tempfile.mkdtemp(prefix="chat-split-")
