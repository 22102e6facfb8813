"""Chat end to end: live daphne processes on the test database and Redis, ``websockets`` clients
logged in through a Django session cookie."""

import contextlib

import pytest
from django.conf import settings
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chat.models import Message
from chat.protocol import ErrorCode
from server.ws_guard import CLOSE_LOGGED_OUT
from tests.chat.conftest import ws_connect
from tests.support.chatting import (
    create_user,
    events_until,
    is_message,
    is_presence,
    login_cookie,
    next_event,
    say,
)
from tests.support.servers import DaphneServer, live_server_class
from tests.support.waiting import wait_until

pytestmark = pytest.mark.live_server_process


def user_cookie(username):
    return login_cookie(create_user(username))


@contextlib.contextmanager
def alice_and_bob_in(room, alice_server, bob_server):
    """alice connected to ``room`` through ``alice_server`` and bob through ``bob_server``, both
    past the presence event that lists them both."""
    alice_cookie, bob_cookie = user_cookie("alice"), user_cookie("bob")
    with (
        ws_connect(alice_server, f"/ws/chat/{room}/", alice_cookie) as alice,
        ws_connect(bob_server, f"/ws/chat/{room}/", bob_cookie) as bob,
    ):
        events_until(alice, is_presence("alice", "bob"))
        events_until(bob, is_presence("alice", "bob"))
        yield alice, bob


def test_two_users_chat_in_a_room(daphne_server):
    with alice_and_bob_in("e2e", daphne_server, daphne_server) as (alice, bob):
        say(alice, "hello bob")
        at_bob = events_until(bob, is_message("hello bob"))[-1]
        at_alice = events_until(alice, is_message("hello bob"))[-1]
        say(bob, "hi alice")
        reply = events_until(alice, is_message("hi alice"))[-1]

    assert at_bob == at_alice
    assert at_bob["user"] == "alice"
    assert reply["user"] == "bob"
    stored = list(Message.objects.order_by("id").values_list("room", "user__username", "text"))
    assert stored == [("e2e", "alice", "hello bob"), ("e2e", "bob", "hi alice")]


def test_message_through_one_process_reaches_a_client_of_another(live_server_env):
    with (
        live_server_class()(env=live_server_env, name="server-a") as server_a,
        live_server_class()(env=live_server_env, name="server-b") as server_b,
        # Presence is shared too: each sees the other, served by the other process.
        alice_and_bob_in("shared", server_a, server_b) as (alice, bob),
    ):
        say(alice, "across processes")
        at_bob = events_until(bob, is_message("across processes"))[-1]
        say(bob, "and back")
        at_alice = events_until(alice, is_message("and back"))[-1]

    assert (at_bob["user"], at_alice["user"]) == ("alice", "bob")


def test_history_after_reconnect(daphne_server):
    cookie = user_cookie("alice")
    with ws_connect(daphne_server, "/ws/chat/memory/", cookie) as first:
        assert next_event(first) == {"type": "history", "messages": []}
        say(first, "one")
        say(first, "two")
        sent = [
            event for event in events_until(first, is_message("two")) if event["type"] == "message"
        ]

    with ws_connect(daphne_server, "/ws/chat/memory/", cookie) as again:
        history = next_event(again)

    assert history == {"type": "history", "messages": sent}
    assert [message["text"] for message in sent] == ["one", "two"]


def test_anonymous_handshake_is_accepted_then_closed_as_logged_out(daphne_server):
    with (
        ws_connect(daphne_server, "/ws/chat/e2e/") as chat,
        pytest.raises(ConnectionClosed) as excinfo,
    ):
        chat.recv(timeout=10)

    assert excinfo.value.rcvd.code == CLOSE_LOGGED_OUT


def test_handshake_from_another_origin_is_refused_with_403(daphne_server):
    cookie = user_cookie("alice")

    with pytest.raises(InvalidStatus) as excinfo:
        ws_connect(daphne_server, "/ws/chat/e2e/", cookie, origin="http://evil.example")

    assert excinfo.value.response.status_code == 403


