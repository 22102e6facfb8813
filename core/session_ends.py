"""Ending a session ends its WebSockets too, in every server process.

An open chat socket was authenticated once, at its handshake; without this it would go on
posting as its user after a logout. Each chat consumer joins two channel layer groups (so the
news reaches it whichever process serves it): one for its login session and one for its user.

* ``session.ended`` to the session's group: a logout, or the session deleted from the store (an
  operator deleting it by key, a new login in the same browser).
* ``user.changed`` to the user's group: the account deactivated (``is_active`` off), deleted, or
  its password changed. A password change ends the user's other sessions, as Django does (their
  session auth hash no longer matches), and keeps the one that made the change, whose hash
  ``update_session_auth_hash()`` renews.

A login session is named by a random id stored in it at login (``SESSION_UID_KEY``): unlike the
session key, it survives ``cycle_key()``, which a password change calls. A consumer closes with
4401 (server/ws_guard.py), which the page shows as "You are logged out".
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from redis.exceptions import RedisError

if TYPE_CHECKING:
    # Types only: a model cannot be imported before the app registry is ready.
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.sessions.backends.base import SessionBase
    from django.http import HttpRequest, HttpResponseBase

logger = logging.getLogger(__name__)

SESSION_UID_KEY = "_session_uid"

# The session of the request being served, for the signal receivers (set by the middleware).
_current_session: contextvars.ContextVar[SessionBase | None] = contextvars.ContextVar(
    "current_session", default=None
)


def session_uid(session: SessionBase) -> str | None:
    """The id naming a login session's sockets: the one stored at login, else (a session from
    before this release) its key."""
    return session.get(SESSION_UID_KEY) or session.session_key


def session_group(uid: str | None) -> str:
    # Hashed: the channel layer's Redis keys should not spell out session keys.
    return "chat-session." + hashlib.sha256(str(uid).encode()).hexdigest()[:32]


def user_group(user_pk: object) -> str:
    return f"chat-user.{user_pk}"


def session_ended_event() -> dict[str, Any]:
    return {"type": "session.ended"}


def user_changed_event(
    user: AbstractBaseUser, *, deleted: bool = False, keep_session: str | None = None
) -> dict[str, Any]:
    """What the user's sockets need to decide whether their session still holds."""
    return {
        "type": "user.changed",
        "active": bool(user.is_active) and not deleted,
        "session_auth_hash": None if deleted else user.get_session_auth_hash(),
        "keep_session": keep_session,
    }


def should_end(
    event: Mapping[str, Any], *, session_auth_hash: str | None, uid: str | None
) -> tuple[bool, str | None]:
    """Whether a socket of ``uid``, authenticated with ``session_auth_hash``, must close on
    ``user.changed`` ``event``; and the hash it holds from now on."""
    if not event["active"]:
        return True, session_auth_hash
    new_hash = event["session_auth_hash"]
    if new_hash == session_auth_hash:
        return False, session_auth_hash
    if uid is not None and uid == event["keep_session"]:
        # The session that changed the password: update_session_auth_hash() renews its hash.
        return False, new_hash
    return True, session_auth_hash


async def aannounce(group: str, event: dict[str, Any]) -> None:
    """Send ``event`` to ``group``, bounded by ``REDIS_SOCKET_TIMEOUT``."""
    layer = get_channel_layer()
    if layer is None:
        return
    async with asyncio.timeout(settings.REDIS_SOCKET_TIMEOUT):
        await layer.group_send(group, event)


def announce(group: str, event: dict[str, Any]) -> None:
    """Send ``event`` to ``group`` from synchronous code. A failure is logged, not raised: the
    session ends anyway (its sockets then go when they next touch the store, or their page)."""
    try:
        async_to_sync(aannounce)(group, event)
    except (TimeoutError, RedisError, OSError) as exc:
        logger.warning("could not announce %s to %s: %s", event["type"], group, type(exc).__name__)


def _ended_session_group(session_data: Mapping[str, Any], session_key: str) -> str | None:
    if session_data.get(SESSION_KEY) is None:
        return None  # anonymous: no chat socket was ever allowed on it
    return session_group(session_data.get(SESSION_UID_KEY) or session_key)


def end_session_sockets(session_data: Mapping[str, Any], session_key: str) -> None:
    """Close the sockets of a deleted session, given its data and key."""
    group = _ended_session_group(session_data, session_key)
    if group is not None:
        announce(group, session_ended_event())


async def aend_session_sockets(session_data: Mapping[str, Any], session_key: str) -> None:
    group = _ended_session_group(session_data, session_key)
    if group is not None:
        try:
            await aannounce(group, session_ended_event())
        except (TimeoutError, RedisError, OSError) as exc:
            logger.warning("could not announce session.ended: %s", type(exc).__name__)


# ------------------------------------------------------------------------------------------------
# Where sessions end
# ------------------------------------------------------------------------------------------------


class CurrentSessionMiddleware:
    """Make the request's session known to the receivers below while the view runs, so that a
    password change can spare the session that made it. (Lazy: nothing is loaded here.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        token = _current_session.set(getattr(request, "session", None))
        try:
            return self.get_response(request)
        finally:
            _current_session.reset(token)


def _give_session_an_uid(
    sender: type[AbstractBaseUser],
    request: HttpRequest | None,
    user: AbstractBaseUser,
    **kwargs: Any,
) -> None:
    session = getattr(request, "session", None)
    if session is not None:
        session[SESSION_UID_KEY] = secrets.token_hex(16)


def _end_logged_out_session(
    sender: type[AbstractBaseUser | None],
    request: HttpRequest | None,
    user: AbstractBaseUser | None,
    **kwargs: Any,
) -> None:
    session = getattr(request, "session", None)
    if session is not None and user is not None:
        announce(session_group(session_uid(session)), session_ended_event())


def _relevant_change(update_fields: Iterable[str] | None) -> bool:
    return update_fields is None or bool({"password", "is_active"} & set(update_fields))


def _announce_user_change(
    sender: type[AbstractBaseUser],
    instance: AbstractBaseUser,
    created: bool,
    update_fields: Iterable[str] | None = None,
    **kwargs: Any,
) -> None:
    if created or not _relevant_change(update_fields):
        return
    session = _current_session.get()
    keep = None
    if session is not None and str(session.get(SESSION_KEY)) == str(instance.pk):
        keep = session_uid(session)
    event = user_changed_event(instance, keep_session=keep)
    transaction.on_commit(lambda: announce(user_group(instance.pk), event))


def _announce_user_deleted(
    sender: type[AbstractBaseUser], instance: AbstractBaseUser, **kwargs: Any
) -> None:
    event = user_changed_event(instance, deleted=True)
    pk = instance.pk
    transaction.on_commit(lambda: announce(user_group(pk), event))


def connect_receivers() -> None:
    """Connect the receivers (CoreConfig.ready)."""
    user_model = get_user_model()
    user_logged_in.connect(_give_session_an_uid, dispatch_uid="session_ends.uid")
    user_logged_out.connect(_end_logged_out_session, dispatch_uid="session_ends.logout")
    post_save.connect(_announce_user_change, sender=user_model, dispatch_uid="session_ends.save")
    post_delete.connect(
        _announce_user_deleted, sender=user_model, dispatch_uid="session_ends.delete"
    )
