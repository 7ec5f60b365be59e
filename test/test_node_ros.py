"""The node under real ROS rules: simulated time, parameters however they arrive, topic names
in namespaces, every command of a burst answered, and callbacks that cannot kill it."""

from __future__ import annotations

import ast
import logging
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import rclpy
from rclpy.lifecycle import LifecycleNode
from ros_harness import Harness, unique_domain
from rosgraph_msgs.msg import Clock as ClockMsg
from std_msgs.msg import Header, String

from ministral_node.health import ERROR
from ministral_node.ros.node import MinistralNode
from ministral_node.ros.topics import ros_arguments

ROOT = Path(__file__).resolve().parent.parent


def _sim_time(h: Harness, seconds: float) -> None:
    msg = ClockMsg()
    msg.clock.sec, msg.clock.nanosec = int(seconds), int(round(seconds % 1 * 1e9))
    h.clock_pub.publish(msg)


@pytest.fixture
def sim():
    h = Harness(MinistralNode, {'use_sim_time': True, 'link_loss_timeout_s': 2.0,
                                'failsafe_hold_s': 100.0}, activate=False)
    h.clock_pub = h.client.create_publisher(ClockMsg, '/clock', 10)
    h.wait_for(lambda: h.clock_pub.get_subscription_count() > 0, what='/clock subscription')
    _sim_time(h, 1000.0)
    h.wait_for(lambda: h.node.get_clock().now().nanoseconds == 1000 * 10**9, what='sim time')
    h.node.trigger_configure()
    h.node.trigger_activate()
    h.wait_for(lambda: h.command_pub.get_subscription_count() > 0, what='command subscription')
    yield h
    h.close()


def test_under_sim_time_status_stamps_and_watchdog_follow_the_clock(sim):
    h = sim
    h.wait_for(lambda: h.statuses and h.statuses[-1]['state'] == 'active', what='status')
    assert h.statuses[-1]['stamp'] == pytest.approx(1000.0)
    assert h.statuses[-1]['clock']['source'] == 'sim'
    decision = h.command('land')
    assert decision['stamp'] == pytest.approx(1000.0)
    beat = h.client.create_publisher(Header, f'{h.namespace}/ground_heartbeat', 10)
    h.wait_for(lambda: beat.get_subscription_count() > 0, what='heartbeat subscription')
    beat.publish(Header(frame_id='gcs'))
    h.wait_for(lambda: h.statuses[-1]['link']['state'] == 'up', what='link up')
    seen = len(h.decisions)
    _sim_time(h, 1001.5)  # 1.5 s of sim time: within link_loss_timeout_s
    h.wait_for(lambda: h.statuses[-1]['stamp'] == pytest.approx(1001.5), what='sim 1001.5')
    h.wait_for(lambda: h.statuses[-1]['link']['silent_s'] == pytest.approx(1.5), what='silence')
    assert h.statuses[-1]['link']['state'] == 'up' and len(h.decisions) == seen
    _sim_time(h, 1002.5)  # 2.5 s: lost, whatever the wall clock did meanwhile
    h.wait_for(lambda: len(h.decisions) > seen, what='the failsafe hold')
    hold = h.decisions[seen]
    assert (hold['action'], hold['source']) == ('hold', 'failsafe')
    assert hold['stamp'] == pytest.approx(1002.5)


def test_a_stopped_clock_keeps_status_coming_and_says_so(sim):
    h = sim
    h.wait_for(lambda: any(s.message.startswith('simulation clock stopped')
                           for s in h.diagnostic('clock')), what='clock stopped diagnostic')
    count = len(h.statuses)
    h.wait_for(lambda: len(h.statuses) > count + 2, what='status while /clock is silent')
    assert h.statuses[-1]['clock']['state'].startswith('simulation clock stopped')


