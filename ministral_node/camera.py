"""Camera frames as the core sees them, and the newest-frame store the camera callback fills.

The callback only checks a message's header (cheap) and keeps the newest one; pixels are
decoded when a decision needs them, once per frame.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from ministral_node.decision import FrameInfo
from ministral_node.image_conversion import (
    CompressedImageData,
    ImageError,
    RawImage,
    check_raw,
    decode_compressed,
    decode_raw,
)


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
        return now - (self.stamp if self.received is None else self.received)

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


class LatestFrame:
    """Holds only the newest frame; the camera callback stores, the decider takes."""

    def __init__(self, max_pixels: int = 40_000_000) -> None:
        self.max_pixels = max_pixels
        self._newest: EncodedFrame | Frame | None = None
        self._lock = threading.Lock()

    def store(self, frame: EncodedFrame | Frame) -> None:
        """Keep `frame` as the newest; raises ImageError (and keeps the previous one) if an
        encoded frame's header does not describe a usable image."""
        if isinstance(frame, EncodedFrame):
            if isinstance(frame.data, RawImage):
                check_raw(frame.data, self.max_pixels)
            elif len(frame.data.data) == 0:
                raise ImageError('compressed image has no data')
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
        decoded (the bad frame is then dropped, so the error is reported once).
        """
        newest = self.newest()
        if newest is None:
            return None
        received = newest.received if newest.received is not None else newest.stamp
        if now - received > max_age_s:
            return None
        if isinstance(newest, Frame):
            return newest
        try:
            frame = newest.decode(self.max_pixels)
        except ImageError:
            self._replace(newest, None)
            raise
        self._replace(newest, frame)
        return frame

    def _replace(self, old: EncodedFrame, new: Frame | None) -> None:
        """Swap in the decoded result unless a newer frame arrived meanwhile."""
        with self._lock:
            if self._newest is old:
                self._newest = new
