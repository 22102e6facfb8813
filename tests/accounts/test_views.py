"""Registration, login, logout and profile pages on MariaDB, with sessions in Redis."""

import logging

import pytest
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from accounts.forms import RegisterForm
from accounts.models import Profile
from accounts.views import RegisterView
from tests.support.accounts import STRONG_PASSWORD, login, redis_session_key, session_cookie

pytestmark = pytest.mark.django_db

REGISTER_URL = "/accounts/register/"
LOGIN_URL = "/accounts/login/"
LOGOUT_URL = "/accounts/logout/"
PROFILE_URL = "/accounts/profile/"


def error_codes(response, field):
    return [error.code for error in response.context["form"].errors.as_data().get(field, [])]


def test_url_names_resolve_to_the_accounts_paths():
    assert reverse("accounts:register") == REGISTER_URL
    assert reverse("accounts:login") == LOGIN_URL
    assert reverse("accounts:logout") == LOGOUT_URL
    assert reverse("accounts:profile") == PROFILE_URL
    assert reverse("session") == "/session/"


# ------------------------------------------------------------------------------------------------
# Registration
# ------------------------------------------------------------------------------------------------


def test_register_page_shows_the_defaults_and_no_browser_validation(client):
    response = client.get(REGISTER_URL)

    assert response.status_code == 200
    form = response.context["form"]
    assert form["gender"].value() == "1"
    assert [int(value) for value in form["hobby"].value()] == [1, 3, 5]
    html = response.content.decode()
    assert "novalidate" in html
    assert "csrfmiddlewaretoken" in html


def test_valid_registration_creates_user_and_profile_logs_in_and_redirects_home(
    client, register_data
):
    response = client.post(REGISTER_URL, register_data(gender="2", hobby=["2", "4", "5"]))

    assert response.status_code == 302
    assert response.url == "/"
    user = auth.get_user(client)
    assert user.is_authenticated
    assert user.username == "alice"
    assert user.check_password(STRONG_PASSWORD)
    profile = Profile.objects.get(user=user)
    assert profile.gender == "2"
    assert sorted(profile.hobbies.values_list("id", flat=True)) == [2, 4, 5]
    assert [message.level_tag for message in get_messages(response.wsgi_request)] == ["success"]


def test_invalid_registration_answers_200_keeping_input_except_passwords(client, register_data):
    response = client.post(REGISTER_URL, register_data(username="bob", hobby=["1"]))

    assert response.status_code == 200
    assert error_codes(response, "hobby") == ["too_few_hobbies"]
    html = response.content.decode()
    assert 'value="bob"' in html
    assert STRONG_PASSWORD not in html
    assert not auth.get_user(client).is_authenticated


def test_registration_with_a_taken_username_in_another_case_is_refused(
    client, register_data, make_user
):
    make_user(username="alice")

    response = client.post(REGISTER_URL, register_data(username="ALICE"))

    assert response.status_code == 200
    assert error_codes(response, "username") == ["duplicate_username"]
    assert Profile.objects.count() == 1


def test_registration_losing_a_race_for_the_username_answers_with_the_form_error(
    rf, register_data, make_user
):
    request = rf.post(REGISTER_URL, register_data())
    request.user = AnonymousUser()
    form = RegisterForm(data=request.POST)
    assert form.is_valid()
    make_user(username="alice")  # registered by someone else after validation
    view = RegisterView()
    view.setup(request)

    response = view.form_valid(form)

    assert response.status_code == 200
    assert [error.code for error in form.errors.as_data()["username"]] == ["duplicate_username"]
    assert Profile.objects.count() == 1


def test_registration_shows_each_field_with_its_first_error_only(client, register_data):
    # "k1" breaks both the length rule and (had it passed) the validators: one error shown.
    response = client.post(REGISTER_URL, register_data(password="k1", repassword="k1"))

    html = response.content.decode()
    assert html.count('class="errorlist field-error"') == 1
    assert 'id="id_password_error"' in html


def test_registration_marks_passwords_as_sensitive_for_error_reports(client, register_data):
    response = client.post(REGISTER_URL, register_data(username="x"))

    assert set(response.wsgi_request.sensitive_post_parameters) == {"password", "repassword"}


