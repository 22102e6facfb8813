"""Writes of the chat app. Synchronous: async consumers call them through
``database_sync_to_async``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from chat import selectors
from chat.models import MESSAGE_MAX_LENGTH, Message, validate_client_id, validate_room_name

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def validate_message_text(text: object) -> str:
    """``text`` if it can be posted; else :class:`ValidationError`, with the code the chat
    protocol reports to the client."""
    if not isinstance(text, str):
        raise ValidationError(_("The text must be a string."), code="malformed")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # JSON's "\ud800" escape decodes to half a surrogate pair: a str nothing can store.
        raise ValidationError(
            _("The text is not valid Unicode (it holds a lone surrogate)."), code="malformed"
        ) from None
    if not text.strip():
        raise ValidationError(_("The message is empty."), code="empty_text")
    if len(text) > MESSAGE_MAX_LENGTH:
        raise ValidationError(
            _("The message is longer than %(limit)d characters."),
            code="text_too_long",
            params={"limit": MESSAGE_MAX_LENGTH},
        )
    return text


def post_message(*, user: User, room: str, text: str) -> Message:
    """Store ``user``'s message in ``room`` and return it; :class:`ValidationError` if refused."""
    validate_message_text(text)
    validate_room_name(room)
    return Message.objects.create(user=user, room=room, text=text)


def post_message_once(
    *, user: User, room: str, text: object, client_id: str | None
) -> tuple[Message, bool]:
    """Store ``user``'s message unless the same ``client_id`` of theirs is stored already;
    :class:`ValidationError` if refused. ``text`` may be whatever the client sent: it is
    validated here.

    Returns ``(message, created)``: the new message, or the one stored under that client id
    before (a client resending what it saw no acknowledgement for). ``client_id`` None always
    stores. The unique constraint on (user, client_id) decides, so that two processes racing
    with the same resend still store it once.
    """
    # The text first: that is what its sender can mend (the room comes from the URL).
    valid_text = validate_message_text(text)
    validate_room_name(room)
    if client_id is None:
        return Message.objects.create(user=user, room=room, text=valid_text), True
    validate_client_id(client_id)
    try:
        with transaction.atomic():
            return (
                Message.objects.create(user=user, room=room, text=valid_text, client_id=client_id),
                True,
            )
    except IntegrityError:
        # With its user (selectors.posted_message): the protocol shows the username, and the
        # caller is async.
        stored = selectors.posted_message(user, room, client_id)
        if stored is not None:
            return stored, False
        if not Message.objects.filter(user=user, client_id=client_id).exists():
            raise
    raise ValidationError(
        _("This client id was used for a message in another room."), code="malformed"
    )
