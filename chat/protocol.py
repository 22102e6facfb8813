"""The chat's wire protocol: JSON text frames in both directions (see README, "Chat").

Client to server: ``{"type": "message", "text": "..."}``. Server to clients: ``message``,
``history``, ``presence`` and, to the offending client only, ``error`` events.
"""

import datetime
import enum
import json


class ErrorCode(enum.StrEnum):
    """The ``code`` of an ``error`` event; clients branch on these, never on ``detail``."""

    MALFORMED = "malformed"
    UNKNOWN_TYPE = "unknown_type"
    INVALID_ROOM = "invalid_room"
    EMPTY_TEXT = "empty_text"
    TEXT_TOO_LONG = "text_too_long"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"


class ProtocolError(Exception):
    """A client frame the server refuses; the connection stays open."""

    def __init__(self, code, detail):
        super().__init__(detail)
        self.code = ErrorCode(code)
        self.detail = detail


CLIENT_EVENT_TYPES = frozenset({"message"})


def parse_client_event(text_data, bytes_data=None):
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


def timestamp(moment):
    """``2026-11-21T14:03:05.123Z``: UTC, milliseconds."""
    moment = moment.astimezone(datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def message_data(message):
    """A stored :class:`chat.models.Message` as the protocol shows it."""
    return {
        "type": "message",
        "id": message.pk,
        # None once the author's account is deleted (the page shows "deleted user").
        "user": message.user.get_username() if message.user_id is not None else None,
        "text": message.text,
        "sent_at": timestamp(message.created_at),
    }


def history_event(messages):
    return {"type": "history", "messages": [message_data(message) for message in messages]}


def presence_event(users):
    return {"type": "presence", "users": list(users)}


def error_event(code, detail):
    return {"type": "error", "code": str(ErrorCode(code)), "detail": str(detail)}
