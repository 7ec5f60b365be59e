"""The mission executor without ROS: a FakeClock, a simple simulated vehicle, plain outputs."""

import math

import pytest

from ministral_node.decision import Proposal, Target, make_decision, mission
from ministral_node.inputs.vehicle import VehicleState
from ministral_node.mission.executor import (
    ExecutorSettings,
    MissionExecutor,
    enu_yaw,
)
from ministral_node.mission.projection import CameraIntrinsics, CameraMount
from ministral_node.mission.simple_vehicle import SimVehicle, simulate
from ministral_node.parameters import defaults
from ministral_node.safety.envelope import SafetyEnvelope, SafetyLimits
from ministral_node.timing import FakeClock

RATE_HZ = 20.0
DT = 1.0 / RATE_HZ


class Run:
    """The node's loop in miniature: update at RATE_HZ, publish, let the vehicle move."""

    def __init__(self, executor=None, vehicle=None):
        self.clock = FakeClock(100.0)
        self.executor = executor or MissionExecutor(ExecutorSettings())
        self.vehicle = vehicle or SimVehicle()
        self.statuses, self.commands, self.setpoints = [], [], []
        self.pose_ok = True
        self._ids = 0

    def decide(self, action_or_proposal, source='rules', **params):
        proposal = action_or_proposal if isinstance(action_or_proposal, Proposal) else \
            Proposal(action_or_proposal, params, None, 1.0, 'test')
        self._ids += 1
        decision = make_decision(proposal, source=source, stamp=self.clock.now(),
                                 latency_ms=1.0, decision_id=f'd{self._ids}')
        out = self.executor.submit(decision, self.clock.now(), self._state())
        self._collect(out)
        return decision

    def _state(self):
        return self.vehicle.state(self.clock.now()) if self.pose_ok else \
            VehicleState().with_pose(*self.vehicle.position, self.vehicle.heading, 0.0)

    def _collect(self, out):
        self.statuses.extend(out.statuses)
        self.commands.extend(out.commands)
        self.vehicle.apply(out)
        return out

    def tick(self):
        self.clock.advance(DT)
        out = self._collect(self.executor.update(self.clock.now(), self._state()))
        self.setpoints.append(out.setpoint)
        self.vehicle.step(DT)
        return out

    def until(self, predicate, limit_s=300.0):
        for _ in range(int(limit_s * RATE_HZ)):
            self.tick()
            if predicate(self.executor.status(self.clock.now())):
                return self.executor.status(self.clock.now())
        raise AssertionError(f'not reached: {self.executor.status(self.clock.now())}')


def _steps(*steps):
    return mission([Proposal(a, p, None if t is None else Target(
        t['label'], None if t['box'] is None else tuple(t['box']))) for a, p, t in steps], 'test')


def _final(status):
    return status['state'] in ('completed', 'aborted', 'preempted')


def test_a_mission_runs_step_by_step_to_completion():
    run = Run()
    run.decide(_steps(('takeoff', {'altitude_m': 20.0}, None),
                      ('goto', {'heading_deg': 0.0, 'distance_m': 50.0}, None),
                      ('capture_photo', {'count': 2}, None),
                      ('return_to_home', {}, None)))
    assert run.statuses[-1]['state'] == 'pending'
    final = run.until(_final)
    assert final['state'] == 'completed' and final['progress'] == 1.0
    assert final['step_count'] == 4 and final['decision_id'] == 'd1'
    started = [s['step_index'] for s in run.statuses if 'started' in s['reason']]
    assert started == [0, 1, 2, 3]
    names = [c['command'] for c in run.commands]
    assert names == ['takeoff', 'capture_photo', 'capture_photo', 'return_to_home']
    assert run.commands[0] == {'command': 'takeoff', 'altitude_m': 20.0}
    assert run.vehicle.photos == 2
    assert run.vehicle.position[2] <= run.executor.settings.landed_altitude_m
    assert math.hypot(*run.vehicle.position[:2]) < 1.0


def test_setpoints_stream_on_every_tick_of_a_motion_step_and_never_in_autopilot_modes():
    run = Run()
    run.decide(_steps(('takeoff', {'altitude_m': 10.0}, None),
                      ('goto', {'forward_m': 20.0, 'right_m': 0.0, 'up_m': 0.0}, None),
                      ('land', {}, None)))
    run.until(lambda s: s['step_index'] == 2)
    motion = run.setpoints[:-1]
    assert motion and all(sp is not None for sp in motion)  # every tick: >= RATE_HZ
    last = motion[-1]
    assert (last.x, last.y, last.z) == pytest.approx((0.0, 20.0, 10.0))
    assert last.yaw == pytest.approx(enu_yaw(0.0))
    run.until(_final)
    assert all(sp is None for sp in run.setpoints[len(motion) + 1:])
    assert run.commands[-1] == {'command': 'land'}