@pytest.mark.parametrize('module', ['node.py', 'sim_over_dds.py'])
def test_our_nodes_never_assign_an_attribute_rclpy_uses(module):
    # the simulated vehicle once named its /clock publisher `_clock`, which is the clock
    # Node.get_clock() returns
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=unique_domain())
    try:
        plain = LifecycleNode('probe', context=context)
        rclpy_attributes = set(vars(plain))
        plain.destroy_node()
    finally:
        rclpy.shutdown(context=context)
    tree = ast.parse((ROOT / 'ministral_node' / 'ros' / module).read_text())
    ours = {target.attr for node in ast.walk(tree) if isinstance(node, (ast.Assign,
                                                                       ast.AnnAssign))
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            for target in (target.elts if isinstance(target, ast.Tuple) else [target])
            if isinstance(target, ast.Attribute) and getattr(target.value, 'id', '') == 'self'}
    assert {'_subscriptions', '_timers', '_clock'} <= rclpy_attributes
    assert ours and not ours & rclpy_attributes, ours & rclpy_attributes


@pytest.mark.parametrize('overrides, problem', [
    ({'max_altitude_m': 'high'}, "max_altitude_m: expected float, got 'high'"),
    ({'max_altitude_m': 50_000.0}, 'max_altitude_m: '),
    ({'max_altitud_m': 50.0}, "unknown parameter 'max_altitud_m' (did you mean "
                              "'max_altitude_m'?)"),
    ({'min_altitude_m': 80.0, 'max_altitude_m': 60.0}, 'must be above min_altitude_m'),
])
def test_refused_parameters_stop_configure_with_one_line_each(overrides, problem):
    h = Harness(MinistralNode, overrides, activate=False)
    try:
        assert any(problem in line for line in h.node.parameter_problems())
        h.node.trigger_configure()
        assert h.node.done.result() == 2
        assert h.node.status()['state'] == 'unconfigured'
    finally:
        h.close()


def test_an_integer_for_a_float_parameter_is_taken():
    h = Harness(MinistralNode, {'max_altitude_m': 50})
    try:
        assert h.node.settings.limits.max_altitude_m == 50.0
        decision = h.command('climb to 80 m')
        assert decision['safety']['status'] in ('modified', 'refused')
    finally:
        h.close()


def test_a_refused_live_change_says_why():
    h = Harness(MinistralNode)
    try:
        from rclpy.parameter import Parameter

        [result] = h.node.set_parameters([Parameter('max_frame_age_s', value='soon')])
        assert not result.successful and 'max_frame_age_s: expected float' in result.reason
        [result] = h.node.set_parameters([Parameter('max_altitude_m', value=60)])
        assert result.successful and h.node.loop.pipeline.envelope.limits.max_altitude_m == 60
    finally:
        h.close()


def _run_node(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    env = {**os.environ, 'ROS_AUTOMATIC_DISCOVERY_RANGE': 'LOCALHOST',
           'ROS_DOMAIN_ID': str(unique_domain())}
    return subprocess.run([sys.executable, '-m', 'ministral_node.ros.main', *args],
                          capture_output=True, text=True, timeout=timeout, env=env)


@pytest.mark.parametrize('how', ['file', 'ros-args file', '-p'])
def test_ministral_node_exits_2_on_a_bad_parameter_however_it_arrives(tmp_path, how):
    bad = tmp_path / 'bad.yaml'
    bad.write_text('/**:\n  ros__parameters:\n    max_altitude_m: high\n'
                   '    decision_sources: [rules]\n')
    args = {'file': ['--params-file', str(bad)],
            'ros-args file': ['--ros-args', '--params-file', str(bad)],
            '-p': ['--ros-args', '-p', 'max_altitude_m:=high', '-p',
                   'decision_sources:=[rules]']}[how]
    result = _run_node(*args)
    assert result.returncode == 2, result.stderr
    assert "max_altitude_m: expected float, got 'high'" in result.stderr


def test_readme_topic_names_are_the_ones_a_launched_node_uses():
    readme = (ROOT / 'README.md').read_text()
    block = re.search(r'ros2 launch ministral_node ministral\.launch\.py (.*?)\n(?!\s)',
                      readme, re.S).group(1)
    arguments = dict(re.findall(r'(\w+):=(\S+)', block))
    namespace = arguments.pop('namespace', '')
    published = re.findall(r'ros2 topic pub --once (\S+)', readme)
    echoed = re.findall(r'ros2 topic echo (\S+)', readme)
    goals = re.findall(r'ros2 action send_goal --feedback (\S+)', readme)
    assert published and echoed and goals
    context = rclpy.Context()
    rclpy.init(args=ros_arguments(namespace, arguments), context=context,
               domain_id=unique_domain())
    try:
        node = MinistralNode(context=context, parameter_overrides=[
            rclpy.parameter.Parameter('decision_sources', value=['rules'])])
        node.trigger_configure()
        subscribed = {s.topic_name for s in (*node._inputs, node._command_sub)}
        outputs = {p.topic_name for p in (node._decision_pub, node._status_pub)}
        actions = {node.resolve_topic_name('~/command_action')} \
            if node.command_action is not None else set(goals)
        node.trigger_cleanup()
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)
    assert set(published) <= subscribed, (published, subscribed)
    assert set(echoed) <= outputs, (echoed, outputs)
    assert set(goals) <= actions, (goals, actions)


