"""The WebSocket consumers: the seed's echo and the chat rooms (protocol in chat/protocol.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from redis.exceptions import RedisError

from chat import broadcasts, live, protocol, selectors, services
from chat.broadcasts import ROOMS_GROUP
from chat.dispatch import (
    ASGIMessage,
    DirectDispatchMixin,
    Receive,
    Scope,
    Send,
    SerialDispatchMixin,
)
from chat.protocol import ErrorCode, ProtocolError
from core import session_ends
from server.ws_guard import CLOSE_LOGGED_OUT, note_accepted

if TYPE_CHECKING:
    from chat.models import Message

logger = logging.getLogger(__name__)

T = TypeVar("T")


class EchoConsumer(SerialDispatchMixin, DirectDispatchMixin, AsyncWebsocketConsumer):
    """The seed's ``/ws``: every message goes back to its sender unchanged, text as text and
    binary as binary, in order."""

    # The echo needs no channel layer: without one, a connection costs no channel name, no
    # receive task on the layer and no Redis traffic, and the echo keeps working when Redis
    # is down. (An alias that is not configured gives no layer.)
    channel_layer_alias = None

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is not None:
            await self.send(text_data=text_data)
        else:
            await self.send(bytes_data=bytes_data)


encode_event = protocol.encode_event
room_group_name = broadcasts.room_group_name


UNSENT_DETAIL = "The message could not be sent; try again."


class ChatConsumer(SerialDispatchMixin, DirectDispatchMixin, AsyncWebsocketConsumer):
    """A chat room for logged-in users: history on connect, then messages and presence.

    Every message is stored before it is broadcast through the channel layer, so clients of
    other server processes sharing the layer's Redis are in the same room.
    """

    presence_task: asyncio.Task[None] | None = None
    in_room = False
    session_groups: tuple[str, ...] = ()
    # Set once the session has ended: frames still queued are not posted.
    ended = False
    accepted = False
    frame_received_at: float | None = None
    presence_users: tuple[str, ...] | None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.consumer_task = asyncio.current_task()
        try:
            await super().__call__(scope, receive, send)
        except Exception:
            # A consumer that dies of an error gets no websocket.disconnect: leave the room
            # here, or its channel stays in the group and its name in the presence list.
            try:
                await self.leave_room()
            except Exception as exc:
                # Typically the same unavailable service; the error itself is re-raised to the
                # server (and ws_guard), which reports it.
                logger.warning(
                    "could not leave room %s after an error: %s", self.room_name, type(exc).__name__
                )
            raise
        finally:
            # However the consumer ends (daphne cancels one that outlives its connection, or
            # kills them all at shutdown), the renewals must stop with it, or its presence entry
            # would never expire. (The renewals check renewing() too: see there.)
            if self.presence_task is not None:
                self.presence_task.cancel()

    async def connect(self) -> None:
        self.user = self.scope["user"]
        if not self.user.is_authenticated:
            # Accepted, then closed as "logged out": a refused handshake (HTTP 403) would look
            # the same to the page as an outage or a foreign origin.
            await self.end_session()
            return
        self.username = self.user.get_username()
        self.room_name = self.scope["url_route"]["kwargs"]["room_name"]
        self.room_group_name = room_group_name(self.room_name)
        session = self.scope["session"]
        self.session_uid = session_ends.session_uid(session)
        self.session_auth_hash = session.get(HASH_SESSION_KEY)
        # Where the end of this login session or a change of its user is announced, by any
        # process (core/session_ends.py).
        self.session_groups = (
            session_ends.session_group(self.session_uid),
            session_ends.user_group(self.user.pk),
        )
        self.presence_version = 0
        self.presence_users = None

        # Join the group before reading history: a message stored in between then arrives both
        # ways, and the id check in chat_message drops the copy, instead of being missed.
        await self.join_groups()
        self.in_room = True
        await self.accept()
        history = await database_sync_to_async(selectors.recent_messages)(self.room_name)
        self.history_last_id = history[-1].pk if history else 0
        await self.send_event(protocol.history_event(history))

        state = await live.presence().join(self.room_name, self.channel_name, self.username)
        await self.announce_presence(state, always=True)
        self.presence_task = asyncio.create_task(self.keep_presence())

    async def accept(
        self, subprotocol: str | None = None, headers: Iterable[tuple[bytes, bytes]] | None = None
    ) -> None:
        await super().accept(subprotocol, headers)
        self.accepted = True
        note_accepted(self.scope)

    async def join_groups(self) -> None:
        for group in (self.room_group_name, ROOMS_GROUP, *self.session_groups):
            await self.channel_layer.group_add(group, self.channel_name)

    async def end_session(self) -> None:
        """Close with 4401, "logged out" (server/ws_guard.py): the page stops retrying."""
        if self.ended:
            return
        self.ended = True
        if not self.accepted:
            await self.accept()
        await self.close(code=CLOSE_LOGGED_OUT)

    async def disconnect(self, code: int) -> None:
        await self.leave_room()

    async def leave_room(self) -> None:
        if not self.in_room:
            return
        self.in_room = False
        if self.presence_task is not None:
            self.presence_task.cancel()
        for group in (self.room_group_name, ROOMS_GROUP, *self.session_groups):
            await self.channel_layer.group_discard(group, self.channel_name)
        state = await live.presence().leave(self.room_name, self.channel_name, self.username)
        await self.announce_presence(state)

    async def websocket_receive(self, message: ASGIMessage) -> None:
        # When the frame arrived (chat/dispatch.py), for the rate limit.
        self.frame_received_at = message.get("received_at")
        await super().websocket_receive(message)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.ended:
            return
        client_id = None
        try:
            event = protocol.parse_client_event(text_data, bytes_data)
            client_id = protocol.client_id_of(event)
            # The limit comes before the service, which validates the message as it stores it:
            # a message the service refuses counts against the limit too.
            try:
                await self.check_rate_limit()
            except ProtocolError as refusal:
                # A page resending a backlog after a reconnect may run into the limit with
                # messages stored already: those are acknowledged, not refused.
                message = await self.posted_before(client_id, refusal)
                created = False
            else:
                message, created = await self.post_message(event.get("text"), client_id)
        except ProtocolError as exc:
            await self.send_event(protocol.error_event(exc.code, exc.detail, client_id))
            return
        data = protocol.message_data(message)
        if not created:
            # A resend of a stored message: acknowledged to its sender only, as first stored.
            await self.send_event(data)
            return
        try:
            # Serialized once here rather than by each of the room's consumers.
            await self.within_redis_timeout(
                self.channel_layer.group_send(
                    self.room_group_name,
                    {"type": "chat.message", "id": data["id"], "text": encode_event(data)},
                )
            )
        except (TimeoutError, RedisError) as exc:
            # Stored but not broadcast: the client resends it (same client id) and gets the
            # stored message back; the room sees it in its history.
            logger.warning(
                "broadcasting message %s in room %s failed: %s",
                data["id"],
                self.room_name,
                type(exc).__name__,
            )
            await self.send_event(
                protocol.error_event(ErrorCode.UNAVAILABLE, UNSENT_DETAIL, client_id)
            )
        else:
            broadcasts.room_activity().touched(self.channel_layer, self.room_name)

    async def within_redis_timeout(self, operation: Awaitable[T]) -> T:
        """Await ``operation`` for at most ``REDIS_SOCKET_TIMEOUT`` seconds, else TimeoutError:
        the sender hears of an outage within that, whatever the client's own retries."""
        async with asyncio.timeout(settings.REDIS_SOCKET_TIMEOUT):
            return await operation

    async def check_rate_limit(self) -> None:
        limiter = live.message_rate_limiter()
        try:
            allowed = await self.within_redis_timeout(
                limiter.hit(f"user:{self.user.pk}", received_at=self.frame_received_at)
            )
        except (TimeoutError, RedisError) as exc:
            logger.warning("chat rate limit unavailable: %s", type(exc).__name__)
            raise ProtocolError(ErrorCode.UNAVAILABLE, UNSENT_DETAIL) from None
        if not allowed:
            raise ProtocolError(
                ErrorCode.RATE_LIMITED,
                f"More than {settings.CHAT_MESSAGES_PER_WINDOW} messages in "
                f"{settings.CHAT_RATE_WINDOW_SECONDS:g} seconds; slow down.",
            )

    async def posted_before(self, client_id: str | None, refusal: ProtocolError) -> Message:
        """The message stored before under ``client_id``; else ``refusal`` is raised."""
        if client_id is None or refusal.code != ErrorCode.RATE_LIMITED:
            raise refusal
        try:
            stored = await database_sync_to_async(selectors.posted_message)(
                self.user, self.room_name, client_id
            )
        except DatabaseError:
            raise refusal from None
        if stored is None:
            raise refusal
        return stored

    async def post_message(self, text: object, client_id: str | None) -> tuple[Message, bool]:
        """``(message, created)``: stored now, or before under the same client id;
        :class:`ProtocolError` when the service refuses it (e.g. its text) or cannot store it."""
        try:
            return await database_sync_to_async(services.post_message_once)(
                user=self.user, room=self.room_name, text=text, client_id=client_id
            )
        except ValidationError as exc:
            raise ProtocolError.refusing(exc) from None
        except DatabaseError:
            logger.exception("storing a message in room %s failed", self.room_name)
            raise ProtocolError(
                ErrorCode.UNAVAILABLE, "The message could not be stored; try again."
            ) from None

    # Handlers of the room group's events

    async def chat_message(self, event: dict[str, Any]) -> None:
        if event["id"] <= self.history_last_id:
            return
        await self.send(text_data=event["text"])

    async def message_deleted(self, event: dict[str, Any]) -> None:
        await self.send_event(protocol.message_deleted_event(event["id"]))

    async def room_activity(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["text"])

    async def presence_update(self, event: dict[str, Any]) -> None:
        await self.show_presence(tuple(event["users"]), event["version"])

    # Handlers of the session's and the user's events (core/session_ends.py)

    async def session_ended(self, event: dict[str, Any]) -> None:
        await self.end_session()

    async def user_changed(self, event: dict[str, Any]) -> None:
        end, self.session_auth_hash = session_ends.should_end(
            event, session_auth_hash=self.session_auth_hash, uid=self.session_uid
        )
        if end:
            await self.end_session()

    # Presence

    async def announce_presence(self, state: live.Presence, always: bool = False) -> None:
        if state.changed:
            await self.channel_layer.group_send(
                self.room_group_name,
                {"type": "presence.update", "users": list(state.users), "version": state.version},
            )
        elif always:
            await self.show_presence(state.users, state.version)

    async def show_presence(self, users: tuple[str, ...], version: int) -> None:
        # Broadcasts from several processes can arrive out of order: keep the newest, and skip
        # repeats of what the client already shows.
        if version < self.presence_version:
            return
        self.presence_version = version
        if users != self.presence_users:
            self.presence_users = users
            await self.send_event(protocol.presence_event(users))

    def renewing(self) -> bool:
        """Whether the presence renewals go on: not once this consumer has left its room or been
        cancelled, even before it has ended.

        Cancelling ``presence_task`` is not enough on Python 3.11. redis-py sends each command
        under ``asyncio.wait_for()`` (a ``socket_timeout`` is set), which drops a cancellation
        that arrives as the send completes (CPython gh-86296, fixed in 3.12): the task goes on.
        That can happen to the renewals, and to the consumer's channel layer receive, which
        Channels' loop awaits as the consumer ends after a cancellation; a receive that lost its
        cancellation only returns with the next message to this process's channel, so the
        ``finally`` in ``__call__`` waits for it. In a quiet room, the only message to come would
        be the presence change that the renewals hold back.
        """
        task = self.consumer_task
        return self.in_room and task is not None and not task.cancelling() and not task.done()

    async def keep_presence(self) -> None:
        """Renew this connection's presence entry and its room group membership; the renewal
        also prunes the entries of vanished processes and announces the change."""
        interval = settings.CHAT_PRESENCE_TTL / 3
        while True:
            await asyncio.sleep(interval)
            if not self.renewing():
                return
            try:
                # Re-adding refreshes the membership's age, so that the group forgets the
                # channels of a killed process after the layer's group_expiry but never a live
                # one; it also rejoins a group that a Redis restart emptied. (The session's and
                # the user's groups too.)
                await self.join_groups()
                state = await live.presence().renew(
                    self.room_name, self.channel_name, self.username
                )
                await self.announce_presence(state)
            except Exception:
                # A transient Redis failure must not end the renewals for good.
                logger.exception("renewing presence in room %s failed", self.room_name)

    async def send_event(self, event: protocol.Event) -> None:
        await self.send(text_data=encode_event(event))
