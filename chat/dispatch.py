"""How the chat's consumers dispatch messages: Channels' behaviour, without its per-message costs.

Channels' ``AsyncConsumer`` makes a database hop before every handler and a task per message
received; the mixins here keep its semantics (one handler at a time, in arrival order, errors
raised in the consumer) without either.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.layers import get_channel_layer

# ASGI's scope and messages, as Channels' consumers handle them: plain dicts.
Scope = dict[str, Any]
ASGIMessage = dict[str, Any]
Receive = Callable[[], Awaitable[ASGIMessage]]
Send = Callable[[ASGIMessage], Awaitable[None]]


class DirectDispatchMixin:
    """Call each event's handler directly, without Channels' database hop.

    Since Channels 4.2, ``AsyncConsumer.dispatch`` runs ``close_old_connections`` in a worker
    thread before every handler: a thread hop for every WebSocket message and every group
    message delivered, dearer than the handlers of an echo or a broadcast themselves. These
    consumers reach the database only through ``database_sync_to_async``, which closes old
    connections around each call itself.

    A consumer using it must not touch the ORM any other way. (The hop also hid a cancellation
    that redis-py can lose: :meth:`chat.consumers.ChatConsumer.renewing` handles that.)
    """

    async def dispatch(self, message: ASGIMessage) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)


class SerialDispatchMixin:
    """Dispatch the client's and the channel layer's messages one at a time, as Channels does,
    without creating a task per message.

    Channels' ``await_many_dispatch`` makes a new task for the next message of a source and an
    ``asyncio.wait()`` over all sources for every message handled: every consumer of a room pays
    that for every broadcast, so it grows with the room's size times its traffic. Here each source
    has one long-lived task that forwards its messages, in order, to the consumer's inbox, and one
    loop dispatches them in arrival order, so a handler still never runs while another one does. A
    consumer without a channel layer (the echo) has nothing to forward and reads its client in a
    plain loop. An error receiving from a source (e.g. the channel layer's Redis) is raised in the
    consumer, as under Channels, and messages still queued when the consumer stops are dropped, as
    theirs.
    """

    if TYPE_CHECKING:
        # Provided by the consumer class it is mixed into (Channels' AsyncConsumer).
        channel_layer_alias: str | None

        async def dispatch(self, message: ASGIMessage) -> None: ...

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        sources: list[Receive] = [receive]
        if self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
            sources.append(self.channel_receive)
        self.base_send = send
        if len(sources) == 1:
            # Only the client (no channel layer): a plain loop, with nothing to forward.
            try:
                while True:
                    await self.dispatch(await receive())
            except StopConsumer:
                return
        # A message received, or the error that ended its source.
        inbox: asyncio.Queue[ASGIMessage | Exception] = asyncio.Queue()

        async def forward(source: Receive, stamp: bool = False) -> None:
            try:
                while True:
                    message = await source()
                    if stamp:
                        # When the frame arrived, before it waits behind slow handlers: the
                        # chat's rate limit counts it then (chat/live.py).
                        message["received_at"] = time.monotonic()
                    inbox.put_nowait(message)
            except Exception as exc:
                inbox.put_nowait(exc)

        forwarders = [
            asyncio.ensure_future(forward(source, stamp=source is receive)) for source in sources
        ]
        try:
            while True:
                received = await inbox.get()
                if isinstance(received, Exception):
                    raise received
                await self.dispatch(received)
        except StopConsumer:
            pass
        finally:
            await stop_tasks(forwarders)


async def stop_tasks(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel ``tasks`` and wait until all have ended.

    A cancel() can be lost in a channel layer receive (see chat.consumers.ChatConsumer.renewing):
    they are cancelled again until they end, instead of lingering until the next message. Being
    cancelled meanwhile (a server stopping the consumer, or a test client giving up waiting) does
    not cut this short: a receive left running would hold the channel layer's receive lock for good.
    The cancellation is raised once the tasks have ended.
    """
    running = set(tasks)
    cancelled = False
    while running:
        for task in running:
            task.cancel()
        try:
            _, running = await asyncio.wait(running, timeout=0.1)
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
