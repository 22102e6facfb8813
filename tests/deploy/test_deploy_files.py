"""The files docs/deploy.md installs: the nginx renderer, the environment file, the unit."""

import re
import subprocess
import sys

import pytest

from tests.deploy.cluster import (
    ENV_EXAMPLE,
    RENDERER,
    UNIT_FILE,
    Nginx,
    read_env_file,
    unit_exec_start,
    write_env_file,
)
from tests.deploy.conftest import manage, production_env
from tests.support.servers import PROJECT_DIR

PRODUCTION_ARGS = [
    "--server-name",
    "chat.example.com",
    "--backend",
    "8001",
    "--backend",
    "127.0.0.1:8002",
    "--static-root",
    "/srv/chat/static/",
]


def render(*args):
    return subprocess.run(
        [sys.executable, str(RENDERER), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_rendered_production_site_passes_nginx_test(deploy_dir, certificate):
    cert_path, key_path = certificate
    tls = ["--tls-certificate", str(cert_path), "--tls-certificate-key", str(key_path)]

    result = render(*PRODUCTION_ARGS, *tls)
    site = deploy_dir / "production-site.conf"
    site.write_text(result.stdout)
    checked = Nginx(deploy_dir, site, [80, 443]).check()

    assert result.returncode == 0, result.stderr
    assert "{{" not in result.stdout
    assert "server 127.0.0.1:8001 max_fails=1 fail_timeout=10s;" in result.stdout
    assert "server 127.0.0.1:8002 max_fails=1 fail_timeout=10s;" in result.stdout
    assert "alias /srv/chat/static/;" in result.stdout
    assert "listen 443 ssl;" in result.stdout
    assert "listen 80;" in result.stdout
    assert checked.returncode == 0, checked.stderr


def test_rendered_split_site_sends_websockets_to_daphne_and_pages_to_granian(
    deploy_dir, certificate
):
    cert_path, key_path = certificate
    tls = ["--tls-certificate", str(cert_path), "--tls-certificate-key", str(key_path)]

    result = render(*PRODUCTION_ARGS, "--pages-backend", "8101", *tls)
    site = deploy_dir / "split-site.conf"
    site.write_text(result.stdout)
    checked = Nginx(deploy_dir, site, [80, 443]).check()

    assert result.returncode == 0, result.stderr
    assert "{{" not in result.stdout
    pages = re.search(r"upstream chat_pages \{(.*?)\}", result.stdout, re.S).group(1)
    websockets = re.search(r"upstream chat_daphne \{(.*?)\}", result.stdout, re.S).group(1)
    assert "127.0.0.1:8101" in pages and "8001" not in pages
    assert "127.0.0.1:8001" in websockets and "127.0.0.1:8002" in websockets
    location = re.compile(r"^\s*location ([^{\n]+?) \{\s*proxy_pass http://(\w+);", re.M)
    locations = dict(location.findall(result.stdout))
    assert locations == {"= /ws": "chat_daphne", "/ws/": "chat_daphne", "/": "chat_pages"}
    assert checked.returncode == 0, checked.stderr


def test_granian_unit_serves_the_wsgi_pages_on_loopback_only_with_proxy_headers():
    unit = (PROJECT_DIR / "deploy" / "systemd" / "chat-granian@.service").read_text()
    exec_start = re.search(r"^ExecStart=(.*)$", unit, re.M).group(1).replace("%i", "8101").split()

    assert exec_start[1:5] == ["-m", "server.granian", "--wsgi", "--proxy-headers"]
    assert exec_start[exec_start.index("--host") + 1] == "127.0.0.1"
    assert exec_start[exec_start.index("--port") + 1] == "8101"
    assert "EnvironmentFile=/etc/chat/env\n" in unit


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (["--server-name", "chat.example.com;include /etc/passwd"], "--server-name"),
        (["--static-root", "srv/chat/static"], "--static-root"),
        (["--static-root", "/srv/chat static"], "--static-root"),
        (["--backend", "8001;"], "--backend"),
        (["--https-listen", "443 default_server"], "--https-listen"),
        (["--tls-certificate", "/etc/ssl/${x}.pem"], "--tls-certificate"),
    ],
)
def test_renderer_refuses_values_nginx_would_read_as_syntax(change, complaint):
    args = [*PRODUCTION_ARGS, "--tls-certificate", "/c.pem", "--tls-certificate-key", "/k.pem"]
    name, value = change
    if name in args:
        args[args.index(name) + 1] = value
    else:
        args += change

    result = render(*args)

    assert result.returncode == 2
    assert complaint in result.stderr
    assert result.stdout == ""


def test_renderer_refuses_a_backend_listed_twice():
    tls = ["--tls-certificate", "/c.pem", "--tls-certificate-key", "/k.pem"]

    result = render(*PRODUCTION_ARGS, *tls, "--backend", "127.0.0.1:8001")

    assert result.returncode == 2
    assert "listed twice" in result.stderr


def test_example_environment_names_every_variable_the_settings_read():
    settings_source = (PROJECT_DIR / "project" / "settings.py").read_text()
    read = set(re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', settings_source))
    # Commented-out lines count: they are the optional ones, documented in place.
    listed = set(re.findall(r"^#?([A-Z_]+)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE))
    # The embedded SQLite database is for development only.
    development_only = {"SQLITE_PATH"}

    missing = read - development_only - listed
    unknown = listed - read
    assert not missing, f"add {sorted(missing)} to deploy/env.example (commented out if optional)"
    assert not unknown, f"deploy/env.example sets {sorted(unknown)}, which settings.py never reads"


def test_example_environment_passes_the_deployment_checklist(deploy_dir):
    env = production_env(
        deploy_dir / "static", "mysql://u:p@127.0.0.1:1/x", "redis://127.0.0.1:1/0"
    )
    env_file = write_env_file(deploy_dir / "check.env", env)

    result = manage(env_file, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    assert read_env_file(ENV_EXAMPLE)["SECRET_KEY"] == "", "the example must not ship a secret"


def test_unit_runs_daphne_on_loopback_only_with_proxy_headers():
    unit = UNIT_FILE.read_text()
    argv = unit_exec_start(8001)

    assert argv[1:4] == ["-m", "server.daphne", "--proxy-headers"]
    # daphne trusts X-Forwarded-For: nothing but nginx may reach it.
    assert argv[argv.index("-b") + 1] == "127.0.0.1"
    assert argv[argv.index("-p") + 1] == "8001"
    assert argv[-1] == "project.asgi:application"
    assert "EnvironmentFile=/etc/chat/env\n" in unit
