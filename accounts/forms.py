"""The seed's WTForms ``LoginForm`` and ``RegForm`` as Django forms, on ``django.contrib.auth``'s
own forms, and the forms of the account pages (profile, password change and reset, deletion).

Each rule raises its own error code, so code and tests look at codes and people read messages
(English, or Simplified Chinese worded after the seed). One rule of the seed is deliberately not
reproduced: it validated the password as an e-mail address (its author did not know why); here
the password goes through ``AUTH_PASSWORD_VALIDATORS`` instead, and its length bounds come from
them (:func:`accounts.password_validation.password_length_limits`), so that the inputs'
``minlength`` and ``maxlength`` are exactly the server's rules. Every field states its rule in
its help text before anyone fails it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinLengthValidator
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from accounts import selectors
from accounts.models import Hobby, Profile
from accounts.password_validation import password_help_text, password_length_limits

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.db.models import QuerySet
    from django_stubs_ext import StrOrPromise

    # What the mixins below are mixed into: mypy sees the form's attributes (fields,
    # cleaned_data) on them; at run time they stay plain mixins.
    _FormBase = forms.BaseForm
else:
    _FormBase = object

# The seed's registration rule for usernames. Login accepts whatever the user model accepts
# (at most 150 characters), so that accounts made in the admin or by createsuperuser log in.
USERNAME_MIN_LENGTH = 3
USERNAME_MAX_LENGTH = 8
EMAIL_MAX_LENGTH = 254
HOBBIES_MIN = 2
HOBBIES_MAX = 4
DEFAULT_HOBBY_IDS = [1, 3, 5]

USERNAME_ERROR_MESSAGES = {
    "required": _("Username must not be empty."),
    "min_length": _("Username length is out of range: at least %(limit_value)d characters."),
    "max_length": _("Username length is out of range: at most %(limit_value)d characters."),
    "invalid": _("Username may contain only letters, digits and the characters @ . + - _"),
}
PASSWORD_ERROR_MESSAGES = {
    "required": _("Password must not be empty."),
    "min_length": _("Password length is out of range: at least %(limit_value)d characters."),
    "max_length": _("Password length is out of range: at most %(limit_value)d characters."),
}
EMAIL_ERROR_MESSAGES = {
    "required": _("E-mail address must not be empty."),
    "invalid": _("Enter a valid e-mail address, such as name@example.com."),
    "max_length": _("E-mail address is too long: at most %(limit_value)d characters."),
}
HOBBY_ERROR_MESSAGES = {
    "required": _("Please choose your hobbies."),
    "invalid_choice": _("Choose only hobbies from the list."),
    "invalid_pk_value": _("Choose only hobbies from the list."),
    "invalid_list": _("Choose only hobbies from the list."),
}
GENDER_ERROR_MESSAGES = {
    "required": _("Please choose a gender."),
    "invalid_choice": _("Choose one of the genders offered."),
}

lazy_password_help_text = lazy(password_help_text, str)


def username_help_text() -> str:
    return _(
        "%(min)d to %(max)d characters: letters, digits and the characters @ . + - _ only."
    ) % {"min": USERNAME_MIN_LENGTH, "max": USERNAME_MAX_LENGTH}


def new_password_field(**kwargs: Any) -> forms.CharField:
    """A new password: the validators' length bounds on the field (and so on the input), the
    validators' help texts, never rendered back (``PasswordInput``)."""
    kwargs.setdefault("label", _("Password"))
    kwargs.setdefault("error_messages", PASSWORD_ERROR_MESSAGES)
    kwargs.setdefault("widget", forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    return forms.CharField(strip=False, help_text=lazy_password_help_text(), **kwargs)


def confirm_password_field(**kwargs: Any) -> forms.CharField:
    kwargs.setdefault("label", _("Confirm password"))
    return forms.CharField(
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("The same password again, to catch a typing mistake."),
        error_messages={"required": _("Please enter the password again.")},
        **kwargs,
    )


def current_password_field(**kwargs: Any) -> forms.CharField:
    kwargs.setdefault("label", _("Password"))
    kwargs.setdefault("widget", forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    return forms.CharField(
        strip=False,
        error_messages={"required": _("Password must not be empty.")},
        **kwargs,
    )


def apply_password_length_limits(form: forms.BaseForm, *names: str) -> None:
    """Put the validators' bounds on the named fields when the form is built (tests and
    deployments may change ``AUTH_PASSWORD_VALIDATORS``): the field refuses with the seed's
    length messages, and the input carries the same ``minlength`` and ``maxlength``."""
    minimum, maximum = password_length_limits()
    for name in names:
        # The password fields are CharFields (the functions above).
        field = cast("forms.CharField", form.fields[name])
        field.min_length, field.max_length = minimum, maximum
        field.validators = [
            validator
            for validator in field.validators
            if not isinstance(validator, (MinLengthValidator, MaxLengthValidator))
        ]
        if minimum is not None:
            field.validators.append(MinLengthValidator(minimum))
        if maximum is not None:
            field.validators.append(MaxLengthValidator(maximum))
        for attr in ("minlength", "maxlength"):
            field.widget.attrs.pop(attr, None)
        field.widget.attrs.update(field.widget_attrs(field.widget))


def email_field(**kwargs: Any) -> forms.EmailField:
    return forms.EmailField(
        label=_("E-mail address"),
        max_length=EMAIL_MAX_LENGTH,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages=EMAIL_ERROR_MESSAGES,
        **kwargs,
    )


def gender_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Gender"),
        choices=Profile.Gender.choices,
        initial=Profile.Gender.FEMALE,
        widget=forms.RadioSelect,
        error_messages=GENDER_ERROR_MESSAGES,
    )


class HobbyChoiceField(forms.ModelMultipleChoiceField):
    """Hobbies as checkboxes whose values are the hobbies' integer ids."""

    widget = forms.CheckboxSelectMultiple


def hobby_field() -> HobbyChoiceField:
    return HobbyChoiceField(
        label=_("Hobbies"),
        queryset=Hobby.objects.all(),
        initial=DEFAULT_HOBBY_IDS,
        help_text=lazy(
            lambda: _("Choose %(min)d to %(max)d.") % {"min": HOBBIES_MIN, "max": HOBBIES_MAX},
            str,
        )(),
        error_messages=HOBBY_ERROR_MESSAGES,
    )


class ProfileFieldsMixin(_FormBase):
    """The e-mail address (unique ignoring case), gender and 2 to 4 hobbies, shared by
    registration and the profile page. ``user_pk`` is the account being edited, if any."""

    user_pk: int | None = None
    error_messages: dict[str, StrOrPromise] = {
        "duplicate_email": _("This e-mail address is already used by another account."),
        "too_few_hobbies": _("Hobbies out of range: choose at least %(limit)d."),
        "too_many_hobbies": _("Hobbies out of range: choose at most %(limit)d."),
    }

    def clean_email(self) -> str:
        email = get_user_model().objects.normalize_email(self.cleaned_data["email"])
        if selectors.email_taken(email, except_user_pk=self.user_pk):
            raise ValidationError(self.error_messages["duplicate_email"], code="duplicate_email")
        return email

    def clean_hobby(self) -> QuerySet[Hobby]:
        hobbies = self.cleaned_data["hobby"]
        if len(hobbies) < HOBBIES_MIN:
            raise ValidationError(
                self.error_messages["too_few_hobbies"],
                code="too_few_hobbies",
                params={"limit": HOBBIES_MIN},
            )
        if len(hobbies) > HOBBIES_MAX:
            raise ValidationError(
                self.error_messages["too_many_hobbies"],
                code="too_many_hobbies",
                params={"limit": HOBBIES_MAX},
            )
        return hobbies


class LoginForm(auth_forms.AuthenticationForm):
    """Django's authentication form with the seed's widget classes. It checks only what the user
    model allows (required, at most 150 characters): the seed's 3-8 rule is a registration
    rule, and applying it here locked out accounts made by ``createsuperuser``."""

    # AuthenticationForm sets only the input's maxlength: the server checks it here too.
    username = auth_forms.UsernameField(
        label=_("Username"),
        max_length=get_user_model()._meta.get_field("username").max_length,
        error_messages=USERNAME_ERROR_MESSAGES,
        widget=forms.TextInput(attrs={"class": "my_login", "autofocus": True}),
    )
    password = current_password_field(
        widget=forms.PasswordInput(
            attrs={"class": "my_password", "autocomplete": "current-password"}
        ),
    )
    remember = forms.BooleanField(label=_("Remember me"), label_suffix="", required=False)

    error_messages = {
        # One message for an unknown username and a wrong password alike: which of the two was
        # wrong is exactly what someone guessing accounts wants to learn.
        "invalid_login": _("Wrong username or password."),
        "inactive": _("This account is inactive."),
    }


class RegisterForm(ProfileFieldsMixin, auth_forms.BaseUserCreationForm):
    """The seed's ``RegForm`` on Django's user creation form: username (the seed's 3 to 8
    characters), e-mail, password twice (``password``/``repassword``, the seed's names),
    gender and 2 to 4 hobbies. Django's ``SetPasswordMixin`` compares and validates the
    passwords; the username is refused when taken in any case."""

    username = auth_forms.UsernameField(
        label=_("Username"),
        min_length=USERNAME_MIN_LENGTH,
        max_length=USERNAME_MAX_LENGTH,
        validators=[UnicodeUsernameValidator()],
        help_text=lazy(username_help_text, str)(),
        error_messages=USERNAME_ERROR_MESSAGES,
    )
    email = email_field(help_text=_("Used only to reset your password; never shown to others."))
    password = new_password_field()
    repassword = confirm_password_field()
    gender = gender_field()
    hobby = hobby_field()
    # BaseUserCreationForm's own names; this form uses the seed's.
    # None removes an inherited field (Django's forms metaclass); the stubs allow only a Field.
    password1 = None  # type: ignore[assignment]
    password2 = None  # type: ignore[assignment]

    error_messages = {
        **auth_forms.BaseUserCreationForm.error_messages,
        **ProfileFieldsMixin.error_messages,
        "duplicate_username": _("This username is already taken."),
        "password_mismatch": _("The two passwords do not match."),
    }

    # The stubs leave out BaseUserCreationForm.Meta.
    class Meta(auth_forms.BaseUserCreationForm.Meta):  # type: ignore[name-defined]
        model = get_user_model()
        fields = ("username", "email")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        apply_password_length_limits(self, "password")

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if selectors.username_taken(username):
            raise ValidationError(
                self.error_messages["duplicate_username"], code="duplicate_username"
            )
        return username

    @sensitive_variables()
    def clean(self) -> dict[str, Any] | None:
        # The mismatch goes on repassword; when the password itself failed, its own error says
        # so (Django compares only two present values). The stubs miss BaseUserCreationForm's
        # base SetPasswordMixin (Django 5.1), which has this method and the one below.
        self.validate_passwords("password", "repassword")  # type: ignore[attr-defined]
        return forms.ModelForm.clean(self)

    @sensitive_variables()
    def _post_clean(self) -> None:
        # The stubs leave out ModelForm's private _post_clean.
        forms.ModelForm._post_clean(self)  # type: ignore[attr-defined]
        # Validated against the unsaved user carrying the username and e-mail typed, for the
        # similarity validator; the errors go on the password, where the user typed it.
        self.validate_password_for_user(self.instance, "password")  # type: ignore[attr-defined]


class ProfileForm(ProfileFieldsMixin, forms.Form):
    """The profile page: e-mail address, gender and hobbies of the logged-in user."""

    email = email_field(help_text=_("Used only to reset your password; never shown to others."))
    gender = gender_field()
    hobby = hobby_field()

    def __init__(self, *args: Any, user: User, **kwargs: Any):
        self.user_pk = user.pk
        super().__init__(*args, **kwargs)


class SetPasswordFieldsMixin(_FormBase):
    """Django's set-password forms with the validators' bounds and help texts on the inputs."""

    error_messages: dict[str, StrOrPromise] = {
        "password_mismatch": _("The two passwords do not match.")
    }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"] = new_password_field(label=_("New password"))
        self.fields["new_password2"] = confirm_password_field(label=_("Confirm new password"))
        apply_password_length_limits(self, "new_password1")


class SetPasswordForm(SetPasswordFieldsMixin, auth_forms.SetPasswordForm):
    """The new password after following a reset link."""

    error_messages = {
        **auth_forms.SetPasswordForm.error_messages,
        **SetPasswordFieldsMixin.error_messages,
    }


class PasswordChangeForm(SetPasswordFieldsMixin, auth_forms.PasswordChangeForm):
    """The current password, then the new one twice."""

    error_messages = {
        **auth_forms.PasswordChangeForm.error_messages,
        **SetPasswordFieldsMixin.error_messages,
    }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["old_password"] = current_password_field(label=_("Current password"))
        self.order_fields(self.field_order)


class PasswordResetForm(auth_forms.PasswordResetForm):
    """The address to send a reset link to. The answer is the same whether or not an account
    has it: who registered is nobody else's business."""

    email = email_field(help_text=_("The e-mail address of your account."))


class AccountDeleteForm(forms.Form):
    """Deleting the account asks for its password."""

    password = current_password_field(
        help_text=_("Your current password, to confirm that it is you.")
    )

    error_messages = {"password_incorrect": _("The password is not correct.")}

    def __init__(self, *args: Any, user: User, **kwargs: Any):
        self.user = user
        super().__init__(*args, **kwargs)

    @sensitive_variables("password")
    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return password
