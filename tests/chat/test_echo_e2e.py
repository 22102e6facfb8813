"""The echo end to end: live server processes, the ``websockets`` library and wsprobe's raw
client (rfc6455.client on rfc6455.frames)."""

import pytest
from websockets.exceptions import ConnectionClosed

from rfc6455.client import RawWebSocket, default_origin
from rfc6455.frames import CloseCode, Opcode, parse_close_payload
from tests.chat.conftest import ws_connect
from tests.support.servers import live_server_class

pytestmark = pytest.mark.live_server_process

SIZES = [0, 125, 126, 65_535, 65_536, 1_000_000]
LIMIT = 1_000_000


def text_of(size):
    return ("0123456789abcdef" * (size // 16 + 1))[:size]


def bytes_of(size):
    return (bytes(range(256)) * (size // 256 + 1))[:size]


def raw_client(server, path="/ws/echo/"):
    url = f"{server.ws_url}{path}"
    client = RawWebSocket(url, origin=default_origin(url), timeout=10)
    client.connect()
    return client


def assert_still_serving(server):
    assert server.process.poll() is None
    with ws_connect(server, "/ws/echo/") as connection:
        connection.send("still serving")
        assert connection.recv(timeout=5) == "still serving"


# ------------------------------------------------------------------------------------------------
# websockets library
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_echo_of_text_and_binary_through_websockets(echo_server, size):
    with ws_connect(echo_server, "/ws/echo/") as connection:
        connection.send(text_of(size))
        connection.send(bytes_of(size))

        assert connection.recv(timeout=10) == text_of(size)
        assert connection.recv(timeout=10) == bytes_of(size)


def test_seed_path_echoes_in_order(echo_server):
    messages = ["hello", b"\x00\x01", "", "你好", b"", "last"]

    with ws_connect(echo_server, "/ws") as connection:
        for message in messages:
            connection.send(message)

        assert [connection.recv(timeout=5) for _ in messages] == messages


def test_message_over_the_limit_is_closed_with_1009_and_the_server_carries_on(echo_server):
    with ws_connect(echo_server, "/ws/echo/") as connection:
        connection.send(text_of(LIMIT + 1))

        with pytest.raises(ConnectionClosed) as excinfo:
            connection.recv(timeout=10)

    assert excinfo.value.rcvd is not None, "the server dropped TCP without a close frame"
    assert excinfo.value.rcvd.code == CloseCode.MESSAGE_TOO_BIG
    assert_still_serving(echo_server)


# ------------------------------------------------------------------------------------------------
# wsprobe's codec on a raw socket
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("opcode", [Opcode.TEXT, Opcode.BINARY])
def test_echo_through_the_raw_codec(echo_server, size, opcode):
    payload = bytes_of(size) if opcode == Opcode.BINARY else text_of(size).encode()
    length_field = size if size <= 125 else (126 if size <= 65_535 else 127)

    with raw_client(echo_server) as client:
        sent = client.send(payload, opcode=opcode)
        frame, raw = client.receive()

    assert sent[1] == 0x80 | length_field  # masked, as a client must
    assert (frame.fin, frame.opcode, frame.masked) == (True, opcode, False)
    assert frame.payload == payload
    assert raw[1] == length_field  # the server answers in the minimal length form
    assert frame.consumed == len(raw)


def test_raw_message_over_the_limit_gets_a_close_frame_1009(echo_server):
    with raw_client(echo_server) as client:
        client.send(bytes_of(LIMIT + 1), opcode=Opcode.BINARY)
        frame, _ = client.receive()

    assert frame.opcode == Opcode.CLOSE
    assert parse_close_payload(frame.payload)[0] == CloseCode.MESSAGE_TOO_BIG
    assert_still_serving(echo_server)


def test_raw_closing_handshake(echo_server):
    with raw_client(echo_server) as client:
        client.send_close(CloseCode.NORMAL)
        frame, _ = client.receive()

    assert frame.opcode == Opcode.CLOSE
    assert parse_close_payload(frame.payload)[0] == CloseCode.NORMAL


# ------------------------------------------------------------------------------------------------
# Every way of starting the server behaves the same
# ------------------------------------------------------------------------------------------------


def test_each_launcher_echoes_empty_and_limit_sized_messages(any_server):
    with ws_connect(any_server, "/ws/echo/") as connection:
        for message in ("", b"", text_of(LIMIT), bytes_of(LIMIT)):
            connection.send(message)
            assert connection.recv(timeout=10) == message


def test_each_launcher_closes_oversize_messages_with_1009(any_server):
    with ws_connect(any_server, "/ws/echo/") as connection:
        connection.send(bytes_of(LIMIT + 1))
        with pytest.raises(ConnectionClosed) as excinfo:
            connection.recv(timeout=10)

    assert excinfo.value.rcvd is not None
    assert excinfo.value.rcvd.code == CloseCode.MESSAGE_TOO_BIG
    assert_still_serving(any_server)


def test_limit_comes_from_websocket_max_message_bytes(live_server_env):
    env = {**live_server_env, "WEBSOCKET_MAX_MESSAGE_BYTES": "1000"}

    with live_server_class()(env=env, name="server-limit") as server:
        with ws_connect(server, "/ws/echo/") as connection:
            connection.send(text_of(1000))
            assert connection.recv(timeout=5) == text_of(1000)
            connection.send(text_of(1001))
            with pytest.raises(ConnectionClosed) as excinfo:
                connection.recv(timeout=5)
        assert excinfo.value.rcvd.code == CloseCode.MESSAGE_TOO_BIG
        assert_still_serving(server)
