"""Serve the project with uvicorn (uvloop, httptools): the documented alternative to daphne.

``python -m server.uvicorn [--host H] [--port P] [--proxy-headers]``, or
``SERVER=uvicorn make run``. daphne stays the default (server/daphne.py); docs/performance.md says
when to choose which. uvicorn needs none of server/daphne.py's WebSocket fixes: it sends empty
messages and closes oversize ones with 1009 by itself; the size limit is the same setting,
``WEBSOCKET_MAX_MESSAGE_BYTES``.

WebSockets run on uvicorn's sans-I/O protocol over websockets (``ws="websockets-sansio"``), as
:class:`WebSocketProtocol`, which adds what the project asks of every server:

* Backpressure (docs/websockets.md), sized from ``WEBSOCKET_MAX_BUFFERED_BYTES``: half of it for
  the transport's write buffer, above which uvicorn makes the application's sends wait; the other
  half is left for input, which uvicorn stops reading while a received message waits for the
  application. A connection whose output stays over the mark ``WEBSOCKET_SEND_TIMEOUT`` seconds
  is closed with 1008.
* websockets' limit on the frames of one message (``WEBSOCKETS_MAX_FRAGMENTS``), which its own
  servers apply and the sans-I/O protocol leaves to its user: more are closed with 1009.
* Text validated frame by frame: invalid UTF-8 is closed with 1007 at the frame that holds it,
  without the error uvicorn logs for it.
* A close frame inside a fragmented message is answered with a close frame of the same code, not
  failed with 1002 (websockets' sans-I/O protocol takes it for a protocol error).
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import os
from typing import TYPE_CHECKING, Any

from django.conf import settings
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.asyncio.messages import MAX_FRAGMENTS
from websockets.frames import Close, CloseCode, Frame, Opcode

from server.commands import APPLICATION, launcher_arguments

if TYPE_CHECKING:
    from collections.abc import Sequence

CLOSE_POLICY_VIOLATION = 1008
# After the 1008 close frame, how long a client that does not read has before the TCP connection
# is aborted and its buffers dropped (autobahn's closing-handshake timeout under daphne).
CLOSE_GRACE_SECONDS = 1.0


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol with the additions the module's docstring lists:
    backpressure, the fragment limit, text validated per frame, closes inside a message."""

    send_clock: asyncio.TimerHandle | None = None
    timed_out = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.utf8 = codecs.getincrementaldecoder("utf-8")()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        # asyncio's default high-water mark is 64 KiB: ours is half the budget, drained to half
        # of that before the sends go on.
        high_water = settings.WEBSOCKET_MAX_BUFFERED_BYTES // 2
        self.transport.set_write_buffer_limits(high=high_water, low=high_water // 2)

    # asyncio's flow control: uvicorn's send() waits while the transport is paused.
    def pause_writing(self) -> None:
        super().pause_writing()
        if self.send_clock is None:
            timeout = settings.WEBSOCKET_SEND_TIMEOUT
            self.send_clock = self.loop.call_later(timeout, self._send_timed_out)

    def resume_writing(self) -> None:
        self._stop_clock()
        # After the timeout the sends keep waiting, for connection_lost(), which makes them raise
        # ClientDisconnected: uvicorn would treat them as the application's mistake otherwise.
        if not self.timed_out:
            super().resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_clock()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # uvicorn's, but for a close frame inside a fragmented message (RFC 6455 allows control
        # frames there): websockets takes it for a protocol error and fails with 1002, where the
        # peer only closed. That close is answered as any other.
        self.conn.receive_data(data)
        if self.conn.parser_exc is None:
            self.handle_events()
        elif self.conn.close_rcvd is not None and self.conn.close_rcvd_then_sent:
            self._answer_close(self.conn.close_rcvd)
        else:
            self.handle_parser_exception()

    def _answer_close(self, close: Close) -> None:
        self.conn.data_to_send()  # websockets' 1002 close frame, dropped
        # An empty close frame (1005) is answered with an empty one, as websockets does.
        payload = b"" if close.code == CloseCode.NO_STATUS_RCVD else close.serialize()
        self.transport.write(Frame(Opcode.CLOSE, payload).serialize(mask=False))
        self.frames = []
        self.queue.put_nowait(
            {"type": "websocket.disconnect", "code": close.code, "reason": close.reason}
        )
        self.close_sent = True
        self.transport.close()

    def handle_text(self, event: Frame) -> None:
        self.utf8.reset()
        if self._valid_text(event):
            super().handle_text(event)

    def handle_cont(self, event: Frame) -> None:
        if len(self.frames) >= MAX_FRAGMENTS:
            # What websockets' asyncio server does; the frames read with this one are dropped
            # (send_receive_event_to_app discards what completes once the close is sent).
            self._fail(CloseCode.MESSAGE_TOO_BIG, "too many fragments")
        elif self.curr_msg_data_type == "bytes" or self._valid_text(event):
            super().handle_cont(event)

    def _valid_text(self, frame: Frame) -> bool:
        # uvicorn decodes a text message once it is whole, and logs invalid UTF-8 as an error
        # with a traceback: every client could write those. Validated frame by frame instead,
        # invalid UTF-8 fails the connection with 1007 at the frame that holds it (as on daphne).
        if self.close_sent:
            return True  # the message will be dropped
        try:
            self.utf8.decode(frame.data, final=frame.fin)
        except UnicodeDecodeError as exc:
            self._fail(CloseCode.INVALID_DATA, f"{exc.reason} at position {exc.start}")
            return False
        return True

    def _fail(self, code: int, reason: str) -> None:
        self.frames = []
        self.conn.fail(code, reason)
        self.handle_parser_exception()

    def _stop_clock(self) -> None:
        if self.send_clock is not None:
            self.send_clock.cancel()
            self.send_clock = None

    def _send_timed_out(self) -> None:
        self.send_clock = None
        self.timed_out = True
        self.logger.warning(
            "closing WebSocket %s: output over %d bytes for %ss (the client does not read)",
            self.client,
            settings.WEBSOCKET_MAX_BUFFERED_BYTES // 2,
            settings.WEBSOCKET_SEND_TIMEOUT,
        )
        # As uvicorn fails a connection itself (keepalive_timeout): the close frame, then the end
        # of the connection once the buffer is written, which a client that does not read never
        # lets happen: aborted after the grace period. connection_lost() cancels the abort.
        self.conn.fail(CLOSE_POLICY_VIOLATION, "the client does not read")
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        self.transport.close()
        if self.close_timer is not None:
            self.close_timer.cancel()
        self.close_timer = self.loop.call_later(CLOSE_GRACE_SECONDS, self.transport.abort)


def run_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keywords of ``uvicorn.run`` (and ``uvicorn.Config``) for the parsed command line."""
    return {
        "host": args.host,
        "port": args.port,
        "loop": "uvloop",
        "http": "httptools",
        "ws": WebSocketProtocol,
        "ws_max_size": settings.WEBSOCKET_MAX_MESSAGE_BYTES,
        "lifespan": "off",
        "proxy_headers": args.proxy_headers,
        "forwarded_allow_ips": args.forwarded_allow_ips,
        "access_log": settings.ACCESS_LOG if args.access_log is None else args.access_log,
        "server_header": False,
        "log_level": settings.LOG_LEVEL.lower(),
    }


def main(argv: Sequence[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    parser = launcher_arguments((__doc__ or "").splitlines()[0])
    args = parser.parse_args(argv)

    import uvicorn

    uvicorn.run(APPLICATION, **run_options(args))


if __name__ == "__main__":
    main()
