"""The chat and echo pages, their URLs and the room name converter."""

import pytest
from django.conf import settings
from django.http import Http404
from django.test import RequestFactory
from django.urls import NoReverseMatch, resolve, reverse

from chat import services
from chat.converters import RoomNameConverter, is_room_name

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    client.user = alice
    return client


def form_error_codes(response):
    return [error.code for error in response.context["form"].errors.as_data().get("room", [])]


def test_url_names_resolve_to_the_chat_paths():
    assert reverse("chat:lobby") == "/chat/"
    assert reverse("chat:room", kwargs={"room_name": "Room_1-a"}) == "/chat/Room_1-a/"
    assert reverse("echo") == "/echo/"


def test_lobby_is_the_room_page_with_the_default_room_name():
    match = resolve("/chat/")

    assert match.view_name == "chat:lobby"
    assert match.kwargs == {"room_name": "lobby"}
    assert resolve("/chat/lobby/").kwargs == {"room_name": "lobby"}


@pytest.mark.parametrize(
    "name", ["a", "Z9", "with-dash_and_underscore", "x" * 64, "ünï", "房间", "Зал_1", "房" * 64]
)
def test_converter_accepts_room_names(name):
    assert is_room_name(name)
    assert resolve(f"/chat/{name}/").kwargs == {"room_name": name}
    assert RoomNameConverter().to_url(name) == name


@pytest.mark.parametrize(
    "name", ["", "x" * 65, "房" * 65, "has space", "dot.ted", "semi;colon", "emoji😀", "a/b"]
)
def test_converter_refuses_other_names(name):
    assert not is_room_name(name)
    with pytest.raises(ValueError):
        RoomNameConverter().to_url(name)
    with pytest.raises(NoReverseMatch):
        reverse("chat:room", kwargs={"room_name": name})


@pytest.mark.parametrize("path", ["/chat/", "/chat/general/"])
def test_chat_pages_need_login(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response.url.startswith(f"{reverse(settings.LOGIN_URL)}?next=")


def test_lobby_page_connects_to_the_lobby(alice_client):
    response = alice_client.get("/chat/")

    assert response.status_code == 200
    assert response.context["room_name"] == "lobby"
    assert 'data-ws-path="/ws/chat/lobby/"' in response.content.decode()


@pytest.mark.parametrize(
    ("visitor", "path", "ws_path", "scripts"),
    [
        pytest.param(
            "alice_client",
            "/chat/general/",
            "/ws/chat/general/",
            ["js/chat.js", "js/reconnecting-socket.js"],
            id="room page, logged in",
        ),
        pytest.param("client", "/echo/", "/ws/echo/", ["js/echo.js"], id="echo page, anonymous"),
    ],
)
def test_page_connects_to_its_websocket_and_loads_its_scripts(
    request, visitor, path, ws_path, scripts
):
    response = request.getfixturevalue(visitor).get(path)

    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-ws-path="{ws_path}"' in html
    for script in scripts:
        assert script in html


@pytest.mark.parametrize("path", ["/chat/has%20space/", f"/chat/{'x' * 65}/", "/chat/a.b/"])
def test_invalid_room_in_the_address_is_not_found(alice_client, path):
    assert alice_client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/chat/has%20space/", f"/chat/{'房' * 65}/", "/chat/a.b/"])
def test_invalid_room_in_the_address_raises_a_404_that_spells_out_the_rule(path):
    # The site's 404 page (handler404, templates/jinja2/404.html) shows the exception's message.
    match = resolve(path)
    assert match.view_name == "chat:not-a-room"

    with pytest.raises(Http404, match=r"1 to 64 letters .*digits, hyphens or underscores"):
        match.func(RequestFactory().get(path), **match.kwargs)


def test_unicode_room_page_connects_to_its_percent_encoded_websocket_and_stores_64_letters(
    alice_client,
):
    name = "房" * 64
    services.post_message(user=alice_client.user, room=name, text="你好")

    response = alice_client.get(reverse("chat:room", kwargs={"room_name": name}))

    assert response.status_code == 200
    assert response.context["room_name"] == name
    assert 'data-ws-path="/ws/chat/' + "%E6%88%BF" * 64 + '/"' in response.content.decode()
    assert [room["room"] for room in response.context["rooms"]] == [name]


def test_room_page_gives_the_script_its_user_and_a_login_link_back_to_the_room(alice_client):
    html = alice_client.get("/chat/general/").content.decode()

    assert 'data-username="alice"' in html
    assert 'data-login-url="/accounts/login/?next=%2Fchat%2Fgeneral%2F"' in html


def test_open_room_form_redirects_to_a_valid_room(alice_client):
    response = alice_client.get("/chat/", {"room": "new-room_2"})

    assert response.status_code == 302
    assert response.url == "/chat/new-room_2/"


@pytest.mark.parametrize(
    ("name", "code"),
    [("bad name!", "invalid_room"), ("x" * 65, "max_length"), ("", "required")],
)
def test_open_room_form_refuses_invalid_names_with_a_message(alice_client, name, code):
    response = alice_client.get("/chat/general/", {"room": name})

    assert response.status_code == 200
    assert code in form_error_codes(response)
    assert 'class="errorlist' in response.content.decode()
    assert response.context["room_name"] == "general"


def test_room_page_lists_rooms_with_messages_escaped_and_linked(alice_client):
    services.post_message(user=alice_client.user, room="busy", text="<script>alert(1)</script>")
    services.post_message(user=alice_client.user, room="busy", text="two")
    services.post_message(user=alice_client.user, room="quiet", text="one")

    response = alice_client.get("/chat/")

    html = response.content.decode()
    assert [room["room"] for room in response.context["rooms"]] == ["quiet", "busy"]
    assert 'href="/chat/busy/"' in html
    assert 'href="/chat/quiet/"' in html
    assert "<script>alert(1)</script>" not in html


def test_navigation_links_to_echo_and_chat(client):
    html = client.get("/echo/").content.decode()

    assert f'href="{reverse("echo")}"' in html
    assert f'href="{reverse("chat:lobby")}"' in html
