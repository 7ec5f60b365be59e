"""`ministral-soak`: the node over DDS for minutes, under a camera stream, commands and
lifecycle cycles; prints RSS over time, frames taken, latency percentiles, unanswered commands.

The node runs in this process (so its RSS is what is measured) with a client node playing
camera and operator on localhost. Figures go to stdout and, with `--json`, to a file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable

import numpy as np


def rss_mib() -> float:
    """Resident memory of this process in MiB (Linux /proc)."""
    with open('/proc/self/status', encoding='ascii') as status:
        for line in status:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024.0
    return float('nan')


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0..100) of `values`, or None when empty."""
    return float(np.percentile(values, q)) if values else None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='ministral-soak', description=__doc__.split('\n')[0])
    parser.add_argument('--minutes', type=float, default=1.0)
    parser.add_argument('--camera-hz', type=float, default=30.0)
    parser.add_argument('--size', default='640x480', help='camera frame WIDTHxHEIGHT')
    parser.add_argument('--command-period', type=float, default=2.0, help='seconds')
    parser.add_argument('--sources', default='rules', help='decision_sources, comma separated')
    parser.add_argument('--lifecycle-cycles', type=int, default=0,
                        help='deactivate/cleanup/configure/activate cycles spread over the run')
    parser.add_argument('--report-s', type=float, default=10.0, help='RSS sample period')
    parser.add_argument('--json', default=None, help='write the figures here')
    return parser


class _Spin:
    """Spins nodes on a multi-threaded executor in a background thread."""

    def __init__(self, context, *nodes) -> None:
        from rclpy.executors import MultiThreadedExecutor

        self.executor = MultiThreadedExecutor(num_threads=4, context=context)
        for node in nodes:
            self.executor.add_node(node)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._spin, daemon=True)
        self.thread.start()

    def _spin(self) -> None:
        while not self.stopping.is_set():
            self.executor.spin_once(timeout_sec=0.1)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.executor.shutdown(timeout_sec=5)


