"""The site's face served by Django: the home page tells the truth about this instance, the
developer pages sit in the footer, and every page and error page carries the site's name."""

import re

import pytest
from django.conf import settings
from django.contrib import admin
from django.urls import reverse
from django.utils import translation

from core.health import backend_facts

pytestmark = pytest.mark.django_db


def main_nav(html):
    return re.search(r'<nav class="site-nav".*?</nav>', html, re.S).group(0)


def footer(html):
    return re.search(r"<footer.*?</footer>", html, re.S).group(0)


def test_home_page_names_the_backends_this_instance_runs(client):
    response = client.get(reverse("home"))

    facts = backend_facts()
    assert response.context["backends"] == facts
    html = response.content.decode()
    for key in ("database", "cache", "sessions", "channel_layer"):
        assert f"<code>{facts[key]}</code>" in html
    # The suite runs on MariaDB and Redis: no claim of SQLite or local memory.
    assert facts["database"].startswith("MySQL")
    assert facts["cache"].startswith("Redis")


def test_backend_facts_on_the_embedded_defaults_say_sqlite_and_local_memory(settings, monkeypatch):
    # The dict itself, restored afterwards (replacing DATABASES would warn about connections).
    monkeypatch.setitem(settings.DATABASES["default"], "ENGINE", "django.db.backends.sqlite3")
    settings.REDIS = None
    settings.SESSION_BACKEND = "cache"

    facts = backend_facts()

    assert facts["database"] == "SQLite"
    assert facts["cache"] == "local memory"
    assert facts["sessions"] == "cache in local memory"
    assert facts["embedded"] is True


def test_home_page_calls_a_visitor_to_register_or_log_in(client):
    html = client.get(reverse("home")).content.decode()
    actions = re.search(r'<p class="actions">.*?</p>', html, re.S).group(0)
    assert f'href="{reverse("accounts:register")}"' in actions
    assert f'href="{reverse("accounts:login")}"' in actions


def test_home_page_calls_a_logged_in_user_to_the_chat(client, alice):
    client.force_login(alice)
    html = client.get(reverse("home")).content.decode()
    actions = re.search(r'<p class="actions">.*?</p>', html, re.S).group(0)
    assert f'href="{reverse("chat:lobby")}"' in actions
    assert reverse("accounts:register") not in actions


def test_developer_pages_are_in_the_footer_not_in_the_main_navigation(client):
    html = client.get(reverse("home")).content.decode()
    for name in ("session", "stats", "healthz"):
        assert f'href="{reverse(name)}"' not in main_nav(html)
        assert f'href="{reverse(name)}"' in footer(html)


def test_every_title_carries_the_site_name(client):
    html = client.get(reverse("accounts:login")).content.decode()
    assert re.search(rf"<title>[^<]+ · {settings.SITE_NAME}</title>", html)


def test_unknown_address_answers_the_sites_404_page(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert settings.SITE_NAME in html
    assert 'class="site-header"' in html


def test_favicon_ico_redirects_to_the_svg_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith(".svg")


def test_admin_is_named_after_the_site_in_the_visitors_language():
    with translation.override("en"):
        assert str(admin.site.site_header) == f"{settings.SITE_NAME} administration"
    with translation.override("zh-hans"):
        assert str(admin.site.site_header) == f"{settings.SITE_NAME} 管理"


def test_language_switcher_names_each_language_in_itself(client):
    with translation.override("zh-hans"):
        html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert ">English</option>" in html
    assert ">简体中文</option>" in html


def test_title_starts_with_error_while_the_form_has_errors(client):
    html = client.post(reverse("accounts:register"), {}).content.decode()
    assert re.search(r"<title>Error: ", html)
    assert not re.search(
        r"<title>Error: ", client.get(reverse("accounts:register")).content.decode()
    )
