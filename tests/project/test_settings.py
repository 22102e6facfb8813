"""Settings come from the environment, and unusable values stop start-up with a clear message."""

import os
import runpy
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.support.servers import PROJECT_DIR

SETTINGS_FILE = str(PROJECT_DIR / "project" / "settings.py")
ENV_NAMES = [
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL",
    "REDIS_URL",
    "REDIS_SENTINELS",
    "REDIS_SENTINEL_MASTER",
    "REDIS_DB",
    "REDIS_PASSWORD",
    "REDIS_SENTINEL_PASSWORD",
    "MEMCACHED_URL",
    "SESSION_BACKEND",
    "SESSION_COOKIE_AGE",
    "SESSION_ANONYMOUS_AGE",
    "CONN_MAX_AGE",
    "LOG_LEVEL",
    "SQLITE_PATH",
    "EMAIL_URL",
    "DEFAULT_FROM_EMAIL",
]


@pytest.fixture
def load_settings(monkeypatch, tmp_path):
    """Evaluate project/settings.py afresh under the given environment; return its namespace."""

    def load(**env):
        for name in ENV_NAMES:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("SESSION_FILE_PATH", str(tmp_path / "sessions"))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(SETTINGS_FILE)

    return load


def test_embedded_defaults_without_urls(load_settings):
    settings = load_settings(DEBUG="1")

    assert settings["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")
    assert settings["CHANNEL_LAYERS"]["default"]["BACKEND"].endswith("InMemoryChannelLayer")
    # In the database, not in the local-memory cache a restart empties.
    assert settings["SESSION_ENGINE"] == "core.session_backends.db"


def test_mysql_url_gets_utf8mb4_strict_mode_and_health_checks(load_settings):
    settings = load_settings(
        DEBUG="1", DATABASE_URL="mysql://u:p@db.internal:3307/chatdb", CONN_MAX_AGE="120"
    )
    database = settings["DATABASES"]["default"]

    assert database["ENGINE"] == "django.db.backends.mysql"
    assert (database["HOST"], database["PORT"], database["NAME"]) == ("db.internal", 3307, "chatdb")
    assert database["OPTIONS"]["charset"] == "utf8mb4"
    assert "STRICT_TRANS_TABLES" in database["OPTIONS"]["init_command"]
    assert database["CONN_MAX_AGE"] == 120
    assert database["CONN_HEALTH_CHECKS"] is True


