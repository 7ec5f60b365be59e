"""The mission executor: published decisions in, setpoints, vehicle commands and progress out.

No ROS, no threads: the node calls `submit` for every decision it publishes and `update` on a
timer (`setpoint_rate_hz`, at least 10 Hz), each with the clock reading and the latest
`VehicleState`, and publishes what comes back:

    executor = MissionExecutor(ExecutorSettings.from_params(values), envelope)
    executor.set_intrinsics(CameraIntrinsics.from_camera_info(msg.k, msg.width, msg.height))
    out = executor.submit(decision, now, vehicle)   # on ~/decision
    out = executor.update(now, vehicle)             # on the setpoint timer
    out.setpoint   -> Setpoint | None: local ENU x, y, z, yaw to stream (setpoint_position)
    out.commands   -> list of dicts: {'command': 'takeoff', 'altitude_m': 20.0}, ...
    out.statuses   -> list of dicts: each change of the mission status, in order (~/mission)
    executor.status(now)                            # the same dict, for the 2 Hz heartbeat

A mission goes pending -> running step k (-> holding while the pose is lost) -> completed,
aborted or preempted. A single decision is a one-step mission; answer, clarify and reject
execute nothing and leave the running mission alone. `stop`, `hold` and every new decision
preempt the running mission at once; a failsafe decision preempts everything, and until
`clear_failsafe()` no other decision preempts it. Each step is checked again against the live
state when it starts (`SafetyEnvelope.check_step`); a refused step aborts the mission, and no
setpoint is ever produced for it. A step on a named target that has no box (not in view)
searches for it through the injected finder (`mission.search`) before it gives up. Whenever
the executor stops streaming setpoints while the vehicle may be in the air it sends
`{'command': 'hold'}` first, so the autopilot does not meet an offboard-loss failsafe.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ministral_node.decision import MISSION, REFLEX, Decision, Proposal, Target, steps_of
from ministral_node.inputs.vehicle import VehicleState
from ministral_node.mission.projection import (
    CameraIntrinsics,
    CameraMount,
    ProjectionError,
    angle_between,
    box_center,
    project_to_ground,
)
from ministral_node.mission.search import (
    PATTERN,
    Finder,
    TargetSearch,
    Tolerances,
    path_length,
    turn_step_deg,
    viewpoints,
)
from ministral_node.safety.envelope import SafetyEnvelope
from ministral_node.safety.mission_checks import goto_offset

PENDING, RUNNING, HOLDING = 'pending', 'running', 'holding'
COMPLETED, ABORTED, PREEMPTED = 'completed', 'aborted', 'preempted'
IDLE = 'idle'
FINAL = frozenset({COMPLETED, ABORTED, PREEMPTED})
NOT_EXECUTED = frozenset({'answer', 'clarify', 'reject'})
# Step modes: setpoint modes stream positions; autopilot modes hand the flight to a mode.
_SETPOINT_MODES = frozenset({'position', 'photos', 'orbit', 'search'})
# Steps on a named target that search for it when it has no box (and a finder can look).
SEARCHING_ACTIONS = frozenset({'goto', 'land', 'follow', 'orbit'})
# Commands that hand the vehicle to an autopilot mode (the setpoint stream may stop).
_MODE_COMMANDS = frozenset({'land', 'return_to_home', 'hold'})


@dataclass(frozen=True)
class ExecutorSettings:
    """What the executor needs, from the `# Mission executor` and safety parameters."""

    arrival_tolerance_m: float = 1.0
    altitude_tolerance_m: float = 0.5
    yaw_tolerance_deg: float = 5.0
    landed_altitude_m: float = 0.3
    photo_interval_s: float = 1.0
    default_speed_mps: float = 5.0
    max_horizontal_speed_mps: float = 12.0
    max_vertical_speed_mps: float = 3.0
    yaw_rate_deg_s: float = 30.0
    step_timeout_factor: float = 2.0
    step_timeout_margin_s: float = 10.0
    pose_timeout_s: float = 1.0
    max_projection_distance_m: float = 300.0
    default_search_radius_m: float = 30.0  # a target search's pattern without a search step
    search_settle_s: float = 1.0  # still at a viewpoint this long before a search looks
    mount: CameraMount = field(default_factory=CameraMount)

    @property
    def tolerances(self) -> Tolerances:
        """When a setpoint or a search's viewpoint counts as reached."""
        return Tolerances(self.arrival_tolerance_m, self.altitude_tolerance_m,
                          self.yaw_tolerance_deg, self.search_settle_s)

    @classmethod
    def from_params(cls, values: Mapping[str, Any]) -> ExecutorSettings:
        """From parameter values (missing ones keep the defaults above)."""
        names = [f for f in cls.__dataclass_fields__ if f != 'mount']
        return cls(**{n: float(values[n]) for n in names if n in values},
                   mount=CameraMount.from_params(values))


