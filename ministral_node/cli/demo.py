"""`ministral-demo`: the node over real DDS on localhost, a synthetic camera, scripted commands.

Starts `ministral-node` as its own process and plays the vehicle and the ground station: camera
frames, a hovering vehicle's pose and battery (as MAVROS publishes them), a ground-station
heartbeat, and operator commands in several languages one at a time. Prints each command with
the decision it got, then stops the heartbeat and prints the link-loss failsafe.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import numpy as np

from ministral_node import parameters
from ministral_node.annotations import decision_marker
from ministral_node.image_conversion import encode_raw
from ministral_node.recorder import Recorder, RecorderSettings, recording_metadata
from ministral_node.resources import config_path
from ministral_node.timing import MonotonicClock
from ministral_node.training import scenes

SCRIPT: tuple[tuple[str, str], ...] = (
    ('en', 'Take off to 20 meters'),
    ('fr', 'Monte à 35 mètres'),
    ('de', 'Flieg 50 Meter nach Norden'),
    ('es', 'Gira a la derecha 90 grados'),
    ('it', 'Segui la macchina blu'),
    ('en', 'Climb to 900 m'),
    ('fr', 'Atterris sur la plateforme rouge'),
    ('de', 'Mach zwei Fotos'),
    ('en', 'Circle around the tower with a 30 m radius'),
    ('es', 'Vuelve a casa'),
    ('en', 'Do a barrel roll'),
    ('--', '   '),
)


@dataclass
class Result:
    """One scripted command and the decision that answered it."""

    language: str
    command: str
    decision: dict | None


DEMO_SCENE = (('pad', 'red'), ('car', 'blue'), ('tower', 'grey'), ('building', 'grey'))


def demo_scene(width: int = 640, height: int = 480, seed: int = 3) -> scenes.Scene:
    """The demo's synthetic aerial view (the training renderer): a red landing pad, a blue car,
    a grey tower and a grey building on the ground, with each object's box."""
    rng = np.random.default_rng(seed)
    return scenes.render_scene(rng, list(DEMO_SCENE), size=(width, height), distractors=1)