# ------------------------------------------------------------------------------------------------
# Login
# ------------------------------------------------------------------------------------------------


def test_login_page_carries_the_seed_widget_classes(client):
    html = client.get(LOGIN_URL).content.decode()

    assert 'class="my_login"' in html
    assert 'class="my_password"' in html
    assert "novalidate" in html


def test_login_redirects_home_and_authenticates(client, alice):
    response = login(client)

    assert response.status_code == 302
    assert response.url == reverse(settings.LOGIN_REDIRECT_URL)
    assert auth.get_user(client) == alice


def test_login_rotates_the_session_key_and_the_new_key_is_in_redis(client, alice, redis_client):
    # The home page stores an anonymous session once the client sends a cookie back (here the
    # login page's CSRF cookie).
    client.get("/accounts/login/")
    client.get("/")
    key_before = session_cookie(client)
    assert redis_client.exists(redis_session_key(key_before)) == 1

    login(client)

    key_after = session_cookie(client)
    assert key_after != key_before
    assert redis_client.exists(redis_session_key(key_after)) == 1
    assert redis_client.exists(redis_session_key(key_before)) == 0


def test_wrong_password_and_unknown_user_get_one_identical_message(client, alice):
    wrong_password = login(client, password="not-it-123")
    unknown_user = login(client, username="nobody")

    assert wrong_password.status_code == unknown_user.status_code == 200
    assert error_codes(wrong_password, "__all__") == ["invalid_login"]
    assert error_codes(unknown_user, "__all__") == ["invalid_login"]
    assert (
        wrong_password.context["form"].non_field_errors()
        == unknown_user.context["form"].non_field_errors()
    )


def test_failed_login_does_not_echo_the_password(client, alice):
    response = login(client, password="not-it-123")

    assert "not-it-123" not in response.content.decode()
    assert 'value="alice"' in response.content.decode()


def test_login_without_remember_ends_the_session_with_the_browser(client, alice, redis_client):
    login(client)

    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == ""
    assert cookie["expires"] == ""
    assert client.session.get_expire_at_browser_close() is True
    # The server still bounds the session's life.
    ttl = redis_client.ttl(redis_session_key(cookie.value))
    assert 0 < ttl <= settings.SESSION_COOKIE_AGE


def test_login_with_remember_keeps_the_session_for_the_cookie_age(client, alice, redis_client):
    login(client, remember="on")

    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE
    assert client.session.get_expire_at_browser_close() is False
    ttl = redis_client.ttl(redis_session_key(cookie.value))
    assert settings.SESSION_COOKIE_AGE - 60 < ttl <= settings.SESSION_COOKIE_AGE


def test_remember_on_a_second_login_undoes_an_earlier_browser_session(client, alice):
    login(client)
    login(client, remember="on")

    assert client.session.get_expire_at_browser_close() is False


def test_login_follows_a_same_host_next(client, alice):
    response = login(client, next="/session/")

    assert response.status_code == 302
    assert response.url == "/session/"


@pytest.mark.parametrize(
    "unsafe_next",
    [
        "https://evil.example/",
        "//evil.example/",
        "http://testserver.evil.example/",
        "javascript:alert(1)",
    ],
)
def test_login_ignores_an_unsafe_next(client, alice, unsafe_next):
    response = login(client, next=unsafe_next)

    assert response.status_code == 302
    assert response.url == "/"


def test_login_page_drops_an_unsafe_next_from_the_form(client):
    response = client.get(LOGIN_URL, {"next": "https://evil.example/"})

    assert response.context["next"] == ""
    assert 'name="next"' not in response.content.decode().split('class="account-form"')[1]


def test_login_marks_the_password_as_sensitive_for_error_reports(client, alice):
    response = login(client, password="not-it-123")

    assert response.wsgi_request.sensitive_post_parameters == "__ALL__"


# ------------------------------------------------------------------------------------------------
# Logout
# ------------------------------------------------------------------------------------------------


