"""Outages answered quickly and told apart, against production-mode daphne processes: a Redis of
the test's own frozen (SIGSTOP) or restarted, and tables of the test database locked by the
test (a frozen database, as far as the server can tell)."""

import contextlib
import json
import os
import threading
import time
from urllib.parse import urlsplit

import httpx
import MySQLdb
import pytest
from django.conf import settings

from chat.models import Message
from chat.protocol import ErrorCode
from server.ws_guard import CLOSE_SERVICE_UNAVAILABLE
from tests.chat.conftest import ws_connect
from tests.support.chatting import create_user, events_until, http_login, next_event
from tests.support.servers import production_env
from tests.support.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_TIMEOUT = 1.0
# What scheduling and the network add to a timeout on a loaded machine (two cores, eight
# test runs): answers must come within the timeout plus this.
SLACK = 0.5


@pytest.fixture
def stalling_server(start_server, redis_instance):
    """A production-mode daphne on ``redis_instance`` with a 1 s Redis timeout and one request
    thread."""
    return start_server(
        "daphne-stalling-redis",
        **production_env(
            REDIS_URL=redis_instance.url,
            REDIS_SOCKET_TIMEOUT=str(REDIS_TIMEOUT),
            DB_MAX_CONNECTIONS="2",
        ),
    )


def post(chat, text, client_id):
    chat.send(json.dumps({"type": "message", "text": text, "client_id": client_id}))


@contextlib.contextmanager
def chatting(server, username, room="outage"):
    create_user(username)
    cookie = http_login(server, username)
    with ws_connect(server, f"/ws/chat/{room}/", cookie) as chat:
        events_until(chat, lambda event: event["type"] == "presence")
        yield chat


def test_a_chat_message_during_a_redis_stall_gets_an_unavailable_error_within_the_timeout(
    stalling_server, redis_instance
):
    with chatting(stalling_server, "alice") as chat:
        with redis_instance.paused():
            sent = time.monotonic()
            post(chat, "during the stall", "stalled-1")
            answer = next_event(chat, timeout=10)
            answered_after = time.monotonic() - sent

        # Once Redis answers again, the same message (same client id) goes through.
        post(chat, "during the stall", "stalled-1")
        posted = events_until(chat, lambda event: event["type"] == "message")[-1]

    assert answer["type"] == "error"
    assert (answer["code"], answer["client_id"]) == (ErrorCode.UNAVAILABLE, "stalled-1")
    assert answered_after < REDIS_TIMEOUT + SLACK
    assert posted["client_id"] == "stalled-1"
    assert Message.objects.filter(client_id="stalled-1").count() == 1


def timed_get(url, **kwargs):
    started = time.monotonic()
    response = httpx.get(url, timeout=30, **kwargs)
    return response, time.monotonic() - started


def test_pages_answer_503_within_the_redis_timeout_during_a_stall(stalling_server, redis_instance):
    server = stalling_server
    with httpx.Client(base_url=server.url, timeout=30) as visitor:
        assert visitor.get("/").status_code == 200
        with redis_instance.paused():
            started = time.monotonic()
            returning = visitor.get("/")
            returning_after = time.monotonic() - started
            new_visitor, new_visitor_after = timed_get(f"{server.url}/")

    # The returning visitor's session is in the stalled Redis: 503. A new visitor's page needs
    # nothing from Redis (no session is stored for a client without cookies): served.
    assert (returning.status_code, new_visitor.status_code) == (503, 200)
    assert returning_after < REDIS_TIMEOUT + SLACK
    assert new_visitor_after < REDIS_TIMEOUT + SLACK


def test_healthz_answers_its_json_while_every_request_thread_is_stuck(start_server, redis_instance):
    # A Redis timeout longer than the health check's own, and one request thread: the pages
    # below hold it for 4 s each.
    server = start_server(
        "daphne-healthz-busy",
        **production_env(
            REDIS_URL=redis_instance.url, REDIS_SOCKET_TIMEOUT="4", DB_MAX_CONNECTIONS="2"
        ),
    )
    pages = []
    with redis_instance.paused():
        visitors = [
            threading.Thread(target=lambda: pages.append(timed_get(f"{server.url}/")))
            for _ in range(3)
        ]
        for visitor in visitors:
            visitor.start()
        health, health_after = timed_get(f"{server.url}/healthz")
        for visitor in visitors:
            visitor.join(timeout=60)

    assert health.status_code == 503
    assert health.headers["Content-Type"] == "application/json"
    assert health.json()["cache"] == "error: Timeout"
    assert health.json()["database"] == "ok"
    assert health_after < 3.5
    assert len(pages) == 3


