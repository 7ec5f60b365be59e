"""`ministral-replay`: a recorded run decided again gives the recorded decisions; changed
parameters show up per command and in the summary; --play republishes over DDS."""

import json
import os
import subprocess
import sys
import threading
import time

import pytest
import rclpy
from geometry_msgs.msg import PoseStamped
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.serialization import serialize_message
from recording_support import ROLES, image_message, params_with, read_back, record_run
from ros_harness import unique_domain
from std_msgs.msg import String

from ministral_node import parameters
from ministral_node.cli import replay as replay_cli
from ministral_node.cli.demo import SCRIPT
from ministral_node.core.pipeline import DecisionPipeline
from ministral_node.core.settings import Settings
from ministral_node.decision import Refusal, RefusalKind, answer
from ministral_node.inputs.camera import Frame, LatestFrame
from ministral_node.inputs.commands import CommandError, decode_string_message
from ministral_node.recording.recorder import Recorder, RecorderSettings
from ministral_node.recording.replayer import Bag, outcome, replay
from ministral_node.resources import config_path
from ministral_node.sources.factory import build_sources
from ministral_node.timing import FakeClock
from ministral_node.training.scenes import demo_scene

COMMANDS = ['Take off to 20 meters', 'Monte à 35 mètres', 'Segui la macchina blu',
            'Climb to 900 m', '   ']
assert set(COMMANDS) <= {text for _, text in SCRIPT}


@pytest.fixture(scope='module')
def demo_run(tmp_path_factory):
    """The demo's configuration (shipped onboard model, then rules) deciding part of the
    demo script on the demo scene, recorded."""
    # Boxes kept whatever their measured confidence, so replay has boxes to compare.
    values = parameters.with_changes(parameters.load_params_file(config_path('ministral.yaml')),
                                     {'min_box_confidence': 0.0})
    folder, decisions = record_run(tmp_path_factory.mktemp('flight'), values, COMMANDS,
                                   demo_scene().image)
    return folder, decisions


def _replay(capsys, *argv):
    code = replay_cli.main([str(a) for a in argv])
    return code, capsys.readouterr()


def test_the_same_configuration_gives_the_same_decisions(demo_run, capsys, tmp_path):
    folder, decisions = demo_run
    assert any(d.target and d.target.box for d in decisions)  # boxes are compared
    out = tmp_path / 'report.json'
    code, printed = _replay(capsys, folder, '--json', out, '--strict')
    report = json.loads(out.read_text())
    assert code == 0
    assert set(report) == {'commands', 'same', 'different', 'safety_different', 'rows'}
    assert (report['commands'], report['same'], report['different'],
            report['safety_different']) == (len(COMMANDS), len(COMMANDS), 0, 0)
    assert [row['command'] for row in report['rows']] == COMMANDS
    assert [row['recorded'] for row in report['rows']] == [outcome(d) for d in decisions]
    assert f'{len(COMMANDS)} commands: {len(COMMANDS)} same, 0 different' in printed.out


def test_a_lower_ceiling_reports_the_safety_difference(demo_run, capsys, tmp_path):
    folder, decisions = demo_run
    ceiling = 30.0
    low = tmp_path / 'low.yaml'
    low.write_text(f'/**:\n  ros__parameters:\n    max_altitude_m: {ceiling}\n')
    out = tmp_path / 'report.json'
    code, printed = _replay(capsys, folder, '--params', low, '--json', out, '--strict')
    report = json.loads(out.read_text())
    above = [d.command.text for d in decisions if d.params.get('altitude_m', 0) > ceiling]
    assert above  # the run has commands over the new ceiling
    assert code == 1
    assert report['safety_different'] == len(above) == report['different']
    changed = [row for row in report['rows'] if 'safety' in row['differences']]
    assert [row['command'] for row in changed] == above
    for row in changed:
        assert row['replayed']['params']['altitude_m'] == ceiling
        assert row['replayed']['safety']['status'] == 'modified'
        assert row['recorded']['params']['altitude_m'] > ceiling
    assert 'DIFFERENT (params, safety)' in printed.out
    code, _ = _replay(capsys, folder, '--params', low)
    assert code == 0  # without --strict a difference is reported, not an error


def test_sources_and_parameters_can_be_replaced(demo_run):
    folder, _ = demo_run
    bag = Bag.open(folder)
    values = parameters.with_changes(bag.params(), {'decision_sources': ['rules']})
    report = replay(bag, values, build_sources(values)).summary()
    assert {row['replayed']['source'] for row in report['rows']} == {'rules'}
    assert report['different'] >= 1


