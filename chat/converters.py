"""The ``room`` path converter: the names a chat room can have, in page and WebSocket URLs."""

import re

# ``\w`` on str patterns is Unicode-aware: letters and digits of every script (房间, Zürich,
# ١٢٣) and "_"; "-" is kept from the ASCII rule so that existing rooms keep their names.
ROOM_NAME_PATTERN = r"[\w-]{1,64}"
# The column is CharField(max_length=64): 64 characters (MariaDB's utf8mb4 counts characters,
# four bytes each at most), so any 64-character name fits.
ROOM_NAME_MAX_LENGTH = 64
_ROOM_NAME_RE = re.compile(rf"\A{ROOM_NAME_PATTERN}\Z")


def is_room_name(value: object) -> bool:
    """True when ``value`` can name a room: letters and digits of any script, ``-`` and ``_``,
    1 to 64 of them."""
    return isinstance(value, str) and _ROOM_NAME_RE.match(value) is not None


class RoomNameConverter:
    """Matches a room name; registered as ``room`` by :class:`chat.apps.ChatConfig`."""

    regex = ROOM_NAME_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        if not is_room_name(value):
            raise ValueError(f"{value!r} is not a room name")
        return value
