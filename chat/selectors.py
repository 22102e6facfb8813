"""Reads of the chat app. Synchronous: async consumers call them through
``database_sync_to_async``."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Max

from chat.models import Message

if TYPE_CHECKING:
    from django.contrib.auth.models import User

HISTORY_LENGTH = 50


def recent_messages(room: str, limit: int = HISTORY_LENGTH) -> list[Message]:
    """The last ``limit`` messages of ``room``, oldest first."""
    newest_first = Message.objects.filter(room=room).select_related("user").order_by("-id")[:limit]
    return list(reversed(newest_first))


def rooms_with_messages(limit: int = 100) -> list[dict[str, Any]]:
    """Rooms that have messages, most recently active first: dicts of ``room``, ``messages``
    (how many) and ``last_message_at``."""
    return list(
        Message.objects.values("room")
        .annotate(messages=Count("id"), last_message_at=Max("created_at"))
        .order_by("-last_message_at", "room")[:limit]
    )


def posted_message(user: User, room: str, client_id: str) -> Message | None:
    """``user``'s message stored in ``room`` under ``client_id``, with its user; or None."""
    return (
        Message.objects.select_related("user")
        .filter(user=user, room=room, client_id=client_id)
        .first()
    )


def room_summary(room: str) -> tuple[int, datetime.datetime | None]:
    """``(messages, last_message_at)`` of ``room``: ``(0, None)`` when it has none."""
    summary = Message.objects.filter(room=room).aggregate(
        messages=Count("id"), last_message_at=Max("created_at")
    )
    return summary["messages"], summary["last_message_at"]