def _rules_recording(tmp_path, name: str):
    """A started recorder under `tmp_path`, the rules-only parameters, and a pipeline on them,
    both on one fake clock: a flight to record and replay."""
    clock = FakeClock(10.0)
    recorder = Recorder(RecorderSettings(str(tmp_path)), clock, name=name)
    recorder.start()
    values = params_with(decision_sources=['rules'])
    pipeline = DecisionPipeline.from_settings(
        Settings.from_values(values), build_sources(values), LatestFrame(), clock, clock)
    return recorder, values, pipeline


def test_roles_are_found_without_the_recorders_metadata(tmp_path):
    recorder, values, pipeline = _rules_recording(tmp_path, 'plain')
    recorder.record('/robot/command', 'std_msgs/msg/String', String(data='land'), 1)
    decision = pipeline.decide('land')
    recorder.record('/robot/decision', 'std_msgs/msg/String', String(data=decision.to_json()),
                    2)
    recorder.record('/robot/command', 'std_msgs/msg/String', String(data='hover'), 3)
    recorder.close()
    bag = Bag.open(recorder.directory)
    assert bag.params() is None
    assert bag.roles() == {'command': '/robot/command', 'decision': '/robot/decision'}
    report = replay(bag, values, build_sources(values)).summary()
    assert [row['same'] for row in report['rows']] == [True, False]
    assert report['rows'][1]['recorded'] is None  # 'hover' was never answered


