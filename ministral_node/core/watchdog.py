"""Supervision on an injected clock: the ground link, failsafe escalation, circuit breakers and
the camera rate.

Nothing here sleeps or starts threads: the node calls `update(now)`-style methods from its
timers, tests call them with a `FakeClock`.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from enum import Enum

from ministral_node.decision import Proposal
from ministral_node.timing import Clock


class LinkState(Enum):
    """The ground link as the watchdog sees it."""

    NEVER_SEEN = 'never_seen'  # no heartbeat yet: like PX4, no data-link failsafe before one
    UP = 'up'
    LOST = 'lost'


@dataclass(frozen=True)
class LinkChange:
    """A transition of the link state, for logs, diagnostics and the failsafe."""

    old: LinkState
    new: LinkState
    silent_s: float


class LinkMonitor:
    """Ground-station heartbeats: lost after `loss_timeout_s` of silence (PX4 COM_DL_LOSS_T),
    regained on the next heartbeat."""

    def __init__(self, clock: Clock, loss_timeout_s: float = 10.0) -> None:
        self.clock = clock
        self.loss_timeout_s = loss_timeout_s
        self.state = LinkState.NEVER_SEEN
        self.last_heartbeat: float | None = None
        self.heartbeats = 0
        self._lock = threading.Lock()

    def heartbeat(self) -> LinkChange | None:
        """Record a heartbeat now; returns the change if it brought the link up."""
        now = self.clock.now()
        with self._lock:
            silent = 0.0 if self.last_heartbeat is None else now - self.last_heartbeat
            self.last_heartbeat = now
            self.heartbeats += 1
            if self.state is LinkState.UP:
                return None
            old, self.state = self.state, LinkState.UP
            return LinkChange(old, LinkState.UP, silent)

    def update(self) -> LinkChange | None:
        """Check for silence; returns the change if the link was just lost."""
        now = self.clock.now()
        with self._lock:
            if self.state is not LinkState.UP or self.last_heartbeat is None:
                return None
            silent = now - self.last_heartbeat
            if silent <= self.loss_timeout_s:
                return None
            self.state = LinkState.LOST
            return LinkChange(LinkState.UP, LinkState.LOST, silent)

    def apply(self, loss_timeout_s: float) -> None:
        """Take a new loss timeout (checked at the next `update`)."""
        self.loss_timeout_s = loss_timeout_s

    def rebase(self) -> None:
        """The clock jumped backwards: count silence from now, not from a future reading."""
        now = self.clock.now()
        with self._lock:
            if self.last_heartbeat is not None and self.last_heartbeat > now:
                self.last_heartbeat = now

    def silent_s(self) -> float | None:
        """Seconds since the last heartbeat, or None if there was none."""
        with self._lock:
            return None if self.last_heartbeat is None else self.clock.now() - self.last_heartbeat


# Most severe wins, as in PX4's failsafe state machine.
SEVERITY = {'hold': 0, 'return_to_home': 1, 'land': 2}


class FailsafeEscalation:
    """What to publish after the link is lost: `hold` at once, then `action` after `hold_s`
    (PX4 COM_FAIL_ACT_T), each step once; cleared when the link returns. Action `none`
    disables it."""

    def __init__(self, clock: Clock, action: str = 'return_to_home', hold_s: float = 5.0) -> None:
        self.clock = clock
        self.configure(action, hold_s)
        self.lost_at: float | None = None
        self.silent_at_loss_s = 0.0
        self.published: list[str] = []

    def configure(self, action: str, hold_s: float) -> None:
        """Change the action and hold time; an escalation in progress continues with them."""
        if action not in SEVERITY and action != 'none':
            raise ValueError(f'failsafe action must be none or one of {sorted(SEVERITY)}, '
                             f'got {action!r}')
        self.action = action
        self.hold_s = hold_s

    @property
    def active(self) -> bool:
        return self.lost_at is not None and self.action != 'none'

    def link_lost(self, silent_s: float = 0.0) -> None:
        """The link was declared lost after `silent_s` without a heartbeat."""
        if self.lost_at is None:
            self.lost_at = self.clock.now()
            self.silent_at_loss_s = silent_s
            self.published = []

    def rebase(self) -> None:
        """The clock jumped backwards: the hold counts from now."""
        if self.lost_at is not None and self.lost_at > self.clock.now():
            self.lost_at = self.clock.now()

    def clear(self) -> None:
        """The link is back: stop escalating (the operator decides what comes next)."""
        self.lost_at = None
        self.published = []

    def due(self, busy: bool) -> Proposal | None:
        """The next failsafe proposal to publish now, if one is due.

        While a command is being decided (`busy`) nothing is published: that decision comes
        first, and the escalation resumes after it.
        """
        if not self.active or busy:
            return None
        lost_for = self.clock.now() - self.lost_at
        silent = self.silent_at_loss_s + lost_for
        if 'hold' not in self.published:
            self.published.append('hold')
            return Proposal('hold', {'duration_s': None}, None, 1.0,
                            f'ground link lost (no heartbeat for {silent:.1f} s): holding '
                            f'{self.hold_s:g} s before {self.action}')
        if self.action != 'hold' and self.action not in self.published \
                and lost_for >= self.hold_s:
            self.published.append(self.action)
            return Proposal(self.action, {}, None, 1.0,
                            f'ground link lost (no heartbeat for {silent:.1f} s), held '
                            f'{self.hold_s:g} s: failsafe action {self.action}')
        return None


class RateMonitor:
    """Arrival rate of a stream (camera frames) over a sliding window, against an expected
    rate."""

    def __init__(self, clock: Clock, expected_hz: float, window_s: float = 2.0) -> None:
        self.clock = clock
        self.expected_hz = expected_hz
        self.window_s = window_s
        self._arrivals: deque[float] = deque()
        self._last: float | None = None
        self._lock = threading.Lock()

    def apply(self, expected_hz: float) -> None:
        """Take a new expected rate."""
        self.expected_hz = expected_hz

    def reset(self) -> None:
        """Forget every arrival (the clock jumped backwards)."""
        with self._lock:
            self._arrivals.clear()
            self._last = None

    def tick(self) -> None:
        now = self.clock.now()
        with self._lock:
            self._arrivals.append(now)
            self._last = now
            self._trim(now)

    def _trim(self, now: float) -> None:
        while self._arrivals and now - self._arrivals[0] > self.window_s:
            self._arrivals.popleft()

    def rate_hz(self) -> float:
        with self._lock:
            self._trim(self.clock.now())
            return len(self._arrivals) / self.window_s

    def last_age_s(self) -> float | None:
        """Seconds since the last arrival, or None if nothing ever arrived."""
        with self._lock:
            return None if self._last is None else self.clock.now() - self._last


class ClockState(Enum):
    """How a (simulation) clock moves against the steady clock."""

    RUNNING = 'running'
    STOPPED = 'stopped'
    JUMPED_BACK = 'jumped_back'


@dataclass(frozen=True)
class ClockReading:
    """The clock's state, and since when (steady seconds) or by how much it jumped."""

    state: ClockState
    stopped_s: float = 0.0
    jumped_s: float = 0.0


class ClockMonitor:
    """Watches the node clock (`/clock` under simulated time) against the steady clock.

    A clock that does not advance for `stall_s` of steady time is STOPPED (timers on it and the
    watchdog would go silent); one that goes backwards JUMPED_BACK (a simulator reset).
    """

    def __init__(self, clock: Clock, steady: Clock, stall_s: float = 2.0) -> None:
        self.clock = clock
        self.steady = steady
        self.stall_s = stall_s
        self.jumps = 0
        self._last: float | None = None
        self._advanced_at = steady.now()

    def update(self) -> ClockReading:
        """Read both clocks; call it periodically on the steady clock."""
        now, real = self.clock.now(), self.steady.now()
        last, self._last = self._last, now
        if last is None or now > last:
            self._advanced_at = real
            return ClockReading(ClockState.RUNNING)
        if now < last:
            self.jumps += 1
            self._advanced_at = real
            return ClockReading(ClockState.JUMPED_BACK, jumped_s=last - now)
        stopped = real - self._advanced_at
        if stopped >= self.stall_s:
            return ClockReading(ClockState.STOPPED, stopped_s=stopped)
        return ClockReading(ClockState.RUNNING)
