"""Launch files checked statically: `launch` and `launch_ros` do not install from PyPI."""

import ast
import configparser
import re
from pathlib import Path

import pytest

from ministral_node import parameters

ROOT = Path(__file__).resolve().parent.parent
LAUNCH_FILES = sorted((ROOT / 'launch').glob('*.launch.py'))
ROS_BUILTIN_PARAMETERS = {'use_sim_time'}
NODE_TOPICS = {'image_raw', 'image_raw/compressed', '~/command', 'pose', 'battery',
               'ground_heartbeat'}


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)
            and getattr(n.func, 'id', getattr(n.func, 'attr', None)) == name]


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _our_nodes(tree: ast.AST) -> list[ast.Call]:
    return [c for c in _calls(tree, 'Node')
            if ast.literal_eval(_keyword(c, 'package')) == 'ministral_node']


def _console_scripts() -> set[str]:
    setup = (ROOT / 'setup.py').read_text()
    return set(re.findall(r"'([\w-]+) = ministral_node\.", setup))


def test_there_are_both_launch_files():
    assert {f.name for f in LAUNCH_FILES} == {'ministral.launch.py', 'sim.launch.py'}


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_file_parses_and_defines_the_entry(path):
    tree = ast.parse(path.read_text(), str(path))
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert 'generate_launch_description' in functions


def test_main_launch_runs_our_executable_with_declared_parameters_only():
    tree = ast.parse((ROOT / 'launch' / 'ministral.launch.py').read_text())
    (node,) = _our_nodes(tree)
    assert ast.literal_eval(_keyword(node, 'executable')) in _console_scripts()
    assert ast.literal_eval(_keyword(node, 'name')) == parameters.NODE_NAME
    set_here = set()
    for item in _keyword(node, 'parameters').elts:
        if isinstance(item, ast.Dict):
            set_here |= {ast.literal_eval(k) for k in item.keys}
    assert set_here, 'the launch file should set at least use_sim_time'
    assert set_here <= set(parameters.names()) | ROS_BUILTIN_PARAMETERS
    remapped = {ast.literal_eval(pair.elts[0]) for pair in _keyword(node, 'remappings').elts}
    assert remapped == NODE_TOPICS


def test_launch_arguments_used_are_declared():
    for path in LAUNCH_FILES:
        tree = ast.parse(path.read_text())
        declared = {ast.literal_eval(c.args[0]) for c in _calls(tree, 'DeclareLaunchArgument')}
        used = {ast.literal_eval(c.args[0]) for c in _calls(tree, 'LaunchConfiguration')}
        assert used <= declared, f'{path.name}: {used - declared} used but not declared'


def test_sim_launch_bridges_the_px4_camera_and_includes_the_main_launch():
    text = (ROOT / 'launch' / 'sim.launch.py').read_text()
    tree = ast.parse(text)
    bridge = [c for c in _calls(tree, 'Node')
              if ast.literal_eval(_keyword(c, 'package')) == 'ros_gz_bridge']
    assert len(bridge) == 1
    assert 'sensor/imager' in text and 'x500_mono_cam_0' in text
    assert 'sensor_msgs/msg/Image[gz.msgs.Image' in text
    assert "'ministral.launch.py'" in text and "'use_sim_time': 'true'" in text


def test_launch_files_are_installed_and_scripts_go_where_ros2_run_looks():
    setup = (ROOT / 'setup.py').read_text()
    assert "glob('launch/*.launch.py')" in setup
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / 'setup.cfg')
    assert cfg['install']['install_scripts'] == '$base/lib/ministral_node'
    assert 'ministral_node' in _console_scripts()
