"""Registration, login, logout, the profile and the visitor's session page."""

import logging
import math

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError
from django.template.response import TemplateResponse
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView, TemplateView

from accounts import selectors, services, throttle
from accounts.forms import LoginForm, RegisterForm

logger = logging.getLogger(__name__)


@method_decorator(
    [sensitive_post_parameters("password", "repassword"), csrf_protect, never_cache],
    name="dispatch",
)
class RegisterView(FormView):
    """Create the user and its profile, log the user in, and go to the home page."""

    form_class = RegisterForm
    template_name = "accounts/register.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        try:
            user = services.register_user(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                gender=form.cleaned_data["gender"],
                hobbies=form.cleaned_data["hobby"],
            )
        except IntegrityError:
            # Someone registered the same username between validation and insert.
            form.add_error(
                "username",
                ValidationError(
                    form.error_messages["duplicate_username"], code="duplicate_username"
                ),
            )
            return self.form_invalid(form)
        auth_login(self.request, user)
        messages.success(
            self.request,
            _("Welcome, %(username)s! Your account has been created.")
            % {"username": user.get_username()},
        )
        return super().form_valid(form)


class LoginView(auth_views.LoginView):
    """Django's LoginView with the seed's form, a ``remember`` choice and failure throttling.

    The parent already rotates the session key at login, honours ``?next=`` only for this host,
    and applies ``sensitive_post_parameters``, ``csrf_protect`` and ``never_cache``.
    """

    form_class = LoginForm
    template_name = "accounts/login.html"
    throttled_template_name = "accounts/login_throttled.html"

    def post(self, request, *args, **kwargs):
        lockout = throttle.login_lockout(
            username=self.attempted_username(), address=self.client_address()
        )
        if lockout is not None:
            return self.throttled_response(lockout)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        # Expiry 0 makes the cookie last until the browser closes; None restores
        # SESSION_COOKIE_AGE, which a previous login in this session may have changed.
        self.request.session.set_expiry(None if form.cleaned_data["remember"] else 0)
        throttle.clear_failed_logins(username=form.cleaned_data["username"])
        return response

    def form_invalid(self, form):
        if form.has_error(NON_FIELD_ERRORS, code="invalid_login"):
            throttle.record_failed_login(
                username=self.attempted_username(), address=self.client_address()
            )
        return super().form_invalid(form)

    def attempted_username(self):
        return self.request.POST.get("username", "")

    def client_address(self):
        # daphne puts the peer here, or the X-Forwarded-For client with --proxy-headers.
        return self.request.META.get("REMOTE_ADDR", "")

    def throttled_response(self, lockout):
        # Neither the username nor the password is logged: people type passwords into the
        # username field often enough.
        logger.warning(
            "Login refused: too many failures for this %s (address %s)",
            lockout.reason,
            self.client_address() or "unknown",
        )
        response = TemplateResponse(
            self.request,
            self.throttled_template_name,
            {
                "lockout": lockout,
                "retry_after_minutes": max(1, math.ceil(lockout.retry_after_seconds / 60)),
            },
            status=429,
        )
        response["Retry-After"] = str(lockout.retry_after_seconds)
        return response


class LogoutView(auth_views.LogoutView):
    """Django's POST-only logout: ``logout()`` flushes the session, deleting it from the store."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, _("You have been logged out."))
        return response


class ProfileView(LoginRequiredMixin, TemplateView):
    """The logged-in user's username, gender and hobbies."""

    template_name = "accounts/profile.html"

    def get_context_data(self, **kwargs):
        profile = selectors.profile_for_user(self.request.user)
        return super().get_context_data(profile=profile, **kwargs)