@pytest.mark.slow
def test_a_burst_of_200_commands_gets_200_answers():
    h = Harness(MinistralNode, {'decision_sources': ['rules']})
    try:
        for i in range(200):
            h.command_pub.publish(String(data=f'land {i}'))
        h.wait_for(lambda: len(h.decisions) >= 200, 60, 'an answer to every command')
        texts = sorted(d['command']['text'] for d in h.decisions)
        assert texts == sorted(f'land {i}' for i in range(200))
        refused = [d for d in h.decisions if d['action'] == 'reject']
        assert all('command_queue_depth' in d['refusal']['reason'] for d in refused)
    finally:
        h.close()


def test_the_core_logs_reach_rosout_with_the_line_that_logged_them():
    from rcl_interfaces.msg import Log

    h = Harness(MinistralNode)
    try:
        logs: list[Log] = []
        h.client.create_subscription(Log, '/rosout', logs.append, 100)
        h.wait_for(lambda: h.client.count_publishers('/rosout') > 0, what='/rosout')
        line = sys._getframe().f_lineno + 1
        logging.getLogger('ministral_node.probe').error('probe: link %s', 'lost')
        logging.getLogger('ministral_node.probe').debug('probe: below the node level')
        h.wait_for(lambda: any(m.msg.startswith('probe') for m in logs), what='the log')
        time.sleep(0.2)
        probes = [m for m in logs if m.msg.startswith('probe')]
        assert [m.msg for m in probes] == ['probe: link lost']
        assert probes[0].level == Log.ERROR and probes[0].name == h.node.get_logger().name
        assert (probes[0].file, probes[0].function, probes[0].line) == (
            __file__, 'test_the_core_logs_reach_rosout_with_the_line_that_logged_them', line)
    finally:
        h.close()


def test_an_exception_in_a_callback_is_diagnosed_and_the_node_goes_on():
    h = Harness(MinistralNode)
    try:
        def broken(sender=''):
            raise ValueError('injected fault')

        h.node.loop.heartbeat = broken
        beat = h.client.create_publisher(Header, f'{h.namespace}/ground_heartbeat', 10)
        h.wait_for(lambda: beat.get_subscription_count() > 0, what='heartbeat subscription')
        beat.publish(Header(frame_id='gcs'))
        h.wait_for(lambda: h.node.loop.health.level('link') == ERROR, what='link ERROR')
        assert 'injected fault' in h.node.loop.health.snapshot_of('link').message
        assert h.command('land')['action'] == 'land'
    finally:
        h.close()


