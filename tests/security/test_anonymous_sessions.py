"""Anonymous visitors cannot fill the session store: a client that sends no cookie gets no stored
session, an anonymous session that holds something lives SESSION_ANONYMOUS_AGE (a day), and only
a login gives it the full SESSION_COOKIE_AGE. Through a live production-mode daphne on Redis."""

from http.cookies import SimpleCookie

import httpx
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.cache import KEY_PREFIX
from django.core.cache import cache

from tests.support.accounts import STRONG_PASSWORD, redis_session_key
from tests.support.servers import production_env
from tests.support.visitor import Visitor

pytestmark = pytest.mark.django_db(transaction=True)

DAY = 24 * 60 * 60


def stored_session_keys(redis_client):
    """The Redis keys of every session in the test Redis database."""
    return set(redis_client.scan_iter(match=cache.make_key(f"{KEY_PREFIX}*")))


@pytest.fixture
def server(start_server, clean_login_throttle):
    return start_server("daphne-anonymous", **production_env())


def test_twenty_cookieless_home_page_visits_store_no_session(server, redis_client):
    before = stored_session_keys(redis_client)

    answers = [httpx.get(f"{server.url}/", timeout=10) for _ in range(20)]

    assert [answer.status_code for answer in answers] == [200] * 20
    assert all(settings.SESSION_COOKIE_NAME not in answer.cookies for answer in answers)
    assert stored_session_keys(redis_client) - before == set()


def test_cookieless_visits_to_every_page_store_no_session(server, redis_client):
    before = stored_session_keys(redis_client)
    paths = ["/", "/accounts/login/", "/accounts/register/", "/session/", "/echo/", "/chat/"]

    for path in paths:
        for _ in range(3):
            assert httpx.get(f"{server.url}{path}", timeout=10).status_code in (200, 302)

    assert stored_session_keys(redis_client) - before == set()


def session_cookie_max_age(response):
    """The ``Max-Age`` of the session cookie that ``response`` sets, or None."""
    for header in response.headers.get_list("set-cookie"):
        cookie = SimpleCookie()
        cookie.load(header)
        if settings.SESSION_COOKIE_NAME in cookie:
            return int(cookie[settings.SESSION_COOKIE_NAME]["max-age"])
    return None


def test_visitors_that_keep_cookies_get_sessions_that_live_at_most_a_day(server, redis_client):
    before = stored_session_keys(redis_client)
    keys, max_ages = [], []
    for _ in range(20):
        with Visitor(server) as visitor:
            # The login page's form sets the CSRF cookie and stores nothing; the home page,
            # visited with that cookie, stores its visit count.
            first = visitor.get("/accounts/login/")
            second = visitor.get("/")
            assert session_cookie_max_age(first) is None
            max_ages.append(session_cookie_max_age(second))
            keys.append(visitor.session_cookie)

    new = stored_session_keys(redis_client) - before
    assert new == {redis_session_key(key).encode() for key in keys}
    ttls = [redis_client.ttl(key) for key in new]
    assert all(DAY - 60 < ttl <= DAY for ttl in ttls), ttls
    # The browser is told the same lifetime.
    assert max_ages == [DAY] * 20


def test_login_gives_the_session_the_full_age_and_logout_removes_it(server, redis_client):
    get_user_model().objects.create_user("alice", password=STRONG_PASSWORD)
    with Visitor(server) as visitor:
        visitor.get("/accounts/login/")
        visitor.get("/")
        anonymous_key = visitor.session_cookie
        anonymous_ttl = redis_client.ttl(redis_session_key(anonymous_key))

        visitor.post_form(
            "/accounts/login/",
            {"username": "alice", "password": STRONG_PASSWORD, "remember": "on"},
        )
        logged_in_key = visitor.session_cookie
        logged_in_ttl = redis_client.ttl(redis_session_key(logged_in_key))
        visitor.get("/")
        home_ttl = redis_client.ttl(redis_session_key(logged_in_key))

        token = visitor.form_token("/")  # the logout form is on every page
        visitor.http.post("/accounts/logout/", data={"csrfmiddlewaretoken": token})
        after_logout = visitor.get("/")
        after_logout_key = visitor.session_cookie
        after_logout_ttl = redis_client.ttl(redis_session_key(after_logout_key))

    assert 0 < anonymous_ttl <= DAY
    assert logged_in_key != anonymous_key
    assert settings.SESSION_COOKIE_AGE - 60 < logged_in_ttl <= settings.SESSION_COOKIE_AGE
    # The home page's write keeps the full age: a user is still logged in to the session.
    assert home_ttl > DAY
    assert redis_client.exists(redis_session_key(logged_in_key)) == 0
    # Back to anonymous: a fresh session, with a day to live again.
    assert after_logout.status_code == 200
    assert after_logout_key not in (None, logged_in_key)
    assert 0 < after_logout_ttl <= DAY
