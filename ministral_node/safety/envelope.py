"""The safety envelope: every proposal passes through it before it is published.

Values outside the limits are clamped, or the proposal becomes a `reject` (or a `clarify`
asking the operator to confirm); the `SafetyReport` records each change and why. Failsafe
proposals pass unchanged and are only recorded. The limits come from validated parameters
and are immutable: nothing in a proposal can change them.

Frames: vehicle positions are metres east, north and up from home; compass headings are
degrees clockwise from north; goto offsets are body frame (forward, right, up).
"""

from __future__ import annotations

import copy
import math
import threading
import unicodedata
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import InitVar, dataclass, field, fields
from typing import Any

from ministral_node.decision import (
    SOURCES,
    DecisionError,
    Proposal,
    SafetyChange,
    SafetyReport,
    answer,
    clarify,
    reject,
    shorten,
    steps_of,
    validate_proposal,
)
from ministral_node.geometry import Point, polygon_from_flat
from ministral_node.inputs.vehicle import VehicleState
from ministral_node.parameters import defaults, validate
from ministral_node.safety.geofence import Geofence
from ministral_node.safety.mission_checks import check_mission, is_mission
from ministral_node.timing import Clock, MonotonicClock

# No field of any action has a meaningful value this large (1000 km, 11 days, ...).
ABSURD_MAGNITUDE = 1e6
# Always allowed: the abort, and the replies the envelope itself produces.
ALWAYS_ALLOWED = frozenset({'stop', 'answer', 'clarify', 'reject'})
# Refused while the vehicle is known to be on the ground (take off first, or say so: a mission
# that takes off first is checked step by step from the state after the takeoff).
NEEDS_FLIGHT = frozenset({'goto', 'change_altitude', 'rotate', 'orbit', 'follow', 'search',
                          'capture_photo'})
# A leg or radius cut below this is not worth flying: the proposal is refused instead.
MIN_LEG_M = 0.5
# Marks limits built from values `parameters.validate` accepted (see `SafetyLimits.checked`).
_VALIDATED = object()


@dataclass(frozen=True)
class SafetyLimits:
    """The envelope's limits, one field per safety parameter (see `parameters.py`)."""

    min_altitude_m: float
    max_altitude_m: float
    max_horizontal_speed_mps: float
    max_vertical_speed_mps: float
    geofence_max_distance_m: float
    geofence_polygon: tuple[float, ...]
    geofence_margin_m: float
    max_leg_without_position_m: float
    allowed_actions: tuple[str, ...]
    confirm_actions: tuple[str, ...]
    confirmation_timeout_s: float
    min_battery_takeoff_pct: float
    min_battery_mission_pct: float
    min_orbit_radius_m: float
    max_orbit_radius_m: float
    min_follow_distance_m: float
    default_follow_distance_m: float
    max_follow_distance_m: float
    default_search_radius_m: float
    max_search_radius_m: float
    pose_timeout_s: float
    battery_timeout_s: float
    max_mission_steps: int = 8
    geofence: Geofence = field(init=False, repr=False, compare=False)
    # `_VALIDATED` from the builders below, whose values were validated as a whole already.
    checked: InitVar[object] = None

    def __post_init__(self, checked: object) -> None:
        if checked is not _VALIDATED:
            # Validated here, so no instance (dataclasses.replace included) escapes the checks.
            validate({**defaults(), **self._values()})
        fence = Geofence(self.geofence_max_distance_m, polygon_from_flat(self.geofence_polygon))
        object.__setattr__(self, 'geofence', fence)

    @classmethod
    def from_params(cls, values: Mapping[str, Any]) -> SafetyLimits:
        """Limits from parameter values (missing ones at their defaults), validated first.

        Raises `parameters.ParameterError` with the reason when the values are not acceptable.
        """
        return cls.from_validated(validate({**defaults(), **values}))

    @classmethod
    def from_validated(cls, values: Mapping[str, Any]) -> SafetyLimits:
        """Limits from a complete set of values that `parameters.validate` accepted as a whole
        (`core.settings.Settings.values`); not validated again."""
        return cls(**{f.name: tuple(values[f.name]) if isinstance(values[f.name], list)
                      else values[f.name] for f in fields(cls) if f.init}, checked=_VALIDATED)

    def _values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.init}

    def allows(self, action: str) -> bool:
        """Whether decisions may carry `action`."""
        return action in ALWAYS_ALLOWED or action in self.allowed_actions

    def needs_confirmation(self, action: str) -> bool:
        """Whether `action` waits for the operator to confirm."""
        return action in self.confirm_actions


