"""``SESSION_BACKEND=memcached``: sessions in a memcached of the test's own, under a
production-mode daphne; and what visitors get while that memcached is down.

The test reads sessions back through the same store the server uses, configured in this process
with the server's ``MEMCACHED_URL``.
"""

import httpx
import pytest
from django.test import override_settings

from core import session_inspect
from core.memcached import memcached_cache
from core.session_backends.registry import SESSION_BACKENDS
from tests.support.accounts import STRONG_PASSWORD
from tests.support.chatting import create_user
from tests.support.servers import production_env
from tests.support.services import MemcachedInstance
from tests.support.visitor import Visitor
from tests.support.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def memcached(start_service):
    return start_service(MemcachedInstance)


@pytest.fixture
def server(start_server, memcached):
    return start_server(
        "daphne-memcached-sessions",
        **production_env(SESSION_BACKEND="memcached", MEMCACHED_URL=memcached.url),
    )


@pytest.fixture
def memcached_store(settings, memcached):
    """The server's session configuration in this process, for reading its sessions back."""
    sessions = memcached_cache(memcached.url, connect_timeout=1.0, timeout=2.0)
    backend = SESSION_BACKENDS["memcached"]
    with override_settings(
        CACHES={**settings.CACHES, backend.cache_alias: sessions},
        SESSION_CACHE_ALIAS=backend.cache_alias,
        SESSION_BACKEND=backend.name,
        SESSION_ENGINE=backend.engine,
    ):
        yield session_inspect.session_store_class()


def logout(visitor):
    """Press the logout button: a form, with its page's CSRF token, posting to the logout URL."""
    token = visitor.form_token("/accounts/profile/")
    return visitor.http.post("/accounts/logout/", data={"csrfmiddlewaretoken": token})


def test_login_stores_the_session_in_memcached_and_logout_deletes_it(server, memcached_store):
    user = create_user("alice")
    with Visitor(server) as visitor:
        visitor.login("alice", STRONG_PASSWORD)
        session_key = visitor.session_cookie
        profile = visitor.get("/accounts/profile/")
        stored = session_inspect.stored_session(session_key)
        loaded = memcached_store(session_key).load()

        logged_out = logout(visitor)
        after_logout = visitor.get("/accounts/profile/")
        exists_after_logout = memcached_store().exists(session_key)
        status = httpx.get(f"{server.url}/healthz", timeout=10)

    assert profile.status_code == 200
    assert "alice" in profile.text
    assert stored is not None
    assert stored.backend == "memcached"
    assert "_auth_user_id" in stored.key_names
    assert loaded["_auth_user_id"] == str(user.pk)
    assert logged_out.status_code == 302
    assert after_logout.status_code == 302
    assert "/accounts/login/" in after_logout.headers["Location"]
    assert exists_after_logout is False
    assert status.json()["session_cache"] == "ok"
    assert "Traceback" not in server.log()


def test_memcached_down_gives_503_pages_not_logouts_and_recovers(server, memcached):
    create_user("bob")
    with Visitor(server) as visitor:
        visitor.login("bob", STRONG_PASSWORD)
        assert visitor.get("/accounts/profile/").status_code == 200

        memcached.stop()
        returning_visitor = visitor.get("/accounts/profile/")
        # Twice: pymemcache's failover client answered the second read "not found" (a logout).
        returning_again = visitor.get("/accounts/profile/")
        # Back from another page with its CSRF cookie, so the home page stores its visit count.
        new_visitor = httpx.get(f"{server.url}/", headers={"Cookie": "csrftoken=x"}, timeout=10)
        # Without any cookie nothing is stored for it: the page needs no session store.
        cookieless_visitor = httpx.get(f"{server.url}/", timeout=10)
        health = httpx.get(f"{server.url}/healthz", timeout=10)

        memcached.start()
        # memcached came back empty: the session is gone, and the site says so by asking for a
        # login, once the server's connection to memcached is replaced.
        wait_until(
            lambda: httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200,
            timeout=20,
            message="healthz back to 200 after memcached returned",
        )
        logged_out = visitor.get("/accounts/profile/")
        visitor.login("bob", STRONG_PASSWORD)
        logged_in_again = visitor.get("/accounts/profile/")

    for page in (returning_visitor, returning_again, new_visitor):
        assert page.status_code == 503
        assert "session store" in page.text
        assert page.headers["Retry-After"]
    assert cookieless_visitor.status_code == 200
    assert health.status_code == 503
    assert health.json()["session_cache"].startswith("error: ")
    assert health.json()["cache"] == "ok"
    assert logged_out.status_code == 302
    assert logged_in_again.status_code == 200
    assert "Traceback" not in server.log()
