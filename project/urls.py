"""The project's URLs. Every route is named; templates use {% url %} and code uses reverse()."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

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
    path("i18n/", include("django.conf.urls.i18n")),
    # Flask's redirect_to: old addresses answer 301 to the home page.
    path("index/", RedirectView.as_view(pattern_name="home", permanent=True), name="old-index"),
    path("home/", RedirectView.as_view(pattern_name="home", permanent=True), name="old-home"),
]

# Flask's subdomain="admin": with ADMIN_HOST set the admin lives on that host only
# (project/urls_admin.py, chosen per request by AdminHostMiddleware).
if not settings.ADMIN_HOST:
    urlpatterns.append(path("admin/", admin.site.urls))