def test_a_single_decision_is_a_one_step_mission():
    run = Run(vehicle=SimVehicle(up=10.0, in_air=True))
    run.decide('change_altitude', altitude_m=15.0)
    final = run.until(_final)
    assert (final['state'], final['step_count'], final['step_action']) == (
        'completed', 1, 'change_altitude')
    assert run.vehicle.position[2] == pytest.approx(15.0, abs=0.5)


def test_rotate_completes_when_the_yaw_is_reached_and_hold_when_its_time_is_up():
    run = Run(vehicle=SimVehicle(up=10.0, in_air=True))
    run.decide(_steps(('rotate', {'yaw_deg': 90.0}, None), ('hold', {'duration_s': 3.0}, None)))
    run.until(lambda s: s['step_index'] == 1)
    assert run.vehicle.heading == pytest.approx(90.0, abs=5.0)
    began = run.clock.now()
    run.until(_final)
    assert 3.0 <= run.clock.now() - began <= 3.0 + 2 * DT


def test_a_new_decision_preempts_the_running_mission_at_once():
    run = Run(vehicle=SimVehicle(up=10.0, in_air=True))
    run.decide('goto', heading_deg=90.0, distance_m=100.0)
    run.until(lambda s: s['step_progress'] > 0.2)
    run.decide('stop')
    preempted = [s for s in run.statuses if s['state'] == 'preempted']
    assert preempted and preempted[0]['mission_id'] == 'mission-1'
    assert preempted[0]['reason'] == 'preempted by decision d2 (stop)'
    run.tick()
    status = run.executor.status(run.clock.now())
    assert (status['mission_id'], status['state'], status['step_action']) == (
        'mission-2', 'running', 'stop')
    here = run.vehicle.position
    assert (run.setpoints[-1].x, run.setpoints[-1].y) == pytest.approx(here[:2], abs=0.3)


def test_an_output_stops_being_current_once_its_mission_ends_or_another_starts():
    run = Run(vehicle=SimVehicle(up=10.0, in_air=True))
    run.decide('goto', heading_deg=90.0, distance_m=100.0)
    first = run.tick()
    assert first.setpoint is not None and run.executor.current(first)
    run.decide('answer', text='a red pad')  # executes nothing: the mission goes on
    assert run.executor.current(first)
    run.decide('stop')  # preempts it
    assert not run.executor.current(first)
    stopping = run.tick()
    assert run.executor.current(stopping)
    run.executor.abort('autopilot took over', run.clock.now(), run._state())
    assert not run.executor.current(stopping)
    run.decide('set_speed', speed_mps=4.0)
    done = run.tick()  # the tick that completes a mission speaks for it
    assert run.executor.status(run.clock.now())['state'] == 'completed'
    assert run.executor.current(done)


def test_answer_clarify_and_reject_execute_nothing_and_preempt_nothing():
    run = Run(vehicle=SimVehicle(up=10.0, in_air=True))
    run.decide('goto', heading_deg=0.0, distance_m=30.0)
    run.tick()
    for action, params in (('clarify', {'question': 'q'}), ('answer', {'text': 't'}),
                           ('reject', {'reason': 'r'})):
        run.decide(action, **params)
        status = run.executor.status(run.clock.now())
        assert (status['mission_id'], status['state']) == ('mission-1', 'running')
        assert 'executes nothing' in status['note']


def test_a_failsafe_wins_over_everything_until_cleared():
    run = Run(vehicle=SimVehicle(up=10.0, in_air=True))
    run.decide('goto', heading_deg=0.0, distance_m=30.0)
    run.tick()
    run.decide('return_to_home', source='failsafe')
    assert run.statuses[-2]['reason'] == 'preempted by failsafe (return_to_home)'
    run.tick()
    run.decide('goto', heading_deg=0.0, distance_m=30.0)
    status = run.executor.status(run.clock.now())
    assert (status['source'], status['step_action']) == ('failsafe', 'return_to_home')
    assert 'a failsafe is running' in status['note']
    run.decide('stop')
    assert run.executor.status(run.clock.now())['source'] == 'failsafe'
    run.executor.clear_failsafe()
    run.decide('hold', duration_s=None)
    assert run.executor.status(run.clock.now())['step_action'] == 'hold'


