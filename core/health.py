"""Reads of the backing services' state: the /healthz checks and the start-up banner."""

import asyncio
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import DisallowedHost
from django.db import connection
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    JsonResponse,
)

from core.session_backends.registry import SESSION_BACKENDS

logger = logging.getLogger(__name__)

# Each check gets this long; the connect timeouts in settings are shorter, so a stopped service
# normally fails its check well before this.
CHECK_TIMEOUT_SECONDS = 2.5


def _check_database() -> None:
    # What a request's start does (close_old_connections): a connection broken by an outage is
    # replaced, so the check recovers with the database. (It may run outside any request.)
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache(alias: str = "default") -> None:
    cache = caches[alias]
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=10)
    if cache.get(key) != "ok":
        raise RuntimeError("the cache did not return what was just stored")
    cache.delete(key)


async def _check_channel_layer() -> None:
    layer = get_channel_layer()
    # The default prefix, not one of our own: channels-redis delivers every process-local channel
    # through one Redis list per process, popped by whichever receive() holds the layer's lock -
    # a connected WebSocket consumer's, usually. A channel under another prefix lives in a list
    # that receiver never pops, so the check timed out whenever a WebSocket was open.
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "healthz.ping"})
    message = await layer.receive(channel)
    if message.get("type") != "healthz.ping":
        raise RuntimeError("the channel layer returned a different message")


_Check = Callable[[], Awaitable[None]]

CHECKS: dict[str, _Check] = {
    # The database check must run on the thread that owns the request's connection.
    "database": sync_to_async(_check_database, thread_sensitive=True),
    "cache": sync_to_async(_check_cache, thread_sensitive=False),
    "channel_layer": _check_channel_layer,
}


async def _run_check(name: str, check: _Check) -> str:
    try:
        await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_SECONDS)
    except Exception as exc:  # every failure is reported, by its class only (no secrets)
        error = "Timeout" if isinstance(exc, asyncio.TimeoutError) else type(exc).__name__
        logger.warning("health check %s failed: %s", name, error)
        return f"error: {error}"
    return "ok"


async def check_services() -> dict[str, str]:
    """Check the database, cache and channel layer concurrently: ``{name: "ok" | "error: X"}``.

    Sessions in a cache of their own (``SESSION_BACKEND=memcached``) are checked too, as
    ``session_cache``: without them nobody stays logged in.
    """
    checks = dict(CHECKS)
    backend = SESSION_BACKENDS[settings.SESSION_BACKEND]
    if backend.cache_alias is not None and "session_cache" in backend.health_checks:
        checks["session_cache"] = sync_to_async(
            functools.partial(_check_cache, backend.cache_alias),
            thread_sensitive=False,
        )
    results = await asyncio.gather(*(_run_check(name, check) for name, check in checks.items()))
    return dict(zip(checks, results, strict=True))


# The paths of /healthz in both URLconfs (project/urls.py, project/urls_admin.py).
HEALTHZ_PATHS = frozenset({"/healthz", "/healthz/"})


async def healthz_response(request: HttpRequest) -> HttpResponse:
    """The /healthz answer: JSON of :func:`check_services`, 200 when all are ok, else 503.

    Made without the middleware chain, so that server/handlers.py can answer it on the event
    loop: the host is checked against ``ALLOWED_HOSTS`` here, and only GET and HEAD are served.
    """
    try:
        request.get_host()
    except DisallowedHost:
        return HttpResponseBadRequest()
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    results = await check_services()
    healthy = all(result == "ok" for result in results.values())
    response = JsonResponse(results, status=200 if healthy else 503)
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    if settings.SERVED_BY_HEADER:
        # What ServedByMiddleware adds to every other response: which process answered.
        from core.middleware import ServedByMiddleware, served_by

        response[ServedByMiddleware.header] = served_by()
    return response


def describe_backends() -> str:
    """One line naming the database, session store and channel layer in use."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("mysql"):
        database = f"MySQL {db['NAME']} at {db.get('HOST') or 'localhost'}:{db.get('PORT') or 3306}"
    else:
        database = f"SQLite {db['NAME']} (embedded default: DATABASE_URL is not set)"
    if settings.REDIS is not None:
        cache_name = layer = settings.REDIS.describe()
    else:
        cache_name = "local memory (embedded default: Redis is not configured)"
        layer = "in-memory (embedded default: Redis is not configured; one process only)"
    backend = SESSION_BACKENDS[settings.SESSION_BACKEND]
    session = backend.name
    if backend.cache_alias == "default":
        session += f" in {cache_name}"
    elif backend.cache_alias is not None:
        session += f" at {settings.CACHES[backend.cache_alias]['LOCATION']}"
    elif backend.storage == "database":
        session += " in the database"
        if settings.REDIS is None:
            # Said because the cache beside it is not: a restart keeps everyone logged in.
            session += " (embedded default: Redis is not configured; kept across restarts)"
    elif backend.storage == "file":
        session += f" in {settings.SESSION_FILE_PATH}"
    return f"database: {database}; sessions: {session}; channel layer: {layer}"


def backend_facts() -> dict[str, str | bool]:
    """What this instance runs, for the home page: ``{"database", "cache", "sessions",
    "channel_layer"}`` as short names (no credentials), with ``embedded`` True when a backend
    is an embedded default (SQLite, local memory) rather than a service. Read from settings,
    like :func:`describe_backends`."""
    db = settings.DATABASES["default"]
    mysql = db["ENGINE"].endswith("mysql")
    database = f"MySQL/MariaDB ({db['NAME']})" if mysql else "SQLite"
    if settings.REDIS is not None:
        cache = "Redis (Sentinel)" if settings.REDIS.uses_sentinel else "Redis"
        layer = f"channels-redis ({cache})"
    else:
        cache = "local memory"
        layer = "in-memory (one process)"
    backend = SESSION_BACKENDS[settings.SESSION_BACKEND]
    sessions = backend.name
    if backend.cache_alias == "default":
        sessions += f" in {cache}"
    return {
        "database": database,
        "cache": cache,
        "sessions": sessions,
        "channel_layer": layer,
        "embedded": settings.REDIS is None or not mysql,
    }
