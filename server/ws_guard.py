"""Refuse WebSockets cleanly while a backing service is unavailable.

HTTP requests get a 503 page for that (core/middleware.py). A WebSocket has no page: when the
session store, the channel layer's Redis or the database fails while a connection is being set
up (Channels' ``AuthMiddlewareStack`` loads the session, a consumer joins its group), the
exception would otherwise escape to daphne, which logs a traceback and drops the socket.
"""

import asyncio
import logging

from core.errors import unavailable_service
from server.asgi_types import Application, Receive, Scope, Send

logger = logging.getLogger(__name__)

# An application's close code must be 1000 or 3000-4999: autobahn (under daphne) refuses the
# registry's 1013 "Try Again Later" from an application. 4503 is private use, after HTTP's 503.
CLOSE_SERVICE_UNAVAILABLE = 4503
# The session ended, or there was none: the page says "You are logged out" and stops retrying.
# After HTTP's 401. (Both codes: docs/websockets.md.)
CLOSE_LOGGED_OUT = 4401

_HANDSHAKE_STATE = "ws_guard.handshake"


class _HandshakeState:
    """Whether the application has accepted the handshake (shared by every copy of the scope)."""

    accepted = False


def note_accepted(scope: Scope) -> None:
    """Record that the handshake of ``scope`` was accepted: a later outage is then told with a
    close frame alone (a consumer calls it after its ``accept()``)."""
    state = scope.get(_HANDSHAKE_STATE)
    if state is not None:
        state.accepted = True


class ServiceGuardMiddleware:
    """ASGI middleware for the WebSocket stack: unavailable services close, not crash.

    The client always gets close code 4503 (service unavailable, try again later): a handshake
    not accepted yet is accepted first, since closing it instead would answer HTTP 403, which a
    page cannot tell from a refusal of its session or origin. Other errors propagate.
    """

    def __init__(self, app: Application) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # ``send`` goes to the application as it is: a wrapper would cost every message sent.
        # Consumers say when they accept instead (note_accepted), through a state in the scope.
        state = _HandshakeState()
        scope = {**scope, _HANDSHAKE_STATE: state}
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
            if not state.accepted:
                await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": CLOSE_SERVICE_UNAVAILABLE})
