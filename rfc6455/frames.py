"""RFC 6455 by hand: the seed's handshake key, frame decoder and frame encoder, done right.

Pure functions on bytes, no I/O; ``python manage.py wsprobe`` puts them on a socket. The seed's
decoder read only the length byte and assumed a masked, complete frame; its encoder used the
16-bit length form for exactly 126 bytes and the 64-bit form, which RFC 6455 forbids there, for
127 to 65,535. Here every length form (7, 16 and 64 bits, each minimal), masking, the
control-frame rules and truncated input are handled, and anything else is refused with a
:class:`FrameError`.
"""

import base64
import enum
import hashlib
import os
import struct
from dataclasses import dataclass
from typing import Literal

# RFC 6455 section 1.3: the fixed GUID the server appends to Sec-WebSocket-Key.
HANDSHAKE_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

MAX_7BIT_LENGTH = 125
MAX_16BIT_LENGTH = 0xFFFF
MAX_64BIT_LENGTH = 0x7FFFFFFFFFFFFFFF  # the most significant bit must be 0
MAX_CONTROL_PAYLOAD = 125

# What the functions here read: a frame may sit in a bytes string, a receive buffer or a view.
BytesLike = bytes | bytearray | memoryview


class Opcode(enum.IntEnum):
    """Frame opcodes (RFC 6455 section 5.2); the others are reserved."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA

    @property
    def is_control(self) -> bool:
        return self >= 0x8


class CloseCode(enum.IntEnum):
    """The close codes this project meets (RFC 6455 section 7.4.1)."""

    NORMAL = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS = 1005
    ABNORMAL = 1006
    INVALID_PAYLOAD = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    INTERNAL_ERROR = 1011


class FrameError(ValueError):
    """The bytes are not (yet) one valid WebSocket frame."""


class TruncatedFrame(FrameError):
    """The frame is incomplete: ``needed`` bytes make the part known so far (header or frame)."""

    def __init__(self, message: str, needed: int) -> None:
        super().__init__(message)
        self.needed = needed


class MalformedFrame(FrameError):
    """The bytes break RFC 6455: no amount of further data makes them a valid frame."""


@dataclass(frozen=True)
class Frame:
    """One decoded frame: header fields, the unmasked payload and the bytes it took."""

    fin: bool
    opcode: Opcode
    masked: bool
    length: int
    payload: bytes
    consumed: int
    mask_key: bytes | None = None


def accept_key(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` value a server must answer to ``Sec-WebSocket-Key``."""
    digest = hashlib.sha1((key + HANDSHAKE_GUID).encode("ascii")).digest()  # noqa: S324
    return base64.b64encode(digest).decode("ascii")


def new_key() -> str:
    """A fresh ``Sec-WebSocket-Key``: 16 random bytes, base64-encoded."""
    return base64.b64encode(os.urandom(16)).decode("ascii")


