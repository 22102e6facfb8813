"""The consumers through the project's whole WebSocket stack (origin check, session user, URL
router) with ``WebsocketCommunicator``, on the real Redis channel layer and MariaDB."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.urls import path

from chat import selectors, services
from chat.consumers import ChatConsumer
from chat.models import Message
from chat.protocol import ErrorCode
from project.asgi import application
from server.ws_guard import CLOSE_LOGGED_OUT
from tests.chat.conftest import ORIGIN, receive_event, receive_until
from tests.support.chatting import is_presence, login_cookie

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_live_client"),
]


def communicator(path, cookie=None, origin=ORIGIN, app=application):
    headers = [(b"host", b"127.0.0.1")]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if cookie is not None:
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(app, path, headers=headers)


async def join(path, cookie):
    """A connected communicator, past its history event."""
    client = communicator(path, cookie)
    connected, _ = await client.connect()
    assert connected
    event = await receive_event(client)
    assert event["type"] == "history"
    return client


# ------------------------------------------------------------------------------------------------
# Echo
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/ws", "/ws/echo/"])
async def test_echo_returns_text_as_text_and_bytes_as_bytes_in_order(path):
    client = communicator(path)
    connected, _ = await client.connect()
    assert connected

    await client.send_to(text_data="héllo")
    await client.send_to(bytes_data=b"\x00\xff")
    # send_to() refuses empty data (it tests for truth, like daphne), so the raw ASGI event.
    await client.send_input({"type": "websocket.receive", "text": ""})

    assert await client.receive_output() == {"type": "websocket.send", "text": "héllo"}
    assert await client.receive_output() == {"type": "websocket.send", "bytes": b"\x00\xff"}
    assert await client.receive_output() == {"type": "websocket.send", "text": ""}
    await client.disconnect()


async def test_echo_refuses_another_origin():
    client = communicator("/ws/echo/", origin="http://evil.example")

    connected, _ = await client.connect()

    assert not connected
    await client.disconnect()


# ------------------------------------------------------------------------------------------------
# Chat: who may connect
# ------------------------------------------------------------------------------------------------


async def test_anonymous_user_is_accepted_then_closed_as_logged_out():
    client = communicator("/ws/chat/lobby/")

    connected, _ = await client.connect()

    assert connected
    assert await client.receive_output() == {"type": "websocket.close", "code": CLOSE_LOGGED_OUT}
    await client.disconnect()


async def test_logged_in_user_from_another_origin_is_refused(chat_cookies):
    [cookie] = await chat_cookies("alice")
    client = communicator("/ws/chat/lobby/", cookie, origin="http://evil.example")

    connected, _ = await client.connect()

    assert not connected
    await client.disconnect()


async def test_connection_without_origin_is_refused(chat_cookies):
    [cookie] = await chat_cookies("alice")
    client = communicator("/ws/chat/lobby/", cookie, origin=None)

    connected, _ = await client.connect()

    assert not connected
    await client.disconnect()


# ------------------------------------------------------------------------------------------------
# Chat: history, messages, presence
# ------------------------------------------------------------------------------------------------


async def test_history_holds_the_last_50_messages_oldest_first(alice):
    cookie = await sync_to_async(login_cookie)(alice)

    @sync_to_async
    def post_many():
        for number in range(55):
            services.post_message(user=alice, room="history", text=f"message {number}")
        services.post_message(user=alice, room="elsewhere", text="not here")

    await post_many()
    client = communicator("/ws/chat/history/", cookie)
    connected, _ = await client.connect()
    assert connected

    history = await receive_event(client)

    assert history["type"] == "history"
    texts = [message["text"] for message in history["messages"]]
    assert texts == [f"message {number}" for number in range(5, 55)]
    first = history["messages"][0]
    assert set(first) == {"type", "id", "user", "text", "sent_at", "client_id"}
    assert first["user"] == "alice"
    assert first["sent_at"].endswith("Z")
    await client.disconnect()


async def test_message_reaches_everyone_in_the_room_sender_included_and_is_stored(chat_cookies):
    alice_cookie, bob_cookie, carol_cookie = await chat_cookies("alice", "bob", "carol")
    alice = await join("/ws/chat/room-1/", alice_cookie)
    bob = await join("/ws/chat/room-1/", bob_cookie)
    carol_elsewhere = await join("/ws/chat/room-2/", carol_cookie)

    await alice.send_to(text_data=json.dumps({"type": "message", "text": "hi <b>bob</b>"}))

    received = []
    for client in (alice, bob):
        events = await receive_until(client, lambda event: event["type"] == "message")
        received.append(events[-1])
    assert received[0] == received[1]
    message = received[0]
    assert (message["user"], message["text"]) == ("alice", "hi <b>bob</b>")
    stored = await sync_to_async(Message.objects.get)(pk=message["id"])
    assert (stored.room, stored.text) == ("room-1", "hi <b>bob</b>")
    assert all(event["type"] != "message" for event in await drain(carol_elsewhere))
    for client in (alice, bob, carol_elsewhere):
        await client.disconnect()


async def drain(client):
    events = []
    while not await client.receive_nothing(timeout=0.3):
        events.append(await receive_event(client))
    return events


async def test_presence_lists_users_as_they_join_and_leave(chat_cookies):
    alice_cookie, bob_cookie = await chat_cookies("alice", "bob")
    alice = await join("/ws/chat/presence/", alice_cookie)
    await receive_until(alice, is_presence("alice"))

    bob = await join("/ws/chat/presence/", bob_cookie)
    await receive_until(bob, is_presence("alice", "bob"))
    await receive_until(alice, is_presence("alice", "bob"))

    await bob.disconnect()
    await receive_until(alice, is_presence("alice"))
    await alice.disconnect()


async def test_two_tabs_of_one_user_count_once_until_both_leave(chat_cookies):
    alice_cookie, bob_cookie = await chat_cookies("alice", "bob")
    bob = await join("/ws/chat/tabs/", bob_cookie)
    first_tab = await join("/ws/chat/tabs/", alice_cookie)
    second_tab = await join("/ws/chat/tabs/", alice_cookie)
    await receive_until(bob, is_presence("alice", "bob"))

    await first_tab.disconnect()
    # Alice is still there through her second tab.
    assert not any(is_presence("bob")(event) for event in await drain(bob))
    await second_tab.disconnect()

    await receive_until(bob, is_presence("bob"))
    await bob.disconnect()


async def test_a_consumer_killed_without_disconnecting_stops_renewing_its_presence(
    chat_cookies, settings
):
    """daphne cancels an application instance that outlives its connection; its presence must
    then expire like that of a killed process."""
    settings.CHAT_PRESENCE_TTL = 0.6
    alice_cookie, bob_cookie = await chat_cookies("alice", "bob")
    alice = await join("/ws/chat/cancelled/", alice_cookie)
    bob = await join("/ws/chat/cancelled/", bob_cookie)
    await receive_until(bob, is_presence("alice", "bob"))

    alice.future.cancel()

    await receive_until(bob, is_presence("bob"))
    await bob.disconnect()


def with_receive_ignoring_cancels(app, release, cancels_ignored):
    """``app`` with an ASGI ``receive`` that, once cancelled, ignores the first
    ``cancels_ignored`` cancellations (all of them with ``None``) until ``release`` is set.

    It stands for a channel layer receive that lost its cancellation inside redis-py (see
    ``ChatConsumer.renewing``): the consumer cannot end while it runs."""

    async def app_with_stubborn_receive(scope, receive, send):
        async def stubborn_receive():
            try:
                return await receive()
            except asyncio.CancelledError:
                ignored = 0
                while cancels_ignored is None or ignored < cancels_ignored:
                    try:
                        await release.wait()
                        break
                    except asyncio.CancelledError:
                        ignored += 1
                raise

        return await app(scope, stubborn_receive, send)

    return app_with_stubborn_receive


async def test_a_cancelled_consumer_stops_renewing_its_presence_before_it_has_ended(
    chat_cookies, settings
):
    settings.CHAT_PRESENCE_TTL = 0.6
    alice_cookie, bob_cookie = await chat_cookies("alice", "bob")
    release = asyncio.Event()
    alice = communicator(
        "/ws/chat/held-up/",
        alice_cookie,
        app=with_receive_ignoring_cancels(application, release, cancels_ignored=None),
    )
    connected, _ = await alice.connect()
    assert connected
    bob = await join("/ws/chat/held-up/", bob_cookie)
    await receive_until(bob, is_presence("alice", "bob"))

    alice.future.cancel()

    try:
        await receive_until(bob, is_presence("bob"))
        assert not alice.future.done()  # still ending: the renewals stopped at the cancellation
    finally:
        release.set()
    await alice.wait(timeout=5)
    assert alice.future.cancelled()
    await bob.disconnect()


async def test_a_cancelled_consumer_ends_even_when_a_receive_loses_the_first_cancel(chat_cookies):
    [alice_cookie] = await chat_cookies("alice")
    never_released = asyncio.Event()
    alice = communicator(
        "/ws/chat/lost-cancel/",
        alice_cookie,
        app=with_receive_ignoring_cancels(application, never_released, cancels_ignored=1),
    )
    connected, _ = await alice.connect()
    assert connected
    await receive_until(alice, is_presence("alice"))

    alice.future.cancel()

    # Not alice.wait(), which would cancel it a second time after its timeout.
    await asyncio.wait({alice.future}, timeout=5)
    assert alice.future.cancelled()


class PresenceFailingConsumer(ChatConsumer):
    """Dies of an error after joining its room: while sending the room's presence."""

    async def send_event(self, event):
        if event["type"] == "presence":
            raise RuntimeError("the presence event could not be sent")
        await super().send_event(event)


