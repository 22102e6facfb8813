"""System checks of the project's own.

Flask refuses to register two view functions under one endpoint ("View function mapping is
overwriting an existing endpoint function"). Django keeps both URL patterns and ``reverse()``
silently picks one of them. ``check_duplicate_url_names`` restores Flask's guarantee as an error
of ``manage.py check`` (which also runs before runserver and migrate).
"""

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.urls import URLPattern, URLResolver, get_resolver

DUPLICATE_URL_NAME = "project.E001"


def _view_identity(callback: Callable[..., Any]) -> object:
    # as_view() makes a new function per call; the class it was made from is the view's identity.
    return getattr(callback, "view_class", None) or getattr(callback, "__wrapped__", callback)


def _named_patterns(
    resolver: URLResolver, namespace: str = ""
) -> Iterator[tuple[str, str, Callable[..., Any]]]:
    """Yield (fully qualified name, pattern description, view) for every named URL pattern."""
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}{pattern.namespace}:"
            yield from _named_patterns(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", str(pattern.pattern), pattern.callback


def find_duplicate_url_names(urlconf: str | None = None) -> dict[str, list[str]]:
    """Names used by URL patterns that point at different views: ``{name: [pattern, ...]}``."""
    views_by_name: defaultdict[str, dict[object, str]] = defaultdict(dict)
    for name, description, callback in _named_patterns(get_resolver(urlconf)):
        views_by_name[name].setdefault(_view_identity(callback), description)
    return {
        name: sorted(patterns.values())
        for name, patterns in views_by_name.items()
        if len(patterns) > 1
    }


@register("urls")
def check_duplicate_url_names(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """``project.E001``: a URL name used by patterns for different views, in any URL conf."""
    urlconfs = [settings.ROOT_URLCONF, *getattr(settings, "EXTRA_URLCONFS", [])]
    errors: list[CheckMessage] = []
    for urlconf in urlconfs:
        for name, patterns in find_duplicate_url_names(urlconf).items():
            errors.append(
                Error(
                    f"URL name {name!r} is used by patterns for different views: "
                    f"{', '.join(repr(p) for p in patterns)}.",
                    hint="Give each view its own name; reverse() would silently pick one.",
                    obj=urlconf,
                    id=DUPLICATE_URL_NAME,
                )
            )
    return errors


EMAIL_NOT_CONFIGURED = "project.W001"


@register("email")
def check_email_configured(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """In production, password-reset mail needs ``EMAIL_URL`` and ``DEFAULT_FROM_EMAIL``."""
    if settings.DEBUG:
        return []
    missing = []
    if not getattr(settings, "EMAIL_URL", ""):
        missing.append("EMAIL_URL (e.g. smtp+tls://user:password@mail.example.com:587)")
    if settings.DEFAULT_FROM_EMAIL == "webmaster@localhost":
        missing.append("DEFAULT_FROM_EMAIL (e.g. chat@example.com)")
    if not missing:
        return []
    return [
        Warning(
            f"Password-reset mail is not configured: set {' and '.join(missing)}.",
            hint="Without EMAIL_URL mail goes to an SMTP server on localhost:25; set "
            "EMAIL_URL=smtp://localhost:25 if that is intended.",
            id=EMAIL_NOT_CONFIGURED,
        )
    ]