def test_a_pose_that_stops_mid_mission_holds_and_resumes_when_it_is_back():
    run = Run(vehicle=SimVehicle(up=10.0, in_air=True))
    run.decide(_steps(('goto', {'heading_deg': 0.0, 'distance_m': 20.0}, None),
                      ('goto', {'heading_deg': 90.0, 'distance_m': 10.0}, None)))
    run.until(lambda s: s['step_progress'] > 0.3)
    run.pose_ok = False
    commands = len(run.commands)
    run.tick()
    run.tick()
    status = run.executor.status(run.clock.now())
    assert status['state'] == 'holding' and 'pose lost' in status['reason']
    assert run.commands[commands:] == [{'command': 'hold'}]  # once, not every tick
    assert run.setpoints[-2:] == [None, None]
    run.clock.advance(60.0)  # a long loss does not count against the step timeout
    run.pose_ok = True
    run.tick()
    assert run.executor.status(run.clock.now())['state'] == 'running'
    assert run.until(_final)['state'] == 'completed'
    assert run.vehicle.position[:2] == pytest.approx([10.0, 20.0], abs=1.0)


def test_a_step_that_does_not_arrive_times_out_from_distance_and_speed():
    run = Run(vehicle=SimVehicle(up=10.0, in_air=True))
    run.vehicle.frozen = True
    run.decide('goto', heading_deg=0.0, distance_m=50.0)
    began = run.clock.now()
    final = run.until(_final, limit_s=200.0)
    settings = run.executor.settings
    expected = settings.step_timeout_factor * 50.0 / settings.default_speed_mps \
        + settings.step_timeout_margin_s
    assert final['state'] == 'aborted' and 'timed out' in final['reason']
    assert run.clock.now() - began == pytest.approx(expected, abs=2 * DT)
    assert run.commands[-1] == {'command': 'hold'}


def test_a_faster_set_speed_shortens_the_step_timeouts():
    run = Run(vehicle=SimVehicle(up=10.0, in_air=True))
    run.vehicle.frozen = True
    run.decide(_steps(('set_speed', {'speed_mps': 10.0}, None),
                      ('goto', {'heading_deg': 0.0, 'distance_m': 50.0}, None)))
    began = run.clock.now()
    run.until(_final)
    assert run.commands[0] == {'command': 'set_speed', 'speed_mps': 10.0}
    settings = run.executor.settings
    assert run.clock.now() - began == pytest.approx(
        settings.step_timeout_factor * 5.0 + settings.step_timeout_margin_s, abs=2 * DT)


NADIR = CameraIntrinsics(500.0, 500.0, 320.0, 240.0, 640, 480)


def test_goto_a_target_projects_its_box_to_the_ground():
    executor = MissionExecutor(ExecutorSettings(mount=CameraMount(pitch_deg=90.0)))
    executor.set_intrinsics(NADIR)
    run = Run(executor, SimVehicle(up=20.0, heading=0.0, in_air=True))
    # Box centre 160 px right of the image centre: 160 / 500 * 20 m = 6.4 m to the right (east).
    run.decide(Proposal('goto', {}, Target('red car', (0.7, 0.45, 0.8, 0.55))))
    run.tick()
    sp = run.setpoints[-1]
    assert (sp.x, sp.y, sp.z) == pytest.approx((6.4, 0.0, 20.0))
    assert run.until(_final)['state'] == 'completed'


def test_land_on_a_target_flies_above_it_then_lands():
    executor = MissionExecutor(ExecutorSettings(mount=CameraMount(pitch_deg=90.0)))
    executor.set_intrinsics(NADIR)
    run = Run(executor, SimVehicle(up=20.0, heading=90.0, in_air=True))
    run.decide(Proposal('land', {}, Target('pad', (0.45, 0.3, 0.55, 0.4))))
    final = run.until(_final)
    # Facing east, the upper part of a nadir image lies ahead: 0.35 * 480 - 240 = -72 px.
    assert final['state'] == 'completed'
    assert run.vehicle.position[2] <= run.executor.settings.landed_altitude_m
    assert run.vehicle.position[:2] == pytest.approx([72 / 500 * 20, 0.0], abs=1.0)
    assert run.commands == [{'command': 'land'}]


