"""daphne killed (SIGKILL) in the middle of a chat of 1,000 messages between two clients, then
started again on the same port: the clients reconnect, and no message that the server had
broadcast before the kill is missing from the room's history (the chat stores each message before
broadcasting it).

The clients are two logged-in users on the real chat protocol (``websockets``), against a
production-mode daphne on the test database and Redis; the process is killed by pid.
"""

import asyncio
import json
import os
import time
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from chat.models import Message
from chat.selectors import HISTORY_LENGTH
from tests.support.chatting import create_user, http_login
from tests.support.servers import DaphneServer, production_env

pytestmark = pytest.mark.django_db(transaction=True)

ROOM = "crash"
PATH = f"/ws/chat/{ROOM}/"
TOTAL = 1000
KILL_AFTER = 300  # broadcasts seen by the clients before the process is killed
# The per-user message limit (20 in 10 s by default) would stretch 1,000 messages from two users
# over four minutes; the server is told to allow them all.
LIMIT_ENV = {"CHAT_MESSAGES_PER_WINDOW": "100000", "CHAT_RATE_WINDOW_SECONDS": "10"}


@dataclass
class Client:
    """One user's side of the chat: what it sent and every message event it received."""

    name: str
    cookie: str
    texts: list
    received: dict = field(default_factory=dict)  # message id -> (user, text)
    errors: list = field(default_factory=list)
    histories: list = field(default_factory=list)
    next_text: int = 0  # index in ``texts`` of the first text not sent yet
    connected: bool = False
    news: asyncio.Condition | None = None  # notified on every event and on disconnection

    def own_texts(self):
        return {text for user, text in self.received.values() if user == self.name}


@pytest.fixture
def fresh_room(redis_client):
    """No channel layer group, presence or rate counts of earlier runs in Redis."""
    keys = [f"{os.environ.get('CHANNEL_LAYER_PREFIX', 'asgi')}:group:chat.{ROOM}"]
    keys += redis_client.scan_iter(match=f"{settings.CHAT_KEY_PREFIX}:*")
    redis_client.delete(*keys)


@pytest.fixture
def servers():
    """Every daphne the test starts, stopped by pid at the end."""
    started = []
    yield started
    for server in started:
        server.stop()


async def open_socket(server, client):
    socket = await connect(
        f"{server.ws_url}{PATH}",
        origin=server.url,
        additional_headers={"Cookie": client.cookie},
        open_timeout=10,
        max_size=None,
        max_queue=None,
    )
    client.connected = True
    client.news = asyncio.Condition()
    return socket


async def receive_events(socket, client):
    """Record the client's events until its connection ends."""
    try:
        async for frame in socket:
            event = json.loads(frame)
            if event["type"] == "message":
                client.received[event["id"]] = (event["user"], event["text"])
            elif event["type"] == "history":
                client.histories.append(
                    [(item["id"], item["user"], item["text"]) for item in event["messages"]]
                )
            elif event["type"] == "error":
                client.errors.append(event["code"])
            async with client.news:
                client.news.notify_all()
    except ConnectionClosed:
        pass
    client.connected = False
    async with client.news:
        client.news.notify_all()


async def send_texts(socket, client):
    """Send the client's texts one by one, each once the broadcast of the previous one has come
    back, as a person chatting does. (A burst would overflow the channel layer's queue of 100
    messages per channel, and channels-redis drops group messages for a full channel.)"""
    try:
        while client.next_text < len(client.texts):
            text = client.texts[client.next_text]
            await socket.send(json.dumps({"type": "message", "text": text}))
            client.next_text += 1
            async with client.news:
                await asyncio.wait_for(
                    client.news.wait_for(
                        lambda text=text: (
                            text in client.own_texts() or client.errors or not client.connected
                        )
                    ),
                    10,
                )
            if client.errors or not client.connected:
                return
    except ConnectionClosed:
        pass


async def until(condition, timeout, message, state=lambda: ""):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} did not happen within {timeout}s {state()}")
        await asyncio.sleep(0.01)


def broadcast(clients):
    """Every message event either client received: id -> (user, text)."""
    return {key: value for client in clients for key, value in client.received.items()}


