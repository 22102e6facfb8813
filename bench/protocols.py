"""Minimal, fast HTTP/1.1 and WebSocket clients on ``asyncio.Protocol``.

The load generator must not be the bottleneck at a few thousand requests or messages a second on
two cores, where it competes with the server for the CPU. General-purpose clients (httpx,
websockets) cost several times more CPU per round trip than these: no streams, no per-request
objects beyond one future, requests pre-encoded, responses parsed with ``bytes.find``. They
implement only what the benchmark needs, but implement it correctly: keep-alive, Content-Length
and chunked bodies, cookies per client, masked client frames with a fresh key per frame, server
fragmentation, ping/pong and close.
"""

import asyncio
import struct

from rfc6455.frames import (
    CloseCode,
    FrameError,
    Opcode,
    TruncatedFrame,
    close_payload,
    decode_frame,
    encode_frame,
    new_key,
)
from rfc6455.handshake import HandshakeError, check_response, client_request, parse_response_head


class ProtocolError(Exception):
    """The server answered something this client cannot read as HTTP/1.1 or RFC 6455."""


class HttpResponse:
    """A parsed response: its head (:class:`rfc6455.handshake.ResponseHead`) and body."""

    __slots__ = ("body", "head")

    def __init__(self, head, body):
        self.head = head
        self.body = body

    @property
    def status(self):
        return self.head.status

    def header(self, name):
        return self.head.header(name)

    def all_headers(self, name):
        return self.head.all_headers(name)


def _parse_chunked(buffer, start):
    """Body and end offset of a chunked body starting at ``start``, or None if incomplete."""
    body = bytearray()
    pos = start
    while True:
        line_end = buffer.find(b"\r\n", pos)
        if line_end < 0:
            return None
        size = int(bytes(buffer[pos:line_end]).split(b";")[0], 16)
        pos = line_end + 2
        if size == 0:
            # Trailers (none expected) end with an empty line.
            end = buffer.find(b"\r\n", pos)
            if end < 0:
                return None
            while end != pos:
                pos = end + 2
                end = buffer.find(b"\r\n", pos)
                if end < 0:
                    return None
            return bytes(body), end + 2
        if len(buffer) < pos + size + 2:
            return None
        body += buffer[pos : pos + size]
        pos += size + 2


