"""Serve the project with uvicorn (uvloop, httptools): the documented alternative to daphne.

``python -m server.uvicorn [--host H] [--port P] [--proxy-headers]``, or
``SERVER=uvicorn make run``. daphne stays the default (server/daphne.py); docs/performance.md says
when to choose which. uvicorn needs none of server/daphne.py's WebSocket fixes: it sends empty
messages and closes oversize ones with 1009 by itself; the size limit is the same setting,
``WEBSOCKET_MAX_MESSAGE_BYTES``.

Backpressure (docs/websockets.md) comes from the ``websockets`` implementation's own flow control,
sized from ``WEBSOCKET_MAX_BUFFERED_BYTES`` by :class:`WebSocketProtocol`: half of it for the
transport's write buffer (the application's sends wait above it), half for the incoming message
queue (reading stops when it is full). A send that waits ``WEBSOCKET_SEND_TIMEOUT`` seconds closes
the connection with 1008.
"""

import os

from server.commands import launcher_arguments

CLOSE_POLICY_VIOLATION = 1008
# After the 1008 close frame, how long a client that does not read has before the TCP connection
# is aborted and its buffers dropped (autobahn's closing-handshake timeout under daphne).
CLOSE_GRACE_SECONDS = 1.0


def max_queue():
    """websockets counts incoming messages, not bytes: as many as fit half the high-water mark
    at the message size limit (2 by default), at least one."""
    from django.conf import settings

    half = settings.WEBSOCKET_MAX_BUFFERED_BYTES // 2
    return max(1, half // settings.WEBSOCKET_MAX_MESSAGE_BYTES)


def protocol_class():
    """uvicorn's ``websockets`` protocol with the project's backpressure (imported late: the
    module warns that it is deprecated, and needs the settings)."""
    import warnings

    from django.conf import settings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from uvicorn.protocols.websockets import websockets_impl

    high_water = settings.WEBSOCKET_MAX_BUFFERED_BYTES
    send_timeout = settings.WEBSOCKET_SEND_TIMEOUT

    class WebSocketProtocol(websockets_impl.WebSocketProtocol):
        """uvicorn's protocol on websockets' legacy implementation, with bounded buffers and a
        send timeout."""

        _send_clock = None

        def connection_made(self, transport):
            super().connection_made(transport)
            # websockets sets the high-water mark (write_limit, default 64 KiB) with asyncio's
            # default low-water mark, a quarter: half the budget, drained to half of that.
            transport.set_write_buffer_limits(high=high_water // 2, low=high_water // 4)

        # asyncio's flow control: websockets' drain() (in every send) waits while paused.
        def pause_writing(self):
            super().pause_writing()
            self._send_clock = self.loop.call_later(send_timeout, self._send_timed_out)

        def resume_writing(self):
            self._stop_clock()
            super().resume_writing()

        def connection_lost(self, exc):
            self._stop_clock()
            super().connection_lost(exc)

        def _stop_clock(self):
            if self._send_clock is not None:
                self._send_clock.cancel()
                self._send_clock = None

        def _send_timed_out(self):
            self._send_clock = None
            self.logger.warning(
                "closing WebSocket %s: output over %d bytes for %ss (the client does not read)",
                self.client,
                high_water // 2,
                send_timeout,
            )
            self.fail_connection(CLOSE_POLICY_VIOLATION, "the client does not read")
            self.loop.call_later(CLOSE_GRACE_SECONDS, self._abort_unless_closed)

        def _abort_unless_closed(self):
            if not self.connection_lost_waiter.done():
                self.transport.abort()

    return WebSocketProtocol


def main(argv=None):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    parser = launcher_arguments(__doc__.splitlines()[0])
    args = parser.parse_args(argv)

    import uvicorn
    from django.conf import settings

    uvicorn.run(
        "project.asgi:application",
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        ws=protocol_class(),
        ws_max_queue=max_queue(),
        ws_max_size=settings.WEBSOCKET_MAX_MESSAGE_BYTES,
        lifespan="off",
        proxy_headers=args.proxy_headers,
        forwarded_allow_ips=args.forwarded_allow_ips,
        access_log=settings.ACCESS_LOG if args.access_log is None else args.access_log,
        server_header=False,
        log_level=settings.LOG_LEVEL.lower(),
    )


if __name__ == "__main__":
    main()
