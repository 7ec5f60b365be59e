"""The decision loop's watch and bookkeeping: the ground link and its failsafe escalation,
the camera, the simulation clock, the counts, and the ~/status heartbeat.

ROS-free, on the loop's clocks: `clock` times the link, the failsafe hold and the camera;
`steady` watches `clock` under simulated time; `stamp_clock` stamps the heartbeat. The loop
reports what happens (`received`, `refused`, `reflex`, `published`, `frame_stored`,
`heartbeat`), calls `supervise` from its 10 Hz timer and builds `status` from it; each writes
its part of the health board.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from ministral_node.core.settings import Settings
from ministral_node.core.watchdog import (
    ClockMonitor,
    ClockState,
    FailsafeEscalation,
    LinkMonitor,
    LinkState,
    RateMonitor,
)
from ministral_node.decision import Decision, Proposal
from ministral_node.health import ERROR, LEVEL_NAMES, OK, STALE, WARN, HealthBoard
from ministral_node.inputs.camera import LatestFrame, camera_silence
from ministral_node.timing import Clock

log = logging.getLogger(__name__)

# A camera that stays silent is logged again after this long.
SILENCE_LOG_S = 30.0


class LoopStatus:
    """Link, camera and clock health, the loop's counts and its status; see the module
    docstring. `frames` is the loop's frame store, read for the newest frame's age."""

    def __init__(self, settings: Settings, clock: Clock, steady: Clock, stamp_clock: Clock,
                 health: HealthBoard, frames: LatestFrame, sim_time: bool = False) -> None:
        self._settings = settings
        self._clock = clock
        self._stamp_clock = stamp_clock
        self._health = health
        self._frames = frames
        watchdog = settings.watchdog
        self._link = LinkMonitor(clock, watchdog.link_loss_timeout_s)
        self._escalation = FailsafeEscalation(clock, watchdog.failsafe_action,
                                              watchdog.failsafe_hold_s)
        self._camera_rate = RateMonitor(clock, watchdog.camera_expected_rate_hz)
        self._clock_monitor = ClockMonitor(clock, steady) if sim_time else None
        self._counts: Counter[str] = Counter()
        self._frames_received = 0
        self._last_decision: Decision | None = None
        self._lock = threading.Lock()
        self._watching_camera_since = clock.now()
        self._silence_logged_at: float | None = None
        health.set('camera', WARN, 'waiting for frames')
        health.set('link', WARN, 'no ground-station heartbeat yet')

    def apply(self, settings: Settings) -> None:
        """Take new settings (a live parameter change)."""
        self._settings = settings
        watchdog = settings.watchdog
        self._link.apply(watchdog.link_loss_timeout_s)
        self._camera_rate.apply(watchdog.camera_expected_rate_hz)
        self._escalation.configure(watchdog.failsafe_action, watchdog.failsafe_hold_s)

    # What happened

    def activated(self) -> None:
        """The loop started deciding: a camera that sends nothing is judged from now."""
        self._watching_camera_since = self._clock.now()

    def received(self) -> None:
        """A command arrived."""
        self._count('commands_received')

    def refused(self) -> None:
        """A command was refused before any source saw it."""
        self._count('commands_refused')

    def reflex(self) -> None:
        """A command was obeyed as a reflex."""
        self._count('reflexes')

    def published(self, decision: Decision) -> None:
        """A decision went out."""
        with self._lock:
            self._counts['decisions'] += 1
            self._last_decision = decision

    def frame_stored(self) -> None:
        """A camera frame was kept."""
        with self._lock:
            self._frames_received += 1
        self._camera_rate.tick()

    def frame_rejected(self, reason: str) -> None:
        """A camera frame was refused (its header describes no usable image)."""
        self._health.error('camera', f'frame rejected: {reason}')

    def heartbeat(self, sender: str = '') -> bool:
        """A ground-station heartbeat; True when it brought the link up (again), which ends
        any failsafe escalation."""
        change = self._link.heartbeat()
        if change is None:
            return False
        if change.old is LinkState.LOST:
            log.info('ground link regained after %.1f s', change.silent_s)
        else:
            log.info('ground link up (heartbeat from %s)', sender or '?')
        self._escalation.clear()
        self._health.set('link', OK, 'up', heartbeats=self._link.heartbeats)
        return True

    # Supervision (10 Hz, steady clock)

    def supervise(self, deciding: bool, camera_publishers: int = 0,
                  camera_topic: str = 'image_raw') -> Proposal | None:
        """Link loss and failsafe escalation, the clock, camera rate and staleness; returns
        the failsafe proposal due now (only while `deciding`), or None.

        `camera_publishers` (matched on `camera_topic`, from the adapter) tells a camera that
        streams frames the transport cannot carry from one that is not there."""
        paused = self._clock_health()
        change = None if paused else self._link.update()
        if change is not None:
            log.error('ground link lost: no heartbeat for %.1f s (link_loss_timeout_s=%g)',
                      change.silent_s, self._link.loss_timeout_s)
            self._health.set('link', ERROR, f'lost: no heartbeat for {change.silent_s:.1f} s')
            self._escalation.link_lost(change.silent_s)
        failsafe = self._escalation.due(busy=False) if deciding else None
        self._camera_health(deciding, camera_publishers, camera_topic)
        return failsafe

    def link_lost(self) -> bool:
        """Whether the ground link is lost (the remote source is skipped then)."""
        return self._link.state is LinkState.LOST

    def _clock_health(self) -> bool:
        """Updates the clock's health; True while the clock is stopped (watchdog paused)."""
        if self._clock_monitor is None:
            return False
        reading = self._clock_monitor.update()
        if reading.state is ClockState.JUMPED_BACK:
            log.warning('simulation clock jumped back %.3f s; watchdog timers restart',
                        reading.jumped_s)
            self._link.rebase()
            self._escalation.rebase()
            self._camera_rate.reset()
            self._health.error('clock', f'simulation clock jumped back {reading.jumped_s:.3f} s')
        elif reading.state is ClockState.STOPPED:
            message = f'simulation clock stopped for {reading.stopped_s:.1f} s'
            self._health.set('clock', WARN, message, jumps=self._clock_monitor.jumps)
            if self._link.state is LinkState.UP:
                self._health.set('link', WARN, f'watchdog paused: {message}')
            return True
        else:
            self._health.set('clock', OK, 'simulation clock running',
                             jumps=self._clock_monitor.jumps)
            if self._link.state is LinkState.UP:
                self._health.set('link', OK, 'up', heartbeats=self._link.heartbeats)
        return False

    def _camera_health(self, deciding: bool, publishers: int, topic: str) -> None:
        age = self._camera_rate.last_age_s()
        rate = self._camera_rate.rate_hz()
        expected = self._camera_rate.expected_hz
        values = {'frames': self._frames_received, 'rate_hz': f'{rate:.1f}',
                  'expected_rate_hz': f'{expected:g}'}
        if self._frames.last_decode_s is not None:
            values['last_decode_ms'] = f'{self._frames.last_decode_s * 1000:.1f}'
        now = self._clock.now()
        max_age = self._settings.watchdog.max_frame_age_s
        silence = None if not deciding else camera_silence(
            publishers, age, now - self._watching_camera_since, max(5.0, 2 * max_age), topic)
        if silence is not None:
            if self._silence_logged_at is None or \
                    now - self._silence_logged_at >= SILENCE_LOG_S:
                log.warning('camera: %s', silence)
                self._silence_logged_at = now
            self._health.set('camera', WARN, silence, **values)
        elif age is None:
            self._health.set('camera', WARN, 'waiting for frames', **values)
        elif age > max_age:
            self._health.set('camera', STALE, f'no frame for {age:.1f} s', **values)
        elif expected > 0 and rate < 0.5 * expected:
            self._health.set('camera', WARN, f'{rate:.1f} Hz, expected {expected:g} Hz',
                             **values)
        else:
            self._health.set('camera', OK, f'{rate:.1f} Hz', **values)

    # Status

    def status(self, node: str, state: str, busy: bool, queued: int, sources: Sequence[str],
               vehicle_link: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The heartbeat published on ~/status: the loop's `state`, whether it is deciding
        (`busy`), how many commands wait, its decision sources, and (when the node runs one)
        the vehicle link's status."""
        now = self._clock.now()
        newest = self._frames.newest()
        with self._lock:
            counts = dict(self._counts)
            last = self._last_decision
            frames_received = self._frames_received
        clock = None
        if self._clock_monitor is not None:
            clock = self._health.snapshot_of('clock').message
        status = {
            'stamp': self._stamp_clock.now(),
            'node': node,
            'state': state,
            'busy': busy,
            'queued_commands': queued,
            'commands_received': counts.get('commands_received', 0),
            'commands_refused': counts.get('commands_refused', 0),
            'reflexes': counts.get('reflexes', 0),
            'sources': [*sources, 'failsafe'],
            'decisions_published': counts.get('decisions', 0),
            'last_decision': None if last is None else {
                'id': last.id, 'action': last.action, 'source': last.source,
                'latency_ms': last.latency_ms, 'stamp': last.stamp},
            'camera': {'frames_received': frames_received,
                       'rate_hz': round(self._camera_rate.rate_hz(), 2),
                       'newest_frame_age_s': None if newest is None else
                       round(now - newest.received, 3),
                       'transport': self._settings.values['camera_transport']},
            'link': {'state': self._link.state.value, 'silent_s': self._link.silent_s(),
                     'failsafe_active': self._escalation.active},
            'clock': {'source': 'sim' if self._clock_monitor is not None else 'steady',
                      'now': now, 'state': clock},
            'health': {h.name: LEVEL_NAMES[h.level] for h in self._health.snapshot()},
        }
        if vehicle_link is not None:
            status['vehicle_link'] = dict(vehicle_link)
        return status

    def _count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1
