"""Settings for the whole project, read from the environment in this one module.

Every variable is listed in README.md. Without ``DATABASE_URL`` and Redis (``REDIS_URL``, or
Sentinel's ``REDIS_SENTINELS``) the project runs on embedded defaults (SQLite, local-memory cache,
in-memory channel layer); with them, on MySQL (MariaDB) and Redis. With ``DEBUG`` off nothing
secret has a default: start-up refuses instead.
"""

import datetime
from pathlib import Path

from core.memcached import memcached_cache
from core.redis_connections import redis_target
from core.session_backends.registry import SESSION_BACKENDS
from project.env import StrictEnv

BASE_DIR = Path(__file__).resolve().parent.parent
env = StrictEnv()

# ------------------------------------------------------------------------------------------------
# General
# ------------------------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-local-development-only")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if not SECRET_KEY:
        env.refuse(
            "SECRET_KEY must be set when DEBUG is off. For local development set DEBUG=1 "
            "(make run does); in production generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
        )

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
if not ALLOWED_HOSTS:
    env.refuse("ALLOWED_HOSTS must be set when DEBUG is off, e.g. ALLOWED_HOSTS=chat.example.com")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

ROOT_URLCONF = "project.urls"
# With ADMIN_HOST (e.g. admin.localhost) the admin is served at the root of that host only.
ADMIN_HOST = env.str("ADMIN_HOST", default="").strip().lower()
if ADMIN_HOST and ADMIN_HOST not in ALLOWED_HOSTS and "*" not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(ADMIN_HOST)
EXTRA_URLCONFS = ["project.urls_admin"]
WSGI_APPLICATION = "project.wsgi.application"
ASGI_APPLICATION = "project.asgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ------------------------------------------------------------------------------------------------
# Applications and middleware
# ------------------------------------------------------------------------------------------------
DJANGO_APPS = [
    # daphne first: its runserver serves HTTP and WebSockets.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = ["channels", "csp", "axes"]
LOCAL_APPS = ["accounts", "chat"]
# The project app first: of two apps with the same management command the earlier wins, and its
# runserver (daphne's, on server/daphne.py's server) must win over daphne's.
INSTALLED_APPS = ["core.apps.CoreConfig", *DJANGO_APPS, *THIRD_PARTY_APPS, *LOCAL_APPS]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Early, so that the responses of the middleware below (503, 413) carry the policies too.
    "csp.middleware.CSPMiddleware",
    "core.security_headers.PermissionsPolicyMiddleware",
    "core.middleware.AdminHostMiddleware",
    "core.middleware.ServiceUnavailableMiddleware",
    "core.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Lets a password change spare the sockets of the session that made it (core/session_ends.py).
    "core.session_ends.CurrentSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns django-axes' lockout (raised in the authentication backend) into the 429 page.
    "axes.middleware.AxesMiddleware",
    # Last, so that its 413 gets every header above; it still answers before any process_view
    # (the CSRF check) parses the body, and without loading the session.
    "core.middleware.RequestBodyLimitMiddleware",
]
# Diagnostics behind a load balancer: X-Served-By names the process on every response and
# WebSocket handshake (docs/deploy.md). Off by default: it shows clients host names and pids.
# Outermost, so that responses made by the other middleware carry it too.
SERVED_BY_HEADER = env.bool("SERVED_BY_HEADER", default=False)
if SERVED_BY_HEADER:
    MIDDLEWARE.insert(0, "core.middleware.ServedByMiddleware")

TEMPLATES = [
    # The project's pages (templates/jinja2/): Jinja2 renders them in a fraction of the CPU time
    # of the Django template language. Their context comes from project/jinja2.py, not from
    # context processors.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "project.jinja2.environment",
            "extensions": ["jinja2.ext.i18n", "project.fragments.ConstantFragmentExtension"],
            # Like the Django template language: the final newline of a page is kept.
            "keep_trailing_newline": True,
        },
    },
    # The admin's templates (and any other app's templates/), in the Django template language.
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Form fields keep Django's default renderer (the Django template widget templates). Django's
# Jinja2 widget templates (django.forms.renderers.Jinja2) would cost the login page less CPU,
# but they drop the line breaks around radio and checkbox labels, so the registration form's
# HTML would change.

