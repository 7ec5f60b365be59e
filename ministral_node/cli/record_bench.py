"""Recording overhead per decision: the demo's decisions with the flight recorder off and on.

    python -m ministral_node.cli.record_bench [--params FILE] [--repeats 3] [--camera-hz 30]

A feeder thread plays a camera (640x480 rgb8 `sensor_msgs/Image`) and pose at `--camera-hz`
while the pipeline decides the demo script; with the recorder on, every message goes through
`Recorder.record` as the node's callbacks would call it. Prints decision latency off and on,
what `record()` costs the calling thread, the writer thread's JPEG cost, and what was written.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import threading
import time
from collections import defaultdict

import numpy as np
from geometry_msgs.msg import PoseStamped
from sensor_msgs.msg import BatteryState, Image
from std_msgs.msg import String

from ministral_node import parameters
from ministral_node.cli.demo import SCRIPT
from ministral_node.core.pipeline import DecisionPipeline
from ministral_node.core.settings import Settings
from ministral_node.inputs.camera import EncodedFrame, LatestFrame
from ministral_node.inputs.image_conversion import RawImage, encode_raw
from ministral_node.inputs.vehicle import VehicleState
from ministral_node.recording.annotations import decision_marker
from ministral_node.recording.recorder import Recorder, RecorderSettings, compress_image
from ministral_node.resources import config_path
from ministral_node.sources.factory import build_sources, close_sources
from ministral_node.timing import MonotonicClock, WallClock
from ministral_node.training.scenes import demo_scene


def _camera_messages(count: int = 8) -> list[Image]:
    """Camera frames of the demo scene, each shifted a little (a static scene would make
    every recorded JPEG identical, which the file compression then hides)."""
    messages = []
    for index in range(count):
        raw = encode_raw(np.roll(demo_scene().image, 3 * index, axis=1), 'rgb8')
        messages.append(Image(width=raw.width, height=raw.height, encoding=raw.encoding,
                              step=raw.step, data=raw.data))
    return messages


def run(values: dict, repeats: int, camera_hz: float, record_dir: str | None) -> dict:
    """Decide the demo script `repeats` times under camera load; timings in seconds."""
    clock, wall = MonotonicClock(), WallClock()
    frames = LatestFrame()
    vehicle = VehicleState()
    sources = build_sources(values)
    pipeline = DecisionPipeline.from_settings(
        Settings.from_values(values), sources, frames, clock, wall, vehicle=lambda: vehicle)
    recorder = None
    if record_dir:
        recorder = Recorder(RecorderSettings.from_params({**values, 'record_dir': record_dir}),
                            clock)
        recorder.start()
    costs: dict[str, list[float]] = defaultdict(list)

    def record(kind: str, topic: str, msgtype: str, message: object, **options: bool) -> float:
        if recorder is None:
            return 0.0
        start = time.perf_counter()
        recorder.record(topic, msgtype, message, **options)
        elapsed = time.perf_counter() - start
        costs[kind].append(elapsed)
        return elapsed

    cameras = _camera_messages()
    raws = [RawImage(m.width, m.height, m.encoding, m.step, m.data) for m in cameras]
    stop = threading.Event()

    def feed() -> None:
        nonlocal vehicle
        period = 1.0 / camera_hz
        tick = 0
        while not stop.wait(period):
            now = clock.now()
            frames.store(EncodedFrame(raws[tick % len(raws)], wall.now(), 'camera', now))
            record('camera frame', '/camera/image_raw', 'sensor_msgs/msg/Image',
                   cameras[tick % len(cameras)])
            vehicle = vehicle.with_pose(0.0, 0.0, 20.0, 0.0, now).with_battery(80.0, now)
            record('pose', '/pose', 'geometry_msgs/msg/PoseStamped', PoseStamped())
            if tick % int(camera_hz) == 0:
                record('battery', '/battery', 'sensor_msgs/msg/BatteryState',
                       BatteryState(percentage=0.8))
            tick += 1

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    time.sleep(0.5)
    latencies, per_decision = [], []
    cpu_start, wall_start = os.times(), time.perf_counter()
    try:
        for _ in range(repeats):
            for _language, text in SCRIPT:
                spent = record('command', '/ministral_node/command', 'std_msgs/msg/String',
                       String(data=text), flush_images=True)
                start = time.perf_counter()
                decision = pipeline.decide(text)
                latencies.append(time.perf_counter() - start)
                spent += record('decision', '/ministral_node/decision', 'std_msgs/msg/String',
                                String(data=decision.to_json()))
                marker = decision_marker(decision)
                if marker is not None:
                    spent += record('annotation', '/ministral_node/annotations',
                                    'visualization_msgs/msg/ImageMarker', marker)
                if recorder is not None:
                    per_decision.append(spent)
    finally:
        stop.set()
        feeder.join()
        close_sources(sources)
    stats = recorder.close() if recorder else None
    cpu_end = os.times()
    cpu_s = (cpu_end.user - cpu_start.user) + (cpu_end.system - cpu_start.system)
    return {'latencies': latencies, 'costs': dict(costs), 'per_decision': per_decision,
            'stats': stats, 'cpu_s': cpu_s, 'wall_s': time.perf_counter() - wall_start}


def _ms(values: list[float], q: float = 0.5) -> str:
    if not values:
        return '-'
    ordered = sorted(values)
    return f'{1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]:.2f}'


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--params', default=str(config_path('ministral.yaml')))
    parser.add_argument('--repeats', type=int, default=2,
                        help='times through the demo script per run')
    parser.add_argument('--rounds', type=int, default=3,
                        help='runs with the recorder off and on, alternating')
    parser.add_argument('--camera-hz', type=float, default=30.0)
    parser.add_argument('--image-rate-hz', type=float, default=None,
                        help='record_image_rate_hz (default: the params file)')
    args = parser.parse_args(argv)
    values = parameters.load_params_file(args.params)
    if args.image_rate_hz is not None:
        values = parameters.with_changes(values, {'record_image_rate_hz': args.image_rate_hz})
    print(f'machine: {platform.machine()}, {os.cpu_count()} CPUs; sources '
          f'{values["decision_sources"]}; camera 640x480 rgb8 at {args.camera_hz:g} Hz, '
          f'record_image_rate_hz {values["record_image_rate_hz"]:g}; '
          f'{args.rounds} rounds x {args.repeats} x {len(SCRIPT)} decisions, recorder off '
          f'and on')
    results: dict[str, list[dict]] = {'recorder off': [], 'recorder on': []}
    with tempfile.TemporaryDirectory() as folder:
        for index in range(args.rounds):  # alternate, so load from elsewhere hits both
            order = ('recorder off', 'recorder on') if index % 2 == 0 else (
                'recorder on', 'recorder off')
            for name in order:
                results[name].append(run(values, args.repeats, args.camera_hz,
                                         os.path.join(folder, str(index))
                                         if name == 'recorder on' else None))
        size_mib = sum(os.path.getsize(f) for r in results['recorder on']
                       for f in r['stats'].files) / 2**20
    off, on = ({key: [x for r in results[name] for x in (
        r[key] if isinstance(r[key], list) else [r[key]])] for key in (
        'latencies', 'per_decision', 'cpu_s', 'wall_s')} for name in results)
    on['costs'] = defaultdict(list)
    for r in results['recorder on']:
        for kind, values_s in r['costs'].items():
            on['costs'][kind].extend(values_s)
    recorded = sum(r['stats'].recorded for r in results['recorder on'])
    throttled = sum(r['stats'].throttled for r in results['recorder on'])
    dropped = sum(r['stats'].dropped for r in results['recorder on'])
    failed = sum(r['stats'].failed for r in results['recorder on'])
    writer_cpu_s = sum(r['stats'].writer_cpu_s for r in results['recorder on'])
    decisions = len(off['latencies'])
    camera = _camera_messages(1)[0]
    jpeg, jpeg_bytes = [], 0
    for _ in range(20):
        start = time.perf_counter()
        jpeg_bytes = len(compress_image(camera)['data'])
        jpeg.append(time.perf_counter() - start)

    print('\n                               decision latency (ms)   process CPU per decision')
    print('                               median    p90          (ms, all threads)')
    for name, result in (('recorder off', off), ('recorder on', on)):
        latencies = result['latencies']
        cpu_ms = 1000 * sum(result['cpu_s']) / decisions
        print(f'  {name:<28} {_ms(latencies):>7} {_ms(latencies, 0.9):>6} {cpu_ms:>16.1f}')
    print('\nrecord() on the calling thread (ms)  median    p99   calls')
    for kind, values_s in sorted(on['costs'].items()):
        print(f'  {kind:<32} {_ms(values_s):>7} {_ms(values_s, 0.99):>6} {len(values_s):>7}')
    print(f'  {"per decision (command+decision+box)":<32} {_ms(on["per_decision"]):>7} '
          f'{_ms(on["per_decision"], 0.99):>6} {len(on["per_decision"]):>7}')
    print(f'\nwriter thread: JPEG of one 640x480 frame {_ms(jpeg)} ms (median of 20), '
          f'{jpeg_bytes / 1024:.0f} KiB')
    seconds = sum(on['wall_s'])
    print(f'writer thread CPU: {1000 * writer_cpu_s / decisions:.1f} ms per decision, '
          f'{100 * writer_cpu_s / seconds:.1f} % of one core')
    print(f'written: {recorded} messages, {throttled} frames left out by the rate, '
          f'{dropped} dropped, {failed} failed; {size_mib:.2f} MiB in {seconds:.0f} s '
          f'({60 * size_mib / seconds:.1f} MiB/min, with a frame kept for each of '
          f'{decisions / seconds:.1f} commands/s)')
    rate = values['record_image_rate_hz']
    print(f'frames alone at record_image_rate_hz {rate:g}: '
          f'{60 * rate * jpeg_bytes / 2**20:.1f} MiB/min, plus one frame per command')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