class _Refused(Exception):
    """The envelope refuses the proposal; the message says why."""


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numbers(data: Any, path: str = '') -> Iterator[tuple[str, float]]:
    """Every number in a nested dict/list, with its dotted path."""
    if _number(data):
        yield path, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _numbers(value, f'{path}.{key}' if path else str(key))
    elif isinstance(data, (list, tuple)):
        for index, value in enumerate(data):
            yield from _numbers(value, f'{path}[{index}]')


def _compass_unit(heading_deg: float) -> Point:
    rad = math.radians(heading_deg)
    return math.sin(rad), math.cos(rad)


def _show(value: Any) -> str:
    return f'{value:g}' if isinstance(value, float) else shorten(repr(value), 24)


def _describe(action: str, params: Mapping[str, Any]) -> str:
    shown = ', '.join(f'{k}={_show(v)}' for k, v in params.items())
    return f'{action} ({shown})' if shown else action


_UNITS = {'m': ' m', 'mps': ' m/s', 's': ' s'}


class _Edit:
    """A proposal's params under check, with every change recorded."""

    def __init__(self, proposal: Proposal, vehicle: VehicleState) -> None:
        self.action = proposal.action
        self.params = dict(proposal.params)
        self.vehicle = vehicle
        self.target = proposal.target
        self.changes: list[SafetyChange] = []

    def set(self, key: str, value: Any, reason: str) -> None:
        old = self.params.get(key)
        if value == old:
            return
        self.changes.append(SafetyChange(f'params.{key}', old, value, reason))
        self.params[key] = value

    def drop(self, key: str, reason: str) -> None:
        self.changes.append(SafetyChange(f'params.{key}', self.params.pop(key), None, reason))

    def clamp(self, key: str, low: float, high: float, what: str) -> float:
        value = self.params[key]
        unit = _UNITS[key.rsplit('_', 1)[-1]]
        if value < low:
            self.set(key, low, f'{what} {value:g}{unit} is below the minimum {low:g}{unit}')
        elif value > high:
            self.set(key, high, f'{what} {value:g}{unit} is above the maximum {high:g}{unit}')
        return self.params[key]


def _climb_is_takeoff(edit: _Edit, below_m: float) -> None:
    """On the ground (and lower than `below_m` when the altitude is known), a pure climb ("go
    up to 15 m", "up 10 m") is a takeoff to that altitude: rewrite it so, recorded as a change
    of `action`; anything else is left as it is (and refused: take off first)."""
    params, position = edit.params, edit.vehicle.position_m
    ground = position[2] if position is not None else 0.0
    if ground >= below_m:  # "on the ground" up there: a land detector the pose contradicts
        return
    if edit.action == 'change_altitude' and params.get('altitude_m', ground) > ground:
        altitude = params['altitude_m']
    elif edit.action == 'change_altitude' and params.get('delta_m', 0.0) > 0:
        altitude = ground + params['delta_m']
    elif (edit.action == 'goto' and params.get('up_m', 0.0) > 0
          and not params.get('forward_m') and not params.get('right_m')
          and 'heading_deg' not in params):
        altitude = ground + params['up_m']
    else:
        return
    edit.changes.append(SafetyChange('action', edit.action, 'takeoff',
                                     f'the vehicle is on the ground: climbing to {altitude:g} m '
                                     'is a takeoff'))
    edit.action, edit.params = 'takeoff', {'altitude_m': altitude}