def apply_mask(data: BytesLike, mask_key: bytes) -> bytes:
    """XOR ``data`` with the 4-byte ``mask_key`` (masking and unmasking are the same)."""
    if len(mask_key) != 4:
        raise ValueError(f"a mask key is 4 bytes, got {len(mask_key)}")
    if not data:
        return b""
    # One big-integer XOR instead of a Python loop over up to megabytes.
    repeated = (mask_key * (len(data) // 4 + 1))[: len(data)]
    return (int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
        len(data), "big"
    )


def encode_frame(
    payload: str | BytesLike,
    opcode: int = Opcode.TEXT,
    mask: Literal[True] | bytes | None = None,
    fin: bool = True,
) -> bytes:
    """One frame carrying ``payload`` (``str`` is sent as UTF-8).

    ``mask``: ``None`` for an unmasked frame (server to client), ``True`` for a random mask key
    (clients must mask), or the 4-byte key itself.
    """
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    payload = bytes(payload)
    opcode = Opcode(opcode)
    length = len(payload)
    if opcode.is_control and (length > MAX_CONTROL_PAYLOAD or not fin):
        raise ValueError("control frames carry at most 125 bytes and cannot be fragmented")
    if length > MAX_64BIT_LENGTH:
        raise ValueError("payload too long for one frame")

    mask_key = os.urandom(4) if mask is True else mask
    mask_bit = 0x80 if mask_key is not None else 0
    header = bytearray([(0x80 if fin else 0) | opcode])
    if length <= MAX_7BIT_LENGTH:
        header.append(mask_bit | length)
    elif length <= MAX_16BIT_LENGTH:
        header.append(mask_bit | 126)
        header += struct.pack("!H", length)
    else:
        header.append(mask_bit | 127)
        header += struct.pack("!Q", length)
    if mask_key is None:
        return bytes(header) + payload
    mask_key = bytes(mask_key)
    return bytes(header) + mask_key + apply_mask(payload, mask_key)


def decode_frame(data: BytesLike) -> Frame:
    """Decode the frame at the start of ``data``; bytes after it are left alone.

    Raises :class:`TruncatedFrame` when ``data`` holds only part of a frame and
    :class:`MalformedFrame` when it breaks the protocol (reserved bits or opcodes, a non-minimal
    length, an oversize or fragmented control frame).
    """
    # A view, so that a truncated megabyte is not copied on every attempt; released on the way
    # out so that the caller may grow its bytearray afterwards.
    with memoryview(data) as view:
        return _decode(view)


def _decode(data: memoryview) -> Frame:
    if len(data) < 2:
        raise TruncatedFrame(f"a frame header is at least 2 bytes, got {len(data)}", needed=2)
    first, second = data[0], data[1]
    fin = bool(first & 0x80)
    if first & 0x70:
        raise MalformedFrame(f"reserved bits set ({first & 0x70:#04x}) with no extension agreed")
    try:
        opcode = Opcode(first & 0x0F)
    except ValueError:
        raise MalformedFrame(f"reserved opcode {first & 0x0F:#x}") from None
    masked = bool(second & 0x80)
    length = second & 0x7F

    offset = 2
    if length == 126:
        offset += 2
        _need(data, offset, "the 16-bit length")
        (length,) = struct.unpack_from("!H", data, 2)
        if length <= MAX_7BIT_LENGTH:
            raise MalformedFrame(f"length {length} sent in the 16-bit form (not minimal)")
    elif length == 127:
        offset += 8
        _need(data, offset, "the 64-bit length")
        (length,) = struct.unpack_from("!Q", data, 2)
        if length > MAX_64BIT_LENGTH:
            raise MalformedFrame("64-bit length with its most significant bit set")
        if length <= MAX_16BIT_LENGTH:
            raise MalformedFrame(f"length {length} sent in the 64-bit form (not minimal)")
    if opcode.is_control and (length > MAX_CONTROL_PAYLOAD or not fin):
        raise MalformedFrame(f"{opcode.name} frame fragmented or over 125 bytes ({length})")

    mask_key = None
    if masked:
        offset += 4
        _need(data, offset, "the mask key")
        mask_key = bytes(data[offset - 4 : offset])
    end = offset + length
    _need(data, end, f"the {length}-byte payload")
    payload = bytes(data[offset:end])
    if mask_key is not None:
        payload = apply_mask(payload, mask_key)
    return Frame(
        fin=fin,
        opcode=opcode,
        masked=masked,
        length=length,
        payload=payload,
        consumed=end,
        mask_key=mask_key,
    )


def _need(data: memoryview, size: int, what: str) -> None:
    if len(data) < size:
        raise TruncatedFrame(f"truncated frame: {what} needs {size} bytes, got {len(data)}", size)


def close_payload(code: int = CloseCode.NORMAL, reason: str = "") -> bytes:
    """The payload of a close frame: a 2-byte code and an optional UTF-8 reason."""
    body = struct.pack("!H", code) + reason.encode("utf-8")
    if len(body) > MAX_CONTROL_PAYLOAD:
        raise ValueError("close reason too long (a close payload is at most 125 bytes)")
    return body


def parse_close_payload(payload: BytesLike) -> tuple[int | None, str]:
    """``(code, reason)`` of a close frame's payload; ``code`` is None when it has none."""
    if not payload:
        return None, ""
    if len(payload) < 2:
        raise MalformedFrame("a close payload is empty or at least 2 bytes (the code)")
    (code,) = struct.unpack_from("!H", payload)
    try:
        reason = bytes(payload[2:]).decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedFrame("close reason is not valid UTF-8") from None
    return code, reason


def describe_frame(frame: Frame, preview: int = 60) -> str:
    """One line naming a frame's fields and showing (the start of) its payload."""
    parts = [
        f"fin={int(frame.fin)}",
        f"opcode={frame.opcode:#x} ({frame.opcode.name.lower()})",
        f"mask={int(frame.masked)}",
    ]
    if frame.mask_key is not None:
        parts.append(f"key={frame.mask_key.hex()}")
    parts.append(f"length={frame.length}")
    if frame.opcode == Opcode.CLOSE:
        try:
            code, reason = parse_close_payload(frame.payload)
        except MalformedFrame as exc:
            parts.append(f"close=<{exc}>")
        else:
            name = describe_close_code(code)
            parts.append(f"code={code}{f' ({name})' if name else ''} reason={reason!r}")
    else:
        parts.append(f"payload={_preview(frame.payload, frame.opcode, preview)}")
    return " ".join(parts)


def hex_lines(data: BytesLike, limit: int = 64, width: int = 16) -> list[str]:
    """``data`` in hex, ``width`` bytes a line, cut after ``limit`` bytes with a count of the
    rest."""
    data = bytes(data)
    shown = data[:limit]
    lines = [shown[i : i + width].hex(" ") for i in range(0, len(shown), width)]
    if len(data) > limit:
        lines.append(f"... {len(data) - limit} more bytes")
    return lines


def describe_close_code(code: int | None) -> str:
    """The name of a close code this module knows (``message_too_big``), else ``""``."""
    if code is None:
        return ""
    try:
        return CloseCode(code).name.lower()
    except ValueError:
        return ""


def _preview(payload: bytes, opcode: Opcode, limit: int) -> str:
    if opcode == Opcode.BINARY:
        shown = limit // 4
        text = payload[:shown].hex(" ")
        return f"<{text}{' ...' if len(payload) > shown else ''}>"
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return f"<{len(payload)} bytes, not UTF-8>"
    if len(text) > limit:
        return f"{text[:limit]!r}... ({len(text)} characters)"
    return repr(text)
