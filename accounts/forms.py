"""The seed's WTForms ``LoginForm`` and ``RegForm`` as Django forms.

Each rule raises its own error code, so code and tests look at codes and people read messages
(English, or Simplified Chinese worded after the seed). One rule of the seed is deliberately not
reproduced: it validated the password as an e-mail address (its author did not know why); here
the password goes through ``AUTH_PASSWORD_VALIDATORS`` instead.
"""

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm, UsernameField
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Hobby, Profile
from accounts.selectors import username_taken

USERNAME_MIN_LENGTH = 3
USERNAME_MAX_LENGTH = 8
PASSWORD_MIN_LENGTH = 3
PASSWORD_MAX_LENGTH = 16
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


def username_field(**kwargs):
    """The username as both forms take it: 3 to 8 characters, NFKC-normalised."""
    return UsernameField(
        label=_("Username"),
        min_length=USERNAME_MIN_LENGTH,
        max_length=USERNAME_MAX_LENGTH,
        error_messages=USERNAME_ERROR_MESSAGES,
        **kwargs,
    )


def password_field(**kwargs):
    """A password of 3 to 16 characters, never rendered back (``render_value=False``)."""
    kwargs.setdefault("label", _("Password"))
    kwargs.setdefault("error_messages", PASSWORD_ERROR_MESSAGES)
    return forms.CharField(
        min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH, strip=False, **kwargs
    )


class LoginForm(AuthenticationForm):
    """Django's authentication form with the seed's field rules and widget classes."""

    username = username_field(
        widget=forms.TextInput(attrs={"class": "my_login", "autofocus": True}),
    )
    password = password_field(
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

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        # AuthenticationForm widens the username to the model's 150 characters; keep the seed's 8.
        self.fields["username"].max_length = USERNAME_MAX_LENGTH
        self.fields["username"].widget.attrs["maxlength"] = str(USERNAME_MAX_LENGTH)


class HobbyChoiceField(forms.ModelMultipleChoiceField):
    """Hobbies as checkboxes whose values are the hobbies' integer ids."""

    widget = forms.CheckboxSelectMultiple


class RegisterForm(forms.Form):
    """The seed's ``RegForm``: username, password twice, gender and 2 to 4 hobbies."""

    username = username_field(validators=[UnicodeUsernameValidator()])
    password = password_field(widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    repassword = forms.CharField(
        label=_("Confirm password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Please enter the password again.")},
    )
    gender = forms.ChoiceField(
        label=_("Gender"),
        choices=Profile.Gender.choices,
        initial=Profile.Gender.FEMALE,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Please choose a gender."),
            "invalid_choice": _("Choose one of the genders offered."),
        },
    )
    hobby = HobbyChoiceField(
        label=_("Hobbies"),
        queryset=Hobby.objects.all(),
        initial=DEFAULT_HOBBY_IDS,
        error_messages={
            "required": _("Please choose your hobbies."),
            "invalid_choice": _("Choose only hobbies from the list."),
            "invalid_pk_value": _("Choose only hobbies from the list."),
            "invalid_list": _("Choose only hobbies from the list."),
        },
    )

    error_messages = {
        "duplicate_username": _("This username is already taken."),
        "password_mismatch": _("The two passwords do not match."),
        "too_few_hobbies": _("Hobbies out of range: choose at least %(limit)d."),
        "too_many_hobbies": _("Hobbies out of range: choose at most %(limit)d."),
    }

    def clean_username(self):
        username = self.cleaned_data["username"]
        if username_taken(username):
            raise ValidationError(
                self.error_messages["duplicate_username"], code="duplicate_username"
            )
        return username

    def clean_repassword(self):
        password = self.cleaned_data.get("password")
        repassword = self.cleaned_data["repassword"]
        # When the password itself failed, its own error says so; a mismatch would be noise.
        if password is not None and password != repassword:
            raise ValidationError(
                self.error_messages["password_mismatch"], code="password_mismatch"
            )
        return repassword

    def clean_hobby(self):
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

    def clean(self):
        cleaned_data = super().clean()
        password = cleaned_data.get("password")
        if password is not None:
            # The similarity validator compares against the user's attributes, so it gets an
            # unsaved user carrying the username typed.
            user = get_user_model()(username=cleaned_data.get("username", ""))
            try:
                password_validation.validate_password(password, user=user)
            except ValidationError as error:
                self.add_error("password", error)
        return cleaned_data
