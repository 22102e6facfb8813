"""A WebSocket client on a raw socket, with the handshake and frames of :mod:`rfc6455.frames`.

What ``manage.py wsprobe`` runs: every byte on the wire is visible, nothing is hidden in a
library. Blocking, one connection, for probing and tests, not for production traffic.
"""

import socket
import ssl
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

from rfc6455.frames import (
    BytesLike,
    CloseCode,
    Frame,
    FrameError,
    MalformedFrame,
    Opcode,
    TruncatedFrame,
    accept_key,
    close_payload,
    decode_frame,
    encode_frame,
    new_key,
    parse_close_payload,
)
from rfc6455.handshake import HandshakeError, check_response, client_request, parse_response_head

MAX_HANDSHAKE_BYTES = 64 * 1024
RECEIVE_CHUNK = 256 * 1024


class ProbeError(Exception):
    """The exchange failed; ``exit_code`` is what ``wsprobe`` exits with."""

    exit_code = 1


class ConnectFailed(ProbeError):
    """No TCP (or TLS) connection to the server."""

    exit_code = 2


class HandshakeRefused(ProbeError):
    """The server answered the opening handshake with something other than a valid 101."""

    exit_code = 3

    def __init__(self, message: str, status: int | None = None, response: bytes = b"") -> None:
        super().__init__(message)
        self.status = status
        self.response = response


class MalformedServerFrame(ProbeError):
    """The server sent bytes that are not a valid frame for a client to receive; ``data``
    holds them."""

    exit_code = 4

    def __init__(self, message: str, data: bytes = b"") -> None:
        super().__init__(f"malformed frame from the server: {message}")
        self.data = data


class ConnectionLost(ProbeError):
    """The TCP connection ended without a closing handshake."""

    exit_code = 5


class ClosedWithError(ProbeError):
    """The server closed the connection with an error code (e.g. 1009, message too big)."""

    exit_code = 5


@dataclass
class Handshake:
    """The opening handshake as it went over the wire."""

    request: bytes
    response: bytes
    status: int
    headers: dict = field(default_factory=dict)
    key: str = ""
    accept: str = ""


def default_origin(url: str) -> str:
    """The origin of a page served by the same host as ``url``: what a browser would send."""
    parts = urlsplit(url)
    scheme = "https" if parts.scheme == "wss" else "http"
    return f"{scheme}://{parts.netloc}"


class RawWebSocket:
    """One client connection: ``connect()``, then ``send()`` and ``receive()`` frames."""

    def __init__(
        self,
        url: str,
        *,
        origin: str | None = None,
        cookie: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError(f"not a ws:// or wss:// URL: {url!r}")
        self.url = url
        self.secure = parts.scheme == "wss"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.secure else 80)
        self.netloc = parts.netloc
        self.resource = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.origin = origin
        self.cookie = cookie
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.buffer = bytearray()
        self.handshake_request = b""

    # Opening handshake (RFC 6455 section 4)

    def connect(self) -> Handshake:
        """Open the connection and perform the handshake; return the :class:`Handshake`."""
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            if self.secure:
                context = ssl.create_default_context()
                sock = context.wrap_socket(sock, server_hostname=self.host)
        except OSError as exc:
            raise ConnectFailed(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
        self.sock = sock
        key = new_key()
        request = client_request(
            self.resource, self.netloc, key, origin=self.origin, cookie=self.cookie
        )
        self.handshake_request = request
        self._send_all(request)
        response = self._read_response_head()
        return self._check_response(request, response, key)

    def _read_response_head(self) -> bytes:
        while b"\r\n\r\n" not in self.buffer:
            if len(self.buffer) > MAX_HANDSHAKE_BYTES:
                raise HandshakeRefused("handshake response headers too long")
            try:
                chunk = self._recv()
            except TimeoutError:
                raise HandshakeRefused(
                    f"no handshake response within {self.timeout} s", response=bytes(self.buffer)
                ) from None
            if not chunk:
                raise HandshakeRefused(
                    "the server closed the connection during the handshake",
                    response=bytes(self.buffer),
                )
            self.buffer += chunk
        end = self.buffer.index(b"\r\n\r\n") + 4
        head = bytes(self.buffer[:end])
        # Whatever follows the headers already belongs to the first frames.
        del self.buffer[:end]
        return head

    def _check_response(self, request: bytes, response: bytes, key: str) -> Handshake:
        try:
            head = parse_response_head(response)
        except HandshakeError as exc:
            raise HandshakeRefused(str(exc), response=response) from None
        handshake = Handshake(
            request, response, head.status, dict(head.lines), key, accept_key(key)
        )
        try:
            check_response(head, key)
        except HandshakeError as exc:
            raise HandshakeRefused(str(exc), exc.status, response) from None
        return handshake

    # Frames

    def send(self, payload: str | BytesLike, opcode: int = Opcode.TEXT) -> bytes:
        """Send one masked frame (clients must mask); return the bytes sent."""
        data = encode_frame(payload, opcode=opcode, mask=True)
        self._send_all(data)
        return data

    def send_close(self, code: int = CloseCode.NORMAL, reason: str = "") -> bytes:
        return self.send(close_payload(code, reason), opcode=Opcode.CLOSE)

    def receive(self, timeout: float | None = None) -> tuple[Frame, bytes]:
        """The next frame from the server and its raw bytes; ``TimeoutError`` when none comes
        within ``timeout`` seconds."""
        self._socket().settimeout(self.timeout if timeout is None else timeout)
        while True:
            try:
                frame = decode_frame(self.buffer)
            except TruncatedFrame as exc:
                chunk = self._recv(max(RECEIVE_CHUNK, exc.needed - len(self.buffer)))
                if not chunk:
                    raise ConnectionLost(
                        "the server closed the TCP connection without a close frame"
                        + (f" ({len(self.buffer)} bytes of a frame unread)" if self.buffer else "")
                    ) from None
                self.buffer += chunk
                continue
            except FrameError as exc:
                raise MalformedServerFrame(str(exc), bytes(self.buffer)) from exc
            raw = bytes(self.buffer[: frame.consumed])
            del self.buffer[: frame.consumed]
            self._check_server_frame(frame, raw)
            return frame, raw

    @staticmethod
    def _check_server_frame(frame: Frame, raw: bytes) -> None:
        if frame.masked:
            raise MalformedServerFrame("masked, which only clients do (RFC 6455 section 5.1)", raw)
        if frame.opcode == Opcode.TEXT and frame.fin:
            try:
                frame.payload.decode("utf-8")
            except UnicodeDecodeError:
                raise MalformedServerFrame("text payload is not UTF-8", raw) from None
        if frame.opcode == Opcode.CLOSE:
            try:
                parse_close_payload(frame.payload)
            except MalformedFrame as exc:
                raise MalformedServerFrame(f"close frame: {exc}", raw) from None

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # Socket helpers

    def _socket(self) -> socket.socket:
        if self.sock is None:
            raise RuntimeError("not connected: connect() first (or the connection is closed)")
        return self.sock

    def _send_all(self, data: bytes) -> None:
        try:
            self._socket().sendall(data)
        except OSError as exc:
            raise ConnectionLost(f"sending failed: {exc}") from exc

    def _recv(self, size: int = RECEIVE_CHUNK) -> bytes:
        try:
            return self._socket().recv(size)
        except TimeoutError:
            raise
        except OSError as exc:
            raise ConnectionLost(f"receiving failed: {exc}") from exc
