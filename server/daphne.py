"""Serve the project with daphne, minus four of daphne 4.2's WebSocket faults and some of its
per-message costs.

``python -m server.daphne [daphne's options] project.asgi:application`` takes daphne's command line
unchanged; ``make run`` and the test suite start the server this way, and ``manage.py runserver``
(core/management/commands/runserver.py) runs the same :class:`Server`.

The faults, in ``daphne.ws_protocol``, that the ASGI application cannot work around:

* An empty message is never sent: ``handle_reply`` tests ``message.get("text")`` and
  ``message.get("bytes")`` for truth, so the echo of ``""`` or ``b""`` silently vanishes.
* A message over the size limit makes autobahn fail the connection "by drop", its server default:
  the TCP connection just disappears and the client sees 1006 (abnormal closure), not a close frame
  with 1009 (message too big) as RFC 6455 section 7.4.1 provides for.
* A send on a connection autobahn has already failed (a protocol error, an oversize message)
  raises autobahn's ``Disconnected`` into the application, which dies with a traceback instead
  of running its disconnect handler. With the fix above the window is the closing handshake (up
  to a second) rather than an instant, so such sends are dropped: they cannot be delivered.
* An invalid close frame from the client (a close code no frame may carry, a reason that is not
  UTF-8) is answered with a TCP reset: autobahn writes its 1002 or 1007 close frame, then takes
  the invalid frame for the reply to it and aborts the connection, discarding the frame. Here the
  connection ends normally once the close frame is sent (the Autobahn|Testsuite's cases 7.9.x
  and 7.13.x show it; see "Conformance" in docs/websockets.md).

The costs (docs/performance.md measures them): Twisted's reactor is replaced by
:class:`server.reactor.EagerWriteReactor` (writes leave without a trip through epoll);
autobahn's debug lines for every read and write are not formatted unless debug logging is on.

The size limit (message and frame) defaults to ``settings.WEBSOCKET_MAX_MESSAGE_BYTES``, read from
the ``WEBSOCKET_MAX_MESSAGE_BYTES`` environment variable; daphne's
``--websocket-max-message-size`` and ``--websocket-max-frame-size`` still override it.
"""

# daphne.server installs Twisted's asyncio reactor on import unless one is installed already:
# ours, which sends writes without waiting for epoll (server/reactor.py), goes first.
import codecs
import os
import sys
import time

import txaio

from server import reactor

reactor.install()

from daphne import cli as daphne_cli  # noqa: E402
from daphne import server as daphne_server  # noqa: E402
from daphne import ws_protocol  # noqa: E402
from twisted.internet.interfaces import ISSLTransport  # noqa: E402


def _autobahn_debug_logging():
    return txaio.get_global_log_level() in ("debug", "trace")


