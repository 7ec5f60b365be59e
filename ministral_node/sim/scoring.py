"""Success criteria measured in the simulated world, and the suite summary (the safety
invariants checked at every step are `ministral_node.safety.invariants`).

Expectations (`expect:` in a scenario; `CRITERIA` lists them): see each `_check_*` below.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ministral_node.safety.invariants import Violation
from ministral_node.vehicle_link import px4

if TYPE_CHECKING:
    from ministral_node.sim.simulator import Sample, Simulator


class ScenarioLike(Protocol):
    """What scoring reads of a scenario (`sim.scenario.Scenario`, which imports this module to
    know the criteria: the arrow goes one way)."""

    name: str
    language: str
    category: str
    visual: bool
    expect: dict

# A failsafe hold stays within its braking distance plus this of where the link was lost.
HOLD_WITHIN_M = 2.0


# Criteria ------------------------------------------------------------------------------------

@dataclass
class Check:
    """One expectation: whether it held, what was measured, what was wanted."""

    criterion: str
    ok: bool
    measured: Any
    wanted: Any

    def to_dict(self) -> dict:
        return {'criterion': self.criterion, 'ok': self.ok, 'measured': self.measured,
                'wanted': self.wanted}


def _spec(value: Any, key: str) -> dict:
    """An expectation's value as a dict (a bare value becomes {key: value})."""
    return dict(value) if isinstance(value, Mapping) else {key: value}


def _final(sim: Simulator) -> Sample:
    return sim.trace.samples[-1]


def _landed(sim: Simulator) -> bool:
    return _final(sim).mode == 'landed'


def _check_final_altitude(sim: Simulator, value: Any) -> Check:
    """final_altitude_m: X or {value, within_m (1)}: the final altitude is within of X."""
    spec = _spec(value, 'value')
    z = _final(sim).position[2]
    ok = abs(z - float(spec['value'])) <= float(spec.get('within_m', 1.0))
    return Check('final_altitude_m', ok, round(z, 2), spec['value'])


def _check_landed(sim: Simulator, value: Any) -> Check:
    """landed: true|false: the vehicle is (or is not) on the ground at the end."""
    return Check('landed', _landed(sim) == bool(value), _landed(sim), bool(value))


def _where(sim: Simulator, label: str) -> tuple[float, float] | None:
    if label == 'home':
        return 0.0, 0.0
    found = sim.layout.find(label)
    return None if found is None else (found.east, found.north)


def _distance_to(sim: Simulator, label: str) -> float | None:
    point = _where(sim, label)
    if point is None:
        return None
    x, y, _ = _final(sim).position
    return round(math.hypot(x - point[0], y - point[1]), 2)


def _check_landed_near(sim: Simulator, value: Any) -> Check:
    """landed_near: LABEL or {target, within_m (1.5)}: landed within of the object ('home'
    is home)."""
    spec = _spec(value, 'target')
    distance = _distance_to(sim, spec['target'])
    ok = distance is not None and _landed(sim) and distance <= float(spec.get('within_m', 1.5))
    return Check('landed_near', ok, {'distance_m': distance, 'landed': _landed(sim)}, spec)


def _check_near_object(sim: Simulator, value: Any) -> Check:
    """near_object: LABEL or {target, within_m (3)}: ends horizontally within of the object."""
    spec = _spec(value, 'target')
    distance = _distance_to(sim, spec['target'])
    ok = distance is not None and distance <= float(spec.get('within_m', 3.0))
    return Check('near_object', ok, distance, spec)


def _check_back_home(sim: Simulator, value: Any) -> Check:
    """back_home: true or {within_m (1.5)}: landed within of home."""
    spec = _spec(value, 'required')
    distance = _distance_to(sim, 'home')
    ok = _landed(sim) and distance <= float(spec.get('within_m', 1.5))
    return Check('back_home', ok, {'distance_m': distance, 'landed': _landed(sim)}, True)


def _check_photos(sim: Simulator, value: Any) -> Check:
    """photos: N: exactly N photos were taken."""
    taken = len(sim.vehicle.photos)
    return Check('photos', taken == int(value), taken, int(value))


