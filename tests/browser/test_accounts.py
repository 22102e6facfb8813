"""Accounts in a real browser: register, greeting, logout, login, profile; and the registration
form's errors next to their fields, in English and in Simplified Chinese.

Expected texts are never copied here: they are rendered in this process from the project's own
forms and catalogue (``translation.override``), and the errors are chosen by their codes.
"""

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from accounts.forms import RegisterForm
from accounts.models import Hobby, Profile
from tests.support.accounts import STRONG_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

REGISTER_FIELDS = ["username", "email", "password", "repassword", "gender", "hobby"]


def greeting(username=None, language="en"):
    with translation.override(language):
        if username is None:
            return gettext("Hello, visitor.")
        return gettext("Hello, %(name)s!") % {"name": username}


def fill_registration(page, username, password, repassword, gender, hobbies, email=None):
    """Fill the registration form as a person would: type, click the radio and checkboxes."""
    page.locator("#id_username").fill(username)
    page.locator("#id_email").fill(f"{username}@example.com" if email is None else email)
    page.locator("#id_password").fill(password)
    page.locator("#id_repassword").fill(repassword)
    page.locator(f"input[name=gender][value='{gender}']").check()
    for box in page.locator("input[name=hobby]").all():
        box.set_checked(int(box.get_attribute("value")) in hobbies)


def submit(page):
    with page.expect_navigation():
        page.locator("form.account-form button[type=submit]").click()


def test_new_user_registers_is_greeted_logs_out_logs_in_again_and_sees_the_profile(site, page):
    page.goto(f"{site.url}/accounts/register/")
    fill_registration(
        page, "mira", STRONG_PASSWORD, STRONG_PASSWORD, Profile.Gender.MALE, hobbies={1, 3}
    )
    submit(page)

    expect(page).to_have_url(f"{site.url}/")
    expect(page.locator("h1.greeting")).to_have_text(greeting("mira"))

    with page.expect_navigation():
        page.locator("form.logout-form button").click()
    expect(page.locator("h1.greeting")).to_have_text(greeting())
    expect(page.locator("a[href='/accounts/profile/']")).to_have_count(0)

    page.locator("header a[href='/accounts/login/']").click()
    page.locator("#id_username").fill("mira")
    page.locator("#id_password").fill(STRONG_PASSWORD)
    submit(page)
    expect(page).to_have_url(f"{site.url}/")
    expect(page.locator("h1.greeting")).to_have_text(greeting("mira"))

    page.locator("header a[href='/accounts/profile/']").click()
    expect(page).to_have_url(f"{site.url}/accounts/profile/")
    with translation.override("en"):
        gender = str(Profile.Gender.MALE.label)
        hobbies = [str(hobby) for hobby in Hobby.objects.filter(id__in=[1, 3])]
    expect(page.locator(".profile-username")).to_have_text("mira")
    expect(page.locator(".profile-gender")).to_have_text(gender)
    expect(page.locator(".profile-hobbies li")).to_have_text(hobbies)
    assert get_user_model().objects.get(username="mira").check_password(STRONG_PASSWORD)


# Two sets of rule violations, each breaking four fields; the codes are the forms' own.
VIOLATIONS = {
    "too-short": (
        {
            "username": "ab",
            "password": "ab",
            "repassword": "",
            "gender": Profile.Gender.FEMALE,
            "hobbies": {1},
        },
        {
            "username": "min_length",
            "password": "min_length",
            "repassword": "required",
            "hobby": "too_few_hobbies",
        },
    ),
    "taken-and-mismatched": (
        {
            "username": "Taken",
            "password": "12345678",
            "repassword": "12345679",
            "gender": Profile.Gender.MALE,
            "hobbies": {1, 2, 3, 4, 5},
        },
        {
            "username": "duplicate_username",
            "password": "password_too_common",
            "repassword": "password_mismatch",
            "hobby": "too_many_hobbies",
        },
    ),
}

# The browser's language, and the language Django picks from its Accept-Language.
LANGUAGES = {"en-US": "en", "zh-CN": "zh-hans"}


def expected_errors(values, language):
    """The first error of each field, as the form renders it in ``language``, and its code."""
    data = {
        "username": values["username"],
        "email": f"{values['username']}@example.com",
        "password": values["password"],
        "repassword": values["repassword"],
        "gender": values["gender"],
        "hobby": [str(hobby) for hobby in sorted(values["hobbies"])],
    }
    with translation.override(language):
        form = RegisterForm(data=data)
        assert not form.is_valid()
        return {
            name: (form.errors.as_data()[name][0].code, form.errors[name][0])
            for name in form.errors
        }


@pytest.mark.parametrize("browser_locale", sorted(LANGUAGES))
@pytest.mark.parametrize("violation", sorted(VIOLATIONS))
def test_registration_rule_violations_show_each_error_next_to_its_field_in_the_browser_language(
    site, open_page, browser_locale, violation
):
    get_user_model().objects.create_user("taken", password=STRONG_PASSWORD)
    values, codes = VIOLATIONS[violation]
    language = LANGUAGES[browser_locale]
    expected = expected_errors(values, language)
    assert {name: code for name, (code, _) in expected.items()} == codes
    if language != "en":
        english = expected_errors(values, "en")
        assert all(expected[name][1] != english[name][1] for name in expected), "untranslated"

    page = open_page(locale=browser_locale)
    page.goto(f"{site.url}/accounts/register/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    fill_registration(page, **values)
    submit(page)

    expect(page).to_have_url(f"{site.url}/accounts/register/")
    for name in REGISTER_FIELDS:
        # The error sits in the field's own block, beside its input.
        error = page.locator(f".field:has([name={name}]) .field-error")
        if name in expected:
            expect(error).to_have_text(expected[name][1])
        else:
            expect(error).to_have_count(0)
    expect(page.locator(".field-error")).to_have_count(len(expected))
    # Passwords are never sent back into the page.
    expect(page.locator("#id_password")).to_have_value("")
    assert get_user_model().objects.count() == 1
