"""Registration, login, logout, the profile and the account pages (on Django's auth views)."""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView, TemplateView

from accounts import selectors, services, throttle
from accounts.forms import (
    AccountDeleteForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    ProfileForm,
    RegisterForm,
    SetPasswordForm,
)

if TYPE_CHECKING:
    from django.contrib.auth.forms import AuthenticationForm
    from django.contrib.auth.models import User
    from django.http import HttpRequest, HttpResponse
    from django.views.generic.edit import ProcessFormView

    class AuthenticatedHttpRequest(HttpRequest):
        """The request of a view behind LoginRequiredMixin: its user is logged in."""

        user: User

    # What ClientRateLimitMixin is mixed into: a form view, whose post() it wraps.
    _FormPostView = ProcessFormView
else:
    _FormPostView = object

logger = logging.getLogger(__name__)


class ClientRateLimitMixin(_FormPostView):
    """Refuse a POST with the 429 page once this client has used up ``client_limit``
    (:mod:`accounts.throttle`); every POST counts, whatever its outcome."""

    client_limit: throttle.ClientLimit  # set by each view

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        usage = throttle.client_limit_usage(request, self.client_limit, increment=True)
        if usage is not None and usage["count"] > usage["limit"]:
            return throttled_response(request, "client", usage["time_left"])
        return super().post(request, *args, **kwargs)


def throttled_response(request: HttpRequest, reason: str, seconds_left: float) -> TemplateResponse:
    """The 429 page: why, when to try again, and the way out (a password reset).

    Neither the username nor the password is logged: people type passwords into the username
    field often enough."""
    seconds_left = max(1, int(seconds_left))
    logger.warning(
        "Refused %s: too many attempts (%s, address %s)",
        request.path,
        reason,
        throttle.client_address(request) or "unknown",
    )
    response = TemplateResponse(
        request,
        "accounts/login_throttled.html",
        {"reason": reason, "retry_after_minutes": max(1, math.ceil(seconds_left / 60))},
        status=429,
    )
    response["Retry-After"] = str(seconds_left)
    return response


def login_locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: django-axes' lockout of an (account, client), for the site's
    login and the admin's alike."""
    return throttled_response(
        request, "account", throttle.lockout_seconds_left(request, credentials)
    ).render()


@method_decorator(
    [sensitive_post_parameters("password", "repassword"), csrf_protect, never_cache],
    name="dispatch",
)
class RegisterView(ClientRateLimitMixin, FormView):
    """Create the user and its profile, log the user in, and go to the home page."""

    form_class = RegisterForm
    template_name = "accounts/register.html"
    client_limit = throttle.REGISTRATIONS
    success_url = reverse_lazy("home")

    def form_valid(self, form: RegisterForm) -> HttpResponse:
        try:
            user = services.register_user(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                gender=form.cleaned_data["gender"],
                hobbies=form.cleaned_data["hobby"],
            )
        except IntegrityError:
            # Someone registered the same username or address between validation and insert.
            if selectors.username_taken(form.cleaned_data["username"]):
                field, code = "username", "duplicate_username"
            elif selectors.email_taken(form.cleaned_data["email"]):
                field, code = "email", "duplicate_email"
            else:
                raise
            form.add_error(field, ValidationError(form.error_messages[code], code=code))
            return self.form_invalid(form)
        # Named: with axes' backend first, login() cannot guess which backend vouches for it.
        auth_login(self.request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            self.request,
            _("Welcome, %(username)s! Your account has been created.")
            % {"username": user.get_username()},
        )
        return super().form_valid(form)


