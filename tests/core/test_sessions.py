"""Sessions live in Redis: a request that writes the session leaves its key there."""

import pytest
from django.conf import settings
from django.core.cache import cache

pytestmark = pytest.mark.django_db


def visit_home_twice(client):
    """The home page stores its visit count from a client's second visit: the first, without a
    cookie, stores nothing (it sets the CSRF cookie)."""
    client.get("/")
    return client.get("/")


def test_session_written_by_a_request_is_a_key_in_redis(client, redis_client):
    response = visit_home_twice(client)
    session_key = response.cookies[settings.SESSION_COOKIE_NAME].value

    redis_key = cache.make_key(f"django.contrib.sessions.cache{session_key}")
    assert redis_client.exists(redis_key) == 1
    assert 0 < redis_client.ttl(redis_key) <= settings.SESSION_ANONYMOUS_AGE


def test_session_persists_between_requests(client):
    client.get("/")
    response = client.get("/")

    assert response.context["visits"] == 2


def store_of(client):
    from importlib import import_module

    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key)


def test_saving_an_existing_session_updates_its_value_and_expiry(client, redis_client):
    visit_home_twice(client)
    store = store_of(client)
    store["colour"] = "blue"
    store.set_expiry(600)

    store.save()

    redis_key = cache.make_key(store.cache_key)
    assert store_of(client)["colour"] == "blue"
    assert 590 < redis_client.ttl(redis_key) <= 600


def test_a_session_deleted_meanwhile_is_not_written_back(client, redis_client):
    # A logout in another tab deletes the session while this request holds it: saving it must not
    # bring it back (Django's rule, kept by the one-round-trip save).
    from django.contrib.sessions.backends.base import UpdateError

    visit_home_twice(client)
    store = store_of(client)
    store["visits"]  # loaded, as a request would have
    redis_client.delete(cache.make_key(store.cache_key))
    store["colour"] = "blue"

    with pytest.raises(UpdateError):
        store.save()

    assert redis_client.exists(cache.make_key(store.cache_key)) == 0


def test_a_request_after_its_session_was_deleted_starts_a_fresh_one(client, redis_client):
    visit_home_twice(client)
    store = store_of(client)
    redis_client.delete(cache.make_key(store.cache_key))

    response = client.get("/")

    # The session was gone before this request loaded it: a fresh one is made, not the old key.
    assert response.status_code == 200
    assert redis_client.exists(cache.make_key(store.cache_key)) == 0
