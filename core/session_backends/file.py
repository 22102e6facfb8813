"""Django's ``file`` session store, giving anonymous sessions the shorter
``SESSION_ANONYMOUS_AGE`` (core/session_backends/anonymous.py)."""

import datetime

from django.contrib.sessions.backends import file

from core.session_backends.anonymous import AnonymousSessionAgeMixin, session_age


class SessionStore(AnonymousSessionAgeMixin, file.SessionStore):
    """Django's file store with the anonymous session age."""

    def _expiry_date(self, session_data):
        # Copied from Django (server/COMPAT.md), with session_age(session_data) for the age:
        # Django's asks get_session_cookie_age() while loading, before the data is the session's,
        # so an anonymous file would be kept, and clearsessions would keep it, for the full age.
        return session_data.get("_session_expiry") or (
            self._last_modification() + datetime.timedelta(seconds=session_age(session_data))
        )
