"""Camera frames as the core sees them, and the newest-frame store the camera callback fills."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from ministral_node.decision import FrameInfo


@dataclass(frozen=True)
class Frame:
    """One camera image: RGB, uint8, shape (height, width, 3), with its header stamp."""

    image: np.ndarray
    stamp: float
    frame_id: str = ''

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    def info(self, now: float) -> FrameInfo:
        """What a decision records about this frame, seen at time `now`."""
        return FrameInfo(self.stamp, self.frame_id, now - self.stamp, self.width, self.height)


class LatestFrame:
    """Holds only the newest frame; the camera callback stores, the decider takes."""

    def __init__(self) -> None:
        self._frame: Frame | None = None
        self._lock = threading.Lock()

    def store(self, frame: Frame) -> None:
        with self._lock:
            self._frame = frame

    def clear(self) -> None:
        with self._lock:
            self._frame = None

    def newest(self) -> Frame | None:
        with self._lock:
            return self._frame

    def fresh(self, now: float, max_age_s: float) -> Frame | None:
        """The newest frame if it is at most `max_age_s` old at `now`, else None."""
        frame = self.newest()
        if frame is None or now - frame.stamp > max_age_s:
            return None
        return frame
