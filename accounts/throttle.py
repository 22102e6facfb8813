"""Login throttling: failure counters in the cache, shared by every server process.

Reads (:func:`login_lockout`) and writes (:func:`record_failed_login`,
:func:`clear_failed_logins`) live together because they share one key scheme.
"""

import hashlib
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

THROTTLE_KEY_PREFIX = "login-failures"


@dataclass(frozen=True)
class LoginLockout:
    """Further logins are refused: because of the ``username`` or the client ``address``."""

    reason: str
    retry_after_seconds: int


def normalize_username_for_throttle(username):
    """Fold what was typed so that "Alice", "alice " and its full-width form share a counter."""
    return unicodedata.normalize("NFKC", username).strip().casefold()


def username_throttle_key(username):
    # Hashed: the raw input is unbounded and arbitrary, a cache key should be neither.
    digest = hashlib.sha256(normalize_username_for_throttle(username).encode()).hexdigest()
    return f"{THROTTLE_KEY_PREFIX}:username:{digest}"


def address_throttle_key(address):
    return f"{THROTTLE_KEY_PREFIX}:address:{address}"


def login_lockout(*, username, address):
    """The lockout in force for a login attempt by ``username`` from ``address``, or None."""
    limits = [(username_throttle_key(username), settings.LOGIN_THROTTLE_PER_USERNAME, "username")]
    if address:
        limits.append(
            (address_throttle_key(address), settings.LOGIN_THROTTLE_PER_ADDRESS, "address")
        )
    counts = cache.get_many([key for key, _limit, _reason in limits])
    for key, limit, reason in limits:
        if counts.get(key, 0) >= limit:
            return LoginLockout(reason=reason, retry_after_seconds=_seconds_left_in_cache(key))
    return None


def _seconds_left_in_cache(key):
    ttl = cache.ttl(key) if hasattr(cache, "ttl") else None
    # Without a TTL to read (a cache other than Redis) the whole window is the honest bound.
    if not ttl or ttl < 0:
        return settings.LOGIN_THROTTLE_WINDOW_SECONDS
    return int(ttl)


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


def clear_lockout(user):
    """Lift the lockout of ``user``'s account at once (after a completed password reset): the
    owner proved control of the account's e-mail address."""
    clear_failed_logins(username=user.get_username())
