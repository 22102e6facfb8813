"""Scale-out as docs/deploy.md sets it up: two daphne processes behind nginx are one site.

Every request goes through nginx over HTTPS, as a browser's would. Which process answered is read
from ``X-Served-By`` (SERVED_BY_HEADER), on responses and on WebSocket handshakes alike.
"""

import contextlib
import re

import httpx
import pytest
from axes.helpers import make_cache_key_list
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from chat.models import Message
from server.commands import port_accepts
from tests.deploy.cluster import SERVED_BY
from tests.support.accounts import STRONG_PASSWORD
from tests.support.chatting import events_until, is_message, is_presence, say

pytestmark = pytest.mark.live_server_process

WRONG_PASSWORD = "not-it-123"
# Requests in a row through nginx: round-robin spreads them over both processes.
REQUESTS = 6


def csrf_token(html):
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def shows_profile_of(response, username):
    """True when ``response`` is the profile page of a logged-in ``username``."""
    return response.status_code == 200 and f'class="profile-username">{username}<' in response.text


def processes(responses):
    """The set of processes that served ``responses`` (each must name one)."""
    return {response.headers[SERVED_BY] for response in responses}


class Browser:
    """One visitor: its own cookies, forms posted with their CSRF token and with the Origin
    header browsers send (over HTTPS, Django's CSRF check wants Origin or Referer)."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.http = httpx.Client(base_url=cluster.url, verify=cluster.ssl_context(), timeout=15)
        self.websockets = contextlib.ExitStack()

    def close(self):
        self.websockets.close()
        self.http.close()

    def get(self, path):
        return self.http.get(path)

    def form(self, path):
        """The form page at ``path`` and its CSRF token."""
        page = self.get(path)
        assert page.status_code == 200, page.text
        return page, csrf_token(page.text)

    def post(self, path, data, token, headers=None):
        return self.http.post(
            path,
            data={"csrfmiddlewaretoken": token, **data},
            headers={"Origin": self.cluster.url, **(headers or {})},
        )

    def register(self, username):
        page, token = self.form("/accounts/register/")
        hobbies = re.findall(r'name="hobby" value="(\d+)"', page.text)[:2]
        response = self.post(
            "/accounts/register/",
            {
                "username": username,
                "email": f"{username}@example.com",
                "password": STRONG_PASSWORD,
                "repassword": STRONG_PASSWORD,
                "gender": "1",
                "hobby": hobbies,
            },
            token,
        )
        assert response.status_code == 302, response.text
        return response

    def login(self, username, password=STRONG_PASSWORD):
        _, token = self.form("/accounts/login/")
        return self.post("/accounts/login/", {"username": username, "password": password}, token)

    def websocket(self, path):
        """A WebSocket with this visitor's session; closed with the browser at the latest."""
        cookie = self.http.cookies.get(settings.SESSION_COOKIE_NAME)
        connection = connect(
            f"{self.cluster.ws_url}{path}",
            ssl=self.cluster.ssl_context(),
            origin=self.cluster.url,
            additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"},
            open_timeout=10,
            close_timeout=2,
        )
        return self.websockets.enter_context(connection)


@pytest.fixture
def browser(cluster):
    """``browser()`` -> a new :class:`Browser` on the cluster, closed after the test."""
    opened = []

    def open_browser():
        opened.append(Browser(cluster))
        return opened[-1]

    yield open_browser
    for each in opened:
        each.close()


def logged_in_browser(browser, username):
    get_user_model().objects.create_user(username, password=STRONG_PASSWORD)
    visitor = browser()
    assert visitor.login(username).status_code == 302
    return visitor


def join(visitor, room, avoid=None, attempts=6):
    """A chat WebSocket through nginx on a process other than ``avoid``: ``(ws, process,
    history)``.

    nginx hands each handshake to the next process, so connecting again reaches another one;
    a connection that lands on ``avoid`` is closed and the next try made.
    """
    for _attempt in range(attempts):
        ws = visitor.websocket(f"/ws/chat/{room}/")
        process = ws.response.headers[SERVED_BY]
        if process != avoid:
            history = events_until(ws, lambda event: event["type"] == "history")[-1]
            return ws, process, history
        ws.close()
    raise AssertionError(f"{attempts} handshakes through nginx all reached {avoid}")


