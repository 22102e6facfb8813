"""Django's ``cached_db`` session store, giving anonymous sessions the shorter
``SESSION_ANONYMOUS_AGE`` (core/session_backends/anonymous.py)."""

from django.contrib.sessions.backends import cached_db

from core.session_backends.anonymous import AnonymousSessionAgeMixin


class SessionStore(AnonymousSessionAgeMixin, cached_db.SessionStore):
    """Django's cached_db store with the anonymous session age."""
