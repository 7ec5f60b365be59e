"""The decision loop: every command answered exactly once, failsafes first, health and status.

ROS-free and driven by injected clocks. The ROS adapter feeds it messages (`command`, `frame`,
`pose`, `battery`, `heartbeat`), calls `drain` on its decision thread whenever `wake` asks,
`supervise` from a 10 Hz timer, and publishes what the loop hands to `publish`.

Each command that arrives gets one decision: decided by the sources, or refused at once with
the reason (unreadable, queue full, node not active, deactivating, preempted by a failsafe or
a reflex, superseded by a reflex). Failsafe decisions come before any waiting command and
cancel the one being decided.

Reflexes (`sources.rules.reflex`): a command the rule parser reads completely as stop, hold,
land or return to home is obeyed on the thread that received it, within milliseconds: the
running decision is cancelled (answered as preempted), the waiting commands are answered as
superseded (a `hold` keeps them with `reflex_hold_keeps_queue`), the reflex decision is
published, and the executor starts it at once, preempting the mission.

Clocks: `clock` times state (link silence, failsafe hold, frame and pose freshness) and is the
simulation clock under `use_sim_time`; `steady` times each decision's deadline and latency;
`stamp_clock` stamps decisions (ROS time).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ministral_node.core.fallback import FallbackChain
from ministral_node.core.pipeline import DecisionPipeline
from ministral_node.core.settings import Settings
from ministral_node.core.watchdog import (
    ClockMonitor,
    ClockState,
    FailsafeEscalation,
    LinkMonitor,
    LinkState,
    RateMonitor,
)
from ministral_node.decision import Decision, Proposal, Refusal, RefusalKind, shorten
from ministral_node.health import ERROR, LEVEL_NAMES, OK, STALE, WARN, HealthBoard
from ministral_node.inputs.camera import EncodedFrame, LatestFrame, camera_silence
from ministral_node.inputs.commands import CommandError, decode_string_message
from ministral_node.inputs.image_conversion import CompressedImageData, ImageError, RawImage
from ministral_node.inputs.vehicle import VehicleState
from ministral_node.mission.executor import ExecutorOutput, ExecutorSettings, MissionExecutor
from ministral_node.mission.projection import CameraIntrinsics
from ministral_node.perception.service import Scene
from ministral_node.sources.base import Decider
from ministral_node.sources.factory import build_sources, close_sources, configure_sources
from ministral_node.sources.rules.reflex import Reflex
from ministral_node.timing import Cancellation, Clock, MonotonicClock

log = logging.getLogger(__name__)

INACTIVE, ACTIVE, STOPPING, FINALIZED = 'inactive', 'active', 'deactivating', 'finalized'
UNCONFIGURED = 'unconfigured'  # the ROS node's state before configure: no loop exists
# How long deactivation waits for the running decision to honour its cancellation.
STOP_WAIT_S = 30.0

SourceBuilder = Callable[[Settings, HealthBoard], list[Decider]]


def unconfigured_refusal(payload: bytes | str, stamp_clock: Clock) -> Decision:
    """The answer to a command that arrives while the node is unconfigured (no loop, no
    settings): `reject`, saying so (or why the payload is unreadable)."""
    steady = MonotonicClock()
    pipeline = DecisionPipeline(FallbackChain([], steady), LatestFrame(), steady, stamp_clock)
    try:
        text = payload if isinstance(payload, str) else decode_string_message(payload)
    except CommandError as exc:
        return pipeline.refuse(Refusal(RefusalKind.INPUT, str(exc)))
    return pipeline.refuse(Refusal(RefusalKind.UNCONFIGURED, f'node {UNCONFIGURED}: not deciding'),
                           text=text)


def _build(settings: Settings, health: HealthBoard) -> list[Decider]:
    return build_sources(settings.values, health)


@dataclass
class _Command:
    """A command waiting for its decision."""

    id: str
    text: str
    received: float  # steady clock


@dataclass
class _Failsafe:
    proposal: Proposal
    reason: str


class DecisionLoop:
    """Commands in, decisions out, one at a time; see the module docstring."""

    def __init__(self, settings: Settings, clock: Clock, publish: Callable[[Decision], None], *,
                 wake: Callable[[], None] = lambda: None, steady: Clock | None = None,
                 stamp_clock: Clock | None = None, health: HealthBoard | None = None,
                 build: SourceBuilder = _build, sim_time: bool = False,
                 execute: Callable[[ExecutorOutput], None] = lambda out: None,
                 detections: Callable[[Scene], None] | None = None) -> None:
        self.settings = settings
        self._detections = detections  # each new scene of the detector (~/detections)
        self.clock = clock
        self.steady = steady or clock
        self.stamp_clock = stamp_clock or clock
        self.health = health or HealthBoard(self.steady)
        self._publish = publish
        self._wake = wake
        self._build = build
        watchdog = settings.watchdog
        self.frames = LatestFrame(settings.loop.max_image_pixels)
        self.link = LinkMonitor(clock, watchdog.link_loss_timeout_s)
        self.escalation = FailsafeEscalation(clock, watchdog.failsafe_action,
                                             watchdog.failsafe_hold_s)
        self.camera_rate = RateMonitor(clock, watchdog.camera_expected_rate_hz)
        self.clock_monitor = ClockMonitor(clock, self.steady) if sim_time else None
        self.vehicle = VehicleState()
        self.state = INACTIVE
        self.sources: list[Decider] = []
        self.pipeline = self._make_pipeline([])
        self.last_decision: Decision | None = None
        self.counts: Counter[str] = Counter()
        self.frames_received = 0
        self._commands: deque[_Command] = deque()
        self._failsafes: deque[_Failsafe] = deque()
        self._lock = threading.Condition()
        self._running: Cancellation | None = None
        self._running_kind = RefusalKind.PREEMPTED  # what the running command is if cancelled
        # What a command gets while the loop deactivates (deactivating or shutting down).
        self._stopping = Refusal(RefusalKind.DEACTIVATING, 'node deactivating')
        self._current: _Command | None = None  # the command being decided
        self._draining = False
        # Held from the last cancellation check to publication of a decided command, and
        # while a reflex cancels and publishes: a decision the reflex preempted never goes
        # out after it.
        self._emit_lock = threading.Lock()
        # With execute_missions, published decisions are flown: `execute` publishes what the
        # executor says (setpoints, vehicle commands, mission status).
        self.executor = MissionExecutor(ExecutorSettings.from_params(settings.values),
                                        self.pipeline.envelope) \
            if settings.values['execute_missions'] else None
        self._execute = execute
        self._executor_lock = threading.Lock()
        self._watching_camera_since = self.clock.now()
        self._silence_logged_at: float | None = None
        self.health.set('camera', WARN, 'waiting for frames')
        self.health.set('link', WARN, 'no ground-station heartbeat yet')

    # Lifecycle

    def activate(self) -> None:
        """Build (load) the decision sources and start deciding."""
        sources = self._build(self.settings, self.health)
        pipeline = self._make_pipeline(sources)  # loads the detector: commands are not held up
        with self._lock:
            self.sources = sources
            self.pipeline = pipeline
            self.state = ACTIVE
        self._watching_camera_since = self.clock.now()
        self._apply_executor()
        log.info('active: sources %s then failsafe', [s.source for s in sources])
        self._wake()

    def deactivate(self, reason: str = 'node deactivating',
                   kind: RefusalKind = RefusalKind.DEACTIVATING) -> None:
        """Stop deciding: cancel the running decision and wait for it, refuse every waiting
        command with `reason` (as `kind`), then free the sources. Decisions go out before
        this returns."""
        stopping = Refusal(kind, reason)
        with self._lock:
            if self.state in (INACTIVE, FINALIZED):
                return
            self.state = STOPPING
            self._stopping = stopping
            self._cancel_running(stopping)
            waited = self._lock.wait_for(lambda: not self._draining, STOP_WAIT_S)
            waiting = list(self._commands)
            self._commands.clear()
            self._failsafes.clear()
        if not waited:
            log.error('the running decision ignored its cancellation for %.0f s; its sources '
                      'are left to it', STOP_WAIT_S)
        for command in waiting:
            self._refuse(stopping, command)
        if self.executor is not None:
            with self._executor_lock:
                out = self.executor.abort(reason, self.clock.now(), self.vehicle)
            self._execute(out)
        with self._lock:
            sources, self.sources = self.sources, []
            self.pipeline = self._make_pipeline([])  # and no detector
            self.state = INACTIVE
        if self.settings.values['detector_model']:
            self.health.set('detector', WARN, f'not loaded: {reason}')
        if waited:
            close_sources(sources)
        self.frames.clear()

    def shutdown(self) -> None:
        """Deactivate for good."""
        self.deactivate('node shutting down', RefusalKind.SHUTTING_DOWN)
        with self._lock:
            self.state = FINALIZED

    def apply(self, settings: Settings) -> None:
        """Take new settings (a live parameter change) in every component."""
        self.settings = settings
        watchdog = settings.watchdog
        self.frames.max_pixels = settings.loop.max_image_pixels
        self.link.apply(watchdog.link_loss_timeout_s)
        self.camera_rate.expected_hz = watchdog.camera_expected_rate_hz
        self.escalation.configure(watchdog.failsafe_action, watchdog.failsafe_hold_s)
        self.pipeline.apply(settings)
        self._apply_executor()
        configure_sources(self.sources, settings.values)

    # Inputs (any thread)

    def command(self, payload: bytes | str, command_id: str | None = None) -> str:
        """A command as received: serialized std_msgs/String bytes, or text; its id (the
        decision's `command.id`; `command_id` names it, e.g. for an action goal waiting on it).
        """
        command = _Command(command_id or str(uuid.uuid4()), '', self.steady.now())
        self._count('commands_received')
        try:
            command.text = payload if isinstance(payload, str) else \
                decode_string_message(payload)
        except CommandError as exc:
            self._refuse(Refusal(RefusalKind.INPUT, str(exc)), command)
            return command.id
        if self.state == ACTIVE:
            reflex = self.pipeline.read_reflex(command.text)
            if reflex is not None and self._obey(reflex, command):
                return command.id
        dropped, depth = None, 0
        with self._lock:
            state, stopping = self.state, self._stopping
            if state == ACTIVE:
                self._commands.append(command)
                depth = self.settings.loop.command_queue_depth
                dropped = self._commands.popleft() if len(self._commands) > depth else None
        if state != ACTIVE:
            self._refuse(stopping if state == STOPPING else Refusal(
                RefusalKind.INACTIVE if state == INACTIVE else RefusalKind.SHUTTING_DOWN,
                f'node {state}: not deciding'), command)
            return command.id
        if dropped is not None:
            self._refuse(Refusal(RefusalKind.QUEUE_FULL,
                                 f'dropped unanswered: {depth} newer commands were already '
                                 f'waiting (command_queue_depth={depth})'), dropped)
        self._wake()
        return command.id

    def _obey(self, reflex: Reflex, command: _Command) -> bool:
        """Publish and execute `reflex` now, preempting what runs and what waits; False if the
        loop stopped deciding meanwhile (the command is then refused as any other)."""
        keep = reflex.action == 'hold' and self.settings.loop.reflex_hold_keeps_queue
        why = f'the reflex {reflex.action} (command {command.id})'
        with self._emit_lock:
            with self._lock:
                if self.state != ACTIVE:
                    return False
                running = self._current if self._running is not None else None
                self._cancel_running(Refusal(RefusalKind.PREEMPTED, f'preempted by {why}'))
                superseded = [] if keep else list(self._commands)
                if not keep:
                    self._commands.clear()
                self.counts['reflexes'] += 1
            preempted = self._preempted(running, superseded)
            self._emit(self.pipeline.reflex(reflex, text=command.text, command_id=command.id,
                                            received=command.received, preempted=preempted),
                       at_once=True)
        for waiting in superseded:
            self._refuse(Refusal(RefusalKind.SUPERSEDED, f'superseded by {why}'), waiting)
        return True

    def _preempted(self, running: _Command | None, superseded: list[_Command]) -> list[str]:
        """What a reflex preempts, one phrase each: the running decision, the waiting commands
        and the running mission."""
        preempted = []
        if running is not None:
            preempted.append(f'the decision of command {running.id} '
                             f'({shorten(running.text, 60)!r})')
        if superseded:
            preempted.append(f'{len(superseded)} waiting command(s)')
        if self.executor is not None:
            with self._executor_lock:
                status = self.executor.status(self.clock.now()) if self.executor.active \
                    else None
            if status is not None:
                preempted.append(f'{status["mission_id"]} (step {status["step_index"] + 1}/'
                                 f'{status["step_count"]} {status["step_action"]})')
        return preempted

    def frame(self, data: RawImage | CompressedImageData, stamp: float,
              frame_id: str = '') -> str | None:
        """Keep a camera frame (header checked, pixels decoded when a decision needs them);
        returns why it was rejected, or None."""
        if self.state != ACTIVE:
            return None
        try:
            self.frames.store(EncodedFrame(data, stamp, frame_id, self.clock.now()))
        except ImageError as exc:
            self.health.error('camera', f'frame rejected: {exc}')
            return str(exc)
        self.frames_received += 1
        self.camera_rate.tick()
        return None

    def pose(self, east: float, north: float, up: float, heading_deg: float | None,
             in_air: bool | None = None) -> None:
        """The vehicle's local ENU pose (origin at home); `in_air` when the autopilot says
        (its land detector), else judged from the altitude (`landed_altitude_m`)."""
        self.vehicle = self.vehicle.with_pose(
            east, north, up, heading_deg, self.clock.now(), in_air,
            landed_altitude_m=float(self.settings.values['landed_altitude_m']))
        self.health.set('vehicle', OK, 'pose and battery' if self.vehicle.battery_pct is not None
                        else 'pose', altitude_m=f'{up:.1f}')

    def battery(self, percent: float | None) -> None:
        """Battery in percent (None: unknown)."""
        self.vehicle = self.vehicle.with_battery(percent, self.clock.now())
        self.health.values('vehicle', battery_pct=self.vehicle.battery_pct)

    def heartbeat(self, sender: str = '') -> None:
        """A ground-station heartbeat."""
        change = self.link.heartbeat()
        if change is None:
            return
        if change.old is LinkState.LOST:
            log.info('ground link regained after %.1f s', change.silent_s)
        else:
            log.info('ground link up (heartbeat from %s)', sender or '?')
        self.escalation.clear()
        if self.executor is not None:
            with self._executor_lock:
                self.executor.clear_failsafe()
        self.health.set('link', OK, 'up', heartbeats=self.link.heartbeats)

    def camera_info(self, k: list[float], width: int, height: int) -> None:
        """The camera's intrinsics (sensor_msgs/CameraInfo K and size), to place targets."""
        if self.executor is not None:
            with self._executor_lock:
                self.executor.set_intrinsics(CameraIntrinsics.from_camera_info(k, width,
                                                                               height))

    def detect(self) -> None:
        """Run the object detector on the newest frame between decisions (the node's
        `detector_rate_hz` timer); a decision on that frame reuses the detections."""
        if self.state == ACTIVE:
            self.pipeline.detect_newest()

    # Executing (the setpoint timer)

    def execute(self) -> None:
        """One executor tick: advance the running mission and publish its outputs."""
        if self.executor is None or self.state != ACTIVE:
            return
        with self._executor_lock:
            out = self.executor.update(self.clock.now(), self.vehicle)
        self._execute(out)

    def abort_mission(self, reason: str) -> bool:
        """End the running mission with `reason` (the autopilot link refused, lost or was
        taken over) and publish what the executor says; False when no mission ran."""
        if self.executor is None:
            return False
        with self._executor_lock:
            if not self.executor.active:
                return False
            out = self.executor.abort(reason, self.clock.now(), self.vehicle)
        self._execute(out)
        return True

    def mission_status(self) -> dict | None:
        """The executor's status (the ~/mission heartbeat), or None when not executing."""
        if self.executor is None:
            return None
        with self._executor_lock:
            return self.executor.status(self.clock.now())

    def _apply_executor(self) -> None:
        if self.executor is not None:
            with self._executor_lock:
                self.executor.apply(ExecutorSettings.from_params(self.settings.values),
                                    self.pipeline.envelope)

    # Deciding (the decision thread)

    def drain(self) -> None:
        """Decide waiting failsafes and commands until none is left or the loop stops."""
        while (item := self._next()) is not None:
            try:
                self._decide(item)
            finally:
                with self._lock:
                    self._running = None
                    self._current = None
                    self._draining = False
                    self._lock.notify_all()

    def _next(self) -> _Command | _Failsafe | None:
        with self._lock:
            if self.state != ACTIVE:
                return None
            queue = self._failsafes or self._commands
            if not queue:
                return None
            item = queue.popleft()
            self._draining = True
            self._running = Cancellation() if isinstance(item, _Command) else None
            self._running_kind = RefusalKind.PREEMPTED
            self._current = item if isinstance(item, _Command) else None
            return item

    def _decide(self, item: _Command | _Failsafe) -> None:
        pipeline = self.pipeline
        if isinstance(item, _Failsafe):
            self._emit(pipeline.failsafe(item.proposal, item.reason))
            return
        cancel = self._running
        decision = pipeline.decide(item.text, command_id=item.id, received=item.received,
                                   cancel=cancel)
        with self._emit_lock:
            if cancel is not None and cancel.requested:
                with self._lock:
                    kind = self._running_kind
                decision = pipeline.refuse(Refusal(kind, f'not decided: {cancel.reason}'),
                                           text=item.text, command_id=item.id,
                                           received=item.received)
            self._emit(decision)

    def _cancel_running(self, refusal: Refusal) -> None:
        """Cancel the running decision (the lock held); its command is answered as
        `refusal.kind`, `not decided: <reason>`."""
        if self._running is not None:
            self._running_kind = refusal.kind
            self._running.cancel(refusal.reason)

    def _count(self, name: str) -> None:
        with self._lock:
            self.counts[name] += 1

    def _refuse(self, refusal: Refusal, command: _Command) -> None:
        self._count('commands_refused')
        self._emit(self.pipeline.refuse(refusal, text=command.text, command_id=command.id,
                                        received=command.received))

    def _emit(self, decision: Decision, *, at_once: bool = False) -> None:
        """Publish `decision` and hand it to the executor (`at_once`: also run the executor's
        first tick now, not at the next setpoint timer tick)."""
        self._count('decisions')
        self.last_decision = decision
        self._publish(decision)
        if self.executor is not None and self.state == ACTIVE:
            with self._executor_lock:
                now = self.clock.now()
                outs = [self.executor.submit(decision, now, self.vehicle)]
                if at_once:
                    outs.append(self.executor.update(now, self.vehicle))
            for out in outs:
                self._execute(out)

    # Supervision (10 Hz, steady clock)

    def supervise(self, camera_publishers: int = 0, camera_topic: str = 'image_raw') -> None:
        """Link loss and failsafe escalation, the clock, camera rate and staleness.

        `camera_publishers` (matched on `camera_topic`, from the adapter) tells a camera that
        streams frames the transport cannot carry from one that is not there."""
        paused = self._clock_health()
        change = None if paused else self.link.update()
        if change is not None:
            log.error('ground link lost: no heartbeat for %.1f s (link_loss_timeout_s=%g)',
                      change.silent_s, self.link.loss_timeout_s)
            self.health.set('link', ERROR, f'lost: no heartbeat for {change.silent_s:.1f} s')
            self.escalation.link_lost(change.silent_s)
        if self.state == ACTIVE:
            proposal = self.escalation.due(busy=False)
            if proposal is not None:
                self._preempt(_Failsafe(proposal, proposal.rationale))
        self._camera_health(camera_publishers, camera_topic)

    def _preempt(self, failsafe: _Failsafe) -> None:
        with self._lock:
            self._failsafes.append(failsafe)
            self._cancel_running(Refusal(RefusalKind.PREEMPTED,
                                         f'preempted by the failsafe {failsafe.proposal.action}'))
        self._wake()

    def _clock_health(self) -> bool:
        """Updates the clock's health; True while the clock is stopped (watchdog paused)."""
        if self.clock_monitor is None:
            return False
        reading = self.clock_monitor.update()
        if reading.state is ClockState.JUMPED_BACK:
            log.warning('simulation clock jumped back %.3f s; watchdog timers restart',
                        reading.jumped_s)
            self.link.rebase()
            self.escalation.rebase()
            self.camera_rate.reset()
            self.health.error('clock', f'simulation clock jumped back {reading.jumped_s:.3f} s')
        elif reading.state is ClockState.STOPPED:
            message = f'simulation clock stopped for {reading.stopped_s:.1f} s'
            self.health.set('clock', WARN, message, jumps=self.clock_monitor.jumps)
            if self.link.state is LinkState.UP:
                self.health.set('link', WARN, f'watchdog paused: {message}')
            return True
        else:
            self.health.set('clock', OK, 'simulation clock running',
                            jumps=self.clock_monitor.jumps)
            if self.link.state is LinkState.UP:
                self.health.set('link', OK, 'up', heartbeats=self.link.heartbeats)
        return False

    def _camera_health(self, publishers: int = 0, topic: str = 'image_raw') -> None:
        age = self.camera_rate.last_age_s()
        rate = self.camera_rate.rate_hz()
        expected = self.camera_rate.expected_hz
        values = {'frames': self.frames_received, 'rate_hz': f'{rate:.1f}',
                  'expected_rate_hz': f'{expected:g}'}
        if self.frames.last_decode_s is not None:
            values['last_decode_ms'] = f'{self.frames.last_decode_s * 1000:.1f}'
        now = self.clock.now()
        max_age = self.settings.watchdog.max_frame_age_s
        silence = None if self.state != ACTIVE else camera_silence(
            publishers, age, now - self._watching_camera_since, max(5.0, 2 * max_age), topic)
        if silence is not None:
            if self._silence_logged_at is None or now - self._silence_logged_at >= 30.0:
                log.warning('camera: %s', silence)
                self._silence_logged_at = now
            self.health.set('camera', WARN, silence, **values)
        elif age is None:
            self.health.set('camera', WARN, 'waiting for frames', **values)
        elif age > max_age:
            self.health.set('camera', STALE, f'no frame for {age:.1f} s', **values)
        elif expected > 0 and rate < 0.5 * expected:
            self.health.set('camera', WARN, f'{rate:.1f} Hz, expected {expected:g} Hz',
                            **values)
        else:
            self.health.set('camera', OK, f'{rate:.1f} Hz', **values)

    # Status

    def status(self, node: str = '') -> dict[str, Any]:
        """The heartbeat published on ~/status."""
        now = self.clock.now()
        newest = self.frames.newest()
        last = self.last_decision
        with self._lock:
            queued, busy = len(self._commands), self._draining
        clock = None
        if self.clock_monitor is not None:
            clock = self.health.snapshot_of('clock').message
        return {
            'stamp': self.stamp_clock.now(),
            'node': node,
            'state': self.state,
            'busy': busy,
            'queued_commands': queued,
            'commands_received': self.counts['commands_received'],
            'commands_refused': self.counts['commands_refused'],
            'reflexes': self.counts['reflexes'],
            'sources': [s.source for s in self.sources] + ['failsafe'],
            'decisions_published': self.counts['decisions'],
            'last_decision': None if last is None else {
                'id': last.id, 'action': last.action, 'source': last.source,
                'latency_ms': last.latency_ms, 'stamp': last.stamp},
            'camera': {'frames_received': self.frames_received,
                       'rate_hz': round(self.camera_rate.rate_hz(), 2),
                       'newest_frame_age_s': None if newest is None else
                       round(now - newest.received, 3)},
            'link': {'state': self.link.state.value, 'silent_s': self.link.silent_s(),
                     'failsafe_active': self.escalation.active},
            'clock': {'source': 'sim' if self.clock_monitor is not None else 'steady',
                      'now': now, 'state': clock},
            'health': {h.name: LEVEL_NAMES[h.level] for h in self.health.snapshot()},
        }

    # Internals

    def _skip_source(self, source: str) -> str | None:
        if source == 'remote' and self.link.state is LinkState.LOST:
            return 'ground link lost'
        return None

    def _make_pipeline(self, sources: list[Decider]) -> DecisionPipeline:
        pipeline = DecisionPipeline.from_settings(
            self.settings, sources, self.frames, self.clock, self.stamp_clock, self.health,
            lambda: self.vehicle, skip=self._skip_source, steady=self.steady)
        if pipeline.perception is not None:
            pipeline.perception.on_scene = self._detections
        return pipeline
