"""`ministral-demo`: the node over real DDS on localhost, a synthetic camera, scripted commands.

Starts `ministral-node` as its own process (executing missions) and plays the vehicle and the
ground station: camera frames, a simulated vehicle that flies the node's setpoints and vehicle
commands and publishes its pose and battery (as MAVROS does), a ground-station heartbeat, and
operator commands in several languages one at a time. Prints each command with the decision it
got, flies a multi-step mission and prints each step's progress, then stops the heartbeat and
prints the link-loss failsafe.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ministral_node.decision import Decision
from ministral_node.inputs.image_conversion import encode_raw
from ministral_node.resources import config_path
from ministral_node.training.scenes import demo_scene

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
    decision: Decision | None


def environment(domain_id: int) -> dict[str, str]:
    """The environment of every ROS process the demos start: localhost only, `domain_id`."""
    env = dict(os.environ)
    env['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
    env['ROS_DOMAIN_ID'] = str(domain_id)
    env.setdefault('PYTHONUNBUFFERED', '1')
    return env


def _format(result: Result) -> str:
    if result.decision is None:
        return f'[{result.language}] {result.command!r}\n     -> NO DECISION (timed out)'
    d = result.decision
    if d.command is None:
        return f'[failsafe] {d.rationale}\n     -> {d.action}  source={d.source}'
    params = json.dumps(d.params, ensure_ascii=False)
    target = ''
    if d.target is not None:
        target = f' target={d.target.label!r}'
        if d.target.box:
            target += ' box=[' + ', '.join(f'{v:.2f}' for v in d.target.box) + ']'
    safety = d.safety.status
    if d.safety.changes:
        safety += ': ' + '; '.join(f'{c.field} {c.requested}->{c.applied}'
                                   for c in d.safety.changes)
    return (f'[{result.language}] {result.command!r}\n'
            f'     -> {d.action} {params}{target}  source={d.source}  '
            f'latency={d.latency_ms:.0f} ms  safety={safety}')


LINK_LOSS_TIMEOUT_S = 2.0
FAILSAFE_HOLD_S = 2.0
# A multi-step mission, flown by the executor from the ground after the single commands.
MISSION = ('en', 'Take off to 15 m, fly 30 m north, take two photos, then come back and land')

# The demo's topics as the node sees them (its remappings).
TOPICS = {'camera': '/demo/camera/image_raw', 'command': '/demo/command', 'pose': '/demo/pose',
          'battery': '/demo/battery', 'heartbeat': '/demo/heartbeat',
          'setpoint': '/demo/setpoint_position', 'decision': '/ministral_node/decision',
          'status': '/ministral_node/status', 'mission': '/ministral_node/mission',
          'vehicle_command': '/ministral_node/vehicle_command',
          'diagnostics': '/diagnostics', 'annotations': '/ministral_node/annotations'}


def node_command(params_file: str, record_dir: str | None,
                 extra: dict[str, str] | None = None) -> list[str]:
    """The node process the demo starts: its remappings, the demo's watchdog times, missions
    executed, the flight recorder when asked, and `extra` parameters (name: ROS value)."""
    remaps = {'image_raw': 'camera', '~/command': 'command', 'pose': 'pose',
              'battery': 'battery', 'ground_heartbeat': 'heartbeat',
              'setpoint_position': 'setpoint'}
    command = [sys.executable, '-m', 'ministral_node.ros.main', '--params-file', params_file,
               '--ros-args']
    for topic, role in remaps.items():
        command += ['-r', f'{topic}:={TOPICS[role]}']
    command += ['-p', f'link_loss_timeout_s:={LINK_LOSS_TIMEOUT_S}',
                '-p', f'failsafe_hold_s:={FAILSAFE_HOLD_S}', '-p', 'execute_missions:=true']
    if record_dir:
        command += ['-p', f'record_dir:={record_dir}']
    for name, value in (extra or {}).items():
        command += ['-p', f'{name}:={value}']
    return command + ['--log-level', 'warn']


def _progress(status: dict) -> str:
    step = f'step {status["step_index"] + 1}/{status["step_count"]} {status["step_action"]}' \
        if status['step_count'] else ''
    return (f'     mission {status["state"]:<9} {step:<26} progress {status["progress"]:.0%}'
            f'  {status["reason"]}')


def run(params_file: str, timeout_s: float, domain_id: int,
        record_dir: str | None = None) -> list[Result]:
    """Run the script against a node process that executes its decisions on the demo's
    simulated vehicle; returns what each command got. With `record_dir`, the node records
    the flight there (MCAP)."""
    os.environ.update(environment(domain_id))
    import rclpy
    from geometry_msgs.msg import PoseStamped
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import BatteryState, Image
    from std_msgs.msg import Header, String

    from ministral_node.mission.executor import ExecutorOutput, Setpoint
    from ministral_node.mission.simple_vehicle import SimVehicle

    node_process = subprocess.Popen(node_command(params_file, record_dir),
                                    env=environment(domain_id))
    results: list[Result] = []
    vehicle = SimVehicle(up=20.0, in_air=True, speed_mps=8.0, climb_mps=3.0)
    lock = threading.Lock()
    try:
        with rclpy.init(domain_id=domain_id):
            client = rclpy.create_node('ministral_demo')
            decisions: list[Decision] = []
            states: list[str] = []
            missions: list[dict] = []
            client.create_subscription(String, TOPICS['decision'],
                                       lambda m: decisions.append(Decision.from_json(m.data)),
                                       50)
            client.create_subscription(String, TOPICS['status'],
                                       lambda m: states.append(json.loads(m.data)['state']), 10)
            client.create_subscription(String, TOPICS['mission'],
                                       lambda m: missions.append(json.loads(m.data)), 100)

            def on_setpoint(msg: PoseStamped) -> None:
                p, q = msg.pose.position, msg.pose.orientation
                with lock:
                    vehicle.apply(ExecutorOutput(setpoint=Setpoint(
                        p.x, p.y, p.z, 2.0 * math.atan2(q.z, q.w))))

            def on_vehicle_command(msg: String) -> None:
                with lock:
                    vehicle.apply(ExecutorOutput(commands=[json.loads(msg.data)]))

            client.create_subscription(PoseStamped, TOPICS['setpoint'], on_setpoint, 10)
            client.create_subscription(String, TOPICS['vehicle_command'], on_vehicle_command,
                                       100)
            frame = encode_raw(demo_scene().image, 'rgb8')
            camera = client.create_publisher(
                Image, TOPICS['camera'],
                QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT))
            commands = client.create_publisher(String, TOPICS['command'], 10)

            def publish_frame() -> None:
                msg = Image(width=frame.width, height=frame.height, encoding=frame.encoding,
                            step=frame.step, data=frame.data)
                msg.header.stamp = client.get_clock().now().to_msg()
                msg.header.frame_id = 'demo_camera'
                camera.publish(msg)

            sensor_qos = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)
            pose_pub = client.create_publisher(PoseStamped, TOPICS['pose'], sensor_qos)
            battery_pub = client.create_publisher(BatteryState, TOPICS['battery'], sensor_qos)
            heartbeat_pub = client.create_publisher(Header, TOPICS['heartbeat'], 10)
            ground_link = threading.Event()
            ground_link.set()

            def publish_vehicle() -> None:
                with lock:
                    vehicle.step(0.1)
                    (x, y, z), heading = vehicle.position, vehicle.heading or 0.0
                pose = PoseStamped()  # MAVROS local_position/pose: ENU, origin at home
                pose.header.stamp = client.get_clock().now().to_msg()
                pose.header.frame_id = 'map'
                pose.pose.position.x, pose.pose.position.y, pose.pose.position.z = x, y, z
                yaw = math.radians(90.0 - heading)
                pose.pose.orientation.z, pose.pose.orientation.w = (math.sin(yaw / 2),
                                                                    math.cos(yaw / 2))
                pose_pub.publish(pose)
                battery_pub.publish(BatteryState(percentage=0.8))
                if ground_link.is_set():
                    heartbeat_pub.publish(Header(frame_id='demo_ground_station'))

            client.create_timer(0.2, publish_frame)
            client.create_timer(0.1, publish_vehicle)
            executor = spin_until_active(client, states, timeout_s, node_process)
            time.sleep(0.5)  # a few camera frames reach the node

            def ask(language: str, text: str) -> Decision | None:
                seen = len(decisions)
                commands.publish(String(data=text))
                wait_while_running(lambda: len(decisions) > seen, timeout_s, node_process)
                decision = decisions[seen] if len(decisions) > seen else None
                results.append(Result(language, text, decision))
                print(_format(results[-1]), flush=True)
                return decision

            for language, text in SCRIPT:
                ask(language, text)
            print('\n[operator] waits for the vehicle to settle, then gives a mission',
                  flush=True)
            # "Vuelve a casa" lands it
            wait_while_running(lambda: not vehicle.in_air, 60.0, node_process)
            photos_before = vehicle.photos
            decision = ask(*MISSION)
            if decision is not None and decision.action == 'mission':
                shown: set[tuple] = set()

                def report() -> bool:
                    for status in [m for m in missions if m['decision_id'] == decision.id]:
                        key = (status['state'], status['step_index'])
                        if key not in shown:
                            shown.add(key)
                            print(_progress(status), flush=True)
                    return any(m['decision_id'] == decision.id and m['state'] in (
                        'completed', 'aborted', 'preempted') for m in missions)

                wait_while_running(report, 120.0, node_process)
                report()
                # the last metres down
                wait_while_running(lambda: not vehicle.in_air, 10.0, node_process)
                with lock:
                    x, y, z = vehicle.position
                    print(f'     vehicle at east {x:.1f} m, north {y:.1f} m, up {z:.1f} m, '
                          f'{"flying" if vehicle.in_air else "landed"}, '
                          f'{vehicle.photos - photos_before} photos taken', flush=True)
            print(f'\n[ground station] heartbeat stopped: link lost after '
                  f'{LINK_LOSS_TIMEOUT_S:g} s, hold, then return home after {FAILSAFE_HOLD_S:g} s',
                  flush=True)
            seen = len(decisions)
            ground_link.clear()
            wait_while_running(lambda: len(decisions) >= seen + 2,
                               LINK_LOSS_TIMEOUT_S + FAILSAFE_HOLD_S + 10, node_process)
            for failsafe in decisions[seen:seen + 2]:
                results.append(Result('--', '(no command: link lost)', failsafe))
                print(_format(results[-1]), flush=True)
            executor.shutdown()
            client.destroy_node()
    finally:
        interrupt(node_process, 10.0)
        if record_dir:
            print(f'\nthe node recorded the flight in {record_dir}', flush=True)
    return results


def interrupt(process: subprocess.Popen, timeout_s: float) -> None:
    """Stop a node process as Ctrl-C does (SIGINT), killing it if it is not gone in time."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()


