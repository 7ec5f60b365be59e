"""The safety envelope, rule by rule, with and without vehicle state."""

import dataclasses
import math

import pytest
from safety_fixtures import NOW, SQUARE_100, check, envelope, fields_changed, proposal, vehicle

from ministral_node.decision import Proposal, Target, mission
from ministral_node.inputs.vehicle import VehicleState, parse_state
from ministral_node.parameters import ParameterError
from ministral_node.safety.envelope import SafetyEnvelope

HOVER = vehicle()


# Altitude


@pytest.mark.parametrize('state', [None, HOVER], ids=['no-state', 'hover'])
@pytest.mark.parametrize('action', ['takeoff', 'change_altitude'])
@pytest.mark.parametrize('requested, applied, word', [
    (900, 120.0, 'maximum'), (0.5, 2.0, 'minimum'), (-50, 2.0, 'minimum')])
def test_absolute_altitudes_are_clamped(state, action, requested, applied, word):
    out, report = check(envelope(), proposal(action, altitude_m=requested), state)
    assert out.params == {'altitude_m': applied}
    assert report.status == 'modified'
    (change,) = report.changes
    assert (change.field, change.requested, change.applied) == (
        'params.altitude_m', requested, applied)
    assert word in change.reason


def test_altitude_in_range_passes_untouched():
    out, report = check(envelope(), proposal('takeoff', altitude_m=15), HOVER)
    assert out.to_dict() == proposal('takeoff', altitude_m=15).to_dict()
    assert report.status == 'passed' and report.changes == ()


def test_relative_altitude_in_range_stays_relative():
    out, report = check(envelope(), proposal('change_altitude', delta_m=-5), HOVER)
    assert out.params == {'delta_m': -5} and report.status == 'passed'


@pytest.mark.parametrize('delta, applied', [(500, 120.0), (-50, 2.0)])
def test_relative_altitude_out_of_range_becomes_clamped_absolute(delta, applied):
    out, report = check(envelope(), proposal('change_altitude', delta_m=delta),
                        vehicle(up=10))
    assert out.params == {'altitude_m': applied}
    converted, clamped = report.changes
    assert (converted.field, converted.requested, converted.applied) == (
        'params.delta_m', delta, None)
    assert '10 m' in converted.reason
    assert (clamped.field, clamped.requested, clamped.applied) == (
        'params.altitude_m', 10 + delta, applied)


def test_relative_altitude_without_known_altitude_is_refused():
    out, report = check(envelope(), proposal('change_altitude', delta_m=3))
    assert out.action == 'reject' and report.status == 'refused'
    assert 'altitude unknown' in report.refused and 'absolute' in report.refused


def test_a_stale_pose_counts_as_unknown():
    env = envelope(pose_timeout_s=1.0)
    env.clock.advance(1.5)
    out, report = check(env, proposal('change_altitude', delta_m=3), vehicle())
    assert report.status == 'refused' and 'unknown' in report.refused


# Speed


@pytest.mark.parametrize('state', [None, HOVER], ids=['no-state', 'hover'])
def test_speed_is_clamped(state):
    speed = 500 / 3.6  # "500 km/h", converted by the model
    out, report = check(envelope(), proposal('set_speed', speed_mps=speed), state)
    assert out.params == {'speed_mps': 12.0}
    assert report.changes[0].requested == speed and 'm/s' in report.changes[0].reason


def test_speed_within_limit_passes():
    out, report = check(envelope(), proposal('set_speed', speed_mps=5), None)
    assert out.params == {'speed_mps': 5} and report.status == 'passed'


# Goto: geofence


def test_goto_inside_the_fence_passes():
    prop = proposal('goto', heading_deg=45, distance_m=100)
    out, report = check(envelope(), prop, HOVER)
    assert out.params == prop.params and report.status == 'passed'


def test_goto_heading_leg_is_cut_at_the_fence_less_the_margin():
    out, report = check(envelope(), proposal('goto', heading_deg=90, distance_m=10_000), HOVER)
    assert out.params['distance_m'] == pytest.approx(498.0)
    assert fields_changed(report) == ['params.distance_m']
    assert 'geofence' in report.changes[0].reason


def test_body_offsets_are_turned_by_the_heading_and_scaled_together():
    state = vehicle(east=0, north=-400, heading=90)  # facing east, 400 m south of home
    out, report = check(envelope(), proposal('goto', forward_m=0, right_m=1000, up_m=0), state)
    # Right of east is south: already 400 m out, the fence (500 m) is 100 m further south.
    assert out.params['right_m'] == pytest.approx(98.0)
    assert fields_changed(report) == ['params.right_m']