# ------------------------------------------------------------------------------------------------
# Database: MySQL (MariaDB) from DATABASE_URL, SQLite as the embedded default
# ------------------------------------------------------------------------------------------------
# MySQL only: a frozen server (or a query stuck behind a lock) costs a request this long, then
# a 503 page, instead of holding one of the few request threads for good. libmariadb waits
# exactly this long per read or write (no hidden retries). 0 turns it off, e.g. for a long
# migration: DB_QUERY_TIMEOUT=0 ./manage.py migrate.
DB_QUERY_TIMEOUT = env.int("DB_QUERY_TIMEOUT", default=5)
if DB_QUERY_TIMEOUT < 0:
    env.refuse(f"DB_QUERY_TIMEOUT must be 0 (off) or a number of seconds, got {DB_QUERY_TIMEOUT}")
_database = env.url_or_none("DATABASE_URL", env.db_url)
if _database is None:
    _database = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": env.str("SQLITE_PATH", default=str(BASE_DIR / "db.sqlite3")),
    }
elif _database.get("ENGINE") == "django.db.backends.mysql":
    _database.setdefault("OPTIONS", {}).update(
        {
            "charset": "utf8mb4",
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES'",
            "isolation_level": "read committed",
            # A stopped server must fail a request (and /healthz) fast, not after minutes.
            "connect_timeout": env.int("DB_CONNECT_TIMEOUT", default=2),
        }
    )
    if DB_QUERY_TIMEOUT:
        _database["OPTIONS"].update(read_timeout=DB_QUERY_TIMEOUT, write_timeout=DB_QUERY_TIMEOUT)
    _database["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
elif _database.get("ENGINE") != "django.db.backends.sqlite3":
    env.refuse(
        "DATABASE_URL must be a mysql:// or sqlite:// URL, "
        f"e.g. mysql://chat:chat@127.0.0.1:3306/chatdb (got engine {_database.get('ENGINE')!r})"
    )
_database["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
_database["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _database}

# Under ASGI, HTTP requests run on a fixed pool of long-lived threads (server/handlers.py), each
# keeping its own connection, plus one thread for WebSocket consumers' database work: a process
# never holds more than DB_MAX_CONNECTIONS connections. A request that finds every thread busy
# waits up to DB_POOL_TIMEOUT seconds, then gets a 503 page.
# Default 4: three request threads. The GIL runs one thread at a time, and each extra busy
# thread adds GIL hand-overs to every request (docs/database.md has the figures); raise it when
# pages wait on slow queries.
DB_MAX_CONNECTIONS = env.int("DB_MAX_CONNECTIONS", default=4)
if DB_MAX_CONNECTIONS < 2:
    env.refuse(
        f"DB_MAX_CONNECTIONS must be at least 2 (one request thread and the WebSocket "
        f"consumers' thread), got {DB_MAX_CONNECTIONS}"
    )
REQUEST_THREADS = DB_MAX_CONNECTIONS - 1
# Worker processes of granian's WSGI interface in `python -m server split` (server/granian.py),
# each with DB_MAX_CONNECTIONS request threads (no consumers' thread: daphne serves those).
WEB_CONCURRENCY = env.int("WEB_CONCURRENCY", default=1)
if WEB_CONCURRENCY < 1:
    env.refuse(f"WEB_CONCURRENCY must be at least 1, got {WEB_CONCURRENCY}")
DB_POOL_TIMEOUT = env.float("DB_POOL_TIMEOUT", default=5.0)
# "django" serves HTTP with Django's stock ASGIHandler instead (for comparison: see
# docs/performance.md; it neither reuses nor bounds connections under daphne).
HTTP_HANDLER = env.choice("HTTP_HANDLER", ["pooled", "django"], default="pooled")

# ------------------------------------------------------------------------------------------------
# Redis: cache, sessions, login throttle, chat presence and channel layer, from REDIS_URL or from
# Sentinel (REDIS_SENTINELS, REDIS_SENTINEL_MASTER); in-process defaults without either
# ------------------------------------------------------------------------------------------------
REDIS_CONNECT_TIMEOUT = env.float("REDIS_CONNECT_TIMEOUT", default=1.0)
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=2.0)
# Every Redis user builds its connection from this one description (core/redis_connections.py),
# so that with Sentinel all of them follow a failover. None: no Redis configured.
REDIS = env.build(
    redis_target,
    url=env.str("REDIS_URL", default=""),
    # host:port,host:port of the Sentinels, and the name they know the master by.
    sentinels=env.str("REDIS_SENTINELS", default=""),
    master=env.str("REDIS_SENTINEL_MASTER", default=""),
    # With Sentinel only (a URL carries its own): the master's database and password, and the
    # Sentinels' own password (requirepass in sentinel.conf).
    db=env.int("REDIS_DB", default=None),
    password=env.str("REDIS_PASSWORD", default=""),
    sentinel_password=env.str("REDIS_SENTINEL_PASSWORD", default=""),
    connect_timeout=REDIS_CONNECT_TIMEOUT,
    socket_timeout=REDIS_SOCKET_TIMEOUT,
)
REDIS_URL = REDIS.url if REDIS is not None else ""

if REDIS is not None:
    CACHES = {"default": REDIS.cache(key_prefix=env.str("CACHE_KEY_PREFIX", default="chat"))}
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    REDIS.channel_layer_host(
                        # Longer than channels-redis's 5 s blocking receive (BZPOPMIN): with
                        # redis-py's default of 5 s, idle consumers die with 1011.
                        socket_timeout=env.float("CHANNEL_LAYER_SOCKET_TIMEOUT", default=15.0),
                    )
                ],
                "prefix": env.str("CHANNEL_LAYER_PREFIX", default="asgi"),
                # channels-redis keeps one queue per server process (every consumer of the
                # process shares it) and silently drops what exceeds this; its default of 100
                # loses messages in a burst in a busy room.
                "capacity": env.int("CHANNEL_LAYER_CAPACITY", default=10_000),
                # Chat consumers re-join their room's group at every presence renewal, so a
                # membership older than this belongs to a process that died (default: a day).
                "group_expiry": env.int("CHANNEL_LAYER_GROUP_EXPIRY", default=120),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# ------------------------------------------------------------------------------------------------
# Sessions: SESSION_BACKEND is the counterpart of Flask-Session's SESSION_TYPE
# ------------------------------------------------------------------------------------------------
# What each name means (its store, its cache, how it is inspected and checked):
# core/session_backends/registry.py.
# Without Redis the cache is local memory, which a restart empties (everyone logged out): the
# embedded default keeps sessions in the database (SQLite) instead.
SESSION_BACKEND = env.choice(
    "SESSION_BACKEND", list(SESSION_BACKENDS), default="cache" if REDIS is not None else "db"
)
SESSION_ENGINE = SESSION_BACKENDS[SESSION_BACKEND].engine
SESSION_CACHE_ALIAS = SESSION_BACKENDS[SESSION_BACKEND].cache_alias or "default"
MEMCACHED_URL = env.str("MEMCACHED_URL", default="").strip()
if SESSION_BACKEND == "memcached":
    session_cache = env.build(
        memcached_cache,
        url=MEMCACHED_URL,
        connect_timeout=env.float("MEMCACHED_CONNECT_TIMEOUT", default=1.0),
        timeout=env.float("MEMCACHED_SOCKET_TIMEOUT", default=2.0),
    )
    # A refused MEMCACHED_URL is reported with the other refusals when the settings end.
    if session_cache is not None:
        CACHES[SESSION_CACHE_ALIAS] = session_cache
elif MEMCACHED_URL:
    env.refuse(
        f"MEMCACHED_URL is used by SESSION_BACKEND=memcached only (SESSION_BACKEND is "
        f"{SESSION_BACKEND!r}): set SESSION_BACKEND=memcached, or unset MEMCACHED_URL"
    )
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 24 * 14)
# A session without a logged-in user (a visit counter, a language choice) lives this long after
# it was last written, so that anonymous visitors cannot fill the store for two weeks each;
# login gives the session the full SESSION_COOKIE_AGE. Nothing is stored for a visitor whose
# session holds nothing.
SESSION_ANONYMOUS_AGE = env.int("SESSION_ANONYMOUS_AGE", default=60 * 60 * 24)
if not 0 < SESSION_ANONYMOUS_AGE <= SESSION_COOKIE_AGE:
    env.refuse(
        f"SESSION_ANONYMOUS_AGE must be a positive number of seconds no larger than "
        f"SESSION_COOKIE_AGE ({SESSION_COOKIE_AGE}), got {SESSION_ANONYMOUS_AGE}"
    )
