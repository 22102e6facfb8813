"""The request thread pool behind the pooled ASGI handler."""

import asyncio
import threading

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import caches
from django.db import connection

from server.handlers import PoolExhausted, RequestThreadPool


@pytest.fixture
def pool():
    pool = RequestThreadPool(max_threads=1, timeout=0.2, name="test-pool")
    yield pool
    pool.shutdown()


async def test_work_runs_on_the_same_long_lived_thread_with_its_locals_kept(pool):
    def identities():
        return threading.get_ident(), id(caches["default"]), id(connection)

    first = await pool.run(identities)
    second = await pool.run(identities)

    assert first == second
    assert first[0] != threading.get_ident()


async def test_async_to_sync_in_a_pool_thread_runs_on_the_server_loop(pool):
    server_loop = asyncio.get_running_loop()

    async def running_loop():
        return asyncio.get_running_loop()

    loop_seen = await pool.run(async_to_sync(running_loop))

    assert loop_seen is server_loop


async def test_waiting_for_a_busy_pool_times_out(pool):
    release = threading.Event()
    busy = asyncio.ensure_future(pool.run(release.wait, 10))
    await asyncio.sleep(0)  # let the first call take the only thread

    with pytest.raises(PoolExhausted):
        await pool.run(lambda: None)

    release.set()
    assert await busy is True
    assert await pool.run(lambda: "free again") == "free again"
