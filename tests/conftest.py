"""Suite-wide fixtures. The suite runs against the real MariaDB and Redis (``make test``)."""

import importlib
import os

import pytest
import redis as redis_lib

from tests.support.servers import DaphneServer, database_url_for


def pytest_configure(config):
    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name)]
    if missing:
        pytest.exit(
            f"{' and '.join(missing)} not set: the suite runs against the real MariaDB and "
            "Redis. Run it with `make test`.",
            returncode=2,
        )


@pytest.fixture
def redis_client():
    """A plain redis-py client on the test Redis database, outside Django."""
    from django.conf import settings

    client = redis_lib.Redis.from_url(settings.REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def live_server_env(transactional_db):
    """Environment for a server process that uses the test database and the test Redis."""
    from django.conf import settings

    return {
        "DATABASE_URL": database_url_for(settings.DATABASES["default"]["NAME"]),
        "REDIS_URL": os.environ["REDIS_URL"],
    }


@pytest.fixture
def daphne_server(live_server_env):
    """A live daphne process on the test database and Redis, stopped by pid afterwards."""
    server = DaphneServer(env=live_server_env)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def default_hobbies(db):
    """The five hobbies the registration form offers: a data migration's rows, which the flush
    after each transactional test removes. (With ``transactional_db`` requested too, that wins.)"""
    from django.apps import apps

    migration = importlib.import_module("accounts.migrations.0002_default_hobbies")
    migration.create_default_hobbies(apps, None)


@pytest.fixture
def clean_login_throttle():
    """The login throttle's counters live in the shared Redis: start and end without them."""
    from django.core.cache import cache

    from accounts.selectors import THROTTLE_KEY_PREFIX

    cache.delete_pattern(f"{THROTTLE_KEY_PREFIX}:*")
    yield
    cache.delete_pattern(f"{THROTTLE_KEY_PREFIX}:*")