@dataclass(frozen=True)
class Setpoint:
    """A position setpoint in the local ENU frame (MAVROS `setpoint_position/local`)."""

    x: float
    y: float
    z: float
    yaw: float  # radians, ENU (0 = east, counter-clockwise)

    def to_dict(self) -> dict:
        return {'x': self.x, 'y': self.y, 'z': self.z, 'yaw': self.yaw}


@dataclass
class ExecutorOutput:
    """What the node publishes after one call."""

    setpoint: Setpoint | None = None
    commands: list[dict] = field(default_factory=list)
    statuses: list[dict] = field(default_factory=list)
    in_place: bool = False  # the setpoint holds the vehicle where it is (a hold or stop step)
    generation: int = 0  # MissionExecutor.generation when computed (see MissionExecutor.current)


def enu_yaw(heading_deg: float) -> float:
    """ENU yaw (radians, counter-clockwise from east) of a compass heading."""
    return math.atan2(math.cos(math.radians(heading_deg)), math.sin(math.radians(heading_deg)))


@dataclass
class _Plan:
    """How one step runs, fixed when it starts (targets from the pose at that moment)."""

    mode: str  # position, photos, orbit, land, rtl, instant
    started: float
    timeout_s: float | None
    target: tuple[float, float, float] | None = None
    heading: float | None = None
    check_heading: bool = False
    hold_s: float | None = None  # position: also wait this long once there (None: no wait)
    endless: bool = False  # hold without duration, follow: until preempted
    in_place: bool = False  # hold or stop: an autopilot's own hold mode does the same
    photos: int = 0
    sent: int = 0
    center: tuple[float, float] | None = None
    radius: float = 0.0
    omega: float = 0.0  # rad/s, ENU (negative is clockwise)
    angle0: float = 0.0
    land_after: bool = False  # land on a target: fly above it first
    arrived_at: float | None = None
    initial: float = 0.0  # the size of the job, for progress
    progress: float = 0.0
    paused_s: float = 0.0
    search: TargetSearch | None = None  # mode search: the target looked for


@dataclass
class _Mission:
    mission_id: str
    decision_id: str
    source: str
    steps: list[Proposal]
    state: str = PENDING
    index: int = 0
    plan: _Plan | None = None
    reason: str = ''
    held_since: float | None = None
    reference: tuple[float, float, float] | None = None  # where the last step was sent
    # The pose its first step started from: where the decision's target boxes were seen.
    seen_from: tuple[tuple[float, float, float] | None, float | None] | None = None


