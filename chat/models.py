from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.converters import ROOM_NAME_MAX_LENGTH, ROOM_NAME_PATTERN

MESSAGE_MAX_LENGTH = 2000
CLIENT_ID_MAX_LENGTH = 64
CLIENT_ID_PATTERN = rf"[A-Za-z0-9_-]{{1,{CLIENT_ID_MAX_LENGTH}}}"

validate_room_name = RegexValidator(
    rf"\A{ROOM_NAME_PATTERN}\Z",
    _("A room name is 1 to 64 letters (of any script), digits, hyphens or underscores."),
    code="invalid_room",
)

validate_client_id = RegexValidator(
    rf"\A{CLIENT_ID_PATTERN}\Z",
    _("A client id is 1 to 64 letters, digits, hyphens or underscores."),
    code="malformed",
)


class Message(models.Model):
    """One chat message, stored before it is broadcast so that history holds all that was seen."""

    room = models.CharField(
        _("room"), max_length=ROOM_NAME_MAX_LENGTH, validators=[validate_room_name]
    )
    # SET_NULL: a deleted account's messages stay in the rooms' history, shown under "deleted
    # user" (docs/accounts.md); the conversation around them keeps making sense.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="chat_messages",
        verbose_name=_("user"),
    )
    text = models.CharField(_("text"), max_length=MESSAGE_MAX_LENGTH)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # The sender's own id for the message (chat/protocol.py): a client that resends what was
    # not acknowledged, after a reconnect, gets the stored message back instead of a copy.
    # NULL, not "", for "none": the unique constraint below must not hold messages without one.
    client_id = models.CharField(  # noqa: DJ001
        _("client id"),
        max_length=CLIENT_ID_MAX_LENGTH,
        null=True,
        blank=True,
        validators=[validate_client_id],
    )

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        # A room's history is read newest first by id, which is also the order of storing.
        indexes = [models.Index(fields=["room", "id"], name="chat_message_room_id_idx")]
        constraints = [
            # A message is stored once per (user, client id). Messages without a client id
            # are not held to it: a unique index treats NULLs as distinct (MariaDB, SQLite).
            # (Not a condition "client_id IS NOT NULL": MySQL has no partial indexes, and
            # Django would leave the constraint out there, with warning models.W036.)
            models.UniqueConstraint(
                fields=["user", "client_id"], name="chat_message_user_client_id_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.room} #{self.pk} {self.user_id}: {self.text[:40]}"