if SESSION_BACKEND == "file":
    SESSION_FILE_PATH = env.str("SESSION_FILE_PATH", default=str(BASE_DIR / "sessions"))
    Path(SESSION_FILE_PATH).mkdir(parents=True, exist_ok=True)

# ------------------------------------------------------------------------------------------------
# Authentication
# ------------------------------------------------------------------------------------------------
# NIST SP 800-63B: at least 8 characters, at least 64 allowed (here 128), no whitespace-only
# password. The forms take their minlength/maxlength from this list
# (accounts/password_validation.py).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {
        "NAME": "accounts.password_validation.MaximumLengthValidator",
        "OPTIONS": {"max_length": 128},
    },
    {"NAME": "accounts.password_validation.NotOnlyWhitespaceValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2 (argon2-cffi) for new hashes; a PBKDF2 hash of an older account is re-hashed with
# Argon2 at its next successful login (check_password's setter), so the others stay listed.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# ------------------------------------------------------------------------------------------------
# E-mail (password reset): EMAIL_URL as django-environ reads it, e.g. smtp://host:25,
# smtp+tls://user:password@host:587 (percent-encode special characters), consolemail://
# ------------------------------------------------------------------------------------------------
EMAIL_URL = env.str("EMAIL_URL", default="").strip()
if EMAIL_URL:
    _email = env.url_or_none("EMAIL_URL", env.email_url) or {}
    globals().update({key: value for key, value in _email.items() if value is not None})
elif DEBUG:
    # Development: mails are printed on the server's stdout.
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# Production without EMAIL_URL keeps Django's SMTP on localhost:25, and core/checks.py warns.
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="webmaster@localhost")
# A hung mail server must not hold a request thread for ever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# ------------------------------------------------------------------------------------------------
# Accounts: throttling (docs/accounts.md; counters in the cache, shared by every server process)
# ------------------------------------------------------------------------------------------------
# django-axes: after LOGIN_THROTTLE_PER_USERNAME failed logins to one account from one client,
# that pair answers 429 for LOGIN_THROTTLE_WINDOW_SECONDS (the site's login and the admin's).
# django-ratelimit, per client address and window: LOGIN_THROTTLE_PER_ADDRESS failed logins
# whatever the username, REGISTRATIONS_PER_CLIENT registration posts, PASSWORD_RESETS_PER_CLIENT
# reset-mail requests.
LOGIN_THROTTLE_PER_USERNAME = env.int("LOGIN_THROTTLE_PER_USERNAME", default=5)
LOGIN_THROTTLE_PER_ADDRESS = env.int("LOGIN_THROTTLE_PER_ADDRESS", default=20)
LOGIN_THROTTLE_WINDOW_SECONDS = env.int("LOGIN_THROTTLE_WINDOW_SECONDS", default=15 * 60)
REGISTRATIONS_PER_CLIENT = env.int("REGISTRATIONS_PER_CLIENT", default=10)
REGISTRATION_WINDOW_SECONDS = env.int("REGISTRATION_WINDOW_SECONDS", default=60 * 60)
PASSWORD_RESETS_PER_CLIENT = env.int("PASSWORD_RESETS_PER_CLIENT", default=5)
PASSWORD_RESET_WINDOW_SECONDS = env.int("PASSWORD_RESET_WINDOW_SECONDS", default=60 * 60)
for _name in (
    "LOGIN_THROTTLE_PER_USERNAME",
    "LOGIN_THROTTLE_PER_ADDRESS",
    "LOGIN_THROTTLE_WINDOW_SECONDS",
    "REGISTRATIONS_PER_CLIENT",
    "REGISTRATION_WINDOW_SECONDS",
    "PASSWORD_RESETS_PER_CLIENT",
    "PASSWORD_RESET_WINDOW_SECONDS",
):
    if globals()[_name] < 1:
        env.refuse(f"{_name} must be a positive integer, got {globals()[_name]}")

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out (account, client) before the password is even checked.
    "accounts.backends.ThrottledLoginBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_CACHE = "default"
