"""/session/ shows the visitor's session as the store holds it: where (with the key masked), its
TTL and its key names."""

import pytest
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY
from django.contrib.sessions.models import Session

from core.session_inspect import mask_session_key
from tests.support.accounts import login, redis_session_key, session_cookie
from tests.support.sessions import use_session_backend

pytestmark = pytest.mark.django_db

SESSION_URL = "/session/"


def test_session_page_shows_the_redis_key_masked_and_its_ttl(client, alice, redis_client):
    login(client, remember="on")
    key = session_cookie(client)

    response = client.get(SESSION_URL)

    assert response.status_code == 200
    stored = response.context["stored"]
    assert stored.backend == "cache"
    assert stored.session_key == f"{key[:4]}…{key[-4:]}"
    [storage] = stored.storages
    full_name = redis_session_key(key)
    assert storage.name == full_name.replace(key, stored.session_key)
    assert abs(storage.seconds_left - redis_client.ttl(full_name)) <= 2
    html = response.content.decode()
    assert storage.name in html
    assert key not in html


def test_session_key_is_masked_to_its_first_and_last_four_characters():
    assert mask_session_key("abcdefghijklmnopqrstuvwxyz012345") == "abcd…2345"


def test_session_page_names_the_keys_but_never_shows_the_auth_hash(client, alice):
    login(client)
    auth_hash = client.session[HASH_SESSION_KEY]

    response = client.get(SESSION_URL)

    html = response.content.decode()
    assert {"_auth_user_id", "_auth_user_hash", "_auth_user_backend"} <= set(
        response.context["stored"].key_names
    )
    assert HASH_SESSION_KEY in html
    assert auth_hash not in html


def test_session_page_tells_when_the_session_ends_with_the_browser(client, alice):
    login(client)

    response = client.get(SESSION_URL)

    assert response.context["expire_at_browser_close"] is True


def test_session_page_without_a_session_says_so(client):
    response = client.get(SESSION_URL)

    assert response.status_code == 200
    assert response.context["stored"] is None
    assert 'class="session-none"' in response.content.decode()


def test_session_page_with_an_unknown_session_cookie_says_so(client):
    client.cookies[settings.SESSION_COOKIE_NAME] = "0" * 32

    response = client.get(SESSION_URL)

    assert response.status_code == 200
    assert response.context["stored"] is None


def test_session_page_with_a_malformed_session_cookie_is_not_an_error(
    client, file_session_settings
):
    client.cookies[settings.SESSION_COOKIE_NAME] = "../../etc/passwd"

    response = client.get(SESSION_URL)

    assert response.status_code == 200
    assert response.context["stored"] is None


def test_session_page_is_never_cached(client):
    response = client.get(SESSION_URL)

    assert "no-cache" in response["Cache-Control"]


# ------------------------------------------------------------------------------------------------
# Other SESSION_BACKEND values
# ------------------------------------------------------------------------------------------------


def test_session_page_on_the_db_backend_shows_the_database_row(client, settings, alice):
    use_session_backend(settings, "db")
    login(client, remember="on")
    key = session_cookie(client)

    stored = client.get(SESSION_URL).context["stored"]

    assert stored.backend == "db"
    [storage] = stored.storages
    assert mask_session_key(key) in storage.name
    assert key not in storage.name
    assert Session._meta.db_table in storage.name
    row = Session.objects.get(session_key=key)
    assert abs(stored.seconds_left - settings.SESSION_COOKIE_AGE) <= 5
    assert stored.expires_at == row.expire_date


def test_session_page_on_the_cached_db_backend_shows_row_and_redis_key(
    client, settings, alice, redis_client
):
    use_session_backend(settings, "cached_db")
    login(client, remember="on")
    key = session_cookie(client)

    stored = client.get(SESSION_URL).context["stored"]

    assert stored.backend == "cached_db"
    row, cached = stored.storages
    assert mask_session_key(key) in row.name
    assert cached.name.endswith(f"django.contrib.sessions.cached_db{mask_session_key(key)}")
    assert redis_client.exists(cached.name.replace(mask_session_key(key), key)) == 1


def test_session_page_on_the_file_backend_shows_the_file(client, alice, file_session_settings):
    login(client, remember="on")
    key = session_cookie(client)

    stored = client.get(SESSION_URL).context["stored"]

    assert stored.backend == "file"
    [storage] = stored.storages
    assert storage.name == str(
        file_session_settings / f"{settings.SESSION_COOKIE_NAME}{mask_session_key(key)}"
    )
    assert abs(stored.seconds_left - settings.SESSION_COOKIE_AGE) <= 5


def test_session_page_on_signed_cookies_says_there_is_no_server_side_storage(
    client, settings, alice
):
    use_session_backend(settings, "signed_cookies")
    login(client)

    response = client.get(SESSION_URL)

    assert response.status_code == 200
    assert response.context["server_side"] is False
    assert "_auth_user_id" in response.context["cookie_key_names"]
    assert 'class="session-no-storage"' in response.content.decode()
