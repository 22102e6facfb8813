"""Every refusal the chat's services can raise reaches the client as an ``error`` event whose code
is one of the protocol's ``ErrorCode`` values."""

import pytest
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.core.exceptions import ValidationError
from django.urls import path

from chat import services
from chat.consumers import ChatConsumer
from chat.models import Message, validate_room_name
from chat.protocol import ErrorCode, ProtocolError, error_event, message_data
from tests.chat.conftest import receive_event, receive_until


def is_error(event):
    return event["type"] == "error"


@pytest.mark.parametrize(
    ("refuse", "code"),
    [
        pytest.param(lambda: validate_room_name("dotted.room"), "invalid_room", id="room"),
        pytest.param(lambda: validate_room_name("r" * 65), "invalid_room", id="long room"),
        pytest.param(lambda: services.validate_message_text(42), "malformed", id="not text"),
        pytest.param(lambda: services.validate_message_text("\ud800"), "malformed", id="surrogate"),
        pytest.param(lambda: services.validate_message_text("  "), "empty_text", id="empty"),
        pytest.param(
            lambda: services.validate_message_text("x" * 2001), "text_too_long", id="long"
        ),
    ],
)
def test_each_validation_code_of_the_services_is_a_protocol_error_code(refuse, code):
    with pytest.raises(ValidationError) as refused:
        refuse()

    error = ProtocolError(refused.value.code, refused.value.messages[0])

    assert error.code == ErrorCode(code)
    assert error_event(error.code, error.detail)["code"] == code


@pytest.mark.parametrize(
    ("error", "code"),
    [
        pytest.param(
            ValidationError("Too loud.", code="text_too_long"), "text_too_long", id="known"
        ),
        pytest.param(ValidationError("Refused."), "invalid", id="no code"),
        pytest.param(ValidationError("Refused.", code="shouting"), "invalid", id="unknown code"),
    ],
)
def test_a_validation_error_is_refused_with_its_code_or_invalid_when_the_protocol_has_none(
    error, code
):
    refusal = ProtocolError.refusing(error)

    assert (refusal.code, refusal.detail) == (ErrorCode(code), error.messages[0])


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_live_client")
async def test_a_message_to_a_room_the_validator_refuses_gets_an_invalid_room_error(
    chat_cookies,
):
    # The project's router only lets valid room names through; a route that accepts any name
    # shows what the consumer does when the model's validator is the one that refuses.
    permissive = AuthMiddlewareStack(
        URLRouter([path("ws/chat/<str:room_name>/", ChatConsumer.as_asgi())])
    )
    [cookie] = await chat_cookies("alice")
    client = WebsocketCommunicator(
        permissive, "/ws/chat/dotted.room/", headers=[(b"cookie", cookie.encode())]
    )
    connected, _ = await client.connect()
    assert connected
    assert (await receive_event(client))["type"] == "history"

    await client.send_json_to({"type": "message", "text": "hello"})
    *_, refused = await receive_until(client, is_error)
    # The connection stays open: the next frame is still answered.
    await client.send_json_to({"type": "message", "text": ""})
    *_, next_refused = await receive_until(client, is_error)

    assert refused["code"] == ErrorCode.INVALID_ROOM
    assert next_refused["code"] == ErrorCode.EMPTY_TEXT
    await client.disconnect()


def test_a_message_whose_author_is_gone_has_a_null_user():
    # Helper auth makes Message.user nullable (SET_NULL); the page shows "deleted user".
    message = Message(id=7, room="lobby", user=None, text="still here")

    data = message_data(message)

    assert (data["user"], data["text"]) == (None, "still here")


@pytest.mark.django_db
def test_message_of_a_deleted_account_has_a_null_user(make_user):
    from chat.models import Message
    from chat.protocol import message_data

    author = make_user(username="gone")
    message = Message.objects.create(room="lobby", user=author, text="still here")
    author.delete()
    message.refresh_from_db()

    assert message.user is None
    assert message_data(message)["user"] is None
