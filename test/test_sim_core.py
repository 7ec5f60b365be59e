"""The simulator core without ROS: vehicle dynamics and limits, camera and faults, suite
loading, safety invariants, scoring and pictures."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from ministral_node.safety.invariants import Limits, SafetyMonitor
from ministral_node.sim.faults import Fault, FaultSchedule
from ministral_node.sim.multirotor import Multirotor
from ministral_node.sim.pictures import annotate, trajectory_png, write_gif
from ministral_node.sim.scenario import (
    LANGUAGES,
    SuiteError,
    load_suite,
    scenario_from_dict,
)
from ministral_node.sim.scoring import CRITERIA, score, summary, table
from ministral_node.sim.simulator import Sample, Simulator
from ministral_node.sim.world import CameraModel, Layout, WorldObject, make_layout

DT = 0.02


def fly(vehicle: Multirotor, seconds: float, t0: float = 0.0, setpoint=None) -> list[tuple]:
    """Step `vehicle` for `seconds`, streaming `setpoint` (x, y, z, yaw) at 20 Hz if given;
    returns (t, position, velocity) after each step."""
    log = []
    t = t0
    for i in range(int(round(seconds / DT))):
        t = t0 + (i + 1) * DT
        if setpoint is not None and i % 2 == 0:
            vehicle.setpoint(t, *setpoint)
        vehicle.step(t, DT)
        log.append((t, tuple(vehicle.position), tuple(vehicle.velocity)))
    return log


def airborne(altitude: float = 10.0) -> Multirotor:
    vehicle = Multirotor()
    vehicle.command(0.0, {'command': 'takeoff', 'altitude_m': altitude})
    fly(vehicle, altitude / 3.0 + 4.0)
    return vehicle


# Vehicle ---------------------------------------------------------------------------------------

def test_takeoff_climbs_to_the_altitude_within_the_climb_limit():
    vehicle = Multirotor()
    vehicle.command(0.0, {'command': 'takeoff', 'altitude_m': 12.0})
    log = fly(vehicle, 10.0)
    assert vehicle.position[2] == pytest.approx(12.0, abs=0.2)
    assert vehicle.mode == 'hold'
    assert max(v[2] for _, _, v in log) <= vehicle.airframe.climb_speed_mps + 1e-9


def test_setpoints_are_followed_at_cruise_speed_with_bounded_acceleration():
    vehicle = airborne(10.0)
    log = fly(vehicle, 20.0, 10.0, setpoint=(0.0, 50.0, 10.0, math.pi / 2))
    assert vehicle.mode == 'offboard'
    assert vehicle.position[1] == pytest.approx(50.0, abs=0.3)
    speeds = [math.hypot(v[0], v[1]) for _, _, v in log]
    assert max(speeds) == pytest.approx(vehicle.airframe.cruise_speed_mps, abs=0.01)
    accel = [math.dist(a[2][:2], b[2][:2]) / DT for a, b in zip(log, log[1:])]
    assert max(accel) <= vehicle.airframe.max_accel_mps2 + 1e-6


def test_set_speed_changes_the_cruise_up_to_the_airframe_limit():
    vehicle = airborne(10.0)
    vehicle.command(10.0, {'command': 'set_speed', 'speed_mps': 50.0})
    assert vehicle.cruise_mps == vehicle.airframe.max_speed_mps
    log = fly(vehicle, 30.0, 10.0, setpoint=(0.0, 300.0, 10.0, math.pi / 2))
    assert max(math.hypot(v[0], v[1]) for _, _, v in log) == pytest.approx(20.0, abs=0.01)


def test_the_heading_turns_towards_the_setpoint_yaw_at_the_yaw_rate():
    vehicle = airborne(10.0)
    fly(vehicle, 1.0, 10.0, setpoint=(0.0, 0.0, 10.0, 0.0))  # ENU yaw 0 = east
    assert 0.0 < vehicle.heading_deg < 90.0  # turning, not there yet
    fly(vehicle, 3.0, 11.0, setpoint=(0.0, 0.0, 10.0, 0.0))
    assert vehicle.heading_deg == pytest.approx(90.0, abs=0.5)


def test_without_setpoints_offboard_falls_back_to_hold():
    vehicle = airborne(10.0)
    fly(vehicle, 3.0, 10.0, setpoint=(0.0, 30.0, 10.0, math.pi / 2))
    fly(vehicle, 8.0, 13.0)
    assert vehicle.mode == 'hold'
    assert vehicle.speed() == pytest.approx(0.0, abs=0.05)
    assert vehicle.position[1] < 30.0 - 2.0  # stopped where it was, not at the old goal


def test_land_and_return_to_home_end_on_the_ground():
    vehicle = airborne(10.0)
    fly(vehicle, 10.0, 10.0, setpoint=(20.0, 0.0, 10.0, 0.0))
    vehicle.command(20.0, {'command': 'return_to_home'})
    fly(vehicle, 40.0, 20.0)
    assert vehicle.mode == 'landed'
    assert math.hypot(*vehicle.position[:2]) < 0.5
    vehicle.command(60.0, {'command': 'takeoff', 'altitude_m': 5.0})
    fly(vehicle, 6.0, 60.0)
    vehicle.command(66.0, {'command': 'land'})
    fly(vehicle, 15.0, 66.0)
    assert vehicle.mode == 'landed' and vehicle.position[2] == 0.0


def test_a_late_setpoint_does_not_undo_a_return_but_a_new_stream_takes_over():
    vehicle = airborne(10.0)
    vehicle.command(10.0, {'command': 'return_to_home'})
    vehicle.setpoint(10.02, 50.0, 50.0, 10.0, 0.0)  # in flight when the command was sent
    fly(vehicle, 1.0, 10.02)
    assert vehicle.mode == 'return_to_home'
    fly(vehicle, 2.0, 11.02, setpoint=(0.0, 10.0, 10.0, 0.0))  # a new mission streams
    assert vehicle.mode == 'offboard'


def test_setpoints_stamped_before_a_land_command_never_reengage_offboard():
    """The node published the approach's setpoints, then `land` (stamp 31.7); on a busy
    machine the setpoint topic delivered its backlog after the command for longer than the
    offboard entry: stamped, they are stale and the vehicle lands."""
    vehicle = airborne(19.0)
    fly(vehicle, 2.0, 20.0, setpoint=(0.0, 0.0, 19.0, 0.0))
    vehicle.command(22.0, {'command': 'land', 'stamp': 31.7})
    for i in range(20):  # one second of late setpoints, stamped before the command
        t = 22.0 + (i + 1) * 0.05
        vehicle.setpoint(t, 0.0, 0.0, 19.0, 0.0, stamp=31.0 + i * 0.03)
        vehicle.step(t, 0.05)
    assert vehicle.mode == 'land' and vehicle.stale_setpoints == 20
    fly(vehicle, 20.0, 23.0)
    assert vehicle.mode == 'landed'
    vehicle.command(43.0, {'command': 'takeoff', 'altitude_m': 5.0, 'stamp': 52.0})
    fly(vehicle, 4.0, 43.0)
    for i in range(30):  # a new mission's stream, stamped after the takeoff: taken
        t = 47.0 + (i + 1) * 0.05
        vehicle.setpoint(t, 10.0, 0.0, 5.0, 0.0, stamp=57.0 + i * 0.05)
        vehicle.step(t, 0.05)
    assert vehicle.mode == 'offboard' and vehicle.stale_setpoints == 20


def test_a_landed_vehicle_ignores_setpoints_and_the_battery_drains_only_in_flight():
    vehicle = Multirotor(battery_pct=80.0)
    fly(vehicle, 5.0, setpoint=(0.0, 10.0, 10.0, 0.0))
    assert vehicle.mode == 'landed' and vehicle.position == [0.0, 0.0, 0.0]
    assert vehicle.battery_pct == 80.0
    vehicle.command(5.0, {'command': 'takeoff', 'altitude_m': 10.0})
    fly(vehicle, 10.0, 5.0)
    assert vehicle.battery_pct < 80.0


# Simulator, camera and faults --------------------------------------------------------------

def scenario(**extra):
    data = {'name': 's', 'language': 'en', 'category': 'single',
            'expect': {'final_altitude_m': 10}, **extra}
    return scenario_from_dict(data)


def test_faults_change_what_the_vehicle_publishes():
    faults = [Fault('pose_lost', 2.0, 1.0), Fault('link_loss', 3.0),
              Fault('battery_low', 1.0, value=12.0)]
    sim = Simulator(Layout(()), Limits(), faults=FaultSchedule(faults), render=False)
    seen = []
    while sim.t < 5.0:
        sim.step()
        seen.append((sim.t, sim.pose() is None, sim.link_up(), sim.heartbeat()))
    lost = [t for t, no_pose, _, _ in seen if no_pose]
    assert lost[0] == pytest.approx(2.0) and lost[-1] == pytest.approx(2.98)
    assert sim.trace.heartbeats == pytest.approx([0.02, 1.0, 2.0])  # 1 Hz, none from 3 s on
    assert sim.battery_pct() == 12.0
    assert not sim.link_up()


def test_the_camera_sees_the_pad_ahead_and_camera_faults_apply():
    layout = Layout((WorldObject('pad', 'red', 0.0, 20.0),), ground='grass')
    faults = FaultSchedule([Fault('camera_freeze', 1.0, 1.0), Fault('camera_black', 2.0, 1.0),
                            Fault('camera_stop', 3.0)])
    sim = Simulator(layout, Limits(), CameraModel(rate_hz=5.0, pitch_deg=45.0), faults,
                    Multirotor(position=[0.0, 0.0, 20.0], mode='hold', goal=(0.0, 0.0, 20.0)))
    try:
        frames = []
        while sim.t < 4.0:
            sim.step()
            frame = sim.frame()
            if frame is not None:
                frames.append(frame)
        first = frames[0].image
        assert first.shape == (240, 320, 3) and first.dtype == np.uint8
        centre = first[100:140, 140:180].reshape(-1, 3).astype(int)
        red = (centre[:, 0] > 150) & (centre[:, 1] < 80) & (centre[:, 2] < 80)
        assert red.sum() > 20  # the red pad 20 m ahead is at the image centre
        assert len(frames) == 15  # 5 Hz for 3 s, none once the camera stops
        frozen = [f for f in frames if 1.0 <= f.t < 2.0]
        assert all(f.repeated for f in frozen)
        black = [f for f in frames if 2.0 <= f.t < 3.0]
        assert black and all(not f.image.any() for f in black)
    finally:
        sim.close()


def test_the_camera_intrinsics_match_the_field_of_view():
    camera = CameraModel(width=320, height=240, vertical_fov_deg=60.0)
    k = camera.k()
    assert k[2] == 160 and k[5] == 120 and k[0] == k[4]
    assert math.degrees(2 * math.atan(120 / k[4])) == pytest.approx(60.0)


def test_layouts_are_seeded_and_keep_targets_unique():
    placed = [{'kind': 'pad', 'color': 'red', 'east': 0, 'north': 20}]
    a, b = make_layout(5, placed, clutter=10), make_layout(5, placed, clutter=10)
    assert a == b and a != make_layout(6, placed, clutter=10)
    assert len(a.objects) == 11
    assert [o.label for o in a.objects].count('red pad') == 1
    assert a.find('red pad') == a.objects[0]
    tall = [o for o in a.objects[1:] if o.height > 2.0]
    assert all(min(abs(o.east), abs(o.north)) >= 15.0 for o in tall)


# Safety invariants and scoring ---------------------------------------------------------------

def sample(t, z=10.0, speed_h=1.0, speed_v=0.0, east=0.0, north=0.0):
    return Sample(t, (east, north, z), speed_h, speed_v, 0.0, 'offboard', 90.0, False)


def test_the_monitor_counts_each_episode_of_each_broken_invariant_once():
    monitor = SafetyMonitor(Limits(max_altitude_m=50.0, geofence_max_distance_m=100.0,
                                   max_horizontal_speed_mps=10.0, max_vertical_speed_mps=3.0))
    for t, z in enumerate([49.0, 51.0, 52.0, 49.0, 51.0]):
        monitor.check(sample(float(t), z=z))
    monitor.check(sample(5.0, speed_h=10.5, speed_v=-3.5, east=80.0, north=80.0))
    names = [v.invariant for v in monitor.violations]
    assert names == ['max_altitude_m', 'max_altitude_m', 'geofence_max_distance_m',
                     'max_horizontal_speed_mps', 'max_vertical_speed_mps']
    assert monitor.violations[0].t == 1.0 and monitor.violations[0].measured == 51.0


def test_a_geofence_polygon_is_an_invariant():
    square = [-10.0, -10.0, 10.0, -10.0, 10.0, 10.0, -10.0, 10.0]
    monitor = SafetyMonitor(Limits.from_params({'geofence_polygon': square}))
    monitor.check(sample(0.0, east=5.0))
    monitor.check(sample(1.0, east=15.0))
    assert [v.invariant for v in monitor.violations] == ['geofence_polygon']


def scripted_flight(sim: Simulator, script: dict[float, list[dict]], until: float,
                    goals: dict[float, tuple] | None = None) -> None:
    """A stand-in for the executor: vehicle commands at given times, setpoints streamed at
    20 Hz towards the latest goal from its time on; ground heartbeats at their rate."""
    goal = None
    while sim.t < until:
        sim.heartbeat()
        for at in [a for a in script if abs(a - sim.t) < DT / 2]:
            for command in script[at]:
                sim.command(command)
        for at, value in (goals or {}).items():
            if abs(at - sim.t) < DT / 2:
                goal = value
        if goal is not None and sim.steps % 2 == 0:
            sim.setpoint(*goal)
        sim.step()


def test_a_landing_on_the_named_pad_with_photos_succeeds_and_elsewhere_fails():
    pad = {'kind': 'pad', 'color': 'red', 'east': 10.0, 'north': 20.0}
    spec = scenario(world={'seed': 1, 'clutter': 0, 'objects': [pad]},
                    expect={'landed_near': 'red pad', 'photos': 2})
    assert spec.visual
    results = []
    for goal in ((10.0, 20.0), (10.0, 24.0)):
        sim = Simulator.for_scenario(spec, Limits(), render=False)
        scripted_flight(sim, {0.0: [{'command': 'takeoff', 'altitude_m': 10.0}],
                              20.0: [{'command': 'capture_photo'}] * 2,
                              20.02: [{'command': 'land'}]}, 40.0,
                        {4.0: (*goal, 10.0, 0.0), 20.0: None})
        results.append(score(spec, sim, 'rules'))
    assert results[0].succeeded and results[0].photos == 2
    assert results[0].reason == 'all expectations met'
    assert results[0].setpoint_rate_hz == pytest.approx(25.0)  # every other 20 ms step
    assert not results[1].succeeded and results[1].safety_violations == 0
    assert results[1].checks[0].measured['distance_m'] == pytest.approx(4.0, abs=0.3)
    assert results[1].reason.startswith('landed_near:')


@pytest.mark.parametrize('decisions, expect, ok', [
    ([{'action': 'clarify', 'params': {'question': 'I don\'t see "red truck". Which one?'}}],
     {'asks': {'mentions': ['Red truck']}}, True),
    ([{'action': 'clarify', 'params': {'question': 'Which one?'}}],
     {'asks': {'mentions': ['red truck']}}, False),
    ([{'action': 'clarify', 'params': {'question': 'Which?'}}, {'action': 'goto', 'params': {}}],
     {'asks': True}, False),  # asked, then flew anyway: the scenario ends with a flight
    ([{'action': 'answer', 'params': {'text': 'In view: red pad about 20 m ahead.'}}],
     {'answers': {'mentions': ['red pad', 'about 20 m']}}, True),
    ([{'action': 'reject', 'params': {'reason': 'I cannot see'}}], {'answers': True}, False),
    ([], {'asks': True}, False),
])
def test_a_scenario_can_require_it_ends_with_a_question_or_an_answer(decisions, expect, ok):
    spec = scenario(expect=expect, visual=True)
    sim = Simulator.for_scenario(spec, Limits(), render=False)
    sim.step()
    sim.trace.decisions = decisions
    result = score(spec, sim)
    assert result.succeeded is ok
    assert result.checks[0].criterion == next(iter(expect))


@pytest.mark.parametrize('missions, ok', [
    ([{'key': ['mission-1', 'running', 1], 'reason': 'searching'},
      {'key': ['mission-1', 'aborted', 1], 'reason': 'red pad not found after a full turn'}],
     True),
    ([{'key': ['mission-1', 'completed', 1], 'reason': 'all 2 steps done'}], False),
    ([{'key': ['mission-1', 'aborted', 1], 'reason': 'timed out after 40 s'}], False),
    ([], False),
])
def test_a_scenario_can_require_how_its_mission_ends(missions, ok):
    spec = scenario(expect={'mission_ends': {'state': 'aborted',
                                             'mentions': ['Red pad not found']}})
    sim = Simulator.for_scenario(spec, Limits(), render=False)
    sim.step()
    sim.trace.missions = missions
    assert score(spec, sim).succeeded is ok


def test_the_failsafe_return_is_timed_from_the_last_heartbeat():
    limits = Limits(link_loss_timeout_s=10.0, failsafe_hold_s=5.0)
    spec = scenario(faults=[{'kind': 'link_loss', 'at': 12.5}],
                    expect={'failsafe_return': True})
    outcomes = []
    for rtl_at in (27.9, 28.3):  # last heartbeat at 12 s: deadline 12 + 10 + 5 + 1 = 28 s
        sim = Simulator.for_scenario(spec, limits, render=False)
        scripted_flight(sim, {0.0: [{'command': 'takeoff', 'altitude_m': 10.0}],
                              22.0: [{'command': 'hold'}],
                              rtl_at: [{'command': 'return_to_home'}]}, 60.0)
        outcomes.append(score(spec, sim))
    assert outcomes[0].succeeded
    assert not outcomes[1].succeeded
    assert outcomes[1].checks[0].measured['deadline_s'] == pytest.approx(28.0)
    sim = Simulator.for_scenario(spec, limits, render=False)  # flies on instead of holding
    scripted_flight(sim, {0.0: [{'command': 'takeoff', 'altitude_m': 10.0}],
                          27.0: [{'command': 'return_to_home'}]}, 60.0,
                    {4.0: (0.0, 400.0, 10.0, 0.0), 27.0: None})
    wandered = score(spec, sim).checks[0].measured
    assert wandered['hold_moved_m'] > wandered['hold_bound_m'] > 2.0


def test_speeding_is_a_safety_violation_and_fails_the_scenario():
    spec = scenario(expect={'position': [0, 100]})
    sim = Simulator.for_scenario(spec, Limits(max_horizontal_speed_mps=12.0), render=False)
    scripted_flight(sim, {0.0: [{'command': 'takeoff', 'altitude_m': 10.0}],
                          4.0: [{'command': 'set_speed', 'speed_mps': 15.0}]}, 30.0,
                    {4.0: (0.0, 100.0, 10.0, 0.0)})
    result = score(spec, sim)
    assert result.safety_violations == 1 and not result.succeeded
    assert result.violations[0].invariant == 'max_horizontal_speed_mps'
    report = summary([result])
    assert report['scenarios'] == 1 and report['succeeded'] == 0
    assert report['safety_violations'] == 1
    assert set(report['results'][0]) >= {'name', 'language', 'category', 'visual', 'succeeded',
                                         'safety_violations', 'reason'}
    assert table([result]).splitlines()[1].split() == ['category', 'single', '0/1']


# Suite ---------------------------------------------------------------------------------------

def test_the_default_suite_covers_languages_categories_and_faults():
    scenarios = load_suite()
    assert len(scenarios) >= 40
    for language in LANGUAGES:
        assert sum(s.language == language for s in scenarios) >= 8
    categories = {s.category for s in scenarios}
    assert {'single', 'mission', 'visual', 'fault'} <= categories
    visual = [s for s in scenarios if s.visual]
    assert len(visual) >= 20 and {s.language for s in visual} == set(LANGUAGES)
    assert {s.camera.get('pitch_deg', 45) for s in visual} >= {45, 90}  # forward and downward
    assert {'asks', 'answers'} <= {e for s in visual for e in s.expect}
    kinds = {f.kind for s in scenarios for f in s.faults}
    assert {'link_loss', 'camera_freeze', 'camera_black', 'remote_down', 'battery_low',
            'pose_lost'} <= kinds
    assert all(set(s.expect) <= set(CRITERIA) for s in scenarios)
    assert all(s.commands for s in scenarios)
    assert [s.name for s in load_suite(subset='ci')] == ['takeoff_land_en', 'goto_north_de',
                                                          'link_loss_fr']
    autopilot = load_suite(subset='autopilot')
    assert {f.kind for s in autopilot for f in s.faults} == {'rc_takeover', 'offboard_rejected',
                                                             'arming_denied'}
    for spec in autopilot:  # flown through px4 and mavros only, each checking the abort
        assert spec.interfaces == ('px4', 'mavros') and not spec.flies_with('json')
        assert 'autopilot_abort' in spec.expect
    assert all(s.flies_with('json') for s in scenarios if s not in autopilot)


def test_the_table_has_a_column_per_source_configuration_and_vehicle_interface():
    from ministral_node.sim.scoring import Result

    def result(name: str, interface: str, ok: bool, violations: int = 0) -> Result:
        return Result(name, 'en', 'single', False, ok, violations, '', 'rules',
                      interface=interface)

    results = [result('a', 'json', True), result('a', 'px4', True), result('a', 'mavros', False),
               result('b', 'px4', True, 1)]
    lines = table(results).splitlines()
    assert lines[0].split() == ['rules/json', 'rules/px4', 'rules/mavros']
    assert lines[-2].split() == ['all', '1/1', '2/2', '0/1']
    assert lines[-1].split() == ['safety', 'violations', '0', '1', '0']
    assert summary(results)['by_interface'] == {
        'json': {'scenarios': 1, 'succeeded': 1, 'safety_violations': 0},
        'px4': {'scenarios': 2, 'succeeded': 2, 'safety_violations': 1},
        'mavros': {'scenarios': 1, 'succeeded': 0, 'safety_violations': 0}}


@pytest.mark.parametrize(('change', 'message'), [
    ({'language': 'pt'}, "language 'pt'"),
    ({'expect': {'landed_on_moon': True}}, "unknown expectation(s) ['landed_on_moon']"),
    ({'faults': [{'kind': 'meteor', 'at': 1}]}, "fault kind 'meteor'"),
    ({'faults': [{'kind': 'battery_low', 'at': 1}]}, 'needs value'),
    ({'expect': {}}, 'expect is required'),
    ({'interfaces': ['px5']}, "unknown interface(s) ['px5']"),
    ({'faults': [{'kind': 'rc_takeover', 'at': 5}]},
     "fault(s) ['rc_takeover'] are injected into the simulated autopilot"),
    ({'faults': [{'kind': 'arming_denied', 'at': 0}], 'interfaces': ['json', 'px4']},
     "fault(s) ['arming_denied'] are injected into the simulated autopilot"),
])
def test_a_bad_scenario_is_refused_saying_why(tmp_path, change, message):
    item = {'name': 'bad', 'language': 'en', 'commands': [{'at': 1, 'text': 'land'}],
            'expect': {'landed': True}, **change}
    path = tmp_path / 'suite.yaml'
    import yaml

    path.write_text(yaml.safe_dump({'scenarios': [item]}))
    with pytest.raises(SuiteError, match='scenario bad') as info:
        load_suite(path)
    assert message in str(info.value)


def test_defaults_merge_under_each_scenario(tmp_path):
    import yaml

    path = tmp_path / 'suite.yaml'
    path.write_text(yaml.safe_dump({
        'defaults': {'duration_s': 30, 'world': {'seed': 3, 'clutter': 2}},
        'scenarios': [{'name': 'a', 'language': 'fr', 'commands': [{'at': 2, 'text': 'x'}],
                       'expect': {'landed': True}, 'world': {'clutter': 0}}]}))
    (only,) = load_suite(path)
    assert only.duration_s == 30 and only.world == {'seed': 3, 'clutter': 0}
    assert only.category == 'single' and not only.visual


# Pictures -------------------------------------------------------------------------------------

def test_pictures_of_a_flight_and_an_annotated_gif(tmp_path):
    spec = scenario(world={'seed': 1, 'clutter': 3,
                           'objects': [{'kind': 'pad', 'color': 'red', 'east': 5,
                                        'north': 20}]},
                    faults=[{'kind': 'link_loss', 'at': 8}],
                    expect={'landed_near': 'red pad'})
    sim = Simulator.for_scenario(spec, Limits(), render=False)
    scripted_flight(sim, {0.0: [{'command': 'takeoff', 'altitude_m': 10.0}]}, 12.0,
                    {4.0: (5.0, 20.0, 10.0, 0.0)})
    sim.trace.sent = [(0.0, 'take off to 10 m'), (4.0, 'land on the red pad')]
    path = trajectory_png(sim, spec, score(spec, sim, 'rules'), tmp_path / 'a' / 's.png')
    picture = Image.open(path)
    assert picture.size[0] == 920 and picture.size[1] > 460
    assert len(np.unique(np.asarray(picture).reshape(-1, 3), axis=0)) > 10  # drawn
    frame = np.zeros((240, 320, 3), np.uint8)
    boxed = annotate(frame, [('red pad', [0.25, 0.25, 0.75, 0.75])], 'rules: land')
    assert boxed.getpixel((80, 120)) == (255, 0, 255)  # the box's left edge
    assert boxed.getpixel((160, 120)) == (0, 0, 0)
    other = annotate(frame, [('car', [0.1, 0.1, 0.3, 0.3])])
    gif = write_gif([boxed, other], tmp_path / 'v.gif', 2.0)
    assert Image.open(gif).n_frames == 2
    assert write_gif([], tmp_path / 'none.gif', 2.0) is None


def test_a_fault_scheduled_after_the_flight_ended_draws_no_band(tmp_path):
    """A flight that landed and settled before its fault began: the picture is drawn (it raised
    'x1 must be greater than or equal to x0'), the fault's band left out."""
    spec = scenario(faults=[{'kind': 'battery_low', 'at': 60.0, 'value': 15},
                            {'kind': 'link_loss', 'at': 4.0, 'duration_s': 3.0}])
    sim = Simulator.for_scenario(spec, Limits(), render=False)
    scripted_flight(sim, {0.0: [{'command': 'takeoff', 'altitude_m': 5.0}],
                          6.0: [{'command': 'land'}]}, 14.0)
    assert sim.trace.samples[-1].t < 60.0
    picture = Image.open(trajectory_png(sim, spec, None, tmp_path / 'late.png'))
    pixels = np.asarray(picture)
    link_loss = np.all(pixels == (250, 200, 200), axis=-1).sum()
    battery_low = np.all(pixels == (250, 230, 180), axis=-1).sum()
    assert link_loss > 100 and battery_low == 0


