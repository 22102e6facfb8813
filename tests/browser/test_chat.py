"""The chat and echo pages in a real browser against a live production-mode daphne: two people in
one room, hostile text shown as text, presence as people come and go, history on reload, the
rate limit's error shown, the room list and the open-room form, and the echo's log, its
connect buttons and its reconnecting by itself after the server restarts on the same port."""

import contextlib
import datetime
import threading

import pytest
from django.db import connection
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
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


def test_messages_over_the_rate_limit_show_its_error_keep_the_text_and_the_connection_stays_open(
    site, open_page
):
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
    # The refused message is not lost: it is back in the input, the reason beside it.
    expect(page.locator("#chat-input")).to_have_value("message 20")
    expect(error).to_have_attribute("aria-live", "assertive")


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


# ------------------------------------------------------------------------------------------------
# A chat people would use (issue 19, item 3)
# ------------------------------------------------------------------------------------------------


def chat_texts(page):
    return page.locator(".chat-message .chat-text")


def test_own_messages_are_marked_as_ones_own_on_each_side(site, open_page):
    create_user("alice")
    create_user("bob")
    alice, bob = open_page("alice"), open_page("bob")
    for name, page in (("alice", alice), ("bob", bob)):
        log_in(page, site, name)
        open_chat(page, site, "/chat/garden/")

    send(alice, "from alice")
    expect(chat_texts(bob)).to_have_text(["from alice"])
    send(bob, "from bob")

    for page, own, other in ((alice, "from alice", "from bob"), (bob, "from bob", "from alice")):
        expect(page.locator(".chat-message.chat-own .chat-text")).to_have_text([own])
        expect(page.locator(".chat-message:not(.chat-own) .chat-text")).to_have_text([other])


WEEKDAYS_ZH = "一二三四五六日"