def test_redis_url_selects_redis_cache_sessions_and_channel_layer(load_settings):
    settings = load_settings(DEBUG="1", REDIS_URL="redis://127.0.0.1:6379/3")

    assert settings["CACHES"]["default"]["BACKEND"] == "django_redis.cache.RedisCache"
    assert settings["CACHES"]["default"]["LOCATION"] == "redis://127.0.0.1:6379/3"
    layer = settings["CHANNEL_LAYERS"]["default"]
    assert layer["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    # Longer than channels-redis's 5 s blocking receive, or idle consumers die.
    assert layer["CONFIG"]["hosts"][0]["socket_timeout"] > 5


SENTINEL_ENV = {
    "DEBUG": "1",
    "REDIS_SENTINELS": "10.0.0.11:26379, 10.0.0.12:26380,[fd00::13]:26379",
    "REDIS_SENTINEL_MASTER": "chat-main",
    "REDIS_DB": "2",
}
SENTINELS = [["10.0.0.11", 26379], ["10.0.0.12", 26380], ["fd00::13", 26379]]


def test_sentinel_cache_asks_the_sentinels_for_the_master_and_reads_it_too(load_settings):
    settings = load_settings(**SENTINEL_ENV, REDIS_PASSWORD="redis-secret")
    cache = settings["CACHES"]["default"]

    assert cache["BACKEND"] == "django_redis.cache.RedisCache"
    # The master's name in the host part, the database in the path; the default client (not
    # SentinelClient, which would read from replicas) on Sentinel's connection factory.
    assert cache["LOCATION"] == "redis://chat-main/2"
    assert "CLIENT_CLASS" not in cache["OPTIONS"]
    assert cache["OPTIONS"]["CONNECTION_FACTORY"] == "django_redis.pool.SentinelConnectionFactory"
    assert cache["OPTIONS"]["SENTINELS"] == SENTINELS
    assert cache["OPTIONS"]["PASSWORD"] == "redis-secret"
    assert cache["OPTIONS"]["SENTINEL_KWARGS"]["socket_connect_timeout"] == 1.0
    assert "password" not in cache["OPTIONS"]["SENTINEL_KWARGS"]
    assert settings["REDIS_URL"] == ""


def test_sentinel_channel_layer_names_master_sentinels_and_timeouts(load_settings):
    settings = load_settings(**SENTINEL_ENV, REDIS_SENTINEL_PASSWORD="sentinel-secret")
    (host,) = settings["CHANNEL_LAYERS"]["default"]["CONFIG"]["hosts"]

    assert host["master_name"] == "chat-main"
    assert host["sentinels"] == SENTINELS
    assert host["db"] == 2
    assert "password" not in host
    assert host["socket_timeout"] > 5
    # channels-redis gives the Sentinels' own connections no timeout unless told.
    assert host["sentinel_kwargs"] == {
        "socket_connect_timeout": 1.0,
        "socket_timeout": 2.0,
        "password": "sentinel-secret",
    }


def test_sentinel_settings_describe_where_redis_is_without_passwords(load_settings):
    settings = load_settings(**SENTINEL_ENV, REDIS_PASSWORD="redis-secret")
    described = settings["REDIS"].describe()

    assert "chat-main" in described
    assert "10.0.0.11:26379,10.0.0.12:26380,[fd00::13]:26379" in described
    assert "redis-secret" not in described + repr(settings["REDIS"])


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"REDIS_SENTINELS": "10.0.0.11:26379"}, "REDIS_SENTINEL_MASTER"),
        ({"REDIS_SENTINEL_MASTER": "mymaster"}, "REDIS_SENTINELS"),
        ({"REDIS_SENTINELS": "10.0.0.11", "REDIS_SENTINEL_MASTER": "m"}, "10.0.0.11"),
        ({"REDIS_SENTINELS": "10.0.0.11:0", "REDIS_SENTINEL_MASTER": "m"}, "10.0.0.11:0"),
        ({"REDIS_SENTINELS": "h:26379,", "REDIS_SENTINEL_MASTER": "m"}, "REDIS_SENTINELS"),
        ({"REDIS_SENTINELS": "h:port", "REDIS_SENTINEL_MASTER": "m"}, "h:port"),
        ({"REDIS_SENTINELS": "h:1,h:1", "REDIS_SENTINEL_MASTER": "m"}, "twice"),
        ({"REDIS_SENTINELS": "::1:26379", "REDIS_SENTINEL_MASTER": "m"}, "[::1]:26379"),
        ({"REDIS_SENTINELS": "h:1", "REDIS_SENTINEL_MASTER": "MyMaster"}, "lowercase"),
        ({"REDIS_SENTINELS": "h:1", "REDIS_SENTINEL_MASTER": "m", "REDIS_DB": "x"}, "REDIS_DB"),
        ({"REDIS_SENTINELS": "h:1", "REDIS_SENTINEL_MASTER": "m", "REDIS_DB": "-1"}, "REDIS_DB"),
        (
            {"REDIS_SENTINELS": "h:1", "REDIS_SENTINEL_MASTER": "m", "REDIS_URL": "redis://h"},
            "not both",
        ),
        ({"REDIS_URL": "redis://h:6379/0", "REDIS_DB": "3"}, "in the URL"),
        ({"REDIS_PASSWORD": "secret"}, "REDIS_SENTINELS"),
    ],
)
def test_unusable_sentinel_settings_are_refused_saying_why(load_settings, env, named):
    with pytest.raises(ImproperlyConfigured) as refused:
        load_settings(DEBUG="1", **env)

    assert named in str(refused.value)
    assert "secret" not in str(refused.value)


