"""Live state of the chat shared by every server process: who is in a room, who posts too fast.

With Redis (``REDIS_URL``, or Sentinel's master) it lives in Redis, so that several daphne
processes serving one room agree; without it (the embedded default, one process only) in this
process's memory. Each operation on Redis is one Lua script, atomic, timed by the Redis server's
clock so that the processes' clocks need not agree.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import time
import uuid
import weakref
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.redis_connections import aclose_async_client

if TYPE_CHECKING:
    from redis.asyncio import Redis

# redis.asyncio clients belong to the event loop they were made on: one per loop.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Redis] = weakref.WeakKeyDictionary()

# What a presence operation does to the connection's member.
PresenceAction = Literal["add", "remove"]


def redis_client() -> Redis:
    """The Redis client of the running event loop."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        # With Sentinel, a master client: it asks the Sentinels for the master at every new
        # connection, so it follows a failover.
        target = settings.REDIS
        if target is None:
            raise ImproperlyConfigured("the live chat needs Redis: set REDIS_URL")
        client = _clients[loop] = target.async_client()
    return client


async def close_redis_client() -> None:
    """Close the running event loop's client, e.g. before the loop ends."""
    client = _clients.pop(asyncio.get_running_loop(), None)
    if client is not None:
        await aclose_async_client(client)


def _key(*parts: str) -> str:
    return ":".join([settings.CHAT_KEY_PREFIX, *parts])


# ------------------------------------------------------------------------------------------------
# Presence
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Presence:
    """Who is in a room. ``version`` grows with every change, so that a consumer receiving
    presence broadcasts out of order (from several processes) keeps the newest; ``changed``
    says whether this operation changed the room."""

    users: tuple[str, ...]
    version: int
    changed: bool


# One sorted set per room; a member is "<channel name> <username>", one per connection (a user
# may have several tabs open), scored by the time (ms) it expires unless renewed. Expired members
# are pruned by every operation, so those of a killed process vanish within the TTL.
_PRESENCE_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local ttl = tonumber(ARGV[3])
local changed = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) > 0
if ARGV[1] == 'add' then
  if redis.call('ZADD', KEYS[1], now + ttl, ARGV[2]) == 1 then changed = true end
elseif redis.call('ZREM', KEYS[1], ARGV[2]) == 1 then
  changed = true
end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ttl) end
local version = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
return {version, changed and 1 or 0, redis.call('ZRANGE', KEYS[1], 0, -1)}
"""


def _users(members: Iterable[bytes | str]) -> tuple[str, ...]:
    names = set()
    for member in members:
        if isinstance(member, bytes):
            member = member.decode("utf-8")
        names.add(member.split(" ", 1)[1])
    return tuple(sorted(names))


class PresenceStore:
    """Who is in which room: ``join``, ``renew`` and ``leave`` return the room's :class:`Presence`.

    Subclasses implement ``_run(room, action, connection, username)`` for the actions ``add`` and
    ``remove``, pruning expired members as they go.
    """

    async def join(self, room: str, connection: str, username: str) -> Presence:
        return await self._run(room, "add", connection, username)

    # Renewing is joining again: the member's expiry moves forward; if it had expired meanwhile,
    # it is back and the change is reported.
    renew = join

    async def leave(self, room: str, connection: str, username: str) -> Presence:
        return await self._run(room, "remove", connection, username)

    async def _run(
        self, room: str, action: PresenceAction, connection: str, username: str
    ) -> Presence:
        raise NotImplementedError


class RedisPresence(PresenceStore):
    """Presence in Redis, for any number of processes."""

    def __init__(self, ttl: float) -> None:
        self.ttl_ms = max(1, round(ttl * 1000))

    async def _run(
        self, room: str, action: PresenceAction, connection: str, username: str
    ) -> Presence:
        script = redis_client().register_script(_PRESENCE_SCRIPT)
        version, changed, members = await script(
            keys=[_key("presence", room)],
            args=[action, f"{connection} {username}", self.ttl_ms],
        )
        return Presence(users=_users(members), version=int(version), changed=bool(changed))


class LocalPresence(PresenceStore):
    """Presence in this process's memory, for the embedded default (one process)."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        # room -> {(connection, username): expiry}
        self.rooms: defaultdict[str, dict[tuple[str, str], float]] = defaultdict(dict)
        self.versions = itertools.count(1)

    async def _run(
        self, room: str, action: PresenceAction, connection: str, username: str
    ) -> Presence:
        members = self.rooms[room]
        now = time.monotonic()
        expired = [member for member, expiry in members.items() if expiry <= now]
        for member in expired:
            del members[member]
        changed = bool(expired)
        member = (connection, username)
        if action == "add":
            changed = changed or member not in members
            members[member] = now + self.ttl
        elif members.pop(member, None) is not None:
            changed = True
        users = tuple(sorted({name for _, name in members}))
        if not members:
            del self.rooms[room]
        return Presence(users=users, version=next(self.versions), changed=changed)


