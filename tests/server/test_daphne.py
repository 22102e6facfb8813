"""server/daphne.py decodes text messages frame by frame: characters split across frames arrive
whole, and invalid UTF-8 fails the connection with 1007 at the frame that holds it.

The echo needs no database or Redis: the server runs on the embedded defaults.
"""

import pytest

from rfc6455.client import RawWebSocket
from rfc6455.frames import CloseCode, Opcode, encode_frame, parse_close_payload
from tests.support.servers import DaphneServer

ECHO = "/ws/echo/"


@pytest.fixture(scope="module")
def embedded_server(tmp_path_factory):
    sqlite = tmp_path_factory.mktemp("daphne") / "db.sqlite3"
    server = DaphneServer(
        env={"DATABASE_URL": "", "REDIS_URL": "", "SQLITE_PATH": str(sqlite)},
        name="daphne-embedded",
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def echo(embedded_server):
    connection = RawWebSocket(
        f"{embedded_server.ws_url}{ECHO}", origin=embedded_server.url, timeout=10
    )
    connection.connect()
    yield connection
    connection.close()


def send_frames(connection, *frames):
    for payload, opcode, fin in frames:
        connection._send_all(encode_frame(payload, opcode, mask=True, fin=fin))


def next_frame(connection):
    frame, _raw = connection.receive(timeout=10)
    return frame


TEXT = "é€😀 and more".encode()


@pytest.mark.parametrize("cut", [1, 2, 3, 5, 8], ids=lambda cut: f"cut at byte {cut}")
def test_a_character_split_across_frames_arrives_whole(echo, cut):
    send_frames(
        echo,
        (TEXT[:cut], Opcode.TEXT, False),
        (TEXT[cut : cut + 1], Opcode.CONTINUATION, False),
        (TEXT[cut + 1 :], Opcode.CONTINUATION, True),
    )

    frame = next_frame(echo)

    assert (frame.opcode, frame.payload) == (Opcode.TEXT, TEXT)


def test_invalid_utf8_fails_the_connection_before_the_message_ends(echo):
    # The message is never finished: the refusal must come from the first fragment itself.
    send_frames(echo, (b"fine so far \xff", Opcode.TEXT, False))

    frame = next_frame(echo)

    assert frame.opcode == Opcode.CLOSE
    assert parse_close_payload(frame.payload)[0] == CloseCode.INVALID_PAYLOAD


def test_a_text_message_ending_inside_a_character_is_refused_with_1007(echo):
    send_frames(echo, ("€".encode()[:2], Opcode.TEXT, True))

    frame = next_frame(echo)

    assert frame.opcode == Opcode.CLOSE
    assert parse_close_payload(frame.payload)[0] == CloseCode.INVALID_PAYLOAD


def test_binary_messages_are_not_decoded(echo):
    send_frames(echo, (b"\xff\xfe\xed\xa0\x80", Opcode.BINARY, True))

    frame = next_frame(echo)

    assert (frame.opcode, frame.payload) == (Opcode.BINARY, b"\xff\xfe\xed\xa0\x80")


def test_text_after_a_refused_connection_is_not_delivered(echo):
    send_frames(
        echo,
        (b"\xff", Opcode.TEXT, False),
        (b" ignored", Opcode.CONTINUATION, True),
        (b"never echoed", Opcode.TEXT, True),
    )

    frames = [next_frame(echo)]
    while frames[-1].opcode != Opcode.CLOSE:
        frames.append(next_frame(echo))

    assert [frame.opcode for frame in frames] == [Opcode.CLOSE]