class WebSocketProtocol(ws_protocol.WebSocketProtocol):
    """daphne's WebSocket protocol, able to send empty messages, quiet about sends on a
    connection that is already closing, answering an invalid close frame with a close frame
    rather than a TCP reset, and decoding text messages once, with Python's codec."""

    # Text messages: autobahn's own UTF-8 validator (turned off on the factory) costs about 40
    # times what Python's decoder does, and daphne then decodes the payload a second time. Here
    # each frame is decoded as it arrives, by an incremental decoder: invalid UTF-8 still fails
    # the connection at the frame that holds it (1007, RFC 6455 section 8.1), and the message's
    # text is the decoder's output, joined, instead of a second decoding.
    _text_decoder = None
    _text_parts = None

    def onMessageBegin(self, isBinary):
        super().onMessageBegin(isBinary)
        if isBinary:
            self._text_parts = None
            return
        # One decoder per connection, reset for each text message.
        if self._text_decoder is None:
            self._text_decoder = codecs.getincrementaldecoder("utf-8")()
        else:
            self._text_decoder.reset()
        self._text_parts = []

    def onMessageFrameData(self, payload):
        if self._text_parts is not None:
            try:
                self._text_parts.append(self._text_decoder.decode(payload))
            except UnicodeDecodeError as exc:
                self._refuse_invalid_text(exc)
                return
        super().onMessageFrameData(payload)

    def onMessage(self, payload, isBinary):
        if isBinary:
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
        self.application_queue.put_nowait({"type": "websocket.receive", "text": "".join(parts)})

    def _refuse_invalid_text(self, error):
        self._text_parts = None
        # What autobahn's validator does on invalid UTF-8: fail with 1007 (sendClose() accepts
        # only the application's codes), ignoring the rest of the message.
        self._fail_connection(
            self.CLOSE_STATUS_CODE_INVALID_PAYLOAD, f"invalid UTF-8 in a text message: {error}"
        )

    # autobahn logs every read and every write at debug level, and formats the log's arguments
    # (qualified names, click colours) before the logger discards them: about a tenth of the CPU
    # of a small echo. Unless debug logging is on, these two methods skip that.

    def dataReceived(self, data):
        if _autobahn_debug_logging():
            super().dataReceived(data)
        else:
            self._dataReceived(data)

    def sendData(self, data, sync=False, chopsize=None):
        if chopsize or sync or self.send_queue or self.logOctets or _autobahn_debug_logging():
            super().sendData(data, sync, chopsize)
            return
        # autobahn's own unqueued branch, without the debug line.
        self.transport.write(data)
        if self.state == self.STATE_OPEN:
            self.trafficStats.outgoingOctetsWireLevel += len(data)
        elif self.state in (self.STATE_CONNECTING, self.STATE_PROXY_CONNECTING):
            self.trafficStats.preopenOutgoingOctetsWireLevel += len(data)

    # A close frame that is itself invalid (a close code no frame may carry, such as 999 or 5000,
    # or a reason that is not UTF-8) makes autobahn fail the connection: it sends its close
    # frame (1002 or 1007) and enters the closing state. Still in the same onCloseFrame() call it
    # then takes the invalid frame for the reply to its own close and aborts the TCP connection,
    # which discards the close frame it has just written: the peer sees a reset, never the code.
    # The peer's close has arrived, ours is written: the closing handshake is complete, and the
    # connection is closed once ours has been sent, as after any other close.

    _receiving_close = False

    def onCloseFrame(self, code, reasonRaw):
        self._receiving_close = self.state == self.STATE_OPEN
        try:
            return super().onCloseFrame(code, reasonRaw)
        finally:
            self._receiving_close = False

    def dropConnection(self, abort=False):
        if self._receiving_close and self.failedByMe:
            abort = False
        super().dropConnection(abort=abort)

    def handle_reply(self, message):
        if message.get("type") == "websocket.send" and self.state in (
            self.STATE_CLOSING,
            self.STATE_CLOSED,
        ):
            # autobahn can fail a connection (a protocol error, an oversize message) while the
            # application is still sending, e.g. from connect(); daphne would let autobahn raise
            # Disconnected into the application. The message cannot be delivered anyway, and
            # the application gets websocket.disconnect once the connection has closed.
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

    def __init__(self, *args, action_logger=None, **kwargs):
        from django.conf import settings

        # daphne logs every request to stdout at its default verbosity. In production nginx
        # keeps the access log and a second one costs CPU on every request: only an explicit
        # --access-log FILE, or ACCESS_LOG=1, keeps it.
        if getattr(action_logger, "stream", None) is sys.stdout and not settings.ACCESS_LOG:
            action_logger = None
        super().__init__(*args, action_logger=action_logger, **kwargs)

    def create_application(self, protocol, scope):
        if scope.get("type") == "websocket" and "scheme" not in scope:
            # daphne leaves the WebSocket scope's optional "scheme" out, though it has read
            # X-Forwarded-Proto (--proxy-headers) into client_scheme: the origin check
            # (core/websocket_origin.py) needs it to tell https://site from http://site.
            secure = getattr(protocol, "client_scheme", None) == "https" or (
                ISSLTransport.providedBy(protocol.transport)
            )
            scope["scheme"] = "wss" if secure else "ws"
        return super().create_application(protocol, scope)

    # Server.run() builds its WebSocket factory inline (``self.ws_factory = WebSocketFactory(...)``)
    # and then sets its options; adjusting the factory as it is assigned, before the server
    # listens, spares copying run(). setProtocolOptions() leaves failByDrop alone afterwards.
    @property
    def ws_factory(self):
        return self._ws_factory

    @ws_factory.setter
    def ws_factory(self, factory):
        factory.protocol = WebSocketProtocol
        # Fail a connection with a close frame (e.g. 1009) rather than by dropping TCP; text is
        # validated by WebSocketProtocol's decoder instead of autobahn's validator.
        factory.setProtocolOptions(failByDrop=False, utf8validateIncoming=False)
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

    def __init__(self):
        super().__init__()
        from django.conf import settings

        limit = settings.WEBSOCKET_MAX_MESSAGE_BYTES
        self.parser.set_defaults(websocket_max_message_size=limit, websocket_max_frame_size=limit)


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
