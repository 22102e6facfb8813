"""The WebSocket origin check: the handshake's ``Origin`` must be the site's own full origin.

Channels' ``AllowedHostsOriginValidator`` compares host names only, so a page served on another
port of the same host (``http://127.0.0.1:9999``, any local development server) could open the
chat in a visitor's name. Here the Origin must match the site's own origin - scheme, host and
port - exactly as Django's CSRF check compares a form's Origin (``CsrfViewMiddleware``):
``<scheme>://<host>`` from the handshake's ``Host`` (``X-Forwarded-Host`` only with
``USE_X_FORWARDED_HOST``, and only a host of ``ALLOWED_HOSTS``), or an entry of
``CSRF_TRUSTED_ORIGINS`` (``https://*.example.com`` covering subdomains). A missing, ``null`` or
unreadable Origin is refused.

The scheme comes from the ASGI scope's ``scheme`` (``wss`` is HTTPS): uvicorn and granian set it,
from ``X-Forwarded-Proto`` when they trust the proxy; server/daphne.py adds it to daphne's scope
the same way (``--proxy-headers``). ``SECURE_PROXY_SSL_HEADER``, when set, decides as it does for
``request.is_secure()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.utils.http import is_same_domain

if TYPE_CHECKING:
    from server.asgi_types import Application, Receive, Scope, Send


class _HandshakeRequest(HttpRequest):
    """Just enough of a request for Django's own ``get_host()`` and ``scheme`` on a handshake."""

    def __init__(self, scope: Scope) -> None:
        super().__init__()
        self.scope_scheme = scope.get("scheme", "ws")
        for name, value in scope.get("headers", ()):
            key = "HTTP_" + name.decode("latin1").upper().replace("-", "_")
            # Of repeated headers the first counts, as for Host in any HTTP server.
            self.META.setdefault(key, value.decode("latin1"))
        server = scope.get("server") or ("", "")
        self.META["SERVER_NAME"] = str(server[0])
        self.META["SERVER_PORT"] = str(server[1] or "")

    def _get_scheme(self) -> str:
        return "https" if self.scope_scheme in ("wss", "https") else "http"


def site_origin(scope: Scope) -> str | None:
    """``<scheme>://<host>`` of the site a handshake was sent to, or None when its host is not
    one of ``ALLOWED_HOSTS`` (or absent)."""
    request = _HandshakeRequest(scope)
    try:
        host = request.get_host()
    except DisallowedHost:
        return None
    return f"{request.scheme}://{host}"


def handshake_origin(scope: Scope) -> str | None:
    """The handshake's Origin header as sent, or None without one."""
    for name, value in scope.get("headers", ()):
        if name == b"origin":
            return value.decode("latin1")
    return None


def origin_allowed(scope: Scope) -> bool:
    """Whether the handshake's Origin is the site's own origin or a trusted one."""
    origin = handshake_origin(scope)
    if not origin or origin == "null":
        return False
    if origin == site_origin(scope):
        return True
    trusted = settings.CSRF_TRUSTED_ORIGINS
    if origin in trusted:
        return True
    try:
        parsed = urlsplit(origin)
    except ValueError:
        return False
    return any(
        is_same_domain(parsed.netloc, urlsplit(entry).netloc.lstrip("*"))
        for entry in trusted
        if "*" in entry and urlsplit(entry).scheme == parsed.scheme
    )


class FullOriginValidator:
    """ASGI middleware: WebSocket handshakes from any other origin are refused (HTTP 403)."""

    def __init__(self, application: Application) -> None:
        self.application = application

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            raise ValueError("FullOriginValidator is for WebSocket connections only")
        if origin_allowed(scope):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)
