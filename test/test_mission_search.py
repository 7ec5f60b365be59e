"""A mission step whose target is not in view searches for it: a full turn on the spot, then
the search pattern, looking through an injected finder; found, the step goes on on it; else it
gives up with the reason. A fake camera stands for the detector: it puts the target's box where
the camera model images it from the vehicle's pose, so what the executor projects back is
checked against where the target really is."""

from __future__ import annotations

import math

import pytest
from test_mission_executor import NADIR, Run, _final, _steps

from ministral_node.decision import Proposal, Target
from ministral_node.mission.executor import ExecutorSettings, MissionExecutor
from ministral_node.mission.projection import CameraMount, body_to_enu
from ministral_node.mission.search import Sighting, turn_step_deg, viewpoints
from ministral_node.mission.simple_vehicle import SimVehicle
from ministral_node.safety.envelope import SafetyEnvelope, SafetyLimits
from ministral_node.timing import FakeClock

MOUNT = CameraMount(pitch_deg=45.0)


class FakeCamera:
    """Images ground targets {label: (east, north)} through NADIR and MOUNT from the vehicle's
    pose; each look records the heading it was taken at."""

    def __init__(self, vehicle: SimVehicle, targets: dict[str, list[tuple[float, float]]],
                 problem: str = '') -> None:
        self.vehicle, self.targets, self.problem = vehicle, targets, problem
        self.headings: list[float] = []

    def _box(self, ground: tuple[float, float]):
        position, heading = self.vehicle.position, self.vehicle.heading
        v = (ground[0] - position[0], ground[1] - position[1], -position[2])
        forward = body_to_enu(1.0, 0.0, 0.0, heading)
        right = body_to_enu(0.0, 1.0, 0.0, heading)
        along = sum(a * b for a, b in zip(v, forward))
        across = sum(a * b for a, b in zip(v, right))
        pitch = math.radians(MOUNT.pitch_deg)
        depth = along * math.cos(pitch) - v[2] * math.sin(pitch)  # along the optical axis
        down = -along * math.sin(pitch) - v[2] * math.cos(pitch)
        if depth <= 0:
            return None
        u = (NADIR.cx + NADIR.fx * across / depth) / NADIR.width
        w = (NADIR.cy + NADIR.fy * down / depth) / NADIR.height
        if not (0.02 < u < 0.98 and 0.02 < w < 0.98):
            return None
        return (u - 0.01, w - 0.01, u + 0.01, w + 0.01)

    def __call__(self, label: str) -> Sighting:
        self.headings.append(round(self.vehicle.heading))
        if self.problem:
            return Sighting(problem=self.problem)
        boxes = [b for b in (self._box(g) for g in self.targets.get(label, [])) if b]
        return Sighting(boxes[0] if len(boxes) == 1 else None, len(boxes))


def _run(targets, limits=None, problem=''):
    vehicle = SimVehicle(up=20.0, heading=0.0, in_air=True)
    camera = FakeCamera(vehicle, targets, problem)
    clock = FakeClock(100.0)
    envelope = None if limits is None else SafetyEnvelope(limits, clock)
    executor = MissionExecutor(ExecutorSettings(mount=MOUNT), envelope, camera)
    executor.set_intrinsics(NADIR)
    run = Run(executor, vehicle)
    run.clock = clock  # the envelope judges the pose's age on the run's clock
    return run, camera


def _reasons(run):
    return [s['reason'] for s in run.statuses]


def test_a_target_behind_is_found_during_the_turn_and_the_step_lands_on_it():
    run, camera = _run({'red pad': [(0.0, -20.0)]})
    run.decide(_steps(('set_speed', {'speed_mps': 5.0}, None),
                      ('land', {}, {'label': 'red pad', 'box': None})))
    final = run.until(_final)
    assert final['state'] == 'completed', final['reason']
    # One look per step, settled; at 135 degrees it is at the edge of the view.
    assert camera.headings == [0, 45, 90, 135]
    # Where the executor placed it, within the arrival tolerance (1 m).
    assert run.vehicle.position[:2] == pytest.approx([0.0, -20.0], abs=1.0)
    assert run.vehicle.position[2] <= run.executor.settings.landed_altitude_m
    reasons = _reasons(run)
    assert "steps[1] (land): 'red pad' not in view: searching (a full turn)" in reasons
    assert any(r.startswith("steps[1] (land) started: 'red pad' found after") and
               r.endswith('(4 looks)') for r in reasons)
    assert [c['command'] for c in run.commands] == ['set_speed', 'land']


def test_a_target_beyond_the_turn_is_found_by_the_search_pattern():
    # 70 m north: beyond what the camera sees from the start (its lowest ray meets the ground
    # 57 m away); the pattern's first viewpoint, 30 m north facing north, sees it.
    run, camera = _run({'blue car': [(3.0, 70.0)]})
    run.decide(Proposal('goto', {}, Target('blue car', None)))
    final = run.until(_final)
    assert final['state'] == 'completed', final['reason']
    assert len(camera.headings) == 9  # a full turn (8 looks), then the pattern's first
    assert run.vehicle.position[:2] == pytest.approx([3.0, 70.0], abs=1.0)
    assert "steps[0] (goto): 'blue car' not in view: searching (its search pattern)" in \
        _reasons(run)


