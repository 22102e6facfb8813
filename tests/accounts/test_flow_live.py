"""Every account flow through a live daphne process, as a visitor over HTTP with CSRF tokens,
with the password-reset mail sent over SMTP to a real SMTP server (aiosmtpd) started here."""

import re

import pytest
from django.contrib.auth import get_user_model

from accounts.models import Profile
from chat.models import Message
from tests.support.accounts import STRONG_PASSWORD
from tests.support.mailbox import SmtpServer
from tests.support.visitor import Visitor

pytestmark = pytest.mark.django_db(transaction=True)

CHANGED_PASSWORD = "Quartz-Lamp-77"
RESET_PASSWORD = "a long passphrase, well past the seed's sixteen"
RESET_LINK = re.compile(r"http://[^/\s]+(/accounts/reset/[^/\s]+/[^/\s]+/)")


@pytest.fixture
def smtp_server():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def site(start_server, smtp_server, default_hobbies):
    return start_server(
        "daphne-accounts",
        EMAIL_URL=smtp_server.url,
        DEFAULT_FROM_EMAIL="chat@example.com",
    )


def logs_in(server, username, password):
    with Visitor(server) as visitor:
        response = visitor.post_form(
            "/accounts/login/", {"username": username, "password": password}
        )
        return response.status_code == 302


def test_register_change_forget_reset_edit_and_delete_through_a_live_server(site, smtp_server):
    users = get_user_model().objects
    with Visitor(site) as visitor:
        # Register with an e-mail address.
        response = visitor.post_form(
            "/accounts/register/",
            {
                "username": "nora",
                "email": "Nora@Example.com",
                "password": STRONG_PASSWORD,
                "repassword": STRONG_PASSWORD,
                "gender": "1",
                "hobby": ["1", "2"],
            },
        )
        assert response.status_code == 302, response.text
        assert users.get(username="nora").email == "Nora@example.com"

        # Change the password while logged in.
        response = visitor.post_form(
            "/accounts/password_change/",
            {
                "old_password": STRONG_PASSWORD,
                "new_password1": CHANGED_PASSWORD,
                "new_password2": CHANGED_PASSWORD,
            },
        )
        assert response.headers["location"] == "/accounts/password_change/done/"
        assert visitor.post_form("/accounts/logout/", {}).status_code == 302

        # Forget it: the reset link arrives over SMTP.
        response = visitor.post_form("/accounts/password_reset/", {"email": "nora@example.com"})
        assert response.headers["location"] == "/accounts/password_reset/done/"
        recipients, message = smtp_server.mailbox.wait_for(1)
        assert recipients == ["Nora@example.com"]
        assert message["From"] == "chat@example.com"
        link = RESET_LINK.search(message.get_content()).group(1)

        # Set a new one: the link redirects to a URL without the token, whose form posts.
        form_page = visitor.get(link, follow_redirects=True)
        assert 'name="new_password1"' in form_page.text
        set_path = form_page.url.path
        response = visitor.post_form(
            set_path, {"new_password1": RESET_PASSWORD, "new_password2": RESET_PASSWORD}
        )
        assert response.headers["location"] == "/accounts/reset/done/"
        # The link works once.
        assert 'name="new_password1"' not in visitor.get(link, follow_redirects=True).text

    assert not logs_in(site, "nora", CHANGED_PASSWORD)
    assert not logs_in(site, "nora", STRONG_PASSWORD)

    with Visitor(site) as visitor:
        visitor.login("nora", RESET_PASSWORD)
        nora = users.get(username="nora")
        Message.objects.create(room="lobby", user=nora, text="still here")

        # Edit the profile.
        response = visitor.post_form(
            "/accounts/profile/edit/",
            {"email": "nora@example.org", "gender": "2", "hobby": ["3", "4", "5"]},
        )
        assert response.headers["location"] == "/accounts/profile/"
        assert "nora@example.org" in visitor.get("/accounts/profile/").text
        profile = Profile.objects.get(user=nora)
        assert profile.gender == "2"
        assert sorted(profile.hobbies.values_list("id", flat=True)) == [3, 4, 5]

        # Delete the account: the session ends, the messages stay without an author.
        response = visitor.post_form("/accounts/delete/", {"password": RESET_PASSWORD})
        assert response.headers["location"] == "/"
        assert visitor.get("/accounts/profile/").status_code == 302

    assert not users.filter(username="nora").exists()
    assert Message.objects.get(text="still here").user_id is None
    assert not logs_in(site, "nora", RESET_PASSWORD)
