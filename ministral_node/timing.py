"""Time and cancellation: injected clocks, deadlines, cooperative cancellation, watcher threads.

Timing logic takes a `Clock`, so tests drive time instead of sleeping and a simulator's
`/clock` drives the node the same way a steady clock does on a vehicle.
"""

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


class Cancelled(RuntimeError):
    """A source stopped because its cancellation was requested or its deadline passed."""


class Cancellation:
    """Cooperative cancellation: set by another thread, implied by a passed deadline, or
    inherited from a parent cancellation."""

    def __init__(self, deadline: Deadline | None = None,
                 parent: Cancellation | None = None) -> None:
        self.deadline = deadline
        self.parent = parent
        self._event = threading.Event()
        self._reason = ''

    def cancel(self, reason: str = 'cancelled') -> None:
        self._reason = reason
        self._event.set()

    @property
    def cancelled(self) -> bool:
        if self._event.is_set():
            return True
        if self.parent is not None and self.parent.cancelled:
            self._reason = self._reason or self.parent.reason
            return True
        if self.deadline is not None and self.deadline.expired():
            self._reason = self._reason or 'deadline passed'
            return True
        return False

    @property
    def requested(self) -> bool:
        """Whether someone asked to stop (here or in a parent), as opposed to a deadline."""
        return self._event.is_set() or (self.parent is not None and self.parent.requested)

    @property
    def reason(self) -> str:
        if not self._reason and self.parent is not None and self.parent.requested:
            return self.parent.reason
        return self._reason

    def remaining(self) -> float:
        """Seconds left before the nearest deadline (infinite without one)."""
        own = float('inf') if self.deadline is None else self.deadline.remaining()
        return own if self.parent is None else min(own, self.parent.remaining())

    def check(self) -> None:
        """Raise `Cancelled` if cancellation was requested or the deadline passed."""
        if self.cancelled:
            raise Cancelled(self._reason)


class Watcher:
    """A daemon thread that runs `watch(stop)` for the life of a `with` block.

    Subclasses watch something (a cancellation, a socket) and act when it fires; `watch` must
    return soon after `stop` is set.
    """

    name = 'watcher'

    def __enter__(self) -> Watcher:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.watch, args=(self._stop,), name=self.name,
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def watch(self, stop: threading.Event) -> None:
        raise NotImplementedError