def test_the_descent_onto_a_target_has_its_own_timeout():
    # A short leg (a small timeout) then a long, slow descent: the leg's timeout must not
    # abort the landing half way down.
    executor = MissionExecutor(ExecutorSettings(mount=CameraMount(pitch_deg=90.0),
                                                step_timeout_margin_s=1.0))
    executor.set_intrinsics(NADIR)
    run = Run(executor, SimVehicle(up=20.0, heading=90.0, in_air=True, climb_mps=3.0))
    run.decide(Proposal('land', {}, Target('pad', (0.45, 0.45, 0.55, 0.55))))
    final = run.until(_final)
    assert final['state'] == 'completed', final['reason']
    assert run.vehicle.position[2] <= run.executor.settings.landed_altitude_m


def test_follow_keeps_its_distance_from_the_projected_target():
    executor = MissionExecutor(ExecutorSettings(mount=CameraMount(pitch_deg=90.0)))
    executor.set_intrinsics(NADIR)
    run = Run(executor, SimVehicle(up=20.0, heading=0.0, in_air=True))
    run.decide(Proposal('follow', {'distance_m': 2.0}, Target('car', (0.9, 0.45, 1.0, 0.55))))
    run.tick()
    sp = run.setpoints[-1]
    target_east = (0.95 * 640 - 320) / 500 * 20
    assert (sp.x, sp.y) == pytest.approx((target_east - 2.0, 0.0))


@pytest.mark.parametrize(('intrinsics', 'pose', 'reason'), [
    (None, True, 'no camera intrinsics'),
    (NADIR, False, 'pose unknown'),
])
def test_a_target_step_without_intrinsics_or_pose_is_refused_and_never_flown(
        intrinsics, pose, reason):
    executor = MissionExecutor(ExecutorSettings())
    executor.set_intrinsics(intrinsics)
    run = Run(executor, SimVehicle(up=20.0, in_air=True))
    run.pose_ok = pose
    run.decide(_steps(('set_speed', {'speed_mps': 3.0}, None),
                      ('goto', {}, {'label': 'car', 'box': [0.4, 0.4, 0.6, 0.6]})))
    final = run.until(_final)
    assert final['state'] == 'aborted' and final['step_index'] == 1
    assert 'steps[1] (goto) refused' in final['reason'] and reason in final['reason']
    assert all(sp is None for sp in run.setpoints)
    assert run.commands == [{'command': 'set_speed', 'speed_mps': 3.0}, {'command': 'hold'}]


def test_each_step_is_rechecked_by_the_envelope_when_it_starts():
    limits = SafetyLimits.from_params({'geofence_polygon': [-50.0, -50.0, 50.0, -50.0,
                                                            50.0, 50.0, -50.0, 50.0]})
    clock = FakeClock(100.0)
    run = Run(MissionExecutor(ExecutorSettings(), SafetyEnvelope(limits, clock)),
              SimVehicle(up=10.0, in_air=True))
    run.clock = clock
    run.decide(_steps(('goto', {'heading_deg': 0.0, 'distance_m': 30.0}, None),
                      ('goto', {'heading_deg': 0.0, 'distance_m': 30.0}, None)))
    run.until(_final)
    started = [s['reason'] for s in run.statuses if 'steps[1] (goto) started' in s['reason']]
    assert started and 'params.distance_m 30.0 -> ' in started[0]
    assert run.vehicle.position[1] == pytest.approx(48.0, abs=1.0)


def test_a_refused_step_aborts_the_mission_without_a_setpoint():
    limits = SafetyLimits.from_params({})
    clock = FakeClock(100.0)
    run = Run(MissionExecutor(ExecutorSettings(), SafetyEnvelope(limits, clock)), SimVehicle())
    run.clock = clock
    run.decide('goto', heading_deg=0.0, distance_m=5.0)  # on the ground: take off first
    run.tick()
    status = run.executor.status(run.clock.now())
    assert status['state'] == 'aborted' and 'take off first' in status['reason']
    assert run.setpoints == [None] and run.commands == []


def test_orbit_sweeps_one_turn_around_the_start_and_completes():
    run = Run(vehicle=SimVehicle(up=10.0, in_air=True))
    run.decide('orbit', radius_m=10.0, direction='clockwise')
    final = run.until(_final)
    assert final['state'] == 'completed'
    radii = [math.hypot(sp.x, sp.y) for sp in run.setpoints if sp is not None]
    assert radii == pytest.approx([10.0] * len(radii))


def test_settings_come_from_the_parameters():
    values = defaults()
    settings = ExecutorSettings.from_params({**values, 'arrival_tolerance_m': 2.5,
                                             'camera_mount_pitch_deg': 60.0})
    assert settings.arrival_tolerance_m == 2.5 and settings.mount.pitch_deg == 60.0
    assert values['execute_missions'] is False
    assert values['setpoint_rate_hz'] >= 10.0