def spin_until_active(client: Any, states: list[str], timeout_s: float,
                      process: subprocess.Popen) -> Any:
    """Spin `client` on a thread of its own until the node process reports `active` (in
    `states`, filled from ~/status) and subscribes to commands; returns the executor."""
    from rclpy.executors import SingleThreadedExecutor

    executor = SingleThreadedExecutor()
    executor.add_node(client)
    threading.Thread(target=executor.spin, daemon=True).start()
    if not wait_while_running(lambda: 'active' in states and client.count_subscribers(
            TOPICS['command']) > 0, timeout_s, process):
        raise RuntimeError('the node did not become active in time')
    return executor


def wait_while_running(condition: Callable[[], bool], timeout_s: float,
                       process: subprocess.Popen) -> bool:
    """Poll `condition` until true (True) or `timeout_s` (False); raise if `process` exits."""
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
          f'{args.domain_id}), synthetic 640x480 camera at 5 Hz, a simulated vehicle '
          f'flying the node\'s setpoints (from 20 m), {len(SCRIPT)} commands and a '
          f'mission\n', flush=True)
    try:
        results = run(args.params_file, args.timeout, args.domain_id, args.record)
    except RuntimeError as exc:
        print(f'ministral-demo: {exc}', file=sys.stderr)
        return 1
    commands = [r for r in results if r.command != '(no command: link lost)']
    flown = any(r.command == MISSION[1] and r.decision and r.decision.action == 'mission'
                for r in results)
    answered = sum(r.decision is not None for r in commands)
    failsafes = [r.decision.action for r in results
                 if r.decision and r.decision.command is None]
    sources = sorted({r.decision.source for r in results if r.decision})
    print(f'\n{answered}/{len(commands)} commands answered; failsafe: '
          f'{" -> ".join(failsafes) or "none"}; sources used: {", ".join(sources)}')
    return 0 if answered == len(commands) and flown and \
        failsafes == ['hold', 'return_to_home'] else 1


if __name__ == '__main__':
    sys.exit(main())
