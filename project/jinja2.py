"""The Jinja2 environment of the project's pages (``TEMPLATES`` in project/settings.py).

The Jinja2 backend runs no context processors: a page reads what it needs through the
functions below, only when it renders a part that uses them, instead of every page paying for
``user``, ``messages``, ``LANGUAGES`` and the rest up front.
"""

from django.conf import settings
from django.contrib.messages import get_messages
from django.template.defaultfilters import date, filesizeformat
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from jinja2 import Environment, StrictUndefined


def url(viewname, *args, **kwargs):
    """``{% url %}``: ``url("chat:room", room_name=name)``."""
    return reverse(viewname, args=args or None, kwargs=kwargs or None)


def available_languages():
    """``{% get_available_languages %}``: (code, name), each language named in itself
    ("English", "简体中文"), so a visitor finds their own whatever the page's language."""
    return [
        (code, translation.get_language_info(code)["name_local"]) for code, _ in settings.LANGUAGES
    ]


def environment(**options):
    # A missing variable is an error in DEBUG and in production alike (the backend's default
    # prints it in DEBUG and hides it otherwise), so the tests see what production renders.
    options["undefined"] = StrictUndefined
    # The backend passes autoescape=True unless OPTIONS says otherwise; pages always escape.
    options.pop("autoescape", None)
    env = Environment(autoescape=True, **options)
    # newstyle: {{ _("Hello, %(name)s!", name=...) }} escapes its variables, and a literal %
    # is written %% in every message, as in the trans blocks.
    env.install_gettext_callables(
        gettext=translation.gettext, ngettext=translation.ngettext, newstyle=True
    )
    env.globals.update(
        available_languages=available_languages,
        get_current_language=translation.get_language,
        get_messages=get_messages,
        static=static,
        url=url,
        SITE_NAME=settings.SITE_NAME,
    )
    env.filters.update(date=date, filesizeformat=filesizeformat)
    return env
