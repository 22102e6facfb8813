"""Backpressure through a live server: clients that send and never read cannot grow the server's
memory past the high-water mark, other clients are still served, and the slow ones are closed
after the send timeout (docs/websockets.md, "Backpressure")."""

import os
import socket
import threading
import time

import pytest
from websockets.sync.client import connect

from rfc6455.frames import Opcode, encode_frame, new_key
from rfc6455.handshake import check_response, client_request, parse_response_head
from tests.support.servers import DaphneServer, UvicornServer
from tests.support.waiting import wait_until

SLOW_CLIENTS = 20
MESSAGES = 100
MESSAGE_BYTES = 256 * 1024
HIGH_WATER = 1024 * 1024
SEND_TIMEOUT = 2
ALLOWANCE = 60 * 1024 * 1024


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


class SlowReader(threading.Thread):
    """A client that opens /ws/echo/, sends ``MESSAGES`` binary messages and never reads, on a
    socket with a small receive buffer; ``error`` is what ended its sending (the server closed)."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server = server
        self.error = None
        self.sent_all = False
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", server.port))
        key = new_key()
        host = f"127.0.0.1:{server.port}"
        self.sock.sendall(client_request("/ws/echo/", host, key, origin=server.url))
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            assert chunk, "closed during the handshake"
            head += chunk
        check_response(parse_response_head(head), key)

    def run(self):
        frame = encode_frame(os.urandom(MESSAGE_BYTES), Opcode.BINARY, mask=True)
        try:
            for _ in range(MESSAGES):
                self.sock.sendall(frame)
            self.sent_all = True
        except OSError as exc:
            self.error = exc

    def close(self):
        self.sock.close()


def echo_served(server):
    with connect(f"{server.ws_url}/ws/echo/", origin=server.url, open_timeout=10) as echo:
        echo.send("still served")
        return echo.recv(timeout=10) == "still served"


@pytest.mark.parametrize("server_class", [DaphneServer, UvicornServer], ids=["daphne", "uvicorn"])
def test_clients_that_never_read_cannot_grow_memory_and_are_closed_after_the_send_timeout(
    start_server, server_class
):
    server = start_server(
        f"backpressure-{server_class.server}",
        server_class,
        WEBSOCKET_MAX_BUFFERED_BYTES=str(HIGH_WATER),
        WEBSOCKET_SEND_TIMEOUT=str(SEND_TIMEOUT),
    )
    assert echo_served(server)
    baseline = rss_bytes(server.pid)
    peak = baseline
    slow = [SlowReader(server) for _ in range(SLOW_CLIENTS)]
    started = time.monotonic()
    try:
        for client in slow:
            client.start()
        # Meanwhile a normal client is served its echo.
        assert echo_served(server)

        def all_closed():
            nonlocal peak
            peak = max(peak, rss_bytes(server.pid))
            return all(not client.is_alive() for client in slow)

        wait_until(all_closed, timeout=60, message="every slow client closed by the server")
        elapsed = time.monotonic() - started
    finally:
        for client in slow:
            client.close()
        print(f"{server_class.server}: RSS {baseline >> 20} MiB -> peak {peak >> 20} MiB")

    growth = peak - baseline
    assert growth <= SLOW_CLIENTS * HIGH_WATER + ALLOWANCE, growth
    assert not any(client.sent_all for client in slow), "a client sent everything unread"
    assert all(isinstance(client.error, OSError) for client in slow)
    assert elapsed >= SEND_TIMEOUT
    assert echo_served(server)
