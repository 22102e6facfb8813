"""Serve the project with granian (a Rust HTTP and WebSocket server), measured beside daphne and
uvicorn in docs/performance.md.

``python -m server.granian [--host H] [--port P] [--proxy-headers [--forwarded-allow-ips IPS]]
[--wsgi]``; ``--wsgi`` serves ``project.wsgi`` (HTTP only) for ``python -m server split``.
daphne stays the default (server/daphne.py). The same settings as server/uvicorn.py:
``WEBSOCKET_MAX_MESSAGE_BYTES``, ``ACCESS_LOG``, ``LOG_LEVEL``; loopback unless told otherwise.

granian runs one supervisor process and forks one worker process that serves (``workers=1``:
one process is one event loop on one core, as with the other servers; run one per core behind
nginx). The ASGI interface is ``asginl`` (no lifespan events), as uvicorn's ``lifespan="off"``:
Channels' router has no lifespan application.

Two of the settings granian has no option for are applied to the application here:

* The WebSocket message size limit. granian takes messages of up to tungstenite's own limits
  (64 MiB per message, 16 MiB per frame) and has no setting for it, so
  :class:`WebSocketMessageLimit` closes a connection whose message is over
  ``WEBSOCKET_MAX_MESSAGE_BYTES`` with 1009, as daphne (with server/daphne.py's fix) and uvicorn
  do. granian has read the whole message by then: the limit protects the application, not the
  server's memory.
* ``--proxy-headers``: granian's own ``wrap_asgi_with_proxy_headers`` (X-Forwarded-For and
  X-Forwarded-Proto from ``--forwarded-allow-ips``), which its command line does not offer.
"""

from __future__ import annotations

import argparse
import functools
import os
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from server.asgi_types import Application, Message, Receive, Scope, Send
from server.commands import launcher_arguments

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

    from django.conf import LazySettings

APPLICATION = "project.asgi:application"
CLOSE_MESSAGE_TOO_BIG = 1009


class WebSocketMessageLimit:
    """ASGI middleware: a WebSocket message over ``max_bytes`` closes the connection with 1009.

    The application then receives ``websocket.disconnect`` (code 1009) instead of the message,
    so its disconnect handler runs as when the client goes away. Only ``receive`` is wrapped:
    what the application sends goes to the server as it is.
    """

    def __init__(self, app: Application, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] != "websocket":
            return self.app(scope, receive, send)
        limit = self.max_bytes

        async def receive_within_limit() -> Message:
            message = await receive()
            if message["type"] == "websocket.receive" and _message_bytes(message, limit) > limit:
                await send({"type": "websocket.close", "code": CLOSE_MESSAGE_TOO_BIG})
                return {"type": "websocket.disconnect", "code": CLOSE_MESSAGE_TOO_BIG}
            return message

        return self.app(scope, receive_within_limit, send)


def _message_bytes(message: Message, limit: int) -> int:
    """The message's size on the wire, or any number over ``limit`` when it is over it."""
    text = message.get("text")
    if text is None:
        return len(message.get("bytes") or b"")
    # UTF-8 takes 1 to 4 bytes a character: encode only when the length cannot decide.
    if len(text) * 4 <= limit or len(text) > limit:
        return len(text)
    return len(text.encode())


def load_application(target: str, forwarded_allow_ips: str | None = None) -> Application:
    """The application a granian worker serves (run in the worker, after it forked)."""
    from django.conf import settings

    from project.asgi import application

    app: Application = WebSocketMessageLimit(application, settings.WEBSOCKET_MAX_MESSAGE_BYTES)
    if forwarded_allow_ips is not None:
        from granian.utils.proxies import wrap_asgi_with_proxy_headers

        app = wrap_asgi_with_proxy_headers(app, trusted_hosts=forwarded_allow_ips)
    return app


def load_wsgi_application(target: str, forwarded_allow_ips: str | None = None) -> WSGIApplication:
    """``project.wsgi`` as a granian worker serves it with ``--wsgi`` (HTTP only): static files
    when ``SERVE_STATIC`` (as project/asgi.py does), and the proxy headers behind nginx."""
    from django.conf import settings

    from project.wsgi import application

    if settings.SERVE_STATIC:
        from django.contrib.staticfiles.handlers import StaticFilesHandler

        application = StaticFilesHandler(application)
    if forwarded_allow_ips is not None:
        from granian.utils.proxies import wrap_wsgi_with_proxy_headers

        application = wrap_wsgi_with_proxy_headers(application, trusted_hosts=forwarded_allow_ips)
    return application


def wsgi_concurrency(settings: LazySettings) -> tuple[int, int]:
    """``(workers, blocking_threads)`` of ``--wsgi``: ``WEB_CONCURRENCY`` worker processes (1
    unset), each running Django in ``DB_MAX_CONNECTIONS`` threads. A WSGI thread keeps its own
    database connection (``CONN_MAX_AGE``), so a worker holds at most ``DB_MAX_CONNECTIONS``
    MySQL connections, the bound the pooled ASGI handler keeps (server/handlers.py), and it
    needs no thread for WebSocket consumers: daphne serves those."""
    return settings.WEB_CONCURRENCY, settings.DB_MAX_CONNECTIONS


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    parser = launcher_arguments(__doc__.splitlines()[0])
    parser.add_argument(
        "--wsgi",
        action="store_true",
        help="serve project.wsgi (HTTP only, no WebSockets) in WEB_CONCURRENCY workers of "
        "DB_MAX_CONNECTIONS threads: the pages of python -m server split",
    )
    args = parser.parse_args(argv)
    if args.wsgi:
        return serve_wsgi(args)

    from django.conf import settings
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.log import LogLevels
    from granian.server import Server

    server = Server(
        APPLICATION,
        address=args.host,
        port=args.port,
        interface=Interfaces.ASGINL,
        workers=1,
        loop=Loops.uvloop,
        # HTTP/1.1 only, as daphne and uvicorn serve it (nginx proxies with HTTP/1.1).
        http=HTTPModes.http1,
        websockets=True,
        log_level=LogLevels(settings.LOG_LEVEL.lower()),
        log_access=settings.ACCESS_LOG if args.access_log is None else args.access_log,
    )
    server.serve(
        target_loader=functools.partial(
            load_application,
            forwarded_allow_ips=args.forwarded_allow_ips if args.proxy_headers else None,
        )
    )


def serve_wsgi(args: argparse.Namespace) -> None:
    """granian's WSGI interface on ``project.wsgi`` (``--wsgi``)."""
    from django.conf import settings
    from granian.constants import HTTPModes, Interfaces
    from granian.log import LogLevels
    from granian.server import Server

    workers, threads = wsgi_concurrency(settings)
    server = Server(
        "project.wsgi:application",
        address=args.host,
        port=args.port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        # backpressure stays granian's default (backlog / workers): it bounds connections, not
        # requests, and at the thread count nginx's kept-alive idle connections would hold
        # every slot and stall the rest. Requests beyond the threads wait in granian's queue.
        http=HTTPModes.http1,
        websockets=False,
        log_level=LogLevels(settings.LOG_LEVEL.lower()),
        log_access=settings.ACCESS_LOG if args.access_log is None else args.access_log,
    )
    server.serve(
        target_loader=functools.partial(
            load_wsgi_application,
            forwarded_allow_ips=args.forwarded_allow_ips if args.proxy_headers else None,
        )
    )


if __name__ == "__main__":
    main()