def test_a_target_never_seen_gives_up_with_the_reason_and_holds():
    run, camera = _run({})
    run.decide(Proposal('land', {}, Target('red pad', None)))
    final = run.until(_final, limit_s=600.0)
    assert final['state'] == 'aborted'
    assert final['reason'] == ('steps[0] (land): red pad not found after a full turn and a '
                               'search of 30 m')
    assert len(camera.headings) == 16
    assert run.commands == [{'command': 'hold'}]
    assert run.vehicle.position[2] == pytest.approx(20.0, abs=0.5)  # never landed


def _fenced(half_m):
    return SafetyLimits.from_params({
        'geofence_polygon': [-half_m, -half_m, half_m, -half_m, half_m, half_m, -half_m, half_m],
        'geofence_margin_m': 5.0})


def test_the_pattern_is_the_missions_own_search_and_the_envelope_shrinks_it():
    run, _ = _run({}, _fenced(100.0))
    run.decide(_steps(('search', {'radius_m': 12.0}, {'label': 'red pad', 'box': None}),
                      ('land', {}, {'label': 'red pad', 'box': None})))
    final = run.until(_final, limit_s=900.0)
    assert final['reason'] == ('steps[1] (land): red pad not found after a full turn and a '
                               'search of 12 m')
    narrow, _ = _run({}, _fenced(25.0))
    narrow.decide(Proposal('land', {}, Target('red pad', None)))
    # The 30 m default would leave the fence: the envelope shrinks it to the room there is.
    assert narrow.until(_final, limit_s=900.0)['reason'].endswith('a search of 20 m')


@pytest.mark.parametrize('targets, problem, reason', [
    ({}, 'no object detector', "cannot search for 'red pad': no object detector"),
    ({'red pad': [(0.0, 20.0), (4.0, 22.0)]}, '',
     "2 detections match 'red pad': cannot tell which"),
])
def test_a_search_that_cannot_tell_gives_up_at_its_first_look(targets, problem, reason):
    run, camera = _run(targets, problem=problem)
    run.decide(Proposal('land', {}, Target('red pad', None)))
    final = run.until(_final)
    assert final['state'] == 'aborted' and final['reason'] == f'steps[0] (land): {reason}'
    assert len(camera.headings) == 1


def test_without_a_finder_a_target_without_a_box_is_refused_at_once():
    run = Run(MissionExecutor(ExecutorSettings(mount=MOUNT)), SimVehicle(up=20.0, in_air=True))
    run.executor.set_intrinsics(NADIR)
    run.decide(Proposal('land', {}, Target('red pad', None)))
    final = run.until(_final)
    assert final['state'] == 'aborted' and 'has no image box' in final['reason']


def test_viewpoints_turn_in_steps_of_the_field_of_view_then_circle_facing_outward():
    assert turn_step_deg(NADIR) == pytest.approx(45.0)  # 65 degree view: capped at 45
    narrow = NADIR.__class__(1000.0, 1000.0, 320.0, 240.0, 640, 480)  # 35.5 degrees
    assert turn_step_deg(narrow) == pytest.approx(0.8 * math.degrees(2 * math.atan(0.32)))
    views = viewpoints((1.0, 2.0, 20.0), 90.0, 45.0, 10.0)
    assert [v.heading_deg for v in views[:8]] == [90, 135, 180, 225, 270, 315, 0, 45]
    assert [(v.east, v.north) for v in views[:8]] == [(1.0, 2.0)] * 8
    assert [v.phase for v in views] == ['turn'] * 8 + ['pattern'] * 8
    first = views[8]
    assert (first.east, first.north, first.heading_deg) == pytest.approx((11.0, 2.0, 90.0))
    assert len(viewpoints((0.0, 0.0, 20.0), 0.0, 45.0, 0.0)) == 8


def test_a_search_holds_while_the_pose_is_lost_and_goes_on_when_it_is_back():
    run, camera = _run({'red pad': [(0.0, -20.0)]})
    run.decide(Proposal('land', {}, Target('red pad', None)))
    run.until(lambda s: 'searching' in s['reason'])
    run.until(lambda s: len(camera.headings) == 2)
    run.pose_ok = False
    for _ in range(40):
        run.tick()  # the pose is stamped long ago: stale
    held = run.executor.status(run.clock.now())
    assert held['state'] == 'holding' and len(camera.headings) == 2
    assert {'command': 'hold'} in run.commands
    run.pose_ok = True
    final = run.until(_final)
    assert final['state'] == 'completed', final['reason']
    assert camera.headings == [0, 45, 90, 135]
    assert run.vehicle.position[:2] == pytest.approx([0.0, -20.0], abs=1.0)


