"""project/serve.py's unmasking of small client frames gives autobahn's result, chunk by chunk."""

import itertools
import random

import pytest
from autobahn.websocket.xormasker import create_xor_masker as autobahn_masker

from project import serve


def unmasked(mask, data):
    return bytes(byte ^ mask[index % 4] for index, byte in enumerate(data))


@pytest.mark.parametrize("length", [1, 3, 4, 5, 31, 32, 125, 126, 1000, 1023])
def test_a_small_frame_unmasks_like_the_reference_in_any_chunking(length):
    rng = random.Random(length)
    mask = rng.randbytes(4)
    payload = rng.randbytes(length)
    cut_points = sorted(rng.sample(range(1, length), min(3, length - 1))) if length > 1 else []

    masker = serve.create_xor_masker(mask, length)
    bounds = [0, *cut_points, length]
    chunks = [payload[start:end] for start, end in itertools.pairwise(bounds)]
    result = b"".join(masker.process(chunk) for chunk in chunks)

    assert isinstance(masker, serve.SmallFrameMasker)
    assert result == unmasked(mask, payload)
    assert result == autobahn_masker(mask, length).process(payload)
    assert masker.pointer() == length


def test_large_frames_keep_autobahns_native_masker():
    masker = serve.create_xor_masker(b"\x01\x02\x03\x04", serve.SMALL_FRAME_BYTES)

    assert not isinstance(masker, serve.SmallFrameMasker)


def test_autobahn_parses_frames_with_the_projects_masker():
    from autobahn.websocket import protocol as autobahn_protocol

    assert autobahn_protocol.create_xor_masker is serve.create_xor_masker