AXES_FAILURE_LIMIT = LOGIN_THROTTLE_PER_USERNAME
AXES_COOLOFF_TIME = datetime.timedelta(seconds=LOGIN_THROTTLE_WINDOW_SECONDS)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "accounts.throttle.account_username"
# The login forms' field (the user model's USERNAME_FIELD, axes' default), which
# accounts/throttle.py reads too; named here so that it is a setting like the others.
AXES_USERNAME_FORM_FIELD = "username"
AXES_CLIENT_IP_CALLABLE = "accounts.throttle.client_address"
AXES_LOCKOUT_CALLABLE = "accounts.views.login_locked_out"
# The lock ends a window after it began: attempts during it neither count nor extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
RATELIMIT_USE_CACHE = "default"
# django-ratelimit's key prefix (its default), named here for the tests that forget the counts.
RATELIMIT_CACHE_PREFIX = "rl:"
if CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    # The embedded default is one process: its local-memory cache holds every count there is.
    SILENCED_SYSTEM_CHECKS = [
        *globals().get("SILENCED_SYSTEM_CHECKS", []),
        "django_ratelimit.W001",
        "axes.W001",
    ]

# ------------------------------------------------------------------------------------------------
# WebSockets and chat
# ------------------------------------------------------------------------------------------------
# The largest incoming WebSocket message (and frame): a larger one is closed with 1009 by the
# server of server/daphne.py (`make run`, the tests, runserver). daphne's runserver reads DAPHNE_*.
WEBSOCKET_MAX_MESSAGE_BYTES = env.int("WEBSOCKET_MAX_MESSAGE_BYTES", default=1_000_000)
if WEBSOCKET_MAX_MESSAGE_BYTES < 1:
    env.refuse(
        f"WEBSOCKET_MAX_MESSAGE_BYTES must be a positive number of bytes, "
        f"got {WEBSOCKET_MAX_MESSAGE_BYTES}"
    )
DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE = WEBSOCKET_MAX_MESSAGE_BYTES
DAPHNE_WEBSOCKET_MAX_FRAME_SIZE = WEBSOCKET_MAX_MESSAGE_BYTES
# Backpressure (server/daphne.py, server/uvicorn.py; docs/websockets.md): a connection holds at
# most about this much of what it read and the application has not taken, plus what the
# application sent and the client has not read; past it the server stops reading it and the
# application's sends wait. One that stays over it for WEBSOCKET_SEND_TIMEOUT seconds is closed
# with 1008.
WEBSOCKET_MAX_BUFFERED_BYTES = env.int("WEBSOCKET_MAX_BUFFERED_BYTES", default=4 * 1024 * 1024)
if WEBSOCKET_MAX_BUFFERED_BYTES < 128 * 1024:
    env.refuse(
        "WEBSOCKET_MAX_BUFFERED_BYTES must be at least 131072 bytes (twice Twisted's 64 KiB "
        f"write buffer), got {WEBSOCKET_MAX_BUFFERED_BYTES}"
    )
WEBSOCKET_SEND_TIMEOUT = env.float("WEBSOCKET_SEND_TIMEOUT", default=30.0)
if WEBSOCKET_SEND_TIMEOUT <= 0:
    env.refuse(f"WEBSOCKET_SEND_TIMEOUT must be positive, got {WEBSOCKET_SEND_TIMEOUT}")
