"""Middleware that turns an unreachable backing service into a readable 503 page, refuses
oversize request bodies with 413, and serves the admin on its own host."""

import logging
import os
import socket
from collections.abc import Callable

from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.http.request import split_domain_port

from core.errors import (
    bad_request_response,
    request_too_large_response,
    service_unavailable_response,
    unavailable_service,
)

logger = logging.getLogger(__name__)

# The next middleware, or the view (these are synchronous middleware).
_GetResponse = Callable[[HttpRequest], HttpResponseBase]


class ServiceUnavailableMiddleware:
    """Answer 503 with a plain page when the session store, cache or database is down.

    Exceptions raised while the view runs or its template renders (which is where a lazy session
    or user is loaded) reach ``process_exception``; anything later falls to ``handler500``, which
    makes the same distinction.
    """

    def __init__(self, get_response: _GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        service = unavailable_service(exception)
        if service is None:
            return None
        logger.warning(
            "%s unavailable while serving %s: %s", service, request.path, type(exception).__name__
        )
        return service_unavailable_response(service)


class RequestBodyLimitMiddleware:
    """Answer 413 to a request whose declared body is over ``DATA_UPLOAD_MAX_MEMORY_SIZE``.

    Django refuses such a body too, but late and noisily: the first read of ``request.POST`` (the
    CSRF check) raises ``RequestDataTooBig``, which becomes a 400 and an ERROR log entry with a
    traceback. The declared ``Content-Length`` is enough to decide before anything parses the
    body or loads the session, with one warning line in the log. A body sent without a length
    (chunked) still meets Django's own check, which ``core.errors.bad_request`` answers with
    the same 413. ``multipart/form-data`` is left to Django, whose limit leaves out uploaded files.
    """

    def __init__(self, get_response: _GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and request.content_type != "multipart/form-data":
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return bad_request_response()
            if length > limit:
                logger.warning(
                    "request body of %d bytes refused with 413 (DATA_UPLOAD_MAX_MEMORY_SIZE=%d): "
                    "%s %s",
                    length,
                    limit,
                    request.method,
                    request.path,
                )
                return request_too_large_response()
        return self.get_response(request)


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's session middleware, answering 503 when the session cannot be saved.

    Saving happens after the view, outside ``process_exception``'s reach: without this, a store
    that went away mid-request (or one that was never reachable, for a new visitor whose empty
    session was never loaded) would turn into a 500 page.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        try:
            return super().process_response(request, response)
        except Exception as exc:
            service = unavailable_service(exc)
            if service is None:
                raise
            logger.warning(
                "session store unavailable while saving the session for %s: %s",
                request.path,
                type(exc).__name__,
            )
            return service_unavailable_response("session store")


class AdminHostMiddleware:
    """Serve the admin on its own host name when ``ADMIN_HOST`` is set.

    Flask routes by subdomain with ``@app.route("/", subdomain="admin")``; Django's counterpart is
    a per-request urlconf. Requests for ``ADMIN_HOST`` get ``project/urls_admin.py``; all other
    hosts get the main urlconf, which then has no admin.
    """

    def __init__(self, get_response: _GetResponse) -> None:
        self.get_response = get_response
        self.admin_host = settings.ADMIN_HOST

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if self.admin_host:
            host, _port = split_domain_port(request.get_host())
            if host == self.admin_host:
                # A documented hook of Django's URL resolver, which django-stubs leaves out.
                request.urlconf = "project.urls_admin"  # type: ignore[attr-defined]
        return self.get_response(request)


def served_by() -> str:
    """``<host name>:<pid>``: which server process this is, for the ``X-Served-By`` header."""
    return f"{socket.gethostname()}:{os.getpid()}"


class ServedByMiddleware:
    """Name the process that served each response in an ``X-Served-By`` header.

    Behind a load balancer it tells which of the daphne processes answered (the deployment test
    relies on it; server/daphne.py puts the same header on WebSocket handshakes). Installed only
    when ``SERVED_BY_HEADER`` is on: it tells every client host names and process ids.
    """

    header = "X-Served-By"

    def __init__(self, get_response: _GetResponse) -> None:
        self.get_response = get_response
        self.value = served_by()

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response[self.header] = self.value
        return response
