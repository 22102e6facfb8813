"""``manage.py wsprobe`` against live servers, and against a deliberately broken peer."""

import ast
import base64
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import threading

import pytest

from rfc6455.client import ClosedWithError, ConnectFailed, HandshakeRefused, MalformedServerFrame
from rfc6455.frames import HANDSHAKE_GUID
from server.commands import free_port
from server.ws_guard import CLOSE_LOGGED_OUT
from tests.support.chatting import create_user, login_cookie
from tests.support.servers import PROJECT_DIR

pytestmark = pytest.mark.live_server_process


def wsprobe(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "manage.py", "wsprobe", "--wait", "0.3", *args],
        cwd=PROJECT_DIR,
        env={**os.environ, "DEBUG": "1"},
        input=stdin,
        capture_output=True,
        timeout=60,
    )


def output(result):
    return result.stdout.decode(errors="replace")


def received_payloads(result):
    """The JSON payloads of the text frames the server sent, as wsprobe printed them."""
    pattern = r"^< fin=1 opcode=0x1 \(text\) .* payload=('.*')$"
    return [
        json.loads(ast.literal_eval(match)) for match in re.findall(pattern, output(result), re.M)
    ]


def test_exchange_with_the_echo_prints_frames_both_ways_annotated_and_in_hex(echo_server):
    result = wsprobe(f"{echo_server.ws_url}/ws", "hello", "")

    text = output(result)
    assert result.returncode == 0, text + result.stderr.decode()
    assert "> GET /ws HTTP/1.1" in text
    assert "< HTTP/1.1 101 Switching Protocols" in text
    assert re.search(
        r"^> fin=1 opcode=0x1 \(text\) mask=1 key=[0-9a-f]{8} length=5 payload='hello'$", text, re.M
    )
    assert "< fin=1 opcode=0x1 (text) mask=0 length=5 payload='hello'" in text
    assert "    81 05 68 65 6c 6c 6f" in text
    assert "< fin=1 opcode=0x1 (text) mask=0 length=0 payload=''" in text
    assert "    81 00" in text
    assert "< fin=1 opcode=0x8 (close) mask=0 length=2 code=1000" in text


def test_megabyte_message_and_binary_frames(echo_server):
    result = wsprobe(f"{echo_server.ws_url}/ws/echo/", "--binary", "--size", "1000000")

    text = output(result)
    assert result.returncode == 0, text
    assert "< fin=1 opcode=0x2 (binary) mask=0 length=1000000" in text
    assert "    82 7f 00 00 00 00 00 0f 42 40" in text


def test_message_from_standard_input(echo_server):
    result = wsprobe(f"{echo_server.ws_url}/ws/echo/", "--file", "-", stdin="從標準輸入".encode())

    assert result.returncode == 0
    assert "< fin=1 opcode=0x1 (text) mask=0 length=15 payload='從標準輸入'" in output(result)


def test_oversize_message_exits_with_the_close_code_reported(echo_server):
    result = wsprobe(f"{echo_server.ws_url}/ws/echo/", "--size", "1000001")

    assert result.returncode == ClosedWithError.exit_code
    assert "code=1009" in output(result)
    assert b"1009" in result.stderr


def test_chat_with_a_session_cookie(daphne_server):
    alice = create_user("alice")
    cookie = login_cookie(alice)
    message = json.dumps({"type": "message", "text": "hi from wsprobe"})

    result = wsprobe(
        f"{daphne_server.ws_url}/ws/chat/probe/", "--cookie", cookie, "--preview", "5000", message
    )

    assert result.returncode == 0, output(result)
    events = received_payloads(result)
    assert [event["type"] for event in events] == ["history", "presence", "message"]
    assert events[1]["users"] == ["alice"]
    assert (events[2]["user"], events[2]["text"]) == ("alice", "hi from wsprobe")


def test_anonymous_chat_is_accepted_then_closed_as_logged_out(daphne_server):
    result = wsprobe(f"{daphne_server.ws_url}/ws/chat/probe/", "hello")

    assert result.returncode == ClosedWithError.exit_code
    assert "< HTTP/1.1 101" in output(result)
    assert f"code={CLOSE_LOGGED_OUT}" in output(result)


def test_other_origin_is_refused_with_403(echo_server):
    result = wsprobe(f"{echo_server.ws_url}/ws/echo/", "hello", "--origin", "http://evil.example")

    assert result.returncode == HandshakeRefused.exit_code
    assert "< HTTP/1.1 403" in output(result)


def test_nothing_listening(echo_server):
    result = wsprobe(f"ws://127.0.0.1:{free_port()}/ws")

    assert result.returncode == ConnectFailed.exit_code
    assert result.stderr


# ------------------------------------------------------------------------------------------------
# A broken peer: a few lines of socket server that daphne would never be
# ------------------------------------------------------------------------------------------------


class BrokenPeer:
    """Accepts one connection, answers the handshake (rightly or not), then sends ``frames``."""

    def __init__(self, frames=b"", accept=None):
        self.frames = frames
        self.accept = accept
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)

    def serve(self):
        connection, _ = self.listener.accept()
        with connection:
            request = b""
            while b"\r\n\r\n" not in request:
                request += connection.recv(4096)
            key = re.search(rb"Sec-WebSocket-Key: (\S+)", request).group(1).decode()
            digest = hashlib.sha1((key + HANDSHAKE_GUID).encode()).digest()  # noqa: S324
            accept = self.accept or base64.b64encode(digest).decode()
            connection.sendall(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: "
                + accept.encode()
                + b"\r\n\r\n"
                + self.frames
            )
            connection.recv(4096)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.listener.close()
        self.thread.join(timeout=5)


@pytest.mark.parametrize(
    "frames",
    [
        pytest.param(b"\x81\x7e\x00\x05hello", id="16-bit length for 5 bytes"),
        pytest.param(b"\xc1\x05hello", id="reserved bit"),
        pytest.param(b"\x81\x85abcd\x09\x07\x0f\x08\x0e", id="masked by the server"),
        pytest.param(b"\x81\x02\xff\xfe", id="text not UTF-8"),
    ],
)
def test_malformed_server_frame_exits_non_zero(frames):
    with BrokenPeer(frames) as peer:
        result = wsprobe(f"ws://127.0.0.1:{peer.port}/ws")

    assert result.returncode == MalformedServerFrame.exit_code
    assert result.stderr
    assert "< (malformed)" in output(result)


def test_wrong_accept_key_is_refused():
    with BrokenPeer(accept="AAAAAAAAAAAAAAAAAAAAAAAAAAA=") as peer:
        result = wsprobe(f"ws://127.0.0.1:{peer.port}/ws")

    assert result.returncode == HandshakeRefused.exit_code
    assert result.stderr