def _check_position(sim: Simulator, value: Any) -> Check:
    """position: [east, north] or {east, north, within_m (2)}: the final horizontal position."""
    spec = dict(value) if isinstance(value, Mapping) else {'east': value[0], 'north': value[1]}
    x, y, _ = _final(sim).position
    distance = math.hypot(x - float(spec['east']), y - float(spec['north']))
    return Check('position', distance <= float(spec.get('within_m', 2.0)),
                 [round(x, 2), round(y, 2)], [spec['east'], spec['north']])


def _check_heading(sim: Simulator, value: Any) -> Check:
    """heading_deg: X or {value, within_deg (10)}: the final compass heading."""
    spec = _spec(value, 'value')
    heading = _final(sim).heading_deg
    diff = abs((heading - float(spec['value']) + 180.0) % 360.0 - 180.0)
    return Check('heading_deg', diff <= float(spec.get('within_deg', 10.0)), round(heading, 1),
                 spec['value'])


def _check_visited(sim: Simulator, value: Any) -> Check:
    """visited: [east, north] or {east, north, up, within_m (3)}: at some time the vehicle was
    within of that point (horizontally, or in 3-D when `up` is given): the leg out of an
    out-and-back flight was flown, the climb before a photo was made."""
    spec = dict(value) if isinstance(value, Mapping) else {'east': value[0], 'north': value[1]}
    point = [float(spec['east']), float(spec['north'])]
    if spec.get('up') is not None:
        point.append(float(spec['up']))
    nearest = min(math.dist(s.position[:len(point)], point) for s in sim.trace.samples)
    return Check('visited', nearest <= float(spec.get('within_m', 3.0)), round(nearest, 2),
                 point)


def _last_says(sim: Simulator, criterion: str, action: str, key: str, value: Any) -> Check:
    """The last decision is `action` and its `key` text names every word of `mentions`
    (case-insensitive)."""
    spec = _spec(value, 'required')
    last = sim.trace.decisions[-1] if sim.trace.decisions else {}
    text = str((last.get('params') or {}).get(key, ''))
    mentions = [str(m) for m in spec.get('mentions', ())]
    ok = last.get('action') == action and all(m.lower() in text.lower() for m in mentions)
    return Check(criterion, ok, {'action': last.get('action'), key: text}, spec)


def _check_asks(sim: Simulator, value: Any) -> Check:
    """asks: true or {mentions: [words]}: the scenario ends with a question (the last decision
    is `clarify`) naming each word: a target absent or ambiguous is asked about, never flown
    to."""
    return _last_says(sim, 'asks', 'clarify', 'question', value)


def _check_answers(sim: Simulator, value: Any) -> Check:
    """answers: true or {mentions: [words]}: the last decision answers (`answer`), naming each
    word: a scene question answered from what the camera sees."""
    return _last_says(sim, 'answers', 'answer', 'text', value)


def _check_mission_ends(sim: Simulator, value: Any) -> Check:
    """mission_ends: STATE or {state, mentions: [words]}: the last mission ends in that state
    (completed, aborted, preempted) with a reason naming each word: a step that searched for
    its target and gave up says why."""
    spec = _spec(value, 'state')
    last = sim.trace.missions[-1] if sim.trace.missions else {}
    state = (last.get('key') or [None, None])[1]
    reason = str(last.get('reason') or '')
    ok = state == spec['state'] and all(str(m).lower() in reason.lower()
                                        for m in spec.get('mentions', ()))
    return Check('mission_ends', ok, {'state': state, 'reason': reason}, spec)


def _check_stays_on_ground(sim: Simulator, value: Any) -> Check:
    """stays_on_ground: true: never climbed above 0.5 m (a refused takeoff)."""
    top = max(s.position[2] for s in sim.trace.samples)
    return Check('stays_on_ground', (top < 0.5) == bool(value), round(top, 2), bool(value))


def _check_max_distance(sim: Simulator, value: Any) -> Check:
    """max_distance_from_home_m: X: never farther than X from home (a refused leg)."""
    far = max(math.hypot(*s.position[:2]) for s in sim.trace.samples)
    return Check('max_distance_from_home_m', far <= float(value), round(far, 2), value)


def _displacement(sim: Simulator, start: float, end: float) -> float:
    window = [s.position[:2] for s in sim.trace.samples if start <= s.t <= end]
    if not window:
        return 0.0
    return max(math.dist(window[0], p) for p in window)


