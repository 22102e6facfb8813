"""The lifetime of a session: shorter while no user is logged in to it.

A session that only holds what an anonymous visitor left (a visit counter) lives
``SESSION_ANONYMOUS_AGE`` seconds (default a day) after it was last written; one with a
logged-in user lives ``SESSION_COOKIE_AGE`` (default two weeks). Login writes the session, so it
gets the full age then; logout empties it, and an empty session is not stored at all (Django's
SessionMiddleware saves none). An expiry chosen with ``set_expiry()`` (the login form's
"remember me") wins over both, as in Django.

The age is Django's documented hook ``get_session_cookie_age()``: every store asks it for the
server-side expiry (Redis TTL, database row's ``expire_date``, file age) and the middleware for
the cookie's ``Max-Age``, so both follow.
"""

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY


def session_age(data: Mapping[str, Any]) -> int:
    """Seconds a session holding ``data`` lives after its last write, unless ``set_expiry()``
    chose otherwise."""
    return settings.SESSION_COOKIE_AGE if SESSION_KEY in data else settings.SESSION_ANONYMOUS_AGE


class AnonymousSessionAgeMixin:
    """Give a session store :func:`session_age` as its age (mixed in before Django's store)."""

    def get_session_cookie_age(self) -> int:
        # _session_cache is the session's data once loaded (or set by the request). Django's file
        # and signed-cookie stores ask for the age while loading, before it is known: they get
        # the longer age there (the file store's own check is redone in core.session_backends.file).
        data = getattr(self, "_session_cache", None)
        if data is None:
            return settings.SESSION_COOKIE_AGE
        return session_age(data)
