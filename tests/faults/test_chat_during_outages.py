"""Chat connections that are already open when Redis or MariaDB stops, under a production-mode
daphne on a throwaway Redis / MariaDB of the test's own (tests/support/services.py).

(New handshakes while Redis is down: tests/faults/test_services_down.py.)
"""

import contextlib
import json

import pytest

from chat.protocol import ErrorCode
from rfc6455.client import ProbeError
from rfc6455.frames import Opcode, parse_close_payload
from server.ws_guard import CLOSE_SERVICE_UNAVAILABLE
from tests.support.accounts import STRONG_PASSWORD
from tests.support.chatting import (
    create_user,
    events_until,
    http_login,
    next_data_frame,
    raw_socket,
    say,
)
from tests.support.visitor import Visitor
from tests.support.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def is_presence(event):
    return event["type"] == "presence"


def next_event_or_close(connection):
    """The next chat event, or ("close", code) when the server closes the connection."""
    frame = next_data_frame(connection)
    if frame.opcode == Opcode.CLOSE:
        return ("close", parse_close_payload(frame.payload)[0])
    return json.loads(frame.payload)


@contextlib.contextmanager
def in_outage_room(server, cookie):
    """A raw chat connection in room ``outage``, past its presence event."""
    with raw_socket(server, "/ws/chat/outage/", cookie=cookie) as chat:
        events_until(chat, is_presence)
        yield chat


def answer_once_stopped(chat, instance):
    """Stop ``instance`` (a throwaway Redis or MariaDB), post on ``chat``: the server's answer."""
    instance.stop()
    say(chat, f"while {instance.name} is down")
    return next_event_or_close(chat)


def chats_again(server, cookie):
    try:
        with in_outage_room(server, cookie) as chat:
            say(chat, "Redis is back")
            events_until(chat, lambda event: event.get("text") == "Redis is back")
            return True
    except (ProbeError, AssertionError):
        return False


def test_open_chat_when_redis_stops_is_closed_as_unavailable_and_works_after(
    server_on_own_redis, redis_instance
):
    server = server_on_own_redis
    create_user("alice")
    cookie = http_login(server, "alice")
    with in_outage_room(server, cookie) as chat:
        answer = answer_once_stopped(chat, redis_instance)

    redis_instance.start()
    # Redis came back empty (no persistence here): log in again. The server's Redis pools
    # find their old connections dead on first use, so the first handshakes may fail (one
    # hung for daphne's 5 s connect timeout); a client retrying, as the pages do, gets in.
    cookie = http_login(server, "alice")
    wait_until(
        lambda: chats_again(server, cookie),
        timeout=30,
        message="chatting again after Redis returned",
    )

    # The rate limit and the broadcast need Redis: the message gets an "unavailable" error, or
    # the connection is closed as "service unavailable" first (server.ws_guard: the channel
    # layer's receive fails at once too), rather than failing silently or with an internal error.
    assert answer == ("close", CLOSE_SERVICE_UNAVAILABLE) or (
        answer["type"] == "error" and answer["code"] == ErrorCode.UNAVAILABLE
    )
    assert "Traceback" not in server.log()


def test_open_chat_when_mariadb_stops_gets_unavailable_errors_and_works_after(
    start_on_own_mariadb, mariadb_instance
):
    # Its own chat key prefix: the throwaway database numbers users from 1 again, and the
    # rate-limit counters of the test database's user 1 live in the same Redis.
    server = start_on_own_mariadb("chat_outage", CHAT_KEY_PREFIX="chat-outage")
    # The user lives in the throwaway database: register through the site itself.
    with Visitor(server) as visitor:
        registered = visitor.post_form(
            "/accounts/register/",
            {
                "username": "alice",
                "email": "alice@example.com",
                "password": STRONG_PASSWORD,
                "repassword": STRONG_PASSWORD,
                "gender": "1",
                "hobby": ["1", "3"],
            },
        )
        assert registered.status_code == 302
        cookie = f"sessionid={visitor.session_cookie}"
    with in_outage_room(server, cookie) as chat:
        refused = answer_once_stopped(chat, mariadb_instance)

        mariadb_instance.start()

        # The connection stayed open: the same client posts again once MariaDB is back.
        def posted():
            say(chat, "MariaDB is back")
            event = next_event_or_close(chat)
            return event.get("text") == "MariaDB is back"

        wait_until(posted, timeout=30, message="a message stored after MariaDB returned")
    log = server.log()

    # The sender is told (the protocol's "unavailable" error event) and the connection stays.
    assert refused["type"] == "error"
    assert refused["code"] == ErrorCode.UNAVAILABLE
    # The one traceback is the consumer's own deliberate log entry of the failed store.
    errors = [line for line in log.splitlines() if " ERROR " in line]
    assert errors
    assert all(line.endswith("storing a message in room outage failed") for line in errors)