def test_without_intrinsics_the_step_is_refused_before_any_search():
    run, camera = _run({'red pad': [(0.0, 20.0)]})
    run.executor.set_intrinsics(None)
    run.decide(Proposal('land', {}, Target('red pad', None)))
    final = run.until(_final)
    assert final['state'] == 'aborted' and 'no camera intrinsics' in final['reason']
    assert camera.headings == [] and all(sp is None for sp in run.setpoints)


def _seen_at_start(camera, ground):
    box = camera._box(ground)
    assert box is not None  # in view from where the mission begins
    return box


def test_a_later_steps_box_seen_where_the_mission_began_is_looked_for_again():
    # The red pad 40 m north is in the decision's frame; the first step flies 20 m north, so
    # that box, projected from there, would put the pad 60 m north: the step looks again.
    run, camera = _run({'red pad': [(0.0, 40.0)]})
    box = _seen_at_start(camera, (0.0, 40.0))
    run.decide(_steps(('goto', {'heading_deg': 0.0, 'distance_m': 20.0}, None),
                      ('land', {}, {'label': 'red pad', 'box': box})))
    final = run.until(_final)
    assert final['state'] == 'completed', final['reason']
    assert run.vehicle.position[:2] == pytest.approx([0.0, 40.0], abs=1.0)
    assert camera.headings == [0]  # found at the first look, straight ahead


def test_a_first_steps_box_is_used_as_seen_and_a_stale_one_without_a_finder_is_refused():
    run, camera = _run({'red pad': [(0.0, 40.0)]})
    box = _seen_at_start(camera, (0.0, 40.0))
    run.decide(Proposal('land', {}, Target('red pad', box)))
    assert run.until(_final)['state'] == 'completed'
    assert run.vehicle.position[:2] == pytest.approx([0.0, 40.0], abs=1.0)
    assert camera.headings == []  # the decision's own box: no look needed

    vehicle = SimVehicle(up=20.0, heading=0.0, in_air=True)
    executor = MissionExecutor(ExecutorSettings(mount=MOUNT))  # no detector to look again
    executor.set_intrinsics(NADIR)
    run = Run(executor, vehicle)
    run.decide(_steps(('goto', {'heading_deg': 0.0, 'distance_m': 20.0}, None),
                      ('land', {}, {'label': 'red pad', 'box': box})))
    final = run.until(_final)
    assert final['state'] == 'aborted'
    assert final['reason'] == "steps[1] (land) refused: target 'red pad' has no image box to " \
                              'place it'
    assert run.vehicle.position[:2] == pytest.approx([0.0, 20.0], abs=1.0)


def test_a_missions_first_step_left_without_a_box_searches_like_a_later_one():
    # As grounding leaves it when the target is not in the decision's frame and missions are
    # flown: the first step turns until it sees the pad behind, flies there, then lands.
    run, camera = _run({'red pad': [(0.0, -20.0)]})
    run.decide(_steps(('goto', {}, {'label': 'red pad', 'box': None}), ('land', {}, None)))
    final = run.until(_final)
    assert final['state'] == 'completed', final['reason']
    assert camera.headings == [0, 45, 90, 135]
    assert run.vehicle.position[:2] == pytest.approx([0.0, -20.0], abs=1.0)
    assert run.vehicle.position[2] <= run.executor.settings.landed_altitude_m
    assert "steps[0] (goto): 'red pad' not in view: searching (a full turn)" in _reasons(run)


def test_a_missions_first_step_whose_target_is_absent_gives_up_in_the_air():
    run, camera = _run({})
    run.decide(_steps(('goto', {}, {'label': 'red pad', 'box': None}), ('land', {}, None)))
    final = run.until(_final, limit_s=600.0)
    assert final['state'] == 'aborted' and final['step_index'] == 0
    assert final['reason'] == ('steps[0] (goto): red pad not found after a full turn and a '
                               'search of 30 m')
    assert len(camera.headings) == 16 and run.commands == [{'command': 'hold'}]
    assert run.vehicle.position[2] == pytest.approx(20.0, abs=0.5)  # never landed


def test_on_the_ground_a_search_is_refused_saying_why_and_nothing_moves():
    vehicle = SimVehicle(up=0.0, heading=0.0, in_air=False)
    camera = FakeCamera(vehicle, {'red pad': [(0.0, -20.0)]})
    executor = MissionExecutor(ExecutorSettings(mount=MOUNT), finder=camera)
    executor.set_intrinsics(NADIR)
    run = Run(executor, vehicle)
    run.decide(_steps(('land', {}, {'label': 'red pad', 'box': None}),
                      ('takeoff', {'altitude_m': 10.0}, None)))
    final = run.until(_final)
    assert final['state'] == 'aborted'
    assert final['reason'] == ("steps[0] (land) refused: the vehicle is on the ground: the "
                               "search for 'red pad' needs it in the air (take off first)")
    assert camera.headings == [] and all(sp is None for sp in run.setpoints)
    assert run.commands == []
