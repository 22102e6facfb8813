"""The ``room`` path converter: the names a chat room can have, in page and WebSocket URLs."""

import re

ROOM_NAME_PATTERN = r"[A-Za-z0-9_-]{1,64}"
ROOM_NAME_MAX_LENGTH = 64
_ROOM_NAME_RE = re.compile(rf"\A{ROOM_NAME_PATTERN}\Z")


def is_room_name(value):
    """True when ``value`` can name a room: letters, digits, ``-`` and ``_``, 1 to 64 of them."""
    return isinstance(value, str) and _ROOM_NAME_RE.match(value) is not None


class RoomNameConverter:
    """Matches a room name; registered as ``room`` by :class:`chat.apps.ChatConfig`."""

    regex = ROOM_NAME_PATTERN

    def to_python(self, value):
        return value

    def to_url(self, value):
        if not is_room_name(value):
            raise ValueError(f"{value!r} is not a room name")
        return value
