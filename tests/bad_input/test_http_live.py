"""Hostile HTTP against a live production-mode daphne: bodies over the upload limit, form posts
without a CSRF token, malformed cookies, an unknown session key, an oversize header block.

The answer is a clear 4xx page or a normal page, never a 500; no traceback in the server's log
where the project decides; and the server keeps serving.
"""

import re
import secrets
import socket

import httpx
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.middleware.csrf import REASON_CSRF_TOKEN_MISSING, REASON_NO_CSRF_COOKIE
from django.utils import translation
from django.utils.translation import gettext

from tests.support.accounts import STRONG_PASSWORD, redis_session_key
from tests.support.servers import DaphneServer, production_env

pytestmark = pytest.mark.django_db(transaction=True)

LOGIN_URL = "/accounts/login/"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def site(live_server_env, clean_login_throttle):
    """A production-mode daphne (plain HTTP, as behind nginx) on the test database and Redis."""
    with DaphneServer(env=production_env(**live_server_env), name="daphne-bad-input") as server:
        yield server


@pytest.fixture
def alice(transactional_db):
    return get_user_model().objects.create_user("alice", password=STRONG_PASSWORD)


def form_token(client, path=LOGIN_URL):
    page = client.get(path)
    assert page.status_code == 200
    return TOKEN.search(page.text).group(1)


def assert_still_serving(server):
    assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
    assert httpx.get(f"{server.url}/", timeout=10).status_code == 200


