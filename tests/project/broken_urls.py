"""A deliberately broken urlconf: two different views under one name (tests only)."""

from django.urls import path
from django.views.generic import RedirectView, TemplateView

urlpatterns = [
    path("one/", TemplateView.as_view(template_name="home.html"), name="clash"),
    path("two/", RedirectView.as_view(url="/"), name="clash"),
    # The same view under one name twice is fine (two addresses for one endpoint).
    path("same/", TemplateView.as_view(template_name="home.html"), name="same"),
    path("same-too/", TemplateView.as_view(template_name="home.html"), name="same"),
]
