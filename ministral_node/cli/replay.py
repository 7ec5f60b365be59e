"""`ministral-replay BAG`: re-run a flight recording's commands through the decision pipeline.

Each recorded command is decided again, with the camera frame, pose and battery as they were
when it arrived (recorded time order, on a replay clock), by the recorded parameters or
`--params`, `--model`, `--sources`; the report compares each recorded decision with the
replayed one (action, numbers, target, safety outcome, source). `--play` instead republishes
the recorded inputs over DDS at the recorded rate, for a running node.

Exit codes: 0 done; 1 with --strict when a safety outcome differs; 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from ministral_node import parameters
from ministral_node.health import HealthBoard
from ministral_node.recording.recorder import SENSOR_TYPES
from ministral_node.recording.replayer import (
    FRAME_AS_IN_FLIGHT,
    INPUT_ROLES,
    Bag,
    BagError,
    replay,
)
from ministral_node.resources import config_path
from ministral_node.sources.factory import build_sources, close_sources
from ministral_node.timing import MonotonicClock


class InputError(Exception):
    """Bad command-line input: reported on stderr with exit code 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='ministral-replay', description=__doc__.splitlines()[0])
    parser.add_argument('bag', metavar='BAG', help='recording folder or one .mcap file')
    parser.add_argument('--params', metavar='FILE',
                        help='ROS 2 parameters YAML applied over the parameters the recording '
                             'was made with (a recording without them: the package config)')
    parser.add_argument('--model', metavar='DIR', help='onboard model directory to decide with')
    parser.add_argument('--sources', nargs='+', choices=parameters.SOURCE_CHOICES,
                        metavar='SOURCE', help='decision sources in order (remote, onboard, '
                                               'rules); the failsafe always comes last')
    parser.add_argument('--json', metavar='OUT', help='write the report as JSON to OUT')
    parser.add_argument('--strict', action='store_true',
                        help='exit 1 when any safety outcome differs')
    parser.add_argument('--quiet', action='store_true', help='print only the summary')
    parser.add_argument('--verbose', action='store_true',
                        help="show the pipeline's log (refusals, source errors)")
    play = parser.add_argument_group('republishing (--play)')
    play.add_argument('--play', action='store_true',
                      help='republish the recorded inputs over DDS at the recorded rate '
                           'instead of replaying decisions')
    play.add_argument('--rate', type=float, default=1.0, help='playback speed factor')
    play.add_argument('--topics', nargs='+', metavar='TOPIC',
                      help='topics to republish (default: camera, commands, pose, battery, '
                           'heartbeat, clock)')
    play.add_argument('--wait', type=float, default=2.0, metavar='S',
                      help='wait up to S seconds for every topic to have a subscriber')
    return parser


def settings(args: argparse.Namespace, bag: Bag) -> dict:
    """The parameter values to replay with: the recording's (else the package config's),
    with --params, then --model and --sources, over them."""
    try:
        recorded = bag.params()
        if recorded is not None:
            values = parameters.validate({**parameters.defaults(), **recorded})
        else:
            values = parameters.load_params_file(config_path('ministral.yaml'))
        if args.params:
            values = parameters.load_params_file(args.params, base=values)
        changes: dict = {}
        if args.model:
            if not Path(args.model).is_dir():
                raise InputError(f'model directory {args.model} does not exist')
            changes['model_dir'] = args.model
        if args.sources:
            changes['decision_sources'] = args.sources
        return parameters.with_changes(values, changes)
    except parameters.ParameterError as exc:
        raise InputError(str(exc)) from exc


def _describe(result: dict | None) -> str:
    if result is None:
        return 'no recorded decision'
    text = f'{result["action"]} {json.dumps(result["params"], ensure_ascii=False)}'
    target = result['target']
    if target:
        text += f' target={target["label"]!r}'
        if target.get('box'):
            text += ' box=[' + ', '.join(f'{v:.2f}' for v in target['box']) + ']'
    safety = result['safety']
    status = safety['status']
    if safety['changes']:
        status += ': ' + '; '.join(f'{c["field"]} {c["requested"]}->{c["applied"]}'
                                   for c in safety['changes'])
    return f'{text} source={result["source"]} safety={status}'