def _check_failsafe_return(sim: Simulator, value: Any) -> Check:
    """failsafe_return: true: the link is lost at t (the last heartbeat that got through
    before the first link_loss fault); the vehicle holds: from t + link_loss_timeout_s until
    the failsafe action it never gets farther from where it was then than it needs to brake
    from the speed it had (v^2 / 2a) plus HOLD_WITHIN_M; it is sent home (or the configured
    failsafe_action) within t + link_loss_timeout_s + failsafe_hold_s + 1 s, and then lands
    home when the action is return_to_home."""
    lim = sim.limits
    fault = sim.faults.first('link_loss')
    if fault is None:
        return Check('failsafe_return', False, 'no link_loss fault in the scenario', True)
    before = [t for t in sim.trace.heartbeats if t <= fault.at]
    lost = (before[-1] if before else fault.at) + lim.link_loss_timeout_s
    deadline = lost + lim.failsafe_hold_s + 1.0
    action = lim.failsafe_action
    sent = [t for t, c in sim.vehicle.commands if c.get('command') == action and t >= lost - 0.5]
    acted = sent[0] if sent else None
    window = [x for x in sim.trace.samples
              if lost <= x.t <= (acted if acted is not None else deadline)]
    moved, bound = 0.0, HOLD_WITHIN_M
    if window:
        start = window[0]
        bound += start.speed_h ** 2 / (2 * sim.vehicle.airframe.max_accel_mps2)
        moved = max(math.dist(start.position[:2], x.position[:2]) for x in window)
    ok = acted is not None and acted <= deadline and moved <= bound
    if action == 'return_to_home':
        ok = ok and _landed(sim) and _distance_to(sim, 'home') <= 1.5
    measured = {'action_at_s': None if acted is None else round(acted, 2),
                'deadline_s': round(deadline, 2), 'hold_moved_m': round(moved, 2),
                'hold_bound_m': round(bound, 2),
                'landed_home': _landed(sim) and _distance_to(sim, 'home') <= 1.5}
    return Check('failsafe_return', ok, measured, action)


def _check_holds_during(sim: Simulator, value: Any) -> Check:
    """holds_during_fault: KIND or {kind, settle_s (pose_timeout_s + 3), within_m (2)}: from
    settle_s after the fault starts until it ends, the vehicle moves at most within_m."""
    spec = _spec(value, 'kind')
    fault = sim.faults.first(spec['kind'])
    if fault is None:
        return Check('holds_during_fault', False, f'no {spec["kind"]} fault', spec)
    start = fault.at + float(spec.get('settle_s', sim.limits.pose_timeout_s + 3.0))
    end = fault.at + fault.duration_s if fault.duration_s is not None else _final(sim).t
    moved = _displacement(sim, start, end)
    return Check('holds_during_fault', moved <= float(spec.get('within_m', 2.0)),
                 round(moved, 2), spec)


def _is_offboard_request(command: Mapping[str, Any]) -> bool:
    return int(command['command']) == px4.VEHICLE_CMD_DO_SET_MODE \
        and int(command['param2']) == px4.MAIN_MODE_OFFBOARD


def _check_autopilot_abort(sim: Simulator, value: Any) -> Check:
    """autopilot_abort: REASON or {reason}: a mission ends `aborted` with a reason from the
    vehicle link that starts with REASON (the autopilot's word: a takeover, a denial; MAVROS
    does not relay every refusal's words), and from then on the node never asks the simulated
    autopilot for offboard again and the autopilot never enters it again (needs
    `--vehicle px4|mavros`). Measured: the reason, when the node aborted (its mission status
    stamp, else when the operator heard of it), the offboard requests and entries after it,
    and `reaction_s`: from the autopilot's last mode change or command before the abort."""
    spec = _spec(value, 'reason')
    aborted = next((m for m in sim.trace.missions if m['key'][1] == 'aborted'), None)
    if aborted is None:
        return Check('autopilot_abort', False, {'reason': None}, spec['reason'])
    at = aborted['stamp'] if aborted.get('stamp') is not None else aborted['t']
    requests = [t for t, c in sim.trace.autopilot_commands
                if t > at and _is_offboard_request(c)]
    entries = [t for t, mode in sim.trace.autopilot_modes
               if t > at and mode == px4.NAV_STATE_OFFBOARD]
    before = [t for t, _ in [*sim.trace.autopilot_modes, *sim.trace.autopilot_commands]
              if t <= at]
    measured = {'reason': aborted['reason'], 'aborted_at_s': at,
                'reaction_s': round(at - max(before), 3) if before else None,
                'offboard_requests_after': len(requests), 'offboard_entries_after': len(entries)}
    ok = str(aborted['reason']).startswith(spec['reason']) and not requests and not entries
    return Check('autopilot_abort', ok, measured, spec['reason'])


