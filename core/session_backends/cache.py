"""Django's cache session store, made honest about an unreachable cache.

``django.contrib.sessions.backends.cache.SessionStore.load`` treats every cache error as "no
session" (a workaround for memcached's invalid keys, Django ticket #17810). With Redis or
memcached down that silently logs every visitor out, and the next write raises anyway, with an
error of the cache library that nothing above knows to answer. This store raises
:class:`SessionStoreUnavailable` instead, from every operation, which
``ServiceUnavailableMiddleware`` and ``SessionMiddleware`` answer with 503.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.contrib.sessions.backends import cache
from django.contrib.sessions.backends.base import UpdateError
from django_redis.cache import RedisCache
from pymemcache.exceptions import MemcacheError
from redis.exceptions import RedisError

from core.session_backends.anonymous import AnonymousSessionAgeMixin
from core.session_ends import aend_session_sockets, end_session_sockets

if TYPE_CHECKING:
    from django.core.cache.backends.base import BaseCache

# (data, key) of a session being deleted, for the sockets to end with it.
_Ending = tuple[dict[str, Any], str] | None

# What the session caches raise when their server is unreachable: redis-py's errors; pymemcache's
# own, and the socket errors it lets through (refused or reset connection, timeout).
CACHE_SERVER_ERRORS = (RedisError, MemcacheError, OSError)


class SessionStoreUnavailable(Exception):
    """The session store could not be reached; the session's state is unknown."""


@contextmanager
def _reported() -> Iterator[None]:
    try:
        yield
    except CACHE_SERVER_ERRORS as exc:
        raise SessionStoreUnavailable(type(exc).__name__) from exc


class SessionStore(AnonymousSessionAgeMixin, cache.SessionStore):
    """Cache-backed session store that reports cache server failures instead of hiding them,
    with the anonymous session age of core/session_backends/anonymous.py."""

    if TYPE_CHECKING:
        # Django's own members, which django-stubs does not declare.
        _cache: BaseCache

        def _get_session(self, no_load: bool = False) -> dict[str, Any]: ...
        async def _aget_session(self, no_load: bool = False) -> dict[str, Any]: ...

    def load(self) -> dict[str, Any]:
        with _reported():
            session_data = self._cache.get(self.cache_key)
        if session_data is not None:
            return session_data
        self._session_key = None
        return {}

    async def aload(self) -> dict[str, Any]:
        with _reported():
            session_data = await self._cache.aget(await self.acache_key())
        if session_data is not None:
            return session_data
        self._session_key = None
        return {}

    # create() and acreate() go through these.
    def save(self, must_create: bool = False) -> None:
        with _reported():
            if self.session_key is None or must_create or not isinstance(self._cache, RedisCache):
                return super().save(must_create=must_create)
            # Django's save asks the cache whether the session still exists (a GET) before it
            # writes (a SET), so that a session deleted meanwhile, by a logout in another tab
            # say, does not come back. Redis's SET ... XX does both in one round trip.
            written = self._cache.set(
                self.cache_key, self._get_session(), self.get_expiry_age(), xx=True
            )
            if not written:
                raise UpdateError
            return None

    async def asave(self, must_create: bool = False) -> None:
        with _reported():
            return await super().asave(must_create=must_create)

    def exists(self, session_key: str) -> bool:
        with _reported():
            return super().exists(session_key)

    async def aexists(self, session_key: str) -> bool:
        with _reported():
            return await super().aexists(session_key)

    # A session deleted from the store (a logout, an operator deleting it by key, a new login
    # over another user's session) takes its open chat sockets along (core/session_ends.py) -
    # but not when cycle_key() deletes the old key of a session that lives on under a new one.
    _quiet = False

    def cycle_key(self) -> None:
        with self._quietly():
            super().cycle_key()

    async def acycle_key(self) -> None:
        with self._quietly():
            await super().acycle_key()

    def flush(self) -> None:
        # flush() clears the data before it deletes: read whose session it was first.
        ending = self._ending_session(None)
        with self._quietly():
            super().flush()
        self._end_sockets(ending)

    async def aflush(self) -> None:
        ending = await self._aending_session(None)
        with self._quietly():
            await super().aflush()
        await self._aend_sockets(ending)

    def delete(self, session_key: str | None = None) -> None:
        with _reported():
            ending = self._ending_session(session_key)
            super().delete(session_key)
        self._end_sockets(ending)

    async def adelete(self, session_key: str | None = None) -> None:
        with _reported():
            ending = await self._aending_session(session_key)
            await super().adelete(session_key)
        await self._aend_sockets(ending)

    @contextmanager
    def _quietly(self) -> Iterator[None]:
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False

    def _ending_session(self, session_key: str | None) -> _Ending:
        """(data, key) of the session that ``delete(session_key)`` removes, or None."""
        if self._quiet:
            return None
        with _reported():
            if session_key is None:
                if self.session_key is None:
                    return None
                # Its own data: already loaded (a logout's flush), else read now.
                return dict(self._get_session()), self.session_key
            return self._cache.get(self.cache_key_prefix + session_key) or {}, session_key

    async def _aending_session(self, session_key: str | None) -> _Ending:
        if self._quiet:
            return None
        with _reported():
            if session_key is None:
                if self.session_key is None:
                    return None
                return dict(await self._aget_session()), self.session_key
            return await self._cache.aget(self.cache_key_prefix + session_key) or {}, session_key

    def _end_sockets(self, ending: _Ending) -> None:
        if ending is not None:
            end_session_sockets(*ending)

    async def _aend_sockets(self, ending: _Ending) -> None:
        if ending is not None:
            await aend_session_sockets(*ending)
