"""MySQL connections under daphne: reused, bounded, waited for with a timeout, and healed.

Each test starts its own daphne process connected as the MariaDB user ``chat_live`` (created by
scripts/services.sh), so that counting and killing that user's connections concerns exactly
the server under test.
"""

import asyncio
import os
import threading
import time
from urllib.parse import urlsplit

import httpx
import MySQLdb
import pytest
from django.conf import settings

from tests.support.servers import DaphneServer, SplitServer, database_url_for
from tests.support.waiting import wait_until

SERVER_USER = f"{urlsplit(os.environ.get('DATABASE_URL', '')).username}_live"
DB_PAGE = "/stats/"


@pytest.fixture
def admin_db(transactional_db):
    """A MariaDB session of the test's own, outside Django and outside the server."""
    db = settings.DATABASES["default"]
    connection = MySQLdb.connect(
        host=db["HOST"],
        port=int(db["PORT"] or 3306),
        user=db["USER"],
        password=db["PASSWORD"],
        database=db["NAME"],
        autocommit=True,
    )
    yield connection
    connection.close()


def query_value(connection, sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


def open_connections(admin):
    return query_value(
        admin, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = %s", (SERVER_USER,)
    )


def opened_connections(admin):
    """How many connections the server's user has opened so far (MariaDB's userstat)."""
    value = query_value(
        admin,
        "SELECT TOTAL_CONNECTIONS FROM information_schema.USER_STATISTICS WHERE USER = %s",
        (SERVER_USER,),
    )
    return value or 0


@pytest.fixture
def start_server(live_server_env):
    servers = []

    def start(server_class=DaphneServer, **env):
        server_env = {
            **live_server_env,
            "DATABASE_URL": database_url_for(settings.DATABASES["default"]["NAME"], SERVER_USER),
            **{name: str(value) for name, value in env.items()},
        }
        server = server_class(env=server_env, name=f"{server_class.server}-pool")
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


def hammer(url, total, concurrency):
    """Send ``total`` GETs to ``url`` from ``concurrency`` keep-alive clients; return statuses."""

    async def run():
        statuses = []
        remaining = iter(range(total))
        limits = httpx.Limits(max_connections=concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=60) as client:

            async def worker():
                for _ in remaining:
                    statuses.append((await client.get(url)).status_code)

            await asyncio.gather(*(worker() for _ in range(concurrency)))
        return statuses

    return asyncio.run(run())


class ConnectionSampler:
    """Samples the server user's open connections in the background; keeps the maximum."""

    def __init__(self, admin_settings):
        self.maximum = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(admin_settings,), daemon=True)

    def _run(self, db):
        connection = MySQLdb.connect(
            host=db["HOST"],
            port=int(db["PORT"] or 3306),
            user=db["USER"],
            password=db["PASSWORD"],
            autocommit=True,
        )
        try:
            while not self._stop.is_set():
                self.maximum = max(self.maximum, open_connections(connection))
                self._stop.wait(0.002)
        finally:
            connection.close()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=10)


def test_connections_are_reused_across_requests(start_server, admin_db):
    server = start_server(DB_MAX_CONNECTIONS=8, CONN_MAX_AGE=60)
    warm_up = hammer(server.url + DB_PAGE, total=200, concurrency=32)
    before = opened_connections(admin_db)

    statuses = hammer(server.url + DB_PAGE, total=1000, concurrency=32)

    assert set(warm_up) == set(statuses) == {200}
    assert opened_connections(admin_db) - before <= 1


def test_open_connections_never_exceed_the_maximum_under_load(start_server, admin_db):
    server = start_server(DB_MAX_CONNECTIONS=4, DB_POOL_TIMEOUT=60)
    before = opened_connections(admin_db)

    with ConnectionSampler(settings.DATABASES["default"]) as sampler:
        statuses = hammer(server.url + DB_PAGE, total=600, concurrency=32)

    assert set(statuses) == {200}
    assert 1 <= sampler.maximum <= 4
    assert opened_connections(admin_db) - before <= 4


def test_split_holds_at_most_processes_times_the_maximum_under_load(start_server, admin_db):
    # Two granian WSGI workers and daphne: three processes of at most 4 connections each.
    server = start_server(SplitServer, DB_MAX_CONNECTIONS=4, WEB_CONCURRENCY=2, CONN_MAX_AGE=60)
    before = opened_connections(admin_db)

    with ConnectionSampler(settings.DATABASES["default"]) as sampler:
        statuses = hammer(server.url + DB_PAGE, total=600, concurrency=32)
        # Connections stay open between requests (CONN_MAX_AGE on WSGI threads), and the
        # second round opens none beyond the bound.
        statuses += hammer(server.url + DB_PAGE, total=600, concurrency=32)

    assert set(statuses) == {200}
    assert 1 <= sampler.maximum <= 3 * 4
    assert opened_connections(admin_db) - before <= 3 * 4


def test_request_waits_for_a_free_connection_then_gets_503(start_server, admin_db):
    # One request thread; the test holds a table lock, so the first request occupies it.
    server = start_server(DB_MAX_CONNECTIONS=2, DB_POOL_TIMEOUT=0.5)
    with admin_db.cursor() as cursor:
        cursor.execute("LOCK TABLES auth_user WRITE")
    blocked = {}
    first = threading.Thread(
        target=lambda: blocked.update(response=httpx.get(server.url + DB_PAGE, timeout=60))
    )
    first.start()
    try:
        wait_until(
            lambda: query_value(
                admin_db,
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                "WHERE USER = %s AND STATE LIKE %s",
                (SERVER_USER, "%lock%"),
            ),
            timeout=15,
            message="the first request waiting on the table lock",
        )
        started = time.monotonic()
        refused = httpx.get(server.url + DB_PAGE, timeout=30)
        waited = time.monotonic() - started
    finally:
        with admin_db.cursor() as cursor:
            cursor.execute("UNLOCK TABLES")
        first.join(timeout=30)

    assert refused.status_code == 503
    assert "database connection pool" in refused.text
    assert refused.headers["Retry-After"]
    assert 0.4 <= waited < 5
    assert blocked["response"].status_code == 200
    assert "Traceback" not in server.log()


def test_request_after_its_connection_was_killed_succeeds(start_server, admin_db):
    server = start_server(DB_MAX_CONNECTIONS=2, CONN_MAX_AGE=600)
    assert httpx.get(server.url + DB_PAGE, timeout=30).status_code == 200
    ids = [
        row[0]
        for row in _rows(
            admin_db,
            "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = %s",
            (SERVER_USER,),
        )
    ]
    assert ids, "the server should hold a persistent connection"
    for connection_id in ids:
        with admin_db.cursor() as cursor:
            cursor.execute("KILL CONNECTION %s", (connection_id,))
    wait_until(lambda: open_connections(admin_db) == 0, timeout=10, message="connections killed")

    responses = [httpx.get(server.url + DB_PAGE, timeout=30) for _ in range(3)]

    assert [response.status_code for response in responses] == [200, 200, 200]


def _rows(connection, sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
