"""Django's ``db`` session store, giving anonymous sessions the shorter
``SESSION_ANONYMOUS_AGE`` (core/session_backends/anonymous.py)."""

from django.contrib.sessions.backends import db

from core.session_backends.anonymous import AnonymousSessionAgeMixin


class SessionStore(AnonymousSessionAgeMixin, db.SessionStore):
    """Django's db store with the anonymous session age."""