class SafetyEnvelope:
    """Checks proposals against immutable `SafetyLimits`, replaced as a whole by `apply`.

    `clock` stamps records, judges how fresh the vehicle state is and times confirmations;
    vehicle state stamps must be readings of the same clock. An action that needs the
    operator's confirmation waits in the envelope's `ConfirmationGate`, settled through
    `settle_confirmation` and `drop_confirmation`.
    """

    def __init__(self, limits: SafetyLimits, clock: Clock | None = None,
                 history: int = 100) -> None:
        self._limits = limits
        self.clock = clock or MonotonicClock()
        self._gate = ConfirmationGate(self.clock, limits.confirmation_timeout_s)
        self._records: deque[SafetyRecord] = deque(maxlen=history)
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        # Held by each check and by `apply`: a check in progress sees one set of limits.
        self._checking = threading.Lock()
        self._handlers: dict[str, Callable[[_Edit], None]] = {
            'takeoff': self._takeoff, 'change_altitude': self._change_altitude,
            'goto': self._goto, 'set_speed': self._set_speed, 'orbit': self._orbit,
            'follow': self._follow, 'search': self._search, 'hold': self._hold,
        }

    @property
    def limits(self) -> SafetyLimits:
        """The limits this envelope enforces (read-only)."""
        return self._limits

    def apply(self, limits: SafetyLimits) -> bool:
        """Enforce `limits` from now on (a parameter change); new limits drop any action
        waiting for confirmation. Returns whether the limits changed."""
        with self._checking:
            if limits == self._limits:
                return False
            self._limits = limits
            self._gate = ConfirmationGate(self.clock, limits.confirmation_timeout_s)
        return True

    def settle_confirmation(self, text: str) -> ConfirmationReply:
        """Settle the action waiting for confirmation with an operator command (see
        `ConfirmationGate.reply`)."""
        return self._gate.reply(text)

    def drop_confirmation(self) -> None:
        """Drop the action waiting for confirmation, if any (a reflex, a failsafe)."""
        self._gate.cancel()

    @property
    def pending_confirmation(self) -> PendingConfirmation | None:
        """The action waiting for confirmation now, or None."""
        return self._gate.pending

    def check(self, proposal: Proposal, source: str, vehicle: VehicleState | None = None,
              *, confirmed: bool = False) -> tuple[Proposal, SafetyReport]:
        """The proposal to publish and what the envelope did to it.

        `confirmed` is only for a proposal released by `settle_confirmation` after the operator
        confirmed it; it is checked again against the current limits and vehicle state.
        """
        if source not in SOURCES:
            raise ValueError(f'unknown source {source!r}; expected one of {SOURCES}')
        with self._checking:
            return self._check(proposal, source, vehicle, confirmed)

    def _check(self, proposal: Proposal, source: str, vehicle: VehicleState | None,
               confirmed: bool) -> tuple[Proposal, SafetyReport]:
        state = self._fresh(vehicle)
        if source == 'failsafe':
            _, would = self._evaluate(proposal, state)
            detail = 'failsafe: passed unchecked'
            if would.status != 'passed':
                detail += f'; the envelope would have {would.status} it: {_summary(would)}'
            self._record(source, proposal.action, 'passed', detail)
            return _copy(proposal), SafetyReport()
        result, report = self._evaluate(proposal, state)
        if report.status != 'refused' and not confirmed and any(
                self._limits.needs_confirmation(step.action) for step in steps_of(result)):
            result, report = self._ask(result, source, report)
        self._record(source, proposal.action, report.status, _summary(report))
        return result, report

    def check_step(self, step: Proposal, source: str, vehicle: VehicleState | None
                   ) -> tuple[Proposal, SafetyReport]:
        """One mission step again, against the live state, when it starts executing."""
        with self._checking:
            result, report = self._evaluate(step, self._fresh(vehicle))
        self._record(source, f'step {step.action}', report.status, _summary(report))
        return result, report

    def notes(self, vehicle: VehicleState | None) -> tuple[str, ...]:
        """What the envelope cannot check with this vehicle state, for the decision's notes."""
        with self._checking:
            state = self._fresh(vehicle)
            limits = self._limits
        found = []
        if state.position_m is None:
            found.append(
                f'vehicle position unknown: moves limited to '
                f'{limits.max_leg_without_position_m:g} m, relative altitude changes refused, '
                'geofence not checked')
        else:
            outside = -limits.geofence.clearance(state.position_m[:2])
            if outside > 0:
                found.append(f'vehicle is {outside:.1f} m outside the geofence')
            if state.heading_deg is None:
                found.append('vehicle heading unknown: body-frame legs limited to the distance '
                             'to the nearest fence edge')
        if state.battery_pct is None:
            found.append('battery level unknown: battery limits not applied')
        return tuple(found)

    @property
    def records(self) -> tuple[SafetyRecord, ...]:
        """The most recent checks, oldest first."""
        with self._lock:
            return tuple(self._records)

    @property
    def counts(self) -> dict[str, int]:
        """How many checks ended passed, modified or refused."""
        with self._lock:
            return dict(self._counts)

    # Internals

    def _fresh(self, vehicle: VehicleState | None) -> VehicleState:
        return (vehicle or VehicleState()).fresh(
            self.clock.now(), self._limits.pose_timeout_s, self._limits.battery_timeout_s)

    def _record(self, source: str, action: str, status: str, detail: str) -> None:
        with self._lock:
            self._records.append(SafetyRecord(self.clock.now(), source, str(action), status,
                                              detail))
            self._counts[status] += 1

    def _evaluate(self, proposal: Proposal, vehicle: VehicleState
                  ) -> tuple[Proposal, SafetyReport]:
        if is_mission(proposal):
            try:
                self._screen(proposal)
            except _Refused as refusal:
                reason = shorten(str(refusal), 300)
                return (reject(reason, rationale='safety envelope refused mission'),
                        SafetyReport(refused=reason))
            return check_mission(proposal, vehicle, self._evaluate,
                                 self._limits.max_mission_steps)
        try:
            self._screen(proposal)
            edit = _Edit(proposal, vehicle)
            if vehicle.in_air is False:
                _climb_is_takeoff(edit, self._limits.min_altitude_m)
                if edit.action in NEEDS_FLIGHT:
                    raise _Refused(f'{edit.action} needs the vehicle in the air: take off first')
            handler = self._handlers.get(edit.action)
            if handler is not None:
                handler(edit)
        except _Refused as refusal:
            reason = shorten(str(refusal), 300)
            return (reject(reason, rationale=f'safety envelope refused {proposal.action}'),
                    SafetyReport(refused=reason))
        result = Proposal(edit.action, edit.params, proposal.target, proposal.confidence,
                          proposal.rationale, proposal.confidence_detail)
        if edit.changes:  # an unchanged proposal was validated by `_screen` already
            result.validate()
        return result, SafetyReport(tuple(edit.changes))

    def _screen(self, proposal: Proposal) -> None:
        """Refuse malformed, non-finite or absurd proposals and disabled actions."""
        try:
            data = proposal.to_dict()
        except (AttributeError, TypeError, ValueError) as exc:
            raise _Refused(f'malformed proposal: {exc}') from exc
        for path, value in _numbers(data):
            if isinstance(value, float) and not math.isfinite(value):
                raise _Refused(f'{path} is {value}: not a finite number')
            if abs(value) > ABSURD_MAGNITUDE:
                raise _Refused(f'{path} = {_show(value)} is not a plausible value')
        try:
            validate_proposal(data)
        except DecisionError as exc:
            raise _Refused(str(exc)) from exc
        if not self._limits.allows(proposal.action):
            raise _Refused(f'action {proposal.action} is disabled (allowed_actions)')

    def _ask(self, proposal: Proposal, source: str, report: SafetyReport
             ) -> tuple[Proposal, SafetyReport]:
        self._gate.hold(proposal, source)
        what = _describe(proposal.action, proposal.params)
        question = (f'Confirm {what}? Reply "confirm" within '
                    f'{self._limits.confirmation_timeout_s:g} s; anything else cancels it.')
        change = SafetyChange('action', proposal.action, 'clarify',
                              f'{proposal.action} needs operator confirmation (confirm_actions)')
        return (clarify(question, rationale='safety envelope: waiting for confirmation',
                        confidence=proposal.confidence),
                SafetyReport((*report.changes, change)))

    def _battery(self, edit: _Edit, extends: bool) -> None:
        """Refuse takeoff, and moves away from home or upwards, on a low battery."""
        pct = edit.vehicle.battery_pct
        limits = self._limits
        if pct is None:
            return
        if edit.action == 'takeoff' and pct < limits.min_battery_takeoff_pct:
            raise _Refused(f'battery {pct:.3g} % is below the {limits.min_battery_takeoff_pct:g}'
                           ' % needed for takeoff')
        if extends and pct < limits.min_battery_mission_pct:
            raise _Refused(f'battery {pct:.3g} % is below the {limits.min_battery_mission_pct:g}'
                           f' % mission minimum: {edit.action} refused, return_to_home '
                           'recommended')

    def _altitude(self, edit: _Edit, key: str) -> float:
        limits = self._limits
        return edit.clamp(key, limits.min_altitude_m, limits.max_altitude_m, 'altitude')

    def _takeoff(self, edit: _Edit) -> None:
        self._altitude(edit, 'altitude_m')
        self._battery(edit, extends=True)

    def _change_altitude(self, edit: _Edit) -> None:
        position = edit.vehicle.position_m
        if 'delta_m' in edit.params:
            if position is None:
                raise _Refused('vehicle altitude unknown: a relative altitude change is refused;'
                               ' give an absolute altitude')
            self._delta_to_absolute(edit, position[2])
        else:
            self._altitude(edit, 'altitude_m')
        if 'altitude_m' in edit.params:
            climbs = position is None or edit.params['altitude_m'] > position[2]
        else:
            climbs = edit.params['delta_m'] > 0
        self._battery(edit, extends=climbs)

    def _delta_to_absolute(self, edit: _Edit, altitude: float) -> None:
        """Keep a delta that stays in range; otherwise replace it by the clamped altitude."""
        limits = self._limits
        delta = edit.params['delta_m']
        wanted = altitude + delta
        if limits.min_altitude_m <= wanted <= limits.max_altitude_m:
            return
        edit.drop('delta_m', f'converted to an absolute altitude: {altitude:g} m + {delta:g} m '
                             f'= {wanted:g} m above home')
        edit.params['altitude_m'] = wanted
        self._altitude(edit, 'altitude_m')

    def _goto(self, edit: _Edit) -> None:
        params = edit.params
        if 'distance_m' in params:
            keys: tuple[str, ...] = ('distance_m',)
            length = params['distance_m']
            direction: Point | None = _compass_unit(params['heading_deg'])
        elif 'forward_m' in params:
            keys = ('forward_m', 'right_m')
            length = math.hypot(params['forward_m'], params['right_m'])
            direction = self._body_direction(edit, length)
        else:
            # Fly to the target: its position is unknown here, so count it as outbound.
            self._battery(edit, extends=True)
            return
        allowed, reason = self._leg(edit.vehicle, direction, length)
        if allowed < length:
            for key in keys:
                edit.set(key, params[key] * allowed / length, reason)
        self._goto_up(edit)
        self._battery(edit, extends=self._goto_extends(edit, direction))

    @staticmethod
    def _body_direction(edit: _Edit, length: float) -> Point | None:
        heading = edit.vehicle.heading_deg
        if heading is None or length == 0:
            return None
        fx, fy = _compass_unit(heading)
        forward, right = edit.params['forward_m'] / length, edit.params['right_m'] / length
        # Right of a compass heading h is heading h + 90: (cos h, -sin h) in east-north.
        return forward * fx + right * fy, forward * fy - right * fx

    def _leg(self, vehicle: VehicleState, direction: Point | None, length: float
             ) -> tuple[float, str]:
        """How much of a horizontal leg may be flown, and why it was cut (if it was)."""
        limits = self._limits
        margin = limits.geofence_margin_m
        if length == 0:
            return 0.0, ''
        if vehicle.position_m is None:
            cap = limits.max_leg_without_position_m
            if cap < MIN_LEG_M:
                raise _Refused('vehicle position unknown: horizontal moves are refused')
            return min(length, cap), f'vehicle position unknown: leg limited to {cap:g} m'
        start = vehicle.position_m[:2]
        fence = limits.geofence
        if direction is None:
            room = fence.clearance(start) - margin
            if room < min(length, MIN_LEG_M):
                raise _Refused('vehicle heading unknown and no room to the geofence edge')
            return min(length, room), ('vehicle heading unknown: leg limited to the distance '
                                       f'to the nearest geofence edge less {margin:g} m')
        run = fence.inside_run(start, direction, length)
        cut = (f'leg of {length:g} m cut to {{:g}} m to stay {margin:g} m inside the geofence '
               f'({self._fence_text()})')
        if fence.contains(start):
            # From inside (or on the edge) the leg ends before it first leaves the fence.
            stop = run[1] if run is not None and run[0] == 0 else 0.0
            if stop >= length:
                return length, ''
            allowed = stop - margin
            if allowed < MIN_LEG_M:
                raise _Refused(f'goto would leave the geofence ({self._fence_text()}) and the '
                               f'vehicle is within {margin:g} m of its edge')
            return allowed, cut.format(allowed)
        if run is None:
            end = (start[0] + length * direction[0], start[1] + length * direction[1])
            if fence.clearance(end) > fence.clearance(start):
                return length, ''
            raise _Refused('vehicle is outside the geofence and the goto leads further out; '
                           'return_to_home recommended')
        t_in, t_out = run
        if t_out >= length:
            return length, ''
        allowed = max(t_in, t_out - margin)
        return allowed, cut.format(allowed)

    def _fence_text(self) -> str:
        limits = self._limits
        text = f'{limits.geofence_max_distance_m:g} m from home'
        return text + ' and the polygon' if limits.geofence_polygon else text

    def _goto_up(self, edit: _Edit) -> None:
        """Keep a goto's altitude in range without forcing a climb or descent."""
        up = edit.params.get('up_m', 0)
        if up == 0:
            return
        position = edit.vehicle.position_m
        if position is None:
            edit.set('up_m', 0.0, 'vehicle altitude unknown: vertical part of the goto dropped')
            return
        limits = self._limits
        altitude = position[2]
        low = min(limits.min_altitude_m, altitude)
        high = max(limits.max_altitude_m, altitude)
        wanted = altitude + up
        if not low <= wanted <= high:
            edit.set('up_m', min(max(wanted, low), high) - altitude,
                     f'would end at {wanted:g} m, outside {limits.min_altitude_m:g}..'
                     f'{limits.max_altitude_m:g} m above home')

    @staticmethod
    def _goto_extends(edit: _Edit, direction: Point | None) -> bool:
        """Whether a goto leads away from home or upwards (unknown counts as yes)."""
        params = edit.params
        if params.get('up_m', 0) > 0:
            return True
        length = params.get('distance_m', math.hypot(params.get('forward_m', 0),
                                                     params.get('right_m', 0)))
        position = edit.vehicle.position_m
        if length == 0:
            return False
        if position is None or direction is None:
            return True
        end = (position[0] + length * direction[0], position[1] + length * direction[1])
        return math.hypot(*end) > math.hypot(*position[:2])

    def _set_speed(self, edit: _Edit) -> None:
        edit.clamp('speed_mps', 0.0, self._limits.max_horizontal_speed_mps, 'speed')

    def _orbit(self, edit: _Edit) -> None:
        limits = self._limits
        self._battery(edit, extends=True)
        edit.clamp('radius_m', limits.min_orbit_radius_m, limits.max_orbit_radius_m,
                   'orbit radius')
        if edit.target is None:
            self._room(edit, 'radius_m', limits.min_orbit_radius_m, 'an orbit')

    def _follow(self, edit: _Edit) -> None:
        limits = self._limits
        self._battery(edit, extends=True)
        if edit.params['distance_m'] is None:
            edit.set('distance_m', limits.default_follow_distance_m,
                     'no distance given: default_follow_distance_m')
        edit.clamp('distance_m', limits.min_follow_distance_m, limits.max_follow_distance_m,
                   'follow distance')

    def _search(self, edit: _Edit) -> None:
        limits = self._limits
        self._battery(edit, extends=True)
        if edit.params['radius_m'] is None:
            edit.set('radius_m', limits.default_search_radius_m,
                     'no radius given: default_search_radius_m')
        edit.clamp('radius_m', 0.0, limits.max_search_radius_m, 'search radius')
        self._room(edit, 'radius_m', MIN_LEG_M, 'a search')

    def _room(self, edit: _Edit, key: str, minimum: float, what: str) -> None:
        """Shrink a radius around the vehicle so the circle stays inside the fence."""
        limits = self._limits
        position = edit.vehicle.position_m
        if position is None:
            room = limits.max_leg_without_position_m
            why = f'vehicle position unknown: radius limited to {room:g} m'
        else:
            room = limits.geofence.clearance(position[:2]) - limits.geofence_margin_m
            why = (f'radius limited to {max(room, 0):g} m to stay {limits.geofence_margin_m:g}'
                   f' m inside the geofence ({self._fence_text()})')
        if edit.params[key] <= room:
            return
        if room < minimum:
            raise _Refused(f'no room for {what} here: {why}')
        edit.set(key, room, why)

    @staticmethod
    def _hold(edit: _Edit) -> None:
        duration = edit.params['duration_s']
        if duration is not None and duration < 0:
            edit.set('duration_s', None, 'negative duration: holding until told otherwise')