CRITERIA: dict[str, Callable[[Any, Any], Check]] = {
    'final_altitude_m': _check_final_altitude, 'landed': _check_landed,
    'landed_near': _check_landed_near, 'near_object': _check_near_object,
    'back_home': _check_back_home, 'photos': _check_photos, 'position': _check_position,
    'heading_deg': _check_heading, 'visited': _check_visited, 'asks': _check_asks,
    'answers': _check_answers, 'mission_ends': _check_mission_ends,
    'stays_on_ground': _check_stays_on_ground,
    'max_distance_from_home_m': _check_max_distance,
    'failsafe_return': _check_failsafe_return, 'holds_during_fault': _check_holds_during,
    'autopilot_abort': _check_autopilot_abort,
}


# Results -------------------------------------------------------------------------------------

@dataclass
class Result:
    """One scenario's score."""

    name: str
    language: str
    category: str
    visual: bool
    succeeded: bool
    safety_violations: int
    reason: str
    sources: str = ''
    checks: list[Check] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    final_position: list[float] = field(default_factory=list)
    photos: int = 0
    collisions: int = 0
    decisions: list[dict] = field(default_factory=list)
    vehicle_commands: list[dict] = field(default_factory=list)  # {t, command...} received
    modes: list[list] = field(default_factory=list)  # [t, mode] at each vehicle mode change
    missions: list[dict] = field(default_factory=list)  # ~/mission status changes
    setpoint_rate_hz: float | None = None  # median rate of the setpoint stream (simulated time)
    sim_time_s: float = 0.0
    real_time_factor: float = 0.0
    simulator_rtf: float = 0.0  # simulated seconds per wall second of simulating alone
    picture: str | None = None
    video: str | None = None
    recording: str | None = None  # the node's flight recording (MCAP folder), with --record
    interface: str = 'json'  # the node's vehicle_interface (json, px4, mavros)
    autopilot_modes: list[list] = field(default_factory=list)  # [t, PX4 mode] at each change

    def to_dict(self) -> dict:
        return {'name': self.name, 'language': self.language, 'category': self.category,
                'visual': self.visual, 'succeeded': self.succeeded,
                'safety_violations': self.safety_violations, 'reason': self.reason,
                'sources': self.sources, 'checks': [c.to_dict() for c in self.checks],
                'violations': [v.to_dict() for v in self.violations],
                'final_position': self.final_position, 'photos': self.photos,
                'collisions': self.collisions, 'decisions': self.decisions,
                'vehicle_commands': self.vehicle_commands, 'modes': self.modes,
                'missions': self.missions, 'setpoint_rate_hz': self.setpoint_rate_hz,
                'sim_time_s': round(self.sim_time_s, 2),
                'real_time_factor': round(self.real_time_factor, 2),
                'simulator_rtf': round(self.simulator_rtf, 1),
                'picture': self.picture, 'video': self.video, 'recording': self.recording,
                'interface': self.interface, 'autopilot_modes': self.autopilot_modes}


def _collisions(sim: Simulator) -> int:
    episodes, before = 0, False
    for sample in sim.trace.samples:
        if sample.touching and not before:
            episodes += 1
        before = sample.touching
    return episodes


def _setpoint_rate(sim: Simulator) -> float | None:
    times = [t for t, _ in sim.trace.setpoints]
    gaps = [b - a for a, b in zip(times, times[1:]) if 0.0 < b - a < 1.0]
    return round(1.0 / statistics.median(gaps), 1) if gaps else None


