"""Sessions live in Redis: a request that writes the session leaves its key there."""

import pytest
from django.conf import settings
from django.core.cache import cache

pytestmark = pytest.mark.django_db


def test_session_written_by_a_request_is_a_key_in_redis(client, redis_client):
    response = client.get("/")
    session_key = response.cookies[settings.SESSION_COOKIE_NAME].value

    redis_key = cache.make_key(f"django.contrib.sessions.cache{session_key}")
    assert redis_client.exists(redis_key) == 1
    assert 0 < redis_client.ttl(redis_key) <= settings.SESSION_COOKIE_AGE


def test_session_persists_between_requests(client):
    client.get("/")
    response = client.get("/")

    assert response.context["visits"] == 2
