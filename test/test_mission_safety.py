"""The safety envelope on missions: steps checked against the predicted state, per step."""

import pytest
from safety_fixtures import SQUARE_100, envelope, proposal, vehicle

from ministral_node.decision import mission, steps_of
from ministral_node.safety.mission_checks import predict


def _mission(*steps):
    return mission(list(steps), 'test', 0.8)


def test_a_mission_inside_the_limits_passes_unchanged():
    plan = _mission(proposal('takeoff', altitude_m=20.0),
                    proposal('goto', heading_deg=0.0, distance_m=50.0), proposal('land'))
    out, report = envelope().check(plan, 'rules', vehicle(up=0.0, in_air=False))
    assert report.status == 'passed' and out.to_dict() == plan.to_dict()


def test_each_step_is_checked_from_the_state_the_steps_before_predict():
    # 60 m north then 60 m north again: the second leg crosses the 100 m fence (margin 2 m).
    plan = _mission(proposal('goto', heading_deg=0.0, distance_m=60.0),
                    proposal('goto', heading_deg=0.0, distance_m=60.0),
                    proposal('change_altitude', altitude_m=500.0))
    out, report = envelope(geofence_polygon=SQUARE_100).check(plan, 'rules', vehicle())
    fields = {c.field: c for c in report.changes}
    assert report.status == 'modified'
    assert fields['steps[1].params.distance_m'].applied == 38.0
    assert fields['steps[2].params.altitude_m'].applied == 120.0
    assert [s.params for s in steps_of(out)][1:] == [{'heading_deg': 0.0, 'distance_m': 38.0},
                                                     {'altitude_m': 120.0}]


def test_a_refused_step_refuses_the_steps_after_it_and_the_rest_is_published():
    plan = _mission(proposal('capture_photo', count=1), proposal('land'),
                    proposal('goto', heading_deg=90.0, distance_m=10.0), proposal('land'))
    out, report = envelope().check(plan, 'rules', vehicle())
    refused = [c for c in report.changes if c.applied is None]
    assert [c.field for c in refused] == ['steps[2]', 'steps[3]']
    assert 'take off first' in refused[0].reason and 'refused step 2' in refused[1].reason
    assert out.action == 'mission' and [s.action for s in steps_of(out)] == [
        'capture_photo', 'land']


def test_land_after_land_is_refused_as_the_vehicle_is_on_the_ground():
    plan = _mission(proposal('land'), proposal('land'))
    out, report = envelope().check(plan, 'rules', vehicle())
    assert out.action == 'land' and report.changes[0].field == 'steps[1]'
    assert 'already on the ground' in report.changes[0].reason


def test_a_mission_whose_first_step_is_refused_is_refused():
    plan = _mission(proposal('goto', heading_deg=0.0, distance_m=50.0), proposal('land'))
    out, report = envelope().check(plan, 'rules', vehicle(up=0.0, in_air=False))
    assert out.action == 'reject' and report.status == 'refused'
    assert [c.field for c in report.changes] == ['steps[0]', 'steps[1]']


def test_legs_without_a_position_are_limited_each():
    plan = _mission(proposal('goto', heading_deg=0.0, distance_m=50.0),
                    proposal('goto', heading_deg=90.0, distance_m=50.0))
    out, report = envelope().check(plan, 'rules', None)
    assert [c.field for c in report.changes] == ['steps[0].params.distance_m',
                                                 'steps[1].params.distance_m']
    assert [s.params['distance_m'] for s in steps_of(out)] == [10.0, 10.0]


def test_longer_than_max_mission_steps_is_refused_not_cut():
    plan = _mission(*[proposal('capture_photo', count=1)] * 5)
    out, report = envelope(max_mission_steps=4).check(plan, 'rules', vehicle())
    assert out.action == 'reject' and 'max_mission_steps (4)' in report.refused


def test_a_step_that_needs_confirmation_holds_the_whole_mission():
    plan = _mission(proposal('takeoff', altitude_m=10.0), proposal('land'))
    env = envelope(confirm_actions=['takeoff'])
    out, _ = env.check(plan, 'rules', vehicle(up=0.0, in_air=False))
    assert out.action == 'clarify' and env.pending_confirmation.proposal.action == 'mission'


def test_a_disabled_step_action_refuses_that_step():
    allowed = ['takeoff', 'land', 'hold', 'mission', 'stop']
    plan = _mission(proposal('takeoff', altitude_m=10.0), proposal('capture_photo', count=1),
                    proposal('land'))
    out, report = envelope(allowed_actions=allowed).check(
        plan, 'rules', vehicle(up=0.0, in_air=False))
    assert out.action == 'takeoff'
    assert 'disabled' in report.changes[0].reason and report.changes[0].field == 'steps[1]'


def test_check_step_rechecks_against_the_live_state():
    env = envelope(geofence_polygon=SQUARE_100)
    step, report = env.check_step(proposal('goto', heading_deg=0.0, distance_m=60.0),
                                  'rules', vehicle(north=90.0))
    assert report.changes[0].applied == 8.0 and step.params['distance_m'] == 8.0


def test_prediction_follows_each_action():
    state = vehicle(up=0.0, in_air=False, heading=90.0)
    state = predict(proposal('takeoff', altitude_m=15.0), state)
    assert (state.position_m, state.in_air) == ((0.0, 0.0, 15.0), True)
    state = predict(proposal('goto', forward_m=10.0, right_m=0.0, up_m=5.0), state)
    assert state.position_m == pytest.approx((10.0, 0.0, 20.0))  # heading east
    state = predict(proposal('rotate', yaw_deg=-90.0), state)
    assert state.heading_deg == 0.0
    state = predict(proposal('goto', target='car'), state)
    assert state.position_m is None
    assert predict(proposal('return_to_home'), state).position_m == (0.0, 0.0, 0.0)