def test_logout_removes_the_session_from_redis_and_redirects_home(client, alice, redis_client):
    login(client)
    key = session_cookie(client)
    assert redis_client.exists(redis_session_key(key)) == 1

    response = client.post(LOGOUT_URL)

    assert response.status_code == 302
    assert response.url == "/"
    assert redis_client.exists(redis_session_key(key)) == 0
    assert not auth.get_user(client).is_authenticated


def test_logout_by_get_asks_with_a_button_that_posts_and_keeps_the_session(client, alice):
    login(client)

    response = client.get(LOGOUT_URL)

    assert response.status_code == 200
    form = response.content.decode().split("<main")[1]
    assert f'action="{LOGOUT_URL}"' in form
    assert 'method="post"' in form
    assert "csrfmiddlewaretoken" in form
    assert auth.get_user(client).is_authenticated


# ------------------------------------------------------------------------------------------------
# Profile and the whole flow
# ------------------------------------------------------------------------------------------------


def test_profile_requires_login(client):
    response = client.get(PROFILE_URL)

    assert response.status_code == 302
    assert response.url == f"{LOGIN_URL}?next={PROFILE_URL}"


def test_profile_of_a_user_without_profile_still_answers(client, django_user_model):
    django_user_model.objects.create_user(username="admin", password=STRONG_PASSWORD)
    login(client, username="admin")

    response = client.get(PROFILE_URL)

    assert response.status_code == 200
    assert response.context["profile"] is None


def test_full_flow_register_logout_login_profile(client, register_data):
    client.post(REGISTER_URL, register_data(username="carol", gender="2", hobby=["1", "5"]))
    assert client.post(LOGOUT_URL).status_code == 302
    assert client.get(PROFILE_URL).status_code == 302

    response = login(client, username="carol", next=PROFILE_URL)
    assert response.url == PROFILE_URL
    response = client.get(PROFILE_URL)

    assert response.status_code == 200
    profile = response.context["profile"]
    assert profile.user.username == "carol"
    assert profile.gender == "2"
    html = response.content.decode()
    assert "carol" in html
    assert str(profile.get_gender_display()) in html
    for hobby in profile.hobbies.all():
        assert str(hobby) in html


def test_nav_shows_login_links_to_visitors_and_a_logout_form_to_users(client, alice):
    anonymous = client.get("/").content.decode()
    assert f'href="{LOGIN_URL}"' in anonymous
    assert f'href="{REGISTER_URL}"' in anonymous

    login(client)
    logged_in = client.get("/").content.decode()

    assert f'href="{PROFILE_URL}"' in logged_in
    assert f'action="{LOGOUT_URL}" method="post"' in logged_in


# ------------------------------------------------------------------------------------------------
# CSRF and secrets
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [REGISTER_URL, LOGIN_URL, LOGOUT_URL])
def test_every_account_form_requires_a_csrf_token(url, register_data):
    strict_client = Client(enforce_csrf_checks=True)

    response = strict_client.post(url, register_data())

    assert response.status_code == 403


def test_password_appears_in_no_log_line(client, register_data, caplog):
    secret = "Quartz-Lamp-77"
    caplog.set_level(logging.DEBUG)

    client.post(REGISTER_URL, register_data(username="dave", password=secret, repassword=secret))
    client.post(LOGOUT_URL)
    for _attempt in range(settings.LOGIN_THROTTLE_PER_USERNAME + 1):
        login(client, username="dave", password=secret + "x")
    login(client, username="dave", password=secret)

    assert caplog.records, "expected the throttle to log the refused attempt"
    assert not [record for record in caplog.records if secret in record.getMessage()]


def test_registration_losing_a_race_for_the_email_answers_with_the_form_error(
    rf, register_data, make_user
):
    request = rf.post(REGISTER_URL, register_data())
    request.user = AnonymousUser()
    form = RegisterForm(data=request.POST)
    assert form.is_valid()
    make_user(username="bob", email="ALICE@example.com")  # after validation
    view = RegisterView()
    view.setup(request)

    response = view.form_valid(form)

    assert response.status_code == 200
    assert [error.code for error in form.errors.as_data()["email"]] == ["duplicate_email"]