class MissionExecutor:
    """Runs one mission at a time from published decisions; see the module docstring.

    `envelope` checks each step again when it starts (None: steps are not checked again); it
    is the envelope the decisions passed, and takes new limits itself (`SafetyEnvelope.apply`).
    `finder` looks for a named target in the newest camera frame: with one, a step on a target
    that has no box searches for it (`mission.search`) instead of being refused.
    """

    def __init__(self, settings: ExecutorSettings | None = None,
                 envelope: SafetyEnvelope | None = None, finder: Finder | None = None) -> None:
        self.settings = settings or ExecutorSettings()
        self._envelope = envelope
        self._finder = finder
        self.intrinsics: CameraIntrinsics | None = None
        self.speed_mps = self.settings.default_speed_mps
        self.failsafe_active = False
        self._mission: _Mission | None = None
        self._count = 0
        self.generation = 0  # missions started or ended so far
        self._last_status: dict | None = None
        self._last_note = ''
        self._streaming = False  # the last update sent a setpoint

    # Inputs

    def set_intrinsics(self, intrinsics: CameraIntrinsics | None) -> None:
        """The camera's intrinsics from `camera_info` (None when unknown)."""
        self.intrinsics = intrinsics

    def apply(self, settings: ExecutorSettings) -> None:
        """Take new settings (a parameter change)."""
        self.settings = settings

    def abort(self, reason: str, now: float, vehicle: VehicleState | None) -> ExecutorOutput:
        """End the running mission (the node stops deciding); `hold` if setpoints were
        streaming, so the autopilot is not left without them."""
        out = ExecutorOutput()
        mission = self._mission
        if mission is not None and mission.state not in FINAL:
            self._end(mission, ABORTED, reason)
        self._guard_stream(out, self._fresh(vehicle, now))
        return self._finish(out, now)

    def current(self, out: ExecutorOutput) -> bool:
        """Whether `out` still speaks for the executor: no mission started or ended since it
        was computed. An output handed on after its mission was aborted (a setpoint timer tick
        racing an autopilot takeover) is stale: sent, it would fly the ended mission on."""
        return out.generation == self.generation

    def clear_failsafe(self) -> None:
        """Let operator decisions preempt again (the watchdog recovered)."""
        self.failsafe_active = False

    def submit(self, decision: Decision, now: float,
               vehicle: VehicleState | None) -> ExecutorOutput:
        """Take a published decision: a new mission, or nothing for answer/clarify/reject."""
        action = decision.action
        failsafe = decision.source == 'failsafe'
        out = ExecutorOutput()
        if action in NOT_EXECUTED:
            self._last_note = f'decision {decision.id} ({action}) executes nothing'
            return self._finish(out, now)
        if self.failsafe_active and not failsafe:
            self._last_note = f'decision {decision.id} ({action}) ignored: a failsafe is running'
            return self._finish(out, now)
        proposal = decision.proposal
        current = self._mission
        if current is not None and current.state not in FINAL:
            what = 'failsafe' if failsafe else f'decision {decision.id}'
            if any(a.source == REFLEX for a in decision.attempts):
                what = f'reflex, decision {decision.id}'
            self._end(current, PREEMPTED, f'preempted by {what} ({action})')
            self._finish(out, now)
        if failsafe:
            self.failsafe_active = True
        self._count += 1
        self.generation += 1
        self._mission = _Mission(f'mission-{self._count}', decision.id, decision.source,
                                 steps_of(proposal))
        kind = 'mission' if proposal.action == MISSION else 'single decision'
        self._mission.reason = f'{kind} received; starts on the next update'
        self._last_note = ''
        return self._finish(out, now)

    def update(self, now: float, vehicle: VehicleState | None) -> ExecutorOutput:
        """One tick: advance the running mission and say what to publish."""
        out = self._tick(ExecutorOutput(), now, vehicle)
        self._guard_stream(out, self._fresh(vehicle, now))
        return self._finish(out, now)

    def _guard_stream(self, out: ExecutorOutput, state: VehicleState) -> None:
        """Send `hold` when the setpoint stream stops and nothing else takes the vehicle
        (a mission ended, or a setpoint step gave way to an instant one)."""
        handed_over = any(c['command'] in _MODE_COMMANDS for c in out.commands)
        if self._streaming and out.setpoint is None and not handed_over \
                and state.in_air is not False:
            out.commands.append({'command': 'hold'})
        self._streaming = out.setpoint is not None

    # Status

    @property
    def active(self) -> bool:
        """Whether a mission is pending or running (the node streams setpoints)."""
        return self._mission is not None and self._mission.state not in FINAL

    def status(self, now: float) -> dict:
        """The mission status dict published on ~/mission."""
        mission = self._mission
        if mission is None:
            return {'mission_id': None, 'decision_id': None, 'source': None, 'state': IDLE,
                    'step_index': 0, 'step_count': 0, 'step_action': None, 'progress': 0.0,
                    'step_progress': 0.0, 'reason': self._last_note, 'stamp': now}
        count = len(mission.steps)
        index = min(mission.index, count - 1)
        step_progress = mission.plan.progress if mission.plan is not None else 0.0
        if mission.state == COMPLETED:
            step_progress = 1.0
        done = count if mission.state == COMPLETED else mission.index + step_progress
        return {'mission_id': mission.mission_id, 'decision_id': mission.decision_id,
                'source': mission.source, 'state': mission.state, 'step_index': index,
                'step_count': count, 'step_action': mission.steps[index].action,
                'progress': round(min(1.0, done / count), 3),
                'step_progress': round(step_progress, 3), 'reason': mission.reason,
                'note': self._last_note, 'stamp': now}

    # Internals

    def _finish(self, out: ExecutorOutput, now: float) -> ExecutorOutput:
        out.generation = self.generation
        status = self.status(now)
        key = {k: v for k, v in status.items() if k not in ('progress', 'step_progress',
                                                             'stamp')}
        if key != self._last_status:
            self._last_status = key
            out.statuses.append(status)
        return out

    def _end(self, mission: _Mission, state: str, reason: str) -> None:
        mission.state, mission.reason = state, reason
        self.generation += 1

    def _fresh(self, vehicle: VehicleState | None, now: float) -> VehicleState:
        return (vehicle or VehicleState()).fresh(now, self.settings.pose_timeout_s, math.inf)

    def _tick(self, out: ExecutorOutput, now: float, vehicle: VehicleState | None
              ) -> ExecutorOutput:
        mission = self._mission
        if mission is None or mission.state in FINAL:
            return out
        state = self._fresh(vehicle, now)
        for _ in range(len(mission.steps) + 1):  # instant steps finish within one tick
            if mission.plan is None:
                step = mission.steps[mission.index]
                if state.position_m is None and _needs_pose(step) and (
                        step.target is None or self._searches(step)):
                    self._hold_for_pose(mission, out, now)
                    return out
                if not self._start_step(mission, out, now, state):
                    return out
            plan = mission.plan
            if plan.mode in _SETPOINT_MODES and state.position_m is None:
                self._hold_for_pose(mission, out, now)
                return out
            if mission.state == HOLDING:
                plan.paused_s += now - mission.held_since
                mission.state, mission.held_since = RUNNING, None
                mission.reason = f'pose back: steps[{mission.index}] ({self._action(mission)}) ' \
                                 'resumed'
            if self._timed_out(plan, now):
                self._abort(mission, out, state, f'steps[{mission.index}] '
                            f'({self._action(mission)}) timed out after '
                            f'{plan.timeout_s:.0f} s')
                return out
            if plan.mode == 'search':
                if self._search(mission, plan, out, now, state):
                    return out
                plan = mission.plan  # found: the step's own plan runs from this tick
            setpoint, done = self._run(plan, out, now, state)
            if not done:
                out.setpoint, out.in_place = setpoint, plan.in_place
                return out
            mission.index += 1
            mission.plan = None
            mission.reference = plan.target if plan.mode in ('position', 'photos') else None
            if mission.index >= len(mission.steps):
                self._end(mission, COMPLETED, f'all {len(mission.steps)} steps done')
                return out
        return out

    def _action(self, mission: _Mission) -> str:
        return mission.steps[min(mission.index, len(mission.steps) - 1)].action

    def _hold_for_pose(self, mission: _Mission, out: ExecutorOutput, now: float) -> None:
        if mission.state != HOLDING:
            mission.state, mission.held_since = HOLDING, now
            mission.reason = (f'vehicle pose lost or stale (older than '
                              f'{self.settings.pose_timeout_s:g} s) at steps[{mission.index}] '
                              f'({self._action(mission)}): holding until it is back')
            out.commands.append({'command': 'hold'})

    def _abort(self, mission: _Mission, out: ExecutorOutput, state: VehicleState,
               reason: str) -> None:
        self._end(mission, ABORTED, reason)
        if state.in_air is not False:
            out.commands.append({'command': 'hold'})

    def _timed_out(self, plan: _Plan, now: float) -> bool:
        return plan.timeout_s is not None and now - plan.started - plan.paused_s > plan.timeout_s

    def _start_step(self, mission: _Mission, out: ExecutorOutput, now: float,
                    state: VehicleState) -> bool:
        step = self._seen_from_here(mission, state)
        action = step.action
        note = ''
        if self._envelope is not None and mission.source != 'failsafe':
            step, report = self._envelope.check_step(step, mission.source, state)
            if report.refused is not None:
                self._abort(mission, out, state, f'steps[{mission.index}] ({action}) refused: '
                                                 f'{report.refused}')
                return False
            if report.changes:
                note = '; safety: ' + '; '.join(f'{c.field} {c.requested} -> {c.applied}'
                                                for c in report.changes)
                mission.steps[mission.index] = step
        try:
            mission.plan = self._search_plan(mission, step, now, state) \
                if self._searches(step) else \
                self._plan(step, now, state, out, mission.reference)
        except ProjectionError as exc:
            self._abort(mission, out, state, f'steps[{mission.index}] ({action}) refused: {exc}')
            return False
        mission.state = RUNNING
        mission.reason = f'steps[{mission.index}] ({action}) started{note}'
        return True

    def _timeout(self, horizontal: float, vertical: float, turn: float = 0.0,
                 extra: float = 0.0) -> float:
        s = self.settings
        speed = max(min(self.speed_mps, s.max_horizontal_speed_mps), 0.1)
        travel = horizontal / speed + vertical / s.max_vertical_speed_mps \
            + turn / s.yaw_rate_deg_s
        return s.step_timeout_factor * travel + extra + s.step_timeout_margin_s

    def _position_plan(self, now: float, state: VehicleState,
                       target: tuple[float, float, float], heading: float | None,
                       check_heading: bool = False, **extra: Any) -> _Plan:
        here = state.position_m
        current = state.heading_deg
        heading = heading if heading is not None else current
        horizontal = math.dist(here[:2], target[:2])
        vertical = abs(here[2] - target[2])
        turn = angle_between(current, heading) if check_heading and current is not None \
            and heading is not None else 0.0
        plan = _Plan('position', now, self._timeout(horizontal, vertical, turn,
                                                    extra.pop('extra_s', 0.0)),
                     target=target, heading=heading, check_heading=check_heading,
                     initial=max(horizontal + vertical + turn / 10.0, 1e-6), **extra)
        return plan

    def _plan(self, step: Proposal, now: float, state: VehicleState, out: ExecutorOutput,
              reference: tuple[float, float, float] | None = None) -> _Plan:
        """Targets are taken from `reference` (where the step before was sent, within the
        tolerances of the live pose) so small arrival errors do not add up."""
        action, params = step.action, step.params
        here = state.position_m
        if here is not None and reference is not None:
            here = reference
        if action == 'set_speed':
            self.speed_mps = params['speed_mps']
            out.commands.append({'command': 'set_speed', 'speed_mps': params['speed_mps']})
            return _Plan('instant', now, None)
        if action == 'return_to_home':
            out.commands.append({'command': 'return_to_home'})
            distance = 0.0 if here is None else math.hypot(*here[:2])
            altitude = 0.0 if here is None else here[2]
            return _Plan('rtl', now, self._timeout(distance, 2 * altitude + 30.0),
                         initial=max(distance + altitude, 1e-6))
        if action == 'land' and step.target is None:
            out.commands.append({'command': 'land'})
            altitude = 0.0 if here is None else here[2]
            return _Plan('land', now, self._timeout(0.0, altitude), initial=max(altitude, 1e-6))
        if action == 'takeoff':
            out.commands.append({'command': 'takeoff', 'altitude_m': params['altitude_m']})
            return self._position_plan(now, state, (here[0], here[1], params['altitude_m']),
                                       None)
        if action == 'change_altitude':
            altitude = params['altitude_m'] if 'altitude_m' in params else \
                here[2] + params['delta_m']
            return self._position_plan(now, state, (here[0], here[1], altitude), None)
        if action == 'rotate':
            heading = params['heading_deg'] if 'heading_deg' in params else \
                (state.heading_deg or 0.0) + params['yaw_deg']
            return self._position_plan(now, state, here, heading % 360.0, check_heading=True)
        if action in ('hold', 'stop'):
            duration = params.get('duration_s')
            return self._position_plan(now, state, here, None, hold_s=duration,
                                       endless=duration is None, in_place=True,
                                       extra_s=duration or 0.0)
        if action == 'capture_photo':
            count = params['count']
            plan = self._position_plan(now, state, here, None,
                                       extra_s=count * self.settings.photo_interval_s)
            plan.mode, plan.photos, plan.initial = 'photos', count, count
            return plan
        if action == 'goto' and step.target is None:
            offset = goto_offset(step, state.heading_deg)
            if offset is None:
                raise ProjectionError('vehicle heading unknown: body-frame offsets refused')
            return self._position_plan(now, state, tuple(p + d for p, d in zip(here, offset)),
                                       None)
        if action in ('goto', 'land', 'follow'):
            ground = self._ground(step, state)
            goal = ground
            if action == 'follow':
                goal = self._standoff(here, ground, params['distance_m'])
            return self._position_plan(now, state, (goal[0], goal[1], here[2]), None,
                                       endless=action == 'follow', land_after=action == 'land')
        if action in ('orbit', 'search'):
            radius = params['radius_m']
            center = self._ground(step, state) if step.target is not None and \
                step.target.box is not None else here[:2]
            speed = max(min(self.speed_mps, self.settings.max_horizontal_speed_mps), 0.1)
            sign = 1.0 if params.get('direction') == 'counterclockwise' else -1.0
            angle0 = math.atan2(here[1] - center[1], here[0] - center[0]) \
                if math.dist(here[:2], center) > 1e-3 else 0.0
            turn_s = 2 * math.pi * radius / speed
            return _Plan('orbit', now, self._timeout(radius, 0.0, extra=turn_s),
                         target=(center[0], center[1], here[2]), center=center, radius=radius,
                         omega=sign * speed / max(radius, 0.1), angle0=angle0,
                         initial=2 * math.pi)
        raise ProjectionError(f'the executor cannot run {action}')

    def _seen_from_here(self, mission: _Mission, state: VehicleState) -> Proposal:
        """The current step, its target's box dropped when the vehicle has moved or turned
        since the mission began: the box was seen from there and no longer places the target
        (the step looks again through the finder, or is refused)."""
        step = mission.steps[mission.index]
        here = (state.position_m, state.heading_deg)
        if mission.seen_from is None:
            mission.seen_from = here
            return step
        if step.target is None or step.target.box is None or not self._moved(
                mission.seen_from, here):
            return step
        step = replace(step, target=replace(step.target, box=None))
        mission.steps[mission.index] = step
        return step

    def _moved(self, then: tuple[tuple[float, float, float] | None, float | None],
               now: tuple[tuple[float, float, float] | None, float | None]) -> bool:
        (was, heading_was), (is_, heading) = then, now
        s = self.settings
        if is_ is None or heading is None:
            return False  # unknown now: the step's own checks refuse it with that reason
        if was is None or heading_was is None:
            return True
        return math.dist(was, is_) > s.arrival_tolerance_m or \
            angle_between(heading_was, heading) > s.yaw_tolerance_deg

    def _searches(self, step: Proposal) -> bool:
        """Whether `step` looks for its target first: a named target without a box."""
        return self._finder is not None and step.action in SEARCHING_ACTIONS and \
            step.target is not None and step.target.box is None

    def _search_plan(self, mission: _Mission, step: Proposal, now: float,
                     state: VehicleState) -> _Plan:
        """A full turn here, then the mission's own search pattern: a circle of the radius of
        its `search` step, else `default_search_radius_m`, as the envelope allows here."""
        here = state.position_m
        if here is None or state.heading_deg is None:
            raise ProjectionError('vehicle pose or heading unknown: cannot search for the '
                                  'target')
        if self.intrinsics is None:  # what it found could not be placed
            raise ProjectionError('no camera intrinsics (camera_info) to place the target: '
                                  'not searching for it')
        if state.in_air is False:  # the pattern would fly at ground level
            raise ProjectionError(f'the vehicle is on the ground: the search for '
                                  f'{step.target.label!r} needs it in the air (take off first)')
        own = next((s.params.get('radius_m') for s in mission.steps if s.action == 'search'
                    and s.params.get('radius_m')), None)
        radius = float(own or self.settings.default_search_radius_m)
        refused = None
        if self._envelope is not None and mission.source != 'failsafe':
            pattern, report = self._envelope.check_step(
                Proposal('search', {'radius_m': radius}, step.target, step.confidence,
                         'the search pattern of a target not in view'), mission.source, state)
            refused = report.refused
            radius = 0.0 if refused is not None else float(pattern.params['radius_m'])
        ending = f'after a full turn (no search pattern: {refused})' if refused is not None \
            else f'after a full turn and a search of {radius:g} m'
        s = self.settings
        views = viewpoints(here, state.heading_deg, turn_step_deg(self.intrinsics), radius)
        search = TargetSearch(step.target.label, views, s.tolerances, ending)
        timeout = self._timeout(path_length(views, here), 0.0, 360.0 * (2 if radius else 1),
                                extra=len(views) * s.search_settle_s)
        return _Plan('search', now, timeout, target=here, initial=float(len(views)),
                     search=search)

    def _search(self, mission: _Mission, plan: _Plan, out: ExecutorOutput, now: float,
                state: VehicleState) -> bool:
        """One tick of a target search; False when the target was found and the step's own
        plan replaced the search (it runs from this tick), True otherwise (searching, or the
        mission aborted)."""
        search = plan.search
        prefix = f'steps[{mission.index}] ({self._action(mission)})'
        tick = search.advance(now, state, self._finder)
        if tick.failed is not None:
            self._abort(mission, out, state, f'{prefix}: {tick.failed}')
            return True
        if tick.found is None:
            view = tick.view
            plan.progress = search.progress
            phase = 'its search pattern' if view.phase == PATTERN else 'a full turn'
            mission.reason = f'{prefix}: {search.label!r} not in view: searching ({phase})'
            out.setpoint = Setpoint(view.east, view.north, view.up, enu_yaw(view.heading_deg))
            return True
        step = mission.steps[mission.index]
        step = replace(step, target=Target(step.target.label, tick.found))
        mission.steps[mission.index] = step
        try:
            mission.plan = self._plan(step, now, state, out)
        except ProjectionError as exc:
            self._abort(mission, out, state, f'{prefix}: {search.label!r} found but refused: '
                                             f'{exc}')
            return True
        mission.reason = f'{prefix} started: {search.label!r} found after ' \
                         f'{now - plan.started - plan.paused_s:.0f} s of search ' \
                         f'({search.looks} looks)'
        return False

    def _ground(self, step: Proposal, state: VehicleState) -> tuple[float, float]:
        if step.target is None or step.target.box is None:
            raise ProjectionError(f'target {step.target.label if step.target else ""!r} has no '
                                  'image box to place it')
        return project_to_ground(box_center(step.target.box), self.intrinsics,
                                 self.settings.mount, state,
                                 self.settings.max_projection_distance_m)

    @staticmethod
    def _standoff(here: tuple[float, float, float], ground: tuple[float, float],
                  distance: float | None) -> tuple[float, float]:
        gap = math.dist(here[:2], ground)
        keep = distance or 0.0
        if gap <= keep or gap < 1e-6:
            return here[0], here[1]
        k = (gap - keep) / gap
        return here[0] + k * (ground[0] - here[0]), here[1] + k * (ground[1] - here[1])

    def _arrived(self, plan: _Plan, state: VehicleState) -> bool:
        return self.settings.tolerances.reached(
            state, plan.target, plan.heading if plan.check_heading else None)

    def _run(self, plan: _Plan, out: ExecutorOutput, now: float, state: VehicleState
             ) -> tuple[Setpoint | None, bool]:
        """The setpoint for this tick and whether the step is done."""
        if plan.mode == 'instant':
            return None, True
        if plan.mode in ('land', 'rtl'):
            here = state.position_m
            landed = state.in_air is False or (here is not None and
                                               here[2] <= self.settings.landed_altitude_m)
            home = plan.mode == 'land' or (here is not None and math.hypot(*here[:2])
                                           <= self.settings.arrival_tolerance_m)
            if here is not None:
                left = here[2] + (0.0 if plan.mode == 'land' else math.hypot(*here[:2]))
                plan.progress = max(0.0, min(1.0, 1.0 - left / plan.initial))
            return None, landed and home
        if plan.mode == 'orbit':
            elapsed = now - plan.started - plan.paused_s
            swept = min(abs(plan.omega) * elapsed, 2 * math.pi)
            plan.progress = swept / (2 * math.pi)
            angle = plan.angle0 + math.copysign(swept, plan.omega)
            x = plan.center[0] + plan.radius * math.cos(angle)
            y = plan.center[1] + plan.radius * math.sin(angle)
            yaw = math.atan2(plan.center[1] - y, plan.center[0] - x)
            return Setpoint(x, y, plan.target[2], yaw), swept >= 2 * math.pi
        setpoint = Setpoint(*plan.target, enu_yaw(plan.heading if plan.heading is not None
                                                  else (state.heading_deg or 0.0)))
        here = state.position_m
        left = math.dist(here, plan.target)
        if plan.check_heading and plan.heading is not None and state.heading_deg is not None:
            left += angle_between(state.heading_deg, plan.heading) / 10.0
        arrived = self._arrived(plan, state)
        if plan.mode == 'photos':
            due = plan.started + plan.paused_s + plan.sent * self.settings.photo_interval_s
            if plan.sent < plan.photos and now >= due:
                plan.sent += 1
                out.commands.append({'command': 'capture_photo', 'index': plan.sent,
                                     'count': plan.photos})
            plan.progress = plan.sent / plan.photos
            return setpoint, plan.sent >= plan.photos
        plan.progress = max(0.0, min(1.0, 1.0 - left / plan.initial))
        if not arrived:
            return setpoint, False
        if plan.arrived_at is None:
            plan.arrived_at = now
        if plan.land_after:
            plan.mode, plan.initial = 'land', max(here[2], 1e-6)
            # The descent gets its own time: the leg's timeout was for flying there.
            plan.started, plan.paused_s = now, 0.0
            plan.timeout_s = self._timeout(0.0, here[2])
            out.commands.append({'command': 'land'})
            return None, False
        if plan.endless:
            plan.progress = 0.0 if plan.hold_s is None else plan.progress
            return setpoint, False
        if plan.hold_s is not None:
            waited = now - plan.started - plan.paused_s
            plan.progress = min(1.0, waited / plan.hold_s) if plan.hold_s > 0 else 1.0
            return setpoint, waited >= plan.hold_s
        return setpoint, True


def _needs_pose(step: Proposal) -> bool:
    """Whether a step streams setpoints (so it waits for a pose; a step on a target with a box
    is refused instead: its box was seen from the pose of the decision)."""
    autopilot = step.action in ('set_speed', 'return_to_home') or (
        step.action == 'land' and step.target is None)
    return not autopilot
