"""The ``SESSION_BACKEND`` names, and everything that depends on each: the one table of them.

project/settings.py takes ``SESSION_ENGINE`` and ``SESSION_CACHE_ALIAS`` from it,
core/session_inspect.py the reader of a stored session, core/health.py what /healthz checks and
how the start-up banner and the home page say where sessions are.

The settings import this module, before the app registry is ready: it holds strings only and
imports a reader when asked for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

# Where a session lives: in a cache, in a database row (cached_db's row, with a copy in the
# cache), in a file, or only in the visitor's cookie.
Storage = Literal["cache", "database", "file", "cookie"]


@dataclass(frozen=True)
class SessionBackend:
    """What one ``SESSION_BACKEND`` value means."""

    name: str
    # SESSION_ENGINE: the module of the session store.
    engine: str
    storage: Storage
    # SESSION_CACHE_ALIAS: the CACHES entry the store keeps sessions (or their copies) in; None
    # for a store without a cache.
    cache_alias: str | None
    # The function of core/session_inspect.py that reads a stored session back, as a dotted
    # path (imported by reader()); None when nothing is stored on the server.
    reader_path: str | None
    # The /healthz checks (core/health.py) whose service the sessions are kept in.
    health_checks: tuple[str, ...]

    @property
    def server_side(self) -> bool:
        """False for signed cookies: the whole session travels in the cookie."""
        return self.storage != "cookie"

    def reader(self) -> Callable[[Any], Any] | None:
        """The reader of :attr:`reader_path`, given a store of :attr:`engine`; None without one."""
        if self.reader_path is None:
            return None
        from django.utils.module_loading import import_string

        return import_string(self.reader_path)


# Each store is core/session_backends/'s version of Django's, giving anonymous sessions the
# shorter SESSION_ANONYMOUS_AGE.
_BACKENDS = (
    SessionBackend(
        name="cache",
        # Django's cache store hides Redis and memcached errors on load (users silently look
        # logged out); this one reports them, so the visitor gets a 503 page instead.
        engine="core.session_backends.cache",
        storage="cache",
        cache_alias="default",
        reader_path="core.session_inspect.read_cache_session",
        health_checks=("cache",),
    ),
    SessionBackend(
        # The same store on a cache of its own in memcached (MEMCACHED_URL), Flask-Session's
        # SESSION_TYPE = "memcached".
        name="memcached",
        engine="core.session_backends.cache",
        storage="cache",
        cache_alias="sessions",
        reader_path="core.session_inspect.read_cache_session",
        health_checks=("session_cache",),
    ),
    SessionBackend(
        name="cached_db",
        engine="core.session_backends.cached_db",
        storage="database",
        cache_alias="default",
        reader_path="core.session_inspect.read_cached_db_session",
        health_checks=("database", "cache"),
    ),
    SessionBackend(
        name="db",
        engine="core.session_backends.db",
        storage="database",
        cache_alias=None,
        reader_path="core.session_inspect.read_db_session",
        health_checks=("database",),
    ),
    SessionBackend(
        name="file",
        engine="core.session_backends.file",
        storage="file",
        cache_alias=None,
        reader_path="core.session_inspect.read_file_session",
        health_checks=(),
    ),
    SessionBackend(
        name="signed_cookies",
        engine="core.session_backends.signed_cookies",
        storage="cookie",
        cache_alias=None,
        reader_path=None,
        health_checks=(),
    ),
)

SESSION_BACKENDS: Mapping[str, SessionBackend] = MappingProxyType(
    {backend.name: backend for backend in _BACKENDS}
)