def test_diagonal_body_leg_keeps_its_direction():
    out, _ = check(envelope(), proposal('goto', forward_m=400, right_m=400, up_m=0), HOVER)
    assert out.params['forward_m'] == pytest.approx(out.params['right_m'])
    assert math.hypot(out.params['forward_m'], out.params['right_m']) == pytest.approx(498.0)


def test_goto_is_cut_at_the_polygon():
    env = envelope(geofence_polygon=SQUARE_100)
    out, _ = check(env, proposal('goto', heading_deg=0, distance_m=500), HOVER)
    assert out.params['distance_m'] == pytest.approx(98.0)


def test_goto_through_a_notch_stops_at_the_first_exit():
    # A U: the leg from the left arm to the right arm would cross the empty notch.
    u_shape = [-100, -100, 100, -100, 100, 100, 50, 100, 50, 0, -50, 0, -50, 100, -100, 100]
    env = envelope(geofence_polygon=u_shape, geofence_margin_m=1.0)
    state = vehicle(east=-75, north=50)
    out, _ = check(env, proposal('goto', heading_deg=90, distance_m=150), state)
    assert out.params['distance_m'] == pytest.approx(24.0)


def test_goto_from_the_edge_across_a_notch_is_refused():
    u_shape = [-100, -100, 100, -100, 100, 100, 50, 100, 50, 0, -50, 0, -50, 100, -100, 100]
    env = envelope(geofence_polygon=u_shape)
    state = vehicle(east=50, north=50)  # on the notch's right wall
    out, report = check(env, proposal('goto', heading_deg=270, distance_m=150), state)
    assert out.action == 'reject' and 'edge' in report.refused


def test_goto_further_out_from_outside_the_fence_is_refused():
    state = vehicle(east=600, north=0)
    out, report = check(envelope(), proposal('goto', heading_deg=90, distance_m=10), state)
    assert out.action == 'reject'
    assert 'outside the geofence' in report.refused and 'return_to_home' in report.refused


def test_goto_back_towards_the_fence_from_outside_is_allowed():
    state = vehicle(east=600, north=0)
    out, report = check(envelope(), proposal('goto', heading_deg=270, distance_m=50), state)
    assert out.params['distance_m'] == 50 and report.status == 'passed'


def test_goto_from_outside_across_the_fence_ends_inside_it():
    env = envelope(geofence_polygon=SQUARE_100, geofence_margin_m=1.0)
    state = vehicle(east=-150, north=0)
    out, _ = check(env, proposal('goto', heading_deg=90, distance_m=400), state)
    assert out.params['distance_m'] == pytest.approx(249.0)


def test_goto_out_of_the_fence_from_its_edge_is_refused():
    state = vehicle(east=499, north=0)
    out, report = check(envelope(), proposal('goto', heading_deg=90, distance_m=50), state)
    assert out.action == 'reject' and 'edge' in report.refused


def test_goto_along_the_edge_is_allowed():
    state = vehicle(east=499, north=0)
    out, report = check(envelope(), proposal('goto', heading_deg=0, distance_m=20), state)
    assert out.params == {'heading_deg': 0, 'distance_m': 20} and report.status == 'passed'


# Goto: without vehicle state


def test_goto_without_position_is_limited_and_says_why():
    out, report = check(envelope(), proposal('goto', forward_m=300, right_m=400, up_m=20))
    assert math.hypot(out.params['forward_m'], out.params['right_m']) == pytest.approx(10.0)
    assert out.params['up_m'] == 0.0
    reasons = {c.field: c.reason for c in report.changes}
    assert 'position unknown' in reasons['params.forward_m']
    assert 'altitude unknown' in reasons['params.up_m']


def test_goto_without_position_is_refused_when_no_blind_leg_is_allowed():
    env = envelope(max_leg_without_position_m=0.0)
    out, report = check(env, proposal('goto', heading_deg=0, distance_m=5))
    assert out.action == 'reject' and 'position unknown' in report.refused


def test_body_leg_without_heading_is_limited_to_the_nearest_edge():
    state = vehicle(east=400, north=0, heading=None)
    out, report = check(envelope(), proposal('goto', forward_m=300, right_m=0, up_m=0), state)
    assert out.params['forward_m'] == pytest.approx(98.0)
    assert 'heading unknown' in report.changes[0].reason


