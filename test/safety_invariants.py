"""What must hold for anything the safety envelope returns, checked from first principles.

Shared by the property tests and the hostile-proposal suite. The geometry here is written
independently of the envelope's (complex numbers for the body frame) so a shared mistake is
unlikely.
"""

from __future__ import annotations

import cmath
import math

from ministral_node.decision import Proposal, SafetyReport
from ministral_node.inputs.vehicle import VehicleState
from ministral_node.safety.envelope import ABSURD_MAGNITUDE, SafetyLimits

TOL = 1e-6
SAMPLES = 32
REPLIES = {'answer', 'clarify', 'reject'}
AIRBORNE = {'goto', 'change_altitude', 'orbit', 'follow', 'search'}


def _numbers(data):
    if isinstance(data, bool) or data is None or isinstance(data, str):
        return
    if isinstance(data, (int, float)):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _numbers(value)
    elif isinstance(data, (list, tuple)):
        for value in data:
            yield from _numbers(value)


def horizontal_displacement(params: dict, heading_deg: float | None) -> complex | None:
    """East + i*north displacement of a goto, or None if it cannot be known."""
    if 'distance_m' in params:
        return params['distance_m'] * cmath.exp(1j * math.radians(90 - params['heading_deg']))
    if 'forward_m' not in params:
        return None
    if params['forward_m'] == 0 and params['right_m'] == 0:
        return 0j
    if heading_deg is None:
        return None
    forward = cmath.exp(1j * math.radians(90 - heading_deg))
    return params['forward_m'] * forward + params['right_m'] * forward * -1j


def leg_length(params: dict) -> float:
    if 'distance_m' in params:
        return params['distance_m']
    return math.hypot(params.get('forward_m', 0), params.get('right_m', 0))


def assert_within(limits: SafetyLimits, vehicle: VehicleState, source: str,
                  before: Proposal, after: Proposal, report: SafetyReport) -> None:
    """Fail unless `after` respects every limit given the (already fresh) `vehicle`."""
    if source == 'failsafe':  # passed through whatever it is
        assert repr(after) == repr(before) and after is not before
        assert report.status == 'passed'
        return
    after.validate()
    for number in _numbers(after.to_dict()):
        assert math.isfinite(number) and abs(number) <= ABSURD_MAGNITUDE, after
    assert after.action in REPLIES or after.action == 'stop' \
        or after.action in limits.allowed_actions, after
    assert (report.status == 'refused') == (report.refused is not None)
    if report.status == 'refused':
        assert after.action == 'reject' and after.params['reason']
    if after.action != before.action and after.action == 'takeoff':
        # the one reinterpretation: on the ground, a pure climb is a takeoff (then checked as one)
        assert vehicle.in_air is False and before.action in ('change_altitude', 'goto'), \
            (before, after)
        assert report.changes[0].field == 'action', report
    elif after.action != before.action:
        assert after.action in ('reject', 'clarify'), (before, after)
        if after.action == 'clarify':
            assert before.action in limits.confirm_actions
            assert report.status == 'modified'
        else:
            assert report.status == 'refused'
    _action_limits(limits, vehicle, after)


def _action_limits(limits: SafetyLimits, vehicle: VehicleState, after: Proposal) -> None:
    params = after.params
    action = after.action
    position = vehicle.position_m
    battery = vehicle.battery_pct
    if vehicle.in_air is False:
        assert action not in AIRBORNE, after
    if battery is not None and battery < limits.min_battery_takeoff_pct:
        assert action != 'takeoff', (battery, after)
    low_battery = battery is not None and battery < limits.min_battery_mission_pct
    if low_battery:
        assert action not in ('orbit', 'follow', 'search'), (battery, after)
    if action in ('takeoff', 'change_altitude'):
        if 'altitude_m' in params:
            assert limits.min_altitude_m <= params['altitude_m'] <= limits.max_altitude_m
            if low_battery:
                assert position is not None and params['altitude_m'] <= position[2]
        else:
            assert position is not None, 'relative altitude change without a known altitude'
            end = position[2] + params['delta_m']
            assert limits.min_altitude_m - TOL <= end <= limits.max_altitude_m + TOL
            if low_battery:
                assert params['delta_m'] <= 0
    elif action == 'set_speed':
        assert 0 <= params['speed_mps'] <= limits.max_horizontal_speed_mps
    elif action == 'orbit':
        assert limits.min_orbit_radius_m <= params['radius_m'] <= limits.max_orbit_radius_m
        if after.target is None:
            _radius_fits(limits, position, params['radius_m'])
    elif action == 'follow':
        assert params['distance_m'] is not None
        assert limits.min_follow_distance_m <= params['distance_m'] \
            <= limits.max_follow_distance_m
    elif action == 'search':
        assert params['radius_m'] is not None
        assert 0 <= params['radius_m'] <= limits.max_search_radius_m
        _radius_fits(limits, position, params['radius_m'])
    elif action == 'goto':
        _goto_fits(limits, vehicle, after, low_battery)
    elif action == 'hold':
        assert params['duration_s'] is None or params['duration_s'] >= 0


def _radius_fits(limits: SafetyLimits, position, radius: float) -> None:
    if position is None:
        assert radius <= limits.max_leg_without_position_m + TOL
    else:
        assert radius <= limits.geofence.clearance(position[:2]) + TOL


def _goto_fits(limits: SafetyLimits, vehicle: VehicleState, after: Proposal,
               low_battery: bool) -> None:
    params = after.params
    position = vehicle.position_m
    if not params:  # fly to the target: nothing numeric to check
        assert not low_battery
        return
    up = params.get('up_m', 0.0)
    if position is None:
        assert leg_length(params) <= limits.max_leg_without_position_m + TOL
        assert up == 0
        assert not (low_battery and (leg_length(params) > 0 or up > 0))
        return
    altitude = position[2]
    end_altitude = altitude + up
    assert min(limits.min_altitude_m, altitude) - TOL <= end_altitude \
        <= max(limits.max_altitude_m, altitude) + TOL
    start = complex(*position[:2])
    move = horizontal_displacement(params, vehicle.heading_deg)
    fence = limits.geofence
    if move is None:
        assert leg_length(params) <= max(0.0, fence.clearance(position[:2])) + TOL
        assert not (low_battery and leg_length(params) > 0)
        return
    end = start + move
    if fence.contains(position[:2]):
        for k in range(SAMPLES + 1):  # the whole leg, not only its end, stays inside
            point = start + move * k / SAMPLES
            assert fence.contains((point.real, point.imag)), (position, params, k)
    else:
        assert fence.clearance((end.real, end.imag)) > fence.clearance(position[:2]) - TOL \
            or fence.contains((end.real, end.imag))
    if low_battery:
        assert abs(end) <= abs(start) + TOL and up <= 0