def _pose(heading=0.0, up=20.0):
    return VehicleState().with_pose(0.0, 0.0, up, heading, 0.0)


def test_projection_of_the_image_centre_follows_the_mount_pitch_and_heading():
    from ministral_node.mission.projection import project_to_ground
    ahead = project_to_ground((0.5, 0.5), NADIR, CameraMount(45.0), _pose(90.0), 500.0)
    assert ahead == pytest.approx((20.0, 0.0))  # 45 degrees down from 20 m, facing east
    offset = project_to_ground((0.5, 0.5), NADIR, CameraMount(90.0, forward_m=0.5),
                               _pose(0.0), 500.0)
    assert offset == pytest.approx((0.0, 0.5))


@pytest.mark.parametrize(('point', 'mount', 'limit', 'reason'), [
    ((0.5, 0.2), CameraMount(0.0), 500.0, 'horizon'),
    ((0.5, 0.5), CameraMount(5.0), 100.0, 'beyond max_projection_distance_m'),
])
def test_points_off_the_ground_or_too_far_are_refused(point, mount, limit, reason):
    from ministral_node.mission.projection import ProjectionError, project_to_ground
    with pytest.raises(ProjectionError, match=reason):
        project_to_ground(point, NADIR, mount, _pose(), limit)


def test_intrinsics_come_from_camera_info_and_an_unset_k_is_none():
    k = [500.0, 0.0, 320.0, 0.0, 510.0, 240.0, 0.0, 0.0, 1.0]
    assert CameraIntrinsics.from_camera_info(k, 640, 480) == CameraIntrinsics(
        500.0, 510.0, 320.0, 240.0, 640, 480)
    assert CameraIntrinsics.from_camera_info([0.0] * 9, 640, 480) is None


def test_simulate_runs_a_decision_to_its_end_and_reports_each_change():
    decision = make_decision(_steps(('takeoff', {'altitude_m': 5.0}, None),
                                    ('land', {}, None)),
                             source='rules', stamp=0.0, latency_ms=0.0, decision_id='d')
    vehicle = SimVehicle()
    statuses = simulate(MissionExecutor(), decision, FakeClock(0.0), vehicle)
    assert [s['state'] for s in statuses] == ['pending', 'running', 'running', 'completed']
    assert [s['step_index'] for s in statuses] == [0, 0, 1, 1]
    assert vehicle.in_air is False or vehicle.position[2] <= 0.3


def test_when_the_setpoint_stream_stops_the_vehicle_is_told_to_hold_once():
    run = Run(vehicle=SimVehicle(up=10.0, in_air=True))
    run.decide('goto', heading_deg=0.0, distance_m=30.0)
    run.tick()
    run.decide('set_speed', speed_mps=3.0)  # preempts; an instant step streams nothing
    run.tick()
    run.tick()
    assert run.commands == [{'command': 'set_speed', 'speed_mps': 3.0}, {'command': 'hold'}]
    assert run.setpoints[-2:] == [None, None]


def test_a_completed_setpoint_mission_hands_over_with_hold_and_a_landing_does_not():
    run = Run(vehicle=SimVehicle(up=10.0, in_air=True))
    run.decide('change_altitude', altitude_m=12.0)
    run.until(_final)
    run.tick()
    assert run.commands == [{'command': 'hold'}]
    run.decide('land')
    run.until(_final)
    run.tick()
    assert run.commands == [{'command': 'hold'}, {'command': 'land'}]


def test_ground_distance_is_horizontal_from_the_vehicle_and_none_when_unplaceable():
    from ministral_node.mission.projection import ground_distance
    assert ground_distance((0.5, 0.5), NADIR, CameraMount(45.0), _pose(90.0), 500.0) == \
        pytest.approx(20.0)
    # 160 px right of a nadir image's centre from 20 m: 6.4 m.
    assert ground_distance((0.75, 0.5), NADIR, CameraMount(90.0), _pose(), 500.0) == \
        pytest.approx(6.4)
    assert ground_distance((0.5, 0.5), None, CameraMount(45.0), _pose(), 500.0) is None
    assert ground_distance((0.5, 0.5), NADIR, CameraMount(45.0), VehicleState(), 500.0) is None
    assert ground_distance((0.5, 0.2), NADIR, CameraMount(0.0), _pose(), 500.0) is None
