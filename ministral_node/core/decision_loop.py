"""The decision loop: every command answered exactly once, failsafes first.

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

The loop keeps the command queue and the lifecycle and drives the pipeline and the mission
executor; the link, camera and clock health, the counts and the ~/status heartbeat are kept by
its `core.status.LoopStatus`. One safety envelope serves the pipeline and the executor.

Clocks: `clock` times state (link silence, failsafe hold, frame and pose freshness) and is the
simulation clock under `use_sim_time`; `steady` times each decision's deadline and latency;
`stamp_clock` stamps decisions (ROS time).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ministral_node.core.fallback import FallbackChain
from ministral_node.core.pipeline import DecisionPipeline
from ministral_node.core.settings import Settings
from ministral_node.core.status import LoopStatus
from ministral_node.decision import Decision, Proposal, Refusal, RefusalKind, shorten
from ministral_node.health import OK, WARN, HealthBoard
from ministral_node.inputs.camera import EncodedFrame, LatestFrame
from ministral_node.inputs.commands import CommandError, decode_string_message
from ministral_node.inputs.image_conversion import CompressedImageData, ImageError, RawImage
from ministral_node.inputs.vehicle import VehicleState
from ministral_node.mission.executor import ExecutorOutput, ExecutorSettings, MissionExecutor
from ministral_node.mission.projection import CameraIntrinsics
from ministral_node.perception.service import Scene
from ministral_node.safety.envelope import SafetyEnvelope
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
        self.frames = LatestFrame(settings.loop.max_image_pixels)
        self._status = LoopStatus(settings, clock, self.steady, self.stamp_clock, self.health,
                                  self.frames, sim_time)
        # The pipeline checks decisions against it, the executor each mission step.
        self.envelope = SafetyEnvelope(settings.limits, clock)
        self.vehicle = VehicleState()
        self.intrinsics: CameraIntrinsics | None = None  # from camera_info, once it arrives
        self.state = INACTIVE
        self.sources: list[Decider] = []
        # With execute_missions, published decisions are flown: `execute` publishes what the
        # executor says (setpoints, vehicle commands, mission status).
        # A step whose target is not in view looks for it through the pipeline's detector; the
        # pipeline, made after it, lets a mission's first step search too (`searches`).
        self.executor = MissionExecutor(ExecutorSettings.from_params(settings.values),
                                        self.envelope, lambda label: self.pipeline.find(label)) \
            if settings.values['execute_missions'] else None
        self._execute = execute
        self._executor_lock = threading.Lock()
        self.pipeline = self._make_pipeline([])
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
        # Why the vehicle link will not fly a decision (an autopilot takeover not resumed), set
        # by the node's px4/mavros link: said in the decision's notes before it is published.
        self.vehicle_refusal: Callable[[Decision], str | None] | None = None
        # The operator's resume after a takeover, handed to that link: what it says.
        self.vehicle_resume: Callable[[], str] | None = None

    # Lifecycle

    def activate(self) -> None:
        """Build (load) the decision sources and start deciding."""
        sources = self._build(self.settings, self.health)
        pipeline = self._make_pipeline(sources)  # loads the detector: commands are not held up
        with self._lock:
            self.sources = sources
            self.pipeline = pipeline
            self.state = ACTIVE
        self._status.activated()
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
        self.envelope.drop_confirmation()  # a reactivated node asks again
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
        self.frames.apply(settings.loop.max_image_pixels)
        self._status.apply(settings)
        self.pipeline.apply(settings)  # the limits, to the envelope
        if self.executor is not None:
            with self._executor_lock:
                self.executor.apply(ExecutorSettings.from_params(settings.values))
        configure_sources(self.sources, settings.values)

    # Inputs (any thread)

    def command(self, payload: bytes | str, command_id: str | None = None) -> str:
        """A command as received: serialized std_msgs/String bytes, or text; its id (the
        decision's `command.id`; `command_id` names it, e.g. for an action goal waiting on it).
        """
        command = _Command(command_id or str(uuid.uuid4()), '', self.steady.now())
        self._status.received()
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
            self._status.reflex()
            preempted = self._preempted(running, superseded)
            notes = [self._resume()] if reflex.resume else []
            self._emit(self.pipeline.reflex(reflex, text=command.text, command_id=command.id,
                                            received=command.received, preempted=preempted,
                                            notes=notes),
                       at_once=True)
        for waiting in superseded:
            self._refuse(Refusal(RefusalKind.SUPERSEDED, f'superseded by {why}'), waiting)
        return True

    def _resume(self) -> str:
        """Hand an operator's resume to the vehicle link; what it says, for the notes."""
        if self.vehicle_resume is None:
            return 'vehicle link: no autopilot link to resume (vehicle_interface json)'
        return f'vehicle link: {self.vehicle_resume()}'

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
            self._status.frame_rejected(str(exc))
            return str(exc)
        self._status.frame_stored()
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
        if self._status.heartbeat(sender) and self.executor is not None:
            with self._executor_lock:
                self.executor.clear_failsafe()

    def camera_info(self, k: list[float], width: int, height: int) -> None:
        """The camera's intrinsics (sensor_msgs/CameraInfo K and size), to place targets and
        say how far what a scene answer names is."""
        self.intrinsics = CameraIntrinsics.from_camera_info(k, width, height)
        if self.executor is not None:
            with self._executor_lock:
                self.executor.set_intrinsics(self.intrinsics)

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

    def current(self, out: ExecutorOutput) -> bool:
        """Whether an executor output computed earlier still speaks for the executor (no
        mission started or ended since); the vehicle link asks under its own lock."""
        if self.executor is None:
            return True
        with self._executor_lock:
            return self.executor.current(out)

    def mission_status(self) -> dict | None:
        """The executor's status (the ~/mission heartbeat), or None when not executing."""
        if self.executor is None:
            return None
        with self._executor_lock:
            return self.executor.status(self.clock.now())

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

    def _refuse(self, refusal: Refusal, command: _Command) -> None:
        self._status.refused()
        self._emit(self.pipeline.refuse(refusal, text=command.text, command_id=command.id,
                                        received=command.received))

    def _emit(self, decision: Decision, *, at_once: bool = False) -> None:
        """Publish `decision` and hand it to the executor (`at_once`: also run the executor's
        first tick now, not at the next setpoint timer tick)."""
        refusal = self.vehicle_refusal(decision) if self.vehicle_refusal is not None \
            and self.executor is not None else None
        if refusal is not None:
            decision = replace(decision, notes=(*decision.notes, f'vehicle link: {refusal}'))
        self._status.published(decision)
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
        """Link loss and failsafe escalation, the clock, camera rate and staleness (see
        `LoopStatus.supervise`); a failsafe that is due preempts the commands."""
        proposal = self._status.supervise(self.state == ACTIVE, camera_publishers, camera_topic)
        if proposal is not None:
            self._preempt(_Failsafe(proposal, proposal.rationale))

    def _preempt(self, failsafe: _Failsafe) -> None:
        with self._lock:
            self._failsafes.append(failsafe)
            self._cancel_running(Refusal(RefusalKind.PREEMPTED,
                                         f'preempted by the failsafe {failsafe.proposal.action}'))
        self._wake()

    # Status

    def status(self, node: str = '', vehicle_link: Mapping[str, Any] | None = None
               ) -> dict[str, Any]:
        """The heartbeat published on ~/status (with the vehicle link's status when the node
        runs one)."""
        with self._lock:
            state, queued, busy = self.state, len(self._commands), self._draining
            sources = [s.source for s in self.sources]
        return self._status.status(node, state, busy, queued, sources, vehicle_link)

    # Internals

    def _skip_source(self, source: str) -> str | None:
        if source == 'remote' and self._status.link_lost():
            return 'ground link lost'
        return None

    def _make_pipeline(self, sources: list[Decider]) -> DecisionPipeline:
        pipeline = DecisionPipeline.from_settings(
            self.settings, sources, self.frames, self.clock, self.stamp_clock, self.health,
            lambda: self.vehicle, skip=self._skip_source, steady=self.steady,
            envelope=self.envelope, camera=lambda: self.intrinsics,
            searches=self.executor is not None)
        if pipeline.perception is not None:
            pipeline.perception.on_scene = self._detections
        return pipeline
