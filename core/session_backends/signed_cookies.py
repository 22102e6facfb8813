"""Django's ``signed_cookies`` session store, giving anonymous sessions the shorter
``SESSION_ANONYMOUS_AGE`` as their cookie's ``Max-Age`` (core/session_backends/anonymous.py).

It stores nothing on the server. The signature check on load still accepts a cookie up to
``SESSION_COOKIE_AGE`` old: the data, and so whether a user is logged in, is only known once the
signature has been checked.
"""

from django.contrib.sessions.backends import signed_cookies

from core.session_backends.anonymous import AnonymousSessionAgeMixin


class SessionStore(AnonymousSessionAgeMixin, signed_cookies.SessionStore):
    """Django's signed-cookie store with the anonymous session age."""