def test_a_recording_cut_short_is_replayed_up_to_where_it_ends(demo_run, capsys, tmp_path):
    folder, decisions = demo_run
    (whole,) = folder.glob('*.mcap')
    data = whole.read_bytes()
    cut = tmp_path / 'cut.mcap'
    cut.write_bytes(data[:len(data) * 3 // 4])  # the recorder was killed: no summary
    out = tmp_path / 'report.json'
    code, printed = _replay(capsys, cut, '--json', out)
    report = json.loads(out.read_text())
    assert code == 0 and 'was cut short' in printed.err
    assert 0 < report['commands'] < len(decisions) and report['same'] == report['commands']


def test_commands_recorded_as_raw_bytes_are_read_as_the_node_reads_them(tmp_path):
    """The node records commands as the raw CDR its subscription gets; bytes that are not
    UTF-8 (which no ROS decoder reads) are refused in replay exactly as in flight."""
    recorder, values, pipeline = _rules_recording(tmp_path, 'raw')
    not_utf8 = b'\x00\x01\x00\x00\x03\x00\x00\x00\xff\xfe\x00'
    good = serialize_message(String(data='land'))
    for stamp, payload in enumerate((not_utf8, good)):
        recorder.record('/n/command', 'std_msgs/msg/String', payload, 2 * stamp)
        try:
            decision = pipeline.decide(decode_string_message(payload))
        except CommandError as exc:
            decision = pipeline.refuse(Refusal(RefusalKind.INPUT, str(exc)))
        recorder.record('/n/decision', 'std_msgs/msg/String', String(data=decision.to_json()),
                        2 * stamp + 1)
    recorder.close()
    report = replay(Bag.open(recorder.directory), values, build_sources(values)).summary()
    assert [row['replayed']['action'] for row in report['rows']] == ['reject', 'land']
    assert report['same'] == report['commands'] == 2


class _FrameReporter:
    """A source that answers with the stamp of the frame it was given."""

    source = 'rules'

    def decide(self, request, cancel):
        frame = request.frame
        return answer('none' if frame is None else f'{frame.stamp:.1f}')

    def model_info(self):
        return None


def test_each_command_sees_the_frame_its_recorded_decision_saw(tmp_path):
    clock = FakeClock(100.0)
    recorder = Recorder(RecorderSettings(str(tmp_path), image_rate_hz=100.0,
                                         max_queued_frames=100), clock,
                        name='frames', stamp_clock=clock)
    recorder.start()
    values = params_with()
    frames = LatestFrame()
    pipeline = DecisionPipeline.from_settings(
        Settings.from_values(values), [_FrameReporter()], frames, clock, clock)
    rgb = demo_scene(64, 48).image
    cases = [(1.0, 'as in flight'), (None, 'none, as in flight'),
             (7.0, 'nearest recorded')]  # 7.0 was never recorded
    for index, (claimed, _kind) in enumerate(cases):
        for stamp in (2.0 * index + 1.0, 2.0 * index + 2.0):  # two frames before each command
            msg = image_message(rgb, round(stamp * 1e9))
            recorder.record('/cam', 'sensor_msgs/msg/Image', msg)
            clock.advance(0.1)
        recorder.record('/n/command', 'std_msgs/msg/String', String(data='what do you see'))
        if claimed is not None:
            frames.store(Frame(rgb, claimed, 'cam', clock.now() - 0.05))
        else:
            frames.clear()
        decision = pipeline.decide('what do you see')
        recorder.record('/n/decision', 'std_msgs/msg/String', String(data=decision.to_json()))
        clock.advance(0.1)
    recorder.record('/n/command', 'std_msgs/msg/String', String(data='unanswered'))
    recorder.close()
    report = replay(Bag.open(recorder.directory), values, [_FrameReporter()]).summary()
    rows = report['rows']
    assert [row['frame'] for row in rows] == [kind for _, kind in cases] + ['newest recorded']
    seen = [row['replayed']['params']['text'] for row in rows]
    assert seen == ['1.0', 'none', '6.0', '6.0']  # nearest and newest: the last recorded
    assert [row['same'] for row in rows[:2]] == [True, True]


@pytest.mark.parametrize('make, message', [
    (lambda tmp: tmp / 'missing', 'does not exist'),
    (lambda tmp: tmp, 'holds no .mcap file'),
    (lambda tmp: (tmp / 'x.mcap').write_bytes(b'not mcap') and tmp / 'x.mcap',
     'not an MCAP file'),
])
def test_bad_recordings_exit_2_with_a_message(capsys, tmp_path, make, message):
    code, printed = _replay(capsys, make(tmp_path))
    assert code == 2 and message in printed.err


def test_play_republishes_over_dds_and_a_recorder_records_what_arrives(demo_run, tmp_path):
    """A DDS round trip: --play publishes the recorded commands and poses; a subscriber
    records what it receives; an independent reader finds the same commands in order."""
    folder, _ = demo_run
    domain = unique_domain()  # concurrent runs on one machine never share a domain
    env = {**os.environ, 'ROS_AUTOMATIC_DISCOVERY_RANGE': 'LOCALHOST',
           'ROS_DOMAIN_ID': str(domain)}
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=domain)
    recorder = Recorder(RecorderSettings(str(tmp_path)), FakeClock(), name='received')
    recorder.start()
    received = []
    try:
        node = rclpy.create_node('replay_listener', context=context)

        def on_command(msg):
            received.append(msg.data)
            recorder.record(ROLES['command'], 'std_msgs/msg/String', msg)

        node.create_subscription(String, ROLES['command'], on_command, 10)
        node.create_subscription(
            PoseStamped, ROLES['pose'],
            lambda m: recorder.record(ROLES['pose'], 'geometry_msgs/msg/PoseStamped', m),
            QoSProfile(depth=10, reliability=ReliabilityPolicy.BEST_EFFORT))
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        spinner = threading.Thread(target=executor.spin, daemon=True)
        spinner.start()
        played = subprocess.run(
            [sys.executable, '-m', 'ministral_node.cli.replay', str(folder), '--play',
             '--rate', '4', '--wait', '20', '--topics', ROLES['command'], ROLES['pose']],
            env=env, capture_output=True, text=True, timeout=120)
        assert played.returncode == 0, played.stderr
        end = time.monotonic() + 10
        while len(received) < len(COMMANDS) and time.monotonic() < end:
            time.sleep(0.05)
        executor.shutdown(timeout_sec=5)
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)
        recorder.close()
    assert received == COMMANDS
    found = read_back(recorder.directory)
    assert [m[3].data for m in found if m[0] == ROLES['command']] == COMMANDS
    assert any(m[1] == 'geometry_msgs/msg/PoseStamped' and m[3].pose.position.z == 20.0
               for m in found)


