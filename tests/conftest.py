"""Suite-wide fixtures. The suite runs against the real MariaDB and Redis (``make test``)."""

import contextlib
import importlib
import os

import pytest
import redis as redis_lib

from tests.support.accounts import STRONG_PASSWORD, forget_login_failures
from tests.support.servers import database_url_for, live_server_class
from tests.support.sessions import use_session_backend

SERVICE_URLS = ("DATABASE_URL", "REDIS_URL")


def pytest_configure(config):
    from tests.support.templates import report_jinja2_rendering

    report_jinja2_rendering()


# A test that asks for one of these (directly or through another fixture) talks to MariaDB or
# Redis: it is marked ``needs_services``.
SERVICE_FIXTURES = frozenset({"django_db_setup", "redis_client", "live_server_env"})


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    # tryfirst: marked before ``-m`` deselects, so ``-m 'not needs_services'`` sees the marks.
    for item in items:
        if item.get_closest_marker("django_db") or SERVICE_FIXTURES.intersection(
            getattr(item, "fixturenames", ())
        ):
            item.add_marker(pytest.mark.needs_services)


def pytest_collection_finish(session):
    missing = [name for name in SERVICE_URLS if not os.environ.get(name)]
    needing = [item for item in session.items if item.get_closest_marker("needs_services")]
    if missing and needing:
        raise pytest.UsageError(
            f"{' and '.join(missing)} not set, and {len(needing)} of the selected tests need "
            f"the real MariaDB and Redis (e.g. {needing[0].nodeid}). Run the suite with "
            "`make test`, or only the tests that need no services with "
            "`-m 'not needs_services'`."
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
def start_server(live_server_env):
    """``start_server(name, server_class=None, **env)``: a started server process on the test
    database and Redis, with ``env`` on top; each one is stopped by pid afterwards. The class is
    ``TEST_SERVER``'s (daphne, or the split) unless given."""
    started = []

    def start(name, server_class=None, **env):
        server_class = server_class or live_server_class()
        started.append(server_class(env={**live_server_env, **env}, name=name))
        return started[-1].start()

    yield start
    for server in reversed(started):
        server.stop()


@pytest.fixture
def start_service(tmp_path):
    """``start_service(RedisInstance)``: a started service process of the test's own (one of
    tests/support/services.py's), in a folder under ``tmp_path``; each stopped by pid afterwards."""
    started = []

    def start(service_class, **kwargs):
        workdir = tmp_path / f"{service_class.name}-{len(started)}"
        started.append(service_class(workdir, **kwargs))
        return started[-1].start()

    yield start
    for service in reversed(started):
        service.stop()


@pytest.fixture
def daphne_server(start_server):
    """A live daphne process (the split with ``TEST_SERVER=split``) on the test database and
    Redis, stopped by pid afterwards."""
    return start_server("daphne")


@pytest.fixture
def default_hobbies(db):
    """The five hobbies the registration form offers: a data migration's rows, which the flush
    after each transactional test removes. (With ``transactional_db`` requested too, that wins.)"""
    from django.apps import apps

    migration = importlib.import_module("accounts.migrations.0002_default_hobbies")
    migration.create_default_hobbies(apps, None)


@pytest.fixture
def clean_login_throttle():
    """The login throttle's counters live in the shared Redis: start and end without them.
    It yields :func:`forget_login_failures`, to forget them mid-test too."""
    forget_login_failures()
    yield forget_login_failures
    forget_login_failures()


@pytest.fixture
def clean_chat_keys(redis_client):
    """Presence, rate limits (user ids repeat after a flush) and the rooms' channel layer groups
    of earlier tests start empty."""
    from django.conf import settings

    layer_prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    for pattern in (f"{settings.CHAT_KEY_PREFIX}:*", f"{layer_prefix}:group:chat.*"):
        keys = list(redis_client.scan_iter(match=pattern))
        if keys:
            redis_client.delete(*keys)


@pytest.fixture
def make_user(db, default_hobbies):
    """Create a registered user (with profile) through the registration service."""

    def make(username="alice", password=STRONG_PASSWORD, gender="2", hobby_ids=(2, 4), email=None):
        from accounts import services
        from accounts.models import Hobby

        return services.register_user(
            username=username,
            email=f"{username}@example.com" if email is None else email,
            password=password,
            gender=gender,
            hobbies=Hobby.objects.filter(id__in=hobby_ids),
        )

    return make


@pytest.fixture
def alice(make_user):
    return make_user()


@pytest.fixture
def file_session_settings(settings, tmp_path):
    """``SESSION_BACKEND=file`` writing into a fresh directory."""
    use_session_backend(settings, "file")
    settings.SESSION_FILE_PATH = str(tmp_path)
    # The file engine caches its directory on the class; forget it on both sides of the test.
    _forget_file_storage_path()
    yield tmp_path
    _forget_file_storage_path()


def _forget_file_storage_path():
    from django.contrib.sessions.backends.file import SessionStore as FileSessionStore

    from core.session_backends.file import SessionStore as OurFileSessionStore

    # Cached on the class that asked first; a subclass reads its base's.
    for store_class in (OurFileSessionStore, FileSessionStore):
        with contextlib.suppress(AttributeError):
            del store_class._storage_path
