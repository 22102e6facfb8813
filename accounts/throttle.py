"""Throttling of unauthenticated writes, on maintained libraries sharing the project's cache.

- Failed logins per (account, client): django-axes with its cache handler
  (``AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]``). The typed name is resolved to the
  account the login would authenticate (:func:`account_username`), so spellings the database
  folds together (``BOB01``, ``bôb01`` under MariaDB's collation) share one count, and a
  stranger's failures from another client never lock the owner out.
- Per client (network address): django-ratelimit, for failed logins from one client whatever
  the username, registrations and password-reset requests (the :class:`ClientLimit` values
  below). Axes counts failed logins only, and with a single limit for every parameter, so it
  can do neither.
docs/accounts.md ("Throttling") says why and lists the settings.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cache, get_client_cache_keys
from django.conf import settings
from django_ratelimit.core import get_usage

from accounts import selectors

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The client's address (``AXES_CLIENT_IP_CALLABLE``): daphne puts the peer in REMOTE_ADDR,
    or the X-Forwarded-For client with --proxy-headers behind nginx."""
    return request.META.get("REMOTE_ADDR") or None


def client_key(group: str, request: HttpRequest) -> str:
    """django-ratelimit's key: the same address axes uses."""
    return client_address(request) or "unknown"


def normalize_username(username: str) -> str:
    """Fold a name with no account so that "Alice", "alice " and its full-width form share a
    count (an account's own name is used as stored)."""
    return unicodedata.normalize("NFKC", username).strip().casefold()


def account_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """``AXES_USERNAME_CALLABLE``: the username of the account the typed name logs in to.

    The login looks the name up with the database's collation (``ModelBackend`` uses
    ``get_by_natural_key``), which on MariaDB folds case and accents: counting by the typed
    string would give ``bôb01`` five guesses of its own at ``bob01``'s password.
    """
    typed = (credentials or {}).get(settings.AXES_USERNAME_FORM_FIELD)
    if typed is None and request is not None:
        typed = request.POST.get(settings.AXES_USERNAME_FORM_FIELD)
    if not isinstance(typed, str) or not typed:
        return None
    # The user model's limit: longer names match no account, and the key stays bounded.
    typed = typed[:150]
    return selectors.login_username(typed) or normalize_username(typed)


def lockout_seconds_left(request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
    """Seconds until the (account, client) lock of this request ends: the cache key's TTL on
    Redis, else the whole cool-off (the honest bound where no TTL can be read)."""
    cache = get_cache()
    ttls = [
        cache.ttl(key) if hasattr(cache, "ttl") else None
        for key in get_client_cache_keys(request, credentials)
    ]
    known = [ttl for ttl in ttls if ttl is not None and ttl > 0]
    return max(known) if known else settings.LOGIN_THROTTLE_WINDOW_SECONDS


def clear_lockout(user: AbstractBaseUser, request: HttpRequest) -> None:
    """Lift the lock of ``user``'s account from this client at once (after a completed password
    reset: the owner proved control of the account's e-mail address). Locks the account got
    from other clients stay: they are a stranger's guesses."""
    AxesProxyHandler.reset_attempts(
        username=user.get_username(), ip_address=client_address(request)
    )


@dataclass(frozen=True)
class ClientLimit:
    """At most ``count`` of an action per client in ``seconds`` (a django-ratelimit group)."""

    group: str
    count_setting: str
    seconds_setting: str

    @property
    def rate(self) -> str:
        return f"{getattr(settings, self.count_setting)}/{getattr(settings, self.seconds_setting)}s"


FAILED_LOGINS = ClientLimit(
    "accounts.failed-logins", "LOGIN_THROTTLE_PER_ADDRESS", "LOGIN_THROTTLE_WINDOW_SECONDS"
)
REGISTRATIONS = ClientLimit(
    "accounts.registrations", "REGISTRATIONS_PER_CLIENT", "REGISTRATION_WINDOW_SECONDS"
)
PASSWORD_RESET_REQUESTS = ClientLimit(
    "accounts.password-resets", "PASSWORD_RESETS_PER_CLIENT", "PASSWORD_RESET_WINDOW_SECONDS"
)


def client_limit_usage(
    request: HttpRequest, limit: ClientLimit, *, increment: bool
) -> dict[str, Any] | None:
    """django-ratelimit's usage of ``limit`` by this client (``count``, ``should_limit``,
    ``time_left``); ``increment`` counts this request. The check and the count are separate,
    so a failed login can be counted after the fact, and only then."""
    return get_usage(
        request,
        group=limit.group,
        key=client_key,
        rate=limit.rate,
        method="POST",
        increment=increment,
    )


def client_limit_reached(request: HttpRequest, limit: ClientLimit) -> int | None:
    """Seconds to wait when this client has used up ``limit`` already, else None."""
    usage = client_limit_usage(request, limit, increment=False)
    if usage is not None and usage["count"] >= usage["limit"]:
        return max(1, usage["time_left"])
    return None
