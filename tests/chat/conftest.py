"""Fixtures of the chat tests: users with Django sessions in the test Redis, WebSocket clients."""

import asyncio
import json
import os
import sys

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from django.conf import settings
from websockets.sync import client as ws_client

from chat import live
from tests.support.chatting import login_cookie
from tests.support.servers import DaphneServer, GranianServer, SplitServer, database_url_for

ORIGIN = "http://127.0.0.1"
SAME_ORIGIN = object()


@pytest.fixture(autouse=True)
def _without_chat_keys(clean_chat_keys):
    """Every chat test starts without earlier tests' chat keys in Redis (tests/conftest.py)."""


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """A new channel layer instance for each test.

    Each test runs on an event loop of its own, and channels-redis keeps loop-bound state in the
    layer instance (its receive lock, the loop it was created on): a consumer of an earlier test
    still receiving when that test's loop closed (a cancel lost in redis-py, see
    ChatConsumer.renewing) would otherwise fail the next test's receives with "bound to a
    different event loop". A server process has one loop and never meets this.
    """
    channel_layers.backends.clear()


@pytest.fixture
async def close_live_client():
    """Close the chat's Redis client of the test's event loop when the test ends."""
    yield
    await live.close_redis_client()


@pytest.fixture
def chat_cookies(make_user):
    """``await chat_cookies("alice", "bob")`` -> their session cookies: new users of
    tests/conftest.py's ``make_user``, logged in (sessions in the test Redis); for async tests."""

    @sync_to_async
    def log_in(*usernames):
        return [login_cookie(make_user(username)) for username in usernames]

    return log_in


async def receive_event(communicator, timeout=5):
    """The next JSON event a ``WebsocketCommunicator`` gets."""
    return json.loads(await communicator.receive_from(timeout=timeout))


async def receive_until(communicator, predicate, timeout=5):
    """Events up to and including the first one for which ``predicate`` holds."""
    events = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError(f"no matching event within {timeout}s; got {events}")
        event = await receive_event(communicator, timeout=remaining)
        events.append(event)
        if predicate(event):
            return events


# ------------------------------------------------------------------------------------------------
# Live servers
# ------------------------------------------------------------------------------------------------


class RunserverProcess(DaphneServer):
    """``manage.py runserver`` (daphne's, on the project's server class) on a free port."""

    def command(self):
        return [
            sys.executable,
            "manage.py",
            "runserver",
            "--noreload",
            "--skip-checks",
            f"127.0.0.1:{self.port}",
        ]


LAUNCHERS = {
    "serve": DaphneServer,
    "runserver": RunserverProcess,
    "granian": GranianServer,
    # nginx -> daphne for /ws, as SERVER=split make run serves it (server/split.py).
    "split": SplitServer,
}


def live_database_env():
    """The environment of a server process on the test database (set up already) and Redis."""
    return {
        "DATABASE_URL": database_url_for(settings.DATABASES["default"]["NAME"]),
        "REDIS_URL": os.environ["REDIS_URL"],
    }


@pytest.fixture(scope="module", params=sorted(LAUNCHERS))
def any_server(request, django_db_setup):
    """One server per launcher (``make run``'s, ``runserver`` and granian's), shared by a
    module's tests that only use WebSockets without the database."""
    server = LAUNCHERS[request.param](env=live_database_env(), name=f"{request.param}-echo")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def echo_server(django_db_setup):
    """A ``make run``-style server shared by a module's echo tests."""
    server = DaphneServer(env=live_database_env(), name="daphne-echo")
    server.start()
    yield server
    server.stop()


def ws_connect(server, path, cookie=None, origin=SAME_ORIGIN, **kwargs):
    """A ``websockets`` (sync) client connection to ``server``; the Origin a page of the server
    would send unless told otherwise (``None``: no Origin header)."""
    if origin is SAME_ORIGIN:
        origin = server.url
    headers = {"Cookie": cookie} if cookie else None
    return ws_client.connect(
        f"{server.ws_url}{path}",
        origin=origin,
        additional_headers=headers,
        proxy=None,
        max_size=None,
        # Unbounded, so that a test that leaves messages unread still completes the closing
        # handshake (a full queue stops the client reading, close replies included).
        max_queue=None,
        open_timeout=10,
        **kwargs,
    )
