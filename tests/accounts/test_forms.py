"""Every rule of the login and registration forms at its boundaries, by error code."""

import pytest
from django.contrib.auth import password_validation

from accounts.forms import (
    AccountDeleteForm,
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    RegisterForm,
    SetPasswordForm,
)
from tests.support.accounts import STRONG_PASSWORD

pytestmark = pytest.mark.django_db


def error_codes(form, field):
    return [error.code for error in form.errors.as_data().get(field, [])]


# ------------------------------------------------------------------------------------------------
# RegisterForm
# ------------------------------------------------------------------------------------------------


def test_valid_registration_cleans_to_username_gender_and_hobby_objects(register_data):
    form = RegisterForm(data=register_data(hobby=["1", "3", "5"]))

    assert form.is_valid(), form.errors.as_data()
    assert form.cleaned_data["username"] == "alice"
    assert form.cleaned_data["gender"] == "1"
    assert sorted(hobby.id for hobby in form.cleaned_data["hobby"]) == [1, 3, 5]


@pytest.mark.parametrize(
    ("username", "codes"),
    [
        ("", ["required"]),
        ("ab", ["min_length"]),
        ("abc", []),
        ("abcdefgh", []),
        ("abcdefghi", ["max_length"]),
    ],
)
def test_register_username_length_boundaries(register_data, username, codes):
    form = RegisterForm(data=register_data(username=username))

    form.is_valid()
    assert error_codes(form, "username") == codes


def test_register_username_with_spaces_or_markup_is_invalid(register_data):
    form = RegisterForm(data=register_data(username="<b>x</b>"))

    assert not form.is_valid()
    assert error_codes(form, "username") == ["invalid"]


def test_register_username_taken_in_another_case_is_a_duplicate(register_data, make_user):
    make_user(username="Alice")

    form = RegisterForm(data=register_data(username="aLICE"))

    assert not form.is_valid()
    assert error_codes(form, "username") == ["duplicate_username"]


def test_register_username_full_width_form_of_a_taken_name_is_a_duplicate(register_data, make_user):
    make_user(username="alice")

    form = RegisterForm(data=register_data(username="\uff41lice"))  # full-width "a"

    assert not form.is_valid()
    assert error_codes(form, "username") == ["duplicate_username"]


@pytest.mark.parametrize(
    ("password", "codes"),
    [
        ("", ["required"]),
        ("ab", ["min_length"]),
        ("Kite-Or", ["min_length"]),
        ("Kite-Orb", []),
        ("Kite-Orbit-" * 11 + "x" * 7, []),
        ("Kite-Orbit-" * 11 + "x" * 8, ["max_length"]),
    ],
)
def test_register_password_length_boundaries_are_8_to_128(register_data, password, codes):
    form = RegisterForm(data=register_data(password=password, repassword=password))

    form.is_valid()
    assert error_codes(form, "password") == codes


@pytest.mark.parametrize(
    ("username", "password", "code"),
    [
        ("mallory", "mallory1", "password_too_similar"),
        ("alice", " " * 12, "password_entirely_whitespace"),
        ("alice", "password1", "password_too_common"),
        ("alice", "5829463017", "password_entirely_numeric"),
    ],
)
def test_register_password_goes_through_each_password_validator(
    register_data, username, password, code
):
    data = register_data(username=username, password=password, repassword=password)

    form = RegisterForm(data=data)

    assert not form.is_valid()
    assert code in error_codes(form, "password")


def test_register_password_longer_than_the_seeds_sixteen_is_accepted(register_data):
    password = "correct horse battery staple on a kite"
    assert len(password) > 16

    form = RegisterForm(data=register_data(password=password, repassword=password))

    assert form.is_valid(), form.errors.as_data()


def test_register_repassword_mismatch_is_an_error_of_repassword(register_data):
    form = RegisterForm(data=register_data(repassword=STRONG_PASSWORD + "!"))

    assert not form.is_valid()
    assert error_codes(form, "repassword") == ["password_mismatch"]
    assert error_codes(form, "password") == []


def test_register_repassword_missing_is_required(register_data):
    form = RegisterForm(data=register_data(repassword=""))

    assert not form.is_valid()
    assert error_codes(form, "repassword") == ["required"]


@pytest.mark.parametrize(("gender", "valid"), [("1", True), ("2", True)])
def test_register_gender_accepts_1_and_2(register_data, gender, valid):
    form = RegisterForm(data=register_data(gender=gender))

    assert form.is_valid() is valid


