"""Clients of a live server's WebSockets for end-to-end tests: logged-in session cookies, raw
RFC 6455 connections (rfc6455/client.py), chat events read from those or from ``websockets``
connections, and an echo round trip."""

import json
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from rfc6455.client import RawWebSocket
from rfc6455.frames import Opcode
from tests.support.accounts import STRONG_PASSWORD
from tests.support.visitor import Visitor


def create_user(username):
    return get_user_model().objects.create_user(username, password=STRONG_PASSWORD)


def login_cookie(user):
    """``sessionid=...`` of a fresh session where ``user`` is logged in (stored in Redis), made
    in this process: good for servers that share its ``SECRET_KEY`` (``DEBUG`` ones)."""
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def http_login(server, username, password=STRONG_PASSWORD):
    """``sessionid=...`` after logging in through ``server``'s login form, as a browser does
    (any server: a production one signs sessions with its own ``SECRET_KEY``)."""
    with Visitor(server) as visitor:
        visitor.login(username, password)
        return f"{settings.SESSION_COOKIE_NAME}={visitor.session_cookie}"


def raw_socket(server, path, cookie=None, timeout=10):
    """A connected :class:`RawWebSocket` with the Origin a page of ``server`` would send."""
    connection = RawWebSocket(
        f"{server.ws_url}{path}", origin=server.url, cookie=cookie, timeout=timeout
    )
    connection.connect()
    return connection


def next_data_frame(socket, timeout=10):
    """The next text or binary frame, past pings and pongs."""
    deadline = time.monotonic() + timeout
    while True:
        frame, _raw = socket.receive(timeout=max(0.01, deadline - time.monotonic()))
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CLOSE):
            return frame


def next_event(connection, timeout=10):
    """The next chat event (a JSON text message) on a :class:`RawWebSocket` or a ``websockets``
    connection."""
    if isinstance(connection, RawWebSocket):
        frame = next_data_frame(connection, timeout)
        assert frame.opcode == Opcode.TEXT, frame
        return json.loads(frame.payload)
    return json.loads(connection.recv(timeout=timeout))


def events_until(connection, predicate, timeout=10):
    """Chat events up to and including the first for which ``predicate`` holds; an
    ``AssertionError`` naming the last ones when none does within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    events = []
    while True:
        try:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            events.append(next_event(connection, remaining))
        except TimeoutError:
            raise AssertionError(
                f"no matching event within {timeout}s; got {events[-5:]}"
            ) from None
        if predicate(events[-1]):
            return events


def say(connection, text):
    """Post ``text`` to the chat room of ``connection``."""
    connection.send(json.dumps({"type": "message", "text": text}))


def is_message(text):
    return lambda event: event["type"] == "message" and event["text"] == text


def is_presence(*users):
    return lambda event: event["type"] == "presence" and event["users"] == list(users)


def echo_round_trip(socket, text):
    """Send ``text`` on an echo connection and check that it comes straight back."""
    socket.send(text)
    frame = next_data_frame(socket)
    assert (frame.opcode, frame.payload) == (Opcode.TEXT, text.encode()), frame