def test_accented_labels_draw_letters_not_missing_glyph_boxes(tmp_path):
    from ministral_node.sim import pictures

    assert pictures.FONT_PATH.is_file() and pictures.FONT.getname()[0] == 'DejaVu Sans'

    def glyph(text):
        mask = pictures.FONT.getmask(text)
        return mask.size, bytes(mask)

    missing = glyph('\u4e00')  # not in the font: its 'missing glyph' box
    for letter in 'éüñßàçÉ':
        assert glyph(letter) != missing, letter
    frame = annotate(np.zeros((60, 200, 3), np.uint8), [('é ü ñ', [0.1, 0.5, 0.9, 0.9])])
    assert np.asarray(frame)[10:30].any()  # the label is drawn above the box


# Remote endpoint fault -------------------------------------------------------------------------

def test_the_relay_forwards_until_the_endpoint_goes_down():
    import socket
    import threading

    from ministral_node.sim.link import FaultyRelay

    server = socket.create_server(('127.0.0.1', 0))

    def echo():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                data = conn.recv(100)
                conn.sendall(b'echo ' + data)

    threading.Thread(target=echo, daemon=True).start()
    relay = FaultyRelay('127.0.0.1', server.getsockname()[1]).start()
    try:
        with socket.create_connection(('127.0.0.1', relay.port), timeout=5) as sock:
            sock.sendall(b'hello')
            assert sock.recv(100) == b'echo hello'
        relay.set_down(True)
        with socket.create_connection(('127.0.0.1', relay.port), timeout=5) as sock:
            sock.settimeout(5)
            try:
                sock.sendall(b'hello')
                answer = sock.recv(100)
            except OSError:
                answer = b''
            assert answer == b''  # accepted, then closed without an answer
        assert relay.connections == 1 and relay.refused == 1
    finally:
        relay.close()
        server.close()