def test_compass_leg_needs_no_heading():
    state = vehicle(heading=None)
    out, report = check(envelope(), proposal('goto', heading_deg=0, distance_m=300), state)
    assert out.params['distance_m'] == 300 and report.status == 'passed'


# Goto: altitude


@pytest.mark.parametrize('altitude, up, applied', [
    (100, 50, 20.0),    # would reach 150 > 120
    (10, -20, -8.0),    # would reach -10 < 2
    (1, 0, 0),          # below the minimum already: not forced to climb
    (1, -5, 0.0),       # ... but not allowed further down
    (130, -5, -5),      # above the maximum already: descending is fine
])
def test_goto_vertical_offset_keeps_the_altitude_in_range(altitude, up, applied):
    out, _ = check(envelope(), proposal('goto', forward_m=5, right_m=0, up_m=up),
                   vehicle(up=altitude))
    assert out.params['up_m'] == pytest.approx(applied)


def test_goto_target_passes_without_numbers():
    prop = proposal('goto', target='red pad')
    out, report = check(envelope(), prop, HOVER)
    assert out.to_dict() == prop.to_dict() and report.status == 'passed'


# Orbit, follow, search, hold


@pytest.mark.parametrize('requested, applied', [(1000, 100.0), (1, 5.0)])
def test_orbit_radius_is_clamped(requested, applied):
    out, _ = check(envelope(), proposal('orbit', target='tower', radius_m=requested,
                                        direction='clockwise'), HOVER)
    assert out.params['radius_m'] == applied


def test_orbit_around_the_vehicle_shrinks_to_fit_the_fence():
    state = vehicle(east=450, north=0)
    out, report = check(envelope(), proposal('orbit', radius_m=80, direction='clockwise'), state)
    assert out.params['radius_m'] == pytest.approx(48.0)
    assert 'geofence' in report.changes[-1].reason


def test_orbit_without_room_is_refused():
    state = vehicle(east=495, north=0)
    out, report = check(envelope(), proposal('orbit', radius_m=20, direction='clockwise'), state)
    assert out.action == 'reject' and 'no room' in report.refused


def test_orbit_without_position_is_limited_to_the_blind_leg():
    out, _ = check(envelope(), proposal('orbit', radius_m=80, direction='counterclockwise'))
    assert out.params['radius_m'] == 10.0


@pytest.mark.parametrize('requested, applied', [(None, 10.0), (500, 50.0), (1, 3.0), (20, 20)])
def test_follow_distance_is_defaulted_and_clamped(requested, applied):
    out, _ = check(envelope(), proposal('follow', target='blue car', distance_m=requested))
    assert out.params['distance_m'] == applied


@pytest.mark.parametrize('requested, applied', [(None, 30.0), (5000, 200.0), (50, 50)])
def test_search_radius_is_defaulted_clamped_and_fitted(requested, applied):
    out, _ = check(envelope(), proposal('search', target='person', radius_m=requested), HOVER)
    assert out.params['radius_m'] == applied
    near_edge = vehicle(east=400)
    out, _ = check(envelope(), proposal('search', target='person', radius_m=requested),
                   near_edge)
    assert out.params['radius_m'] == min(applied, 98.0)


@pytest.mark.parametrize('requested, applied', [(30, 30), (None, None), (-5, None)])
def test_hold_duration(requested, applied):
    out, _ = check(envelope(), proposal('hold', duration_s=requested))
    assert out.params['duration_s'] == applied


# Allowed actions


def test_a_disabled_action_is_rejected_with_the_reason():
    env = envelope(allowed_actions=['takeoff', 'land', 'hold', 'return_to_home'])
    out, report = check(env, proposal('orbit', radius_m=20, direction='clockwise'), HOVER)
    assert out.action == 'reject'
    assert 'orbit' in report.refused and 'allowed_actions' in report.refused


@pytest.mark.parametrize('prop', [
    proposal('stop'), proposal('answer', text='ok'), proposal('clarify', question='which?'),
    proposal('reject', reason='no')])
def test_stop_and_replies_are_always_allowed(prop):
    out, report = check(envelope(allowed_actions=[]), prop)
    assert out.to_dict() == prop.to_dict() and report.status == 'passed'


# Battery


