"""Fixtures of the deployment tests: the static files, a certificate, and the running cluster."""

import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.deploy.cluster import (
    ENV_EXAMPLE,
    MANAGE,
    Cluster,
    make_tls_certificate,
    nginx_binary,
    read_env_file,
    write_env_file,
)


@pytest.fixture(scope="session", autouse=True)
def require_nginx():
    if nginx_binary() is None:
        pytest.fail(
            "nginx is not installed: run the suite with `make test`, which installs it "
            "(scripts/ensure-nginx.sh)",
            pytrace=False,
        )


@pytest.fixture(scope="module")
def deploy_dir():
    """A private directory nginx's workers can read: they drop root for nobody, and pytest's
    own temporary directories are closed to other users."""
    path = Path(tempfile.mkdtemp(prefix="chat-deploy-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def certificate(deploy_dir):
    return make_tls_certificate(deploy_dir)


def production_env(static_root, database_url, redis_url):
    """deploy/env.example with only what a test machine must change."""
    return {
        **read_env_file(ENV_EXAMPLE),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "STATIC_ROOT": str(static_root),
        "SERVED_BY_HEADER": "1",
    }


def manage(env_file, *args):
    """deploy/manage.sh, as docs/deploy.md runs it, on the test's environment file."""
    return subprocess.run(
        [str(MANAGE), *args],
        env={"PATH": "/usr/bin:/bin", "CHAT_ENV_FILE": str(env_file)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def static_root(deploy_dir):
    """collectstatic, run once for the module as the deployment steps run it."""
    root = deploy_dir / "static"
    env_file = write_env_file(
        deploy_dir / "collectstatic.env",
        production_env(root, os.environ["DATABASE_URL"], os.environ["REDIS_URL"]),
    )
    result = manage(env_file, "collectstatic", "--noinput")
    assert result.returncode == 0, result.stdout + result.stderr
    return root


@pytest.fixture
def cluster(live_server_env, default_hobbies, clean_login_throttle, static_root, certificate):
    """Two daphne processes behind nginx on the test database and Redis, stopped by pid."""
    workdir = Path(tempfile.mkdtemp(prefix="chat-nginx-"))
    workdir.chmod(0o755)
    env = production_env(static_root, live_server_env["DATABASE_URL"], live_server_env["REDIS_URL"])
    running = Cluster(workdir, env, static_root, certificate, processes=2)
    try:
        running.start()
        yield running
    finally:
        running.stop()
        shutil.rmtree(workdir, ignore_errors=True)