async def test_a_consumer_dying_of_an_error_leaves_its_group_and_presence(
    chat_cookies, redis_client
):
    failing_app = AuthMiddlewareStack(
        URLRouter([path("ws/chat/<room:room_name>/", PresenceFailingConsumer.as_asgi())])
    )
    alice_cookie, bob_cookie = await chat_cookies("alice", "bob")
    bob = await join("/ws/chat/dying/", bob_cookie)
    await receive_until(bob, is_presence("bob"))
    alice = WebsocketCommunicator(
        failing_app, "/ws/chat/dying/", headers=[(b"cookie", alice_cookie.encode())]
    )
    connected, _ = await alice.connect()
    assert connected

    with pytest.raises(RuntimeError):
        await alice.wait(timeout=5)

    await receive_until(bob, is_presence("bob"))
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    assert redis_client.zcard(f"{prefix}:group:chat.dying") == 1  # bob's channel only
    await bob.disconnect()


# ------------------------------------------------------------------------------------------------
# Chat: error events, to the offender only, connection kept
# ------------------------------------------------------------------------------------------------

TOO_LONG = "x" * 2001


def json_frame(**fields):
    """A text frame holding ``fields`` as a JSON object."""
    return {"text_data": json.dumps(fields)}


BAD_FRAMES = {
    "malformed json": ({"text_data": "{not json"}, ErrorCode.MALFORMED),
    "not an object": ({"text_data": "[1, 2]"}, ErrorCode.MALFORMED),
    "binary frame": ({"bytes_data": b"\x01\x02"}, ErrorCode.MALFORMED),
    "text not a string": (json_frame(type="message", text=5), ErrorCode.MALFORMED),
    "unknown type": (json_frame(type="shout", text="hi"), ErrorCode.UNKNOWN_TYPE),
    "no type": (json_frame(text="hi"), ErrorCode.UNKNOWN_TYPE),
    "type not a string": (json_frame(type=["message"], text="hi"), ErrorCode.UNKNOWN_TYPE),
    "empty text": (json_frame(type="message", text=""), ErrorCode.EMPTY_TEXT),
    "blank text": (json_frame(type="message", text=" \n\t "), ErrorCode.EMPTY_TEXT),
    "no text": (json_frame(type="message"), ErrorCode.MALFORMED),
    # Valid JSON and UTF-8, but the escape decodes to half a surrogate pair.
    "lone surrogate": (
        {"text_data": '{"type": "message", "text": "half a pair: \\ud800"}'},
        ErrorCode.MALFORMED,
    ),
    "text over 2000 characters": (
        json_frame(type="message", text=TOO_LONG),
        ErrorCode.TEXT_TOO_LONG,
    ),
}


