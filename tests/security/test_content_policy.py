"""Every page and every error answer of a production-mode daphne carries the
Content-Security-Policy (nothing inline, nothing from elsewhere, no framing) and the
Permissions-Policy (no camera, microphone, location...). That the browser then reports no
violation on the pages is tests/browser/test_content_policy.py's part."""

import httpx
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from core.errors import service_unavailable_response
from tests.support.accounts import STRONG_PASSWORD
from tests.support.servers import production_env
from tests.support.visitor import Visitor

pytestmark = pytest.mark.django_db(transaction=True)

CSP = "Content-Security-Policy"
PERMISSIONS = "Permissions-Policy"


def directives(policy):
    """``{"script-src": ["'self'"], ...}`` of a Content-Security-Policy header value."""
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def assert_policies(response):
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    assert CSP in response.headers, where
    assert directives(response.headers[CSP]) == settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert PERMISSIONS in response.headers, where
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in response.headers[PERMISSIONS].split(", "), (where, feature)


@pytest.fixture
def server(start_server, clean_login_throttle):
    # One failed login per username is enough to see the throttle's 429.
    return start_server(
        "daphne-policies", **production_env(SERVE_STATIC="1", LOGIN_THROTTLE_PER_USERNAME="1")
    )


def test_every_page_and_error_answer_carries_both_policies(server, default_hobbies):
    get_user_model().objects.create_user("alice", password=STRONG_PASSWORD)
    with Visitor(server) as visitor:
        anonymous = {
            path: visitor.get(path)
            for path in (
                "/",
                "/accounts/login/",
                "/accounts/register/",
                "/session/",
                "/stats/",
                "/echo/",
                "/chat/",
                "/admin/login/",
                "/no-such-page/",
            )
        }
        errors = {
            "csrf": visitor.http.post("/accounts/login/", data={"username": "alice"}),
            "too large": visitor.http.post(
                "/accounts/login/",
                content=b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ),
            "bad host": visitor.get("/", headers={"Host": "evil.example"}),
        }
        visitor.post_form("/accounts/login/", {"username": "mallory", "password": "wrong-1"})
        errors["throttled"] = visitor.post_form(
            "/accounts/login/", {"username": "mallory", "password": "wrong-2"}
        )
        visitor.login("alice", STRONG_PASSWORD)
        logged_in = {
            path: visitor.get(path)
            for path in ("/", "/accounts/profile/", "/chat/", "/chat/room-1/", "/session/")
        }
        errors["logout by GET"] = visitor.get("/accounts/logout/")

    assert {path: r.status_code for path, r in anonymous.items()} == {
        "/": 200,
        "/accounts/login/": 200,
        "/accounts/register/": 200,
        "/session/": 200,
        "/stats/": 200,
        "/echo/": 200,
        "/chat/": 302,
        "/admin/login/": 200,
        "/no-such-page/": 404,
    }
    assert {name: r.status_code for name, r in errors.items()} == {
        "csrf": 403,
        "too large": 413,
        "bad host": 400,
        "throttled": 429,
        "logout by GET": 200,
    }
    assert all(r.status_code == 200 for r in logged_in.values())
    for response in [*anonymous.values(), *errors.values(), *logged_in.values()]:
        assert_policies(response)


def test_the_policy_allows_no_inline_code_no_plugins_and_no_framing(server):
    policy = directives(httpx.get(f"{server.url}/", timeout=10).headers[CSP])

    for kind in ("script-src", "style-src"):
        assert policy[kind] == ["'self'"], kind
    assert policy["default-src"] == ["'self'"]
    # 'self' covers ws:/wss: of the page's own host and port (CSP Level 3).
    assert policy["connect-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]


def test_the_503_page_of_an_exhausted_request_pool_carries_both_policies_too():
    # server/handlers.py answers with it outside the middleware chain.
    response = service_unavailable_response("database connection pool")

    assert directives(response[CSP]) == settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert "camera=()" in response[PERMISSIONS]


@override_settings(ROOT_URLCONF="tests.security.failing_urls", DEBUG=False)
@pytest.mark.parametrize(("path", "status"), [("/fails/", 500), ("/redis-fails/", 503)])
def test_500_and_503_pages_carry_both_policies(path, status):
    response = Client(raise_request_exception=False).get(path)

    assert response.status_code == status
    assert directives(response[CSP]) == settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert "camera=()" in response[PERMISSIONS]
