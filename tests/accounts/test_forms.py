"""Every rule of the login and registration forms at its boundaries, by error code."""

import pytest

from accounts.forms import LoginForm, RegisterForm
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
        ("x" * 17, ["max_length"]),
    ],
)
def test_register_password_length_boundaries(register_data, password, codes):
    form = RegisterForm(data=register_data(password=password, repassword=password))

    form.is_valid()
    assert error_codes(form, "password") == codes


@pytest.mark.parametrize(
    ("username", "password", "code"),
    [
        ("mallory", "mallory1", "password_too_similar"),
        ("alice", "k1te", "password_too_short"),
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


def test_register_password_of_sixteen_characters_is_accepted(register_data):
    password = "kite-Orbit-42-xy"
    assert len(password) == 16

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


def test_login_form_carries_the_seed_widget_classes_and_length_limits():
    form = LoginForm()

    assert form.fields["username"].widget.attrs["class"] == "my_login"
    assert form.fields["password"].widget.attrs["class"] == "my_password"
    assert 'maxlength="8"' in str(form["username"])
    assert 'maxlength="16"' in str(form["password"])


@pytest.mark.parametrize(
    ("username", "codes"),
    [("", ["required"]), ("ab", ["min_length"]), ("abcdefghi", ["max_length"])],
)
def test_login_username_rules(username, codes):
    form = LoginForm(data={"username": username, "password": STRONG_PASSWORD})

    assert not form.is_valid()
    assert error_codes(form, "username") == codes


@pytest.mark.parametrize(
    ("password", "codes"),
    [("", ["required"]), ("ab", ["min_length"]), ("x" * 17, ["max_length"])],
)
def test_login_password_rules(password, codes):
    form = LoginForm(data={"username": "alice", "password": password})

    assert not form.is_valid()
    assert error_codes(form, "password") == codes


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
