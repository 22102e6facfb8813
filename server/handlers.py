"""An ASGI handler that runs each request's synchronous work in one hop on a fixed thread pool.

Django's own ``ASGIHandler`` runs a request's synchronous parts (each sync middleware hook, the
view, the request signals) through ``sync_to_async`` in a thread created for that request. Two
consequences under daphne:

* ``CONN_MAX_AGE`` cannot work: a database connection belongs to the thread that opened it, and
  that thread is gone after the request, so connections are never reused and pile up until MySQL
  refuses new ones (Django ticket #33497).
* Every request pays for a new thread and a hand-over between the event loop and that thread for
  each of those parts: a large share of the CPU Django spends per request on daphne ("Where the
  time goes" in docs/performance.md).

This handler loads the middleware chain in synchronous mode and runs the whole of it - request
signals, middleware, view, template rendering, ``request_finished`` - in a single call on a
:class:`RequestThreadPool` of long-lived threads. Each thread keeps its database connection
between requests (``CONN_MAX_AGE`` and ``CONN_HEALTH_CHECKS`` work as under WSGI), so a process
never holds more connections than the pool has threads; when every thread is busy, a request
waits up to ``DB_POOL_TIMEOUT`` seconds for one and then gets a 503 page.

Async views still work: Django runs them with ``async_to_sync`` from the pool thread, which hands
them back to the event loop, and their thread-sensitive ``sync_to_async`` calls come back to that
same pool thread (and its connection).
"""

import asyncio
import contextvars
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import IO, TypeVar, TypeVarTuple

from asgiref.sync import SyncToAsync
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, ASGIRequest, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.http import HttpResponseBase
from django.urls import set_script_prefix

from core.errors import service_unavailable_response
from core.health import HEALTHZ_PATHS, healthz_response
from server.asgi_types import Receive, Scope, Send

logger = logging.getLogger(__name__)

T = TypeVar("T")
Args = TypeVarTuple("Args")


class PoolExhausted(Exception):
    """No request thread became free within the pool's timeout."""


class RequestThreadPool:
    """A fixed set of long-lived threads with a bounded wait for a free one.

    ``run`` waits (asynchronously) for a free thread for at most ``timeout`` seconds, then raises
    :class:`PoolExhausted`; work is never queued behind busy threads for longer than that.
    """

    def __init__(self, max_threads: int, timeout: float, name: str = "django-request") -> None:
        self.max_threads = max_threads
        self.timeout = timeout
        self._executor = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix=name)
        # Created on first use, inside the server's event loop.
        self._free_threads: asyncio.Semaphore | None = None

    async def run(self, func: Callable[[*Args], T], *args: *Args) -> T:
        """Run ``func(*args)`` on a pool thread, in a copy of the caller's context."""
        loop = asyncio.get_running_loop()
        if self._free_threads is None:
            self._free_threads = asyncio.Semaphore(self.max_threads)
        if self._free_threads.locked():
            try:
                await asyncio.wait_for(self._free_threads.acquire(), self.timeout)
            except TimeoutError:
                raise PoolExhausted from None
        else:
            await self._free_threads.acquire()
        try:
            return await loop.run_in_executor(
                self._executor, _call_in_pool_thread, loop, func, args
            )
        finally:
            self._free_threads.release()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


_pool_thread = threading.local()


def _call_in_pool_thread(
    loop: asyncio.AbstractEventLoop, func: Callable[[*Args], T], args: tuple[*Args]
) -> T:
    # Each pool thread runs every request in one context of its own, kept between requests, so
    # that Django's asgiref Locals (the cache clients, translations) behave as thread-locals do
    # under WSGI: made once per thread, not once per request.
    context = getattr(_pool_thread, "context", None)
    if context is None:
        context = _pool_thread.context = contextvars.Context()
        # What SyncToAsync sets up for its threads: async_to_sync() called from here (an async
        # view, a channel layer call) runs its coroutine on the server's loop instead of starting
        # a new loop in yet another thread.
        SyncToAsync.threadlocal.main_event_loop = loop
        SyncToAsync.threadlocal.main_event_loop_pid = os.getpid()
    return context.run(func, *args)


class PooledASGIHandler(ASGIHandler):
    """Django's ASGI handler with each request's sync work done in one hop on a thread pool."""

    def __init__(self, pool: RequestThreadPool) -> None:
        BaseHandler.__init__(self)
        # Synchronous chain: the whole request runs in the pool thread without further hops.
        self.load_middleware(is_async=False)
        self.pool = pool

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        if scope["path"] in HEALTHZ_PATHS:
            # On the event loop, not a request thread: a monitor must get the JSON status even
            # when every request thread hangs on a stalled service (which it should report).
            try:
                response: HttpResponseBase = await healthz_response(ASGIRequest(scope, body_file))
            finally:
                body_file.close()
            await self.send_response(response, send)
            return
        try:
            response = await self.pool.run(self.respond, scope, body_file)
        except PoolExhausted:
            body_file.close()
            logger.warning(
                "no request thread free within %ss (DB_MAX_CONNECTIONS=%s): answered 503 to %s",
                self.pool.timeout,
                self.pool.max_threads,
                scope.get("path"),
            )
            response = service_unavailable_response("database connection pool")
            await self.send_response(response, send)
            return
        try:
            await self.send_response(response, send)
        finally:
            if response.streaming:
                # The iterator ran during sending; its resources close on a pool thread too.
                await self.pool.run(response.close)
            body_file.close()

    def respond(self, scope: Scope, body_file: IO[bytes]) -> HttpResponseBase:
        """Everything synchronous about one request, run on a pool thread."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            # create_request() returns (None, the error response) when it cannot build one.
            assert error_response is not None
            response = error_response
        else:
            response = self.get_response(request)
        # What ASGIHandler.handle() sets; django-stubs does not declare the private attribute.
        response._handler_class = self.__class__  # type: ignore[attr-defined]
        if not response.streaming:
            # The body is already in memory; closing here sends request_finished on the thread
            # that owns the request's database connection, where close_old_connections needs it.
            response.close()
        return response


def get_asgi_application() -> ASGIHandler:
    """Set Django up and return the pooled HTTP handler, sized by ``DB_MAX_CONNECTIONS``.

    With ``HTTP_HANDLER=django``, Django's stock handler instead (kept for measurements).
    """
    import django

    django.setup(set_prefix=False)
    if settings.HTTP_HANDLER == "django":
        return ASGIHandler()
    pool = RequestThreadPool(max_threads=settings.REQUEST_THREADS, timeout=settings.DB_POOL_TIMEOUT)
    return PooledASGIHandler(pool)
