"""Reads of the accounts app: users and their profiles."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model

from accounts.models import Profile

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def username_taken(username: str) -> bool:
    """True when a user exists whose username equals ``username`` ignoring case."""
    return get_user_model().objects.filter(username__iexact=username).exists()


def email_taken(email: str, *, except_user_pk: int | None = None) -> bool:
    """True when another user has ``email`` ignoring case (an empty address is nobody's)."""
    if not email:
        return False
    users = get_user_model().objects.filter(email__iexact=email)
    if except_user_pk is not None:
        users = users.exclude(pk=except_user_pk)
    return users.exists()


def profile_for_user(user: User) -> Profile | None:
    """The user's profile with its hobbies, or None (e.g. a superuser from createsuperuser)."""
    return (
        Profile.objects.filter(user=user).select_related("user").prefetch_related("hobbies").first()
    )


def login_username(typed: str) -> str | None:
    """The stored username of the account a login with ``typed`` authenticates, or None.

    An exact lookup, as ``ModelBackend`` does (``get_by_natural_key``): the database's collation
    decides what matches, which on MariaDB folds case and accents."""
    user_model = get_user_model()
    return (
        user_model.objects.filter(**{user_model.USERNAME_FIELD: typed})
        .values_list(user_model.USERNAME_FIELD, flat=True)
        .first()
    )
