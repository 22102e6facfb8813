"""The documented alternative server: uvicorn serves the same application, HTTP and WebSockets."""

import httpx
import pytest
from websockets.exceptions import ConnectionClosedError
from websockets.sync.client import connect

from tests.support.servers import UvicornServer


@pytest.fixture
def uvicorn_server(start_server):
    return start_server("uvicorn", UvicornServer, WEBSOCKET_MAX_MESSAGE_BYTES="65536")


def test_uvicorn_serves_pages_and_health(uvicorn_server):
    assert httpx.get(f"{uvicorn_server.url}/healthz", timeout=10).status_code == 200
    assert httpx.get(f"{uvicorn_server.url}/", timeout=10).status_code == 200


def test_uvicorn_echoes_every_size_up_to_the_limit_and_closes_1009_above(uvicorn_server):
    with connect(
        f"{uvicorn_server.ws_url}/ws/echo/", origin=uvicorn_server.url, max_size=None
    ) as echo:
        for payload in ["", "x" * 125, "y" * 65536]:
            echo.send(payload)
            assert echo.recv(timeout=10) == payload
        echo.send(b"\x00" * 3)
        assert echo.recv(timeout=10) == b"\x00" * 3

        echo.send("z" * 65537)
        with pytest.raises(ConnectionClosedError) as closed:
            echo.recv(timeout=10)

    assert closed.value.rcvd.code == 1009
    assert httpx.get(f"{uvicorn_server.url}/healthz", timeout=10).status_code == 200
