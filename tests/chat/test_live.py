"""chat.live: presence and rate limits, in Redis (several processes) and in memory (one)."""

import asyncio

import pytest

from chat.live import LocalPresence, LocalRateLimiter, RedisPresence, RedisRateLimiter

pytestmark = pytest.mark.usefixtures("close_live_client")

STORES = {"redis": RedisPresence, "local": LocalPresence}
LIMITERS = {"redis": RedisRateLimiter, "local": LocalRateLimiter}


@pytest.fixture(params=sorted(STORES))
def presence_store(request):
    return lambda ttl: STORES[request.param](ttl)


@pytest.fixture(params=sorted(LIMITERS))
def limiter_class(request):
    return LIMITERS[request.param]


async def eventually(condition, timeout=5.0):
    """Await ``condition()`` until it returns a truthy value (polling, with a deadline)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await condition()
        if value:
            return value
        if loop.time() >= deadline:
            raise AssertionError(f"condition did not hold within {timeout}s")
        await asyncio.sleep(0.05)


async def test_join_and_leave_change_the_users(presence_store):
    store = presence_store(30)

    alice = await store.join("room", "conn-a", "alice")
    bob = await store.join("room", "conn-b", "bob")
    bob_again = await store.renew("room", "conn-b", "bob")
    left = await store.leave("room", "conn-a", "alice")

    assert (alice.users, alice.changed) == (("alice",), True)
    assert (bob.users, bob.changed) == (("alice", "bob"), True)
    assert (bob_again.users, bob_again.changed) == (("alice", "bob"), False)
    assert (left.users, left.changed) == (("bob",), True)
    assert alice.version < bob.version <= bob_again.version <= left.version


async def test_one_user_with_two_connections_is_listed_once(presence_store):
    store = presence_store(30)
    await store.join("room", "tab-1", "alice")

    second = await store.join("room", "tab-2", "alice")
    first_gone = await store.leave("room", "tab-1", "alice")
    both_gone = await store.leave("room", "tab-2", "alice")

    assert second.users == ("alice",)
    assert first_gone.users == ("alice",)
    assert both_gone.users == ()


async def test_rooms_are_separate(presence_store):
    store = presence_store(30)
    await store.join("one", "conn-a", "alice")

    other = await store.join("two", "conn-b", "bob")

    assert other.users == ("bob",)


async def test_entries_not_renewed_expire_and_the_next_operation_reports_it(presence_store):
    store = presence_store(0.3)
    await store.join("room", "conn-dead", "ghost")
    await store.join("room", "conn-live", "alice")

    async def ghost_gone():
        state = await store.renew("room", "conn-live", "alice")
        return state if state.users == ("alice",) else None

    state = await eventually(ghost_gone)

    assert state.changed


async def test_rate_limiter_allows_the_limit_then_refuses(limiter_class):
    limiter = limiter_class(3, 10)

    results = [await limiter.hit("user:1") for _ in range(5)]
    other_key = await limiter.hit("user:2")

    assert results == [True, True, True, False, False]
    assert other_key is True


async def test_rate_limiter_window_slides(limiter_class):
    limiter = limiter_class(2, 0.3)
    assert await limiter.hit("user:1")
    assert await limiter.hit("user:1")
    assert not await limiter.hit("user:1")

    # Refused hits are not counted: once the window has passed, hits are allowed again.
    assert await eventually(lambda: limiter.hit("user:1"))
