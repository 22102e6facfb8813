"""Password rules of NIST SP 800-63B beyond Django's own validators: an upper bound of at least
64 characters (here 128) and no password made of whitespace only.

Listed in ``AUTH_PASSWORD_VALIDATORS``, so registration, password change, reset, the admin and
``createsuperuser`` apply them alike; the forms read the bounds from there too
(:func:`password_length_limits`), so that the inputs' ``minlength`` and ``maxlength`` are the
server's rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django_stubs_ext import StrOrPromise

DEFAULT_MAX_LENGTH = 128


class MaximumLengthValidator:
    """Refuse passwords longer than ``max_length`` characters (code ``password_too_long``)."""

    def __init__(self, max_length: int = DEFAULT_MAX_LENGTH):
        self.max_length = max_length

    def validate(self, password: str, user: AbstractBaseUser | None = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                ngettext(
                    "This password is too long. It must contain at most %(max_length)d character.",
                    "This password is too long. It must contain at most %(max_length)d characters.",
                    self.max_length,
                ),
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return ngettext(
            "Your password can contain at most %(max_length)d character.",
            "Your password can contain at most %(max_length)d characters.",
            self.max_length,
        ) % {"max_length": self.max_length}


class NotOnlyWhitespaceValidator:
    """Refuse passwords made of spaces, tabs and line breaks only (code
    ``password_entirely_whitespace``): eight spaces pass every length rule."""

    message = _("This password is made of spaces only.")

    def validate(self, password: str, user: AbstractBaseUser | None = None) -> None:
        if password and not password.strip():
            raise ValidationError(self.message, code="password_entirely_whitespace")

    def get_help_text(self) -> StrOrPromise:
        return _("Your password cannot be only spaces.")


def password_length_limits() -> tuple[int | None, int | None]:
    """(minimum, maximum) number of characters the configured validators allow; None for a
    bound no validator sets."""
    minimum = maximum = None
    for validator in password_validation.get_default_password_validators():
        if isinstance(validator, password_validation.MinimumLengthValidator):
            minimum = max(minimum or 0, validator.min_length)
        elif isinstance(validator, MaximumLengthValidator):
            maximum = min(maximum or validator.max_length, validator.max_length)
    return minimum, maximum


def password_help_text() -> str:
    """The validators' own help texts, as one plain sentence list (no HTML)."""
    return " ".join(str(text) for text in password_validation.password_validators_help_texts())
