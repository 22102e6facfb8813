"""Writes of the accounts app: registration, the profile, deleting an account."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from accounts.models import Hobby, Profile

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@sensitive_variables("password")
@transaction.atomic
def register_user(
    *, username: str, password: str, gender: str, hobbies: Iterable[Hobby], email: str = ""
) -> User:
    """Create a user with its profile (gender, hobbies): all of it, or nothing."""
    user = get_user_model().objects.create_user(username=username, email=email, password=password)
    profile = Profile.objects.create(user=user, gender=gender)
    profile.hobbies.set(hobbies)
    return user


def ensure_profile(user: User) -> Profile:
    """The user's profile, created with the defaults when the account has none (accounts made
    by ``createsuperuser`` or in the admin)."""
    profile, _created = Profile.objects.get_or_create(user=user)
    return profile


@transaction.atomic
def update_profile(user: User, *, email: str, gender: str, hobbies: Iterable[Hobby]) -> Profile:
    """Save the user's e-mail address, gender and hobbies, creating the profile if needed."""
    user.email = email
    user.save(update_fields=["email"])
    profile = ensure_profile(user)
    profile.gender = gender
    profile.save(update_fields=["gender"])
    profile.hobbies.set(hobbies)
    return profile


@transaction.atomic
def delete_account(user: User) -> None:
    """Delete the user and the profile. The user's chat messages stay, without an author
    (``Message.user`` is ``SET_NULL``): the rooms' history keeps making sense."""
    user.delete()