def _modes(sim: Simulator) -> list[list]:
    changes, before = [], None
    for sample in sim.trace.samples:
        if sample.mode != before:
            changes.append([round(sample.t, 2), sample.mode])
            before = sample.mode
    return changes


def score(scenario: ScenarioLike, sim: Simulator, sources: str = '',
          real_time_factor: float | None = None, interface: str = 'json') -> Result:
    """The scenario's result from the simulated world after its flight (flown through the
    node's vehicle `interface`)."""
    if not sim.trace.samples:
        sim.step()
    checks = [CRITERIA[name](sim, value) for name, value in scenario.expect.items()]
    violations = list(sim.monitor.violations)
    collisions = _collisions(sim)
    failed = [c for c in checks if not c.ok]
    reasons = [f'{c.criterion}: measured {c.measured}, wanted {c.wanted}' for c in failed]
    reasons += [f'safety: {v.invariant} {v.measured:.2f} > {v.limit:g} at t={v.t:.1f} s'
                for v in violations]
    if collisions:
        reasons.append(f'touched an object {collisions} time(s)')
    succeeded = not failed and not violations and not collisions
    return Result(scenario.name, scenario.language, scenario.category, scenario.visual,
                  succeeded, len(violations), '; '.join(reasons) or 'all expectations met',
                  sources, checks, violations, [round(p, 2) for p in _final(sim).position],
                  len(sim.vehicle.photos), collisions, list(sim.trace.decisions),
                  [{'t': round(t, 2), **c} for t, c in sim.vehicle.commands], _modes(sim),
                  list(sim.trace.missions), _setpoint_rate(sim), sim.t,
                  sim.real_time_factor() if real_time_factor is None else real_time_factor,
                  interface=interface,
                  autopilot_modes=[[round(t, 2), px4.mode_of_nav_state(mode)[1]]
                                   for t, mode in sim.trace.autopilot_modes])


def summary(results: list[Result]) -> dict:
    """The suite's JSON: {"scenarios", "succeeded", "safety_violations", "by_interface":
    {interface: {"scenarios", "succeeded", "safety_violations"}}, "results": [...]}."""
    by_interface = {}
    for interface in dict.fromkeys(r.interface for r in results):
        members = [r for r in results if r.interface == interface]
        by_interface[interface] = {'scenarios': len(members),
                                   'succeeded': sum(r.succeeded for r in members),
                                   'safety_violations': sum(r.safety_violations
                                                            for r in members)}
    return {'scenarios': len(results), 'succeeded': sum(r.succeeded for r in results),
            'safety_violations': sum(r.safety_violations for r in results),
            'by_interface': by_interface, 'results': [r.to_dict() for r in results]}


def column(result: Result) -> str:
    """The table column of a result: its source configuration and vehicle interface."""
    return f'{result.sources or "-"}/{result.interface}'


def table(results: list[Result]) -> str:
    """Succeeded / flown and safety violations per category, language and visual-or-not (rows)
    for each source configuration and vehicle interface (columns, `rules/px4`), as text."""
    order = {'json': 0, 'px4': 1, 'mavros': 2}
    configs = sorted({column(r) for r in results},
                     key=lambda c: (c.count(','), c.split('/')[0],
                                    order.get(c.split('/')[-1], 3)))
    width = max([14, *(len(c) + 2 for c in configs)])
    groups = [('category', lambda r: r.category), ('language', lambda r: r.language),
              ('camera', lambda r: 'visual' if r.visual else 'non-visual'),
              ('all', lambda r: '')]
    lines = [f'{"":<22}' + ''.join(f'{c:>{width}}' for c in configs)]
    for title, key in groups:
        for value in sorted({key(r) for r in results}):
            cells = []
            for config in configs:
                members = [r for r in results if column(r) == config and key(r) == value]
                ok = sum(r.succeeded for r in members)
                cells.append(f'{ok}/{len(members)}' if members else '-')
            lines.append(f'{title:<9}{value:<13}' + ''.join(f'{c:>{width}}' for c in cells))
    safety = [sum(r.safety_violations for r in results if column(r) == c) for c in configs]
    lines.append(f'{"safety violations":<22}' + ''.join(f'{v:>{width}}' for v in safety))
    return '\n'.join(lines)