@pytest.mark.parametrize(
    ("gender", "code"), [("3", "invalid_choice"), ("0", "invalid_choice"), ("", "required")]
)
def test_register_gender_outside_1_and_2_is_refused(register_data, gender, code):
    form = RegisterForm(data=register_data(gender=gender))

    assert not form.is_valid()
    assert error_codes(form, "gender") == [code]


@pytest.mark.parametrize(
    ("hobby", "codes"),
    [
        ([], ["required"]),
        (["1"], ["too_few_hobbies"]),
        (["1", "2"], []),
        (["1", "2", "3", "4"], []),
        (["1", "2", "3", "4", "5"], ["too_many_hobbies"]),
        (["1", "6"], ["invalid_choice"]),
        (["1", "abc"], ["invalid_pk_value"]),
    ],
)
def test_register_hobby_count_and_ids(register_data, hobby, codes):
    form = RegisterForm(data=register_data(hobby=hobby))

    form.is_valid()
    assert error_codes(form, "hobby") == codes


def test_register_repeated_hobby_id_counts_once(register_data):
    form = RegisterForm(data=register_data(hobby=["2", "2"]))

    assert not form.is_valid()
    assert error_codes(form, "hobby") == ["too_few_hobbies"]


def test_register_form_defaults_are_gender_1_and_hobbies_1_3_5():
    form = RegisterForm()

    assert form["gender"].value() == "1"
    assert [int(value) for value in form["hobby"].value()] == [1, 3, 5]
    assert [int(str(choice.data["value"])) for choice in form["hobby"]] == [1, 2, 3, 4, 5]


def test_register_form_never_renders_the_passwords_back(register_data):
    form = RegisterForm(data=register_data(username="ab"))
    form.is_valid()

    html = str(form)

    assert STRONG_PASSWORD not in html
    assert 'value="ab"' in html


# ------------------------------------------------------------------------------------------------
# LoginForm
# ------------------------------------------------------------------------------------------------


def test_login_form_carries_the_seed_widget_classes_and_only_the_user_models_limit():
    form = LoginForm()

    assert form.fields["username"].widget.attrs["class"] == "my_login"
    assert form.fields["password"].widget.attrs["class"] == "my_password"
    assert 'maxlength="150"' in str(form["username"])
    assert "minlength" not in str(form["username"])
    assert "maxlength" not in str(form["password"])


@pytest.mark.parametrize(
    ("username", "codes"),
    [("", ["required"]), ("a" * 151, ["max_length"])],
)
def test_login_username_rules_are_only_required_and_150(username, codes):
    form = LoginForm(data={"username": username, "password": STRONG_PASSWORD})

    assert not form.is_valid()
    assert error_codes(form, "username") == codes


def test_login_password_rule_is_only_required():
    form = LoginForm(data={"username": "alice", "password": ""})

    assert not form.is_valid()
    assert error_codes(form, "password") == ["required"]


def test_login_accepts_a_createsuperuser_account_outside_the_registration_rule(
    django_user_model,
):
    django_user_model.objects.create_superuser("administrator", "a@example.com", "x" * 20)

    form = LoginForm(data={"username": "administrator", "password": "x" * 20})

    assert form.is_valid(), form.errors.as_data()


def test_login_with_correct_credentials_returns_the_user(alice):
    form = LoginForm(data={"username": "alice", "password": STRONG_PASSWORD})

    assert form.is_valid(), form.errors.as_data()
    assert form.get_user() == alice
    assert form.cleaned_data["remember"] is False


def test_login_wrong_password_and_unknown_user_give_the_same_error(alice):
    wrong_password = LoginForm(data={"username": "alice", "password": "not-it-123"})
    unknown_user = LoginForm(data={"username": "nobody", "password": STRONG_PASSWORD})

    assert not wrong_password.is_valid()
    assert not unknown_user.is_valid()
    assert error_codes(wrong_password, "__all__") == ["invalid_login"]
    assert error_codes(unknown_user, "__all__") == ["invalid_login"]
    assert wrong_password.non_field_errors() == unknown_user.non_field_errors()


def test_login_form_never_renders_the_password_back(alice):
    form = LoginForm(data={"username": "alice", "password": "not-it-123"})
    form.is_valid()

    assert "not-it-123" not in str(form)


# ------------------------------------------------------------------------------------------------
# E-mail, help texts, and the inputs' attributes against the server's rules
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "codes"),
    [
        ("", ["required"]),
        ("not-an-address", ["invalid"]),
        ("a@" + "b" * 250 + ".cn", ["max_length"]),
    ],
)
def test_register_email_is_required_valid_and_at_most_254_characters(register_data, email, codes):
    form = RegisterForm(data=register_data(email=email))

    form.is_valid()
    assert set(codes) <= set(error_codes(form, "email"))


