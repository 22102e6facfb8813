"""The project's URLs. Every route is named; templates use {% url %} and code uses reverse()."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import RedirectView
from django.views.i18n import set_language

from chat.views import EchoView
from core.views import HomeView, SessionView, StatsView, favicon, healthz

handler400 = "core.errors.bad_request"
handler500 = "core.errors.server_error"
# 403 and 404 use Django's own views, which render templates/jinja2/403.html and 404.html.

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("favicon.ico", favicon, name="favicon"),
    # Like Flask's strict_slashes=False: /healthz and /healthz/ both answer, without a redirect.
    re_path(r"^healthz/?$", healthz, name="healthz"),
    path("stats/", StatsView.as_view(), name="stats"),
    path("accounts/", include("accounts.urls")),
    path("session/", SessionView.as_view(), name="session"),
    path("chat/", include("chat.urls")),
    path("echo/", EchoView.as_view(), name="echo"),
    # Django's set_language, exempt from CSRF on purpose: the language switcher is on every page,
    # and its token forced the CSRF machinery (a token, the cookie) onto every response. Choosing
    # the interface language changes only the language cookie, and the view still takes POST
    # only and redirects only to a safe next (this host); a forged switch changes what the
    # victim reads in, nothing they own (docs/accounts.md, "CSRF").
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
    # Flask's redirect_to: old addresses answer 301 to the home page.
    path("index/", RedirectView.as_view(pattern_name="home", permanent=True), name="old-index"),
    path("home/", RedirectView.as_view(pattern_name="home", permanent=True), name="old-home"),
]

# Flask's subdomain="admin": with ADMIN_HOST set the admin lives on that host only
# (project/urls_admin.py, chosen per request by AdminHostMiddleware).
if not settings.ADMIN_HOST:
    urlpatterns.append(path("admin/", admin.site.urls))