class LoginView(auth_views.LoginView):
    """Django's LoginView with the seed's form and a ``remember`` choice.

    The parent already rotates the session key at login, honours ``?next=`` only for this host,
    and applies ``sensitive_post_parameters``, ``csrf_protect`` and ``never_cache``. Failed
    logins are counted by django-axes per (account, client), through the authentication
    backend, here as on /admin/login/, and per client here (django-ratelimit).
    """

    form_class = LoginForm
    template_name = "accounts/login.html"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        seconds_left = throttle.client_limit_reached(request, throttle.FAILED_LOGINS)
        if seconds_left is not None:
            return throttled_response(request, "client", seconds_left)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        # Expiry 0 makes the cookie last until the browser closes; None restores
        # SESSION_COOKIE_AGE, which a previous login in this session may have changed.
        self.request.session.set_expiry(None if form.cleaned_data["remember"] else 0)
        return response

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        if form.has_error(NON_FIELD_ERRORS, code="invalid_login"):
            throttle.client_limit_usage(self.request, throttle.FAILED_LOGINS, increment=True)
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    """Django's logout: POST logs out (``logout()`` flushes the session, deleting it from the
    store); GET shows a "Log out?" page whose button posts here."""

    http_method_names = ["get", "post", "options"]
    confirm_template_name = "accounts/logout.html"

    @method_decorator(never_cache)
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> TemplateResponse:
        return TemplateResponse(request, self.confirm_template_name, {})

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, _("You have been logged out."))
        return response


class ProfileView(LoginRequiredMixin, TemplateView):
    """The logged-in user's username, e-mail address, gender and hobbies, and the links to the
    account pages."""

    template_name = "accounts/profile.html"
    request: AuthenticatedHttpRequest

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        profile = selectors.profile_for_user(self.request.user)
        return super().get_context_data(profile=profile, **kwargs)


@method_decorator(never_cache, name="dispatch")
class ProfileEditView(LoginRequiredMixin, FormView):
    """Change the e-mail address, gender and hobbies; an account without a profile (made by
    ``createsuperuser``) gets one on saving."""

    form_class = ProfileForm
    template_name = "accounts/profile_edit.html"
    success_url = reverse_lazy("accounts:profile")
    request: AuthenticatedHttpRequest

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self) -> dict[str, Any]:
        initial: dict[str, Any] = {"email": self.request.user.email}
        profile = selectors.profile_for_user(self.request.user)
        if profile is not None:
            initial.update(
                gender=profile.gender, hobby=[hobby.pk for hobby in profile.hobbies.all()]
            )
        return initial

    def form_valid(self, form: ProfileForm) -> HttpResponse:
        try:
            services.update_profile(
                self.request.user,
                email=form.cleaned_data["email"],
                gender=form.cleaned_data["gender"],
                hobbies=form.cleaned_data["hobby"],
            )
        except IntegrityError:
            # Another account took the address between validation and the write.
            form.add_error(
                "email",
                ValidationError(form.error_messages["duplicate_email"], code="duplicate_email"),
            )
            return self.form_invalid(form)
        messages.success(self.request, _("Your profile has been saved."))
        return super().form_valid(form)


@method_decorator(
    [sensitive_post_parameters("password"), csrf_protect, never_cache], name="dispatch"
)
class AccountDeleteView(LoginRequiredMixin, FormView):
    """Delete the account after its password is confirmed, then end the session. The user's
    chat messages stay, under "deleted user"."""

    form_class = AccountDeleteForm
    template_name = "accounts/delete.html"
    success_url = reverse_lazy("home")
    request: AuthenticatedHttpRequest

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form: AccountDeleteForm) -> HttpResponse:
        user = self.request.user
        # Logged out first: logout() sends user_logged_out with the user still in the database.
        auth_logout(self.request)
        services.delete_account(user)
        messages.info(self.request, _("Your account has been deleted."))
        return redirect(self.get_success_url())


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change (login required, session kept through the new hash)."""

    form_class = PasswordChangeForm
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


class PasswordResetView(ClientRateLimitMixin, auth_views.PasswordResetView):
    """Mail a one-use reset link to the account with this address (same answer either way)."""

    form_class = PasswordResetForm
    template_name = "accounts/password_reset.html"
    client_limit = throttle.PASSWORD_RESET_REQUESTS
    email_template_name = "accounts/email/password_reset_email.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Set a new password from the mailed link; the account's login lockout ends with it."""

    form_class = SetPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:
        response = super().form_valid(form)
        throttle.clear_lockout(form.user, self.request)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