def two_in_a_room(browser, room):
    """alice and bob logged in through nginx, their chat WebSockets on different processes."""
    alice = logged_in_browser(browser, "alice")
    bob = logged_in_browser(browser, "bob")
    alice_ws, alice_process, _ = join(alice, room)
    bob_ws, bob_process, _ = join(bob, room, avoid=alice_process)
    # Presence crosses processes through the channel layer: alice hears bob arrive.
    events_until(alice_ws, is_presence("alice", "bob"))
    events_until(bob_ws, is_presence("alice", "bob"))
    return (alice, alice_ws, alice_process), (bob, bob_ws, bob_process)


# ------------------------------------------------------------------------------------------------
# The front: TLS, static files, health
# ------------------------------------------------------------------------------------------------


def test_nginx_ends_tls_serves_static_files_and_spreads_requests(cluster, browser, static_root):
    visitor = browser()

    plain = httpx.get(f"{cluster.http_url}/accounts/login/", timeout=10)
    health = [visitor.get("/healthz") for _ in range(REQUESTS)]
    page = visitor.get("/accounts/login/")
    stylesheet = visitor.get("/static/admin/css/base.css")

    # Plain HTTP is sent to HTTPS by nginx itself (the test's port is not 443, so none is named).
    assert plain.status_code == 301
    assert plain.headers["location"] == "https://127.0.0.1/accounts/login/"
    assert [response.status_code for response in health] == [200] * REQUESTS
    assert all(
        response.json() == {"database": "ok", "cache": "ok", "channel_layer": "ok"}
        for response in health
    )
    assert processes(health) == {daphne.served_by for daphne in cluster.daphnes}
    # With SECURE_SSL_REDIRECT on, a page answered without a redirect and with HSTS (sent only
    # on secure requests) means daphne took X-Forwarded-Proto: request.is_secure() is true.
    assert page.status_code == 200
    assert page.headers["strict-transport-security"].startswith("max-age=31536000")
    assert "secure" in page.headers["set-cookie"].lower()
    # nginx answers static files itself, from collectstatic's output.
    assert stylesheet.status_code == 200
    assert SERVED_BY not in stylesheet.headers
    assert stylesheet.headers["content-type"] == "text/css"
    assert stylesheet.headers["cache-control"] == "max-age=3600"
    assert stylesheet.content == (static_root / "admin" / "css" / "base.css").read_bytes()


# ------------------------------------------------------------------------------------------------
# Sessions and the login throttle are shared
# ------------------------------------------------------------------------------------------------


def test_registered_user_logs_in_and_stays_logged_in_on_both_processes(cluster, browser):
    newcomer = browser()
    newcomer.register("alice")
    returning = browser()

    login = returning.login("alice")
    pages = {
        name: [visitor.get("/accounts/profile/") for _ in range(REQUESTS)]
        for name, visitor in (("newcomer", newcomer), ("returning", returning))
    }

    assert login.status_code == 302
    assert login.headers["location"] == "/"
    everyone = {daphne.served_by for daphne in cluster.daphnes}
    for name, responses in pages.items():
        assert all(shows_profile_of(response, "alice") for response in responses), name
        assert processes(responses) == everyone, name


def axes_key(username, address):
    """django-axes' cache key of the failures of ``username`` from ``address``."""
    (key,) = make_cache_key_list([{"username": username, "ip_address": address}])
    return key


