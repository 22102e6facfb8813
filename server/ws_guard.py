"""Refuse WebSockets cleanly while a backing service is unavailable.

HTTP requests get a 503 page for that (core/middleware.py). A WebSocket has no page: when the
session store, the channel layer's Redis or the database fails while a connection is being set
up (Channels' ``AuthMiddlewareStack`` loads the session, a consumer joins its group), the
exception would otherwise escape to daphne, which logs a traceback and drops the socket.
"""

import asyncio
import logging

from core.errors import unavailable_service

logger = logging.getLogger(__name__)

# An application's close code must be 1000 or 3000-4999: autobahn (under daphne) refuses the
# registry's 1013 "Try Again Later" from an application. 4503 is private use, after HTTP's 503.
CLOSE_SERVICE_UNAVAILABLE = 4503


class ServiceGuardMiddleware:
    """ASGI middleware for the WebSocket stack: unavailable services close, not crash.

    Before the handshake is accepted, closing makes daphne answer the handshake with HTTP 403;
    after it, the client gets close code 4503 (service unavailable, try again later). Other
    errors propagate.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        # ``send`` goes to the application as it is: a wrapper would cost every message sent.
        try:
            return await self.app(scope, receive, send)
        except Exception as exc:
            service = unavailable_service(exc)
            task = asyncio.current_task()
            # A connection error raised while the server cancels the connection (shutdown) is
            # part of that cancellation, not an outage to report to a client that is gone.
            if service is None or (task is not None and task.cancelling()):
                raise
            logger.warning(
                "%s unavailable: closing WebSocket %s %s",
                service,
                scope.get("path"),
                type(exc).__name__,
            )
            await send({"type": "websocket.close", "code": CLOSE_SERVICE_UNAVAILABLE})