@pytest.mark.parametrize(("frame", "code"), list(BAD_FRAMES.values()), ids=list(BAD_FRAMES))
async def test_bad_frame_gets_an_error_event_to_the_sender_only_and_the_connection_stays(
    chat_cookies, frame, code
):
    alice_cookie, bob_cookie = await chat_cookies("alice", "bob")
    alice = await join("/ws/chat/errors/", alice_cookie)
    bob = await join("/ws/chat/errors/", bob_cookie)
    await receive_until(alice, is_presence("alice", "bob"))
    await receive_until(bob, is_presence("alice", "bob"))

    await alice.send_to(**frame)

    error = (await receive_until(alice, lambda event: event["type"] == "error"))[-1]
    assert error["code"] == code
    assert error["detail"]
    await alice.send_to(text_data=json.dumps({"type": "message", "text": "still here"}))
    bob_events = await receive_until(bob, lambda event: event["type"] == "message")
    assert bob_events[-1]["text"] == "still here"
    assert all(event["type"] != "error" for event in bob_events)
    assert await sync_to_async(Message.objects.count)() == 1
    for client in (alice, bob):
        await client.disconnect()


async def test_exactly_2000_characters_are_accepted(chat_cookies):
    [cookie] = await chat_cookies("alice")
    alice = await join("/ws/chat/long/", cookie)

    await alice.send_to(text_data=json.dumps({"type": "message", "text": "é" * 2000}))

    message = (await receive_until(alice, lambda event: event["type"] == "message"))[-1]
    assert message["text"] == "é" * 2000
    await alice.disconnect()


