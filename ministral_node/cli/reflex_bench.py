"""`ministral-bench --reflex`: how fast a "stop" is obeyed while the model is busy deciding.

    ministral-bench --reflex --synthetic 3b [--reflex-runs 20] [--json OUT.json]
    ministral-bench --reflex MODEL_DIR

Starts the node as its own process over DDS on localhost (its own ROS_DOMAIN_ID), with the
onboard model then the rule parser, executing missions on a vehicle hovering at 20 m, a camera
at 5 Hz and a ground-station heartbeat. Each run sends a command the model must decide (a
visual one), then "STOP!" `--stop-after` seconds later, and measures: the node's own time from
the stop's arrival to its publication (the decision's `latency_ms`), the operator's time from
sending the stop to receiving the decision, and to the executor holding (the first ~/mission
status of the stop's decision); and how the busy command was answered (preempted, or decided
before the stop arrived). Figures: median, p95 and max over the runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ministral_node.cli.demo import (
    TOPICS,
    environment,
    interrupt,
    node_command,
    spin_until_active,
    wait_while_running,
)
from ministral_node.decision import REFLEX, Decision, RefusalKind
from ministral_node.inputs.image_conversion import encode_raw
from ministral_node.resources import config_path
from ministral_node.training.scenes import demo_scene

BUSY_COMMAND = 'Follow the person in the yellow jacket and keep ten metres away.'
STOP = 'STOP!'


@dataclass
class ReflexRun:
    """One run: when the stop was sent and what came back (monotonic seconds)."""

    sent: float
    node_latency_ms: float | None = None
    decision_at: float | None = None
    holding_at: float | None = None
    busy_answer: str = ''
    order: list[str] = field(default_factory=list)


def spread(values: list[float]) -> dict[str, float | None]:
    """Median, p95 and max of `values` (None when empty)."""
    if not values:
        return {'p50': None, 'p95': None, 'max': None, 'n': 0}
    ordered = sorted(values)
    return {'p50': ordered[len(ordered) // 2],
            'p95': ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))],
            'max': ordered[-1], 'n': len(ordered)}


def summarise(runs: list[ReflexRun]) -> dict[str, Any]:
    """The bench's figures from its runs."""
    def ms(get: Any) -> list[float]:
        return [get(r) for r in runs if get(r) is not None]

    return {
        'runs': len(runs),
        'node_arrival_to_publish_ms': spread(ms(lambda r: r.node_latency_ms)),
        'sent_to_decision_ms': spread(ms(lambda r: None if r.decision_at is None else
                                         (r.decision_at - r.sent) * 1000)),
        'sent_to_executor_holding_ms': spread(ms(lambda r: None if r.holding_at is None else
                                                 (r.holding_at - r.sent) * 1000)),
        'busy_command_preempted': sum(r.busy_answer == 'preempted' for r in runs),
        'busy_command_decided_before_stop': sum(r.busy_answer == 'decided' for r in runs),
        'stop_published_first': sum(r.order[:1] == [STOP] for r in runs),
        'unanswered': sum(r.decision_at is None for r in runs),
    }


