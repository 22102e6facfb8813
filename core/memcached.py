"""Django's pymemcache cache backend on one memcached server, raising every error it meets.

Django's ``PyMemcacheCache`` always builds pymemcache's ``HashClient``, which is made to spread
keys over several servers and to route around a failed one: after a failure it answers a read
with "not found" without asking the server again (for ``retry_timeout``), then leaves the server
out for ``dead_timeout`` (a minute). For sessions the first means a visitor silently logged out,
the second a minute of errors after memcached is back. This backend talks to its one server with
pymemcache's plain ``Client`` instead: every operation asks the server, a failure raises (an
``OSError`` or a ``MemcacheError``), and the next operation connects again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cached_property
from types import ModuleType
from typing import TYPE_CHECKING, Any

from django.core.cache.backends.memcached import PyMemcacheCache
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from pymemcache.client.base import Client


class SingleServerPyMemcacheCache(PyMemcacheCache):
    """``PyMemcacheCache`` for exactly one server (``LOCATION`` ``host:port``), without failover."""

    if TYPE_CHECKING:
        # Set by Django's BaseMemcachedCache; django-stubs does not declare them.
        _servers: list[str]
        _lib: ModuleType
        _options: dict[str, Any]

    def __init__(self, server: str | Sequence[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        if len(self._servers) != 1:
            raise ValueError(f"{type(self).__name__} takes one server, got {self._servers!r}")
        self._class = self._lib.Client

    @cached_property
    def _cache(self) -> Client:
        return self._class(self._servers[0], **self._options)

    def close(self, **kwargs: Any) -> None:
        # Client has no disconnect_all(): one connection, closed here and reopened on next use.
        self._cache.close()


def memcached_cache(url: str, *, connect_timeout: float, timeout: float) -> dict[str, Any]:
    """The ``CACHES`` entry of the session cache in memcached at ``url``.

    ``url`` is ``MEMCACHED_URL``: ``memcached://host:port``, or just ``host:port`` (IPv6 as
    ``[::1]:11211``); the port is required, so that a typo cannot silently pick the default.
    """
    if not url:
        raise ImproperlyConfigured(
            "SESSION_BACKEND=memcached needs MEMCACHED_URL, e.g. memcached://127.0.0.1:11211"
        )
    address = url.removeprefix("memcached://").removesuffix("/")
    host, colon, port = address.rpartition(":")
    bracketed = host.startswith("[") and host.endswith("]")
    bare_host = host[1:-1] if bracketed else host
    if (
        "://" in address
        or not (colon and port.isdigit() and 0 < int(port) < 65536)
        or not bare_host
        or re.search(r"[\s/@,\[\]]", bare_host)
        or (":" in bare_host) != bracketed
    ):
        raise ImproperlyConfigured(
            f"MEMCACHED_URL={url!r} is not memcached://host:port or host:port "
            "(one server; IPv6 as [::1]:11211), e.g. memcached://127.0.0.1:11211"
        )
    return {
        "BACKEND": "core.memcached.SingleServerPyMemcacheCache",
        "LOCATION": f"{host}:{port}",
        "OPTIONS": {
            # pymemcache waits forever by default: a hung server would hang every request.
            "connect_timeout": connect_timeout,
            "timeout": timeout,
            "no_delay": True,
        },
    }
