"""Writes of the accounts app: registration and the login-failure counters."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction

from accounts.models import Profile
from accounts.selectors import address_throttle_key, username_throttle_key


@transaction.atomic
def register_user(*, username, password, gender, hobbies):
    """Create a user with its profile (gender, hobbies): all of it, or nothing."""
    user = get_user_model().objects.create_user(username=username, password=password)
    profile = Profile.objects.create(user=user, gender=gender)
    profile.hobbies.set(hobbies)
    return user


def record_failed_login(*, username, address):
    """Count one failed login against ``username`` and the client ``address``."""
    _count_failure(username_throttle_key(username))
    if address:
        _count_failure(address_throttle_key(address))


def clear_failed_logins(*, username):
    """Forget ``username``'s failures (after a successful login). The address keeps its count:
    one success must not reopen a client that is trying many usernames."""
    cache.delete(username_throttle_key(username))


def _count_failure(key):
    window = settings.LOGIN_THROTTLE_WINDOW_SECONDS
    # The window starts at the first failure: add() sets the expiry only when the key is new,
    # and incr() keeps it, so the counter disappears a full window after the first failure.
    cache.add(key, 0, timeout=window)
    try:
        cache.incr(key)
    except ValueError:
        # The key expired between add() and incr(): this failure opens a new window.
        cache.add(key, 1, timeout=window)