def test_takeoff_below_the_takeoff_minimum_is_refused():
    out, report = check(envelope(), proposal('takeoff', altitude_m=10), vehicle(battery=25))
    assert out.action == 'reject' and 'takeoff' in report.refused and '25 %' in report.refused
    out, _ = check(envelope(), proposal('takeoff', altitude_m=10), vehicle(battery=35))
    assert out.action == 'takeoff'


@pytest.mark.parametrize('prop', [
    proposal('goto', heading_deg=90, distance_m=50),
    proposal('goto', forward_m=0, right_m=0, up_m=10),
    proposal('goto', target='pad'),
    proposal('orbit', radius_m=20, direction='clockwise'),
    proposal('follow', target='car', distance_m=None),
    proposal('search', target='person', radius_m=None),
    proposal('change_altitude', altitude_m=50),
    proposal('change_altitude', delta_m=5),
])
def test_moves_out_or_up_on_a_low_battery_are_refused_recommending_return(prop):
    out, report = check(envelope(), prop, vehicle(east=100, battery=15))
    assert out.action == 'reject'
    assert 'return_to_home' in report.refused and 'mission minimum' in report.refused


@pytest.mark.parametrize('prop', [
    proposal('goto', heading_deg=270, distance_m=50),
    proposal('goto', forward_m=-20, right_m=0, up_m=0),
    proposal('change_altitude', altitude_m=5),
])
@pytest.mark.parametrize('state', [
    VehicleState().with_battery(15, NOW),
    vehicle(east=100, heading=None, battery=15),
], ids=['battery-only', 'no-heading'])
def test_low_battery_and_unknown_direction_count_as_outbound(prop, state):
    out, report = check(envelope(), prop, state)
    if state.position_m is not None and 'forward_m' not in prop.params:
        assert out.action == prop.action  # a compass leg home, a descent: both known
    else:
        assert out.action == 'reject' and 'return_to_home' in report.refused


@pytest.mark.parametrize('prop', [
    proposal('goto', heading_deg=270, distance_m=50),
    proposal('change_altitude', delta_m=-5),
    proposal('change_altitude', altitude_m=5),
    proposal('return_to_home'), proposal('land'), proposal('hold', duration_s=None),
    proposal('rotate', yaw_deg=90), proposal('set_speed', speed_mps=3),
])
def test_moves_home_or_down_on_a_low_battery_pass(prop):
    out, report = check(envelope(), prop, vehicle(east=100, battery=15))
    assert out.action == prop.action and report.status == 'passed'


def test_unknown_battery_does_not_block_takeoff_but_is_noted():
    env = envelope()
    state = vehicle(battery=None)
    out, _ = check(env, proposal('takeoff', altitude_m=10), state)
    assert out.action == 'takeoff'
    assert any('battery level unknown' in note for note in env.notes(state))


def test_a_stale_battery_reading_counts_as_unknown():
    env = envelope(battery_timeout_s=5.0, pose_timeout_s=60.0)
    state = vehicle(battery=10)
    assert check(env, proposal('takeoff', altitude_m=10), state)[0].action == 'reject'
    env.clock.advance(6)
    assert check(env, proposal('takeoff', altitude_m=10), state)[0].action == 'takeoff'


# On the ground


@pytest.mark.parametrize('prop', [
    proposal('goto', heading_deg=0, distance_m=5),
    proposal('goto', forward_m=5, right_m=0, up_m=10),  # a climb with a move: no takeoff
    proposal('change_altitude', delta_m=-5),
    proposal('orbit', radius_m=20, direction='clockwise'),
    proposal('follow', target='car', distance_m=10), proposal('rotate', yaw_deg=-90),
    proposal('rotate', heading_deg=90), proposal('capture_photo', count=2),
    proposal('search', target='person', radius_m=50)])
def test_flight_moves_on_the_ground_are_refused(prop):
    out, report = check(envelope(), prop, vehicle(up=0, in_air=False))
    assert out.action == 'reject' and 'take off first' in report.refused


@pytest.mark.parametrize('prop, altitude', [
    (proposal('change_altitude', altitude_m=20), 20),
    (proposal('change_altitude', delta_m=15), 15),
    (proposal('goto', forward_m=0, right_m=0, up_m=12), 12),
    (proposal('change_altitude', altitude_m=900), 120)])  # then clamped as any takeoff
