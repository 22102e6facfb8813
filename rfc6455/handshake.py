"""The opening handshake (RFC 6455 section 4), client side: the request, and the checks of the
server's answer. Bytes in, bytes out, no I/O: the probe's blocking client and the benchmark's
asyncio client put them on their sockets."""

from dataclasses import dataclass

from rfc6455.frames import BytesLike, accept_key


class HandshakeError(ValueError):
    """The answer does not complete the handshake; ``status`` is its HTTP status, if any."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ResponseHead:
    """An HTTP/1.1 response head: status, reason and header lines (names in lower case)."""

    status: int
    reason: str
    lines: tuple[tuple[str, str], ...]

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (lower case), or None."""
        for key, value in self.lines:
            if key == name:
                return value
        return None

    def all_headers(self, name: str) -> list[str]:
        """Every value of header ``name`` (lower case), e.g. each ``set-cookie``."""
        return [value for key, value in self.lines if key == name]


def client_request(
    resource: str, host: str, key: str, *, origin: str | None = None, cookie: str | None = None
) -> bytes:
    """The client's opening handshake for ``resource`` on ``host`` (``name:port``), as bytes."""
    lines = [
        f"GET {resource} HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    if origin:
        lines.append(f"Origin: {origin}")
    if cookie:
        lines.append(f"Cookie: {cookie}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def parse_response_head(head: BytesLike) -> ResponseHead:
    """The :class:`ResponseHead` of ``head``, the bytes before the blank line (which may be
    included); :class:`HandshakeError` when it is not an HTTP/1.x response."""
    lines = bytes(head).rstrip(b"\r\n").split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise HandshakeError(f"not an HTTP response: {lines[0][:80].decode('latin-1')!r}")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if colon:
            headers.append(
                (name.strip().lower().decode("latin-1"), value.strip().decode("latin-1"))
            )
    reason = parts[2].decode("latin-1") if len(parts) > 2 else ""
    return ResponseHead(status=int(parts[1]), reason=reason, lines=tuple(headers))


def check_response(response: ResponseHead, key: str) -> None:
    """Raise :class:`HandshakeError` unless ``response`` accepts the handshake sent with ``key``:
    101, ``Upgrade: websocket``, ``Connection: Upgrade`` and the right ``Sec-WebSocket-Accept``."""
    status = response.status
    if status != 101:
        raise HandshakeError(f"handshake refused: HTTP {status} {response.reason}".rstrip(), status)
    if (response.header("upgrade") or "").lower() != "websocket":
        raise HandshakeError("101 response without 'Upgrade: websocket'", status)
    if "upgrade" not in (response.header("connection") or "").lower():
        raise HandshakeError("101 response without 'Connection: Upgrade'", status)
    expected = accept_key(key)
    if response.header("sec-websocket-accept") != expected:
        raise HandshakeError(
            f"Sec-WebSocket-Accept is {response.header('sec-websocket-accept')!r}, "
            f"expected {expected!r}",
            status,
        )
