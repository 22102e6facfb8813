"""Login throttling: counters in Redis per username and per client address, shared by processes."""

import re

import httpx
import pytest
from django.conf import settings
from django.core.cache import cache

from accounts.throttle import address_throttle_key, login_lockout, username_throttle_key
from tests.support.accounts import STRONG_PASSWORD, login
from tests.support.servers import DaphneServer
from tests.support.waiting import wait_until

pytestmark = pytest.mark.django_db

WRONG_PASSWORD = "not-it-123"


def fail_logins(client, count, username="alice"):
    for _attempt in range(count):
        response = login(client, username=username, password=WRONG_PASSWORD)
        assert response.status_code == 200


def redis_key(key):
    return cache.make_key(key)


def test_defaults_are_5_per_username_20_per_address_in_15_minutes():
    assert settings.LOGIN_THROTTLE_PER_USERNAME == 5
    assert settings.LOGIN_THROTTLE_PER_ADDRESS == 20
    assert settings.LOGIN_THROTTLE_WINDOW_SECONDS == 15 * 60


def test_sixth_attempt_after_five_failures_is_refused_even_with_the_right_password(client, alice):
    fail_logins(client, 5)

    response = login(client)

    assert response.status_code == 429
    assert "accounts/login_throttled.html" in [template.name for template in response.templates]
    assert response.context["lockout"].reason == "username"
    assert 0 < int(response["Retry-After"]) <= settings.LOGIN_THROTTLE_WINDOW_SECONDS
    assert not client.session.get("_auth_user_id")


def test_four_failures_do_not_block_and_a_success_clears_the_username_counter(
    client, alice, redis_client
):
    fail_logins(client, 4)
    assert redis_client.get(redis_key(username_throttle_key("alice"))) == b"4"

    assert login(client).status_code == 302

    assert redis_client.exists(redis_key(username_throttle_key("alice"))) == 0


def test_counter_is_cleared_so_five_new_failures_are_allowed_after_a_success(client, alice):
    fail_logins(client, 4)
    login(client)
    client.post("/accounts/logout/")

    fail_logins(client, 4)

    assert login(client).status_code == 302


def test_success_keeps_the_address_counter(client, alice, redis_client):
    fail_logins(client, 3, username="nobody")

    login(client)

    assert redis_client.get(redis_key(address_throttle_key("127.0.0.1"))) == b"3"


def test_usernames_differing_in_case_share_a_counter(client, alice):
    for username in ["alice", "ALICE", "Alice", "aLiCe", "alicE"]:
        login(client, username=username, password=WRONG_PASSWORD)

    assert login(client).status_code == 429


def test_too_many_failures_from_one_address_block_every_username(client, settings, make_user):
    settings.LOGIN_THROTTLE_PER_ADDRESS = 3
    make_user(username="bob")
    for username in ["ann", "ben", "cyd"]:
        login(client, username=username, password=WRONG_PASSWORD)

    response = login(client, username="bob")

    assert response.status_code == 429
    assert response.context["lockout"].reason == "address"


def test_other_addresses_are_not_blocked_by_one_address(client, settings, alice):
    settings.LOGIN_THROTTLE_PER_ADDRESS = 3
    for username in ["ann", "ben", "cyd"]:
        login(client, username=username, password=WRONG_PASSWORD)

    response = client.post(
        "/accounts/login/",
        {"username": "alice", "password": STRONG_PASSWORD},
        REMOTE_ADDR="192.0.2.7",
    )

    assert response.status_code == 302


def test_form_errors_before_authentication_are_not_failed_logins(client, alice, redis_client):
    for _attempt in range(10):
        login(client, username="alice", password="")  # no password: never authenticated

    assert redis_client.exists(redis_key(username_throttle_key("alice"))) == 0
    assert login(client).status_code == 302


def test_counter_expires_after_the_configured_window(client, settings, alice, redis_client):
    settings.LOGIN_THROTTLE_WINDOW_SECONDS = 120

    fail_logins(client, 1)

    ttl = redis_client.ttl(redis_key(username_throttle_key("alice")))
    assert 110 < ttl <= 120


def test_window_counts_from_the_first_failure_not_the_last(client, alice, redis_client):
    key = redis_key(username_throttle_key("alice"))
    fail_logins(client, 1)
    redis_client.expire(key, 100)

    fail_logins(client, 2)

    assert 0 < redis_client.ttl(key) <= 100


def test_login_is_accepted_again_when_the_window_has_passed(client, alice, redis_client):
    fail_logins(client, 5)
    assert login(client).status_code == 429
    key = redis_key(username_throttle_key("alice"))

    # Let the window end now instead of waiting 15 minutes.
    redis_client.pexpire(key, 1)
    wait_until(
        lambda: login_lockout(username="alice", address="127.0.0.1") is None,
        timeout=5,
        message="the username's counter expiring",
    )

    assert login(client).status_code == 302


def test_refused_page_explains_itself_in_the_visitors_language(client, alice):
    fail_logins(client, 5)

    english = login(client)
    chinese = login(client, headers={"Accept-Language": "zh-hans"})

    assert english.status_code == chinese.status_code == 429
    assert "Too many failed logins" in english.content.decode()
    assert "登录失败次数过多" in chinese.content.decode()


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

    assert statuses == [200] * 5
    assert [response.status_code for response in refused] == [429, 429]
