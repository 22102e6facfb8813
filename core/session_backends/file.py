"""Django's ``file`` session store, giving anonymous sessions the shorter
``SESSION_ANONYMOUS_AGE`` (core/session_backends/anonymous.py)."""

import datetime
from typing import TYPE_CHECKING, Any

from django.contrib.sessions.backends import file

from core.session_backends.anonymous import AnonymousSessionAgeMixin, session_age


class SessionStore(AnonymousSessionAgeMixin, file.SessionStore):
    """Django's file store with the anonymous session age."""

    if TYPE_CHECKING:
        # Django's own, which django-stubs does not declare.
        def _last_modification(self) -> datetime.datetime: ...
        def _key_to_file(self, session_key: str | None = None) -> str: ...

    # The stored expiry is what set_expiry() keeps: seconds or an ISO date.
    def _expiry_date(self, session_data: dict[str, Any]) -> datetime.datetime | str | int:
        # Copied from Django (server/COMPAT.md), with session_age(session_data) for the age:
        # Django's asks get_session_cookie_age() while loading, before the data is the session's,
        # so an anonymous file would be kept, and clearsessions would keep it, for the full age.
        return session_data.get("_session_expiry") or (
            self._last_modification() + datetime.timedelta(seconds=session_age(session_data))
        )
