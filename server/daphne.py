"""Serve the project with daphne, minus four of daphne 4.2's WebSocket faults and some of its
per-message costs.

``python -m server.daphne [daphne's options] project.asgi:application`` takes daphne's command line
unchanged; ``make run`` and the test suite start the server this way, and ``manage.py runserver``
(core/management/commands/runserver.py) runs the same :class:`Server`.

The four faults are described once, in docs/websockets.md ("The server: python -m server.daphne").

The costs (docs/performance.md measures them): Twisted's reactor is replaced by
:class:`server.reactor.EagerWriteReactor` (writes leave without a trip through epoll);
autobahn's debug lines for every read and write are not formatted unless debug logging is on.

Backpressure (:class:`Backpressure`, docs/websockets.md): daphne reads a WebSocket however fast
its client sends and buffers whatever the application sends, without limit; here a connection
past ``WEBSOCKET_MAX_BUFFERED_BYTES`` stops being read and its application's sends wait, and one
whose client does not read for ``WEBSOCKET_SEND_TIMEOUT`` seconds is closed with 1008.

The size limit (message and frame) defaults to ``settings.WEBSOCKET_MAX_MESSAGE_BYTES``, read from
the ``WEBSOCKET_MAX_MESSAGE_BYTES`` environment variable; daphne's
``--websocket-max-message-size`` and ``--websocket-max-frame-size`` still override it.
"""

from __future__ import annotations

# daphne.server installs Twisted's asyncio reactor on import unless one is installed already:
# ours, which sends writes without waiting for epoll (server/reactor.py), goes first.
import asyncio
import codecs
import logging
import os
import sys
import time
from functools import partial
from typing import Any

import txaio
from twisted.internet import abstract

from server import reactor

reactor.install()

from daphne import cli as daphne_cli  # noqa: E402
from daphne import server as daphne_server  # noqa: E402
from daphne import ws_protocol  # noqa: E402
from twisted.internet.interfaces import ISSLTransport  # noqa: E402

from server.asgi_types import Message, Receive, Scope  # noqa: E402

logger = logging.getLogger(__name__)

# RFC 6455 section 7.4.1: "policy violation". A client that reads nothing for
# WEBSOCKET_SEND_TIMEOUT seconds breaks the server's rule; 1013 ("try again later") would tell a
# well-behaved client that the server is overloaded and invite it to retry at once.
CLOSE_POLICY_VIOLATION = 1008


def _message_bytes(message: Message) -> int:
    """The size counted for an ASGI message in a connection's input (characters for text)."""
    data = message.get("bytes")
    if data is None:
        data = message.get("text")
    return len(data) if data is not None else 0


