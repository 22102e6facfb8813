"""The authentication backend that throttles logins (``AUTHENTICATION_BACKENDS``, first)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from axes.backends import AxesStandaloneBackend

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.http import HttpRequest


class ThrottledLoginBackend(AxesStandaloneBackend):
    """django-axes' check of an (account, client) lockout, for authentications that come with
    a request: the site's login and the admin's.

    ``authenticate()`` without a request (a form built without one, a script, the shell) has no
    client to count and is not a login over the web; axes' own backend refuses it with an
    error, this one lets the next backend decide.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> AbstractBaseUser | None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
