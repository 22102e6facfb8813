"""The WebSocket origin check compares scheme, host and port (core/websocket_origin.py), through
the project's ASGI application and a live daphne."""

import pytest
from channels.testing import WebsocketCommunicator
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from core.websocket_origin import origin_allowed, site_origin
from project.asgi import application
from server.commands import free_port
from tests.support.servers import DaphneServer, UvicornServer


def handshake(host="127.0.0.1:8000", origin=None, scheme="ws", **headers):
    scope_headers = [(b"host", host.encode())]
    if origin is not None:
        scope_headers.append((b"origin", origin.encode()))
    scope_headers += [(name.encode(), value.encode()) for name, value in headers.items()]
    return {"type": "websocket", "scheme": scheme, "headers": scope_headers}


@pytest.mark.parametrize(
    "origin",
    [
        "http://127.0.0.1:9999",  # another port of the same host
        "http://127.0.0.1",  # the default port is another port
        "https://127.0.0.1:8000",  # another scheme
        "http://localhost:8000",  # another allowed host
        "http://evil.example",
        "null",
        "",
    ],
)
def test_any_other_origin_is_refused(origin):
    assert not origin_allowed(handshake(origin=origin))


def test_a_handshake_without_origin_is_refused():
    assert not origin_allowed(handshake())


def test_the_sites_own_origin_is_accepted():
    assert origin_allowed(handshake(origin="http://127.0.0.1:8000"))


def test_wss_makes_the_sites_origin_https():
    scope = handshake(host="chat.example.com", origin="https://chat.example.com", scheme="wss")

    assert site_origin(scope) is None  # chat.example.com is not an allowed host here
    assert not origin_allowed(scope)


def test_behind_a_tls_proxy_the_origin_is_https(settings):
    settings.ALLOWED_HOSTS = ["chat.example.com"]
    # What uvicorn, granian and server/daphne.py make of X-Forwarded-Proto: https.
    behind_proxy = handshake(host="chat.example.com", scheme="wss")

    assert site_origin(behind_proxy) == "https://chat.example.com"
    assert origin_allowed(handshake("chat.example.com", "https://chat.example.com", "wss"))
    assert not origin_allowed(handshake("chat.example.com", "http://chat.example.com", "wss"))


def test_secure_proxy_ssl_header_decides_when_set(settings):
    settings.ALLOWED_HOSTS = ["chat.example.com"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    forwarded = {"x-forwarded-proto": "https"}
    scope = handshake("chat.example.com", "https://chat.example.com", **forwarded)

    assert origin_allowed(scope)


def test_forwarded_host_counts_only_with_use_x_forwarded_host(settings):
    settings.ALLOWED_HOSTS = ["chat.example.com", "127.0.0.1"]
    scope = handshake(
        "127.0.0.1:8001", "http://chat.example.com", **{"x-forwarded-host": "chat.example.com"}
    )

    assert not origin_allowed(scope)
    settings.USE_X_FORWARDED_HOST = True
    assert origin_allowed(scope)


def test_a_host_outside_allowed_hosts_has_no_origin_of_its_own(settings):
    settings.ALLOWED_HOSTS = ["chat.example.com"]

    assert not origin_allowed(handshake("evil.example", "http://evil.example"))


@pytest.mark.parametrize(
    ("trusted", "origin", "allowed"),
    [
        ("http://localhost:3000", "http://localhost:3000", True),
        ("http://localhost:3000", "http://localhost:3001", False),
        ("https://*.example.com", "https://app.example.com", True),
        ("https://*.example.com", "http://app.example.com", False),
        ("https://*.example.com", "https://example.org", False),
    ],
)
def test_csrf_trusted_origins_are_accepted(settings, trusted, origin, allowed):
    settings.CSRF_TRUSTED_ORIGINS = [trusted]

    assert origin_allowed(handshake(origin=origin)) is allowed


@pytest.mark.django_db  # Channels' denier closes old database connections first
async def test_the_application_refuses_another_port_before_routing():
    client = WebsocketCommunicator(
        application,
        "/ws/echo/",
        headers=[(b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:9999")],
    )

    connected, _ = await client.connect()

    assert not connected
    await client.disconnect()


@pytest.mark.live_server_process
def test_live_daphne_refuses_another_port_and_accepts_its_own_and_a_trusted_origin(
    start_server,
):
    trusted = f"http://localhost:{free_port()}"
    server = start_server("daphne-origins", CSRF_TRUSTED_ORIGINS=trusted)
    other_port = f"http://127.0.0.1:{free_port()}"

    with pytest.raises(InvalidStatus) as refused:
        connect(f"{server.ws_url}/ws/echo/", origin=other_port, proxy=None, open_timeout=10)
    for origin in (server.url, trusted):
        with connect(f"{server.ws_url}/ws/echo/", origin=origin, proxy=None, open_timeout=10) as ws:
            ws.send("hello")
            assert ws.recv(timeout=5) == "hello"

    assert refused.value.response.status_code == 403


@pytest.mark.live_server_process
@pytest.mark.parametrize("server_class", [DaphneServer, UvicornServer], ids=["daphne", "uvicorn"])
def test_live_server_behind_a_tls_proxy_wants_the_https_origin(live_server_env, server_class):
    # What nginx sends (deploy/nginx/chat.conf.template); the server trusts it (--proxy-headers).
    via_tls_proxy = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    with server_class(
        env=live_server_env, name="proxied-origins", extra_args=["--proxy-headers"]
    ) as server:
        https_origin = server.url.replace("http://", "https://")
        with pytest.raises(InvalidStatus) as refused:
            connect(
                f"{server.ws_url}/ws/echo/",
                origin=server.url,
                additional_headers=via_tls_proxy,
                proxy=None,
                open_timeout=10,
            )
        with connect(
            f"{server.ws_url}/ws/echo/",
            origin=https_origin,
            additional_headers=via_tls_proxy,
            proxy=None,
            open_timeout=10,
        ) as ws:
            ws.send("hello")
            assert ws.recv(timeout=5) == "hello"

    assert refused.value.response.status_code == 403