def _copy(proposal: Proposal) -> Proposal:
    return copy.deepcopy(proposal)


def _summary(report: SafetyReport) -> str:
    if report.refused is not None:
        return report.refused
    return '; '.join(f'{c.field}: {c.reason}' for c in report.changes)


@dataclass(frozen=True)
class SafetyRecord:
    """One check, kept for diagnostics."""

    stamp: float
    source: str
    action: str
    status: str
    detail: str


# Replies that confirm or decline a pending action, in the languages operators use.
CONFIRM_WORDS = frozenset({
    'confirm', 'confirmed', 'yes', 'y', 'affirmative', 'oui', 'confirme', 'confirmer', 'ja',
    'bestätige', 'bestätigt', 'sí', 'si', 'sì', 'confirmo', 'confermo', 'conferma', 'confirmar',
})
DECLINE_WORDS = frozenset({
    'no', 'n', 'cancel', 'abort', 'negative', 'non', 'annule', 'annuler', 'nein', 'abbrechen',
    'cancela', 'cancelar', 'annulla',
})
FILLER_WORDS = frozenset({'please', 'go', 'ahead', 'do', 'it', 'bitte', 'por', 'favor', 'per',
                          'favore', 'merci', 'danke', 'grazie', 'gracias'})

CONFIRMED = 'confirmed'
DECLINED = 'declined'
EXPIRED = 'expired'
NOT_A_REPLY = 'not_a_reply'


