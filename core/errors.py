"""Error pages that must render while the database, cache or session store is down, or before
the request was understood.

They are rendered without the request (no context processors), so that rendering them cannot
touch the session or the user, which may be exactly what is unavailable.
"""

import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseServerError
from django.template.loader import render_to_string
from redis.exceptions import RedisError

from core.security_headers import add_policy_headers
from core.session_backends.cache import SessionStoreUnavailable

RETRY_AFTER_SECONDS = 5


def unavailable_service(exc: BaseException | None) -> str | None:
    """Name the backing service behind ``exc`` ("session store", "cache", "database"), or None.

    These are failures of a service the page depends on, not bugs: the right answer is 503.
    """
    if isinstance(exc, SessionStoreUnavailable):
        return "session store"
    if isinstance(exc, RedisError):
        return "cache"
    if isinstance(exc, (OperationalError, InterfaceError)):
        return "database"
    return None


def service_unavailable_response(service: str) -> HttpResponse:
    """A 503 page naming the unavailable ``service``, with a ``Retry-After`` header."""
    body = render_to_string("503.html", {"service": service})
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # The request pool answers with this page outside the middleware chain (server/handlers.py).
    return add_policy_headers(response)


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    """``handler500``: a 503 page when the cause was an unavailable service, else a 500 page."""
    service = unavailable_service(sys.exc_info()[1])
    if service is not None:
        return service_unavailable_response(service)
    return HttpResponseServerError(render_to_string(template_name))


def request_too_large_response() -> HttpResponse:
    """A 413 page: the request's body is over ``DATA_UPLOAD_MAX_MEMORY_SIZE``."""
    body = render_to_string("413.html", {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    return HttpResponse(body, status=413)


def bad_request_response(template_name: str = "400.html") -> HttpResponse:
    return HttpResponseBadRequest(render_to_string(template_name))


def bad_request(
    request: HttpRequest, exception: Exception, template_name: str = "400.html"
) -> HttpResponse:
    """``handler400``: 413 when Django found the body too large, else a plain 400 page."""
    if isinstance(exception, RequestDataTooBig):
        return request_too_large_response()
    return bad_request_response(template_name)
