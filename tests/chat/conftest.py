"""Fixtures of the chat tests: users with Django sessions in the test Redis, WebSocket clients."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from chat import live

ORIGIN = "http://127.0.0.1"


@pytest.fixture(autouse=True)
def clean_chat_keys(redis_client):
    """Presence and rate limits of earlier tests (user ids repeat after a flush) start empty."""
    keys = list(redis_client.scan_iter(match=f"{settings.CHAT_KEY_PREFIX}:*"))
    if keys:
        redis_client.delete(*keys)


@pytest.fixture
async def close_live_client():
    """Close the chat's Redis client of the test's event loop when the test ends."""
    yield
    await live.close_redis_client()


def create_user(username):
    return get_user_model().objects.create_user(username, password="a-long-test-password-1")


def login_cookie(user):
    """``sessionid=...`` of a fresh session where ``user`` is logged in (stored in Redis)."""
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


@pytest.fixture
def make_user(transactional_db):
    """``make_user(name)`` -> ``(user, cookie)``; usable from async tests."""

    def make(username):
        user = create_user(username)
        return user, login_cookie(user)

    return sync_to_async(make)


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