# A chat connection's presence entry lives this long unless its consumer renews it (every third
# of it): the entries of a killed server process disappear after at most this.
CHAT_PRESENCE_TTL = env.float("CHAT_PRESENCE_TTL", default=30.0)
if CHAT_PRESENCE_TTL <= 0:
    env.refuse(f"CHAT_PRESENCE_TTL must be positive, got {CHAT_PRESENCE_TTL}")
CHAT_KEY_PREFIX = env.str("CHAT_KEY_PREFIX", default="chat-live")
# The room lists of open pages learn a room's new message count at most this often (seconds).
CHAT_ROOM_ACTIVITY_INTERVAL = env.float("CHAT_ROOM_ACTIVITY_INTERVAL", default=0.5)
# A user may post this many chat messages per window (sliding, shared by all processes).
CHAT_MESSAGES_PER_WINDOW = env.int("CHAT_MESSAGES_PER_WINDOW", default=20)
CHAT_RATE_WINDOW_SECONDS = env.float("CHAT_RATE_WINDOW_SECONDS", default=10.0)
if CHAT_MESSAGES_PER_WINDOW < 1 or CHAT_RATE_WINDOW_SECONDS <= 0:
    env.refuse(
        "CHAT_MESSAGES_PER_WINDOW must be a positive integer and CHAT_RATE_WINDOW_SECONDS a "
        f"positive number, got {CHAT_MESSAGES_PER_WINDOW} and {CHAT_RATE_WINDOW_SECONDS}"
    )

# ------------------------------------------------------------------------------------------------
# Internationalisation: English and Simplified Chinese, chosen from Accept-Language
# ------------------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]

# The site's name in every page title, the header and the admin (a name, not translated).
SITE_NAME = "Chatterbox"
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# ------------------------------------------------------------------------------------------------
# Static files
# ------------------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# daphne alone serves no static files: in development the ASGI app does; in production nginx.
SERVE_STATIC = env.bool("SERVE_STATIC", default=DEBUG)

# ------------------------------------------------------------------------------------------------
# Security
# ------------------------------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers and monitors probe over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz/?$"]
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# ------------------------------------------------------------------------------------------------
# Content-Security-Policy and Permissions-Policy (docs/security.md)
# ------------------------------------------------------------------------------------------------
# Nothing inline: every script and style is a static file of this origin, so neither
# 'unsafe-inline' nor a nonce is needed (the admin of Django 5.2 has no inline script or style
# either). 'self' in connect-src covers the page's own ws:/wss: origin (CSP Level 3), which the
# chat and echo pages connect to.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # data: for the images Pico CSS draws in its stylesheet (select chevrons, checkmarks).
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Powerful browser features no page here uses, denied to this origin and to anything it embeds.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
        "serial",
        "hid",
        "screen-wake-lock",
        "xr-spatial-tracking",
    )
}

# ------------------------------------------------------------------------------------------------
# Logging: everything to stderr, level from LOG_LEVEL
# ------------------------------------------------------------------------------------------------
# Access log of every request on stdout: on in development; in production nginx keeps one.
ACCESS_LOG = env.bool("ACCESS_LOG", default=DEBUG)
LOG_LEVEL = env.choice(
    "LOG_LEVEL", ["debug", "info", "warning", "error", "critical"], default="info"
).upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "plain",
        }
    },
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {"django": {"level": LOG_LEVEL, "propagate": True}},
}

# Every unusable variable found above, reported together.
env.raise_problems()
