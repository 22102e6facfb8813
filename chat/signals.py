"""Signal receivers of the chat app, connected by :meth:`chat.apps.ChatConfig.ready`."""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

from django.db import transaction

from chat import broadcasts

if TYPE_CHECKING:
    from chat.models import Message

logger = logging.getLogger(__name__)


def message_deleted(sender: type[Message], instance: Message, **kwargs: Any) -> None:
    """A deleted message (the admin's delete page or its bulk action, or any ORM delete) leaves
    every open page of its room; told once the deletion is committed, so never a message that
    a rollback keeps."""
    transaction.on_commit(
        functools.partial(_announce_deletion, instance.room, instance.pk), robust=True
    )


def _announce_deletion(room: str, message_id: int) -> None:
    try:
        broadcasts.announce_deletion(room, message_id)
    except Exception as exc:
        # The deletion stands (history no longer has it); only the open pages miss it.
        logger.warning(
            "announcing the deletion of message %s failed: %s", message_id, type(exc).__name__
        )
