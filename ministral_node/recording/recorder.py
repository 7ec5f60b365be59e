"""Flight recorder: the node's inputs and outputs as MCAP files with ROS 2 CDR messages.

`Recorder.record` is called from ROS callbacks and never blocks: it throttles camera frames,
puts the message on a bounded queue (counting what a full queue drops) and returns. A writer
thread compresses raw frames into `sensor_msgs/CompressedImage` (JPEG; the frame a command is
decided on losslessly as PNG, so a replay decides on the same pixels), serialises to CDR and
writes MCAP (profile `ros2`, one channel per topic, rosbag2's topic metadata), splitting files
by size and duration. A full disk or an unwritable directory stops recording with WARN on the
`recorder` health component; decisions go on. Files are readable by `ros2 bag info`, Foxglove
and any MCAP reader; `metadata.yaml` (rosbag2 format) is written when recording stops.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import cv2
import yaml
from mcap.well_known import MessageEncoding, Profile, SchemaEncoding
from mcap.writer import Writer as McapWriter
from mcap_ros2._dynamic import serialize_dynamic

from ministral_node.health import OK, WARN, HealthBoard
from ministral_node.inputs.image_conversion import RawImage, decode_raw
from ministral_node.recording.msgdefs import full_definition, type_hash
from ministral_node.timing import Clock, WallClock

log = logging.getLogger(__name__)

COMPONENT = 'recorder'
IMAGE = 'sensor_msgs/msg/Image'
COMPRESSED_IMAGE = 'sensor_msgs/msg/CompressedImage'
DIAGNOSTICS = 'diagnostic_msgs/msg/DiagnosticArray'
JPEG_FORMAT = 'rgb8; jpeg compressed bgr8'  # image_transport's names for what we write
PNG_FORMAT = 'rgb8; png compressed bgr8'
SENSOR_TYPES = frozenset((COMPRESSED_IMAGE, 'geometry_msgs/msg/PoseStamped',
                          'sensor_msgs/msg/BatteryState'))
METADATA_NAME = 'ministral_node'  # MCAP metadata record: parameters and topic roles

_STOP = object()


@dataclass(frozen=True)
class RecorderSettings:
    """The parameters the recorder reads."""

    directory: str = ''  # '' = off
    image_rate_hz: float = 2.0  # 0 = no camera frames
    split_mib: float = 1024.0
    split_s: float = 600.0
    queue_depth: int = 256
    jpeg_quality: int = 90
    max_queued_frames: int = 4  # camera frames waiting for the writer (a 4K frame is 25 MB)

    @property
    def enabled(self) -> bool:
        return bool(self.directory.strip())

    @classmethod
    def from_params(cls, values: Mapping[str, Any]) -> RecorderSettings:
        return cls(str(values['record_dir']), float(values['record_image_rate_hz']),
                   float(values['record_split_mib']), float(values['record_split_s']),
                   int(values['record_queue_depth']))


@dataclass
class RecorderStats:
    """Counters of one recording."""

    recorded: int = 0
    dropped: int = 0  # the queue was full
    throttled: int = 0  # camera frames left out (over record_image_rate_hz)
    failed: int = 0  # messages that could not be serialised
    files: list[str] = field(default_factory=list)
    bytes: int = 0
    stopped: str | None = None  # why recording stopped early
    writer_cpu_s: float = 0.0  # CPU time the writer thread used


def get(message: Any, name: str) -> Any:
    """A field of a message given as a mapping or as an object (rclpy or decoded)."""
    return message[name] if isinstance(message, Mapping) else getattr(message, name)


def compress_image(message: Any, quality: int = 90, lossless: bool = False) -> dict:
    """A `sensor_msgs/Image` (any encoding `decode_raw` reads) as CompressedImage fields:
    JPEG at `quality`, or PNG when `lossless`."""
    raw = RawImage(int(get(message, 'width')), int(get(message, 'height')),
                   str(get(message, 'encoding')), int(get(message, 'step')),
                   memoryview(get(message, 'data')), bool(get(message, 'is_bigendian')))
    bgr = cv2.cvtColor(decode_raw(raw), cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode('.png', bgr) if lossless else \
        cv2.imencode('.jpg', bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError(f'{"PNG" if lossless else "JPEG"} encoding failed')
    return {'header': get(message, 'header'), 'format': PNG_FORMAT if lossless else JPEG_FORMAT,
            'data': encoded.tobytes()}


def diagnostics_fields(message: Any) -> dict:
    """A `diagnostic_msgs/DiagnosticArray` as fields the CDR encoder takes (rclpy gives the
    `byte` level as bytes, the encoder wants an integer)."""
    def level(value: Any) -> int:
        return value[0] if isinstance(value, (bytes, bytearray)) else int(value)

    return {'header': get(message, 'header'), 'status': [
        {'level': level(get(s, 'level')), 'name': get(s, 'name'),
         'message': get(s, 'message'), 'hardware_id': get(s, 'hardware_id'),
         'values': list(get(s, 'values'))} for s in get(message, 'status')]}


def qos_profile_yaml(msgtype: str) -> str:
    """rosbag2's `offered_qos_profiles` for a topic: best effort for sensor data, else
    reliable; keep last, volatile (integer enums, as every rosbag2 version reads them)."""
    def infinite() -> dict:
        return {'sec': 2147483647, 'nsec': 4294967295}

    profile = {'history': 1, 'depth': 1 if msgtype in SENSOR_TYPES else 10,
               'reliability': 2 if msgtype in SENSOR_TYPES else 1, 'durability': 2,
               'deadline': infinite(), 'lifespan': infinite(), 'liveliness': 1,
               'liveliness_lease_duration': infinite(),
               'avoid_ros_namespace_conventions': False}
    return yaml.safe_dump([profile], sort_keys=False)


@dataclass(frozen=True)
class _Serialized:
    data: bytes


@dataclass
class _Item:
    topic: str
    msgtype: str
    message: Any
    stamp_ns: int
    lossless: bool = False  # a raw frame a command is decided on: written as PNG


@dataclass
class _TopicInfo:
    msgtype: str
    count: int = 0


@dataclass
class _FileInfo:
    path: str
    start_ns: int | None = None
    end_ns: int = 0
    count: int = 0


def _open_binary(path: Path) -> IO[bytes]:
    return open(path, 'wb')


class Recorder:
    """Records messages into `<directory>/<name>/<name>_<i>.mcap` from a writer thread."""

    def __init__(self, settings: RecorderSettings, clock: Clock,
                 health: HealthBoard | None = None, *, name: str | None = None,
                 metadata: Mapping[str, str] | None = None,
                 stamp_clock: Clock | None = None,
                 opener: Callable[[Path], IO[bytes]] = _open_binary) -> None:
        self.settings = settings
        self.clock = clock
        self.health = health or HealthBoard(clock)
        self.stamp_clock = stamp_clock or WallClock()
        self.name = name or time.strftime('ministral_%Y-%m-%d_%H-%M-%S', time.gmtime())
        self.directory = Path(settings.directory) / self.name
        self.metadata = dict(metadata or {})
        self.stats = RecorderStats()
        self._opener = opener
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, settings.queue_depth))
        self._lock = threading.Lock()
        self._last_image: dict[str, float] = {}
        self._newest: dict[str, _Item] = {}  # per camera topic, held back or not
        self._held: set[str] = set()  # topics whose newest frame was held back by the rate
        self._images_queued = 0
        self._thread: threading.Thread | None = None
        self._running = False
        self._topics: dict[str, _TopicInfo] = {}
        self._files: list[_FileInfo] = []
        self._writer: Any = None
        self._stream: IO[bytes] | None = None
        self._schemas: dict[str, tuple[int, Callable]] = {}
        self._channels: dict[str, tuple[int, Callable]] = {}
        self._sequence: dict[str, int] = {}
        self._file_started = 0.0
        self._last_health = float('-inf')

    # Caller side (any thread)

    @property
    def recording(self) -> bool:
        return self._running

    def start(self) -> bool:
        """Create the directory and start the writer thread; False (and WARN) if it cannot."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._open_file()
        except (OSError, ValueError) as exc:
            self._stop_with(f'cannot record to {self.directory}: {_reason(exc)}')
            return False
        self._running = True
        self._thread = threading.Thread(target=self._run, name='recorder', daemon=True)
        self._thread.start()
        self.health.set(COMPONENT, OK, f'recording to {self.directory}')
        log.info('recording to %s', self.directory)
        return True

    def configure(self, values: Mapping[str, Any]) -> None:
        """Take live parameter changes (`record_image_rate_hz`)."""
        rate = float(values['record_image_rate_hz'])
        with self._lock:
            self.settings = replace(self.settings, image_rate_hz=rate)

    def record(self, topic: str, msgtype: str, message: Any, stamp_ns: int | None = None,
               *, flush_images: bool = False) -> bool:
        """Queue one message (a mapping, a message object, or its CDR bytes as a raw
        subscription gives them; raw `sensor_msgs/msg/Image` needs the object) logged at
        `stamp_ns` (default: now on the stamp clock); never blocks.

        Camera frames (`sensor_msgs/msg/Image`, JPEG-compressed by the writer, or
        `CompressedImage`) over `image_rate_hz` are held back, not queued; `flush_images`
        (for commands) first queues the newest frame of each camera topic, a raw one as PNG
        (again, after its JPEG, if that went already: replay takes the last frame of a stamp),
        so the bag holds the frame a decision saw, pixel for pixel. Returns whether the
        message was queued."""
        if not self._running:
            return False
        if stamp_ns is None:
            stamp_ns = int(self.stamp_clock.now() * 1e9)
        item = _Item(topic, msgtype, message, stamp_ns)
        if msgtype in (IMAGE, COMPRESSED_IMAGE):
            return self._record_image(item)
        if flush_images:
            with self._lock:
                self.stats.throttled -= len(self._held)
                held, newest = self._held, list(self._newest.values())
                self._held, self._newest = set(), {}
            for frame in newest:  # a compressed frame already queued is there as it came
                if frame.msgtype == IMAGE or frame.topic in held:
                    self._put(replace(frame, lossless=frame.msgtype == IMAGE))
        return self._put(item)

    def close(self, timeout_s: float = 10.0) -> RecorderStats:
        """Write what is queued, finish the file, write metadata.yaml; returns the stats."""
        thread = self._thread
        if thread is not None:
            self._running = False
            try:
                self._queue.put(_STOP, timeout=timeout_s)
            except queue.Full:
                log.error('recorder: the writer did not finish within %.0f s', timeout_s)
            thread.join(timeout_s)
            self._thread = None
        return self.stats

    def _record_image(self, item: _Item) -> bool:
        rate = self.settings.image_rate_hz
        with self._lock:
            if rate <= 0:
                self.stats.throttled += 1
                return False
            now = self.clock.now()
            self._newest[item.topic] = item
            last = self._last_image.get(item.topic)
            if last is not None and now - last < 1.0 / rate:
                self._held.add(item.topic)
                self.stats.throttled += 1
                return False
            self._last_image[item.topic] = now
            self._held.discard(item.topic)
        return self._put(item)

    def _put(self, item: _Item) -> bool:
        image = item.msgtype in (IMAGE, COMPRESSED_IMAGE)
        with self._lock:
            if image and self._images_queued >= self.settings.max_queued_frames:
                self.stats.dropped += 1  # a writer this far behind must not hoard frames
                return False
            self._images_queued += image
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            with self._lock:
                self.stats.dropped += 1
                self._images_queued -= image
            return False
        return True

    # Writer thread

    def _run(self) -> None:
        started = time.thread_time()
        try:
            self._loop()
        finally:
            self.stats.writer_cpu_s = time.thread_time() - started

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                break
            if item.msgtype in (IMAGE, COMPRESSED_IMAGE):
                with self._lock:
                    self._images_queued -= 1
            try:
                self._write(item)
            except OSError as exc:
                self._stop_with(f'recording stopped: {_reason(exc)}; decisions go on')
                self._drain()
                return
            except Exception as exc:  # noqa: BLE001 - one bad message must not stop recording
                self.stats.failed += 1
                log.error('recorder: cannot record a %s on %s: %s', item.msgtype, item.topic,
                          exc)
            self._report()
        try:
            self._finish_file()
            self._write_bag_metadata()
        except OSError as exc:
            self._stop_with(f'recording stopped: {_reason(exc)}')
            return
        self._report(force=True, message=f'stopped; {self.stats.recorded} messages in '
                                         f'{self.directory}')

    def _write(self, item: _Item) -> None:
        topic, msgtype, message = item.topic, item.msgtype, item.message
        if isinstance(message, (bytes, bytearray, memoryview)) and msgtype != IMAGE:
            message = _Serialized(bytes(message))
        elif msgtype == IMAGE:
            message = compress_image(message, self.settings.jpeg_quality, item.lossless)
            msgtype = COMPRESSED_IMAGE
            if not topic.endswith('/compressed'):
                topic += '/compressed'
        elif msgtype == DIAGNOSTICS:
            message = diagnostics_fields(message)
        channel = self._channels.get(topic)
        if channel is None:
            channel = self._register_channel(topic, msgtype)
        channel_id, encode = channel
        self._sequence[topic] = self._sequence.get(topic, 0) + 1
        data = message.data if isinstance(message, _Serialized) else encode(message)
        self._writer.add_message(channel_id, log_time=item.stamp_ns, data=data,
                                 publish_time=item.stamp_ns, sequence=self._sequence[topic])
        self.stats.recorded += 1
        info = self._topics.setdefault(topic, _TopicInfo(msgtype))
        info.count += 1
        current = self._files[-1]
        current.count += 1
        current.start_ns = item.stamp_ns if current.start_ns is None else min(
            current.start_ns, item.stamp_ns)
        current.end_ns = max(current.end_ns, item.stamp_ns)
        if (self._stream.tell() >= self.settings.split_mib * 2**20
                or self.clock.now() - self._file_started >= self.settings.split_s):
            self._finish_file()
            self._open_file()

    def _register_channel(self, topic: str, msgtype: str) -> tuple[int, Callable]:
        schema = self._schemas.get(msgtype)
        if schema is None:
            text = full_definition(msgtype)
            schema = self._schemas[msgtype] = (
                self._writer.register_schema(msgtype, SchemaEncoding.ROS2, text.encode()),
                serialize_dynamic(msgtype, text)[msgtype])
        schema_id, encode = schema
        metadata = {'offered_qos_profiles': qos_profile_yaml(msgtype)}  # rosbag2's keys
        digest = type_hash(msgtype)
        if digest:
            metadata['topic_type_hash'] = digest
        channel_id = self._writer.register_channel(topic, MessageEncoding.CDR, schema_id,
                                                   metadata)
        self._channels[topic] = (channel_id, encode)
        return self._channels[topic]

    def _open_file(self) -> None:
        path = self.directory / f'{self.name}_{len(self._files)}.mcap'
        self._stream = self._opener(path)
        # Small chunks: a recorder killed mid-flight loses at most the chunk being filled.
        chunk = int(min(2**18, max(4096, self.settings.split_mib * 2**20 / 8)))
        self._writer = McapWriter(self._stream, chunk_size=chunk)
        self._writer.start(profile=Profile.ROS2, library='ministral_node recorder')
        # No 'rosbag2' metadata record: rosbag2 warns when one lacks its serialized metadata,
        # and reads the integer QoS enums of offered_qos_profiles without one.
        if self.metadata:
            self._writer.add_metadata(METADATA_NAME, self.metadata)
        self._schemas, self._channels, self._sequence = {}, {}, {}
        self._files.append(_FileInfo(path.name))
        self.stats.files.append(str(path))
        self._file_started = self.clock.now()

    def _finish_file(self) -> None:
        writer, stream = self._writer, self._stream
        self._writer = self._stream = None
        if writer is None:
            return
        try:
            writer.finish()
            self.stats.bytes += stream.tell()
        finally:
            stream.close()

    def _write_bag_metadata(self) -> None:
        """rosbag2's metadata.yaml (version 5, read by every rosbag2 since Humble)."""
        files = [f for f in self._files if f.start_ns is not None]
        start = min((f.start_ns for f in files), default=0)
        end = max((f.end_ns for f in files), default=0)
        info = {'rosbag2_bagfile_information': {
            'version': 5, 'storage_identifier': 'mcap',
            'duration': {'nanoseconds': end - start},
            'starting_time': {'nanoseconds_since_epoch': start},
            'message_count': self.stats.recorded,
            'topics_with_message_count': [
                {'topic_metadata': {'name': topic, 'type': t.msgtype,
                                    'serialization_format': 'cdr',
                                    'offered_qos_profiles': qos_profile_yaml(t.msgtype)},
                 'message_count': t.count} for topic, t in self._topics.items()],
            'compression_format': '', 'compression_mode': '',
            'relative_file_paths': [f.path for f in self._files],
            'files': [{'path': f.path,
                       'starting_time': {'nanoseconds_since_epoch': f.start_ns or 0},
                       'duration': {'nanoseconds': f.end_ns - (f.start_ns or f.end_ns)},
                       'message_count': f.count} for f in self._files]}}
        (self.directory / 'metadata.yaml').write_text(yaml.safe_dump(info, sort_keys=False),
                                                      encoding='utf-8')

    def _drain(self) -> None:
        """After a failure: empty the queue (counting it dropped) and close what is open."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                with self._lock:
                    self.stats.dropped += 1
        try:
            if self._stream is not None:
                self._stream.close()
        except OSError:
            pass
        self._writer = self._stream = None

    def _stop_with(self, reason: str) -> None:
        self._running = False
        self.stats.stopped = reason
        log.warning('recorder: %s', reason)
        self.health.set(COMPONENT, WARN, reason, **self._values())

    def _report(self, force: bool = False, message: str | None = None) -> None:
        now = self.clock.now()
        if not force and now - self._last_health < 1.0:
            return
        self._last_health = now
        self.health.set(COMPONENT, OK, message or f'recording to {self.directory}',
                        **self._values())

    def _values(self) -> dict[str, object]:
        return {'recorded': self.stats.recorded, 'dropped': self.stats.dropped,
                'throttled_frames': self.stats.throttled, 'files': len(self.stats.files)}


def recording_metadata(params: Mapping[str, Any], roles: Mapping[str, str]) -> dict[str, str]:
    """The `ministral_node` metadata record: the parameter values the decisions were made
    with and which topic plays which role (camera, command, decision, pose, battery, ...), so
    `ministral-replay` needs neither."""
    return {'params': json.dumps(dict(params), ensure_ascii=False),
            'roles': json.dumps(dict(roles))}


def _reason(exc: BaseException) -> str:
    return exc.strerror or str(exc) if isinstance(exc, OSError) else str(exc)
