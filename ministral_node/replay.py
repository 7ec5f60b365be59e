"""Replay a flight recording through the decision pipeline and compare the decisions.

Messages are taken in recorded time order; a replay clock (a `FakeClock`) is set to each
message's log time, so the pipeline sees the newest camera frame, pose and battery exactly as
they were when each command arrived, whatever the wall time. Each command is decided again
and its outcome (action, numbers, target, safety outcome, source) compared with the recorded
decision that answered it.
"""

from __future__ import annotations

import heapq
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ministral_node import parameters
from ministral_node.camera import EncodedFrame, LatestFrame
from ministral_node.decision import shorten
from ministral_node.health import HealthBoard
from ministral_node.image_conversion import CompressedImageData
from ministral_node.pipeline import DecisionPipeline
from ministral_node.recorder import METADATA_NAME, get, stamp_to_ns
from ministral_node.sources.base import Decider
from ministral_node.timing import FakeClock
from ministral_node.vehicle import VehicleState, battery_percent, heading_from_quaternion

log = logging.getLogger(__name__)

OUTCOME_FIELDS = ('action', 'params', 'target', 'safety', 'source')
ROLE_TYPES = {  # roles found by message type when a recording does not name them
    'camera': 'sensor_msgs/msg/CompressedImage',
    'pose': 'geometry_msgs/msg/PoseStamped',
    'battery': 'sensor_msgs/msg/BatteryState',
    'heartbeat': 'std_msgs/msg/Header',
    'clock': 'rosgraph_msgs/msg/Clock',
}
ROLE_SUFFIXES = {'command': '/command', 'decision': '/decision'}  # std_msgs/String topics
INPUT_ROLES = ('camera', 'command', 'pose', 'battery', 'heartbeat', 'clock')


class BagError(ValueError):
    """A recording cannot be read or lacks what replay needs."""


@dataclass(frozen=True)
class BagMessage:
    """One recorded message, decoded."""

    topic: str
    msgtype: str
    log_time_ns: int
    message: Any


@dataclass
class Bag:
    """A recording: its MCAP files in order, topics and types, and our metadata. A file cut
    short (the recorder was killed or the disk filled) is read up to where it ends."""

    files: list[Path]
    topics: dict[str, str]  # topic -> message type
    metadata: dict[str, str] = field(default_factory=dict)
    truncated: list[Path] = field(default_factory=list)  # files without a summary

    @classmethod
    def open(cls, path: str | Path) -> Bag:
        """A recording folder (its `*.mcap` files in order) or one `.mcap` file."""
        path = Path(path)
        if path.is_dir():
            files = sorted(path.glob('*.mcap'), key=_file_order)
        elif path.is_file():
            files = [path]
        else:
            raise BagError(f'{path} does not exist')
        if not files:
            raise BagError(f'{path} holds no .mcap file')
        bag = cls(files, {})
        for file in files:
            try:
                bag._index(file)
            except OSError as exc:
                raise BagError(f'{file} cannot be read: {exc}') from exc
        return bag

    def _index(self, file: Path) -> None:
        from mcap.exceptions import InvalidMagic, McapError
        from mcap.reader import make_reader
        from mcap.records import Channel, Metadata, Schema
        from mcap.stream_reader import StreamReader

        with open(file, 'rb') as stream:
            try:
                reader = make_reader(stream)
                summary = reader.get_summary()
                if summary is not None:
                    for channel in summary.channels.values():
                        self.topics[channel.topic] = summary.schemas[channel.schema_id].name
                    for record in reader.iter_metadata():
                        if record.name == METADATA_NAME:
                            self.metadata.update(record.metadata)
                    return
            except McapError:
                pass
            stream.seek(0)
            schemas: dict[int, str] = {}
            try:
                for record in StreamReader(stream).records:
                    if isinstance(record, Schema):
                        schemas[record.id] = record.name
                    elif isinstance(record, Channel):
                        self.topics[record.topic] = schemas.get(record.schema_id, '')
                    elif isinstance(record, Metadata) and record.name == METADATA_NAME:
                        self.metadata.update(record.metadata)
            except InvalidMagic as exc:
                raise BagError(f'{file} is not an MCAP file') from exc
            except McapError:
                pass  # cut short: what came before is usable
            self.truncated.append(file)

    def roles(self) -> dict[str, str]:
        """Which topic plays which role: from the recording's metadata, else by type (the
        only topic of that type) and name (`.../command`, `.../decision`)."""
        named = json.loads(self.metadata.get('roles', '{}'))
        roles: dict[str, str] = {}
        for role, topic in named.items():
            for candidate in (topic, topic + '/compressed'):
                if candidate in self.topics:
                    roles[role] = candidate
        for role, msgtype in ROLE_TYPES.items():
            matches = [t for t, m in self.topics.items() if m == msgtype]
            if role not in roles and len(matches) == 1:
                roles[role] = matches[0]
        for role, suffix in ROLE_SUFFIXES.items():
            matches = [t for t, m in self.topics.items()
                       if m == 'std_msgs/msg/String' and t.endswith(suffix)]
            if role not in roles and len(matches) == 1:
                roles[role] = matches[0]
        return roles

    def params(self) -> dict[str, Any] | None:
        """The parameter values the recording was made with, if it says (unknown names,
        e.g. from a newer version, are left out)."""
        if 'params' not in self.metadata:
            return None
        recorded = json.loads(self.metadata['params'])
        return {k: v for k, v in recorded.items() if k in parameters.SPECS}

    def messages(self, topics: list[str] | None = None, decode: bool = True
                 ) -> Iterator[BagMessage]:
        """Messages on `topics` (default all) in log-time order across the files; `decode`
        False gives the CDR bytes."""
        from mcap.reader import make_reader
        from mcap_ros2.decoder import DecoderFactory

        def one(file: Path, index: int) -> Iterator[tuple[int, int, BagMessage]]:
            from mcap.exceptions import McapError
            from mcap.reader import NonSeekingReader

            with open(file, 'rb') as stream:
                if file in self.truncated:  # in write order, up to where it ends
                    reader = NonSeekingReader(stream, decoder_factories=[DecoderFactory()])
                    ordered = False
                else:
                    reader = make_reader(stream, decoder_factories=[DecoderFactory()])
                    ordered = True
                try:
                    if decode:
                        for schema, channel, message, decoded in reader.iter_decoded_messages(
                                topics, log_time_order=ordered):
                            yield message.log_time, index, BagMessage(
                                channel.topic, schema.name, message.log_time, decoded)
                    else:
                        for schema, channel, message in reader.iter_messages(
                                topics, log_time_order=ordered):
                            yield message.log_time, index, BagMessage(
                                channel.topic, schema.name, message.log_time, message.data)
                except McapError:
                    if file not in self.truncated:
                        raise

        streams = [one(file, index) for index, file in enumerate(self.files)]
        for _time, _index, item in heapq.merge(*streams, key=lambda x: (x[0], x[1])):
            yield item


