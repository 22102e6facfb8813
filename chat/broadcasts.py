"""What the chat tells the open pages besides a room's own messages: a moderator's deletions and
the rooms' message counts (the room list), through the channel layer, so across processes."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from chat import protocol, selectors
from chat.converters import is_room_name

if TYPE_CHECKING:
    from channels.layers import BaseChannelLayer

logger = logging.getLogger(__name__)

# Every chat connection is in this group, to keep its room list live. Room groups are
# "chat.<name>" with a name of no dot, so this one, with two, is never a room's.
ROOMS_GROUP = "chat.list.rooms"


def room_group_name(room_name: str) -> str:
    """The channel layer group of a room. Channels allows group names of ASCII letters, digits,
    ``-``, ``_`` and ``.`` only: a name in another script goes by a digest of its UTF-8."""
    if room_name.isascii():
        return f"chat.{room_name}"
    digest = hashlib.blake2b(room_name.encode(), digest_size=20).hexdigest()
    return f"chat.u.{digest}"


def encode(event: Mapping[str, Any]) -> str:
    return protocol.encode_event(event)


async def room_activity_event(room: str) -> protocol.Event:
    messages, last_message_at = await database_sync_to_async(selectors.room_summary)(room)
    return protocol.room_activity_event(room, messages, last_message_at)


class RoomActivity:
    """Tells every chat connection a room's message count, at most once per
    ``CHAT_ROOM_ACTIVITY_INTERVAL`` seconds per room and process: a busy room costs one count
    query and one broadcast per interval, not one per message."""

    def __init__(self) -> None:
        self.due: dict[str, asyncio.Task[None]] = {}  # room -> the task that will announce it

    def touched(self, channel_layer: BaseChannelLayer, room: str) -> None:
        task = self.due.get(room)
        # A task of another event loop (a test's, since closed) will never run: replace it.
        if task is not None and not task.done() and task.get_loop() is asyncio.get_running_loop():
            return
        self.due[room] = asyncio.get_running_loop().create_task(self.announce(channel_layer, room))

    async def announce(self, channel_layer: BaseChannelLayer, room: str) -> None:
        try:
            await asyncio.sleep(settings.CHAT_ROOM_ACTIVITY_INTERVAL)
        finally:
            # Before counting: a message stored during the count schedules the next one.
            self.due.pop(room, None)
        try:
            event = await room_activity_event(room)
            await channel_layer.group_send(
                ROOMS_GROUP, {"type": "room.activity", "text": encode(event)}
            )
        except Exception as exc:
            # The room list is a convenience: its failure must not disturb the chat, nor fill
            # the log with a traceback per room while Redis or the database is away.
            logger.warning("announcing activity in room %s failed: %s", room, type(exc).__name__)


_room_activity = RoomActivity()


def room_activity() -> RoomActivity:
    return _room_activity


def announce_deletion(room: str, message_id: int) -> None:
    """Tell the room's open pages that a message is gone, and every room list the new count.
    Synchronous: called after the deleting transaction commits (admin views, shell)."""
    if not is_room_name(room):
        return
    channel_layer = get_channel_layer()
    if channel_layer is None:
        return
    send = async_to_sync(channel_layer.group_send)
    send(room_group_name(room), {"type": "message.deleted", "id": message_id})
    messages, last_message_at = selectors.room_summary(room)
    event = protocol.room_activity_event(room, messages, last_message_at)
    send(ROOMS_GROUP, {"type": "room.activity", "text": encode(event)})