@pytest.mark.parametrize(
    ("backend", "engine"),
    [
        ("cache", "core.session_backends.cache"),
        ("cached_db", "core.session_backends.cached_db"),
        ("db", "core.session_backends.db"),
        ("file", "core.session_backends.file"),
        ("signed_cookies", "core.session_backends.signed_cookies"),
        ("Cached_DB", "core.session_backends.cached_db"),
    ],
)
def test_session_backend_switch(load_settings, backend, engine):
    settings = load_settings(DEBUG="1", SESSION_BACKEND=backend)

    assert settings["SESSION_ENGINE"] == engine


def test_anonymous_sessions_live_a_day_by_default(load_settings):
    settings = load_settings(DEBUG="1")

    assert settings["SESSION_ANONYMOUS_AGE"] == 86400
    assert settings["SESSION_COOKIE_AGE"] == 14 * 86400


@pytest.mark.parametrize("age", ["0", "-5", str(14 * 86400 + 1), "a day"])
def test_unusable_anonymous_session_age_is_refused(load_settings, age):
    with pytest.raises(ImproperlyConfigured) as refused:
        load_settings(DEBUG="1", SESSION_ANONYMOUS_AGE=age)

    assert "SESSION_ANONYMOUS_AGE" in str(refused.value)


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("memcached://127.0.0.1:11211", "127.0.0.1:11211"),
        ("memcached://cache.internal:11311/", "cache.internal:11311"),
        ("10.0.0.5:11211", "10.0.0.5:11211"),
        ("[::1]:11211", "[::1]:11211"),
    ],
)
def test_memcached_session_backend_is_the_honest_store_on_its_own_cache(
    load_settings, url, location
):
    settings = load_settings(DEBUG="1", SESSION_BACKEND="memcached", MEMCACHED_URL=url)
    sessions = settings["CACHES"][settings["SESSION_CACHE_ALIAS"]]

    # The store that reports an unreachable cache; the sessions' cache is not the default one,
    # which stays the cache of everything else (the login throttle, ...).
    assert settings["SESSION_ENGINE"] == "core.session_backends.cache"
    assert settings["SESSION_CACHE_ALIAS"] != "default"
    assert sessions["BACKEND"] == "core.memcached.SingleServerPyMemcacheCache"
    assert sessions["LOCATION"] == location
    assert sessions["OPTIONS"]["connect_timeout"] == 1.0
    assert sessions["OPTIONS"]["timeout"] == 2.0


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SESSION_BACKEND": "memcached"}, "needs MEMCACHED_URL"),
        ({"SESSION_BACKEND": "memcached", "MEMCACHED_URL": "127.0.0.1"}, "'127.0.0.1'"),
        ({"SESSION_BACKEND": "memcached", "MEMCACHED_URL": "redis://h:11211"}, "MEMCACHED_URL"),
        ({"SESSION_BACKEND": "memcached", "MEMCACHED_URL": "h:11211,h:11212"}, "one server"),
        ({"SESSION_BACKEND": "memcached", "MEMCACHED_URL": "::1:11211"}, "[::1]:11211"),
        ({"SESSION_BACKEND": "memcached", "MEMCACHED_URL": "h:99999"}, "MEMCACHED_URL"),
        ({"MEMCACHED_URL": "memcached://127.0.0.1:11211"}, "SESSION_BACKEND=memcached"),
    ],
)
def test_unusable_memcached_settings_are_refused_saying_why(load_settings, env, named):
    with pytest.raises(ImproperlyConfigured) as refused:
        load_settings(DEBUG="1", **env)

    assert named in str(refused.value)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"DEBUG": "1", "CONN_MAX_AGE": "1m"}, "CONN_MAX_AGE"),
        ({"DEBUG": "1", "SESSION_BACKEND": "mongodb"}, "SESSION_BACKEND"),
        ({"DEBUG": "1", "DATABASE_URL": "postgres://u@h/db"}, "DATABASE_URL"),
        ({"DEBUG": "1", "DATABASE_URL": "nonsense"}, "DATABASE_URL"),
        ({"DEBUG": "1", "REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL"),
        ({"DEBUG": "1", "LOG_LEVEL": "loud"}, "LOG_LEVEL"),
        ({"DEBUG": "0", "ALLOWED_HOSTS": "chat.example.com"}, "SECRET_KEY"),
        ({"DEBUG": "0", "SECRET_KEY": "x" * 60}, "ALLOWED_HOSTS"),
    ],
)
def test_unusable_value_is_refused_naming_the_variable(load_settings, env, named):
    with pytest.raises(ImproperlyConfigured) as refused:
        load_settings(**env)

    assert named in str(refused.value)


