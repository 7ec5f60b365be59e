"""The newest-frame store: header checks in the callback, freshness judged after decoding,
and the silent-camera diagnosis."""

from __future__ import annotations

import numpy as np
import pytest
from support import SlowFrame

from ministral_node.inputs.camera import (
    FRESH,
    NO_FRAME,
    STALE,
    STALE_AFTER_DECODE,
    UNUSABLE,
    EncodedFrame,
    LatestFrame,
    camera_silence,
)
from ministral_node.inputs.image_conversion import CompressedImageData, ImageError, RawImage
from ministral_node.timing import FakeClock
from ministral_node.tools.fuzz import dds_without_pixel_format, jpeg_bytes, png_bytes

PNG = png_bytes(np.full((24, 32, 3), 77, np.uint8))


def _encoded(clock: FakeClock, data: bytes = PNG, stamp: float = 5.0) -> EncodedFrame:
    return EncodedFrame(CompressedImageData('png', data), stamp, 'cam', clock.now())


def test_a_fresh_frame_is_decoded_once_and_its_decode_time_reported():
    clock = FakeClock(100.0)
    frames = LatestFrame()
    frames.store(SlowFrame(CompressedImageData('png', PNG), 5.0, 'cam', clock.now(),
                           clock, 0.25))
    taken = frames.take(clock, 1.0)
    assert (taken.status, taken.frame.width, taken.decode_s, taken.age_s) == \
        (FRESH, 32, pytest.approx(0.25), pytest.approx(0.25))
    assert frames.last_decode_s == pytest.approx(0.25)
    again = frames.take(clock, 1.0)  # kept decoded: no second decode
    assert again.frame is taken.frame and again.decode_s == 0.0


def test_a_slow_decode_makes_the_frame_stale_when_the_model_would_read_it():
    clock = FakeClock(100.0)
    frames = LatestFrame()
    frames.store(SlowFrame(CompressedImageData('png', PNG), 5.0, 'cam', clock.now(),
                           clock, 0.985))
    clock.advance(0.3)  # fresh when taken (0.3 s), 1.285 s old once decoded
    taken = frames.take(clock, 1.0)
    assert taken.status == STALE_AFTER_DECODE and taken.frame is None
    assert taken.age_s == pytest.approx(1.285) and taken.decode_s == pytest.approx(0.985)


def test_a_newer_frame_that_arrived_during_a_slow_decode_is_used():
    clock = FakeClock(100.0)
    frames = LatestFrame()
    newer = PNG  # arrives while the first one decodes
    first = SlowFrame(CompressedImageData('png', PNG), 5.0, 'cam', clock.now(), clock, 0.9,
                      lambda: frames.store(_encoded(clock, newer, stamp=6.0)))
    frames.store(first)
    clock.advance(0.3)
    taken = frames.take(clock, 1.0)
    assert taken.status == FRESH and taken.frame.stamp == 6.0
    assert taken.decode_s == pytest.approx(0.9)  # the second decode took no fake time


def test_no_frame_stale_and_unusable_frames():
    clock = FakeClock(100.0)
    frames = LatestFrame()
    assert frames.take(clock, 1.0).status == NO_FRAME
    frames.store(_encoded(clock))
    clock.advance(1.5)
    stale = frames.take(clock, 1.0)
    assert (stale.status, stale.age_s, stale.decode_s) == (STALE, pytest.approx(1.5), 0.0)
    cut = jpeg_bytes(np.zeros((32, 32, 3), np.uint8))
    frames.store(EncodedFrame(CompressedImageData('jpeg', cut[:len(cut) // 2]), 7.0, 'cam',
                              clock.now()))
    bad = frames.take(clock, 1.0)
    assert bad.status == UNUSABLE and bad.error.startswith(
        f'JPEG image ({len(cut) // 2} bytes) cannot be decoded')
    assert frames.newest() is None and frames.take(clock, 1.0).status == NO_FRAME


def test_fresh_keeps_its_api():
    clock = FakeClock(100.0)
    frames = LatestFrame()
    frames.store(_encoded(clock))
    assert frames.fresh(clock.now() + 2.0, 1.0) is None
    assert frames.fresh(clock.now() + 0.5, 1.0).height == 24
    frames.store(EncodedFrame(CompressedImageData('png', PNG[:60]), 5.0, 'cam', clock.now()))
    with pytest.raises(ImageError, match='PNG image'):
        frames.fresh(clock.now(), 1.0)


@pytest.mark.parametrize('data, message', [
    (dds_without_pixel_format(), 'look like a DDS texture'),
    (b'GIF89a' + bytes(40), 'look like a GIF'),
    (PNG[:20], 'PNG without an IHDR chunk'),
])
def test_the_callback_refuses_other_formats_and_keeps_the_previous_frame(data, message):
    clock = FakeClock(100.0)
    frames = LatestFrame()
    good = _encoded(clock)
    frames.store(good)
    with pytest.raises(ImageError, match=message):
        frames.store(EncodedFrame(CompressedImageData('jpeg', data), 6.0, 'cam', clock.now()))
    assert frames.newest() is good


def test_the_callback_refuses_a_compressed_bomb_by_its_header():
    clock = FakeClock(100.0)
    frames = LatestFrame(max_pixels=1_000_000)
    big = png_bytes(np.zeros((1100, 1000, 3), np.uint8))
    with pytest.raises(ImageError, match='exceeds max_image_pixels=1000000'):
        frames.store(EncodedFrame(CompressedImageData('png', big), 6.0, 'cam', clock.now()))
    raw = RawImage(1100, 1000, 'mono8', 1100, bytes(1100 * 1000))
    with pytest.raises(ImageError, match='exceeds max_image_pixels=1000000'):
        frames.store(EncodedFrame(raw, 6.0, 'cam', clock.now()))
    assert frames.newest() is None


@pytest.mark.parametrize('publishers, age, watched, expected', [
    (0, None, 60.0, None),      # nobody publishes: nothing to diagnose here
    (1, None, 2.0, None),       # just subscribed
    (1, 0.1, 60.0, None),       # frames arrive
    (1, None, 5.0, 'no frame since subscribing for 5.0 s'),
    (2, 12.5, 60.0, '2 publisher(s) matched on image_raw but no frame for 12.5 s'),
])
def test_camera_silence_while_a_publisher_is_matched(publishers, age, watched, expected):
    reason = camera_silence(publishers, age, watched, silent_after_s=5.0)
    if expected is None:
        assert reason is None
    else:
        assert expected in reason
        assert 'camera_transport: compressed' in reason and 'reliable' in reason