# ------------------------------------------------------------------------------------------------
# Bodies over DATA_UPLOAD_MAX_MEMORY_SIZE
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("excess", [1, 20 * 1024 * 1024])
def test_form_body_over_the_upload_limit_answers_413_without_a_traceback(site, excess):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    with httpx.Client(base_url=site.url, timeout=60) as client:
        token = form_token(client)
        prefix = f"csrfmiddlewaretoken={token}&username=alice&password="
        body = prefix + "x" * (limit + excess - len(prefix))

        response = client.post(
            LOGIN_URL,
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    assert response.status_code == 413
    assert "<h1>" in response.text
    assert_still_serving(site)
    assert "Traceback" not in site.log()
    assert "refused with 413" in site.log()


def test_chunked_body_over_the_upload_limit_answers_413(site):
    """No Content-Length: Django's own check finds the size, and handler400 answers 413."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    with httpx.Client(base_url=site.url, timeout=60) as client:
        token = form_token(client)

        def chunks():
            yield f"csrfmiddlewaretoken={token}&username=alice&password=".encode()
            for _ in range(limit // 65536 + 2):
                yield b"x" * 65536

        response = client.post(
            LOGIN_URL,
            content=chunks(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert_still_serving(site)


def test_multipart_field_over_the_upload_limit_answers_413(site):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    with httpx.Client(base_url=site.url, timeout=60) as client:
        token = form_token(client)

        response = client.post(
            LOGIN_URL,
            data={"csrfmiddlewaretoken": token, "username": "alice"},
            files={"password": (None, b"x" * (limit + 1))},
        )

    assert response.request.headers["content-type"].startswith("multipart/form-data")
    assert response.status_code == 413
    assert_still_serving(site)


# ------------------------------------------------------------------------------------------------
# CSRF
# ------------------------------------------------------------------------------------------------


def csrf_texts(language):
    """What templates/jinja2/403_csrf.html says, in ``language`` (the project's catalogue)."""
    with translation.override(language):
        return {
            "title": gettext("Forbidden"),
            "main": gettext("CSRF verification failed. Request aborted."),
            "next": gettext(
                "Go back, reload the page and send the form again. If this keeps happening, "
                "allow cookies for this site."
            ),
        }


@pytest.mark.parametrize(
    ("accept_language", "language"), [("en", "en"), ("zh-Hans", "zh-hans"), ("zh-CN", "zh-hans")]
)
def test_form_post_without_csrf_cookie_or_token_gets_a_readable_403_page_in_the_visitors_language(
    site, alice, accept_language, language
):
    response = httpx.post(
        f"{site.url}{LOGIN_URL}",
        data={"username": "alice", "password": STRONG_PASSWORD},
        headers={"Accept-Language": accept_language},
        timeout=10,
    )

    texts = csrf_texts(language)
    assert response.status_code == 403
    assert f'<html lang="{language}">' in response.text
    assert texts["title"] in response.text
    assert texts["main"] in response.text
    assert texts["next"] in response.text
    # The site's own page: its navigation, not Django's bare one.
    assert 'class="site-nav"' in response.text
    assert "Traceback" not in response.text
    assert f"Forbidden ({REASON_NO_CSRF_COOKIE})" in site.log()


def test_after_a_csrf_403_reloading_the_form_and_sending_it_again_logs_in(site, alice):
    with httpx.Client(base_url=site.url, timeout=10) as browser:
        browser.get(LOGIN_URL)  # has the cookie now, but the form is sent without the token
        refused = browser.post(LOGIN_URL, data={"username": "alice", "password": STRONG_PASSWORD})
        token = form_token(browser)
        accepted = browser.post(
            LOGIN_URL,
            data={"csrfmiddlewaretoken": token, "username": "alice", "password": STRONG_PASSWORD},
        )

    assert refused.status_code == 403
    assert csrf_texts("en")["main"] in refused.text
    assert f"Forbidden ({REASON_CSRF_TOKEN_MISSING})" in site.log()
    assert accepted.status_code == 302
    assert accepted.headers["Location"] == "/"


# ------------------------------------------------------------------------------------------------
# Cookies and session keys
# ------------------------------------------------------------------------------------------------


def raw_request(server, path, headers=b"", timeout=10):
    """Send one HTTP/1.1 request as bytes; (status code or None when the connection closed
    without an answer, response bytes)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(
            b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Connection: close\r\n" + headers + b"\r\n"
        )
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
    match = re.match(rb"HTTP/1\.1 (\d{3}) ", received)
    return (int(match.group(1)) if match else None), received


MALFORMED_COOKIES = {
    "garbage session key": b"sessionid=garbage",
    "short session key": b"sessionid=a",
    "empty session key": b"sessionid=",
    "quotes never closed": b'sessionid="unterminated; csrftoken=;;;===',
    "latin-1 bytes": b"sessionid=\xff\xfe\xe9abc; csrftoken=\xe9",
    "control characters": b"sessionid=abc\x01\x7fdef",
    "path in the key": b"sessionid=../../etc/passwd%00; csrftoken=x",
    "two session cookies": b"sessionid=aaaaaaaaaaaaaaaa; sessionid=" + b"b" * 32,
    "8 KB session key": b"sessionid=" + b"c" * 8000,
    "only separators": b";;;;=;=;",
    "signed-cookie lookalike": b"sessionid=eyJhIjoxfQ:1tV2:abc; csrftoken=" + b"z" * 64,
}

# What each page answers to a visitor without a (valid) session.
PAGES = {"/": 200, LOGIN_URL: 200, "/session/": 200, "/accounts/profile/": 302, "/chat/": 302}


@pytest.mark.parametrize("cookie", sorted(MALFORMED_COOKIES))
def test_malformed_cookies_get_the_anonymous_visitors_pages(site, cookie):
    header = b"Cookie: " + MALFORMED_COOKIES[cookie] + b"\r\n"

    answers = {path: raw_request(site, path, header)[0] for path in PAGES}

    assert answers == PAGES
    assert "Traceback" not in site.log()


def test_unknown_session_key_is_replaced_not_adopted_and_login_works(site, alice, redis_client):
    chosen = secrets.token_hex(16)  # a well-formed key that the store never issued
    with httpx.Client(base_url=site.url, timeout=10) as browser:
        browser.cookies.set(settings.SESSION_COOKIE_NAME, chosen, domain="127.0.0.1")
        home = browser.get("/")
        profile = browser.get("/accounts/profile/")
        token = form_token(browser)
        login = browser.post(
            LOGIN_URL,
            data={"csrfmiddlewaretoken": token, "username": "alice", "password": STRONG_PASSWORD},
        )
        issued = browser.cookies.get(settings.SESSION_COOKIE_NAME)
        logged_in_profile = browser.get("/accounts/profile/")

    assert home.status_code == 200
    assert profile.status_code == 302
    assert login.status_code == 302
    assert issued and issued != chosen
    assert logged_in_profile.status_code == 200
    # Session fixation: nothing was ever stored under the key the visitor chose.
    assert not redis_client.exists(redis_session_key(chosen))
    assert redis_client.exists(redis_session_key(issued))
    assert cache.get(f"django.contrib.sessions.cache{chosen}") is None


def test_header_block_over_16_kb_closes_that_connection_and_the_server_keeps_serving(site):
    """Twisted (daphne's HTTP) refuses a request line plus headers over 16 KB by closing the
    connection without an answer (twisted.web.http.HTTPChannel.totalHeadersSize). Behind nginx
    the visitor gets nginx's 400 first (large_client_header_buffers, 8 KB a line)."""
    header = b"Cookie: sessionid=" + b"d" * 20_000 + b"\r\n"

    status, received = raw_request(site, "/", header)

    assert status in (None, 400, 431), received[:200]
    assert_still_serving(site)
    assert "Traceback" not in site.log()
