"""Flask's routing features, each on a real URL of the project."""

import httpx
import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings
from django.urls import reverse

from core.checks import DUPLICATE_URL_NAME, find_duplicate_url_names

pytestmark = pytest.mark.django_db


def test_get_only_page_answers_405_with_allow_header_to_post(client):
    response = client.post(reverse("stats"))

    assert response.status_code == 405
    assert set(response["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_healthz_accepts_both_slash_forms_without_redirect(client):
    without_slash = client.get("/healthz")
    with_slash = client.get("/healthz/")

    assert without_slash.status_code == with_slash.status_code == 200
    assert reverse("healthz") == "/healthz"


def test_path_without_trailing_slash_redirects_to_the_slashed_one(client):
    response = client.get("/stats")

    assert response.status_code == 301
    assert response["Location"] == "/stats/"


@pytest.mark.parametrize("old_path", ["/index/", "/home/"])
def test_old_paths_redirect_permanently_home(client, old_path):
    response = client.get(old_path)

    assert response.status_code == 301
    assert response["Location"] == reverse("home")


def test_decorator_applied_to_every_method_through_dispatch(client):
    response = client.get(reverse("home"))

    assert "no-cache" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]


def test_duplicate_url_name_check_fires_on_a_broken_urlconf():
    duplicates = find_duplicate_url_names("tests.project.broken_urls")

    assert set(duplicates) == {"clash"}
    assert duplicates["clash"] == ["one/", "two/"]
    with (
        override_settings(ROOT_URLCONF="tests.project.broken_urls"),
        pytest.raises(SystemCheckError) as failed,
    ):
        call_command("check")
    assert DUPLICATE_URL_NAME in str(failed.value)


def test_duplicate_url_name_check_is_silent_on_the_project():
    errors = [e for e in run_checks(tags=["urls"]) if e.id == DUPLICATE_URL_NAME]

    assert errors == []
    assert find_duplicate_url_names("project.urls") == {}
    assert find_duplicate_url_names("project.urls_admin") == {}


def test_admin_stays_at_admin_path_without_admin_host(client):
    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.fixture
def admin_host_server(start_server):
    return start_server("daphne-admin-host", ADMIN_HOST="admin.localhost")


def test_admin_host_serves_the_admin_and_main_host_does_not(admin_host_server):
    url = admin_host_server.url

    on_admin_host = httpx.get(f"{url}/", headers={"Host": "admin.localhost"})
    admin_login = httpx.get(f"{url}/login/", headers={"Host": "admin.localhost"})
    on_main_host = httpx.get(f"{url}/admin/", headers={"Host": "localhost"})
    main_home = httpx.get(f"{url}/", headers={"Host": "localhost"})

    assert on_admin_host.status_code == 302
    assert on_admin_host.headers["Location"].startswith("/login/")
    assert admin_login.status_code == 200
    assert "csrfmiddlewaretoken" in admin_login.text
    assert on_main_host.status_code == 404
    assert main_home.status_code == 200