# ------------------------------------------------------------------------------------------------
# Rate limits
# ------------------------------------------------------------------------------------------------

# Sliding window: a sorted set of the accepted hits' times (ms). A refused hit is not recorded,
# so a client that slows down gets through again as soon as the window has room. A hit is timed
# when its frame arrived (ARGV[4] ms ago), not when a server held up by a stalled database got
# to it: a backlog of messages the client sent at an allowed pace is not refused when it drains.
_RATE_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local window = tonumber(ARGV[2])
local at = now - tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCOUNT', KEYS[1], '(' .. (at - window), '+inf') >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], at, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return 1
"""


def _age(received_at: float | None) -> float:
    """How long ago (s, never negative) a frame received at monotonic ``received_at`` arrived."""
    if received_at is None:
        return 0.0
    return max(0.0, time.monotonic() - received_at)


class RedisRateLimiter:
    """At most ``limit`` hits per ``window`` seconds per key, counted across processes."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window_ms = round(window * 1000)

    async def hit(self, key: str, received_at: float | None = None) -> bool:
        """Record a hit for ``key`` made at ``received_at`` (``time.monotonic()``; now if None)
        and return True, or return False when over the limit."""
        script = redis_client().register_script(_RATE_SCRIPT)
        allowed = await script(
            keys=[_key("rate", key)],
            args=[self.limit, self.window_ms, uuid.uuid4().hex, round(_age(received_at) * 1000)],
        )
        return bool(allowed)


class LocalRateLimiter:
    """At most ``limit`` hits per ``window`` seconds per key, in this process."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self.hits: defaultdict[str, deque[float]] = defaultdict(deque)

    async def hit(self, key: str, received_at: float | None = None) -> bool:
        hits = self.hits[key]
        now = time.monotonic()
        at = now if received_at is None else min(received_at, now)
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if sum(1 for hit in hits if hit > at - self.window) >= self.limit:
            return False
        bisect.insort(hits, at)
        return True


# ------------------------------------------------------------------------------------------------
# The instances the consumers use
# ------------------------------------------------------------------------------------------------

_local_presence: LocalPresence | None = None
_local_rate_limiter: LocalRateLimiter | None = None


def presence() -> PresenceStore:
    """The presence store for the settings in force."""
    global _local_presence
    if settings.REDIS is not None:
        return RedisPresence(settings.CHAT_PRESENCE_TTL)
    if _local_presence is None or _local_presence.ttl != settings.CHAT_PRESENCE_TTL:
        _local_presence = LocalPresence(settings.CHAT_PRESENCE_TTL)
    return _local_presence


def message_rate_limiter() -> RedisRateLimiter | LocalRateLimiter:
    """The limiter of chat messages per user for the settings in force
    (``CHAT_MESSAGES_PER_WINDOW`` per ``CHAT_RATE_WINDOW_SECONDS``)."""
    global _local_rate_limiter
    limit, window = settings.CHAT_MESSAGES_PER_WINDOW, settings.CHAT_RATE_WINDOW_SECONDS
    if settings.REDIS is not None:
        return RedisRateLimiter(limit, window)
    if _local_rate_limiter is None or (_local_rate_limiter.limit, _local_rate_limiter.window) != (
        limit,
        window,
    ):
        _local_rate_limiter = LocalRateLimiter(limit, window)
    return _local_rate_limiter
