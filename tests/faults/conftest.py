"""Fixtures of the fault tests: throwaway Redis and MariaDB servers of the test's own
(tests/support/services.py) and production-mode daphne processes on them, all stopped by pid."""

import pytest

from tests.support.servers import DaphneServer, production_env
from tests.support.services import MariaDBInstance, RedisInstance


@pytest.fixture
def redis_instance(start_service):
    return start_service(RedisInstance)


@pytest.fixture
def server_on_own_redis(start_server, redis_instance):
    """A production-mode daphne on the test database and on ``redis_instance``."""
    return start_server("daphne-own-redis", **production_env(REDIS_URL=redis_instance.url))


@pytest.fixture(scope="module")
def mariadb_instance(tmp_path_factory):
    """One throwaway MariaDB for a module's tests (its install takes a while)."""
    instance = MariaDBInstance(tmp_path_factory.mktemp("mariadb"))
    instance.install()
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture
def start_on_own_mariadb(live_server_env, mariadb_instance):
    """``start_on_own_mariadb(database, **env)``: a production-mode daphne on the test Redis and
    on ``database`` of ``mariadb_instance`` (created and migrated first), with ``env`` on top."""
    started = []

    def start(database, **env):
        mariadb_instance.create_database(database)
        server = DaphneServer(
            env=production_env(
                **{**live_server_env, "DATABASE_URL": mariadb_instance.url(database), **env}
            ),
            name=f"daphne-own-mariadb-{database}",
        )
        server.migrate()
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()
