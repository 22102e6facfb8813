"""Where the session store keeps a session, read straight from the store.

Behind ``/session/`` and ``manage.py inspect_session``: the exact Redis key, database row or file
of a session, its remaining lifetime and the names of its keys (never their values). The page
shows the session key masked (:meth:`StoredSession.masked`); the command, for operators, in full.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.sessions.backends import cache as cache_backend
from django.contrib.sessions.backends import cached_db as cached_db_backend
from django.contrib.sessions.backends import db as db_backend
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_redis.cache import RedisCache

from core.session_backends.anonymous import session_age
from core.session_backends.registry import SESSION_BACKENDS, SessionBackend

if TYPE_CHECKING:
    from django.contrib.sessions.backends.base import SessionBase
    from django_stubs_ext import StrOrPromise

    from core.session_backends import file as core_file_backend


@dataclass(frozen=True)
class SessionStorage:
    """One place where a session is kept: a cache (Redis) key, a database row, or a file."""

    kind: StrOrPromise
    name: str
    seconds_left: int | None


@dataclass(frozen=True)
class StoredSession:
    """A session as its store holds it. Only key names are exposed, never values."""

    backend: str
    engine: str
    session_key: str
    storages: list[SessionStorage]
    key_names: list[str]
    expires_at: datetime

    @property
    def seconds_left(self) -> int:
        return max(0, int((self.expires_at - timezone.now()).total_seconds()))

    def masked(self) -> StoredSession:
        """The same, with the session key masked wherever it appears (storage names included):
        for pages, which any script on the origin can read, unlike the HttpOnly cookie."""
        shown = mask_session_key(self.session_key)
        return replace(
            self,
            session_key=shown,
            storages=[
                replace(storage, name=storage.name.replace(self.session_key, shown))
                for storage in self.storages
            ],
        )


def mask_session_key(session_key: str) -> str:
    """``abcd…wxyz``: the first and last four characters, enough to tell two sessions apart."""
    return f"{session_key[:4]}…{session_key[-4:]}"


def session_backend() -> SessionBackend:
    """The ``SESSION_BACKEND`` in use, from the table of core/session_backends/registry.py.

    Raises ``ImproperlyConfigured`` when ``SESSION_ENGINE`` is not that backend's engine: its
    reader would be handed a store it cannot read (the settings derive the one from the other).
    """
    backend = SESSION_BACKENDS[settings.SESSION_BACKEND]
    if backend.engine != settings.SESSION_ENGINE:
        raise ImproperlyConfigured(
            f"SESSION_ENGINE is {settings.SESSION_ENGINE!r}, not {backend.engine!r} of "
            f"SESSION_BACKEND={backend.name!r}: set SESSION_BACKEND, which chooses the engine"
        )
    return backend


def session_store_class() -> type[SessionBase]:
    """The ``SessionStore`` class of the session engine in use."""
    return import_module(session_backend().engine).SessionStore


def session_backend_name() -> str:
    """The ``SESSION_BACKEND`` name in use: cache, memcached, cached_db, db, file, ..."""
    return session_backend().name


def session_has_server_side_storage() -> bool:
    """False for signed cookies: the whole session travels in the cookie."""
    return session_backend().server_side


def stored_session(session_key: str) -> StoredSession | None:
    """The session ``session_key`` as the configured store holds it, or None when absent.

    Raises ``ValueError`` for the signed-cookie engine, which stores nothing server-side.
    """
    backend = session_backend()
    # The table's reader of this backend, which takes a store of its engine.
    reader: Callable[[Any], FoundSession | None] | None = backend.reader()
    if reader is None:
        raise ValueError(f"{backend.name} sessions have no server-side storage")
    if not _could_be_session_key(session_key):
        return None
    found = reader(session_store_class()(session_key))
    if found is None:
        return None
    storages, data, expires_at = found
    return StoredSession(
        backend=backend.name,
        engine=backend.engine,
        session_key=session_key,
        storages=storages,
        key_names=sorted(data),
        expires_at=expires_at,
    )


def _could_be_session_key(session_key: object) -> bool:
    # Django generates 32 characters from VALID_KEY_CHARS; anything else was never stored, and
    # refusing it early keeps it out of file paths and cache keys.
    return (
        isinstance(session_key, str)
        and 8 <= len(session_key) <= 64
        and set(session_key) <= set(VALID_KEY_CHARS)
    )


# Where a session is kept, its data, and when it expires.
FoundSession = tuple[list[SessionStorage], dict[str, Any], datetime]


def _cache_storage(
    store: cache_backend.SessionStore | cached_db_backend.SessionStore,
) -> tuple[SessionStorage, dict[str, Any]] | None:
    """(storage, data) of a session in the session cache, or None when not cached."""
    session_cache = caches[settings.SESSION_CACHE_ALIAS]
    data = session_cache.get(store.cache_key)
    if data is None:
        return None
    if isinstance(session_cache, RedisCache):
        ttl = session_cache.ttl(store.cache_key)
        kind = _("Redis key")
    else:
        ttl = None
        kind = _("cache key")
    storage = SessionStorage(
        kind=kind,
        # The exact key in the server: the cache's KEY_PREFIX and version included.
        name=str(session_cache.make_key(store.cache_key)),
        seconds_left=ttl if isinstance(ttl, int) and ttl >= 0 else None,
    )
    return storage, data


def read_cache_session(store: cache_backend.SessionStore) -> FoundSession | None:
    """The session of ``store``'s key in the session cache (``cache``, ``memcached``)."""
    cached = _cache_storage(store)
    if cached is None:
        return None
    storage, data = cached
    if storage.seconds_left is not None:
        expires_at = timezone.now() + timedelta(seconds=storage.seconds_left)
    else:
        expires_at = store.get_expiry_date(expiry=data.get("_session_expiry") or session_age(data))
    return [storage], data, expires_at


