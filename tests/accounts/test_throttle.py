"""Throttling: django-axes per (account, client), django-ratelimit per client, both in Redis."""

import re

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from tests.support.accounts import STRONG_PASSWORD, login
from tests.support.servers import DaphneServer

pytestmark = pytest.mark.django_db

WRONG_PASSWORD = "not-it-123"
NEW_PASSWORD = "Lantern-Harbor-73"


def login_from(client, address, username="alice", password=STRONG_PASSWORD):
    """POST the login form from the client address ``address``."""
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def fail_logins(client, count, username="alice", address="127.0.0.1"):
    """``count`` failed logins; the statuses they got."""
    return [
        login_from(client, address, username, WRONG_PASSWORD).status_code
        for _attempt in range(count)
    ]


def test_defaults_are_5_per_account_and_client_20_per_client_in_15_minutes(settings):
    assert settings.AXES_FAILURE_LIMIT == settings.LOGIN_THROTTLE_PER_USERNAME == 5
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.LOGIN_THROTTLE_PER_ADDRESS == 20
    assert settings.AXES_COOLOFF_TIME.total_seconds() == settings.LOGIN_THROTTLE_WINDOW_SECONDS
    assert settings.LOGIN_THROTTLE_WINDOW_SECONDS == 15 * 60
    assert settings.AXES_HANDLER == "axes.handlers.cache.AxesCacheHandler"


def test_the_fifth_failure_locks_and_the_right_password_is_then_refused(client, alice):
    assert fail_logins(client, 5) == [200, 200, 200, 200, 429]

    refused = login(client)

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0


def test_four_failures_do_not_lock_and_a_success_clears_the_count(client, alice):
    assert fail_logins(client, 4) == [200] * 4
    assert login(client).status_code == 302
    client.post("/accounts/logout/")

    assert fail_logins(client, 4) == [200] * 4
    assert login(client).status_code == 302


def test_failures_from_another_client_do_not_lock_the_owner_out(client, alice):
    fail_logins(client, 5, address="198.51.100.7")

    assert login_from(client, "198.51.100.7").status_code == 429
    assert login_from(client, "192.0.2.10").status_code == 302


def test_spellings_the_database_folds_count_against_the_one_account(client, make_user):
    make_user(username="bob01")
    # MariaDB's utf8mb4 collations fold case and accents: all three log in to bob01.
    for typed in ("bôb01", "BOB01", "böb01", "bob01"):
        status = login(client, username=typed, password=WRONG_PASSWORD).status_code
    assert status == 200
    assert login(client, username="Bób01", password=WRONG_PASSWORD).status_code == 429

    assert login(client, username="bob01").status_code == 429


def test_names_without_an_account_share_a_count_ignoring_case(client, alice):
    statuses = [
        login(client, username=name, password=WRONG_PASSWORD).status_code
        for name in (
            "Nobody",
            "nobody",
            "NOBODY ",
            "\uff4e\uff4f\uff42\uff4f\uff44\uff59",
            "nobody",
        )
    ]

    assert statuses == [200, 200, 200, 200, 429]
    assert login(client).status_code == 302


def test_too_many_failures_from_one_client_lock_every_username(client, settings, make_user):
    settings.LOGIN_THROTTLE_PER_ADDRESS = 3
    make_user(username="carol")
    for name in ("dave", "erin", "frank"):
        assert login(client, username=name, password=WRONG_PASSWORD).status_code == 200

    assert login(client, username="carol").status_code == 429
    assert login_from(client, "192.0.2.20", username="carol").status_code == 302


def test_form_errors_before_authentication_are_not_failed_logins(client, settings, alice):
    settings.LOGIN_THROTTLE_PER_ADDRESS = 2
    for _attempt in range(5):
        assert client.post("/accounts/login/", {"username": "alice"}).status_code == 200

    assert login(client).status_code == 302


def test_a_completed_password_reset_lifts_the_lock_of_the_owners_client(client, alice):
    fail_logins(client, 5)
    assert login(client).status_code == 429

    client.post("/accounts/password_reset/", {"email": "alice@example.com"})
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert done.status_code == 302
    assert login(client, password=STRONG_PASSWORD).status_code == 200
    assert login(client, password=NEW_PASSWORD).status_code == 302


