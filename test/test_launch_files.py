"""Launch files run against recording stand-ins for `launch` and `launch_ros` (which do not
install from PyPI): their declared arguments, the node they start (remappings, parameters,
lifecycle events) and what happens when the node exits, as `ros2 launch` would evaluate them.
The real launch system is run by hand as the README's "Launch files and their arguments"
section says."""

from __future__ import annotations

import configparser
import importlib.util
import re
import sys
import types
from pathlib import Path

import pytest
from lifecycle_msgs.msg import Transition

from ministral_node import parameters
from ministral_node.ros.topics import LAUNCH_TOPICS, remappings, ros_arguments

ROOT = Path(__file__).resolve().parent.parent
NODE_TOPICS = {'image_raw', 'image_raw/compressed', 'camera_info', '~/command', 'pose',
               'battery', 'ground_heartbeat', 'setpoint_position'}


class Recorded:
    """A launch entity: remembers how it was built."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


class LaunchConfiguration(Recorded):
    def perform(self, context):
        return context.values[self.args[0]]


class PackageNotFoundError(KeyError):
    pass


def _stub_modules(monkeypatch, installed=('ministral_node',)):
    def package(name, **classes):
        module = types.ModuleType(name)
        for attr, value in classes.items():
            setattr(module, attr, value)
        monkeypatch.setitem(sys.modules, name, module)

    def kinds(*names):
        return {n: type(n, (Recorded,), {}) for n in names}

    def prefix(name):
        if name not in installed:
            raise PackageNotFoundError(name)
        return '/opt/ros'

    package('launch', LaunchDescription=type('LaunchDescription', (Recorded,), {}))
    package('launch.actions', **kinds('DeclareLaunchArgument', 'EmitEvent', 'OpaqueFunction',
                                      'RegisterEventHandler', 'Shutdown',
                                      'IncludeLaunchDescription'))
    package('launch.event_handlers', **kinds('OnProcessExit'))
    package('launch.events', matches_action=lambda action: ('matches', action))
    package('launch.substitutions', LaunchConfiguration=LaunchConfiguration)
    package('launch.launch_description_sources', **kinds('PythonLaunchDescriptionSource'))
    package('launch_ros.actions', **kinds('Node', 'LifecycleNode'))
    package('launch_ros.event_handlers', **kinds('OnStateTransition'))
    package('launch_ros.events.lifecycle', **kinds('ChangeState'))
    package('ament_index_python.packages', PackageNotFoundError=PackageNotFoundError,
            get_package_prefix=prefix, get_package_share_directory=lambda name: str(ROOT))


def _load(monkeypatch, name, **stub):
    _stub_modules(monkeypatch, **stub)
    spec = importlib.util.spec_from_file_location(name.replace('.', '_'),
                                                  ROOT / 'launch' / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Context:
    def __init__(self, values):
        self.values = values


def _entities(description):
    return description.args[0]


def _declared(description):
    return {e.args[0]: e.kwargs.get('default_value') for e in _entities(description)
            if type(e).__name__ == 'DeclareLaunchArgument'}


def _evaluate(module, **arguments):
    """What the launch starts with these arguments: (entities, context values)."""
    description = module.generate_launch_description()
    values = {**_declared(description), **arguments}
    started = []
    for entity in _entities(description):
        if type(entity).__name__ == 'OpaqueFunction':
            started.extend(entity.kwargs['function'](Context(values)))
        elif type(entity).__name__ != 'DeclareLaunchArgument':
            started.append(entity)
    return started, values


def _of(entities, kind):
    return [e for e in entities if type(e).__name__ == kind]


def _console_scripts() -> set[str]:
    return set(re.findall(r"'([\w-]+) = ministral_node\.", (ROOT / 'setup.py').read_text()))


def test_the_node_runs_our_executable_with_declared_parameters_and_relative_topics(monkeypatch):
    module = _load(monkeypatch, 'ministral.launch.py')
    started, values = _evaluate(module)
    (node,) = _of(started, 'LifecycleNode')
    assert node.kwargs['executable'] in _console_scripts()
    assert node.kwargs['name'] == parameters.NODE_NAME and node.kwargs['namespace'] == ''
    params_file, overrides = node.kwargs['parameters']
    assert params_file == values['params_file']
    assert set(overrides) <= set(parameters.names()) | {'use_sim_time'}
    assert overrides == {'use_sim_time': False, 'autostart': True}
    assert node.kwargs['remappings'] == []  # the node's own relative names
    assert not _of(started, 'EmitEvent')  # the node drives its own lifecycle


def test_topic_arguments_remap_and_namespace_applies(monkeypatch):
    module = _load(monkeypatch, 'ministral.launch.py')
    arguments = {'namespace': 'drone1', 'camera_topic': '/drone1/camera/image_raw',
                 'command_topic': '/mission/command', 'pose_topic': 'mavros/local_position/pose',
                 'battery_topic': 'mavros/battery', 'heartbeat_topic': '/ground/heartbeat',
                 'setpoint_topic': 'mavros/setpoint_position/local'}
    started, _ = _evaluate(module, **arguments)
    (node,) = _of(started, 'LifecycleNode')
    assert node.kwargs['namespace'] == 'drone1'
    assert dict(node.kwargs['remappings']) == {
        'image_raw': '/drone1/camera/image_raw',
        'image_raw/compressed': '/drone1/camera/image_raw/compressed',
        'camera_info': '/drone1/camera/camera_info',
        'setpoint_position': 'mavros/setpoint_position/local',
        '~/command': '/mission/command', 'pose': 'mavros/local_position/pose',
        'battery': 'mavros/battery', 'ground_heartbeat': '/ground/heartbeat'}
    assert {source for source, _ in remappings(arguments)} == NODE_TOPICS
    assert ros_arguments('drone1', arguments)[:3] == ['--ros-args', '-r', '__ns:=/drone1']


@pytest.mark.parametrize('argument, in_file, drives', [
    ('false', True, True), ('true', False, False), ('', False, True), ('', True, False)])
def test_the_launch_drives_the_lifecycle_when_autostart_is_off(monkeypatch, tmp_path, argument,
                                                                 in_file, drives):
    params = tmp_path / 'params.yaml'
    params.write_text(f'/**:\n  ros__parameters:\n    autostart: {str(in_file).lower()}\n')
    module = _load(monkeypatch, 'ministral.launch.py')
    started, _ = _evaluate(module, autostart=argument, params_file=str(params))
    (node,) = _of(started, 'LifecycleNode')
    assert node.kwargs['parameters'][1]['autostart'] is not drives
    events = _of(started, 'EmitEvent')
    if not drives:
        assert events == []
        return
    (configure,) = events
    assert configure.kwargs['event'].kwargs['transition_id'] == Transition.TRANSITION_CONFIGURE
    handlers = [h.args[0] for h in _of(started, 'RegisterEventHandler')]
    (then,) = [h for h in handlers if type(h).__name__ == 'OnStateTransition']
    assert (then.kwargs['start_state'], then.kwargs['goal_state']) == ('configuring', 'inactive')
    assert then.kwargs['handle_once'] is True  # a later configure is not followed by activate
    (activate,) = then.kwargs['entities']
    assert activate.kwargs['event'].kwargs['transition_id'] == Transition.TRANSITION_ACTIVATE


@pytest.mark.parametrize('interface', ['px4', 'mavros', 'json'])
def test_vehicle_interface_reaches_the_node(monkeypatch, interface):
    module = _load(monkeypatch, 'ministral.launch.py')
    started, _ = _evaluate(module, vehicle_interface=interface, execute_missions='true')
    (node,) = _of(started, 'LifecycleNode')
    overrides = node.kwargs['parameters'][1]
    assert (overrides['vehicle_interface'], overrides['execute_missions']) == (interface, True)
    values = {k: v for k, v in overrides.items() if k != 'use_sim_time'}
    assert parameters.problems({**parameters.defaults(), **values}) == []


def test_a_node_that_dies_shuts_the_launch_down_and_a_failure_is_an_error(monkeypatch):
    module = _load(monkeypatch, 'ministral.launch.py')
    started, _ = _evaluate(module)
    (handler,) = [h.args[0] for h in _of(started, 'RegisterEventHandler')
                  if type(h.args[0]).__name__ == 'OnProcessExit']
    on_exit = handler.kwargs['on_exit']
    running, stopping = (types.SimpleNamespace(is_shutdown=flag) for flag in (False, True))
    exited = types.SimpleNamespace(returncode=0)
    assert type(on_exit(exited, running)[0]).__name__ == 'Shutdown'
    assert on_exit(exited, stopping) == []  # Ctrl-C: launch is already stopping
    with pytest.raises(RuntimeError, match='exited with code 2'):
        on_exit(types.SimpleNamespace(returncode=2), running)


def test_sim_launch_bridges_the_current_px4_camera_and_passes_every_argument(monkeypatch):
    main = _load(monkeypatch, 'ministral.launch.py')
    sim = _load(monkeypatch, 'sim.launch.py', installed=('ministral_node', 'ros_gz_bridge'))
    started, values = _evaluate(sim, camera_topic='/x500/camera')
    (bridge,) = _of(started, 'Node')
    assert bridge.kwargs['package'] == 'ros_gz_bridge'
    image = '/world/default/model/x500_mono_cam_0/link/camera_link/sensor/camera/image'
    assert f'{image}@sensor_msgs/msg/Image[gz.msgs.Image' in bridge.kwargs['arguments']
    assert '/clock@rosgraph_msgs/msg/Clock[gz.msgs.Clock' in bridge.kwargs['arguments']
    assert (image, '/x500/camera') in bridge.kwargs['remappings']
    assert sim.camera_gz_topic('w', 'm', 'camera_link', 'imager').endswith(
        'camera_link/sensor/imager/image')  # Feb-Oct 2025 PX4 models
    (include,) = _of(started, 'IncludeLaunchDescription')
    passed = dict(include.kwargs['launch_arguments'])
    assert set(passed) == set(_declared(main.generate_launch_description()))
    assert all(value.args[0] == name for name, value in passed.items())
    assert values['use_sim_time'] == 'true'
    assert (values['execute_missions'], values['setpoint_topic']) == (
        'true', '/mavros/setpoint_position/local')
    (node,) = _of(_evaluate(main, **{name: values[name] for name in passed})[0], 'LifecycleNode')
    assert node.kwargs['parameters'][1]['execute_missions'] is True
    # the simulation flies through MAVROS: the node arms and switches modes itself
    assert values['vehicle_interface'] == 'mavros'
    assert node.kwargs['parameters'][1]['vehicle_interface'] == 'mavros'
    assert ('setpoint_position', '/mavros/setpoint_position/local') in node.kwargs['remappings']
    assert ('camera_info', '/x500/camera_info') in node.kwargs['remappings']


def test_sim_launch_without_ros_gz_bridge_says_how_to_install_it(monkeypatch):
    sim = _load(monkeypatch, 'sim.launch.py', installed=('ministral_node',))
    with pytest.raises(RuntimeError, match='ros-gz-bridge'):
        _evaluate(sim)
    started, _ = _evaluate(sim, bridge='false')
    assert _of(started, 'Node') == []


def test_ros_gz_bridge_is_declared_and_launch_files_installed():
    assert '<exec_depend>ros_gz_bridge</exec_depend>' in (ROOT / 'package.xml').read_text()
    setup = (ROOT / 'setup.py').read_text()
    assert "glob('launch/*.launch.py')" in setup
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / 'setup.cfg')
    assert cfg['install']['install_scripts'] == '$base/lib/ministral_node'
    assert 'ministral_node' in _console_scripts()


def test_every_launch_topic_argument_names_a_node_topic():
    assert set(LAUNCH_TOPICS.values()) | {'image_raw/compressed', 'camera_info'} == NODE_TOPICS