def test_register_email_taken_in_another_case_is_a_duplicate(register_data, make_user):
    make_user(username="bob", email="Alice@Example.com")

    form = RegisterForm(data=register_data(email="aLIce@example.COM"))

    assert not form.is_valid()
    assert error_codes(form, "email") == ["duplicate_email"]


def test_profile_form_keeps_the_users_own_address_but_refuses_anothers(make_user, default_hobbies):
    alice = make_user(username="alice", email="alice@example.com")
    make_user(username="bob", email="bob@example.com")
    data = {"gender": "1", "hobby": ["1", "2"]}

    own = ProfileForm(data={**data, "email": "ALICE@example.com"}, user=alice)
    other = ProfileForm(data={**data, "email": "Bob@example.com"}, user=alice)

    assert own.is_valid(), own.errors.as_data()
    assert not other.is_valid()
    assert error_codes(other, "email") == ["duplicate_email"]


def new_password_forms(user):
    return {
        "register": (RegisterForm(), "password"),
        "password change": (PasswordChangeForm(user), "new_password1"),
        "password reset": (SetPasswordForm(user), "new_password1"),
    }


def test_password_inputs_carry_exactly_the_validators_bounds_and_help_texts(alice):
    validators = password_validation.get_default_password_validators()
    minimum = next(v.min_length for v in validators if hasattr(v, "min_length"))
    maximum = next(v.max_length for v in validators if hasattr(v, "max_length"))
    assert (minimum, maximum) == (8, 128)

    for name, (form, field_name) in new_password_forms(alice).items():
        attrs = form.fields[field_name].widget.attrs
        assert attrs["minlength"] == str(minimum), name
        assert attrs["maxlength"] == str(maximum), name
        assert form.fields[field_name].required, name
        html = str(form[field_name]) + str(form[field_name].help_text)
        assert "required" in str(form[field_name]), name
        for text in password_validation.password_validators_help_texts():
            assert str(text) in html, (name, text)


def test_password_bounds_follow_the_validators_settings(settings, alice):
    settings.AUTH_PASSWORD_VALIDATORS = [
        {
            "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
            "OPTIONS": {"min_length": 12},
        },
        {
            "NAME": "accounts.password_validation.MaximumLengthValidator",
            "OPTIONS": {"max_length": 64},
        },
    ]
    password_validation.get_default_password_validators.cache_clear()
    try:
        for name, (form, field_name) in new_password_forms(alice).items():
            attrs = form.fields[field_name].widget.attrs
            assert (attrs["minlength"], attrs["maxlength"]) == ("12", "64"), name
    finally:
        password_validation.get_default_password_validators.cache_clear()


def test_registration_inputs_match_the_field_rules_and_show_the_rule_before_failing():
    form = RegisterForm()
    username = form.fields["username"].widget.attrs
    email = form.fields["email"].widget.attrs

    assert (username["minlength"], username["maxlength"]) == ("3", "8")
    assert email["maxlength"] == "254"
    assert "minlength" not in email
    for name in ["username", "email", "password", "repassword", "hobby"]:
        assert form.fields[name].required, name
        assert str(form.fields[name].help_text), name
    html = str(form["username"])
    assert "required" in html
    assert 'aria-describedby="id_username_helptext"' in html


def test_password_change_refuses_a_wrong_current_password_and_whitespace_only(alice):
    form = PasswordChangeForm(
        alice,
        data={"old_password": "wrong", "new_password1": " " * 9, "new_password2": " " * 9},
    )

    assert not form.is_valid()
    assert error_codes(form, "old_password") == ["password_incorrect"]
    assert error_codes(form, "new_password2") == ["password_entirely_whitespace"]


def test_set_password_form_refuses_too_long_and_mismatched_passwords(alice):
    too_long = SetPasswordForm(alice, data={"new_password1": "k" * 129, "new_password2": "k" * 129})
    mismatch = SetPasswordForm(
        alice, data={"new_password1": "Quartz-Lamp-77", "new_password2": "Quartz-Lamp-78"}
    )

    assert error_codes(too_long, "new_password1") == ["max_length"]
    assert error_codes(mismatch, "new_password2") == ["password_mismatch"]


def test_account_delete_form_requires_the_current_password(alice):
    wrong = AccountDeleteForm(data={"password": "not-it-123"}, user=alice)
    right = AccountDeleteForm(data={"password": STRONG_PASSWORD}, user=alice)

    assert error_codes(wrong, "password") == ["password_incorrect"]
    assert right.is_valid()
