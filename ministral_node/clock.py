"""Clocks injected into timing logic, so tests drive time instead of sleeping."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """A source of seconds. Only differences between readings matter."""

    def now(self) -> float: ...


class MonotonicClock:
    """The process's monotonic clock (deadlines, timeouts, watchdogs)."""

    def now(self) -> float:
        return time.monotonic()


class WallClock:
    """Seconds since the epoch (decision stamps outside ROS)."""

    def now(self) -> float:
        return time.time()


class FakeClock:
    """A clock that moves only when told to; thread-safe."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError('a clock cannot go backwards')
        with self._lock:
            self._now += seconds

    def set(self, value: float) -> None:
        with self._lock:
            self._now = value


class Deadline:
    """A point in time on a clock, with the budget left to reach it."""

    def __init__(self, clock: Clock, budget_s: float) -> None:
        self.clock = clock
        self.at = clock.now() + budget_s

    def remaining(self) -> float:
        return max(0.0, self.at - self.clock.now())

    def expired(self) -> bool:
        return self.clock.now() >= self.at
