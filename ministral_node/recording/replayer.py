"""Replay a flight recording through the decision pipeline and compare the decisions.

Messages are taken in recorded time order; a replay clock (a `FakeClock`) is set to each
message's log time, so the pipeline sees the pose and battery exactly as they were when each
command arrived, whatever the wall time, and the camera frame the recorded decision names (by
its stamp, with the age it had; none if it saw none). Each command is decided again and its
outcome (action, numbers, target, safety outcome, source) compared with the recorded decision
that answered it.
"""

from __future__ import annotations

import heapq
import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ministral_node import parameters
from ministral_node.core.pipeline import DecisionPipeline
from ministral_node.core.settings import Settings
from ministral_node.decision import Decision, DecisionError, Refusal, RefusalKind, shorten
from ministral_node.health import HealthBoard
from ministral_node.inputs.camera import EncodedFrame, LatestFrame
from ministral_node.inputs.commands import CommandError, decode_string_message
from ministral_node.inputs.image_conversion import CompressedImageData
from ministral_node.inputs.vehicle import VehicleState, battery_percent, heading_from_quaternion
from ministral_node.recording.recorder import METADATA_NAME, get
from ministral_node.sources.base import Decider
from ministral_node.timing import FakeClock

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

    def messages(self, topics: list[str] | None = None,
                 raw_topics: Collection[str] = ()) -> Iterator[BagMessage]:
        """Messages on `topics` (default all) in log-time order across the files, decoded
        except on `raw_topics` (their CDR bytes, as a raw subscription gets them)."""
        from mcap.exceptions import McapError
        from mcap.reader import NonSeekingReader, make_reader
        from mcap_ros2.decoder import DecoderFactory

        factory = DecoderFactory()

        def one(file: Path, index: int) -> Iterator[tuple[int, int, BagMessage]]:
            decoders: dict[int, Callable[[bytes], Any]] = {}
            with open(file, 'rb') as stream:
                truncated = file in self.truncated  # read in write order, up to its end
                reader = NonSeekingReader(stream) if truncated else make_reader(stream)
                try:
                    for schema, channel, message in reader.iter_messages(
                            topics, log_time_order=not truncated):
                        if channel.topic in raw_topics:
                            payload: Any = message.data
                        else:
                            if schema.id not in decoders:
                                decoders[schema.id] = factory.decoder_for(
                                    channel.message_encoding, schema)
                            payload = decoders[schema.id](message.data)
                        yield message.log_time, index, BagMessage(
                            channel.topic, schema.name, message.log_time, payload)
                except McapError:
                    if not truncated:
                        raise

        streams = [one(file, index) for index, file in enumerate(self.files)]
        for _time, _index, item in heapq.merge(*streams, key=lambda x: (x[0], x[1])):
            yield item


def _file_order(path: Path) -> tuple[int, str]:
    stem = path.stem.rsplit('_', 1)
    return (int(stem[1]), path.name) if len(stem) == 2 and stem[1].isdigit() else (0, path.name)


def outcome(decision: Decision) -> dict:
    """What replay compares: action, numbers, target, safety outcome and source."""
    safety = decision.safety
    return {
        'action': decision.action,
        'params': decision.params,
        'target': None if decision.target is None else decision.target.to_dict(),
        'safety': {'status': safety.status,
                   'changes': [{'field': c.field, 'requested': c.requested,
                                'applied': c.applied} for c in safety.changes],
                   'refused': safety.refused},
        'source': decision.source,
    }


def recorded_decision(text: str | bytes) -> Decision | None:
    """A recorded ~/decision message as a decision; None (logged) if it cannot be read.

    Not validated: a recording made with an earlier contract version (an older
    `schema_version`, without the fields added since) is read all the same.
    """
    try:
        return Decision.from_dict(json.loads(text), validate=False)
    except (ValueError, KeyError, TypeError, DecisionError) as exc:
        log.warning('recorded decision skipped: %s', shorten(f'{type(exc).__name__}: {exc}', 200))
        return None


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

    def __init__(self, decisions: list[tuple[int, Decision]]) -> None:
        self._decisions = decisions
        self._used: set[int] = set()

    def find(self, text: str, after_ns: int) -> Decision | None:
        wanted = shorten(text, 500)
        for index, (log_time, decision) in enumerate(self._decisions):
            command = decision.command
            if index in self._used or log_time < after_ns or command is None:
                continue
            if command.text == wanted:
                self._used.add(index)
                return decision
        return None


# How replay chose the camera frame for a command (the `frame` field of a report row).
FRAME_AS_IN_FLIGHT = 'as in flight'  # the recorded frame the decision names
FRAME_NONE_IN_FLIGHT = 'none, as in flight'  # the decision saw no (fresh, usable) frame
FRAME_NEAREST = 'nearest recorded'  # the decision's frame was not recorded: the newest one
FRAME_NEWEST = 'newest recorded'  # no recorded decision says which frame it saw