async def chat_until_killed(server, clients):
    """Both clients chat as fast as they can; the server is killed after KILL_AFTER broadcasts."""
    sockets = [await open_socket(server, client) for client in clients]
    receivers = [
        asyncio.create_task(receive_events(socket, client))
        for socket, client in zip(sockets, clients, strict=True)
    ]
    await until(lambda: all(client.histories for client in clients), 10, "both histories")
    senders = [
        asyncio.create_task(send_texts(socket, client))
        for socket, client in zip(sockets, clients, strict=True)
    ]
    await until(
        lambda: len(broadcast(clients)) >= KILL_AFTER or any(c.errors for c in clients),
        60,
        f"{KILL_AFTER} broadcasts",
    )
    await asyncio.to_thread(server.kill)
    # Both connections end abruptly (no close frame: the process is gone).
    await asyncio.wait_for(asyncio.gather(*receivers, *senders), 30)
    return {key: value for key, value in broadcast(clients).items()}


async def reconnect_and_finish(server, clients, texts_to_send):
    """Reconnect both clients (each gets the history), then send what the first server never
    stored; return when both have received every one of those messages."""
    sockets = []
    for client in clients:
        client.received.clear()
        sockets.append(await open_socket(server, client))
    receivers = [
        asyncio.create_task(receive_events(socket, client))
        for socket, client in zip(sockets, clients, strict=True)
    ]
    await until(lambda: all(len(client.histories) == 2 for client in clients), 10, "histories")
    for client in clients:
        client.texts, client.next_text = texts_to_send[client.name], 0
    senders = [send_texts(socket, client) for socket, client in zip(sockets, clients, strict=True)]
    await asyncio.gather(*senders)
    expected = sum(len(texts) for texts in texts_to_send.values())
    await until(
        lambda: (
            all(len(client.received) >= expected for client in clients)
            or any(client.errors for client in clients)
        ),
        60,
        f"both clients receiving the {expected} messages sent after the restart",
        lambda: [(c.name, len(c.received), c.next_text, len(c.texts), c.errors) for c in clients],
    )
    for socket in sockets:
        await socket.close()
    await asyncio.gather(*receivers)


def stored_messages():
    return {
        message.pk: (message.user.username, message.text)
        for message in Message.objects.filter(room=ROOM).select_related("user")
    }


def test_daphne_killed_mid_chat_loses_no_broadcast_message_and_clients_reconnect(
    live_server_env, servers, fresh_room
):
    env = production_env(**live_server_env, **LIMIT_ENV)
    first = DaphneServer(env=env, name="daphne-killed")
    servers.append(first)
    first.start()
    chat = {
        name: [f"{name} {number:03d}" for number in range(TOTAL // 2)] for name in ("alice", "bob")
    }
    clients = []
    for name, texts in chat.items():
        create_user(name)
        clients.append(Client(name, http_login(first, name), list(texts)))

    before_kill = asyncio.run(chat_until_killed(first, clients))

    # The server runs with a raised CHAT_MESSAGES_PER_WINDOW: no message may be refused.
    assert not any("rate_limited" in client.errors for client in clients)
    assert KILL_AFTER <= len(before_kill) < TOTAL, "the kill came in the middle of the chat"
    stored = stored_messages()
    lost = {key: value for key, value in before_kill.items() if stored.get(key) != value}
    assert lost == {}, f"{len(lost)} of {len(before_kill)} broadcast messages are not stored"

    second = DaphneServer(env=first.env, port=first.port, name="daphne-killed-again")
    servers.append(second)
    second.start()
    stored_texts = {text for _user, text in stored.values()}
    unstored = {
        client.name: [text for text in client.texts if text not in stored_texts]
        for client in clients
    }
    asyncio.run(reconnect_and_finish(second, clients, unstored))

    final = stored_messages()
    # The history each client got on reconnecting: the room's last messages, all of them stored.
    newest_before_restart = sorted((key, *value) for key, value in stored.items())[-HISTORY_LENGTH:]
    for client in clients:
        assert client.histories[1] == newest_before_restart
        assert client.errors == []
    # The whole chat is there: every one of the 1,000 texts, each exactly once.
    assert sorted(text for _user, text in final.values()) == sorted(chat["alice"] + chat["bob"])
    assert set(before_kill.items()) <= set(final.items())
    assert "Traceback" not in second.log()
