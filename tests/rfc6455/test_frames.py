"""rfc6455.frames: RFC 6455's handshake key, and frames encoded and decoded by hand."""

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rfc6455.frames import (
    CloseCode,
    FrameError,
    MalformedFrame,
    Opcode,
    TruncatedFrame,
    accept_key,
    apply_mask,
    close_payload,
    decode_frame,
    describe_frame,
    encode_frame,
    hex_lines,
    parse_close_payload,
)

# The seed's capture: ws.send("hello") from Chrome, read raw off the socket.
SEED_FRAME = b"\x81\x85s\x92a\x10\x1b\xf7\r|\x1c"


def test_accept_key_of_rfc_6455_example():
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_seed_frame_decodes_to_hello():
    frame = decode_frame(SEED_FRAME)

    assert frame.fin is True
    assert frame.opcode == Opcode.TEXT
    assert frame.masked is True
    assert frame.mask_key == b"s\x92a\x10"
    assert frame.length == 5
    assert frame.payload == b"hello"
    assert frame.consumed == len(SEED_FRAME)


def test_decode_leaves_the_following_frame_alone():
    data = SEED_FRAME + encode_frame("next")

    first = decode_frame(data)
    second = decode_frame(data[first.consumed :])

    assert (first.payload, second.payload) == (b"hello", b"next")


@pytest.mark.parametrize(
    ("size", "length_byte", "header_size"),
    [
        (0, 0, 2),
        (125, 125, 2),
        (126, 126, 4),
        (65_535, 126, 4),  # the seed's encoder used the 64-bit form from 127 bytes on: wrong
        (65_536, 127, 10),
        (1_000_000, 127, 10),
    ],
)
def test_length_forms(size, length_byte, header_size):
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)

    data = encode_frame(payload, opcode=Opcode.BINARY)

    assert data[0] == 0x82
    assert data[1] == length_byte
    assert len(data) == header_size + size
    if length_byte == 126:
        assert struct.unpack("!H", data[2:4]) == (size,)
    elif length_byte == 127:
        assert struct.unpack("!Q", data[2:10]) == (size,)
    frame = decode_frame(data)
    assert (frame.length, frame.payload, frame.consumed) == (size, payload, len(data))


def test_masked_encoding_matches_the_seed_capture():
    assert encode_frame("hello", mask=b"s\x92a\x10") == SEED_FRAME


def test_random_mask_sets_the_mask_bit_and_hides_the_payload():
    data = encode_frame("hello", mask=True)

    assert data[1] == 0x80 | 5
    assert b"hello" not in data
    assert decode_frame(data).payload == b"hello"


def test_masking_is_its_own_inverse():
    assert apply_mask(apply_mask(b"payload!", b"abcd"), b"abcd") == b"payload!"
    assert apply_mask(b"", b"abcd") == b""


@pytest.mark.parametrize("cut", [0, 1, 3, 9, 13, 20])
def test_truncated_frames_say_so(cut):
    data = encode_frame(b"x" * 70_000, opcode=Opcode.BINARY, mask=b"\x01\x02\x03\x04")

    with pytest.raises(TruncatedFrame) as excinfo:
        decode_frame(data[:cut])

    assert excinfo.value.needed > cut
    assert isinstance(excinfo.value, FrameError)


def test_truncated_payload_reports_the_whole_frame_size():
    data = encode_frame(b"x" * 300)

    with pytest.raises(TruncatedFrame) as excinfo:
        decode_frame(data[:100])

    assert excinfo.value.needed == len(data)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\xc1\x00", id="rsv1 without extension"),
        pytest.param(b"\x83\x00", id="reserved data opcode"),
        pytest.param(b"\x8b\x00", id="reserved control opcode"),
        pytest.param(b"\x89\x7e\x00\x7e" + b"x" * 126, id="control frame over 125 bytes"),
        pytest.param(b"\x09\x00", id="fragmented control frame"),
        pytest.param(b"\x81\x7e\x00\x05hello", id="16-bit form for a short length"),
        pytest.param(b"\x81\x7f" + struct.pack("!Q", 300) + b"x" * 300, id="64-bit form, short"),
        pytest.param(b"\x82\x7f" + b"\x80" + b"\x00" * 7, id="64-bit length with the top bit"),
    ],
)
def test_malformed_frames_are_refused(data):
    with pytest.raises(MalformedFrame):
        decode_frame(data)


def test_control_frames_cannot_be_encoded_oversize():
    with pytest.raises(ValueError, match="control"):
        encode_frame(b"x" * 126, opcode=Opcode.PING)


def test_close_payload_round_trip():
    payload = close_payload(CloseCode.MESSAGE_TOO_BIG, "too big")

    assert parse_close_payload(payload) == (1009, "too big")
    assert parse_close_payload(b"") == (None, "")
    with pytest.raises(MalformedFrame):
        parse_close_payload(b"\x03")


def test_describe_frame_names_every_field():
    line = describe_frame(decode_frame(SEED_FRAME))

    assert line == "fin=1 opcode=0x1 (text) mask=1 key=73926110 length=5 payload='hello'"


def test_describe_close_frame_names_the_code():
    frame = decode_frame(encode_frame(close_payload(1009, "big"), opcode=Opcode.CLOSE))

    assert "code=1009 (message_too_big)" in describe_frame(frame)


def test_hex_lines_cut_long_data():
    lines = hex_lines(bytes(100), limit=32, width=16)

    assert lines == ["00 " * 15 + "00", "00 " * 15 + "00", "... 68 more bytes"]


def _sized(size):
    return (bytes(range(251)) * (size // 251 + 1))[:size]


def _frame(opcode, payload, fin, mask):
    if opcode.is_control:
        return opcode, payload[:125], True, mask
    return opcode, payload, fin, mask


# Payloads around the 7/16-bit and 16/64-bit boundaries are built, not drawn: drawing 64 KiB of
# random bytes makes hypothesis slow without finding more.
payloads = st.one_of(
    st.binary(max_size=300),
    st.integers(min_value=65_530, max_value=65_540).map(_sized),
)
frames = st.builds(
    _frame,
    st.sampled_from(list(Opcode)),
    payloads,
    st.booleans(),
    st.one_of(st.none(), st.binary(min_size=4, max_size=4)),
)


@given(frames, st.binary(max_size=20))
def test_encode_decode_round_trip(frame, trailing):
    opcode, payload, fin, mask = frame
    data = encode_frame(payload, opcode=opcode, mask=mask, fin=fin)

    decoded = decode_frame(data + trailing)

    assert decoded.opcode == opcode
    assert decoded.fin == fin
    assert decoded.masked == (mask is not None)
    assert decoded.mask_key == mask
    assert decoded.length == len(payload)
    assert decoded.payload == payload
    assert decoded.consumed == len(data)


@given(frames, st.data())
def test_every_strict_prefix_is_truncated(frame, data):
    opcode, payload, fin, mask = frame
    encoded = encode_frame(payload, opcode=opcode, mask=mask, fin=fin)
    cut = data.draw(st.integers(min_value=0, max_value=len(encoded) - 1))

    with pytest.raises(TruncatedFrame):
        decode_frame(encoded[:cut])