def test_login_throttle_counts_failures_made_on_both_processes(cluster, browser):
    get_user_model().objects.create_user("bob", password=STRONG_PASSWORD)
    limit = int(cluster.env["LOGIN_THROTTLE_PER_USERNAME"])
    visitor = browser()
    _, token = visitor.form("/accounts/login/")
    # A forged X-Forwarded-For must not become the address the throttle counts.
    forged = {"X-Forwarded-For": "203.0.113.7"}

    failures = [
        visitor.post(
            "/accounts/login/", {"username": "bob", "password": WRONG_PASSWORD}, token, forged
        )
        for _ in range(limit)
    ]
    refused = [
        visitor.post("/accounts/login/", {"username": "bob", "password": STRONG_PASSWORD}, token)
        for _ in range(REQUESTS)
    ]

    everyone = {daphne.served_by for daphne in cluster.daphnes}
    assert [response.status_code for response in failures] == [200] * (limit - 1) + [429]
    assert processes(failures) == everyone
    assert cache.get(axes_key("bob", "127.0.0.1")) == limit
    assert cache.get(axes_key("bob", "203.0.113.7")) is None
    # Even the right password is refused now, by whichever process answers.
    assert [response.status_code for response in refused] == [429] * REQUESTS
    assert processes(refused) == everyone


# ------------------------------------------------------------------------------------------------
# Chat rooms span processes
# ------------------------------------------------------------------------------------------------


def room_texts(room):
    return list(Message.objects.filter(room=room).order_by("id").values_list("text", flat=True))


def test_chat_clients_on_different_processes_talk_in_one_room(cluster, browser):
    (_, alice_ws, alice_process), (_, bob_ws, bob_process) = two_in_a_room(browser, "scale")

    say(alice_ws, "hello from alice")
    heard_by_bob = events_until(bob_ws, is_message("hello from alice"))[-1]
    say(bob_ws, "hello from bob")
    heard_by_alice = events_until(alice_ws, is_message("hello from bob"))[-1]

    assert alice_process != bob_process
    assert heard_by_bob["user"] == "alice"
    assert heard_by_alice["user"] == "bob"
    assert room_texts("scale") == ["hello from alice", "hello from bob"]


# ------------------------------------------------------------------------------------------------
# Losing a process
# ------------------------------------------------------------------------------------------------


def test_losing_a_process_loses_no_session_message_or_user(cluster, browser):
    (alice, alice_ws, survivor), (bob, bob_ws, bob_process) = two_in_a_room(browser, "crash")
    say(alice_ws, "before 1")
    events_until(bob_ws, is_message("before 1"))
    say(bob_ws, "before 2")
    events_until(alice_ws, is_message("before 2"))

    # bob's process dies as in a crash (SIGKILL): no chance to tidy anything up.
    lost = cluster.daphne_serving(bob_process)
    lost.kill()
    with pytest.raises(ConnectionClosed):
        events_until(bob_ws, lambda event: False)
    assert not port_accepts(lost.port)

    # New requests, through nginx to the survivor only: both users are still logged in.
    health = [alice.get("/healthz") for _ in range(REQUESTS)]
    profiles = {
        name: [visitor.get("/accounts/profile/") for _ in range(REQUESTS // 2)]
        for name, visitor in (("alice", alice), ("bob", bob))
    }
    # A new WebSocket: bob is back in the room, with its history.
    bob_ws, bob_now, history = join(bob, "crash")
    say(bob_ws, "after")
    heard_by_alice = events_until(alice_ws, is_message("after"))[-1]
    # A new user registers, and logs in from another browser.
    browser().register("carol")
    carol = browser()
    carol_login = carol.login("carol")
    carol_profile = carol.get("/accounts/profile/")

    assert [response.status_code for response in health] == [200] * REQUESTS
    assert processes(health) == {survivor}
    for name, responses in profiles.items():
        assert all(shows_profile_of(response, name) for response in responses), name
        assert processes(responses) == {survivor}, name
    assert bob_now == survivor
    assert [message["text"] for message in history["messages"]] == ["before 1", "before 2"]
    assert heard_by_alice["user"] == "bob"
    assert carol_login.status_code == 302
    assert shows_profile_of(carol_profile, "carol")
    # Nothing stored was lost: every message and every user is in MySQL.
    assert room_texts("crash") == ["before 1", "before 2", "after"]
    assert set(get_user_model().objects.values_list("username", flat=True)) == {
        "alice",
        "bob",
        "carol",
    }