def test_every_unusable_variable_is_reported_in_one_message(load_settings):
    with pytest.raises(ImproperlyConfigured) as refused:
        load_settings(DEBUG="0", SESSION_BACKEND="bogus", CONN_MAX_AGE="1m", LOG_LEVEL="loud")

    message = str(refused.value)
    for named in ("SECRET_KEY", "ALLOWED_HOSTS", "SESSION_BACKEND", "CONN_MAX_AGE", "LOG_LEVEL"):
        assert named in message
    assert message.startswith("5 problems")


def test_session_backend_error_lists_allowed_values(load_settings):
    with pytest.raises(ImproperlyConfigured) as refused:
        load_settings(DEBUG="1", SESSION_BACKEND="redis")

    for allowed in ("cache", "cached_db", "db", "file", "signed_cookies"):
        assert allowed in str(refused.value)


def test_production_has_no_default_secret_and_secures_cookies(load_settings):
    settings = load_settings(DEBUG="0", SECRET_KEY="s" * 60, ALLOWED_HOSTS="chat.example.com")

    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["CSRF_COOKIE_SECURE"] is True
    assert settings["SECURE_HSTS_SECONDS"] >= 60 * 60 * 24 * 365
    assert settings["SECURE_SSL_REDIRECT"] is True


def test_log_level_comes_from_the_environment(load_settings):
    settings = load_settings(DEBUG="1", LOG_LEVEL="warning")

    assert settings["LOGGING"]["root"]["level"] == "WARNING"
    assert settings["LOGGING"]["handlers"]["stderr"]["stream"] == "ext://sys.stderr"


def test_manage_py_stops_with_a_message_not_a_traceback():
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=PROJECT_DIR,
        env={**env, "DEBUG": "1", "SESSION_BACKEND": "mongodb"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert "SESSION_BACKEND" in result.stderr
    assert "Traceback" not in result.stderr


def test_email_defaults_to_the_console_under_debug(load_settings):
    settings = load_settings(DEBUG="1")

    assert settings["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.internal:25", {"EMAIL_HOST": "mail.internal", "EMAIL_PORT": 25}),
        (
            "smtp+tls://chat:p%40ss@mail.example.com:587",
            {
                "EMAIL_HOST": "mail.example.com",
                "EMAIL_PORT": 587,
                "EMAIL_HOST_USER": "chat",
                "EMAIL_HOST_PASSWORD": "p@ss",
                "EMAIL_USE_TLS": True,
            },
        ),
    ],
)
def test_email_url_configures_django_smtp(load_settings, url, expected):
    settings = load_settings(DEBUG="1", EMAIL_URL=url, DEFAULT_FROM_EMAIL="chat@example.com")

    assert settings["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert {key: settings[key] for key in expected} == expected
    assert settings["DEFAULT_FROM_EMAIL"] == "chat@example.com"


def test_unusable_email_url_is_refused_naming_the_variable(load_settings):
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        load_settings(DEBUG="1", EMAIL_URL="carrier-pigeon://coop")
