"""The chat and echo pages in a real browser against a live production-mode daphne: two people in
one room, hostile text shown as text, presence as people come and go, history on reload, the
rate limit's error shown, the room list and the open-room form, and the echo's log, its
connect buttons and its reconnecting by itself after the server restarts on the same port."""

import pytest
from playwright.sync_api import expect

from chat.models import Message
from chat.protocol import ErrorCode
from tests.support.accounts import STRONG_PASSWORD
from tests.support.chatting import create_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("clean_chat_keys"),
]

# Markup that would make elements and run script if a page ever used it as HTML.
HOSTILE = "<img src=x onerror=alert(1)>& <b>bold</b>"
MARKUP = "img, b"


def record_dialogs(page):
    """Every JavaScript dialog (alert, confirm, prompt) the page opens, dismissed."""
    dialogs = []

    def handle(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", handle)
    return dialogs


def log_in(page, site, username):
    page.goto(f"{site.url}/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(STRONG_PASSWORD)
    with page.expect_navigation():
        page.locator("form.account-form button[type=submit]").click()
    expect(page).to_have_url(f"{site.url}/")


def open_chat(page, site, path="/chat/"):
    page.goto(f"{site.url}{path}")
    expect(page.locator("#chat .ws-state")).to_have_attribute("data-state", "open")


def send(page, text):
    page.locator("#chat-input").fill(text)
    page.locator(".chat-send button").click()


def send_with_enter(page, text):
    page.locator("#chat-input").fill(text)
    page.locator("#chat-input").press("Enter")


def test_two_people_in_one_room_see_each_others_messages_presence_and_history_as_text(
    site, open_page
):
    create_user("alice")
    create_user("bob")
    alice, bob = open_page("alice"), open_page("bob")
    dialogs = {"alice": record_dialogs(alice), "bob": record_dialogs(bob)}
    for name, page in (("alice", alice), ("bob", bob)):
        log_in(page, site, name)
        open_chat(page, site, "/chat/garden/")
    for page in (alice, bob):
        expect(page.locator(".chat-presence li")).to_have_text(["alice", "bob"])

    send(alice, "hello bob")
    expect(bob.locator(".chat-message .chat-text")).to_have_text(["hello bob"])
    send(bob, HOSTILE)

    conversation = ["hello bob", HOSTILE]
    for page in (alice, bob):
        expect(page.locator(".chat-message .chat-text")).to_have_text(conversation)
        expect(page.locator(".chat-message .chat-user")).to_have_text(["alice", "bob"])
        # Shown as text: the markup made no element, and its onerror never ran.
        expect(page.locator(".chat-messages").locator(MARKUP)).to_have_count(0)
        assert page.locator("img").count() == 0

    bob.reload()
    expect(bob.locator("#chat .ws-state")).to_have_attribute("data-state", "open")
    expect(bob.locator(".chat-message .chat-text")).to_have_text(conversation)
    expect(bob.locator(".chat-messages").locator(MARKUP)).to_have_count(0)
    expect(alice.locator(".chat-presence li")).to_have_text(["alice", "bob"])

    bob.goto(f"{site.url}/")  # leaves the room
    expect(alice.locator(".chat-presence li")).to_have_text(["alice"])
    assert dialogs == {"alice": [], "bob": []}
    assert list(Message.objects.filter(room="garden").values_list("text", flat=True)) == [
        "hello bob",
        HOSTILE,
    ]


def test_messages_over_the_rate_limit_show_its_error_and_the_connection_stays_open(site, open_page):
    create_user("alice")
    page = open_page("alice")
    log_in(page, site, "alice")
    open_chat(page, site)
    error = page.locator(".chat-error")
    expect(error).to_be_hidden()

    for number in range(21):
        send_with_enter(page, f"message {number}")

    expect(error).to_be_visible()
    expect(error).to_have_attribute("data-code", ErrorCode.RATE_LIMITED.value)
    expect(page.locator(".chat-message")).to_have_count(20)
    expect(page.locator("#chat .ws-state")).to_have_attribute("data-state", "open")


def test_room_list_links_rooms_with_messages_and_the_open_room_form_refuses_bad_names(
    site, open_page
):
    create_user("alice")
    page = open_page("alice")
    log_in(page, site, "alice")
    open_chat(page, site)
    send(page, "first words")
    expect(page.locator(".chat-message")).to_have_count(1)

    page.locator("#id_room").fill("not a room!")
    page.locator(".chat-open button").click()
    expect(page.locator(".chat-open .errorlist")).to_be_visible()
    expect(page.locator(".chat-rooms a")).to_have_text(["lobby"])

    page.locator("#id_room").fill("next-room")
    page.locator(".chat-open button").click()
    expect(page).to_have_url(f"{site.url}/chat/next-room/")
    expect(page.locator("h1")).to_contain_text("next-room")
    page.locator(".chat-rooms a").click()
    expect(page).to_have_url(f"{site.url}/chat/lobby/")
    expect(page.locator(".chat-message .chat-text")).to_have_text(["first words"])


def test_echo_page_sends_receives_and_reconnects_after_the_server_restarts_on_the_same_port(
    site, open_page
):
    page = open_page("echo")
    dialogs = record_dialogs(page)
    state = page.locator("#echo .ws-state")
    page.goto(f"{site.url}/echo/")
    expect(state).to_have_attribute("data-state", "open")

    page.locator("#echo-input").fill(f"héllo 你好 {HOSTILE}")
    page.locator(".ws-send button").click()
    expect(page.locator(".log-received .log-body")).to_have_text([f"héllo 你好 {HOSTILE}"])
    expect(page.locator(".log-sent .log-body")).to_have_text([f"héllo 你好 {HOSTILE}"])
    expect(page.locator(".ws-log").locator(MARKUP)).to_have_count(0)
    assert page.locator(".log-received time").get_attribute("datetime")

    page.locator("[data-action=disconnect]").click()
    expect(state).to_have_attribute("data-state", "closed")
    page.locator("[data-action=connect]").click()
    expect(state).to_have_attribute("data-state", "open")

    site.stop()  # by pid
    expect(state).to_have_attribute("data-state", "waiting")
    site.start_again_on_the_same_port()
    # The page's back-off (0.5 s doubling, jittered) brings it back by itself.
    expect(state).to_have_attribute("data-state", "open", timeout=40_000)
    page.locator("#echo-input").fill("after the restart")
    page.locator(".ws-send button").click()
    expect(page.locator(".log-received .log-body").last).to_have_text("after the restart")
    expect(page.locator(".ws-log").locator(MARKUP)).to_have_count(0)
    assert dialogs == []
