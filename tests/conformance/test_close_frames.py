"""An invalid close frame from the client is answered with a close frame naming the error, and
then the TCP connection ends normally (cases 7.9.x and 7.13.x of the Autobahn|Testsuite send
such frames, and accept a reset too).

On daphne, autobahn used to abort the connection instead (a TCP reset), discarding the close
frame it had just written: server.daphne.WebSocketProtocol.dropConnection. uvicorn answers the
same way, for comparison.
"""

import struct

import pytest

from conformance.launchers import ServerProcess, server_env
from conformance.runner import ARTIFACTS_DIR
from rfc6455.client import RawWebSocket
from rfc6455.frames import CloseCode, Opcode, parse_close_payload

pytestmark = [pytest.mark.conformance, pytest.mark.live_server_process]

INVALID_CLOSE_FRAMES = {
    "reserved code 999": (struct.pack("!H", 999), CloseCode.PROTOCOL_ERROR),
    "reserved code 1004": (struct.pack("!H", 1004), CloseCode.PROTOCOL_ERROR),
    "code 5000, beyond the range": (struct.pack("!H", 5000), CloseCode.PROTOCOL_ERROR),
    "reason not UTF-8": (
        struct.pack("!H", 1000) + b"\xce\xba\xed\xa0\x80",
        CloseCode.INVALID_PAYLOAD,
    ),
}


@pytest.fixture(scope="module", params=["daphne", "uvicorn"])
def server(request):
    name = request.param
    log_path = ARTIFACTS_DIR / "close-frames" / f"{name}.log"
    with ServerProcess(name, log_path=log_path, env=server_env()) as process:
        yield process


@pytest.mark.parametrize(
    "payload, expected_code", INVALID_CLOSE_FRAMES.values(), ids=INVALID_CLOSE_FRAMES.keys()
)
def test_an_invalid_close_frame_gets_a_close_frame_then_the_end_of_the_connection(
    server, payload, expected_code
):
    client = RawWebSocket(server.ws_url("/ws/echo/"), origin=server.origin, timeout=10)
    client.connect()
    try:
        client.send(payload, opcode=Opcode.CLOSE)
        frame, _ = client.receive(timeout=10)
        assert frame.opcode == Opcode.CLOSE
        code, _reason = parse_close_payload(frame.payload)
        assert code == expected_code

        # Then the server closes TCP: an end of stream, not a reset.
        client.sock.settimeout(10)
        assert client.sock.recv(1) == b""
    finally:
        client.close()
    assert server.process.poll() is None


def test_a_valid_close_is_still_answered_normally(server):
    client = RawWebSocket(server.ws_url("/ws"), origin=server.origin, timeout=10)
    client.connect()
    try:
        client.send_close(CloseCode.GOING_AWAY, "bye")
        frame, _ = client.receive(timeout=10)

        assert frame.opcode == Opcode.CLOSE
        assert parse_close_payload(frame.payload)[0] in (CloseCode.NORMAL, CloseCode.GOING_AWAY)
    finally:
        client.close()