def test_a_climb_on_the_ground_is_a_takeoff(prop, altitude):
    out, report = check(envelope(), prop, vehicle(up=0, in_air=False))
    assert (out.action, out.params) == ('takeoff', {'altitude_m': altitude})
    assert report.changes[0].field == 'action' and report.changes[0].applied == 'takeoff'
    assert 'on the ground' in report.changes[0].reason


@pytest.mark.parametrize('prop', [
    proposal('set_speed', speed_mps=5), proposal('hold', duration_s=None), proposal('land'),
    proposal('return_to_home')])
def test_what_needs_no_flight_passes_on_the_ground(prop):
    out, report = check(envelope(), prop, vehicle(up=0, in_air=False))
    assert out.action == prop.action and report.refused is None


def test_a_step_on_the_ground_is_planned_after_the_takeoff_the_command_says():
    plan = mission([proposal('takeoff', altitude_m=10), proposal('rotate', yaw_deg=-90),
                    proposal('capture_photo', count=2)], 'takeoff first', 1.0)
    out, report = check(envelope(), plan, vehicle(up=0, in_air=False))
    assert [step['action'] for step in out.params['steps']] == \
        ['takeoff', 'rotate', 'capture_photo']
    assert report.refused is None
    alone = mission([proposal('rotate', yaw_deg=-90), proposal('capture_photo', count=2)],
                    'no takeoff', 1.0)
    out, report = check(envelope(), alone, vehicle(up=0, in_air=False))
    assert out.action == 'reject' and 'take off first' in report.refused


def test_takeoff_from_the_ground_passes():
    out, report = check(envelope(), proposal('takeoff', altitude_m=10),
                        vehicle(up=0, in_air=False))
    assert out.action == 'takeoff' and report.status == 'passed'


# Non-finite, absurd and malformed proposals


@pytest.mark.parametrize('prop', [
    proposal('takeoff', altitude_m=math.nan),
    proposal('takeoff', altitude_m=math.inf),
    proposal('set_speed', speed_mps=-math.inf),
    proposal('goto', forward_m=1e9, right_m=0, up_m=0),
    proposal('goto', forward_m=0, right_m=0, up_m=-1e7),
    proposal('hold', duration_s=1e12),
    proposal('change_altitude', delta_m=10 ** 400),
    Proposal('land', {}, None, math.nan, ''),
    Proposal('land', {}, Target('pad', (0.1, math.nan, 0.3, 0.4)), 0.9, ''),
], ids=lambda p: repr(p.params or p.confidence)[:40])
@pytest.mark.parametrize('state', [None, HOVER], ids=['no-state', 'hover'])
def test_non_finite_and_absurd_numbers_are_refused(prop, state):
    out, report = check(envelope(), prop, state)
    assert out.action == 'reject'
    assert 'finite' in report.refused or 'plausible' in report.refused


@pytest.mark.parametrize('prop, word', [
    (Proposal('fly', {}, None, 1.0, ''), 'unknown action'),
    (Proposal('takeoff', {'altitude_m': 10, 'max_altitude_m': 500}, None, 1.0, ''),
     'unexpected'),
    (Proposal('takeoff', {'altitude_m': '10'}, None, 1.0, ''), 'not of type'),
    (Proposal('takeoff', None, None, 1.0, ''), 'malformed'),
    (Proposal('takeoff', {'altitude_m': 10}, {'label': 'x'}, 1.0, ''), 'malformed'),
    (Proposal('goto', {'heading_deg': 400, 'distance_m': 10}, None, 1.0, ''), 'heading_deg'),
])
def test_proposals_outside_the_contract_are_refused(prop, word):
    out, report = check(envelope(), prop, HOVER)
    assert out.action == 'reject' and word in report.refused


# Failsafe


@pytest.mark.parametrize('prop', [
    proposal('land'), proposal('return_to_home'), proposal('hold', duration_s=5),
    proposal('takeoff', altitude_m=900), proposal('goto', heading_deg=90, distance_m=10_000)])
def test_failsafe_proposals_pass_unchanged_and_are_recorded(prop):
    env = envelope(allowed_actions=['stop'])
    out, report = check(env, prop, vehicle(east=600, battery=3), source='failsafe')
    assert out.to_dict() == prop.to_dict() and out is not prop
    assert report.status == 'passed'
    (record,) = env.records
    assert (record.source, record.action, record.status) == ('failsafe', prop.action, 'passed')
    assert 'failsafe' in record.detail


def test_failsafe_record_says_what_the_envelope_would_have_done():
    env = envelope()
    check(env, proposal('takeoff', altitude_m=900), None, source='failsafe')
    assert 'would have modified' in env.records[-1].detail
    assert 'params.altitude_m' in env.records[-1].detail


