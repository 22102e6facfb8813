"""The Permissions-Policy header, and both policy headers for responses no middleware sees.

Both back up the escaping of the pages: were markup ever to slip through, the browser still runs
no inline script, applies no inline style, loads nothing from another origin, lets no other site
frame the page and grants no powerful feature (camera, microphone, location...). The policies
are settings (``CONTENT_SECURITY_POLICY``, django-csp's 4.x format, which django-csp's
``CSPMiddleware`` applies, and ``PERMISSIONS_POLICY``, which ``PermissionsPolicyMiddleware`` here
applies); docs/security.md explains each directive.

Responses made outside the middleware chain (the request pool's 503 page when every request
thread is busy) get the same headers through :func:`add_policy_headers`.
"""

from collections.abc import Callable, Collection, Mapping

from csp.constants import HEADER as CSP_HEADER
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase

PERMISSIONS_POLICY_HEADER = "Permissions-Policy"


def permissions_policy_header(policy: Mapping[str, Collection[str]]) -> str:
    """The header value of ``{feature: [allowed origins]}``: ``[]`` denies the feature
    everywhere (``camera=()``), ``["self"]`` allows this origin only (``fullscreen=(self)``),
    ``["*"]`` every origin."""
    return ", ".join(f"{feature}={_allowlist(origins)}" for feature, origins in policy.items())


def _allowlist(origins: Collection[str]) -> str:
    if "*" in origins:
        return "*"
    return "(" + " ".join(origin if origin == "self" else f'"{origin}"' for origin in origins) + ")"


class PermissionsPolicyMiddleware:
    """Add ``Permissions-Policy`` (from ``PERMISSIONS_POLICY``) to every response that has none.

    The header is the same for every response, so it is built once.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.value = permissions_policy_header(settings.PERMISSIONS_POLICY)

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if self.value and PERMISSIONS_POLICY_HEADER not in response:
            response[PERMISSIONS_POLICY_HEADER] = self.value
        return response


def add_policy_headers(response: HttpResponse) -> HttpResponse:
    """Put both policies on ``response``, for one that no middleware will see."""
    csp = build_policy()
    if csp and CSP_HEADER not in response:
        response[CSP_HEADER] = csp
    permissions = permissions_policy_header(settings.PERMISSIONS_POLICY)
    if permissions and PERMISSIONS_POLICY_HEADER not in response:
        response[PERMISSIONS_POLICY_HEADER] = permissions
    return response