def test_the_admin_login_answers_429_after_the_limit(client):
    get_user_model().objects.create_superuser("root", "root@example.com", STRONG_PASSWORD)
    statuses = [
        client.post(
            "/admin/login/?next=/admin/", {"username": "root", "password": WRONG_PASSWORD}
        ).status_code
        for _attempt in range(5)
    ]
    refused = client.post(
        "/admin/login/?next=/admin/", {"username": "root", "password": STRONG_PASSWORD}
    )

    assert statuses == [200, 200, 200, 200, 429]
    assert refused.status_code == 429
    assert b"/accounts/password_reset/" in refused.content


def test_failures_at_the_admin_and_the_site_add_up(client, alice):
    for _attempt in range(3):
        client.post("/admin/login/", {"username": "alice", "password": WRONG_PASSWORD})

    assert fail_logins(client, 2) == [200, 429]


def test_registration_answers_429_past_its_limit_per_client(client, settings, register_data):
    settings.REGISTRATIONS_PER_CLIENT = 2
    first = client.post("/accounts/register/", register_data(username="reg01", email="a@x.org"))
    client.post("/accounts/logout/")
    probe = client.post("/accounts/register/", register_data(username="reg01", email="b@x.org"))

    refused = client.post("/accounts/register/", register_data(username="reg02", email="c@x.org"))
    elsewhere = client.post(
        "/accounts/register/",
        register_data(username="reg03", email="d@x.org"),
        REMOTE_ADDR="192.0.2.30",
    )

    assert (first.status_code, probe.status_code) == (302, 200)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert elsewhere.status_code == 302


def test_registration_page_is_still_shown_to_a_throttled_client(client, settings, register_data):
    settings.REGISTRATIONS_PER_CLIENT = 1
    client.post("/accounts/register/", register_data(username="x"))
    client.post("/accounts/register/", register_data(username="y"))

    assert client.get("/accounts/register/").status_code == 200


def test_password_reset_requests_answer_429_past_their_limit(client, settings, alice):
    settings.PASSWORD_RESETS_PER_CLIENT = 2
    statuses = [
        client.post("/accounts/password_reset/", {"email": "alice@example.com"}).status_code
        for _attempt in range(3)
    ]

    assert statuses == [302, 302, 429]
    assert len(mail.outbox) == 2


def test_refused_page_says_when_to_retry_and_links_the_reset_in_the_visitors_language(
    client, alice
):
    fail_logins(client, 5)

    english = login(client)
    chinese = login(client, headers={"Accept-Language": "zh-hans"})

    assert english.status_code == chinese.status_code == 429
    page = english.content.decode()
    assert "Try again in 15 minutes" in page
    assert 'href="/accounts/password_reset/"' in page
    assert "登录失败" in chinese.content.decode()


# ------------------------------------------------------------------------------------------------
# Several server processes share the counters
# ------------------------------------------------------------------------------------------------


def post_login(http, username, password):
    page = http.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return http.post(
        "/accounts/login/",
        data={"csrfmiddlewaretoken": token, "username": username, "password": password},
    )


@pytest.mark.live_server_process
def test_failures_on_two_server_processes_add_up(live_server_env, make_user):
    make_user(username="alice")
    first = DaphneServer(env=live_server_env, name="daphne-throttle-a")
    second = DaphneServer(env=live_server_env, name="daphne-throttle-b")
    with first, second:
        clients = [httpx.Client(base_url=server.url, timeout=10) for server in (first, second)]
        try:
            statuses = [
                post_login(clients[attempt % 2], "alice", WRONG_PASSWORD).status_code
                for attempt in range(5)
            ]
            refused = [post_login(http, "alice", STRONG_PASSWORD) for http in clients]
        finally:
            for http in clients:
                http.close()

    assert statuses == [200, 200, 200, 200, 429]
    assert [response.status_code for response in refused] == [429, 429]
