"""`ministral-sim` arguments and per-flight node parameters (no flight, no ROS)."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from ministral_node import parameters
from ministral_node.cli import sim
from ministral_node.sim.scenario import load_suite


def test_source_configurations_split_on_bars_and_commas():
    assert sim.parse_sources(['rules|onboard,rules']) == [['rules'], ['onboard', 'rules']]
    assert sim.parse_sources(['rules', 'remote,rules']) == [['rules'], ['remote', 'rules']]
    with pytest.raises(ValueError, match="bad source configuration 'onbord'"):
        sim.parse_sources(['onbord'])


def test_each_flight_gets_its_sources_scenario_params_and_camera_mount():
    (scenario,) = load_suite(names=['geofence_en'])
    values = sim.node_values(parameters.defaults(), scenario, ['onboard', 'rules'])
    assert values['decision_sources'] == ['onboard', 'rules']
    assert values['geofence_max_distance_m'] == 60.0
    assert not parameters.problems(values)
    if 'camera_mount_pitch_deg' in parameters.SPECS:
        assert values['camera_mount_pitch_deg'] == 45.0
        assert values['execute_missions'] is True


def test_vehicle_interfaces_split_on_commas_and_set_the_node_parameter():
    assert sim.parse_vehicles('json,px4, mavros,px4') == ['json', 'px4', 'mavros']
    with pytest.raises(ValueError, match="bad vehicle interface"):
        sim.parse_vehicles('')
    (scenario,) = load_suite(names=['rc_takeover_en'])
    values = sim.node_values(parameters.defaults(), scenario, ['rules'], 'mavros')
    assert values['vehicle_interface'] == 'mavros' and not parameters.problems(values)


def test_a_missing_message_package_is_one_clear_error_before_any_flight(monkeypatch, capsys):
    from ministral_node.vehicle_link import config

    monkeypatch.setitem(config.MESSAGE_PACKAGES, 'mavros',
                        ('mavros_msgs_not_built', 'build mavros_msgs in your workspace'))
    assert sim.main(['--vehicle', 'px4,mavros', '--scenario', 'takeoff_land_en']) == 2
    assert capsys.readouterr().err == (
        'ministral-sim: vehicle_interface mavros needs the mavros_msgs_not_built package, '
        'which is not installed: build mavros_msgs in your workspace\n')


def test_a_scenario_is_skipped_through_an_interface_it_does_not_list(capsys):
    import io

    out = io.StringIO()
    scenarios = load_suite(names=['arming_denied_de'])
    args = SimpleNamespace(params=None, record=None)
    assert sim.fly_suite(scenarios, [['rules']], args, out, interfaces=['json']) == []
    assert out.getvalue().split()[:4] == ['skip', 'rules', 'json', 'arming_denied_de']


@pytest.mark.parametrize('argv', [
    ['--sources', 'bogus'],
    ['--suite', '/nonexistent/suite.yaml'],
    ['--scenario', 'no_such_scenario'],
    ['--set', 'no_such_list'],
    ['--vehicle', 'json,px5'],
])
def test_bad_arguments_exit_2_saying_why(argv, capsys):
    assert sim.main(argv) == 2
    assert capsys.readouterr().err.startswith('ministral-sim: ')


class _Node:
    """A node whose clock (nanoseconds) a background thread may move."""

    def __init__(self, name: str, seconds: float) -> None:
        self.name, self.ns = name, int(seconds * 1e9)

    def get_name(self) -> str:
        return self.name

    def get_clock(self) -> SimpleNamespace:
        return SimpleNamespace(now=lambda: SimpleNamespace(nanoseconds=self.ns))


def test_the_simulation_waits_for_a_node_clock_that_trails_it(caplog):
    late = _Node('late', 9.0)
    catch_up = threading.Timer(0.05, lambda: setattr(late, 'ns', int(9.95e9)))
    catch_up.start()
    assert sim._lockstep([late], 10.0, lag_s=0.1, timeout_s=10.0) == [late]
    assert late.ns == int(9.95e9)  # returned only once the clock was within 0.1 s
    on_time, stuck = _Node('on_time', 10.0), _Node('stuck', 3.0)
    assert sim._lockstep([on_time, stuck], 10.0, lag_s=0.1, timeout_s=0.05) == [on_time]
    assert 'stuck: its clock stays behind the simulation (3.00 s at t=10.00 s)' in caplog.text


class _LandedSim:
    """A simulator whose vehicle stays on the ground; 0.5 s per step."""

    step_s = 0.5

    def __init__(self) -> None:
        self.t = 0.0
        self.vehicle = SimpleNamespace(mode='landed')
        self.trace = SimpleNamespace(sent=[])
        self.faults = SimpleNamespace(first=lambda kind: None)


def test_a_flight_lasts_until_the_vehicle_has_had_time_to_act_on_a_late_decision():
    landed = _LandedSim()

    class Operator:
        decisions: list[dict] = []
        missions: list[dict] = []

        def send(self, text: str) -> None:
            pass

    operator = Operator()

    def advance(steps: int) -> None:
        landed.t += steps * landed.step_s
        if landed.t >= 8.0 and not operator.decisions:  # a slow decision, after 7 s
            operator.decisions.append({'t': landed.t})

    scenario = SimpleNamespace(duration_s=60.0, speed=0.0,
                               commands=[SimpleNamespace(at=1.0, text='take off')])
    flight = sim.Flight(scenario, ['rules'], {}, SimpleNamespace(speed=0.0))
    flight._fly(landed, SimpleNamespace(advance=advance), operator, [])
    # Landed and quiet since t=0, but the decision came at t=8: the flight goes on for the
    # settling time after it, so the vehicle can start what it was told.
    assert landed.t >= 8.0 + sim.SETTLE_S
    assert landed.t < 60.0


def test_a_flight_lasts_until_every_mission_has_ended():
    landed = _LandedSim()

    class Operator:  # decided at once; the autopilot refuses the mission only at 10 s
        decisions = [{'t': 1.0}]
        missions = [{'t': 1.0, 'key': ['mission-1', 'running', 0]}]

        def send(self, text: str) -> None:
            pass

    operator = Operator()

    def advance(steps: int) -> None:
        landed.t += steps * landed.step_s
        if landed.t >= 10.0 and len(operator.missions) == 1:
            operator.missions.append({'t': landed.t, 'key': ['mission-1', 'aborted', 0]})

    scenario = SimpleNamespace(duration_s=60.0, speed=0.0,
                               commands=[SimpleNamespace(at=1.0, text='take off')])
    sim.Flight(scenario, ['rules'], {}, SimpleNamespace(speed=0.0))._fly(
        landed, SimpleNamespace(advance=advance), operator, [])
    assert 10.0 <= landed.t < 60.0


def test_a_picture_that_fails_is_a_warning_and_the_result_is_kept(monkeypatch, tmp_path, caplog):
    from ministral_node.sim import pictures
    from ministral_node.sim.scoring import Result

    def broken(*_args, **_kwargs):
        raise ValueError('x1 must be greater than or equal to x0')

    monkeypatch.setattr(pictures, 'trajectory_png', broken)
    monkeypatch.setattr(pictures, 'write_gif', broken)
    (scenario,) = load_suite(names=['geofence_en'])
    result = Result(name=scenario.name, language=scenario.language, category=scenario.category,
                    visual=scenario.visual, succeeded=True, safety_violations=0, reason='ok')
    with caplog.at_level('WARNING'):
        sim._draw(None, scenario, result, [], tmp_path, SimpleNamespace(video=True,
                                                                       video_fps=2.0))
    assert result.picture is None and result.video is None
    assert result.to_dict()['succeeded'] is True
    warned = [r.getMessage() for r in caplog.records if r.levelname == 'WARNING']
    assert any('trajectory picture failed (ValueError: x1 must be' in m for m in warned)
    assert any('camera GIF failed' in m for m in warned)