def run_reflex_bench(model_dir: Path | None, runs: int, stop_after_s: float,
                     domain_id: int, timeout_s: float = 600.0) -> dict[str, Any]:
    """Start the node and measure `runs` stops; returns `summarise`'s figures."""
    os.environ.update(environment(domain_id))
    import rclpy
    from geometry_msgs.msg import PoseStamped
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import BatteryState, Image
    from std_msgs.msg import Header, String

    extra = {'link_loss_timeout_s': '30.0'}
    if model_dir is not None:
        extra.update({'model_dir': str(model_dir.resolve()),
                      'decision_sources': '[onboard,rules]'})
    else:
        extra['decision_sources'] = '[rules]'
    process = subprocess.Popen(node_command(str(config_path('ministral.yaml')), None, extra),
                               env=environment(domain_id))
    results: list[ReflexRun] = []
    try:
        with rclpy.init(domain_id=domain_id):
            client = rclpy.create_node('ministral_reflex_bench')
            lock = threading.Lock()
            decisions: list[tuple[float, Decision]] = []
            missions: list[tuple[float, dict]] = []
            states: list[str] = []

            def received(store: list, message: String, read: Callable[[str], Any]) -> None:
                at = time.monotonic()
                with lock:
                    store.append((at, read(message.data)))

            client.create_subscription(String, TOPICS['decision'],
                                       lambda m: received(decisions, m, Decision.from_json), 100)
            client.create_subscription(String, TOPICS['mission'],
                                       lambda m: received(missions, m, json.loads), 100)
            client.create_subscription(String, TOPICS['status'],
                                       lambda m: states.append(json.loads(m.data)['state']), 10)
            sensor = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)
            camera = client.create_publisher(Image, TOPICS['camera'], sensor)
            pose_pub = client.create_publisher(PoseStamped, TOPICS['pose'], sensor)
            battery_pub = client.create_publisher(BatteryState, TOPICS['battery'], sensor)
            heartbeat_pub = client.create_publisher(Header, TOPICS['heartbeat'], 10)
            commands = client.create_publisher(String, TOPICS['command'], 10)
            frame = encode_raw(demo_scene().image, 'rgb8')

            def publish_frame() -> None:
                msg = Image(width=frame.width, height=frame.height, encoding=frame.encoding,
                            step=frame.step, data=frame.data)
                msg.header.stamp = client.get_clock().now().to_msg()
                camera.publish(msg)

            def publish_vehicle() -> None:  # hovering at 20 m, heading north
                pose = PoseStamped()
                pose.header.stamp = client.get_clock().now().to_msg()
                pose.header.frame_id = 'map'
                pose.pose.position.z = 20.0
                pose.pose.orientation.z = pose.pose.orientation.w = 0.5 ** 0.5
                pose_pub.publish(pose)
                battery_pub.publish(BatteryState(percentage=0.8))
                heartbeat_pub.publish(Header(frame_id='reflex_bench'))

            client.create_timer(0.2, publish_frame)
            client.create_timer(0.1, publish_vehicle)
            executor = spin_until_active(client, states, timeout_s, process)
            time.sleep(1.0)  # frames and pose reach the node
            for _ in range(runs):
                results.append(_one_run(commands, String, decisions, missions, lock,
                                        stop_after_s, timeout_s, process))
            executor.shutdown()
            client.destroy_node()
    finally:
        interrupt(process, 20.0)
    return summarise(results)


def _one_run(commands: Any, string: Any, decisions: list, missions: list,
             lock: threading.Lock, stop_after_s: float, timeout_s: float,
             process: subprocess.Popen) -> ReflexRun:
    with lock:
        seen_decisions, seen_missions = len(decisions), len(missions)
    commands.publish(string(data=BUSY_COMMAND))
    time.sleep(stop_after_s)
    run = ReflexRun(time.monotonic())
    commands.publish(string(data=STOP))

    def answered() -> list[Decision]:
        with lock:
            return [d for _, d in decisions[seen_decisions:]]

    wait_while_running(lambda: len(answered()) >= 2, timeout_s, process)
    with lock:
        new = decisions[seen_decisions:]
    for at, decision in new:
        text = None if decision.command is None else decision.command.text
        run.order.append(text)
        attempts = decision.attempts
        if text == STOP and attempts and attempts[0].source == REFLEX:
            run.decision_at, run.node_latency_ms = at, decision.latency_ms

            def holding(stop_id: str = decision.id) -> float | None:
                with lock:
                    return next((t for t, m in missions[seen_missions:]
                                 if m['decision_id'] == stop_id
                                 and m['state'] in ('pending', 'running')), None)

            wait_while_running(lambda: holding() is not None, 5.0, process)
            run.holding_at = holding()
        elif text == BUSY_COMMAND:
            refusal = decision.refusal
            run.busy_answer = 'preempted' if refusal is not None \
                and refusal.kind is RefusalKind.PREEMPTED else 'decided'
    time.sleep(0.3)  # let the hold settle before the next command
    return run


