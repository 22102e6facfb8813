"""The chat's wire protocol: JSON text frames in both directions (see README, "Chat").

Client to server: ``{"type": "message", "text": "...", "client_id": "..."}``, the client id
optional (1 to 64 of ``[A-Za-z0-9_-]``). Server to clients: ``message`` (with the sender's
``client_id``, null when none), ``history``, ``presence``, ``message_deleted`` (a moderator
removed it), ``room_activity`` (a room's message count changed, for the room list) and, to the
offending client only, ``error`` events (with the refused message's ``client_id``, null when
unknown). A resend of a stored (user, client id) is answered to its sender only, with the
stored ``message`` event.
"""

from __future__ import annotations

import datetime
import enum
import json
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from chat.models import CLIENT_ID_PATTERN

if TYPE_CHECKING:
    from django.core.exceptions import ValidationError

    from chat.models import Message

# One event as a JSON object, either way.
Event = dict[str, Any]


class ErrorCode(enum.StrEnum):
    """The ``code`` of an ``error`` event; clients branch on these, never on ``detail``."""

    MALFORMED = "malformed"
    UNKNOWN_TYPE = "unknown_type"
    INVALID_ROOM = "invalid_room"
    EMPTY_TEXT = "empty_text"
    TEXT_TOO_LONG = "text_too_long"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    # Refused by a rule of the services that has no code of its own above.
    INVALID = "invalid"


_ERROR_CODES = frozenset(ErrorCode)


class ProtocolError(Exception):
    """A client frame the server refuses; the connection stays open."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = ErrorCode(code)
        self.detail = detail

    @classmethod
    def refusing(cls, error: ValidationError) -> ProtocolError:
        """The refusal a service's :class:`ValidationError` tells the client: with its code when
        the protocol has it, else ``invalid`` (a code the clients do not know would be no
        better than none)."""
        code = error.code
        if code is None or code not in _ERROR_CODES:
            code = ErrorCode.INVALID
        return cls(code, error.messages[0])


CLIENT_EVENT_TYPES = frozenset({"message"})


def parse_client_event(text_data: str | None, bytes_data: bytes | None = None) -> Event:
    """The event object of one client frame; :class:`ProtocolError` when it is not one."""
    if text_data is None:
        raise ProtocolError(ErrorCode.MALFORMED, "Binary frames are not part of the protocol.")
    try:
        event = json.loads(text_data)
    except ValueError:
        raise ProtocolError(ErrorCode.MALFORMED, "The frame is not valid JSON.") from None
    if not isinstance(event, dict):
        raise ProtocolError(ErrorCode.MALFORMED, "The frame must be a JSON object.")
    event_type = event.get("type")
    # Any JSON value may come here, lists and objects too (unhashable: no set lookup).
    if not isinstance(event_type, str) or event_type not in CLIENT_EVENT_TYPES:
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"Unknown event type {str(event_type)[:40]!r}.")
    return event


_CLIENT_ID = re.compile(CLIENT_ID_PATTERN)


def client_id_of(event: Mapping[str, Any]) -> str | None:
    """The event's optional ``client_id``; :class:`ProtocolError` when it is not a valid one."""
    client_id = event.get("client_id")
    if client_id is None:
        return None
    if not isinstance(client_id, str) or not _CLIENT_ID.fullmatch(client_id):
        raise ProtocolError(
            ErrorCode.MALFORMED,
            "client_id must be 1 to 64 letters, digits, hyphens or underscores.",
        )
    return client_id


def encode_event(event: Mapping[str, Any]) -> str:
    """One event as the text of a WebSocket frame."""
    return json.dumps(event, ensure_ascii=False)


def timestamp(moment: datetime.datetime) -> str:
    """``2026-11-21T14:03:05.123Z``: UTC, milliseconds."""
    moment = moment.astimezone(datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def message_data(message: Message) -> Event:
    """A stored :class:`chat.models.Message` as the protocol shows it."""
    return {
        "type": "message",
        "id": message.pk,
        # None once the author's account is deleted (the page shows "deleted user").
        "user": message.user.get_username() if message.user is not None else None,
        "text": message.text,
        "sent_at": timestamp(message.created_at),
        "client_id": message.client_id,
    }


def history_event(messages: Iterable[Message]) -> Event:
    return {"type": "history", "messages": [message_data(message) for message in messages]}


def presence_event(users: Iterable[str]) -> Event:
    return {"type": "presence", "users": list(users)}


def message_deleted_event(message_id: int) -> Event:
    return {"type": "message_deleted", "id": message_id}


def room_activity_event(
    room: str, messages: int, last_message_at: datetime.datetime | None
) -> Event:
    """A room's message count now (0 once its last message is deleted), for the room lists."""
    return {
        "type": "room_activity",
        "room": room,
        "messages": messages,
        "last_message_at": timestamp(last_message_at) if last_message_at else None,
    }


def error_event(code: str, detail: str, client_id: str | None = None) -> Event:
    return {
        "type": "error",
        "code": str(ErrorCode(code)),
        "detail": str(detail),
        "client_id": client_id,
    }