async def test_more_than_20_messages_in_10_seconds_are_refused_to_the_sender_only(chat_cookies):
    alice_cookie, bob_cookie = await chat_cookies("alice", "bob")
    alice = await join("/ws/chat/flood/", alice_cookie)
    bob = await join("/ws/chat/flood/", bob_cookie)

    for number in range(settings.CHAT_MESSAGES_PER_WINDOW + 1):
        await alice.send_to(text_data=json.dumps({"type": "message", "text": f"n{number}"}))

    alice_events = await receive_until(alice, lambda event: event["type"] == "error")
    assert alice_events[-1]["code"] == ErrorCode.RATE_LIMITED
    bob_events = await receive_until(bob, lambda event: event.get("text") == "n19")
    bob_messages = [event["text"] for event in bob_events if event["type"] == "message"]
    assert bob_messages == [f"n{number}" for number in range(20)]
    assert await sync_to_async(Message.objects.count)() == 20
    # The offender's connection stays open: it still receives the room's messages.
    await bob.send_to(text_data=json.dumps({"type": "message", "text": "calm down"}))
    events = await receive_until(alice, lambda event: event.get("text") == "calm down")
    assert all(event["type"] != "error" for event in events)
    assert all(event["type"] != "error" for event in await drain(bob))
    for client in (alice, bob):
        await client.disconnect()


async def test_history_after_reconnect_holds_what_was_said(chat_cookies):
    [cookie] = await chat_cookies("alice")
    alice = await join("/ws/chat/again/", cookie)
    await alice.send_to(text_data=json.dumps({"type": "message", "text": "remember me"}))
    sent = (await receive_until(alice, lambda event: event["type"] == "message"))[-1]
    await alice.disconnect()

    again = communicator("/ws/chat/again/", cookie)
    connected, _ = await again.connect()
    assert connected
    history = await receive_event(again)

    assert history["messages"] == [sent]
    await again.disconnect()


def test_selectors_list_rooms_with_messages_most_recent_first(alice):
    services.post_message(user=alice, room="older", text="one")
    services.post_message(user=alice, room="newer", text="two")
    services.post_message(user=alice, room="newer", text="three")

    rooms = selectors.rooms_with_messages()

    assert [(room["room"], room["messages"]) for room in rooms] == [("newer", 2), ("older", 1)]


async def test_rate_limit_follows_the_settings(chat_cookies, settings):
    settings.CHAT_MESSAGES_PER_WINDOW = 3
    [cookie] = await chat_cookies("alice")
    alice = await join("/ws/chat/limited/", cookie)

    for number in range(4):
        await alice.send_to(text_data=json.dumps({"type": "message", "text": f"n{number}"}))

    # The error goes straight back; the broadcasts come through the channel layer.
    events = await receive_until(alice, lambda event: event["type"] == "error")
    if not any(event.get("text") == "n2" for event in events):
        events += await receive_until(alice, lambda event: event.get("text") == "n2")
    assert [event["code"] for event in events if event["type"] == "error"] == [
        ErrorCode.RATE_LIMITED
    ]
    assert [event["text"] for event in events if event["type"] == "message"] == ["n0", "n1", "n2"]
    await alice.disconnect()


