"""A busy room on the default settings: twelve people each send the 20 messages the per-user
limit allows, at once. Everyone in the room must receive all 240 (they are all stored).

channels-redis drops a group message for a channel whose queue already holds ``capacity``
messages (default 100), and a chat consumer drains its queue only between handling its own
client's frames, so a burst larger than the capacity loses live messages without an error.
"""

import asyncio
import json
import os
import time

import pytest
from django.conf import settings
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from chat.models import Message
from tests.support.chatting import create_user, http_login
from tests.support.servers import DaphneServer, production_env

pytestmark = pytest.mark.django_db(transaction=True)

ROOM = "busy"
PEOPLE = 12
MESSAGES_EACH = 20  # the default per-user limit in 10 s


@pytest.fixture
def fresh_room(redis_client):
    keys = [f"{os.environ.get('CHANNEL_LAYER_PREFIX', 'asgi')}:group:chat.{ROOM}"]
    keys += redis_client.scan_iter(match=f"{settings.CHAT_KEY_PREFIX}:*")
    redis_client.delete(*keys)


async def burst(server, cookies, timeout=10):
    """Everyone joins, then everyone sends their messages at once; what each one received."""
    sockets = {
        name: await connect(
            f"{server.ws_url}/ws/chat/{ROOM}/",
            origin=server.url,
            additional_headers={"Cookie": cookie},
            max_queue=None,
        )
        for name, cookie in cookies.items()
    }
    received = {name: set() for name in cookies}
    errors = {name: [] for name in cookies}
    present = {name: () for name in cookies}

    async def listen(name):
        try:
            async for frame in sockets[name]:
                event = json.loads(frame)
                if event["type"] == "message":
                    received[name].add(event["text"])
                elif event["type"] == "error":
                    errors[name].append(event["code"])
                elif event["type"] == "presence":
                    present[name] = tuple(event["users"])
        except ConnectionClosed:
            pass

    async def until(condition):
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    listeners = [asyncio.create_task(listen(name)) for name in cookies]
    await until(lambda: all(len(users) == len(cookies) for users in present.values()))

    async def send_all(name):
        for number in range(MESSAGES_EACH):
            await sockets[name].send(json.dumps({"type": "message", "text": f"{name} {number}"}))

    await asyncio.gather(*(send_all(name) for name in cookies))
    total = len(cookies) * MESSAGES_EACH
    await until(lambda: all(len(texts) == total for texts in received.values()))
    for socket in sockets.values():
        await socket.close()
    await asyncio.gather(*listeners)
    return received, errors


def test_burst_in_a_busy_room_reaches_everyone_in_full(live_server_env, fresh_room):
    with DaphneServer(env=production_env(**live_server_env), name="daphne-busy-room") as server:
        cookies = {}
        for number in range(PEOPLE):
            name = f"person{number:02d}"
            create_user(name)
            cookies[name] = http_login(server, name)

        received, errors = asyncio.run(burst(server, cookies))

    everything = {f"{name} {number}" for name in cookies for number in range(MESSAGES_EACH)}
    assert errors == {name: [] for name in cookies}
    assert set(Message.objects.filter(room=ROOM).values_list("text", flat=True)) == everything
    missing = {name: len(everything - texts) for name, texts in received.items()}
    assert missing == {name: 0 for name in cookies}, f"messages missed per person: {missing}"
