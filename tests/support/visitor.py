"""A visitor of a live server over plain HTTP: forms with their CSRF token, login, WebSockets."""

import re

import httpx
from django.conf import settings
from websockets.sync.client import connect

CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Visitor:
    """An httpx client with a cookie jar, speaking to one server as a browser would."""

    def __init__(self, server, timeout=10):
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=timeout)

    def close(self):
        self.http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def get(self, path, **kwargs):
        return self.http.get(path, **kwargs)

    def form_token(self, path):
        """GET the form page at ``path``; return its CSRF token."""
        page = self.http.get(path)
        match = CSRF_TOKEN.search(page.text)
        assert match, f"{path} answered {page.status_code} without a CSRF token"
        return match.group(1)

    def post_form(self, path, data):
        token = self.form_token(path)
        return self.http.post(path, data={"csrfmiddlewaretoken": token, **data})

    def login(self, username, password):
        response = self.post_form("/accounts/login/", {"username": username, "password": password})
        assert response.status_code == 302, f"login answered {response.status_code}"
        return response

    @property
    def session_cookie(self):
        return self.http.cookies.get(settings.SESSION_COOKIE_NAME)

    def websocket(self, path, **kwargs):
        """Open a WebSocket at ``path`` with this visitor's session cookie and the site's Origin."""
        headers = {}
        if self.session_cookie:
            headers["Cookie"] = f"{settings.SESSION_COOKIE_NAME}={self.session_cookie}"
        return connect(
            f"{self.server.ws_url}{path}",
            origin=self.server.url,
            additional_headers=headers,
            open_timeout=10,
            **kwargs,
        )
