"""Where the project's Redis is, and the connection each of its users makes to it.

One Redis serves the cache (and with it the sessions and the login throttle), the channel layer,
and the chat's presence and rate limits (chat/live.py). It is named either by one ``REDIS_URL``
or by Sentinel: ``REDIS_SENTINELS`` and ``REDIS_SENTINEL_MASTER``, and then every user asks the
Sentinels for the current master whenever it opens a connection, so that a failover reaches all
of them. :func:`redis_target` checks the variables' values (project/settings.py reads them); the
:class:`RedisTarget` it returns builds each user's configuration, so that no user can be left on
a fixed address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    # redis is imported where it is used: the settings import this module.
    from redis.asyncio import Redis as AsyncRedis
    from redis.asyncio.retry import Retry as AsyncRetry
    from redis.retry import Retry

URL_SCHEMES = ("redis://", "rediss://", "unix://")
# django-redis takes the master's name from a URL's host part, which urllib lowercases: a name
# with capitals would silently ask the Sentinels for another master.
MASTER_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")


@dataclass(frozen=True)
class RedisTarget:
    """The project's Redis: a fixed ``url``, or the master ``master`` of ``sentinels``.

    ``db`` and ``password`` apply to the master found through Sentinel (a URL carries its own);
    ``sentinel_password`` is the Sentinels' own (``requirepass`` in sentinel.conf), if any.
    """

    url: str = ""
    sentinels: tuple[tuple[str, int], ...] = ()
    master: str = ""
    db: int = 0
    password: str = field(default="", repr=False)
    sentinel_password: str = field(default="", repr=False)
    connect_timeout: float = 1.0
    socket_timeout: float = 2.0

    @property
    def uses_sentinel(self) -> bool:
        return bool(self.sentinels)

    def _timeouts(self, socket_timeout: float | None = None) -> dict[str, Any]:
        return {
            "socket_connect_timeout": self.connect_timeout,
            "socket_timeout": self.socket_timeout if socket_timeout is None else socket_timeout,
        }

    def _connection_options(
        self, socket_timeout: float | None = None, *, asyncio: bool = True
    ) -> dict[str, Any]:
        """Timeouts and the retry policy of a connection pool of the project's own."""
        return {**self._timeouts(socket_timeout), "retry": retry_policy(asyncio=asyncio)}

    def _sentinel_addresses(self) -> list[list[str | int]]:
        return [list(address) for address in self.sentinels]

    def sentinel_kwargs(self) -> dict[str, Any]:
        """Connection options of the Sentinels themselves.

        Given explicitly: without them the Sentinels get redis-py's default timeouts (seconds,
        not ours), and a Sentinel host that stops answering would hold up every new connection.
        """
        kwargs = self._timeouts()
        if self.sentinel_password:
            kwargs["password"] = self.sentinel_password
        return kwargs

    def cache(self, *, key_prefix: str) -> dict[str, Any]:
        """The ``CACHES`` entry (django-redis) of the cache, the sessions and the login throttle."""
        options: dict[str, Any] = {
            "SOCKET_CONNECT_TIMEOUT": self.connect_timeout,
            "SOCKET_TIMEOUT": self.socket_timeout,
            "CONNECTION_POOL_KWARGS": {"retry": retry_policy(asyncio=False)},
        }
        location = self.url
        if self.uses_sentinel:
            # django-redis's SentinelClient would send reads to the replicas, which replicate
            # asynchronously: a session written at login could be missing from the replica read
            # by the next page. The default client with the Sentinel connection factory reads
            # and writes the master only.
            location = f"redis://{self.master}/{self.db}"
            options.update(
                CONNECTION_FACTORY="django_redis.pool.SentinelConnectionFactory",
                SENTINELS=self._sentinel_addresses(),
                SENTINEL_KWARGS=self.sentinel_kwargs(),
            )
            if self.password:
                options["PASSWORD"] = self.password
        return {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": key_prefix,
            "OPTIONS": options,
        }

    def channel_layer_host(self, *, socket_timeout: float) -> dict[str, Any]:
        """One entry of channels-redis's ``hosts``; ``socket_timeout`` for its blocking receive."""
        timeouts = self._connection_options(socket_timeout)
        if not self.uses_sentinel:
            return {"address": self.url, **timeouts}
        host = {
            "master_name": self.master,
            "sentinels": self._sentinel_addresses(),
            "sentinel_kwargs": self.sentinel_kwargs(),
            "db": self.db,
            **timeouts,
        }
        if self.password:
            host["password"] = self.password
        return host

    def async_client(self) -> AsyncRedis:
        """A new ``redis.asyncio`` client, for the running event loop (chat/live.py)."""
        import redis.asyncio as aioredis

        timeouts = self._connection_options()
        if not self.uses_sentinel:
            return aioredis.Redis.from_url(self.url, **timeouts)
        sentinel = aioredis.Sentinel(self.sentinels, sentinel_kwargs=self.sentinel_kwargs())
        return sentinel.master_for(
            self.master, db=self.db, password=self.password or None, **timeouts
        )

    def describe(self) -> str:
        """Where Redis is, for the start-up banner: no credentials."""
        if not self.uses_sentinel:
            return f"Redis {_without_credentials(self.url)}"
        sentinels = ",".join(_address(host, port) for host, port in self.sentinels)
        return f"Redis master {self.master!r} (database {self.db}) from Sentinel {sentinels}"