def _environment(domain_id: int) -> dict[str, str]:
    env = dict(os.environ)
    env['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
    env['ROS_DOMAIN_ID'] = str(domain_id)
    env.setdefault('PYTHONUNBUFFERED', '1')
    return env


def _format(result: Result) -> str:
    if result.decision is None:
        return f'[{result.language}] {result.command!r}\n     -> NO DECISION (timed out)'
    d = result.decision
    if d['command'] is None:
        return (f'[failsafe] {d["rationale"]}\n     -> {d["action"]}  source={d["source"]}')
    params = json.dumps(d['params'], ensure_ascii=False)
    target = ''
    if d['target']:
        target = f' target={d["target"]["label"]!r}'
        if d['target'].get('box'):
            target += ' box=[' + ', '.join(f'{v:.2f}' for v in d['target']['box']) + ']'
    safety = d['safety']['status']
    if d['safety']['changes']:
        safety += ': ' + '; '.join(f'{c["field"]} {c["requested"]}->{c["applied"]}'
                                   for c in d['safety']['changes'])
    return (f'[{result.language}] {result.command!r}\n'
            f'     -> {d["action"]} {params}{target}  source={d["source"]}  '
            f'latency={d["latency_ms"]:.0f} ms  safety={safety}')


LINK_LOSS_TIMEOUT_S = 2.0
FAILSAFE_HOLD_S = 2.0


# The demo's topics as the node sees them (its remappings) and what each carries.
TOPICS = {'camera': '/demo/camera/image_raw', 'command': '/demo/command', 'pose': '/demo/pose',
          'battery': '/demo/battery', 'heartbeat': '/demo/heartbeat',
          'decision': '/ministral_node/decision', 'status': '/ministral_node/status',
          'diagnostics': '/diagnostics', 'annotations': '/ministral_node/annotations'}


def demo_recorder(params_file: str, record_dir: str) -> Recorder:
    """A started recorder for the demo's traffic, with the parameters the node runs with."""
    values = parameters.with_changes(parameters.load_params_file(params_file), {
        'link_loss_timeout_s': LINK_LOSS_TIMEOUT_S, 'failsafe_hold_s': FAILSAFE_HOLD_S})
    recorder = Recorder(RecorderSettings.from_params({**values, 'record_dir': record_dir}),
                        MonotonicClock(), metadata=recording_metadata(values, TOPICS))
    if not recorder.start():
        raise RuntimeError(f'cannot record: {recorder.stats.stopped}')
    return recorder


def run(params_file: str, timeout_s: float, domain_id: int,
        record_dir: str | None = None) -> list[Result]:
    """Run the scripted mission against a node process; returns what each command got.
    With `record_dir`, what the demo sends and receives is recorded there (MCAP)."""
    os.environ.update(_environment(domain_id))
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray
    from geometry_msgs.msg import PoseStamped
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import BatteryState, Image
    from std_msgs.msg import Header, String

    node_process = subprocess.Popen(
        [sys.executable, '-m', 'ministral_node.ros.main', '--params-file', params_file,
         '--ros-args', '-r', 'image_raw:=/demo/camera/image_raw',
         '-r', '~/command:=/demo/command', '-r', 'pose:=/demo/pose',
         '-r', 'battery:=/demo/battery', '-r', 'ground_heartbeat:=/demo/heartbeat',
         '-p', f'link_loss_timeout_s:={LINK_LOSS_TIMEOUT_S}',
         '-p', f'failsafe_hold_s:={FAILSAFE_HOLD_S}', '--log-level', 'warn'],
        env=_environment(domain_id))
    results: list[Result] = []
    recorder = demo_recorder(params_file, record_dir) if record_dir else None
    try:
        with rclpy.init(domain_id=domain_id):
            client = rclpy.create_node('ministral_demo')

            def record(role: str, msgtype: str, msg: object, **options: bool) -> None:
                if recorder is not None:
                    recorder.record(TOPICS[role], msgtype, msg,
                                    client.get_clock().now().nanoseconds, **options)

            def on_decision(msg: String) -> None:
                decision = json.loads(msg.data)
                decisions.append(decision)
                record('decision', 'std_msgs/msg/String', msg)
                marker = decision_marker(decision)
                if marker is not None:
                    record('annotations', 'visualization_msgs/msg/ImageMarker', marker)

            frame = encode_raw(demo_scene().image, 'rgb8')
            camera = client.create_publisher(
                Image, '/demo/camera/image_raw',
                QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT))
            commands = client.create_publisher(String, '/demo/command', 10)
            decisions: list[dict] = []
            states: list[str] = []
            client.create_subscription(String, TOPICS['decision'], on_decision, 10)

            def on_status(msg: String) -> None:
                states.append(json.loads(msg.data)['state'])
                record('status', 'std_msgs/msg/String', msg)

            client.create_subscription(String, TOPICS['status'], on_status, 10)
            client.create_subscription(
                DiagnosticArray, TOPICS['diagnostics'],
                lambda m: record('diagnostics', 'diagnostic_msgs/msg/DiagnosticArray', m), 10)

            def publish_frame() -> None:
                msg = Image(width=frame.width, height=frame.height, encoding=frame.encoding,
                            step=frame.step, data=frame.data)
                msg.header.stamp = client.get_clock().now().to_msg()
                msg.header.frame_id = 'demo_camera'
                camera.publish(msg)
                record('camera', 'sensor_msgs/msg/Image', msg)

            sensor_qos = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)
            pose_pub = client.create_publisher(PoseStamped, '/demo/pose', sensor_qos)
            battery_pub = client.create_publisher(BatteryState, '/demo/battery', sensor_qos)
            heartbeat_pub = client.create_publisher(Header, '/demo/heartbeat', 10)
            ground_link = threading.Event()
            ground_link.set()

            def publish_vehicle() -> None:
                pose = PoseStamped()  # hovering 20 m above home, facing north (ENU yaw 90°)
                pose.header.stamp = client.get_clock().now().to_msg()
                pose.header.frame_id = 'map'
                pose.pose.position.z = 20.0
                pose.pose.orientation.z = pose.pose.orientation.w = 0.5 ** 0.5
                pose_pub.publish(pose)
                battery = BatteryState(percentage=0.8)
                battery_pub.publish(battery)
                record('pose', 'geometry_msgs/msg/PoseStamped', pose)
                record('battery', 'sensor_msgs/msg/BatteryState', battery)
                if ground_link.is_set():
                    heartbeat = Header(frame_id='demo_ground_station')
                    heartbeat_pub.publish(heartbeat)
                    record('heartbeat', 'std_msgs/msg/Header', heartbeat)

            client.create_timer(0.2, publish_frame)
            client.create_timer(0.1, publish_vehicle)
            executor = SingleThreadedExecutor()
            executor.add_node(client)
            spinner = threading.Thread(target=executor.spin, daemon=True)
            spinner.start()

            if not _wait(lambda: 'active' in states and client.count_subscribers(
                    '/demo/command') > 0, timeout_s, node_process):
                raise RuntimeError('the node did not become active in time')
            time.sleep(0.5)  # a few camera frames reach the node
            for language, text in SCRIPT:
                seen = len(decisions)
                command = String(data=text)
                commands.publish(command)
                record('command', 'std_msgs/msg/String', command, flush_images=True)
                _wait(lambda seen=seen: len(decisions) > seen, timeout_s, node_process)
                decision = decisions[seen] if len(decisions) > seen else None
                results.append(Result(language, text, decision))
                print(_format(results[-1]), flush=True)
            print(f'\n[ground station] heartbeat stopped: link lost after '
                  f'{LINK_LOSS_TIMEOUT_S:g} s, hold, then return home after {FAILSAFE_HOLD_S:g} s',
                  flush=True)
            seen = len(decisions)
            ground_link.clear()
            _wait(lambda: len(decisions) >= seen + 2, LINK_LOSS_TIMEOUT_S + FAILSAFE_HOLD_S + 10,
                  node_process)
            for decision in decisions[seen:seen + 2]:
                results.append(Result('--', '(no command: link lost)', decision))
                print(_format(results[-1]), flush=True)
            executor.shutdown()
            client.destroy_node()
    finally:
        node_process.send_signal(signal.SIGINT)
        try:
            node_process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            node_process.kill()
        if recorder is not None:
            stats = recorder.close()
            print(f'\nrecorded {stats.recorded} messages ({stats.dropped} dropped) in '
                  f'{recorder.directory}', flush=True)
    return results