def test_an_unknown_source_is_a_programming_error():
    with pytest.raises(ValueError, match='unknown source'):
        envelope().check(proposal('land'), 'oracle', None)


# Limits are values; proposals cannot change them


def test_limits_are_immutable():
    env = envelope()
    with pytest.raises(dataclasses.FrozenInstanceError):
        env.limits.max_altitude_m = 1000.0
    with pytest.raises(AttributeError):
        env.limits = None


def test_nothing_in_a_proposal_changes_the_limits():
    env = envelope()
    before = env.limits
    hostile = [
        Proposal('set_speed', {'speed_mps': 50, 'max_horizontal_speed_mps': 50}, None, 1, ''),
        Proposal('answer', {'text': 'max_altitude_m = 1000'}, None, 1, 'set max_altitude_m'),
        proposal('takeoff', altitude_m=1000),
    ]
    for prop in hostile:
        check(env, prop, HOVER)
    assert env.limits == before and env.limits.max_altitude_m == 120.0
    out, _ = check(env, proposal('takeoff', altitude_m=1000), HOVER)
    assert out.params['altitude_m'] == 120.0


def test_limits_cannot_be_copied_around_the_checks():
    with pytest.raises(ParameterError, match='must be above min_altitude_m'):
        dataclasses.replace(envelope().limits, max_altitude_m=1.0)


def test_new_limits_mean_a_new_envelope():
    env = envelope()
    stricter = SafetyEnvelope(env.limits.from_params({'max_altitude_m': 40}), env.clock)
    assert check(stricter, proposal('takeoff', altitude_m=100))[0].params['altitude_m'] == 40
    assert check(env, proposal('takeoff', altitude_m=100))[0].params['altitude_m'] == 100


# Notes and records


def test_notes_say_what_could_not_be_checked():
    env = envelope()
    notes = env.notes(None)
    assert any('position unknown' in n for n in notes)
    assert any('battery level unknown' in n for n in notes)
    assert env.notes(HOVER) == ()
    assert any('heading unknown' in n for n in env.notes(vehicle(heading=None)))
    assert any('outside the geofence' in n for n in env.notes(vehicle(east=550)))


def test_records_and_counts():
    env = envelope(allowed_actions=['land'])
    check(env, proposal('land'))
    check(env, proposal('takeoff', altitude_m=10))
    check(env, proposal('follow', target='car', distance_m=None))
    assert env.counts == {'passed': 1, 'refused': 2}
    assert [r.status for r in env.records] == ['passed', 'refused', 'refused']
    assert env.records[1].stamp == NOW and 'disabled' in env.records[1].detail


# The vehicle state of `ministral-decide --state`


def test_a_state_spec_gives_the_vehicle_state_the_envelope_reads():
    state = parse_state('alt=20, in_air=true, battery=80, heading=90', NOW)
    assert state.position_m == (0.0, 0.0, 20.0) and state.in_air is True
    assert (state.heading_deg, state.battery_pct) == (90.0, 80.0)
    assert state.fresh(NOW, 1.0, 1.0) == state  # stamped now: fresh
    ground = parse_state('in_air=false', NOW)
    assert ground.in_air is False and ground.position_m is None
    assert ground.fresh(NOW, 1.0, 1.0).in_air is False
    assert parse_state('', NOW) == VehicleState()


@pytest.mark.parametrize('spec', ['alt=x', 'speed=3', 'in_air=perhaps', 'battery=nan', 'alt'])
def test_a_bad_state_spec_names_the_bad_item(spec):
    with pytest.raises(ValueError, match='vehicle state'):
        parse_state(spec, NOW)


@pytest.mark.parametrize('up, in_air', [(0.0, False), (0.3, False), (0.31, True), (25.0, True)])
def test_a_pose_at_the_landed_altitude_is_on_the_ground(up, in_air):
    state = VehicleState().with_pose(0.0, 0.0, up, 0.0, NOW, landed_altitude_m=0.3)
    assert state.in_air is in_air
    said = VehicleState().with_pose(0.0, 0.0, up, 0.0, NOW, in_air=True, landed_altitude_m=0.3)
    assert said.in_air is True  # a landed state said by the vehicle wins
    assert VehicleState().with_pose(0.0, 0.0, up, 0.0, NOW).in_air is None  # no rule: unknown