def test_day_separators_and_dated_times_in_the_pages_language(site, open_page):
    from django.utils import timezone

    alice = create_user("alice")
    now = timezone.now()
    three_days_ago = now - datetime.timedelta(days=3)
    for text, moment in (
        ("long ago", three_days_ago),
        ("yesterday", now - datetime.timedelta(days=1)),
        ("today", now),
    ):
        Message.objects.create(user=alice, room="diary", text=text, created_at=moment)

    english = open_page("en", locale="en-US", timezone_id="UTC")
    log_in(english, site, "alice")
    open_chat(english, site, "/chat/diary/")
    expect(chat_texts(english)).to_have_text(["long ago", "yesterday", "today"])
    old = three_days_ago.astimezone(datetime.UTC)
    expect(english.locator(".chat-day")).to_have_text(
        [f"{old:%A}, {old:%B} {old.day}, {old.year}", "Yesterday", "Today"]
    )
    # A time not of today says its date too; today's is only a time.
    times = english.locator(".chat-message time")
    expect(times.nth(0)).to_contain_text(f"{old:%b} {old.day}, {old.year}")
    expect(times.nth(2)).not_to_contain_text(str(old.year))

    chinese = open_page("zh", locale="zh-CN", timezone_id="UTC")
    log_in(chinese, site, "alice")
    open_chat(chinese, site, "/chat/diary/")
    expect(chinese.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(chinese.locator(".chat-day")).to_have_text(
        [
            f"{old.year}年{old.month}月{old.day}日星期{'一二三四五六日'[old.weekday()]}",
            "昨天",
            "今天",
        ]
    )


def test_room_list_shows_new_rooms_and_counts_live_on_another_page(site, open_page):
    create_user("alice")
    create_user("bob")
    alice, bob = open_page("alice"), open_page("bob")
    log_in(alice, site, "alice")
    open_chat(alice, site, "/chat/")
    expect(alice.locator(".chat-rooms li")).to_have_text(["No room has messages yet."])
    log_in(bob, site, "bob")
    open_chat(bob, site, "/chat/新房间/")

    send(bob, "first")
    new_room = alice.locator(".chat-rooms li[data-room='新房间']")
    expect(new_room).to_contain_text("1 message")
    expect(alice.locator(".chat-rooms li")).to_have_count(1)
    send(bob, "second")
    expect(new_room).to_contain_text("2 messages")
    send(alice, "in the lobby")
    # Most recently active first, each page its own room included.
    for page in (alice, bob):
        expect(page.locator(".chat-rooms li a")).to_have_text(["lobby", "新房间"])
    with alice.expect_navigation():
        new_room.locator("a").click()
    expect(alice).to_have_url(f"{site.url}/chat/%E6%96%B0%E6%88%BF%E9%97%B4/")
    expect(chat_texts(alice)).to_have_text(["first", "second"])


HIDE_TAB = """hidden => {
    Object.defineProperty(document, "visibilityState", {
        configurable: true, get: () => (hidden ? "hidden" : "visible"),
    });
    document.dispatchEvent(new Event("visibilitychange"));
}"""


def test_unread_count_in_the_title_while_the_tab_is_hidden_reset_when_shown(site, open_page):
    create_user("alice")
    create_user("bob")
    alice, bob = open_page("alice"), open_page("bob")
    for name, page in (("alice", alice), ("bob", bob)):
        log_in(page, site, name)
        open_chat(page, site, "/chat/garden/")
    title = alice.title()
    assert not title.startswith("(")

    alice.evaluate(HIDE_TAB, True)
    send(bob, "one")
    send(bob, "two")
    expect(alice).to_have_title(f"(2) {title}")
    # One's own messages (another tab of alice's) are not unread.
    alice.evaluate(HIDE_TAB, False)
    expect(alice).to_have_title(title)


def test_enter_while_disconnected_keeps_the_text_says_so_and_reconnect_now_reconnects(
    site, open_page
):
    create_user("alice")
    page = open_page("alice")
    log_in(page, site, "alice")
    open_chat(page, site)
    state = page.locator("#chat .ws-state")
    reconnect = page.locator(".chat-reconnect")
    expect(reconnect).to_be_hidden()

    site.stop()  # by pid
    expect(state).to_have_attribute("data-state", "waiting")
    expect(reconnect).to_be_visible()
    send_with_enter(page, "typed while offline")
    expect(page.locator(".chat-error")).to_have_attribute("data-code", "not_connected")
    expect(page.locator("#chat-input")).to_have_value("typed while offline")

    # The click connects at once, whatever the back-off's timer still has to run (up to 10 s);
    # with the server still down the attempt fails, and the page waits again.
    state_after_click = page.evaluate(
        """() => {
            document.querySelector(".chat-reconnect").click();
            return document.querySelector("#chat .ws-state").dataset.state;
        }"""
    )
    assert state_after_click == "connecting"
    expect(state).to_have_attribute("data-state", "waiting")

    site.start_again_on_the_same_port()
    # Unless the back-off's own attempt got there first.
    page.evaluate(
        """() => {
            if (document.querySelector("#chat .ws-state").dataset.state === "waiting") {
                document.querySelector(".chat-reconnect").click();
            }
        }"""
    )
    expect(state).to_have_attribute("data-state", "open")
    expect(reconnect).to_be_hidden()
    expect(page.locator(".chat-error")).to_be_hidden()
    page.locator("#chat-input").press("Enter")
    expect(chat_texts(page)).to_have_text(["typed while offline"])
    expect(page.locator("#chat-input")).to_have_value("")


def test_reconnect_back_off_is_capped_at_ten_seconds(site, open_page):
    page = open_page("echo")
    page.goto(f"{site.url}/echo/")
    delays = page.evaluate(
        """() => {
            const delays = [];
            const socket = new ReconnectingSocket("/nowhere/", {
                onState: (state, delay) => delays.push(delay), onMessage() {},
            });
            for (let attempt = 0; attempt < 12; attempt += 1) {
                socket.scheduleReconnect();
                window.clearTimeout(socket.timer);
            }
            return delays;
        }"""
    )
    assert max(delays) <= 10_000
    assert max(delays[-3:]) >= 5_000  # half the cap at least, jittered


def pass_through_chat_sockets(page):
    """The page's chat sockets, each passed through to the live server, so that a test can end
    one with a close code from the server's side (4401 as chatsrv's server sends it when the
    session ends, 4503) or add an event to it."""
    routes = []

    def handle(route):
        route.connect_to_server()
        routes.append(route)

    page.route_web_socket("**/ws/chat/**", handle)
    return routes


def test_a_4401_close_says_logged_out_links_back_to_the_room_and_stops_retrying(site, open_page):
    create_user("alice")
    page = open_page("alice")
    log_in(page, site, "alice")
    routes = pass_through_chat_sockets(page)
    open_chat(page, site, "/chat/房间/")

    routes[0].close(code=4401, reason="session ended")

    notice = page.locator(".chat-logged-out")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("You are logged out")
    login = notice.locator("a")
    expect(login).to_have_attribute("href", "/accounts/login/?next=%2Fchat%2F%E6%88%BF%E9%97%B4%2F")
    expect(page.locator("#chat-input")).to_be_disabled()
    expect(page.locator("#chat .ws-state")).to_have_attribute("data-state", "closed")
    expect(page.locator(".chat-reconnect")).to_be_hidden()
    assert len(routes) == 1  # no retry

    with page.expect_navigation():
        login.click()
    page.locator("#id_username").fill("alice")
    page.locator("#id_password").fill(STRONG_PASSWORD)
    with page.expect_navigation():
        page.locator("form.account-form button[type=submit]").click()
    expect(page).to_have_url(f"{site.url}/chat/%E6%88%BF%E9%97%B4/")


def test_logging_out_in_another_tab_shows_logged_out_on_the_chat_page(site, open_page):
    create_user("alice")
    page = open_page("alice")
    log_in(page, site, "alice")
    open_chat(page, site, "/chat/garden/")
    other_tab = page.context.new_page()
    other_tab.goto(f"{site.url}/accounts/profile/")
    with other_tab.expect_navigation():
        other_tab.locator("form.logout-form button").click()

    expect(page.locator(".chat-logged-out")).to_be_visible(timeout=5_000)
    expect(page.locator("#chat-input")).to_be_disabled()


def test_a_reconnect_without_a_session_shows_logged_out(site, open_page):
    create_user("alice")
    page = open_page("alice")
    log_in(page, site, "alice")
    open_chat(page, site, "/chat/garden/")

    site.stop()
    page.context.clear_cookies()
    site.start_again_on_the_same_port()
    reconnect, logged_out = page.locator(".chat-reconnect"), page.locator(".chat-logged-out")
    # The page also retries on its own: on a slow restart its retry can come before the click,
    # and then it is that reconnect which finds the session gone (and hides the button).
    either = page.locator(".chat-reconnect:visible, .chat-logged-out:visible").first
    expect(either).to_be_visible(timeout=15_000)
    if not logged_out.is_visible():
        # If the page's own retry goes first, it hides the button: no click is needed then.
        with contextlib.suppress(PlaywrightTimeoutError):
            reconnect.click(timeout=2_000)

    expect(logged_out).to_be_visible(timeout=5_000)


def test_admin_deleting_messages_removes_them_from_every_open_page(site, open_page):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("admin", password=STRONG_PASSWORD)
    create_user("alice")
    create_user("bob")
    alice, bob = open_page("alice"), open_page("bob")
    for name, page in (("alice", alice), ("bob", bob)):
        log_in(page, site, name)
        open_chat(page, site, "/chat/garden/")
    for text in ("keep", "spam one", "spam two", "spam three"):
        send(alice, text)
    for page in (alice, bob):
        expect(chat_texts(page)).to_have_count(4)
    spam = {m.text: m.pk for m in Message.objects.filter(text__startswith="spam")}

    moderator = open_page("admin")
    moderator.goto(f"{site.url}/admin/login/?next=/admin/")
    moderator.locator("#id_username").fill("admin")
    moderator.locator("#id_password").fill(STRONG_PASSWORD)
    with moderator.expect_navigation():
        moderator.locator("input[type=submit]").click()
    # The delete page of one message.
    moderator.goto(f"{site.url}/admin/chat/message/{spam['spam one']}/delete/")
    with moderator.expect_navigation():
        moderator.locator("input[type=submit]").click()
    for page in (alice, bob):
        expect(chat_texts(page)).to_have_text(["keep", "spam two", "spam three"])

    # The bulk action on the other two.
    moderator.goto(f"{site.url}/admin/chat/message/")
    for text in ("spam two", "spam three"):
        moderator.locator(f"input[name=_selected_action][value='{spam[text]}']").check()
    moderator.locator("select[name=action]").select_option("delete_selected")
    with moderator.expect_navigation():
        moderator.locator("button[name=index]").click()
    with moderator.expect_navigation():
        moderator.locator("input[type=submit]").click()
    for page in (alice, bob):
        expect(chat_texts(page)).to_have_text(["keep"])
        expect(page.locator(".chat-rooms li[data-room=garden]")).to_contain_text("1 message")
    alice.reload()
    expect(alice.locator("#chat .ws-state")).to_have_attribute("data-state", "open")
    expect(chat_texts(alice)).to_have_text(["keep"])
    assert list(Message.objects.values_list("text", flat=True)) == ["keep"]

    # Deleted by another process (this one, through the channel layer's Redis): in a thread of
    # its own, since Playwright's event loop is this thread's.
    def delete_in_a_thread():
        Message.objects.filter(text="keep").delete()
        connection.close()  # the thread's own

    deleting = threading.Thread(target=delete_in_a_thread)
    deleting.start()
    deleting.join(timeout=10)
    for page in (alice, bob):
        expect(chat_texts(page)).to_have_count(0)
        expect(page.locator(".chat-rooms li")).to_have_text(["No room has messages yet."])


def test_chat_input_is_at_the_bottom_of_a_375_px_screen(site, open_page):
    create_user("alice")
    page = open_page("mobile", viewport={"width": 375, "height": 667})
    log_in(page, site, "alice")
    open_chat(page, site)

    box = page.locator(".chat-send").bounding_box()
    assert 667 - 80 <= box["y"] + box["height"] <= 667
    input_box = page.locator("#chat-input").bounding_box()
    assert input_box["height"] >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_a_4503_close_says_the_service_is_unavailable_and_retries(site, open_page):
    create_user("alice")
    page = open_page("alice")
    log_in(page, site, "alice")
    routes = pass_through_chat_sockets(page)
    open_chat(page, site)
    state = page.locator("#chat .ws-state")

    routes[0].close(code=4503, reason="service unavailable")

    expect(state).to_contain_text("Service unavailable, retrying")
    # Retried by itself (0.5 s at first, jittered), through the live server again.
    expect(state).to_have_attribute("data-state", "open")
    assert len(routes) == 2
    expect(page.locator(".chat-logged-out")).to_be_hidden()


def test_a_message_of_a_deleted_account_shows_deleted_user(site, open_page):
    # Message.user becomes nullable with helper auth's migration; until then the event is put
    # on the live connection as the server sends it then ({"user": null}).
    create_user("alice")
    page = open_page("alice")
    log_in(page, site, "alice")
    routes = pass_through_chat_sockets(page)
    open_chat(page, site)

    routes[0].send(
        '{"type": "message", "id": 999999, "user": null, "text": "orphan",'
        ' "sent_at": "2026-01-02T03:04:05.000Z", "client_id": null}'
    )

    user = page.locator(".chat-message .chat-user-deleted")
    expect(user).to_have_text("deleted user")
    expect(page.locator(".chat-message.chat-own")).to_have_count(0)