def _wait(condition, timeout_s: float, process: subprocess.Popen) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if condition():
            return True
        if process.poll() is not None:
            raise RuntimeError(f'the node exited with code {process.returncode}')
        time.sleep(0.02)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='ministral-demo', description=__doc__.splitlines()[0])
    parser.add_argument('--params-file', default=str(config_path('ministral.yaml')))
    parser.add_argument('--timeout', type=float, default=60.0,
                        help='seconds to wait for the node and for each decision')
    parser.add_argument('--domain-id', type=int, default=1 + os.getpid() % 100,
                        help='ROS_DOMAIN_ID for the demo (traffic stays on localhost)')
    parser.add_argument('--record', metavar='DIR',
                        help='record the run (MCAP) into a new folder under DIR, for '
                             'ministral-replay and Foxglove')
    args = parser.parse_args(argv)
    print(f'ministral_node demo: node process over DDS on localhost (ROS_DOMAIN_ID='
          f'{args.domain_id}), synthetic 640x480 camera at 5 Hz, vehicle hovering at 20 m, '
          f'{len(SCRIPT)} commands\n', flush=True)
    try:
        results = run(args.params_file, args.timeout, args.domain_id, args.record)
    except RuntimeError as exc:
        print(f'ministral-demo: {exc}', file=sys.stderr)
        return 1
    commands = [r for r in results if r.command != '(no command: link lost)']
    answered = sum(r.decision is not None for r in commands)
    failsafes = [r.decision['action'] for r in results
                 if r.decision and r.decision['command'] is None]
    sources = sorted({r.decision['source'] for r in results if r.decision})
    print(f'\n{answered}/{len(commands)} commands answered; failsafe: '
          f'{" -> ".join(failsafes) or "none"}; sources used: {", ".join(sources)}')
    return 0 if answered == len(commands) and failsafes == ['hold', 'return_to_home'] else 1


if __name__ == '__main__':
    sys.exit(main())