def _database_row(
    store: db_backend.SessionStore,
) -> tuple[SessionStorage, dict[str, Any], datetime] | None:
    model = store.get_model_class()
    row = model.objects.filter(
        session_key=store.session_key, expire_date__gt=timezone.now()
    ).first()
    if row is None:
        return None
    storage = SessionStorage(
        kind=_("database row"),
        name=f"{model._meta.db_table} (session_key = '{row.session_key}')",
        seconds_left=int((row.expire_date - timezone.now()).total_seconds()),
    )
    return storage, store.decode(row.session_data), row.expire_date


def read_db_session(store: db_backend.SessionStore) -> FoundSession | None:
    """The session of ``store``'s key in its database row (``db``)."""
    found = _database_row(store)
    if found is None:
        return None
    storage, data, expires_at = found
    return [storage], data, expires_at


def read_cached_db_session(store: cached_db_backend.SessionStore) -> FoundSession | None:
    """The database row of ``store``'s key, and its copy in the cache if any (``cached_db``)."""
    found = _database_row(store)
    if found is None:
        return None
    storage, data, expires_at = found
    storages = [storage]
    # The database row is the session; the cache holds a copy that may have been evicted.
    cached = _cache_storage(store)
    if cached is not None:
        storages.append(cached[0])
    return storages, data, expires_at


def read_file_session(store: core_file_backend.SessionStore) -> FoundSession | None:
    """The session of ``store``'s key in its file (``file``)."""
    # _key_to_file is the backend's own mapping from key to path (it also rejects unsafe keys).
    path = Path(store._key_to_file(store.session_key))
    try:
        raw = path.read_text(encoding="ascii")
        modified = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.get_current_timezone())
    except FileNotFoundError:
        return None
    data = store.decode(raw) if raw else {}
    expires_at = store.get_expiry_date(
        modification=modified, expiry=data.get("_session_expiry") or session_age(data)
    )
    seconds_left = int((expires_at - timezone.now()).total_seconds())
    if seconds_left <= 0:
        return None
    storage = SessionStorage(kind=_("file"), name=str(path), seconds_left=seconds_left)
    return [storage], data, expires_at
