"""Redis or MariaDB stopped while the site runs: a readable 503, then recovery without restart.

Each test runs its own throwaway Redis or MariaDB (tests/support/services.py) and daphne in
production mode, and stops and starts only those.
"""

import json
import time

import httpx
import pytest
from django.contrib.auth import get_user_model
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus

from server.ws_guard import CLOSE_SERVICE_UNAVAILABLE
from tests.support.accounts import STRONG_PASSWORD
from tests.support.visitor import Visitor
from tests.support.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def assert_readable_503(response, service):
    assert response.status_code == 503
    assert service in response.text
    assert response.headers["Retry-After"]
    assert "Traceback" not in response.text


def assert_health_blames(server, failing, working):
    """/healthz answers 503 within 3 s, its ``failing`` check an error and ``working`` ok."""
    started = time.monotonic()
    health = httpx.get(f"{server.url}/healthz", timeout=10)
    health_seconds = time.monotonic() - started

    assert health.status_code == 503
    assert health.json()[failing].startswith("error: ")
    assert health.json()[working] == "ok"
    assert health_seconds < 3


def wait_for_200(server, path, timeout, message):
    wait_until(
        lambda: httpx.get(f"{server.url}{path}", timeout=10).status_code == 200,
        timeout=timeout,
        message=message,
    )


def test_redis_stopped_gives_503_pages_and_recovers_without_restart(
    server_on_own_redis, redis_instance
):
    server = server_on_own_redis
    with httpx.Client(base_url=server.url, timeout=10) as visitor:
        assert visitor.get("/").status_code == 200
        assert visitor.get("/").status_code == 200

        redis_instance.stop()
        returning_visitor = visitor.get("/")
        # A browser back from another page (its CSRF cookie): the home page stores its visits.
        new_visitor = httpx.get(f"{server.url}/", headers={"Cookie": "csrftoken=x"}, timeout=10)

        assert_health_blames(server, failing="cache", working="database")
        assert_readable_503(returning_visitor, "session store")
        assert_readable_503(new_visitor, "session store")

        redis_instance.start()
        wait_for_200(server, "/healthz", 20, "healthz back to 200 after Redis returned")
        assert visitor.get("/").status_code == 200
    assert "Traceback" not in server.log()


@pytest.fixture
def server_on_own_mariadb(start_on_own_mariadb):
    return start_on_own_mariadb("faults")


def test_mariadb_stopped_gives_503_pages_and_recovers_without_restart(
    server_on_own_mariadb, mariadb_instance
):
    server = server_on_own_mariadb
    assert httpx.get(f"{server.url}/stats/", timeout=10).status_code == 200

    mariadb_instance.stop()
    page = httpx.get(f"{server.url}/stats/", timeout=10)

    assert_health_blames(server, failing="database", working="cache")
    assert_readable_503(page, "database")

    mariadb_instance.start()
    wait_for_200(server, "/stats/", 30, "the database page back to 200 after MariaDB returned")
    assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
    assert "Traceback" not in server.log()


def test_chat_handshake_is_closed_as_unavailable_while_redis_is_down(
    server_on_own_redis, redis_instance
):
    get_user_model().objects.create_user("carol", password=STRONG_PASSWORD)
    with Visitor(server_on_own_redis) as visitor:
        visitor.login("carol", STRONG_PASSWORD)
        with visitor.websocket("/ws/chat/lobby/") as chat:
            assert json.loads(chat.recv(timeout=10))["type"] == "history"

        redis_instance.stop()
        # Accepted, then closed as "unavailable": the page tells it from "logged out" (4401).
        with (
            visitor.websocket("/ws/chat/lobby/") as refused,
            pytest.raises(ConnectionClosed) as closed,
        ):
            refused.recv(timeout=10)
        assert closed.value.rcvd.code == CLOSE_SERVICE_UNAVAILABLE

        redis_instance.start()
        # The empty Redis holds no sessions any more: log in again. The server's Redis pools
        # find their old connections dead on first use, so the first attempt may still be
        # refused; a client retrying (as static/js/reconnecting-socket.js does) gets in.
        visitor.login("carol", STRONG_PASSWORD)
        wait_until(
            lambda: receives_history(visitor, "/ws/chat/lobby/"),
            timeout=20,
            message="chat accepting connections again after Redis returned",
        )
    assert "Traceback" not in server_on_own_redis.log()


def receives_history(visitor, path):
    try:
        with visitor.websocket(path) as chat:
            return json.loads(chat.recv(timeout=10))["type"] == "history"
    except (InvalidStatus, InvalidMessage, ConnectionClosed, TimeoutError, OSError):
        # Refused, or dropped while the server's pools reconnect: not yet.
        return False


def test_echo_keeps_working_while_redis_is_down(server_on_own_redis, redis_instance):
    redis_instance.stop()

    with Visitor(server_on_own_redis) as visitor, visitor.websocket("/ws/echo/") as echo:
        echo.send("still here")
        assert echo.recv(timeout=10) == "still here"
    assert "Traceback" not in server_on_own_redis.log()
