"""Writes of the accounts app: registration."""

from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.models import Profile


@transaction.atomic
def register_user(*, username, password, gender, hobbies):
    """Create a user with its profile (gender, hobbies): all of it, or nothing."""
    user = get_user_model().objects.create_user(username=username, password=password)
    profile = Profile.objects.create(user=user, gender=gender)
    profile.hobbies.set(hobbies)
    return user