class HttpConnection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request in flight at a time."""

    def __init__(self):
        self.transport = None
        self.buffer = bytearray()
        self.waiter = None
        self.closed = False

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buffer += data
        if self.waiter is not None:
            self._parse()

    def connection_lost(self, exc):
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection closed: {exc or 'EOF'}"))

    def _parse(self):
        buffer = self.buffer
        head_end = buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return
        try:
            head = parse_response_head(buffer[:head_end])
            body_start = head_end + 4
            length = None
            chunked = False
            for name, value in head.lines:
                if name == "content-length":
                    length = int(value)
                elif name == "transfer-encoding" and "chunked" in value.lower():
                    chunked = True
            if chunked:
                parsed = _parse_chunked(buffer, body_start)
                if parsed is None:
                    return
                body, end = parsed
            else:
                length = length or 0
                end = body_start + length
                if len(buffer) < end:
                    return
                body = bytes(buffer[body_start:end])
        except (ValueError, ProtocolError) as exc:
            self.waiter.set_exception(ProtocolError(str(exc)))
            return
        del buffer[:end]
        self.waiter.set_result(HttpResponse(head, body))

    async def round_trip(self, request_bytes):
        """Send one encoded request and wait for its whole response."""
        if self.closed:
            raise ConnectionError("connection closed")
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request_bytes)
        if self.buffer:
            self._parse()
        try:
            return await self.waiter
        finally:
            self.waiter = None

    def close(self):
        if self.transport is not None:
            self.transport.close()


class HttpClient:
    """A keep-alive HTTP client with its own cookie jar, like one browser tab."""

    def __init__(self, host, port, cookies=None, extra_headers=()):
        self.host = host
        self.port = port
        self.cookies = dict(cookies or {})
        self.extra_headers = list(extra_headers)
        self.connection = None
        self.connections_opened = 0
        self._encoded = {}

    async def connect(self):
        loop = asyncio.get_running_loop()
        _, self.connection = await loop.create_connection(HttpConnection, self.host, self.port)
        self.connections_opened += 1

    def _encode(self, method, path, body, headers):
        key = (method, path, body, tuple(headers))
        encoded = self._encoded.get(key)
        if encoded is None:
            lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
            lines += [f"{name}: {value}" for name, value in [*self.extra_headers, *headers]]
            if self.cookies:
                lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
            if body or method == "POST":
                lines.append(f"Content-Length: {len(body)}")
            encoded = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
            self._encoded[key] = encoded
        return encoded

    def _store_cookies(self, response):
        changed = False
        for header in response.all_headers("set-cookie"):
            pair, _, attributes = header.partition(";")
            name, _, value = pair.strip().partition("=")
            attributes = attributes.lower()
            expired = "max-age=0" in attributes.replace(" ", "") or "1970" in attributes
            if expired or not value.strip('"'):
                changed |= self.cookies.pop(name, None) is not None
            elif self.cookies.get(name) != value:
                self.cookies[name] = value
                changed = True
        if changed:
            self._encoded.clear()

    async def request(self, method, path, body=b"", headers=()):
        """One request on the kept-alive connection (reconnecting when the server closed it)."""
        if self.connection is None or self.connection.closed:
            await self.connect()
        response = await self.connection.round_trip(self._encode(method, path, body, headers))
        self._store_cookies(response)
        if (response.header("connection") or "").lower() == "close":
            self.connection.close()
            self.connection = None
        return response

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class WebSocketConnection(asyncio.Protocol):
    """A client WebSocket: opening handshake, then whole messages delivered to ``recv``."""

    def __init__(self):
        self.transport = None
        self.buffer = bytearray()
        self.handshake_waiter = None
        self.handshake_done = False
        self.handshake_status = None
        self.key = None
        # Bytes the next frame needs at least (a truncated frame tells how many).
        self.needed = 2
        self.error = None
        self.fragments = []
        self.fragment_opcode = None
        self.messages = []
        self.waiter = None
        self.closed = False
        self.close_code = None
        self.on_message = None

    # -- asyncio.Protocol ---------------------------------------------------------------------
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buffer += data
        if not self.handshake_done:
            self._parse_handshake()
        if self.handshake_done:
            self._parse_frames()

    def connection_lost(self, exc):
        self.closed = True
        error = self.error or ConnectionError(
            f"websocket closed (code {self.close_code}): {exc or 'EOF'}"
        )
        for waiter in (self.handshake_waiter, self.waiter):
            if waiter is not None and not waiter.done():
                waiter.set_exception(error)

    # -- handshake ----------------------------------------------------------------------------
    async def handshake(self, host, port, path, origin=None, cookies=None):
        self.key = new_key()
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items()) if cookies else None
        self.handshake_waiter = asyncio.get_running_loop().create_future()
        self.transport.write(
            client_request(path, f"{host}:{port}", self.key, origin=origin, cookie=cookie)
        )
        await self.handshake_waiter

    def _parse_handshake(self):
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return
        waiter = self.handshake_waiter
        try:
            head = parse_response_head(self.buffer[:head_end])
            self.handshake_status = head.status
            check_response(head, self.key)
        except HandshakeError as exc:
            waiter.set_exception(ProtocolError(str(exc)))
            self.transport.close()
            return
        del self.buffer[: head_end + 4]
        self.handshake_done = True
        waiter.set_result(None)

    # -- frames -------------------------------------------------------------------------------
    def _parse_frames(self):
        buffer = self.buffer
        while len(buffer) >= self.needed:
            try:
                frame = decode_frame(buffer)
            except TruncatedFrame as exc:
                # Nothing to decode before that many bytes have arrived.
                self.needed = exc.needed
                return
            except FrameError as exc:
                self.error = ProtocolError(f"malformed frame from the server: {exc}")
                self.transport.abort()
                return
            del buffer[: frame.consumed]
            self.needed = 2
            self._frame(frame.fin, frame.opcode, frame.payload)

    def _frame(self, fin, opcode, payload):
        if opcode == Opcode.PING:
            self.transport.write(encode_frame(payload, Opcode.PONG, mask=True))
            return
        if opcode == Opcode.PONG:
            return
        if opcode == Opcode.CLOSE:
            self.close_code = (
                struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else CloseCode.NO_STATUS
            )
            if not self.closed:
                self.transport.write(encode_frame(payload[:2], Opcode.CLOSE, mask=True))
                self.transport.close()
            return
        if opcode != Opcode.CONTINUATION:
            self.fragment_opcode = opcode
        self.fragments.append(payload)
        if not fin:
            return
        message = (
            self.fragment_opcode,
            self.fragments[0] if len(self.fragments) == 1 else b"".join(self.fragments),
        )
        self.fragments = []
        if self.on_message is not None:
            self.on_message(message)
        elif self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(message)
        else:
            self.messages.append(message)

    # -- API ----------------------------------------------------------------------------------
    def send(self, payload, opcode=Opcode.TEXT):
        self.transport.write(encode_frame(payload, opcode, mask=True))

    async def recv(self):
        """The next whole message as ``(opcode, payload)``."""
        if self.messages:
            return self.messages.pop(0)
        if self.closed:
            raise ConnectionError(f"websocket closed (code {self.close_code})")
        self.waiter = asyncio.get_running_loop().create_future()
        try:
            return await self.waiter
        finally:
            self.waiter = None

    def close(self, code=1000):
        if not self.closed and self.transport is not None:
            try:
                self.transport.write(encode_frame(close_payload(code), Opcode.CLOSE, mask=True))
            finally:
                self.transport.close()

    def abort(self):
        if self.transport is not None:
            self.transport.abort()


async def open_websocket(host, port, path, origin=None, cookies=None, timeout=10.0):
    """Connect and complete the opening handshake; the connection or an exception."""
    loop = asyncio.get_running_loop()
    _, connection = await asyncio.wait_for(
        loop.create_connection(WebSocketConnection, host, port), timeout
    )
    try:
        await asyncio.wait_for(connection.handshake(host, port, path, origin, cookies), timeout)
    except BaseException:
        connection.abort()
        raise
    return connection