@pytest.mark.slow
def test_lifecycle_cycles_under_load_answer_every_command_once():
    from engine_models import model

    h = Harness(MinistralNode, {'decision_sources': ['onboard', 'rules'],
                                'model_dir': str(model('slow')), 'prefix_cache': False,
                                'command_queue_depth': 2})
    sent: list[str] = []
    sending, paused, stop = threading.Event(), threading.Event(), threading.Event()
    sending.set()

    def operator():
        padding = ' please hurry,' * 40  # a long prefill, so deactivation meets a generation
        while not stop.is_set():
            if not sending.is_set():  # no subscription meanwhile: nobody would receive it
                paused.set()
                sending.wait(0.05)
                continue
            paused.clear()
            text = f'land {len(sent)}{padding}'
            sent.append(text)
            h.command_pub.publish(String(data=text))
            stop.wait(0.1)

    thread = threading.Thread(target=operator)
    try:
        thread.start()
        for cycle in range(4):
            wanted = 2 * (cycle + 1)
            h.wait_for(lambda: len(h.decisions) >= wanted, 60, 'decisions')  # noqa: B023
            h.node.trigger_deactivate()
            if cycle == 2:
                sending.clear()
                assert paused.wait(5)
                h.node.trigger_cleanup()
                h.node.trigger_configure()
                h.wait_for(lambda: h.command_pub.get_subscription_count() > 0,
                           what='the subscription back')
                sending.set()
            h.node.trigger_activate()
        stop.set()
        thread.join()
        h.wait_for(lambda: len(h.decisions) >= len(sent), 60, 'an answer to every command')
        answered = [d['command']['text'].split()[1] for d in h.decisions if d['command']]
        assert sorted(answered) == sorted(t.split()[1] for t in sent), \
            'a command unanswered or answered twice'
        kinds = {d['refusal']['kind'] for d in h.decisions if 'refusal' in d}
        print(f'\n{len(sent)} commands, refusals: {sorted(kinds)}')
        assert kinds <= {'inactive', 'deactivating', 'queue_full'}, kinds
    finally:
        stop.set()
        thread.join()
        h.close()


def test_a_camera_publisher_whose_frames_never_arrive_is_reported():
    from sensor_msgs.msg import Image

    h = Harness(MinistralNode, {'max_frame_age_s': 0.5})
    try:
        publisher = h.client.create_publisher(Image, f'{h.namespace}/image_raw', 1)
        h.wait_for(lambda: publisher.get_subscription_count() > 0, what='camera matched')
        h.wait_for(lambda: any('publisher(s) matched' in s.message
                               for s in h.diagnostic('camera')), 20, 'the silence WARN')
    finally:
        h.close()


def test_the_node_records_its_flight_and_replay_reproduces_it(tmp_path):
    import json as json_

    from geometry_msgs.msg import PoseStamped
    from recording_support import read_back

    from ministral_node.cli import replay as replay_cli

    record = tmp_path / 'flight'
    h = Harness(MinistralNode, {'record_dir': str(record)})
    try:
        pose = h.client.create_publisher(PoseStamped, f'{h.namespace}/pose', 10)
        h.wait_for(lambda: pose.get_subscription_count() > 0, what='pose subscription')
        pose.publish(PoseStamped())
        h.wait_for(lambda: h.node.loop.vehicle.position_m is not None, what='a pose')
        texts = ['take off to 15 m', 'climb to 500 m', 'land']
        decided = [h.command(text) for text in texts]
        h.wait_for(lambda: h.statuses and h.diagnostics, what='status and diagnostics')
        h.node.trigger_deactivate()
        h.node.trigger_cleanup()  # closes the recording
    finally:
        h.close()
    (record,) = record.iterdir()  # one recording folder per configure
    topics = {topic for topic, *_ in read_back(record)}
    base = f'{h.namespace}/ministral_node'
    assert {f'{base}/command', f'{base}/decision', f'{base}/annotations', f'{base}/status',
            f'{h.namespace}/pose', '/diagnostics'} <= topics
    recorded = [json_.loads(m.data) for topic, _, _, m in read_back(record)
                if topic == f'{base}/decision']
    assert [d['id'] for d in recorded] == [d['id'] for d in decided]
    out = tmp_path / 'replay.json'
    assert replay_cli.main([str(record), '--json', str(out), '--strict',
                            '--sources', 'rules']) == 0
    report = json_.loads(out.read_text())
    assert (report['commands'], report['same'], report['safety_different']) == (3, 3, 0)