def test_idle_consumer_survives_longer_than_the_channel_layers_blocking_receive(daphne_server):
    """channels-redis blocks up to 5 s on Redis per receive: a Redis socket timeout of 5 s or
    less (redis-py's default) kills idle consumers with 1011."""
    alice_cookie, bob_cookie = user_cookie("alice"), user_cookie("bob")
    with ws_connect(daphne_server, "/ws/chat/idle/", alice_cookie) as alice:
        events_until(alice, is_presence("alice"))

        # Nothing should arrive: a bounded wait well past 5 s proves the connection idles.
        with pytest.raises(TimeoutError):
            alice.recv(timeout=7)

        with ws_connect(daphne_server, "/ws/chat/idle/", bob_cookie) as bob:
            say(bob, "still there?")
            events_until(alice, is_message("still there?"))
        say(alice, "yes")
        events_until(alice, is_message("yes"))


def test_presence_of_a_killed_process_expires(live_server_env):
    env = {**live_server_env, "CHAT_PRESENCE_TTL": "1.5"}
    alice_cookie, bob_cookie = user_cookie("alice"), user_cookie("bob")

    with (
        DaphneServer(env=env, name="daphne-survivor") as survivor,
        DaphneServer(env=env, name="daphne-doomed") as doomed,
        ws_connect(survivor, "/ws/chat/crash/", alice_cookie) as alice,
        ws_connect(doomed, "/ws/chat/crash/", bob_cookie),
    ):
        events_until(alice, is_presence("alice", "bob"))

        doomed.kill()  # SIGKILL: bob's consumer never says goodbye

        events_until(alice, is_presence("alice"), timeout=10)


def db_session_cookie(user):
    """A login session in the database session store (for a server without Redis)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def test_chat_on_the_embedded_defaults_without_redis(live_server_env):
    """Without REDIS_URL: in-memory channel layer, presence and rate limits in the process."""
    env = {**live_server_env, "REDIS_URL": "", "SESSION_BACKEND": "db"}
    alice_cookie = db_session_cookie(create_user("alice"))
    bob_cookie = db_session_cookie(create_user("bob"))

    with (
        DaphneServer(env=env, name="daphne-no-redis") as server,
        ws_connect(server, "/ws/chat/local/", alice_cookie) as alice,
        ws_connect(server, "/ws/chat/local/", bob_cookie) as bob,
    ):
        events_until(alice, is_presence("alice", "bob"))
        say(bob, "no redis here")
        events_until(alice, is_message("no redis here"))
        for number in range(21):
            say(alice, f"n{number}")
        error = events_until(alice, lambda event: event["type"] == "error")[-1]

    assert error["code"] == ErrorCode.RATE_LIMITED


def test_a_killed_process_leaves_the_room_group_and_a_live_one_stays(live_server_env, redis_client):
    """Consumers re-join their room's group at each presence renewal: the channels of a killed
    process age out after CHANNEL_LAYER_GROUP_EXPIRY, while a connection open for longer than
    that still gets the room's messages."""
    env = {**live_server_env, "CHANNEL_LAYER_GROUP_EXPIRY": "2", "CHAT_PRESENCE_TTL": "0.9"}
    group_key = f"{settings.CHANNEL_LAYERS['default']['CONFIG']['prefix']}:group:chat.expiry"
    alice_cookie, bob_cookie = user_cookie("alice"), user_cookie("bob")

    with (
        DaphneServer(env=env, name="daphne-stays") as staying,
        ws_connect(staying, "/ws/chat/expiry/", alice_cookie) as alice,
    ):
        doomed = DaphneServer(env=env, name="daphne-killed").start()
        try:
            bob = ws_connect(doomed, "/ws/chat/expiry/", bob_cookie)
            events_until(bob, is_presence("alice", "bob"))
            assert redis_client.zcard(group_key) == 2
        finally:
            doomed.kill()
        events_until(alice, is_presence("alice"), timeout=15)

        def only_alice_left_and_she_still_hears_the_room():
            say(alice, "still here")
            events_until(alice, is_message("still here"))
            # Each group_send drops members older than the group expiry.
            return redis_client.zcard(group_key) == 1

        # Well past the 2 s expiry of alice's first membership: her renewals kept her in.
        wait_until(
            only_alice_left_and_she_still_hears_the_room,
            timeout=12,
            interval=1.0,
            message="the killed process's channel gone from the group",
        )
