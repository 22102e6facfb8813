"""``manage.py inspect_session SESSION_KEY``: one session as its store holds it."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import session_inspect


class Command(BaseCommand):
    """Print where a session is stored, how long it has left and the names of its keys."""

    help = (
        "Show where the session store keeps a session (the exact Redis key, database row or "
        "file), its remaining lifetime and the names of the keys it holds (values are not shown)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("session_key", help="the value of the visitor's session cookie")

    def handle(self, *args: Any, session_key: str, **options: Any) -> None:
        backend = session_inspect.session_backend_name()
        if not session_inspect.session_has_server_side_storage():
            raise CommandError(
                f"SESSION_BACKEND is {backend}: the whole session is in the visitor's signed "
                "cookie, there is no server-side storage to inspect."
            )
        stored = session_inspect.stored_session(session_key)
        if stored is None:
            raise CommandError(
                f"No session {session_key!r} in the {backend} session store: it expired, was "
                "logged out, or never existed."
            )
        self.stdout.write(f"Backend:     {stored.backend} ({stored.engine})")
        self.stdout.write(f"Session key: {stored.session_key}")
        for storage in stored.storages:
            lifetime = (
                f"{storage.seconds_left} s left"
                if storage.seconds_left is not None
                else "no expiry reported"
            )
            self.stdout.write(f"Stored in:   {storage.kind} {storage.name} ({lifetime})")
        self.stdout.write(
            f"Expires:     {stored.expires_at.isoformat(timespec='seconds')} "
            f"(in {stored.seconds_left} s)"
        )
        self.stdout.write(f"Keys:        {', '.join(stored.key_names) or '(none)'}")
