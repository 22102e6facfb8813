"""URLs served on ``ADMIN_HOST`` (the counterpart of Flask's ``subdomain="admin"``).

``AdminHostMiddleware`` selects this urlconf for requests to that host; the main urlconf then
leaves the admin out.
"""

from django.contrib import admin
from django.urls import include, path

from core.views import favicon, healthz

handler500 = "core.errors.server_error"

urlpatterns = [
    # Before the admin, whose catch-all would answer /favicon.ico with a login redirect.
    path("favicon.ico", favicon, name="favicon"),
    path("", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
]
