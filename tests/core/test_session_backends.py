"""The ``SESSION_BACKEND`` table (core/session_backends/registry.py): every name in it starts a
working session store, and the settings, the session inspection and /healthz all read it alike."""

import runpy
from importlib import import_module

import pytest
from asgiref.sync import async_to_sync
from django.core.exceptions import ImproperlyConfigured

from core import health, session_inspect
from core.memcached import memcached_cache
from core.session_backends.anonymous import AnonymousSessionAgeMixin
from core.session_backends.registry import SESSION_BACKENDS
from tests.support.servers import PROJECT_DIR
from tests.support.services import MemcachedInstance
from tests.support.sessions import use_session_backend

pytestmark = pytest.mark.django_db

NAMES = sorted(SESSION_BACKENDS)
SETTINGS_FILE = str(PROJECT_DIR / "project" / "settings.py")
# The first place each kind of storage names for a stored session (SessionStorage.kind).
FIRST_STORAGE_KIND = {
    "cache": {"Redis key", "cache key"},
    "database": {"database row"},
    "file": {"file"},
}


@pytest.fixture
def backend_named(request, settings, start_service):
    """``backend_named(name)``: this process's settings switched to ``SESSION_BACKEND=name``, as
    project/settings.py configures it, on the suite's services (memcached: one of the test's
    own); returns the table's entry."""

    def switch(name):
        backend = SESSION_BACKENDS[name]
        if backend.storage == "file":
            request.getfixturevalue("file_session_settings")
        if name == "memcached":
            memcached = start_service(MemcachedInstance)
            settings.CACHES = {
                **settings.CACHES,
                backend.cache_alias: memcached_cache(
                    memcached.url, connect_timeout=1.0, timeout=2.0
                ),
            }
            settings.MEMCACHED_URL = memcached.url
        return use_session_backend(settings, name)

    return switch


def test_the_table_has_every_name_the_settings_offer():
    assert NAMES == ["cache", "cached_db", "db", "file", "memcached", "signed_cookies"]
    for name, backend in SESSION_BACKENDS.items():
        assert backend.name == name


@pytest.mark.parametrize("name", NAMES)
def test_each_entry_is_consistent(name):
    backend = SESSION_BACKENDS[name]

    store_class = import_module(backend.engine).SessionStore
    assert issubclass(store_class, AnonymousSessionAgeMixin)
    # Nothing to read back exactly when nothing is stored on the server.
    assert (backend.reader() is None) == (not backend.server_side) == (backend.storage == "cookie")
    if backend.reader_path is not None:
        assert backend.reader_path.startswith("core.session_inspect.")
        assert backend.reader() is getattr(session_inspect, backend.reader_path.rsplit(".")[-1])
    # Every check named is one /healthz runs; a cache of the sessions' own has a check of its own.
    assert set(backend.health_checks) <= {*health.CHECKS, "session_cache"}
    own_cache = backend.cache_alias not in (None, "default")
    assert ("session_cache" in backend.health_checks) == own_cache
    if backend.storage == "cache":
        assert backend.cache_alias is not None


@pytest.mark.parametrize("name", NAMES)
def test_the_settings_take_engine_and_session_cache_from_the_table(monkeypatch, tmp_path, name):
    monkeypatch.setenv("DEBUG", "1")
    monkeypatch.setenv("SESSION_BACKEND", name)
    monkeypatch.setenv("SESSION_FILE_PATH", str(tmp_path / "sessions"))
    if name == "memcached":
        monkeypatch.setenv("MEMCACHED_URL", "memcached://127.0.0.1:11211")
    else:
        monkeypatch.delenv("MEMCACHED_URL", raising=False)
    backend = SESSION_BACKENDS[name]

    loaded = runpy.run_path(SETTINGS_FILE)

    assert loaded["SESSION_BACKEND"] == name
    assert loaded["SESSION_ENGINE"] == backend.engine
    assert loaded["SESSION_CACHE_ALIAS"] == (backend.cache_alias or "default")
    assert loaded["SESSION_CACHE_ALIAS"] in loaded["CACHES"]
    assert "SESSION_ENGINES" not in loaded


@pytest.mark.parametrize("name", NAMES)
def test_every_backend_saves_a_session_and_loads_it_back(backend_named, name):
    backend = backend_named(name)
    store_class = session_inspect.session_store_class()
    store = store_class()
    store["visits"] = 3

    store.save()
    loaded = store_class(store.session_key).load()

    assert store_class.__module__ == backend.engine
    assert store.session_key
    assert loaded == {"visits": 3}


@pytest.mark.parametrize("name", [name for name in NAMES if SESSION_BACKENDS[name].server_side])
def test_inspect_session_reads_each_server_side_backend_with_the_tables_reader(backend_named, name):
    backend = backend_named(name)
    store = session_inspect.session_store_class()()
    store["visits"] = 3
    store.save()

    stored = session_inspect.stored_session(store.session_key)

    assert session_inspect.session_backend() is backend
    assert session_inspect.session_backend_name() == name
    assert session_inspect.session_has_server_side_storage() is True
    assert stored is not None
    assert (stored.backend, stored.engine) == (name, backend.engine)
    assert stored.key_names == ["visits"]
    assert str(stored.storages[0].kind) in FIRST_STORAGE_KIND[backend.storage]
    # cached_db: the row, then its copy in the cache.
    assert len(stored.storages) == (2 if name == "cached_db" else 1)


def test_inspect_session_on_signed_cookies_reads_nothing_server_side(backend_named):
    backend_named("signed_cookies")

    assert session_inspect.session_has_server_side_storage() is False
    with pytest.raises(ValueError, match="no server-side storage"):
        session_inspect.stored_session("0" * 32)


def test_inspect_session_refuses_an_engine_that_is_not_the_backends(settings):
    use_session_backend(settings, "db")
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"

    with pytest.raises(ImproperlyConfigured, match="SESSION_BACKEND='db'"):
        session_inspect.stored_session("0" * 32)


@pytest.mark.parametrize("name", NAMES)
def test_healthz_runs_the_checks_the_table_names_for_the_backend(backend_named, name):
    backend = backend_named(name)

    results = async_to_sync(health.check_services)()

    assert set(backend.health_checks) <= set(results)
    assert ("session_cache" in results) == ("session_cache" in backend.health_checks)
    assert {check: results[check] for check in backend.health_checks} == dict.fromkeys(
        backend.health_checks, "ok"
    )


@pytest.mark.parametrize("name", NAMES)
def test_banner_and_home_page_say_where_the_tables_backend_keeps_sessions(
    settings, backend_named, name
):
    backend = backend_named(name)

    banner = health.describe_backends().split("; sessions: ")[1].split("; channel layer")[0]
    facts = health.backend_facts()

    assert banner.split(" ")[0] == facts["sessions"].split(" ")[0] == name
    if backend.cache_alias == "default":
        assert banner == f"{name} in {settings.REDIS.describe()}"
    elif backend.cache_alias is not None:
        assert banner == f"{name} at {settings.MEMCACHED_URL.removeprefix('memcached://')}"
    elif backend.storage == "database":
        assert banner == f"{name} in the database"
    elif backend.storage == "file":
        assert banner == f"{name} in {settings.SESSION_FILE_PATH}"
    else:
        assert banner == name
