"""Registration, login, logout, the profile and the visitor's session page."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView


class RegisterView(TemplateView):
    """Placeholder until the registration form lands."""

    template_name = "accounts/register.html"


class LoginView(auth_views.LoginView):
    """Django's login view; the seed's form and throttling follow."""

    template_name = "accounts/login.html"


class LogoutView(auth_views.LogoutView):
    """POST-only logout (Django's own)."""


class ProfileView(LoginRequiredMixin, TemplateView):
    """The logged-in user's profile."""

    template_name = "accounts/profile.html"


class SessionView(TemplateView):
    """The visitor's own session as stored server-side."""

    template_name = "accounts/session.html"