def _every(period_s: float, stop: threading.Event, action: Callable[[], None]) -> threading.Thread:
    def run() -> None:
        next_at = time.monotonic()
        while not stop.is_set():
            action()
            next_at += period_s
            stop.wait(max(0.0, next_at - time.monotonic()))
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def soak(args: argparse.Namespace) -> dict:
    """Run the soak; the figures as a dict."""
    import rclpy
    from rclpy.parameter import Parameter
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image
    from std_msgs.msg import String

    from ministral_node.decision import Decision, RefusalKind
    from ministral_node.inputs.image_conversion import encode_raw
    from ministral_node.ros.node import MinistralNode

    width, height = (int(v) for v in args.size.split('x'))
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=int(os.environ.get('ROS_DOMAIN_ID', '0')))
    node = MinistralNode(context=context, parameter_overrides=[
        Parameter('decision_sources', value=args.sources.split(',')),
        Parameter('camera_expected_rate_hz', value=float(args.camera_hz))])
    client = rclpy.create_node('soak_client', context=context)
    decisions: list[Decision] = []
    client.create_subscription(String, '/ministral_node/decision',
                               lambda m: decisions.append(Decision.from_json(m.data)),
                               QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE))
    images = client.create_publisher(Image, '/image_raw', QoSProfile(
        depth=1, reliability=ReliabilityPolicy.BEST_EFFORT))
    commands = client.create_publisher(String, '/ministral_node/command', 1000)
    spin = _Spin(context, node, client)
    frame = encode_raw(np.random.default_rng(0).integers(0, 255, (height, width, 3), np.uint8),
                       'rgb8')
    msg = Image(width=frame.width, height=frame.height, encoding=frame.encoding, step=frame.step,
                data=bytes(frame.data))
    sent: list[str] = []
    published_frames = [0]
    base = [0]  # frames published before the current activation (the loop counts from there)
    lock = threading.Lock()
    node.trigger_configure()
    node.trigger_activate()
    while commands.get_subscription_count() == 0:
        time.sleep(0.05)

    def camera() -> None:
        msg.header.stamp = client.get_clock().now().to_msg()
        images.publish(msg)
        published_frames[0] += 1

    def operator() -> None:
        with lock:
            text = f'take a photo {len(sent)}'
            sent.append(text)
        commands.publish(String(data=text))

    stop = threading.Event()
    start = time.monotonic()
    duration = args.minutes * 60.0
    samples = [(0.0, rss_mib())]
    threads = [_every(1.0 / args.camera_hz, stop, camera),
               _every(args.command_period, stop, operator)]
    cycle_at = [duration * (i + 1) / (args.lifecycle_cycles + 1)
                for i in range(args.lifecycle_cycles)]
    rss_per_cycle = []
    try:
        while (elapsed := time.monotonic() - start) < duration:
            if cycle_at and elapsed >= cycle_at[0]:
                cycle_at.pop(0)
                node.trigger_deactivate()
                node.trigger_cleanup()
                operator()  # sent while unconfigured: answered too, saying so
                time.sleep(0.2)
                node.trigger_configure()
                base[0] = published_frames[0]
                node.trigger_activate()
                rss_per_cycle.append(round(rss_mib(), 1))
            if elapsed - samples[-1][0] >= args.report_s:
                samples.append((round(elapsed, 1), round(rss_mib(), 1)))
                print(f'{elapsed:7.1f} s  RSS {samples[-1][1]:.1f} MiB  decisions '
                      f'{len(decisions)}/{len(sent)}', flush=True)
            time.sleep(0.2)
        stop.set()
        for thread in threads:
            thread.join()
        deadline = time.monotonic() + 30.0
        while len(decisions) < len(sent) and time.monotonic() < deadline:
            time.sleep(0.1)
        frames_taken = node.loop.status()['camera']['frames_received'] \
            if node.loop is not None else 0
    finally:
        spin.stop()
        node.destroy_node()
        client.destroy_node()
        rclpy.shutdown(context=context)
    answers = Counter(d.command.text for d in decisions if d.command)
    answered = set(answers)
    decided = [d for d in decisions if d.command and d.refusal is None]
    latencies = [d.latency_ms for d in decided]
    no_frame = [d for d in decided if d.frame is None]
    warm = [s for s in samples if s[0] >= min(60.0, duration / 4)]
    return {
        'minutes': args.minutes, 'camera_hz': args.camera_hz, 'size': args.size,
        'command_period_s': args.command_period, 'sources': args.sources,
        'lifecycle_cycles': args.lifecycle_cycles,
        'commands_sent': len(sent), 'commands_unanswered': len(set(sent) - answered),
        'commands_answered_more_than_once': sum(n > 1 for n in answers.values()),
        'refused_unconfigured': sum(d.refusal is not None
                                    and d.refusal.kind is RefusalKind.UNCONFIGURED
                                    for d in decisions),
        'decisions': len(decisions), 'decided': len(decided),
        'decided_without_frame': len(no_frame),
        'frames_published': published_frames[0],
        'frames_taken_ratio': None if published_frames[0] == base[0] else
        round(frames_taken / (published_frames[0] - base[0]), 3),
        'latency_ms_p50': percentile(latencies, 50), 'latency_ms_p95': percentile(latencies, 95),
        'latency_ms_max': max(latencies, default=None),
        'rss_mib': samples, 'rss_mib_per_cycle': rss_per_cycle,
        'rss_growth_after_warmup_mib': None if len(warm) < 2 else
        round(warm[-1][1] - warm[0][1], 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the soak and print its figures; exit 1 if any command went unanswered."""
    args = _parser().parse_args(argv)
    os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
    os.environ.setdefault('ROS_DOMAIN_ID', '58')
    figures = soak(args)
    print(json.dumps({k: v for k, v in figures.items() if k != 'rss_mib'}, indent=2))
    if args.json:
        with open(args.json, 'w', encoding='utf-8') as out:
            json.dump(figures, out, indent=2)
    return 1 if figures['commands_unanswered'] or figures['commands_answered_more_than_once'] \
        else 0


if __name__ == '__main__':
    sys.exit(main())