@pytest.mark.slow
def test_the_demo_records_and_replay_reproduces_its_decisions(capsys, tmp_path):
    """The acceptance run: `ministral-demo --record` (node process over DDS), then
    `ministral-replay` on its recording with the recorded parameters."""
    env = {**os.environ, 'ROS_AUTOMATIC_DISCOVERY_RANGE': 'LOCALHOST'}
    demo = subprocess.run([sys.executable, '-m', 'ministral_node.cli.demo', '--record',
                           str(tmp_path), '--domain-id', str(unique_domain())], env=env,
                          capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    out = tmp_path / 'report.json'
    code, _ = _replay(capsys, folder, '--json', out, '--strict')
    report = json.loads(out.read_text())
    assert report['commands'] == len(SCRIPT) + 1  # and the mission
    assert report['same'] == report['commands'], [r for r in report['rows'] if not r['same']]
    assert code == 0
    found = {m[0] for m in read_back(folder)}
    assert {'/demo/camera/image_raw/compressed', '/ministral_node/annotations',
            '/ministral_node/mission', '/diagnostics', '/demo/heartbeat'} <= found


def test_a_command_the_queue_dropped_in_flight_is_dropped_in_replay_too(tmp_path):
    recorder, values, pipeline = _rules_recording(tmp_path, 'queue')
    dropped = pipeline.refuse(Refusal(RefusalKind.QUEUE_FULL,
                                      'dropped unanswered: 4 newer commands were already '
                                      'waiting (command_queue_depth=4)'), text='land')
    recorder.record('/robot/command', 'std_msgs/msg/String', String(data='land'), 1)
    recorder.record('/robot/decision', 'std_msgs/msg/String', String(data=dropped.to_json()), 2)
    recorder.close()
    report = replay(Bag.open(recorder.directory), values, build_sources(values)).summary()
    (row,) = report['rows']
    assert row['same'] and row['replayed']['action'] == 'reject'


def test_decisions_recorded_under_an_earlier_contract_are_read_and_unreadable_ones_skipped(
        tmp_path):
    recorder, values, pipeline = _rules_recording(tmp_path, 'older')
    older = {**pipeline.decide('land').to_dict(), 'schema_version': '1.3.0'}
    recorder.record('/robot/command', 'std_msgs/msg/String', String(data='land'), 1)
    recorder.record('/robot/decision', 'std_msgs/msg/String', String(data=json.dumps(older)), 2)
    recorder.record('/robot/command', 'std_msgs/msg/String', String(data='hover'), 3)
    recorder.record('/robot/decision', 'std_msgs/msg/String', String(data='{"id": "cut'), 4)
    recorder.close()
    report = replay(Bag.open(recorder.directory), values, build_sources(values)).summary()
    assert [(row['command'], row['same']) for row in report['rows']] == [('land', True),
                                                                        ('hover', False)]
    assert report['rows'][1]['recorded'] is None


def test_a_node_that_flew_its_missions_replays_a_first_step_left_to_search(tmp_path):
    import numpy as np
    from detector_models import build_detector
    from support import ScriptedDecider

    from ministral_node.decision import Proposal, Target, mission

    plan = mission([Proposal('goto', {}, Target('red pad', None), 0.9, ''),
                    Proposal('land', {}, None, 0.9, '')], 'asked', 0.8)
    model = build_detector(tmp_path / 'pads.onnx', names="{0: 'pad', 1: 'car', 2: 'person'}")
    values = params_with(detector_model=str(model), detector_providers=['cpu'],
                         execute_missions=True)
    clock = FakeClock(100.0)
    recorder = Recorder(RecorderSettings(str(tmp_path / 'rec'), image_rate_hz=100.0), clock,
                        name='first_step', stamp_clock=clock)
    recorder.start()
    frames = LatestFrame()
    pipeline = DecisionPipeline.from_settings(  # as the node's loop makes it: it searches
        Settings.from_values(values), [ScriptedDecider('rules', plan)], frames, clock, clock,
        searches=True)
    nothing = np.zeros((48, 64, 3), np.uint8)  # no pad in view
    recorder.record('/cam', 'sensor_msgs/msg/Image', image_message(nothing, 100_000_000_000))
    frames.store(Frame(nothing, 100.0, 'cam', clock.now()))
    clock.advance(0.1)
    recorder.record('/n/command', 'std_msgs/msg/String', String(data='fly to the red pad'))
    decision = pipeline.decide('fly to the red pad')
    assert decision.action == 'mission' and decision.grounding['status'] == 'not_in_view'
    recorder.record('/n/decision', 'std_msgs/msg/String', String(data=decision.to_json()))
    recorder.close()
    report = replay(Bag.open(recorder.directory), values,
                    [ScriptedDecider('rules', plan)]).summary()
    [row] = report['rows']
    assert row['replayed']['action'] == 'mission' and row['same'], row