async def test_refused_messages_count_against_the_rate_limit(chat_cookies, settings):
    settings.CHAT_MESSAGES_PER_WINDOW = 2
    [cookie] = await chat_cookies("alice")
    alice = await join("/ws/chat/refused/", cookie)

    for text in ("", "x" * 2001, "fine"):
        await alice.send_to(text_data=json.dumps({"type": "message", "text": text}))

    errors = []
    while len(errors) < 3:
        event = await receive_event(alice)
        if event["type"] == "error":
            errors.append(event["code"])
    assert errors == [ErrorCode.EMPTY_TEXT, ErrorCode.TEXT_TOO_LONG, ErrorCode.RATE_LIMITED]
    assert await sync_to_async(Message.objects.count)() == 0
    await alice.disconnect()


# ------------------------------------------------------------------------------------------------
# Chat: the room list, moderation, Unicode rooms
# ------------------------------------------------------------------------------------------------


def is_room_activity(room, messages):
    return lambda event: (
        event == {**event, "type": "room_activity", "room": room, "messages": messages}
    )


async def test_a_stored_message_tells_every_room_list_the_rooms_new_count(chat_cookies):
    alice_cookie, bob_cookie = await chat_cookies("alice", "bob")
    alice = await join("/ws/chat/busy/", alice_cookie)
    bob_elsewhere = await join("/ws/chat/lobby/", bob_cookie)

    for number in range(3):
        await alice.send_to(text_data=json.dumps({"type": "message", "text": f"m{number}"}))

    # A burst is announced once per CHAT_ROOM_ACTIVITY_INTERVAL, with the count at that time.
    events = await receive_until(bob_elsewhere, is_room_activity("busy", 3))
    activity = events[-1]
    assert activity["last_message_at"].endswith("Z")
    assert not any(event["type"] == "message" for event in events)
    await receive_until(alice, is_room_activity("busy", 3))
    for client in (alice, bob_elsewhere):
        await client.disconnect()


async def test_deleting_a_message_removes_it_from_every_open_page_and_from_history(chat_cookies):
    alice_cookie, bob_cookie = await chat_cookies("alice", "bob")
    alice = await join("/ws/chat/moderated/", alice_cookie)
    bob = await join("/ws/chat/moderated/", bob_cookie)
    await alice.send_to(text_data=json.dumps({"type": "message", "text": "spam"}))
    await alice.send_to(text_data=json.dumps({"type": "message", "text": "fine"}))
    spam, _fine = [
        (await receive_until(bob, lambda event: event["type"] == "message"))[-1] for _ in range(2)
    ]

    # What the admin's delete page and bulk action do (both send post_delete per message).
    await sync_to_async(Message.objects.filter(pk=spam["id"]).delete)()

    for client in (alice, bob):
        await receive_until(
            client, lambda event: event == {"type": "message_deleted", "id": spam["id"]}
        )
        await receive_until(client, is_room_activity("moderated", 1))
    history = await sync_to_async(selectors.recent_messages)("moderated")
    assert [message.text for message in history] == ["fine"]
    for client in (alice, bob):
        await client.disconnect()


async def test_a_room_named_in_chinese_letters_is_a_room_of_its_own(chat_cookies):
    alice_cookie, bob_cookie = await chat_cookies("alice", "bob")
    # The path as a server gives it (percent-decoded); the channel layer group is a digest.
    alice = await join("/ws/chat/房间/", alice_cookie)
    bob = await join("/ws/chat/房间/", bob_cookie)
    (carol_cookie,) = await chat_cookies("carol")
    carol_elsewhere = await join("/ws/chat/房子/", carol_cookie)

    await alice.send_to(text_data=json.dumps({"type": "message", "text": "你好"}))

    message = (await receive_until(bob, lambda event: event["type"] == "message"))[-1]
    assert (message["user"], message["text"]) == ("alice", "你好")
    stored = await sync_to_async(Message.objects.get)(pk=message["id"])
    assert stored.room == "房间"
    assert all(event["type"] != "message" for event in await drain(carol_elsewhere))
    for client in (alice, bob, carol_elsewhere):
        await client.disconnect()
