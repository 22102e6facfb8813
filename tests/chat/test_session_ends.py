"""A session that ends closes its open chat sockets with 4401 (core/session_ends.py): through the
project's whole WebSocket stack with ``WebsocketCommunicator``, on the real Redis channel layer;
and across two live daphne processes."""

import time

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from websockets.exceptions import ConnectionClosed

from core.session_ends import SESSION_UID_KEY
from project.asgi import application
from server.ws_guard import CLOSE_LOGGED_OUT
from tests.chat.conftest import ORIGIN, receive_event, ws_connect
from tests.support.accounts import STRONG_PASSWORD
from tests.support.chatting import create_user, events_until, is_presence, say
from tests.support.servers import DaphneServer
from tests.support.visitor import Visitor

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_live_client"),
]


def logged_in_client(user):
    client = Client()
    client.force_login(user)
    return client


def cookie_of(client):
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


async def open_chat(client, room="ends"):
    communicator = WebsocketCommunicator(
        application,
        f"/ws/chat/{room}/",
        headers=[
            (b"host", b"127.0.0.1"),
            (b"origin", ORIGIN.encode()),
            (b"cookie", cookie_of(client).encode()),
        ],
    )
    connected, _ = await communicator.connect()
    assert connected
    assert (await receive_event(communicator))["type"] == "history"
    return communicator


async def close_code(communicator, timeout=3):
    """The code the server closes ``communicator`` with, past the events before it."""
    loop_deadline = time.monotonic() + timeout
    while True:
        output = await communicator.receive_output(
            timeout=max(0.01, loop_deadline - time.monotonic())
        )
        if output["type"] == "websocket.close":
            return output.get("code")


async def stays_open(communicator):
    """Nothing but events: no close within a short while."""
    while not await communicator.receive_nothing(timeout=0.5):
        output = await communicator.receive_output()
        if output["type"] == "websocket.close":
            return False
    return True


@pytest.fixture
def two_sessions(db):
    """alice logged in twice (two browsers): two test clients."""
    alice = create_user("alice")
    return alice, logged_in_client(alice), logged_in_client(alice)


async def test_logout_closes_the_sockets_of_that_session_only(two_sessions):
    _alice, first, second = two_sessions
    first_chat, second_chat = await open_chat(first), await open_chat(second)

    await sync_to_async(first.logout)()

    assert await close_code(first_chat) == CLOSE_LOGGED_OUT
    assert await stays_open(second_chat)
    await second_chat.disconnect()


async def test_a_closed_socket_posts_nothing_more(two_sessions):
    _alice, first, _second = two_sessions
    chat = await open_chat(first)

    await sync_to_async(first.logout)()
    assert await close_code(chat) == CLOSE_LOGGED_OUT
    await chat.send_to(text_data='{"type": "message", "text": "after logout"}')
    await chat.receive_nothing(timeout=0.5)

    from chat.models import Message

    assert not await sync_to_async(Message.objects.filter(text="after logout").exists)()


async def test_deleting_the_session_from_the_store_by_key_closes_its_sockets(two_sessions):
    _alice, first, second = two_sessions
    first_chat, second_chat = await open_chat(first), await open_chat(second)
    session_key = first.cookies[settings.SESSION_COOKIE_NAME].value

    from core.session_inspect import session_store_class

    await sync_to_async(session_store_class()().delete)(session_key)

    assert await close_code(first_chat) == CLOSE_LOGGED_OUT
    assert await stays_open(second_chat)
    await second_chat.disconnect()


async def test_deactivating_the_user_closes_all_their_sockets_and_no_others(two_sessions):
    alice, first, second = two_sessions
    bob = await sync_to_async(lambda: logged_in_client(create_user("bob")))()
    first_chat, second_chat, bob_chat = [await open_chat(client) for client in (first, second, bob)]

    alice.is_active = False
    await sync_to_async(alice.save)()

    assert await close_code(first_chat) == CLOSE_LOGGED_OUT
    assert await close_code(second_chat) == CLOSE_LOGGED_OUT
    assert await stays_open(bob_chat)
    await bob_chat.disconnect()


async def test_deleting_the_account_closes_all_its_sockets(two_sessions):
    alice, first, second = two_sessions
    first_chat, second_chat = await open_chat(first), await open_chat(second)

    await sync_to_async(alice.delete)()

    assert await close_code(first_chat) == CLOSE_LOGGED_OUT
    assert await close_code(second_chat) == CLOSE_LOGGED_OUT


async def test_a_password_set_elsewhere_closes_every_socket_of_the_user(two_sessions):
    alice, first, second = two_sessions
    first_chat, second_chat = await open_chat(first), await open_chat(second)

    @sync_to_async
    def change_password():
        alice.set_password("another " + STRONG_PASSWORD)
        alice.save()

    await change_password()

    assert await close_code(first_chat) == CLOSE_LOGGED_OUT
    assert await close_code(second_chat) == CLOSE_LOGGED_OUT


async def test_a_password_change_keeps_the_session_that_made_it_and_closes_the_others(db):
    @sync_to_async
    def admin_logged_in_twice():
        root = get_user_model().objects.create_superuser("root", password=STRONG_PASSWORD)
        return root, logged_in_client(root), logged_in_client(root)

    root, changing, other = await admin_logged_in_twice()
    changing_chat, other_chat = await open_chat(changing), await open_chat(other)

    # The admin's own password form calls update_session_auth_hash(), as any such view must.
    response = await sync_to_async(changing.post)(
        f"/admin/auth/user/{root.pk}/password/",
        {"password1": "new " + STRONG_PASSWORD, "password2": "new " + STRONG_PASSWORD},
    )

    assert response.status_code == 302
    assert await close_code(other_chat) == CLOSE_LOGGED_OUT
    assert await stays_open(changing_chat)
    # The kept socket follows the new password: a second change elsewhere closes it.

    @sync_to_async
    def change_again():
        root.refresh_from_db()
        root.set_password("third " + STRONG_PASSWORD)
        root.save()

    await change_again()
    assert await close_code(changing_chat) == CLOSE_LOGGED_OUT


def test_login_gives_the_session_an_id_that_survives_cycle_key(db):
    client = logged_in_client(create_user("alice"))
    session = client.session
    uid = session[SESSION_UID_KEY]

    session.cycle_key()

    assert session[SESSION_UID_KEY] == uid


# ------------------------------------------------------------------------------------------------
# Across processes
# ------------------------------------------------------------------------------------------------


@pytest.mark.live_server_process
def test_logout_through_one_process_closes_a_socket_of_another_within_a_second(live_server_env):
    create_user("alice")
    with (
        DaphneServer(env=live_server_env, name="daphne-a") as server_a,
        DaphneServer(env=live_server_env, name="daphne-b") as server_b,
        Visitor(server_b) as visitor,
    ):
        visitor.login("alice", STRONG_PASSWORD)
        cookie = f"{settings.SESSION_COOKIE_NAME}={visitor.session_cookie}"
        with ws_connect(server_a, "/ws/chat/ends/", cookie) as chat:
            events_until(chat, is_presence("alice"))

            # The logout form is on every page (base.html), with its CSRF token.
            token = visitor.form_token("/")
            logged_out = time.monotonic()
            response = visitor.http.post("/accounts/logout/", data={"csrfmiddlewaretoken": token})
            assert response.status_code == 302
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    chat.recv(timeout=1)
            closed_after = time.monotonic() - logged_out

            with pytest.raises(ConnectionClosed):
                say(chat, "after logout")

    assert closed.value.rcvd.code == CLOSE_LOGGED_OUT
    assert closed_after < 1
