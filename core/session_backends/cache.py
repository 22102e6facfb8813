"""Django's cache session store, made honest about an unreachable cache.

``django.contrib.sessions.backends.cache.SessionStore.load`` treats every cache error as "no
session" (a workaround for memcached's invalid keys, Django ticket #17810). With Redis down that
silently logs every visitor out, and the next write raises anyway. This store raises
:class:`SessionStoreUnavailable` instead, which ``ServiceUnavailableMiddleware`` answers with 503.
"""

from django.contrib.sessions.backends import cache
from redis.exceptions import RedisError


class SessionStoreUnavailable(Exception):
    """The session store could not be reached; the session's state is unknown."""


class SessionStore(cache.SessionStore):
    """Cache-backed session store that reports Redis failures instead of hiding them."""

    def load(self):
        try:
            session_data = self._cache.get(self.cache_key)
        except RedisError as exc:
            raise SessionStoreUnavailable(type(exc).__name__) from exc
        if session_data is not None:
            return session_data
        self._session_key = None
        return {}

    async def aload(self):
        try:
            session_data = await self._cache.aget(await self.acache_key())
        except RedisError as exc:
            raise SessionStoreUnavailable(type(exc).__name__) from exc
        if session_data is not None:
            return session_data
        self._session_key = None
        return {}
