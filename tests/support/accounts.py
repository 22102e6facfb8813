"""Small helpers shared by the accounts tests."""

from django.conf import settings
from django.contrib.sessions.backends.cache import KEY_PREFIX as CACHE_SESSION_PREFIX
from django.core.cache import cache

# Passes every password validator (AUTH_PASSWORD_VALIDATORS: 8 to 128 characters, not common...).
STRONG_PASSWORD = "kite-Orbit-42"


def login(client, username="alice", password=STRONG_PASSWORD, headers=None, **fields):
    """POST the login form; ``fields`` adds fields such as ``remember`` or ``next``."""
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password, **fields},
        headers=headers,
    )


def session_cookie(client):
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    return cookie.value if cookie is not None and cookie.value else None


def redis_session_key(session_key):
    """The Redis key under which the cache session engine stores ``session_key``."""
    return cache.make_key(f"{CACHE_SESSION_PREFIX}{session_key}")


def forget_login_failures():
    """Delete the throttles' counters (django-axes' and django-ratelimit's, in the shared
    Redis), as their windows passing would."""
    cache.delete_pattern("axes-*")
    cache.delete_pattern(f"{settings.RATELIMIT_CACHE_PREFIX}*")