def format_row(row: dict) -> str:
    """One command of the report: recorded decision and, if it differs, the replayed one."""
    mark = 'same' if row['same'] else 'DIFFERENT (' + ', '.join(row['differences']) + ')'
    if row['frame'] != FRAME_AS_IN_FLIGHT:
        mark += f' [camera frame: {row["frame"]}]'
    lines = [f'{row["index"]:3d} +{row["time_s"]:.1f} s {row["command"]!r}: {mark}',
             f'      recorded: {_describe(row["recorded"])}']
    if not row['same']:
        lines.append(f'      replayed: {_describe(row["replayed"])}')
    return '\n'.join(lines)


def format_summary(summary: dict) -> str:
    return (f'{summary["commands"]} commands: {summary["same"]} same, {summary["different"]} '
            f'different ({summary["safety_different"]} in the safety outcome)')


def run_replay(args: argparse.Namespace, bag: Bag) -> dict:
    values = settings(args, bag)
    clock = MonotonicClock()
    health = HealthBoard(clock)
    sources = build_sources(values, health)
    try:
        return replay(bag, values, sources).summary()
    finally:
        close_sources(sources)


def play(bag: Bag, topics: list[str], rate: float, wait_s: float) -> int:
    """Republish `topics` as recorded (CDR bytes, recorded QoS kind) at `rate` times the
    recorded pace; returns how many messages were published."""
    import importlib

    import rclpy
    from rclpy.qos import QoSProfile, ReliabilityPolicy

    count = 0
    with rclpy.init():
        node = rclpy.create_node('ministral_replay')
        publishers = {}
        for topic in topics:
            package, _, name = bag.topics[topic].split('/')
            message_class = getattr(importlib.import_module(f'{package}.msg'), name)
            sensor = bag.topics[topic] in SENSOR_TYPES
            qos = QoSProfile(depth=1 if sensor else 10, reliability=(
                ReliabilityPolicy.BEST_EFFORT if sensor else ReliabilityPolicy.RELIABLE))
            publishers[topic] = node.create_publisher(message_class, topic, qos)
        end = time.monotonic() + wait_s
        while time.monotonic() < end and not all(
                p.get_subscription_count() for p in publishers.values()):
            time.sleep(0.05)
        time.sleep(min(wait_s, 0.3))  # the subscribers' side of discovery
        start = time.monotonic()
        first: int | None = None
        for item in bag.messages(topics, raw_topics=topics):
            first = item.log_time_ns if first is None else first
            delay = start + (item.log_time_ns - first) / 1e9 / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            publishers[item.topic].publish(bytes(item.message))
            count += 1
        time.sleep(0.5)  # reliable subscribers take the last messages
        node.destroy_node()
    return count


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR,
                        format='%(levelname)s %(name)s: %(message)s')
    try:
        bag = Bag.open(args.bag)
        for file in bag.truncated:
            print(f'ministral-replay: {file} was cut short (no summary: the recorder was '
                  f'stopped abruptly); read up to where it ends', file=sys.stderr)
        if args.play:
            if args.rate <= 0:
                raise InputError('--rate must be positive')
            roles = bag.roles()
            topics = args.topics or [roles[r] for r in INPUT_ROLES if r in roles]
            unknown = [t for t in topics if t not in bag.topics]
            if unknown:
                raise InputError(f'not in the recording: {", ".join(unknown)}')
            count = play(bag, topics, args.rate, args.wait)
            print(f'ministral-replay: republished {count} messages on {", ".join(topics)}')
            return 0
        summary = run_replay(args, bag)
    except (InputError, BagError) as exc:
        print(f'ministral-replay: {exc}', file=sys.stderr)
        return 2
    if not args.quiet:
        for row in summary['rows']:
            print(format_row(row))
        print()
    print(format_summary(summary))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2, ensure_ascii=False) + '\n',
                                   encoding='utf-8')
    return 1 if args.strict and summary['safety_different'] else 0


if __name__ == '__main__':
    sys.exit(main())
