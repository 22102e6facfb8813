"""Chat connections that are already open when Redis or MariaDB stops, under a production-mode
daphne on a throwaway Redis / MariaDB of the test's own (tests/support/services.py).

(New handshakes while Redis is down: tests/faults/test_services_down.py.)
"""

import json

import pytest

from chat.protocol import ErrorCode
from rfc6455.client import ProbeError
from rfc6455.frames import Opcode, parse_close_payload
from server.ws_guard import CLOSE_SERVICE_UNAVAILABLE
from tests.support.chatting import (
    create_user,
    events_until,
    http_login,
    next_data_frame,
    raw_socket,
)
from tests.support.servers import DaphneServer, production_env
from tests.support.services import MariaDBInstance, RedisInstance
from tests.support.visitor import Visitor
from tests.support.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def is_presence(event):
    return event["type"] == "presence"


def send_message(connection, text):
    connection.send(json.dumps({"type": "message", "text": text}))


def next_event_or_close(connection):
    """The next chat event, or ("close", code) when the server closes the connection."""
    frame = next_data_frame(connection)
    if frame.opcode == Opcode.CLOSE:
        return ("close", parse_close_payload(frame.payload)[0])
    return json.loads(frame.payload)


def chats_again(server, cookie):
    try:
        with raw_socket(server, "/ws/chat/outage/", cookie=cookie) as chat:
            events_until(chat, is_presence)
            send_message(chat, "Redis is back")
            events_until(chat, lambda event: event.get("text") == "Redis is back")
            return True
    except (ProbeError, AssertionError):
        return False


@pytest.fixture
def redis_instance(tmp_path):
    instance = RedisInstance(tmp_path / "redis").start()
    yield instance
    instance.stop()


def test_open_chat_when_redis_stops_is_closed_as_unavailable_and_works_after(
    live_server_env, redis_instance
):
    env = production_env(**{**live_server_env, "REDIS_URL": redis_instance.url})
    with DaphneServer(env=env, name="daphne-chat-redis-down") as server:
        create_user("alice")
        cookie = http_login(server, "alice")
        with raw_socket(server, "/ws/chat/outage/", cookie=cookie) as chat:
            events_until(chat, is_presence)

            redis_instance.stop()
            send_message(chat, "while Redis is down")
            answer = next_event_or_close(chat)

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
        log = server.log()

    # The rate limit and the broadcast need Redis: the connection is closed as "service
    # unavailable" (server.ws_guard) rather than failing silently or with an internal error.
    assert answer == ("close", CLOSE_SERVICE_UNAVAILABLE)
    assert "Traceback" not in log


@pytest.fixture(scope="module")
def mariadb_instance(tmp_path_factory):
    instance = MariaDBInstance(tmp_path_factory.mktemp("mariadb"))
    instance.install()
    instance.start()
    instance.create_database("chat_outage")
    yield instance
    instance.stop()


def test_open_chat_when_mariadb_stops_gets_unavailable_errors_and_works_after(
    live_server_env, mariadb_instance
):
    # Its own chat key prefix: the throwaway database numbers users from 1 again, and the
    # rate-limit counters of the test database's user 1 live in the same Redis.
    env = production_env(
        **{
            **live_server_env,
            "DATABASE_URL": mariadb_instance.url("chat_outage"),
            "CHAT_KEY_PREFIX": "chat-outage",
        }
    )
    server = DaphneServer(env=env, name="daphne-chat-mariadb-down")
    server.migrate()
    with server:
        # The user lives in the throwaway database: register through the site itself.
        with Visitor(server) as visitor:
            registered = visitor.post_form(
                "/accounts/register/",
                {
                    "username": "alice",
                    "password": "kite-Orbit-42",
                    "repassword": "kite-Orbit-42",
                    "gender": "1",
                    "hobby": ["1", "3"],
                },
            )
            assert registered.status_code == 302
            cookie = f"sessionid={visitor.session_cookie}"
        with raw_socket(server, "/ws/chat/outage/", cookie=cookie) as chat:
            events_until(chat, is_presence)

            mariadb_instance.stop()
            send_message(chat, "while MariaDB is down")
            refused = next_event_or_close(chat)

            mariadb_instance.start()

            # The connection stayed open: the same client posts again once MariaDB is back.
            def posted():
                send_message(chat, "MariaDB is back")
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
