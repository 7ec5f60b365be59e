"""`ministral-sim` arguments and per-flight node parameters (no flight, no ROS)."""

from __future__ import annotations

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


@pytest.mark.parametrize('argv', [
    ['--sources', 'bogus'],
    ['--suite', '/nonexistent/suite.yaml'],
    ['--scenario', 'no_such_scenario'],
    ['--set', 'no_such_list'],
])
def test_bad_arguments_exit_2_saying_why(argv, capsys):
    assert sim.main(argv) == 2
    assert capsys.readouterr().err.startswith('ministral-sim: ')