def test_after_a_redis_restart_the_first_chat_connection_works(server_on_own_redis, redis_instance):
    server = server_on_own_redis
    with chatting(server, "alice") as chat:
        post(chat, "before", "restart-1")
        events_until(chat, lambda event: event.get("text") == "before")

    redis_instance.stop()
    redis_instance.start()
    # Redis came back empty: the login is gone; the pools' connections are dead.
    cookie = http_login(server, "alice")
    with ws_connect(server, "/ws/chat/outage/", cookie) as chat:
        assert next_event(chat)["type"] == "history"
        events_until(chat, lambda event: event["type"] == "presence")
        post(chat, "after", "restart-2")
        after = events_until(chat, lambda event: event["type"] in ("message", "error"))[-1]

    assert (after["type"], after["text"]) == ("message", "after")
    assert f"code={CLOSE_SERVICE_UNAVAILABLE}" not in server.log()
    assert "Traceback" not in server.log()


# ------------------------------------------------------------------------------------------------
# A frozen database: tables of the test database locked by the test's own connection
# ------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def locked(*tables):
    """Hold a write lock on ``tables`` of the test database: every other connection's query of
    them waits, as on a frozen server."""
    url = urlsplit(os.environ["DATABASE_URL"])
    connection = MySQLdb.connect(
        host=url.hostname,
        port=url.port or 3306,
        user=url.username,
        password=url.password or "",
        database=settings.DATABASES["default"]["NAME"],
    )
    try:
        connection.cursor().execute(
            "LOCK TABLES " + ", ".join(f"`{table}` WRITE" for table in tables)
        )
        yield
    finally:
        connection.cursor().execute("UNLOCK TABLES")
        connection.close()


def test_a_query_on_a_frozen_database_answers_503_within_db_query_timeout(start_server):
    server = start_server("daphne-frozen-db", **production_env(DB_QUERY_TIMEOUT="2"))
    assert httpx.get(f"{server.url}/stats/", timeout=10).status_code == 200

    with locked("auth_user"):
        page, page_after = timed_get(f"{server.url}/stats/")

    assert page.status_code == 503
    assert "database" in page.text
    assert 2 <= page_after < 2 + SLACK + 0.5
    wait_until(
        lambda: httpx.get(f"{server.url}/stats/", timeout=10).status_code == 200,
        timeout=10,
        message="the page back to 200 once the lock went",
    )


def test_a_chat_message_on_a_frozen_database_gets_an_unavailable_error(start_server):
    server = start_server("daphne-frozen-db-chat", **production_env(DB_QUERY_TIMEOUT="2"))
    with chatting(server, "alice", room="frozen") as chat, locked("chat_message"):
        sent = time.monotonic()
        post(chat, "frozen", "frozen-1")
        answer = next_event(chat, timeout=10)
        answered_after = time.monotonic() - sent

    assert (answer["type"], answer["code"]) == ("error", ErrorCode.UNAVAILABLE)
    assert answer["client_id"] == "frozen-1"
    assert answered_after < 2 + SLACK + 0.5


def test_the_rate_limit_counts_messages_when_sent_not_when_a_stalled_server_got_to_them(
    start_server,
):
    # 3 messages a second are allowed; the client sends 3, then 3 more a second later, while
    # the database holds the first one. Drained at once, they would look like 6 in a second.
    server = start_server(
        "daphne-backlog",
        **production_env(
            CHAT_MESSAGES_PER_WINDOW="3", CHAT_RATE_WINDOW_SECONDS="1", DB_QUERY_TIMEOUT="10"
        ),
    )
    with chatting(server, "alice", room="backlog") as chat:
        with locked("chat_message"):
            first_sent = time.monotonic()
            for number in range(3):
                post(chat, f"message {number}", f"backlog-{number}")
            # The client's own pace: the second batch leaves a window after the first.
            wait_until(lambda: time.monotonic() - first_sent > 1.1, timeout=5)
            for number in range(3, 6):
                post(chat, f"message {number}", f"backlog-{number}")
        answers = []
        for _ in range(6):
            answers.append(
                events_until(chat, lambda event: event["type"] in ("message", "error"))[-1]
            )

    assert [answer["type"] for answer in answers] == ["message"] * 6
    assert [answer["client_id"] for answer in answers] == [f"backlog-{n}" for n in range(6)]
