"""The project's URLs. Every route is named; templates use {% url %} and code uses reverse()."""

from django.contrib import admin
from django.urls import include, path

from accounts.views import SessionView
from project.views import HomeView, StatsView, healthz

handler500 = "project.errors.server_error"

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("healthz", healthz, name="healthz"),
    path("stats/", StatsView.as_view(), name="stats"),
    path("accounts/", include("accounts.urls")),
    path("session/", SessionView.as_view(), name="session"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
