"""Writes of the chat app. Synchronous: async consumers call them through
``database_sync_to_async``."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from chat.models import MESSAGE_MAX_LENGTH, Message, validate_room_name


def validate_message_text(text):
    """Refuse what cannot be posted, with the code the chat protocol reports to the client."""
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


def post_message(*, user, room, text):
    """Store ``user``'s message in ``room`` and return it; :class:`ValidationError` if refused."""
    validate_room_name(room)
    validate_message_text(text)
    return Message.objects.create(user=user, room=room, text=text)
