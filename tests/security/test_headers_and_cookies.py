"""Security headers and cookie flags under production settings, as deployed (docs/deploy.md):
a production-mode daphne with ``--proxy-headers`` and the HTTPS settings left on, reached the way
nginx reaches it, with ``X-Forwarded-Proto: https`` and ``X-Forwarded-For``.

``manage.py check --deploy`` with production variables is asserted clean by
tests/project/test_startup.py::test_check_deploy_is_clean_with_production_variables.
"""

import re
from http.cookies import SimpleCookie

import httpx
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from tests.support.accounts import STRONG_PASSWORD
from tests.support.servers import DaphneServer, production_env

pytestmark = pytest.mark.django_db(transaction=True)

# What nginx adds to every request it passes on (deploy/nginx/chat.conf.template).
VIA_HTTPS_PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
# The production defaults of README's table: HSTS for a year, subdomains, preload.
HSTS = "max-age=31536000; includeSubDomains; preload"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def https_site(live_server_env, clean_login_throttle):
    """Production settings untouched (HTTPS redirect, secure cookies, HSTS), behind a proxy."""
    env = production_env(
        **live_server_env,
        SECURE_SSL_REDIRECT="1",
        SESSION_COOKIE_SECURE="1",
        CSRF_COOKIE_SECURE="1",
    )
    server = DaphneServer(env=env, name="daphne-https", extra_args=["--proxy-headers"])
    with server:
        yield server


class ProxiedBrowser:
    """Requests as nginx passes them on after TLS, with a cookie jar that keeps Secure cookies
    (the connection to daphne is plain HTTP, so httpx's own jar would hold them back)."""

    def __init__(self, server):
        self.server = server
        self.origin = f"https://127.0.0.1:{server.port}"
        self.cookies = {}
        self.set_cookies = []
        self.http = httpx.Client(base_url=server.url, timeout=10, follow_redirects=False)

    def request(self, method, path, **kwargs):
        headers = {**VIA_HTTPS_PROXY, **kwargs.pop("headers", {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        response = self.http.request(method, path, headers=headers, **kwargs)
        for header in response.headers.get_list("set-cookie"):
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                self.set_cookies.append(morsel)
                self.cookies[name] = morsel.value
        return response

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post_form(self, path, data, **kwargs):
        headers = {"Origin": self.origin, **kwargs.pop("headers", {})}
        return self.request("POST", path, data=data, headers=headers, **kwargs)

    def close(self):
        self.http.close()


@pytest.fixture
def browser(https_site):
    proxied = ProxiedBrowser(https_site)
    yield proxied
    proxied.close()


def assert_security_headers(response, hsts=True):
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    if hsts:
        assert response.headers.get("Strict-Transport-Security") == HSTS, response.request.url


def test_pages_over_https_carry_nosniff_referrer_policy_frame_denial_and_hsts(browser):
    answers = {
        "/": browser.get("/"),
        "/accounts/login/": browser.get("/accounts/login/"),
        "/accounts/register/": browser.get("/accounts/register/"),
        "/no-such-page/": browser.get("/no-such-page/"),
        "/accounts/profile/": browser.get("/accounts/profile/"),
    }

    assert {path: response.status_code for path, response in answers.items()} == {
        "/": 200,
        "/accounts/login/": 200,
        "/accounts/register/": 200,
        "/no-such-page/": 404,
        "/accounts/profile/": 302,
    }
    for response in answers.values():
        assert_security_headers(response)


def test_error_answers_over_https_carry_the_security_headers_too(browser):
    no_token = browser.post_form("/accounts/login/", {"username": "alice", "password": "x"})
    too_large = browser.request(
        "POST",
        "/accounts/login/",
        content=b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert no_token.status_code == 403
    assert too_large.status_code == 413
    assert_security_headers(no_token)
    assert_security_headers(too_large)


def test_session_and_csrf_cookies_are_secure_httponly_and_samesite_lax(https_site, browser):
    get_user_model().objects.create_user("alice", password=STRONG_PASSWORD)
    browser.get("/")  # its forms set the CSRF cookie
    page = browser.get("/accounts/login/")
    login = browser.post_form(
        "/accounts/login/",
        {
            "csrfmiddlewaretoken": TOKEN.search(page.text).group(1),
            "username": "alice",
            "password": STRONG_PASSWORD,
        },
    )

    # The login passed the CSRF origin check: daphne's --proxy-headers made is_secure() true.
    assert login.status_code == 302
    names = {morsel.key for morsel in browser.set_cookies}
    assert {settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME} <= names
    for morsel in browser.set_cookies:
        assert morsel["secure"] is True, morsel.key
        assert morsel["httponly"] is True, morsel.key
        assert morsel["samesite"] == "Lax", morsel.key
        assert morsel["path"] == "/", morsel.key


def test_plain_http_is_redirected_to_https_except_the_health_check(https_site):
    page = httpx.get(f"{https_site.url}/accounts/login/", timeout=10)
    health = httpx.get(f"{https_site.url}/healthz", timeout=10)

    assert page.status_code == 301
    assert page.headers["Location"] == f"https://127.0.0.1:{https_site.port}/accounts/login/"
    assert "set-cookie" not in page.headers
    assert health.status_code == 200
    # Over plain HTTP no HSTS: browsers ignore it there, and it would be wrong to claim it.
    assert "Strict-Transport-Security" not in health.headers
