"""server/reactor.py: writes leave without waiting for epoll, and nothing is lost or reordered.

Each test runs a private EagerWriteReactor on its own asyncio loop (not installed as the process's
reactor), serving a Twisted protocol on a loopback port to an asyncio client on the same loop.
"""

import asyncio
import os
import socket
import subprocess
import sys

import pytest
from twisted.internet.protocol import Factory, Protocol

from server.reactor import EagerWriteReactor


class CountingLoop(asyncio.SelectorEventLoop):
    """Counts the sockets handed to epoll to wait for writability (Twisted's stock reactor:
    one per write; ours: only when a socket's buffer is full)."""

    watched_for_writing = 0

    def add_writer(self, fd, callback, *args):
        self.watched_for_writing += 1
        return super().add_writer(fd, callback, *args)


class Echo(Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


class EchoThroughSmallBuffer(Echo):
    def connectionMade(self):
        # A small kernel send buffer fills after a few kilobytes, whatever loopback's defaults.
        self.transport.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)


class SendThenClose(Protocol):
    payload = b""

    def connectionMade(self):
        self.transport.write(self.payload)
        self.transport.loseConnection()


@pytest.fixture
def serve():
    loop = CountingLoop()
    reactor = EagerWriteReactor(loop)
    ports = []

    def start(protocol_class):
        port = reactor.listenTCP(0, Factory.forProtocol(protocol_class), interface="127.0.0.1")
        ports.append(port)
        return reactor, loop, port.getHost().port

    yield start
    for port in ports:
        port.stopListening()
    loop.run_until_complete(asyncio.sleep(0))
    loop.close()


async def echo_round_trips(port, payloads):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answers = []
    for payload in payloads:
        writer.write(payload)
        await writer.drain()
        answers.append(await reader.readexactly(len(payload)))
    writer.close()
    return answers


def test_small_writes_are_sent_without_waiting_for_epoll(serve):
    _, loop, port = serve(Echo)
    payloads = [f"message {n}".encode() for n in range(50)]

    answers = loop.run_until_complete(asyncio.wait_for(echo_round_trips(port, payloads), 10))

    assert answers == payloads
    assert loop.watched_for_writing == 0


def test_a_write_larger_than_the_socket_buffer_completes_once_the_peer_reads(serve):
    _, loop, port = serve(EchoThroughSmallBuffer)
    # The client sends everything before it reads: the server's socket buffer fills up and the
    # rest must wait for epoll's writability report.
    payload = bytes(range(256)) * (4 * 1024)  # 1 MiB

    async def send_all_then_read():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(payload)
        await writer.drain()
        echoed = await reader.readexactly(len(payload))
        writer.close()
        return echoed

    echoed = loop.run_until_complete(asyncio.wait_for(send_all_then_read(), 30))

    assert echoed == payload
    assert loop.watched_for_writing >= 1


def test_data_written_before_close_arrives_before_the_end_of_stream(serve):
    SendThenClose.payload = b"goodbye " * 1000
    _, loop, port = serve(SendThenClose)

    async def read_to_end():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        data = await reader.read()  # until EOF
        writer.close()
        return data

    data = loop.run_until_complete(asyncio.wait_for(read_to_end(), 10))

    assert data == SendThenClose.payload


def test_the_project_server_runs_on_the_eager_reactor():
    code = (
        "import server.daphne\nfrom twisted.internet import reactor\nprint(type(reactor).__name__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=os.environ
    )

    assert result.stdout.strip() == EagerWriteReactor.__name__, result.stderr