def _words(text: str) -> list[str]:
    cleaned = ''.join(ch if ch.isalnum() else ' '
                      for ch in unicodedata.normalize('NFC', text.casefold()))
    return cleaned.split()


def reply_kind(text: str) -> str:
    """CONFIRMED, DECLINED or NOT_A_REPLY, judged from the words of an operator command."""
    words = [w for w in _words(text) if w not in FILLER_WORDS]
    if words and all(w in CONFIRM_WORDS for w in words):
        return CONFIRMED
    if words and all(w in DECLINE_WORDS for w in words):
        return DECLINED
    return NOT_A_REPLY


@dataclass(frozen=True)
class PendingConfirmation:
    """A checked proposal waiting for the operator."""

    proposal: Proposal
    source: str
    asked_at: float
    expires_at: float


@dataclass(frozen=True)
class ConfirmationReply:
    """How an operator command settled the pending confirmation, if it did."""

    outcome: str  # CONFIRMED, DECLINED, EXPIRED or NOT_A_REPLY
    pending: PendingConfirmation | None = None

    def response(self) -> Proposal | None:
        """A proposal answering the operator, or None when the command needs deciding."""
        if self.pending is None or self.outcome == NOT_A_REPLY:
            return None
        what = _describe(self.pending.proposal.action, self.pending.proposal.params)
        if self.outcome == DECLINED:
            return answer(f'Cancelled: {what} was not confirmed.')
        if self.outcome == EXPIRED:
            waited = self.pending.expires_at - self.pending.asked_at
            return reject(f'confirmation too late: {what} expired after {waited:g} s; '
                          'send the command again')
        return None


