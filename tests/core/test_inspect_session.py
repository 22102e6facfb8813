"""``manage.py inspect_session``: any session straight from the store, on every backend."""

import io
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY
from django.core.management import CommandError, call_command

from tests.support.accounts import login, redis_session_key, session_cookie
from tests.support.servers import PROJECT_DIR
from tests.support.sessions import use_session_backend

pytestmark = pytest.mark.django_db


def inspect(session_key):
    out = io.StringIO()
    call_command("inspect_session", session_key, stdout=out)
    return out.getvalue()


def test_inspect_session_prints_the_redis_key_ttl_and_key_names(client, alice, redis_client):
    login(client, remember="on")
    key = session_cookie(client)
    auth_hash = client.session[HASH_SESSION_KEY]

    output = inspect(key)

    redis_key = redis_session_key(key)
    assert redis_client.exists(redis_key) == 1
    assert f"Redis key {redis_key} (" in output
    ttl_shown = int(output.split(f"Redis key {redis_key} (")[1].split(" s left")[0])
    assert abs(ttl_shown - redis_client.ttl(redis_key)) <= 2
    assert "_auth_user_hash" in output
    assert "_auth_user_id" in output
    assert auth_hash not in output


def test_inspect_session_of_a_missing_session_is_a_command_error(db):
    with pytest.raises(CommandError, match="No session"):
        inspect("0" * 32)


def test_inspect_session_of_a_logged_out_session_is_a_command_error(client, alice):
    login(client)
    key = session_cookie(client)
    client.post("/accounts/logout/")

    with pytest.raises(CommandError, match="No session"):
        inspect(key)


@pytest.mark.parametrize("bad_key", ["", "short", "../../../etc/passwd", "A" * 32, "x" * 500])
def test_inspect_session_treats_malformed_keys_as_missing(db, file_session_settings, bad_key):
    with pytest.raises(CommandError, match="No session"):
        inspect(bad_key)


def test_inspect_session_exits_non_zero_with_a_message_for_a_missing_session():
    result = subprocess.run(
        [sys.executable, "manage.py", "inspect_session", "0" * 32],
        cwd=PROJECT_DIR,
        env={**os.environ, "DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "No session" in result.stderr
    assert "Traceback" not in result.stderr


def test_inspect_session_on_the_db_backend_names_the_row(client, settings, alice):
    use_session_backend(settings, "db")
    login(client)
    key = session_cookie(client)

    output = inspect(key)

    assert "Backend:     db" in output
    assert f"database row django_session (session_key = '{key}')" in output


def test_inspect_session_on_the_cached_db_backend_names_row_and_redis_key(
    client, settings, alice, redis_client
):
    use_session_backend(settings, "cached_db")
    login(client)
    key = session_cookie(client)

    output = inspect(key)

    assert f"database row django_session (session_key = '{key}')" in output
    redis_key = next(
        line.split("Redis key ")[1].split(" (")[0]
        for line in output.splitlines()
        if "Redis key" in line
    )
    assert redis_client.exists(redis_key) == 1


def test_inspect_session_on_the_file_backend_names_the_file(client, alice, file_session_settings):
    login(client)
    key = session_cookie(client)

    output = inspect(key)

    path = file_session_settings / f"{settings.SESSION_COOKIE_NAME}{key}"
    assert path.exists()
    assert f"file {path} (" in output


def test_inspect_session_on_signed_cookies_says_there_is_no_server_side_storage(settings):
    use_session_backend(settings, "signed_cookies")

    with pytest.raises(CommandError, match="no server-side storage"):
        inspect("0" * 32)
