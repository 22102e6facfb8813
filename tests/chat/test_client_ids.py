"""Client message ids (chat/protocol.py): a (user, client id) is stored once, and a resend is
answered to its sender only with the stored message; through ``WebsocketCommunicator`` and a
live daphne."""

import json

import pytest
from asgiref.sync import sync_to_async
from django.db import IntegrityError

from chat import services
from chat.models import Message
from chat.protocol import ErrorCode
from tests.chat.conftest import receive_until, ws_connect
from tests.chat.test_consumers import drain, join
from tests.support.chatting import create_user, events_until, login_cookie

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_live_client"),
]


def message_frame(text, client_id=None):
    event = {"type": "message", "text": text}
    if client_id is not None:
        event["client_id"] = client_id
    return json.dumps(event)


def is_answer(event):
    return event["type"] in ("message", "error")


async def test_a_resend_is_stored_once_and_answered_to_the_sender_only(chat_cookies):
    alice_cookie, bob_cookie = await chat_cookies("alice", "bob")
    alice = await join("/ws/chat/resend/", alice_cookie)
    bob = await join("/ws/chat/resend/", bob_cookie)

    await alice.send_to(text_data=message_frame("once", "a-1"))
    first = (await receive_until(alice, is_answer))[-1]
    await receive_until(bob, is_answer)
    await alice.send_to(text_data=message_frame("once", "a-1"))
    resent = (await receive_until(alice, is_answer))[-1]

    assert first["client_id"] == "a-1"
    assert resent == first
    assert not any(is_answer(event) for event in await drain(bob))
    assert await sync_to_async(Message.objects.filter(client_id="a-1").count)() == 1
    for client in (alice, bob):
        await client.disconnect()


async def test_a_resend_past_the_rate_limit_is_acknowledged_and_a_new_message_refused(
    chat_cookies, settings
):
    settings.CHAT_MESSAGES_PER_WINDOW = 2
    [cookie] = await chat_cookies("alice")
    alice = await join("/ws/chat/backlog/", cookie)
    stored = []
    for client_id in ("b-1", "b-2"):
        await alice.send_to(text_data=message_frame(client_id, client_id))
        stored.append((await receive_until(alice, is_answer))[-1])

    await alice.send_to(text_data=message_frame("b-1", "b-1"))
    resent = (await receive_until(alice, is_answer))[-1]
    await alice.send_to(text_data=message_frame("b-3", "b-3"))
    refused = (await receive_until(alice, is_answer))[-1]

    assert resent == stored[0]
    assert (refused["type"], refused["code"], refused["client_id"]) == (
        "error",
        ErrorCode.RATE_LIMITED,
        "b-3",
    )
    await alice.disconnect()


async def test_two_users_may_use_the_same_client_id(chat_cookies):
    alice_cookie, bob_cookie = await chat_cookies("alice", "bob")
    alice = await join("/ws/chat/same-id/", alice_cookie)
    bob = await join("/ws/chat/same-id/", bob_cookie)

    await alice.send_to(text_data=message_frame("from alice", "x"))
    from_alice = (await receive_until(alice, is_answer))[-1]
    await bob.send_to(text_data=message_frame("from bob", "x"))
    from_bob = [event for event in await receive_until(bob, is_answer) if is_answer(event)][-1]
    if from_bob["text"] == "from alice":  # alice's broadcast reached bob first
        from_bob = (await receive_until(bob, lambda event: event.get("text") == "from bob"))[-1]

    assert from_alice["id"] != from_bob["id"]
    assert await sync_to_async(Message.objects.filter(client_id="x").count)() == 2
    for client in (alice, bob):
        await client.disconnect()


async def test_a_message_without_client_id_has_null_and_is_never_deduplicated(chat_cookies):
    [cookie] = await chat_cookies("alice")
    alice = await join("/ws/chat/no-id/", cookie)

    answers = []
    for _ in range(2):
        await alice.send_to(text_data=message_frame("same text"))
        answers.append((await receive_until(alice, is_answer))[-1])

    assert [answer["client_id"] for answer in answers] == [None, None]
    assert answers[0]["id"] != answers[1]["id"]
    await alice.disconnect()


@pytest.mark.parametrize(
    "client_id", ["", "x" * 65, "has space", "ünïcode", "a/b", 7, ["a"], {"a": 1}, True]
)
async def test_an_invalid_client_id_gets_a_malformed_error_and_nothing_is_stored(
    chat_cookies, client_id
):
    [cookie] = await chat_cookies("alice")
    alice = await join("/ws/chat/bad-id/", cookie)

    await alice.send_to(
        text_data=json.dumps({"type": "message", "text": "hi", "client_id": client_id})
    )
    answer = (await receive_until(alice, is_answer))[-1]

    assert (answer["type"], answer["code"], answer["client_id"]) == (
        "error",
        ErrorCode.MALFORMED,
        None,
    )
    assert not await sync_to_async(Message.objects.exists)()
    await alice.disconnect()


async def test_an_error_event_names_the_refused_messages_client_id(chat_cookies):
    [cookie] = await chat_cookies("alice")
    alice = await join("/ws/chat/refused/", cookie)

    await alice.send_to(text_data=message_frame("   ", "empty-1"))
    answer = (await receive_until(alice, is_answer))[-1]

    assert (answer["code"], answer["client_id"]) == (ErrorCode.EMPTY_TEXT, "empty-1")
    await alice.disconnect()


async def test_a_client_id_used_in_another_room_is_refused(chat_cookies):
    [cookie] = await chat_cookies("alice")
    first_room = await join("/ws/chat/room-a/", cookie)
    await first_room.send_to(text_data=message_frame("in a", "moved"))
    await receive_until(first_room, is_answer)
    other_room = await join("/ws/chat/room-b/", cookie)

    await other_room.send_to(text_data=message_frame("in b", "moved"))
    answer = (await receive_until(other_room, is_answer))[-1]

    assert (answer["type"], answer["code"]) == ("error", ErrorCode.MALFORMED)
    for client in (first_room, other_room):
        await client.disconnect()


def test_the_database_refuses_a_second_message_with_the_same_user_and_client_id(alice):
    Message.objects.create(user=alice, room="db", text="one", client_id="dup")
    Message.objects.create(user=alice, room="db", text="no id")
    Message.objects.create(user=alice, room="db", text="no id either")

    with pytest.raises(IntegrityError):
        Message.objects.create(user=alice, room="db", text="two", client_id="dup")


def test_post_message_once_returns_the_stored_message_for_a_known_client_id(alice):
    first, created = services.post_message_once(
        user=alice, room="svc", text="hello", client_id="svc-1"
    )
    again, created_again = services.post_message_once(
        user=alice, room="svc", text="hello", client_id="svc-1"
    )

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk


@pytest.mark.live_server_process
def test_live_a_resend_after_reconnecting_is_stored_once(daphne_server):
    cookie = login_cookie(create_user("alice"))
    with ws_connect(daphne_server, "/ws/chat/live-resend/", cookie) as chat:
        chat.send(message_frame("typed once", "live-1"))
        first = events_until(chat, is_answer)[-1]
    # The page reconnects and resends what it saw no acknowledgement for.
    with ws_connect(daphne_server, "/ws/chat/live-resend/", cookie) as chat:
        history = events_until(chat, lambda event: event["type"] == "history")[-1]
        chat.send(message_frame("typed once", "live-1"))
        resent = events_until(chat, is_answer)[-1]

    assert resent == first
    assert [message["client_id"] for message in history["messages"]] == ["live-1"]
    assert Message.objects.filter(client_id="live-1").count() == 1
