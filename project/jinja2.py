"""The Jinja2 environment of the project's pages (``TEMPLATES`` in project/settings.py).

The Jinja2 backend runs no context processors: a page reads what it needs through the
functions below, only when it renders a part that uses them, instead of every page paying for
``user``, ``messages``, ``LANGUAGES`` and the rest up front.
"""

from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.contrib.messages import get_messages
from django.template.defaultfilters import date, filesizeformat
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import translation
from jinja2 import Environment, StrictUndefined, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from project.form_fields import field_label, field_widget

# Process constants, computed once and never invalidated: the URLs of the routes without
# arguments (the URLconf does not change while the process runs; the key holds the script
# prefix and the request's URLconf, which ADMIN_HOST switches), and the translated page labels
# per language (the catalogues are loaded once). base.html asks for its URLs, labels and the
# language list on every page, which was most of the home page's CPU (docs/performance.md).
_URLS: dict[tuple[str, str, str | None], str] = {}
_LANGUAGE_LIST: list[tuple[str, str]] | None = None
_LABELS: dict[tuple[str, str, bool], str] = {}
# The templates' messages are literals, a few hundred at most; the cap keeps a future
# _(variable) from growing the cache without bound.
_LABELS_MAX = 5000


def url(viewname: str, *args: Any, **kwargs: Any) -> str:
    """``{% url %}``: ``url("chat:room", room_name=name)``; argument-less URLs are cached."""
    if args or kwargs:
        return reverse(viewname, args=args or None, kwargs=kwargs or None)
    key = (viewname, get_script_prefix(), get_urlconf())
    try:
        return _URLS[key]
    except KeyError:
        return _URLS.setdefault(key, reverse(viewname))


def available_languages() -> list[tuple[str, str]]:
    """``{% get_available_languages %}``: (code, name), each language named in itself
    ("English", "简体中文"), so a visitor finds their own whatever the page's language;
    computed once (the names do not depend on the page's language)."""
    global _LANGUAGE_LIST
    if _LANGUAGE_LIST is None:
        _LANGUAGE_LIST = [
            (code, translation.get_language_info(code)["name_local"])
            for code, _ in settings.LANGUAGES
        ]
    return _LANGUAGE_LIST


def environment(**options: Any) -> Environment:
    # A missing variable is an error in DEBUG and in production alike (the backend's default
    # prints it in DEBUG and hides it otherwise), so the tests see what production renders.
    options["undefined"] = StrictUndefined
    # The backend passes autoescape=True unless OPTIONS says otherwise; pages always escape.
    options.pop("autoescape", None)
    env = Environment(autoescape=True, **options)
    # newstyle: {{ _("Hello, %(name)s!", name=...) }} escapes its variables, and a literal %
    # is written %% in every message, as in the trans blocks.
    # The i18n extension adds this method at run time (Environment.extend), unknown to the types.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=translation.gettext, ngettext=translation.ngettext, newstyle=True
    )
    env.globals.update(
        available_languages=available_languages,
        field_label=field_label,
        field_widget=field_widget,
        get_current_language=translation.get_language,
        get_messages=get_messages,
        static=static,
        url=url,
        SITE_NAME=settings.SITE_NAME,
    )
    env.filters.update(date=date, filesizeformat=filesizeformat)
    # env.globals holds objects of any kind; this one is the newstyle gettext installed above.
    page_gettext = _page_gettext(cast("Callable[..., str]", env.globals["gettext"]))
    env.globals.update(gettext=page_gettext, _=page_gettext)
    return env


def _page_gettext(newstyle_gettext: Callable[..., str]) -> Callable[..., str]:
    """The templates' ``_()`` and ``gettext()``: a label without variables (most of a page's,
    ``{% trans %}`` blocks without variables included) is the finished, escaped string, kept per
    language; the rest go through Jinja2's newstyle gettext.

    Jinja2 turns each ``_("Log out")`` into three calls (the ``_`` alias, the newstyle wrapper,
    the catalogue) and a Markup format, and a page has dozens of labels (docs/performance.md).
    The result is what the newstyle wrapper gives: ``Markup(msg) % {}`` (so ``%%`` is ``%``), or
    the plain string where autoescape is off.
    """

    @pass_context
    def page_gettext(context: Context, message: str, **variables: Any) -> str:
        if variables:
            return newstyle_gettext(context, message, **variables)
        autoescape = context.eval_ctx.autoescape
        key = (translation.get_language(), message, autoescape)
        try:
            return _LABELS[key]
        except KeyError:
            label = translation.gettext(message)
            # A message of the catalogue, as trusted as in the newstyle wrapper it stands in for.
            label = (Markup(label) if autoescape else label) % {}  # noqa: S704
            if len(_LABELS) >= _LABELS_MAX:
                return label
            return _LABELS.setdefault(key, label)

    return page_gettext
