"""The echo and chat pages in a real browser (Debian's chromium through Playwright) against
live daphne processes: what users see, user text never becoming markup, reconnection."""

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.chat.conftest import create_user, login_cookie
from tests.support.servers import ARTIFACTS_DIR, DaphneServer

pytestmark = pytest.mark.live_server_process

CHROMIUM = "/usr/bin/chromium"
HOSTILE = '<img src=x onerror="window.pwned = true">& <b>bold</b>'


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API keeps an event loop running on this thread, and Django refuses
    # database work with a running loop in sight; no Django code runs on that loop.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


def start_server(env, **kwargs):
    server = DaphneServer(env=env, **kwargs)
    # Only this test process needs the override of the browser fixture; the server must keep
    # Django's async-safety checks.
    server.env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return server.start()


@pytest.fixture
def server(live_server_env):
    server = start_server(live_server_env, name="daphne-pages")
    yield server
    server.stop()


def logged_in_page(browser, server, username):
    """A page in its own browser context (its own cookies), logged in as a new user."""
    cookie = login_cookie(create_user(username))
    name, value = cookie.split("=", 1)
    context = browser.new_context()
    context.add_cookies([{"name": name, "value": value, "url": server.url}])
    return context.new_page()


def send(page, text):
    page.fill("#chat-input", text)
    page.press("#chat-input", "Enter")


def test_echo_page_sends_logs_and_reconnects_after_a_server_restart(browser, live_server_env):
    server = start_server(live_server_env, name="daphne-echo-page")
    page = browser.new_page()
    try:
        page.goto(f"{server.url}/echo/")
        state = page.locator(".ws-state")
        expect(state).to_have_attribute("data-state", "open")

        page.fill("#echo-input", HOSTILE)
        page.click(".ws-send button")
        expect(page.locator(".log-received .log-body")).to_have_text([HOSTILE])
        expect(page.locator(".log-sent .log-body")).to_have_text([HOSTILE])
        assert page.locator(".ws-log img").count() == 0
        assert page.locator(".log-received time").get_attribute("datetime")

        page.click("[data-action=disconnect]")
        expect(state).to_have_attribute("data-state", "closed")
        page.click("[data-action=connect]")
        expect(state).to_have_attribute("data-state", "open")

        server.stop()
        expect(state).to_have_attribute("data-state", "waiting")
        server = start_server(live_server_env, port=server.port, name="daphne-echo-page")
        expect(state).to_have_attribute("data-state", "open", timeout=20_000)
        page.fill("#echo-input", "after the restart")
        page.click(".ws-send button")
        expect(page.locator(".log-received .log-body").last).to_have_text("after the restart")
        page.screenshot(path=ARTIFACTS_DIR / "echo-page.png", full_page=True)
        assert page.evaluate("window.pwned") is None
    finally:
        page.close()
        server.stop()


def test_two_users_chat_in_two_browsers(browser, server):
    alice = logged_in_page(browser, server, "alice")
    bob = logged_in_page(browser, server, "bob")
    try:
        for page in (alice, bob):
            page.goto(f"{server.url}/chat/browsers/")
            expect(page.locator(".ws-state")).to_have_attribute("data-state", "open")
        for page in (alice, bob):
            expect(page.locator(".chat-presence li")).to_have_text(["alice", "bob"])

        send(alice, HOSTILE)
        send(bob, "hi alice")

        for page in (alice, bob):
            expect(page.locator(".chat-message .chat-text")).to_have_text([HOSTILE, "hi alice"])
            expect(page.locator(".chat-message .chat-user")).to_have_text(["alice", "bob"])
            assert page.locator(".chat-messages img, .chat-messages b").count() == 0
            assert page.evaluate("window.pwned") is None
        alice.screenshot(path=ARTIFACTS_DIR / "chat-page.png", full_page=True)

        # History: a reload shows what was said, once.
        bob.reload()
        expect(bob.locator(".chat-message .chat-text")).to_have_text([HOSTILE, "hi alice"])

        bob.close()
        expect(alice.locator(".chat-presence li")).to_have_text(["alice"])
    finally:
        alice.context.close()
        bob.context.close()


def test_chat_page_shows_error_events(browser, server):
    page = logged_in_page(browser, server, "alice")
    try:
        page.goto(f"{server.url}/chat/")
        expect(page.locator(".ws-state")).to_have_attribute("data-state", "open")
        error = page.locator(".chat-error")
        expect(error).to_be_hidden()

        for number in range(21):
            send(page, f"message {number}")

        expect(error).to_be_visible()
        expect(error).to_have_attribute("data-code", "rate_limited")
        expect(page.locator(".chat-message")).to_have_count(20)
        expect(page.locator(".ws-state")).to_have_attribute("data-state", "open")
    finally:
        page.context.close()


def test_room_list_and_open_room_form(browser, server):
    page = logged_in_page(browser, server, "alice")
    try:
        page.goto(f"{server.url}/chat/")
        expect(page.locator(".ws-state")).to_have_attribute("data-state", "open")
        send(page, "first words")
        expect(page.locator(".chat-message")).to_have_count(1)

        page.fill("#id_room", "not a room!")
        page.click(".chat-open button")
        expect(page.locator(".chat-open .errorlist")).to_be_visible()
        expect(page.locator(".chat-rooms a")).to_have_text(["lobby"])

        page.fill("#id_room", "next-room")
        page.click(".chat-open button")
        expect(page).to_have_url(f"{server.url}/chat/next-room/")
        expect(page.locator("h1")).to_contain_text("next-room")
        page.click(".chat-rooms a")
        expect(page).to_have_url(f"{server.url}/chat/lobby/")
        expect(page.locator(".chat-message .chat-text")).to_have_text(["first words"])
    finally:
        page.context.close()
