"""The parameter table, the shipped params file, and YAML loading."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ministral_node import parameters as p
from ministral_node.resources import config_path


def test_every_parameter_has_a_description_and_a_valid_default():
    for spec in p.PARAMETERS:
        assert spec.description.strip(), spec.name
        assert spec.check(spec.default) == spec.default, spec.name
        if spec.minimum is not None and spec.maximum is not None:
            assert spec.minimum <= spec.maximum, spec.name
    p.validate(p.defaults())


def test_the_shipped_params_file_sets_every_parameter_validly():
    text = config_path('ministral.yaml').read_text()
    section = yaml.safe_load(text)['/**']['ros__parameters']
    empty_lists = {s.name for s in p.PARAMETERS if s.default == []}
    assert set(section) == set(p.names()) - empty_lists
    for name in empty_lists:  # a ROS params file cannot type an empty list: documented instead
        assert f'# {name}: [' in text, name
    assert p.load_params_file(config_path('ministral.yaml')) == p.validate(
        {**p.defaults(), **section})


def test_the_shipped_params_file_states_the_declared_defaults():
    # So a node started without it (ros2 run, another params file) behaves the same, and no
    # hidden file has to be loaded first (which would override -p: rcl applies files last).
    assert p.load_params_file(config_path('ministral.yaml')) == p.defaults()


@pytest.mark.parametrize('changes, message', [
    ({'max_frame_age_s': -1.0}, 'below the minimum'),
    ({'status_rate_hz': 1.0}, 'below the minimum 2.0'),
    ({'camera_transport': 'theora'}, "'theora' is not one of raw, compressed"),
    ({'decision_sources': ['rules', 'rules']}, 'names a source twice'),
    ({'decision_sources': []}, 'at least one source'),
    ({'decision_sources': ['oracle']}, "'oracle' is not one of"),
    ({'max_command_chars': 'long'}, 'expected int'),
    ({'autostart': 1}, 'expected bool'),
    ({'no_such_thing': 1}, "unknown parameter 'no_such_thing'"),
])
def test_bad_values_are_refused_with_a_reason(changes, message):
    with pytest.raises(p.ParameterError, match=message):
        p.with_changes(p.defaults(), changes)


def test_ints_are_accepted_for_floats():
    assert p.with_changes(p.defaults(), {'max_frame_age_s': 2})['max_frame_age_s'] == 2.0


def test_params_file_sections_merge_wildcard_then_node(tmp_path):
    path = tmp_path / 'params.yaml'
    path.write_text(yaml.safe_dump({
        '/**': {'ros__parameters': {'max_frame_age_s': 3.0, 'status_rate_hz': 5.0}},
        '/drone1/ministral_node': {'ros__parameters': {'status_rate_hz': 10.0}},
        'other_node': {'ros__parameters': {'whatever': 1}},
    }))
    values = p.load_params_file(path)
    assert values['max_frame_age_s'] == 3.0 and values['status_rate_hz'] == 10.0


@pytest.mark.parametrize('content, message', [
    ('ministral_node: [1, 2', 'not valid YAML'),
    ('- 1\n- 2\n', 'expected a mapping'),
    ('ministral_node:\n  params: {}\n', 'no ros__parameters'),
    ('/**:\n  ros__parameters:\n    max_frame_age_s: 1000.0\n', 'above the maximum'),
])
def test_bad_params_files_are_reported(tmp_path, content, message):
    path = tmp_path / 'bad.yaml'
    path.write_text(content)
    with pytest.raises(p.ParameterError, match=message):
        p.load_params_file(path)


def test_a_missing_params_file_is_reported(tmp_path):
    with pytest.raises(p.ParameterError, match='cannot read parameters file'):
        p.load_params_file(tmp_path / 'nope.yaml')


def _param_table(*args: str) -> str:
    root = Path(__file__).resolve().parent.parent
    return subprocess.run([sys.executable, str(root / 'scripts' / 'param_table'), *args],
                          capture_output=True, text=True, check=True).stdout


def test_the_parameter_reference_page_is_current():
    root = Path(__file__).resolve().parent.parent
    assert _param_table() in (root / 'docs' / 'parameters.md').read_text(), \
        'docs/parameters.md is stale: paste the output of scripts/param_table'


def test_the_readme_short_parameter_table_is_current():
    root = Path(__file__).resolve().parent.parent
    readme = (root / 'README.md').read_text()
    names = re.findall(r'^\| `(\w+)` \|', readme.split('| parameter | default', 1)[1]
                       .split('\n\n', 1)[0], re.M)
    assert len(names) == 10, names
    assert _param_table('--names', ','.join(names)) in readme, \
        'README parameter table is stale: paste scripts/param_table --names ' + ','.join(names)
