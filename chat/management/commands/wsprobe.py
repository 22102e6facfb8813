from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rfc6455.client import (
    ClosedWithError,
    ConnectionLost,
    ProbeError,
    RawWebSocket,
    default_origin,
)
from rfc6455.frames import (
    CloseCode,
    Frame,
    Opcode,
    decode_frame,
    describe_close_code,
    describe_frame,
    hex_lines,
    parse_close_payload,
)

EPILOG = """
Exit status: 0 after a normal exchange and closing handshake; 2 when no connection could be
made; 3 when the handshake is refused (e.g. HTTP 403: anonymous user on a chat room, or another
origin) or its Sec-WebSocket-Accept is wrong; 4 when the server sends a malformed frame; 5 when
the server closes with an error code (e.g. 1009, message too big) or drops the connection.

Examples:
  manage.py wsprobe ws://127.0.0.1:8000/ws hello
  manage.py wsprobe ws://127.0.0.1:8000/ws/echo/ --size 1000001
  manage.py wsprobe ws://127.0.0.1:8000/ws/chat/lobby/ --cookie "sessionid=..." \\
      '{"type": "message", "text": "hi"}'
"""


class Command(BaseCommand):
    """Talk WebSocket by hand: the seed's handshake, encoder and decoder, on a live server."""

    help = (
        "Open a raw TCP connection to a WebSocket URL, perform the opening handshake by hand "
        "(checking Sec-WebSocket-Accept), send each MESSAGE as a masked frame and print every "
        "frame in both directions, annotated and in hex."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        from argparse import RawDescriptionHelpFormatter

        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter
        parser.epilog = EPILOG
        # Options may follow the messages (wsprobe URL hello --origin ...). Replacing the method
        # on this one parser is the point, which mypy refuses in general.
        parser.parse_args = parser.parse_intermixed_args  # type: ignore[method-assign]
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url", help="ws:// or wss:// URL, e.g. ws://127.0.0.1:8000/ws")
        parser.add_argument("messages", nargs="*", metavar="MESSAGE", help="text to send")
        parser.add_argument(
            "--binary", action="store_true", help="send the messages as binary frames"
        )
        parser.add_argument(
            "--size",
            type=int,
            action="append",
            default=[],
            metavar="BYTES",
            help="also send a generated message of BYTES bytes (repeatable)",
        )
        parser.add_argument(
            "--file",
            action="append",
            default=[],
            metavar="PATH",
            help="also send the content of PATH as one message; - reads standard input",
        )
        parser.add_argument(
            "--cookie", help='Cookie header, e.g. "sessionid=..." for a chat room (login)'
        )
        parser.add_argument(
            "--origin",
            help="Origin header (default: the URL's own http(s)://host:port, as a browser on "
            "that site would send)",
        )
        parser.add_argument("--no-origin", action="store_true", help="send no Origin header")
        parser.add_argument(
            "--wait",
            type=float,
            default=1.0,
            metavar="SECONDS",
            help="after connecting and after each message, read frames until none has come "
            "for this long (default 1)",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=10.0,
            metavar="SECONDS",
            help="connect, handshake and closing timeout (default 10)",
        )
        parser.add_argument(
            "--preview",
            type=int,
            default=60,
            metavar="CHARS",
            help="show at most this many characters of each payload (default 60)",
        )
        parser.add_argument(
            "--hex-limit",
            type=int,
            default=64,
            metavar="BYTES",
            help="show at most this many bytes of each frame in hex (default 64)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.options = options
        self.opcode = Opcode.BINARY if options["binary"] else Opcode.TEXT
        origin = None if options["no_origin"] else options["origin"]
        if origin is None and not options["no_origin"]:
            origin = default_origin(options["url"])
        try:
            client = RawWebSocket(
                options["url"], origin=origin, cookie=options["cookie"], timeout=options["timeout"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        with client:
            try:
                self.exchange(client, self.payloads())
            except ProbeError as exc:
                # Only a malformed frame has ``data``.
                data = getattr(exc, "data", b"")
                if data:
                    self.stdout.write("< (malformed)")
                    for line in hex_lines(data, limit=options["hex_limit"]):
                        self.stdout.write(f"    {line}")
                raise CommandError(f"wsprobe: {exc}", returncode=exc.exit_code) from exc

    def payloads(self) -> Iterator[bytes]:
        for message in self.options["messages"]:
            yield message.encode("utf-8")
        for size in self.options["size"]:
            yield (b"0123456789abcdef" * (size // 16 + 1))[:size]
        for path in self.options["file"]:
            if path == "-":
                yield sys.stdin.buffer.read()
            else:
                with open(path, "rb") as source:
                    yield source.read()

    def exchange(self, client: RawWebSocket, payloads: Iterable[bytes]) -> None:
        self.stdout.write(f"* connecting to {client.host}:{client.port}")
        try:
            handshake = client.connect()
        except ProbeError as exc:
            if client.handshake_request:
                self.show_http(">", client.handshake_request)
            # Only a refused handshake has a ``response``.
            response = getattr(exc, "response", b"")
            if response:
                self.show_http("<", response)
            raise
        self.show_http(">", handshake.request)
        self.show_http("<", handshake.response)
        self.stdout.write(f"* Sec-WebSocket-Accept is {handshake.accept}, as expected: connected")

        if self.read_frames(client):
            return
        for payload in payloads:
            raw = client.send(payload, opcode=self.opcode)
            self.show_frame(">", raw)
            if self.read_frames(client):
                return
        raw = client.send_close(CloseCode.NORMAL)
        self.show_frame(">", raw)
        self.await_close(client)

    def read_frames(self, client: RawWebSocket) -> bool:
        """Print frames until none comes for --wait seconds; True once the server closed."""
        while True:
            try:
                frame, raw = client.receive(timeout=self.options["wait"])
            except TimeoutError:
                return False
            self.show_frame("<", raw, frame)
            if frame.opcode == Opcode.PING:
                self.show_frame(">", client.send(frame.payload, opcode=Opcode.PONG))
            elif frame.opcode == Opcode.CLOSE:
                code, reason = parse_close_payload(frame.payload)
                # Answer the server's close, as the closing handshake requires.
                self.show_frame(">", client.send_close(code or CloseCode.NORMAL))
                self.report_close(code, reason)
                return True

    def await_close(self, client: RawWebSocket) -> None:
        deadline = time.monotonic() + self.options["timeout"]
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ConnectionLost("no close frame from the server in reply to ours")
            try:
                frame, raw = client.receive(timeout=remaining)
            except TimeoutError:
                continue
            self.show_frame("<", raw, frame)
            if frame.opcode == Opcode.CLOSE:
                code, reason = parse_close_payload(frame.payload)
                self.report_close(code, reason)
                return

    def report_close(self, code: int | None, reason: str) -> None:
        if code in (None, CloseCode.NORMAL, CloseCode.GOING_AWAY):
            self.stdout.write(f"* closed ({code})")
            return
        name = describe_close_code(code)
        raise ClosedWithError(
            f"the server closed the connection with {code}"
            + (f" ({name})" if name else "")
            + (f": {reason}" if reason else "")
        )

    # Output

    def show_http(self, direction: str, data: bytes) -> None:
        for line in data.decode("latin-1").rstrip("\r\n").split("\r\n"):
            self.stdout.write(f"{direction} {line}")

    def show_frame(self, direction: str, raw: bytes, frame: Frame | None = None) -> None:
        frame = frame or decode_frame(raw)
        self.stdout.write(f"{direction} {describe_frame(frame, preview=self.options['preview'])}")
        for line in hex_lines(raw, limit=self.options["hex_limit"]):
            self.stdout.write(f"    {line}")