class _Replayer:
    """Feeds recorded messages to a pipeline on a replay clock and decides each command."""

    keep_frames = 256  # recent frames kept to find the one a decision names

    def __init__(self, bag: Bag, values: Mapping[str, Any], sources: list[Decider],
                 health: HealthBoard | None) -> None:
        self.roles = bag.roles()
        for role in ('command', 'decision'):
            if role not in self.roles:
                raise BagError(f'the recording has no {role} topic (topics: '
                               f'{", ".join(sorted(bag.topics))})')
        self.bag = bag
        recorded = ((m.log_time_ns, recorded_decision(m.message.data))
                    for m in bag.messages([self.roles['decision']]))
        self.matcher = _Matcher([(ns, d) for ns, d in recorded if d is not None])
        self.clock = FakeClock(0.0)
        self.frames = LatestFrame(int(values['max_image_pixels']))
        settings = Settings.from_values(values)
        self.landed_altitude_m = float(settings.values['landed_altitude_m'])
        self.newest: EncodedFrame | None = None
        self.recent: OrderedDict[float, EncodedFrame] = OrderedDict()
        self.vehicle = VehicleState()
        # A node that flew its missions let a mission's first step search for its target.
        self.pipeline = DecisionPipeline.from_settings(
            settings, sources, self.frames, self.clock, self.clock,
            health or HealthBoard(self.clock), lambda: self.vehicle,
            searches=bool(settings.values['execute_missions']))
        self.report = ReplayReport()
        self.start_ns: int | None = None

    def run(self) -> ReplayReport:
        roles = self.roles
        wanted = [roles[r] for r in ('camera', 'command', 'pose', 'battery') if r in roles]
        for item in self.bag.messages(wanted, raw_topics={roles['command']}):
            self.start_ns = item.log_time_ns if self.start_ns is None else self.start_ns
            now = item.log_time_ns / 1e9
            self.clock.set(max(self.clock.now(), now))
            message = item.message
            if item.topic == roles.get('camera'):
                self._frame(message, now)
            elif item.topic == roles.get('pose'):
                p, q = message.pose.position, message.pose.orientation
                self.vehicle = self.vehicle.with_pose(
                    p.x, p.y, p.z, heading_from_quaternion(q.x, q.y, q.z, q.w), now,
                    landed_altitude_m=self.landed_altitude_m)
            elif item.topic == roles.get('battery'):
                self.vehicle = self.vehicle.with_battery(
                    battery_percent(get(message, 'percentage')), now)
            elif item.topic == roles['command']:
                self._command(message, item.log_time_ns, now)
        return self.report

    def _frame(self, message: Any, now: float) -> None:
        stamp = message.header.stamp
        frame = EncodedFrame(CompressedImageData(message.format, bytes(message.data)),
                             stamp.sec + stamp.nanosec * 1e-9, message.header.frame_id, now)
        self.newest = frame
        self.recent[round(frame.stamp, 6)] = frame
        while len(self.recent) > self.keep_frames:
            self.recent.popitem(last=False)
        self.frames.store(frame)

    def _use_frame_of(self, recorded: Decision | None, now: float) -> str:
        """Put the frame the recorded decision saw (with the age it had) where the pipeline
        takes it; returns how it was chosen."""
        if recorded is None:
            return FRAME_NEWEST
        seen = recorded.frame
        if seen is None:
            self.frames.clear()
            return FRAME_NONE_IN_FLIGHT
        frame, kind = self.recent.get(round(seen.stamp, 6)), FRAME_AS_IN_FLIGHT
        if frame is None:
            frame, kind = self.newest, FRAME_NEAREST
        if frame is None:
            self.frames.clear()
            return FRAME_NEAREST
        # The decision reports the frame's age when it finished; it was checked at the start.
        age = max(0.0, float(seen.age_s) - float(recorded.latency_ms) / 1000.0)
        self.frames.store(replace(frame, received=now - age))
        return kind

    def _command(self, payload: bytes, log_time_ns: int, now: float) -> None:
        try:  # as the node reads it: raw CDR, so bytes that are not UTF-8 are refused
            text, problem = decode_string_message(payload), None
        except CommandError as exc:
            text, problem = '', str(exc)
        recorded = self.matcher.find(text, log_time_ns)
        command_id = recorded.command.id if recorded and recorded.command else None
        frame_kind = self._use_frame_of(recorded, now)
        in_flight = None if recorded is None else recorded.refusal
        if problem is None and in_flight is not None and in_flight.kind.by_node:
            # the queue or the lifecycle refused it: that depends on the node, not the command
            replayed = self.pipeline.refuse(in_flight, text=text, command_id=command_id,
                                            received=now)
        elif problem is None:
            replayed = self.pipeline.decide(text, command_id=command_id, received=now)
        else:
            replayed = self.pipeline.refuse(Refusal(RefusalKind.INPUT, problem),
                                            command_id=command_id, received=now)
        if self.newest is not None:
            self.frames.store(self.newest)
        else:
            self.frames.clear()
        old = None if recorded is None else outcome(recorded)
        new = outcome(replayed)
        diff = differences(old, new)
        self.report.rows.append({
            'index': len(self.report.rows) + 1,
            'time_s': round((log_time_ns - self.start_ns) / 1e9, 3), 'command': text,
            'frame': frame_kind, 'recorded': old, 'replayed': new, 'same': not diff,
            'differences': diff})


def replay(bag: Bag, values: Mapping[str, Any], sources: list[Decider],
           health: HealthBoard | None = None) -> ReplayReport:
    """Decide every recorded command again with `values` and `sources` and compare: each
    with the pose and battery as recorded up to that moment and the camera frame its
    recorded decision saw (see the FRAME_* kinds)."""
    return _Replayer(bag, values, sources, health).run()