def retry_policy(*, asyncio: bool) -> Retry | AsyncRetry:
    """Retry a command once, at once, on a fresh connection when its pooled connection turns
    out dead (a connection error: Redis restarted, or a proxy dropped the idle connection);
    never after a timeout.

    redis-py's own default (10 retries with backoff, timeouts included) turned a stalled Redis
    into a 20-second wait for every caller, and a pool built by django-redis or channels-redis
    gets no retry at all: its first command after a Redis restart failed on a dead connection.
    A retry after a timeout would only double the wait of a stalled server.
    """
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError

    if asyncio:
        from redis.asyncio.retry import Retry as AsyncRetry

        return AsyncRetry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))
    from redis.retry import Retry

    return Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))


async def aclose_async_client(client: AsyncRedis) -> None:
    """Close a client of :meth:`RedisTarget.async_client` with everything it opened."""
    await client.aclose()
    # A Sentinel master client also holds connections to the Sentinels it asked.
    sentinel = getattr(client.connection_pool, "sentinel_manager", None)
    if sentinel is not None:
        await sentinel.aclose()


def redis_target(
    *,
    url: str,
    sentinels: str,
    master: str,
    db: int | None,
    password: str,
    sentinel_password: str,
    connect_timeout: float,
    socket_timeout: float,
) -> RedisTarget | None:
    """The :class:`RedisTarget` the settings name, or None when they name no Redis.

    The arguments are the raw values of ``REDIS_URL``; or of ``REDIS_SENTINELS`` and
    ``REDIS_SENTINEL_MASTER`` with the optional ``REDIS_DB`` (an int, or None when unset),
    ``REDIS_PASSWORD`` and ``REDIS_SENTINEL_PASSWORD``. Never both kinds.
    """
    url, sentinels, master = url.strip(), sentinels.strip(), master.strip()
    sentinel_only = [
        name
        for name, value in [
            ("REDIS_DB", db),
            ("REDIS_PASSWORD", password),
            ("REDIS_SENTINEL_PASSWORD", sentinel_password),
        ]
        if value not in (None, "")
    ]

    if url and (sentinels or master):
        raise ImproperlyConfigured(
            "Set either REDIS_URL or REDIS_SENTINELS with REDIS_SENTINEL_MASTER, not both"
        )
    if url:
        if not url.startswith(URL_SCHEMES):
            raise ImproperlyConfigured(
                f"REDIS_URL must start with redis://, rediss:// or unix://, got {url!r}"
            )
        if sentinel_only:
            raise ImproperlyConfigured(
                f"{', '.join(sentinel_only)} apply to Sentinel only (REDIS_SENTINELS); "
                "with REDIS_URL put the database and password in the URL, "
                "e.g. redis://:password@host:6379/0"
            )
        return RedisTarget(url=url, connect_timeout=connect_timeout, socket_timeout=socket_timeout)
    if not sentinels and not master:
        if sentinel_only:
            raise ImproperlyConfigured(
                f"{', '.join(sentinel_only)} need REDIS_SENTINELS and REDIS_SENTINEL_MASTER"
            )
        return None
    if not sentinels:
        raise ImproperlyConfigured(
            "REDIS_SENTINEL_MASTER needs REDIS_SENTINELS, e.g. "
            "REDIS_SENTINELS=10.0.0.11:26379,10.0.0.12:26379,10.0.0.13:26379"
        )
    if not master:
        raise ImproperlyConfigured(
            "REDIS_SENTINELS needs REDIS_SENTINEL_MASTER: the master's name in sentinel.conf "
            "(sentinel monitor NAME ...), e.g. REDIS_SENTINEL_MASTER=mymaster"
        )
    if not MASTER_NAME.fullmatch(master):
        raise ImproperlyConfigured(
            f"REDIS_SENTINEL_MASTER={master!r} must be lowercase letters, digits, '.', '-' "
            "and '_', starting with a letter or digit"
        )
    if db is not None and db < 0:
        raise ImproperlyConfigured(f"REDIS_DB must be a database number (0 or more), got {db}")
    return RedisTarget(
        sentinels=parse_sentinels(sentinels),
        master=master,
        db=db or 0,
        password=password,
        sentinel_password=sentinel_password,
        connect_timeout=connect_timeout,
        socket_timeout=socket_timeout,
    )


def parse_sentinels(value: str) -> tuple[tuple[str, int], ...]:
    """``host:port,host:port`` (IPv6 as ``[::1]:26379``) as a tuple of ``(host, port)``."""
    addresses = []
    for entry in value.split(","):
        entry = entry.strip()
        host, colon, port = entry.rpartition(":")
        bracketed = host.startswith("[") and host.endswith("]")
        if bracketed:
            host = host[1:-1]
        # An IPv6 address without brackets is ambiguous (is "::1:26379" a port?): refused.
        unreadable_host = not host or re.search(r"[\s/@\[\]]", host) or (":" in host) != bracketed
        if not (colon and port.isdigit() and 0 < int(port) < 65536) or unreadable_host:
            raise ImproperlyConfigured(
                f"REDIS_SENTINELS={value!r}: {entry!r} is not host:port; give the Sentinels as "
                "host:port,host:port (IPv6 as [::1]:26379), e.g. "
                "REDIS_SENTINELS=10.0.0.11:26379,10.0.0.12:26379,10.0.0.13:26379"
            )
        address = (host, int(port))
        if address in addresses:
            raise ImproperlyConfigured(f"REDIS_SENTINELS={value!r} names {entry!r} twice")
        addresses.append(address)
    return tuple(addresses)


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return parts._replace(netloc=host).geturl()
