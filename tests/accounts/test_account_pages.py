"""The account pages on Django's auth views: password change, reset by mail, profile edit,
deletion, the logout question; each linked from the profile and the login page."""

import re

import pytest
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from chat.models import Message
from chat.protocol import message_data
from tests.support.accounts import STRONG_PASSWORD, login

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Quartz-Lamp-77"
ACCOUNT_PAGES = [
    "/accounts/profile/edit/",
    "/accounts/password_change/",
    "/accounts/password_reset/",
    "/accounts/logout/",
    "/accounts/delete/",
]


def error_codes(response, field):
    return [error.code for error in response.context["form"].errors.as_data().get(field, [])]


def reset_link(message):
    return re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", message.body).group(1)


def test_profile_links_every_account_page_and_login_links_the_reset(client, alice):
    login(client)
    profile = client.get("/accounts/profile/").content.decode()
    anonymous = Client().get("/accounts/login/").content.decode()

    for url in ACCOUNT_PAGES:
        assert f'href="{url}"' in profile, url
    assert 'href="/accounts/password_reset/"' in anonymous


@pytest.mark.parametrize(
    "url", ["/accounts/profile/edit/", "/accounts/password_change/", "/accounts/delete/"]
)
def test_account_pages_require_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=")


@pytest.mark.parametrize("url", ACCOUNT_PAGES)
def test_every_account_page_renders_its_form_with_a_csrf_token(client, alice, url):
    login(client)

    response = client.get(url)

    assert response.status_code == 200
    assert "csrfmiddlewaretoken" in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/accounts/password_change/",
        "/accounts/password_reset/",
        "/accounts/delete/",
        "/accounts/profile/edit/",
    ],
)
def test_every_account_form_refuses_a_post_without_csrf_token(alice, url):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)

    assert strict.post(url, {"email": "x@example.com"}).status_code == 403


def test_password_change_keeps_the_session_and_replaces_the_password(client, alice):
    login(client)

    response = client.post(
        "/accounts/password_change/",
        {
            "old_password": STRONG_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert response.status_code == 302
    assert response.url == "/accounts/password_change/done/"
    assert auth.get_user(client).is_authenticated
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    assert response.wsgi_request.sensitive_post_parameters == "__ALL__"


def test_password_change_with_a_wrong_current_password_is_refused(client, alice):
    login(client)

    response = client.post(
        "/accounts/password_change/",
        {
            "old_password": "not-it-123",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert response.status_code == 200
    assert error_codes(response, "old_password") == ["password_incorrect"]
    assert NEW_PASSWORD not in response.content.decode()


def test_password_reset_mails_a_link_that_sets_a_new_password_once(client, alice):
    response = client.post("/accounts/password_reset/", {"email": "ALICE@example.com"})

    assert response.status_code == 302
    assert response.url == "/accounts/password_reset/done/"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@example.com"]
    link = reset_link(mail.outbox[0])
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"] is True
    set_url = form_page.redirect_chain[-1][0]

    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert done.status_code == 302
    assert done.url == "/accounts/reset/done/"
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    assert client.get(link, follow=True).context["validlink"] is False


def test_password_reset_for_an_unknown_address_answers_the_same_and_sends_nothing(client, alice):
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.com"})

    assert response.status_code == 302
    assert response.url == "/accounts/password_reset/done/"
    assert mail.outbox == []


def test_a_completed_password_reset_lifts_the_login_lockout(client, settings, alice):
    for _attempt in range(settings.LOGIN_THROTTLE_PER_USERNAME):
        login(client, password="not-it-123")
    assert login(client, password=STRONG_PASSWORD).status_code == 429

    client.post("/accounts/password_reset/", {"email": "alice@example.com"})
    form_page = client.get(reset_link(mail.outbox[0]), follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert login(client, password=NEW_PASSWORD).status_code == 302


def test_profile_edit_saves_email_gender_and_hobbies(client, alice):
    login(client)

    response = client.post(
        "/accounts/profile/edit/", {"email": "new@example.com", "gender": "1", "hobby": ["3", "5"]}
    )

    assert response.status_code == 302
    assert response.url == "/accounts/profile/"
    alice.refresh_from_db()
    assert alice.email == "new@example.com"
    assert alice.profile.gender == "1"
    assert sorted(alice.profile.hobbies.values_list("id", flat=True)) == [3, 5]
    assert "new@example.com" in client.get("/accounts/profile/").content.decode()


def test_profile_edit_refuses_another_accounts_address(client, alice, make_user):
    make_user(username="bob", email="bob@example.com")
    login(client)

    response = client.post(
        "/accounts/profile/edit/", {"email": "BOB@example.com", "gender": "1", "hobby": ["3", "5"]}
    )

    assert response.status_code == 200
    assert error_codes(response, "email") == ["duplicate_email"]


def test_a_createsuperuser_account_logs_in_and_gets_a_profile_on_saving(client, default_hobbies):
    admin = get_user_model().objects.create_superuser("administrator", "", STRONG_PASSWORD)
    assert login(client, username="administrator").status_code == 302
    assert client.get("/accounts/profile/").status_code == 200
    assert client.get("/accounts/profile/edit/").status_code == 200

    response = client.post(
        "/accounts/profile/edit/", {"email": "root@example.com", "gender": "2", "hobby": ["1", "2"]}
    )

    assert response.status_code == 302
    admin.refresh_from_db()
    assert admin.profile.gender == "2"
    assert admin.email == "root@example.com"


def test_account_deletion_needs_the_password_and_keeps_the_chat_messages(client, alice):
    message = Message.objects.create(room="lobby", user=alice, text="hello")
    login(client)

    refused = client.post("/accounts/delete/", {"password": "not-it-123"})
    assert refused.status_code == 200
    assert error_codes(refused, "password") == ["password_incorrect"]

    response = client.post("/accounts/delete/", {"password": STRONG_PASSWORD})

    assert response.status_code == 302
    assert response.url == "/"
    assert not get_user_model().objects.filter(username="alice").exists()
    assert not auth.get_user(client).is_authenticated
    message.refresh_from_db()
    assert message.user is None
    assert message_data(message)["user"] is None
    assert set(response.wsgi_request.sensitive_post_parameters) == {"password"}