class ConfirmationGate:
    """Holds one proposal until the operator confirms it, declines it, or it expires.

    Any operator command settles the pending proposal: a confirmation releases it (run it
    through `SafetyEnvelope.check(..., confirmed=True)` before publishing), a refusal or any
    other command drops it. Only the newest request waits.
    """

    def __init__(self, clock: Clock, timeout_s: float) -> None:
        self.clock = clock
        self.timeout_s = timeout_s
        self._pending: PendingConfirmation | None = None
        self._lock = threading.Lock()

    def hold(self, proposal: Proposal, source: str) -> PendingConfirmation:
        """Remember `proposal` until it is confirmed or expires (replacing any older one)."""
        now = self.clock.now()
        pending = PendingConfirmation(_copy(proposal), source, now, now + self.timeout_s)
        with self._lock:
            self._pending = pending
        return pending

    @property
    def pending(self) -> PendingConfirmation | None:
        """The proposal waiting now, or None (also when it expired)."""
        with self._lock:
            pending = self._pending
        return pending if pending and self.clock.now() < pending.expires_at else None

    def reply(self, text: str) -> ConfirmationReply:
        """Settle the pending proposal with an operator command."""
        kind = reply_kind(text)
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is None:
            return ConfirmationReply(NOT_A_REPLY)
        if kind == CONFIRMED and self.clock.now() >= pending.expires_at:
            return ConfirmationReply(EXPIRED, pending)
        return ConfirmationReply(kind, pending)

    def cancel(self) -> None:
        """Drop the pending proposal (e.g. on failsafe)."""
        with self._lock:
            self._pending = None