def _file_order(path: Path) -> tuple[int, str]:
    stem = path.stem.rsplit('_', 1)
    return (int(stem[1]), path.name) if len(stem) == 2 and stem[1].isdigit() else (0, path.name)


def outcome(decision: dict) -> dict:
    """What replay compares: action, numbers, target, safety outcome and source."""
    safety = decision['safety']
    return {
        'action': decision['action'],
        'params': decision['params'],
        'target': decision['target'],
        'safety': {'status': safety['status'],
                   'changes': [{k: c[k] for k in ('field', 'requested', 'applied')}
                               for c in safety['changes']],
                   'refused': safety['refused']},
        'source': decision['source'],
    }


def differences(recorded: dict | None, replayed: dict) -> list[str]:
    """The outcome fields that differ (all of them when nothing was recorded)."""
    if recorded is None:
        return list(OUTCOME_FIELDS)
    return [name for name in OUTCOME_FIELDS if recorded[name] != replayed[name]]


@dataclass
class ReplayReport:
    """Per-command rows and the summary `ministral-replay --json` writes."""

    rows: list[dict] = field(default_factory=list)

    def summary(self) -> dict:
        same = sum(row['same'] for row in self.rows)
        return {'commands': len(self.rows), 'same': same, 'different': len(self.rows) - same,
                'safety_different': sum('safety' in row['differences'] for row in self.rows),
                'rows': self.rows}


class _Matcher:
    """Pairs each recorded command with the first later recorded decision answering it."""

    def __init__(self, decisions: list[tuple[int, dict]]) -> None:
        self._decisions = decisions
        self._used: set[int] = set()

    def find(self, text: str, after_ns: int) -> dict | None:
        wanted = shorten(text, 500)
        for index, (log_time, decision) in enumerate(self._decisions):
            command = decision.get('command')
            if index in self._used or log_time < after_ns or command is None:
                continue
            if command['text'] == wanted:
                self._used.add(index)
                return decision
        return None


def replay(bag: Bag, values: Mapping[str, Any], sources: list[Decider],
           health: HealthBoard | None = None) -> ReplayReport:
    """Decide every recorded command again with `values` and `sources` and compare."""
    roles = bag.roles()
    for role in ('command', 'decision'):
        if role not in roles:
            raise BagError(f'the recording has no {role} topic (topics: '
                           f'{", ".join(sorted(bag.topics))})')
    decisions = [(m.log_time_ns, json.loads(m.message.data))
                 for m in bag.messages([roles['decision']])]
    matcher = _Matcher(decisions)
    wanted = [roles[r] for r in ('camera', 'command', 'pose', 'battery') if r in roles]
    clock = FakeClock(0.0)
    frames = LatestFrame(int(values['max_image_pixels']))
    state = {'vehicle': VehicleState()}
    pipeline = DecisionPipeline.from_params(values, sources, frames, clock, clock,
                                            health or HealthBoard(clock),
                                            lambda: state['vehicle'])
    report = ReplayReport()
    start_ns: int | None = None
    for item in bag.messages(wanted):
        start_ns = item.log_time_ns if start_ns is None else start_ns
        now = item.log_time_ns / 1e9
        clock.set(max(clock.now(), now))
        message = item.message
        if item.topic == roles.get('camera'):
            header = message.header
            frames.store(EncodedFrame(CompressedImageData(message.format, bytes(message.data)),
                                      stamp_to_ns(header.stamp) / 1e9, header.frame_id, now))
        elif item.topic == roles.get('pose'):
            p, q = message.pose.position, message.pose.orientation
            state['vehicle'] = state['vehicle'].with_pose(
                p.x, p.y, p.z, heading_from_quaternion(q.x, q.y, q.z, q.w), now)
        elif item.topic == roles.get('battery'):
            state['vehicle'] = state['vehicle'].with_battery(
                battery_percent(get(message, 'percentage')), now)
        elif item.topic == roles['command']:
            text = message.data
            recorded = matcher.find(text, item.log_time_ns)
            command_id = recorded['command']['id'] if recorded else None
            replayed = pipeline.decide(text, command_id=command_id, received=now)
            old = None if recorded is None else outcome(recorded)
            new = outcome(replayed)
            diff = differences(old, new)
            report.rows.append({'index': len(report.rows) + 1,
                                'time_s': round((item.log_time_ns - start_ns) / 1e9, 3),
                                'command': text, 'recorded': old, 'replayed': new,
                                'same': not diff, 'differences': diff})
    return report
