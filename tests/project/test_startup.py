"""The project boots on its embedded defaults and passes the deployment checklist."""

import os
import secrets
import subprocess
import sys

import pytest

from tests.support.servers import PROJECT_DIR

STRIPPED = {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SESSION_BACKEND"}


def manage(*args, env):
    base = {k: v for k, v in os.environ.items() if k not in STRIPPED}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_embedded_default_checks_and_migrates_on_sqlite(tmp_path):
    env = {"DEBUG": "1", "SQLITE_PATH": str(tmp_path / "embedded.sqlite3")}

    checked = manage("check", env=env)
    migrated = manage("migrate", "--noinput", env=env)

    assert checked.returncode == 0, checked.stderr
    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / "embedded.sqlite3").stat().st_size > 0


@pytest.mark.needs_services
def test_check_deploy_is_clean_with_production_variables():
    env = {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "chat.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://chat.example.com",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "REDIS_URL": os.environ["REDIS_URL"],
        "EMAIL_URL": "smtp+tls://chat:secret@mail.example.com:587",
        "DEFAULT_FROM_EMAIL": "chat@chat.example.com",
    }

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_asgi_application_keeps_its_startup_objects_out_of_garbage_collections():
    code = "import gc, project.asgi; print(gc.get_freeze_count())"

    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "LOG_LEVEL": "WARNING"},
    )

    # Django, the apps and the URL patterns: tens of thousands of objects.
    assert int(result.stdout.strip()) > 10_000, result.stderr