def render(figures: dict[str, Any], model: str) -> str:
    """The figures as a few aligned lines."""
    lines = [f'reflex bench: {figures["runs"]} runs, model {model}, "{STOP}" sent while the '
             'node decided a visual command']
    for key, label in (('node_arrival_to_publish_ms', 'node: arrival -> decision published'),
                       ('sent_to_decision_ms', 'operator: sent -> decision received'),
                       ('sent_to_executor_holding_ms', 'operator: sent -> executor holding')):
        s = figures[key]
        if s['n']:
            lines.append(f'  {label:<40} p50 {s["p50"]:7.1f} ms   p95 {s["p95"]:7.1f} ms   '
                         f'max {s["max"]:7.1f} ms   (n={s["n"]})')
        else:
            lines.append(f'  {label:<40} no measurement')
    lines.append(f'  busy command: preempted {figures["busy_command_preempted"]}, decided '
                 f'before the stop {figures["busy_command_decided_before_stop"]}; stop '
                 f'published first {figures["stop_published_first"]}/{figures["runs"]}; '
                 f'stops unanswered {figures["unanswered"]}')
    return '\n'.join(lines)


# Time to the first decision of a command the rule parser reads completely -------------------

COMPLETE_COMMANDS = ('climb to 30 m', 'flieg 40 m nach Norden', 'tourne à droite de 90 degrés')


def first_decision_latency(model_dir: Path, edges: list[int],
                           commands: tuple[str, ...] = COMPLETE_COMMANDS) -> dict[str, Any]:
    """Seconds from a command to its decision, for commands the rule parser reads completely
    and that need no image, with the camera streaming (so the model sees a frame), at each
    `max_image_edge`: the model asked and verified (`rules_fast_path` off) against the
    parser's reading published at once (on). In process, no DDS."""
    from ministral_node import parameters
    from ministral_node.core.pipeline import DecisionPipeline
    from ministral_node.core.settings import Settings
    from ministral_node.health import HealthBoard
    from ministral_node.inputs.camera import Frame, LatestFrame
    from ministral_node.sources.factory import build_sources, close_sources
    from ministral_node.timing import MonotonicClock, WallClock

    clock = MonotonicClock()
    image = demo_scene().image
    values = parameters.validate({**parameters.defaults(), 'model_dir': str(model_dir),
                                  'execution_providers': ['cpu']})
    health = HealthBoard(clock)
    sources = build_sources(values, health)
    out: dict[str, Any] = {'commands': list(commands), 'edges': {}}
    try:
        for edge in edges:
            row: dict[str, Any] = {}
            for fast in (False, True):
                settings = Settings.from_values({**values, 'max_image_edge': edge,
                                                 'rules_fast_path': fast})
                frames = LatestFrame()
                pipeline = DecisionPipeline.from_settings(settings, sources, frames, clock,
                                                          WallClock(), health)
                for source in sources:
                    source.configure(settings.values)
                seconds, picked = [], []
                for text in commands:
                    frames.store(Frame(image, WallClock().now(), 'camera', clock.now()))
                    began = clock.now()
                    decision = pipeline.decide(text)
                    seconds.append(clock.now() - began)
                    picked.append(f'{decision.action} by {decision.source}')
                row['fast_path' if fast else 'model_verified'] = {
                    's': seconds, 'decisions': picked}
            out['edges'][str(edge)] = row
    finally:
        close_sources(sources)
    return out


def render_first_decision(figures: dict[str, Any]) -> str:
    """The first-decision figures as aligned lines."""
    lines = ['time to the first decision, commands the rule parser reads completely '
             f'({len(figures["commands"])}: ' + '; '.join(figures['commands']) + ')']
    for edge, row in figures['edges'].items():
        for key, label in (('model_verified', 'model asked, verified'),
                           ('fast_path', 'rules_fast_path')):
            s = row[key]['s']
            lines.append(f'  edge {edge:>4}  {label:<22} median {sorted(s)[len(s) // 2]:8.3f} s'
                         f'   max {max(s):8.3f} s   ({", ".join(row[key]["decisions"])})')
    return '\n'.join(lines)