class Backpressure:
    """A WebSocket connection's flow control: its transport's push producer (Twisted's
    producer/consumer), bounding what the connection holds in memory.

    * Buffered: messages read and not yet taken by the application plus bytes written to the
      transport and not yet taken by the kernel. Over ``high_water`` the transport stops being
      read (``pauseProducing``: TCP then pushes back on the client); reading resumes once it
      falls to half of it, checked when the application takes a message and when Twisted reports
      the write buffer empty.
    * Unsent output alone over ``high_water``: the application's sends wait (see
      :meth:`Server.handle_reply`) until the write buffer is empty, and a clock runs; after
      ``send_timeout`` seconds the connection is closed with 1008, and aborted (buffers dropped)
      by autobahn's closing-handshake timeout when the client does not read the close either.

    Twisted calls :meth:`pauseProducing` on every write while its buffer holds more than the
    transport's ``bufferSize`` (64 KiB) and :meth:`resumeProducing` once it is empty; the
    high-water check happens there, so a connection under 64 KiB costs nothing.
    """

    def __init__(self, protocol: WebSocketProtocol, high_water: int, send_timeout: float) -> None:
        self.protocol = protocol
        self.transport = protocol.transport
        self.high_water = high_water
        self.low_water = high_water // 2
        self.send_timeout = send_timeout
        self.input_bytes = 0
        self.reading_paused = False
        self.output_over = False
        self._drained: asyncio.Future[None] | None = None
        self._send_clock: Any = None  # Twisted's IDelayedCall, a zope interface

    # What the connection holds.

    def unsent_output(self) -> int:
        transport = self.transport
        if isinstance(transport, abstract.FileDescriptor):
            # Twisted's write buffer: the bytes string being sent from ``offset``, then the list
            # of writes not yet joined into it.
            return len(transport.dataBuffer) - transport.offset + transport._tempDataLen
        # Another transport (TLS): only Twisted's "buffer full" notification is known.
        return self.high_water + 1 if self.output_over else 0

    def buffered(self) -> int:
        return self.input_bytes + self.unsent_output() + len(self.protocol.send_queue or ())

    # Reading.

    def _pause_reading(self) -> None:
        self.reading_paused = True
        self.transport.pauseProducing()

    def _maybe_resume_reading(self) -> None:
        if self.reading_paused and not self.output_over and self.buffered() <= self.low_water:
            self.reading_paused = False
            self.transport.resumeProducing()

    def input_queued(self, nbytes: int) -> None:
        """A message of ``nbytes`` went to the application's queue."""
        self.input_bytes += nbytes
        if self.reading_paused:
            # Data read while paused: daphne resumes the transport after the upgrade.
            self.transport.pauseProducing()
        elif self.buffered() > self.high_water:
            self._pause_reading()

    def input_taken(self, message: Message) -> None:
        self.input_bytes -= _message_bytes(message)
        self._maybe_resume_reading()

    def receiving_from(self, queue: asyncio.Queue[dict[str, Any]]) -> Receive:
        """The application's ``receive``: ``queue.get``, counting what it takes."""

        async def receive() -> Message:
            message = await queue.get()
            self.input_taken(message)
            return message

        return receive

    # IPushProducer, called by the transport.

    def pauseProducing(self) -> None:
        if self.output_over or self.unsent_output() <= self.high_water:
            if not self.reading_paused and self.buffered() > self.high_water:
                self._pause_reading()
            return
        self.output_over = True
        if not self.reading_paused:
            self._pause_reading()
        from twisted.internet import reactor as twisted_reactor

        # IReactorTime is a zope interface: mypy, without the mypy-zope plugin, takes callLater's
        # first parameter for self and the delay for the callable.
        self._send_clock = twisted_reactor.callLater(
            self.send_timeout,  # type: ignore[arg-type]
            self._send_timed_out,
        )

    def resumeProducing(self) -> None:
        # The write buffer is empty.
        if self.output_over:
            self.output_over = False
            self._stop_clock()
            self._wake_senders()
        self._maybe_resume_reading()

    def stopProducing(self) -> None:
        # The connection is lost.
        self._stop_clock()
        self._wake_senders()

    # The application's sends.

    async def drained(self) -> None:
        """Wait until the write buffer is empty or the connection closes."""
        if self._drained is None:
            self._drained = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._drained)

    def _wake_senders(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._drained = None

    def _stop_clock(self) -> None:
        if self._send_clock is not None and self._send_clock.active():
            self._send_clock.cancel()
        self._send_clock = None

    def _send_timed_out(self) -> None:
        self._send_clock = None
        protocol = self.protocol
        logger.warning(
            "closing WebSocket %s %s: %d bytes unsent for %ss (the client does not read)",
            getattr(protocol, "client_addr", None),
            getattr(protocol, "path", b"").decode("ascii", "replace"),
            self.unsent_output(),
            self.send_timeout,
        )
        # The close frame waits behind the unsent output; autobahn aborts the connection when
        # the client has not answered it within its closing-handshake timeout (1 s).
        protocol._fail_connection(CLOSE_POLICY_VIOLATION, "the client does not read")
        self._wake_senders()


def _autobahn_debug_logging() -> bool:
    # txaio binds its API to a framework at run time (use_twisted()), out of its type stubs' sight.
    return txaio.get_global_log_level() in ("debug", "trace")  # type: ignore[attr-defined]


class WebSocketProtocol(ws_protocol.WebSocketProtocol):
    """daphne's WebSocket protocol, able to send empty messages, quiet about sends on a
    connection that is already closing, answering an invalid close frame with a close frame
    rather than a TCP reset, and decoding text messages once, with Python's codec."""

    # Text messages: autobahn's own UTF-8 validator (turned off on the factory) is far slower
    # than Python's decoder, and daphne then decodes the payload a second time. Here
    # each frame is decoded as it arrives, by an incremental decoder: invalid UTF-8 still fails
    # the connection at the frame that holds it (1007, RFC 6455 section 8.1), and the message's
    # text is the decoder's output, joined, instead of a second decoding.
    _text_decoder: codecs.IncrementalDecoder
    _text_parts: list[str] | None = None
    backpressure: Backpressure

    def connectionMade(self) -> None:
        super().connectionMade()
        # One decoder per connection, reset for each text message.
        self._text_decoder = codecs.getincrementaldecoder("utf-8")()
        # daphne's HTTP channel stays the transport's producer after the upgrade, and does
        # nothing there (its request never ends): ours replaces it.
        factory = self.factory
        self.backpressure = Backpressure(self, factory.max_buffered_bytes, factory.send_timeout)
        self.transport.unregisterProducer()
        self.transport.registerProducer(self.backpressure, True)

    def onMessageBegin(self, isBinary: bool) -> None:
        super().onMessageBegin(isBinary)
        if isBinary:
            self._text_parts = None
            return
        self._text_decoder.reset()
        self._text_parts = []

    def onMessageFrameData(self, payload: bytes) -> None:
        if self._text_parts is not None:
            try:
                self._text_parts.append(self._text_decoder.decode(payload))
            except UnicodeDecodeError as exc:
                self._refuse_invalid_text(exc)
                return
        super().onMessageFrameData(payload)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        if isBinary:
            if not self.muted:
                self.backpressure.input_queued(len(payload))
            super().onMessage(payload, isBinary)
            return
        parts, self._text_parts = self._text_parts, None
        if parts is None:
            return  # refused as invalid UTF-8: the connection is closing
        try:
            parts.append(self._text_decoder.decode(b"", final=True))
        except UnicodeDecodeError as exc:
            self._refuse_invalid_text(exc)  # the message ends inside a character
            return
        # daphne's onMessage for text, with the text already decoded.
        if self.muted:
            return
        self.last_ping = time.time()
        text = "".join(parts)
        self.backpressure.input_queued(len(text))
        self.application_queue.put_nowait({"type": "websocket.receive", "text": text})

    def _refuse_invalid_text(self, error: UnicodeDecodeError) -> None:
        self._text_parts = None
        # What autobahn's validator does on invalid UTF-8: fail with 1007 (sendClose() accepts
        # only the application's codes), ignoring the rest of the message.
        self._fail_connection(
            self.CLOSE_STATUS_CODE_INVALID_PAYLOAD, f"invalid UTF-8 in a text message: {error}"
        )

    # autobahn logs every read and every write at debug level, and formats the log's arguments
    # (qualified names, click colours) before the logger discards them: work on every message
    # for nothing. Unless debug logging is on, these two methods skip that.

    def dataReceived(self, data: bytes) -> None:
        if _autobahn_debug_logging():
            super().dataReceived(data)
        else:
            self._dataReceived(data)

    def sendData(self, data: bytes, sync: bool = False, chopsize: int | None = None) -> None:
        if chopsize or sync or self.send_queue or self.logOctets or _autobahn_debug_logging():
            super().sendData(data, sync, chopsize)
            return
        # autobahn's own unqueued branch, without the debug line.
        self.transport.write(data)
        if self.state == self.STATE_OPEN:
            self.trafficStats.outgoingOctetsWireLevel += len(data)
        elif self.state in (self.STATE_CONNECTING, self.STATE_PROXY_CONNECTING):
            self.trafficStats.preopenOutgoingOctetsWireLevel += len(data)

    # Fault 4 of docs/websockets.md: autobahn aborts the connection in the onCloseFrame() call
    # that failed it for an invalid close frame. Both close frames are out by then: the closing
    # handshake is complete, so the connection is closed once ours has been sent.

    _receiving_close = False

    def onCloseFrame(self, code: int, reasonRaw: bytes) -> bool | None:
        self._receiving_close = self.state == self.STATE_OPEN
        try:
            return super().onCloseFrame(code, reasonRaw)
        finally:
            self._receiving_close = False

    def dropConnection(self, abort: bool = False) -> None:
        if self._receiving_close and self.failedByMe:
            abort = False
        super().dropConnection(abort=abort)

    def handle_reply(self, message: Message) -> None:
        if message.get("type") == "websocket.send" and self.state in (
            self.STATE_CLOSING,
            self.STATE_CLOSED,
        ):
            # Fault 3 of docs/websockets.md: the message cannot be delivered, and the application
            # gets websocket.disconnect once the connection has closed.
            return
        if message.get("type") == "websocket.send" and self.state == self.STATE_OPEN:
            text, data = message.get("text"), message.get("bytes")
            if text == "" and data is None:
                self.sendMessage(b"", isBinary=False)
                return
            if data == b"" and text is None:
                self.sendMessage(b"", isBinary=True)
                return
        super().handle_reply(message)


class Server(daphne_server.Server):
    """daphne's server, speaking through :class:`WebSocketProtocol` and closing properly."""

    def __init__(self, *args: Any, action_logger: Any = None, **kwargs: Any) -> None:
        from django.conf import settings

        # daphne logs every request to stdout at its default verbosity. In production nginx
        # keeps the access log and a second one costs CPU on every request: only an explicit
        # --access-log FILE, or ACCESS_LOG=1, keeps it.
        if getattr(action_logger, "stream", None) is sys.stdout and not settings.ACCESS_LOG:
            action_logger = None
        super().__init__(*args, action_logger=action_logger, **kwargs)
        self.max_buffered_bytes = settings.WEBSOCKET_MAX_BUFFERED_BYTES
        self.send_timeout = settings.WEBSOCKET_SEND_TIMEOUT

    def create_application(
        self, protocol: Any, scope: Scope
    ) -> asyncio.Queue[dict[str, Any]] | None:
        # daphne's, with a WebSocket application's receive counted by its Backpressure, and
        # the WebSocket scope's "scheme".
        assert "application_instance" not in self.connections[protocol]
        if scope.get("type") == "websocket" and "scheme" not in scope:
            # daphne leaves the WebSocket scope's optional "scheme" out, though it has read
            # X-Forwarded-Proto (--proxy-headers) into client_scheme: the origin check
            # (core/websocket_origin.py) needs it to tell https://site from http://site.
            secure = getattr(protocol, "client_scheme", None) == "https" or (
                ISSLTransport.providedBy(protocol.transport)
            )
            scope["scheme"] = "wss" if secure else "ws"
        input_queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        scope.setdefault("asgi", {"version": "3.0"})
        receive: Receive = input_queue.get
        if getattr(protocol, "backpressure", None) is not None:
            receive = protocol.backpressure.receiving_from(input_queue)
        application_instance = self.application(
            scope=scope, receive=receive, send=partial(self.handle_reply, protocol)
        )
        if protocol not in self.connections:
            return None
        self.connections[protocol]["application_instance"] = asyncio.ensure_future(
            application_instance, loop=asyncio.get_event_loop()
        )
        return input_queue

    async def handle_reply(self, protocol: Any, message: Message) -> None:
        await super().handle_reply(protocol, message)
        # Backpressure on the application: a send over the high-water mark returns once the
        # client has taken the output (or the connection is closed for not taking it).
        backpressure = getattr(protocol, "backpressure", None)
        if backpressure is not None and backpressure.output_over:
            await backpressure.drained()

    # Server.run() builds its WebSocket factory inline (``self.ws_factory = WebSocketFactory(...)``)
    # and then sets its options; adjusting the factory as it is assigned, before the server
    # listens, spares copying run(). setProtocolOptions() leaves failByDrop alone afterwards.
    @property
    def ws_factory(self) -> Any:
        return self._ws_factory

    @ws_factory.setter
    def ws_factory(self, factory: Any) -> None:
        factory.protocol = WebSocketProtocol
        # Fail a connection with a close frame (e.g. 1009) rather than by dropping TCP; text is
        # validated by WebSocketProtocol's decoder instead of autobahn's validator.
        factory.setProtocolOptions(failByDrop=False, utf8validateIncoming=False)
        # Backpressure's limits, for each connection's protocol.
        factory.max_buffered_bytes = self.max_buffered_bytes
        factory.send_timeout = self.send_timeout
        self._ws_factory = factory
        from django.conf import settings

        if settings.SERVED_BY_HEADER:
            # The handshake's 101 comes from autobahn, not from Django's middleware: the
            # factory's headers are how it names this process (ServedByMiddleware for HTTP).
            from core.middleware import ServedByMiddleware, served_by

            factory.headers = {**factory.headers, ServedByMiddleware.header: served_by()}


class CommandLineInterface(daphne_cli.CommandLineInterface):
    """daphne's command line, running :class:`Server` with the project's size limit."""

    description = "Django HTTP/WebSocket server (daphne, with the project's WebSocket fixes)"
    server_class = Server

    def __init__(self) -> None:
        super().__init__()
        from django.conf import settings

        limit = settings.WEBSOCKET_MAX_MESSAGE_BYTES
        self.parser.set_defaults(websocket_max_message_size=limit, websocket_max_frame_size=limit)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
