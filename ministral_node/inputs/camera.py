"""Camera frames as the core sees them, and the newest-frame store the camera callback fills.

The callback only checks a message's header (cheap) and keeps the newest one; pixels are
decoded when a decision needs them, once per frame, and the frame's age is judged after the
decode, when the model is about to read it. `camera_silence` tells the node when a camera
publisher is matched but no frame arrives (frames too large for the transport).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from ministral_node.decision import FrameInfo
from ministral_node.inputs.image_conversion import (
    CompressedImageData,
    ImageError,
    RawImage,
    check_compressed,
    check_raw,
    decode_compressed,
    decode_raw,
)
from ministral_node.timing import Clock


@dataclass(frozen=True)
class Frame:
    """One camera image: RGB, uint8, shape (height, width, 3), with its header stamp.

    `received` is when it arrived on the node's duration clock (freshness is judged on it, as
    camera clocks are not always synchronised); it defaults to `stamp`.
    """

    image: np.ndarray
    stamp: float
    frame_id: str = ''
    received: float | None = None

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    def age(self, now: float) -> float:
        return now - _arrival(self)

    def info(self, now: float) -> FrameInfo:
        """What a decision records about this frame, seen at time `now`."""
        return FrameInfo(self.stamp, self.frame_id, self.age(now), self.width, self.height)


@dataclass(frozen=True)
class EncodedFrame:
    """A camera message as received, not yet decoded."""

    data: RawImage | CompressedImageData
    stamp: float
    frame_id: str
    received: float

    def decode(self, max_pixels: int) -> Frame:
        """Decode to a `Frame`; raises ImageError if the pixels are unusable."""
        if isinstance(self.data, RawImage):
            image = decode_raw(self.data, max_pixels)
        else:
            image = decode_compressed(self.data, max_pixels)
        return Frame(image, self.stamp, self.frame_id, self.received)


def _arrival(frame: EncodedFrame | Frame) -> float:
    return frame.stamp if frame.received is None else frame.received


class _At:
    """A clock stopped at one instant (what `LatestFrame.fresh` judges ages at)."""

    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


FRESH = 'fresh'
NO_FRAME = 'no_frame'
STALE = 'stale'
STALE_AFTER_DECODE = 'stale_after_decode'
UNUSABLE = 'unusable'


@dataclass(frozen=True)
class FrameTake:
    """What a decision got from the frame store.

    `status` is FRESH (then `frame` is set), NO_FRAME, STALE (too old before decoding),
    STALE_AFTER_DECODE (fresh when taken, too old once decoded) or UNUSABLE (`error` says why).
    `age_s` is the age of the newest frame when judged (after decoding if it was decoded);
    `decode_s` what decoding took on the given clock (0 if the frame was decoded before).
    """

    status: str
    frame: Frame | None = None
    age_s: float | None = None
    decode_s: float = 0.0
    error: str | None = None


class LatestFrame:
    """Holds only the newest frame; the camera callback stores, the decider takes.

    The lock is held only to swap references, so the camera callback never waits behind a
    decode or a decision. `last_decode_s` is what the latest decode took (for diagnostics).
    """

    # A slow decode may leave the frame too old; then a newer one (if any arrived meanwhile)
    # is decoded once more before the decision goes on without an image.
    DECODE_ATTEMPTS = 2

    def __init__(self, max_pixels: int = 40_000_000) -> None:
        self.max_pixels = max_pixels
        self.last_decode_s: float | None = None
        self._newest: EncodedFrame | Frame | None = None
        self._lock = threading.Lock()

    def apply(self, max_pixels: int) -> None:
        """Take a new pixel limit (`max_image_pixels`) for the frames stored from now on."""
        self.max_pixels = max_pixels

    def store(self, frame: EncodedFrame | Frame) -> None:
        """Keep `frame` as the newest; raises ImageError (and keeps the previous one) if an
        encoded frame's header does not describe a usable image (JPEG/PNG magic bytes and
        header size included)."""
        if isinstance(frame, EncodedFrame):
            if isinstance(frame.data, RawImage):
                check_raw(frame.data, self.max_pixels)
            else:
                check_compressed(frame.data, self.max_pixels)
        with self._lock:
            self._newest = frame

    def clear(self) -> None:
        with self._lock:
            self._newest = None

    def newest(self) -> EncodedFrame | Frame | None:
        with self._lock:
            return self._newest

    def fresh(self, now: float, max_age_s: float) -> Frame | None:
        """The newest frame, decoded, if it arrived at most `max_age_s` before `now`.

        Returns None if there is none or it is too old; raises ImageError if it cannot be
        decoded (the bad frame is then dropped, so the error is reported once). Ages are judged
        at `now`; `take` judges them again after decoding.
        """
        taken = self.take(_At(now), max_age_s)
        if taken.status == UNUSABLE:
            raise ImageError(taken.error)
        return taken.frame

    def take(self, clock: Clock, max_age_s: float) -> FrameTake:
        """The newest frame, decoded, if it is at most `max_age_s` old after decoding.

        Ages are read from `clock` (the duration clock frames were received on) before and
        after decoding. A frame that cannot be decoded is dropped (reported once) and comes
        back as UNUSABLE; nothing else is raised.
        """
        decode_s = 0.0
        decoded = False
        for _ in range(self.DECODE_ATTEMPTS):
            newest = self.newest()
            if newest is None:
                return FrameTake(NO_FRAME, decode_s=decode_s)
            age = clock.now() - _arrival(newest)
            if age > max_age_s:
                return FrameTake(STALE_AFTER_DECODE if decoded else STALE, age_s=age,
                                 decode_s=decode_s)
            if isinstance(newest, Frame):
                return FrameTake(FRESH, newest, age, decode_s)
            start = clock.now()
            try:
                frame = newest.decode(self.max_pixels)
            except ImageError as exc:
                self._replace(newest, None)
                return FrameTake(UNUSABLE, decode_s=decode_s + clock.now() - start,
                                 error=str(exc))
            finally:
                self.last_decode_s = clock.now() - start
            decode_s += self.last_decode_s
            decoded = True
            self._replace(newest, frame)
            age = clock.now() - _arrival(frame)
            if age <= max_age_s:
                return FrameTake(FRESH, frame, age, decode_s)
        return FrameTake(STALE_AFTER_DECODE, age_s=age, decode_s=decode_s)

    def _replace(self, old: EncodedFrame, new: Frame | None) -> None:
        """Swap in the decoded result unless a newer frame arrived meanwhile."""
        with self._lock:
            if self._newest is old:
                self._newest = new


def camera_silence(publishers: int, last_frame_age_s: float | None, watched_s: float,
                   silent_after_s: float, topic: str = 'image_raw') -> str | None:
    """Why the camera is silent although a publisher is matched (a WARN reason), or None.

    `publishers` is the count of publishers matched on the camera topic, `last_frame_age_s`
    the age of the last frame received (None: none yet), `watched_s` how long the subscription
    has existed. Silence longer than `silent_after_s` with a publisher matched usually means
    the frames do not cross the transport: a large raw frame over best-effort DDS is lost
    whenever any one of its fragments is.
    """
    if publishers <= 0 or silent_after_s <= 0:
        return None
    silent_s = watched_s if last_frame_age_s is None else last_frame_age_s
    if silent_s < silent_after_s:
        return None
    since = ' since subscribing' if last_frame_age_s is None else ''
    return (f'{publishers} publisher(s) matched on {topic} but no frame{since} for '
            f'{silent_s:.1f} s: '
            'frames too large for the transport (a raw 8K frame over best-effort DDS) never '
            'arrive; use camera_transport: compressed or camera_reliability: reliable')
