"""The flight recorder: MCAP any reader can read, throttling, never blocking, splitting, and
stopping with WARN (not failing) when the disk or directory fails."""

import errno
import io
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Point, PoseStamped
from mcap.reader import make_reader
from rclpy.serialization import serialize_message
from recording_support import image_message, read_back
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import BatteryState
from std_msgs.msg import ColorRGBA, Header, String
from visualization_msgs.msg import ImageMarker

from ministral_node import parameters
from ministral_node.health import OK, WARN, HealthBoard
from ministral_node.recording.annotations import box_marker, fill_message
from ministral_node.recording.msgdefs import RECORDED_TYPES, full_definition
from ministral_node.recording.msgdefs_data import MSG_TEXTS, TYPE_HASHES
from ministral_node.recording.recorder import Recorder, RecorderSettings
from ministral_node.timing import FakeClock
from ministral_node.tools import msgdefs_generator as msgdefs_tool

RGB = np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)


def _recorder(tmp_path, clock=None, health=None, **settings):
    clock = clock or FakeClock()
    recorder = Recorder(RecorderSettings(str(tmp_path), **settings), clock, health,
                        name='rec', stamp_clock=clock)
    return recorder


def test_every_topic_type_reads_back_with_an_independent_reader(tmp_path):
    recorder = _recorder(tmp_path)
    assert recorder.start()
    pose = PoseStamped()
    pose.pose.position.x, pose.pose.position.z = 3.5, 20.0
    diagnostics = DiagnosticArray(status=[DiagnosticStatus(
        level=b'\x01', name='ministral_node: recorder', message='m',
        values=[KeyValue(key='dropped', value='0')])])
    marker = fill_message(ImageMarker(), box_marker([0.1, 0.2, 0.5, 0.6], 64, 48, stamp_s=7.5),
                          {'points': Point, 'outline_colors': ColorRGBA})
    sent = [
        ('/cam/image_raw', 'sensor_msgs/msg/Image', image_message(RGB, 5)),
        ('/node/command', 'std_msgs/msg/String', String(data='Monte à 35 mètres')),
        ('/pose', 'geometry_msgs/msg/PoseStamped', pose),
        ('/battery', 'sensor_msgs/msg/BatteryState', BatteryState(percentage=0.8)),
        ('/heartbeat', 'std_msgs/msg/Header', Header(frame_id='ground')),
        ('/clock', 'rosgraph_msgs/msg/Clock', Clock(clock=Time(sec=12, nanosec=5))),
        ('/node/decision', 'std_msgs/msg/String', {'data': '{"action": "land"}'}),
        ('/node/mission', 'std_msgs/msg/String', String(data='{"state": "running"}')),
        ('/diagnostics', 'diagnostic_msgs/msg/DiagnosticArray', diagnostics),
        ('/node/annotations', 'visualization_msgs/msg/ImageMarker', marker),
    ]
    for stamp, (topic, msgtype, message) in enumerate(sent, start=1):
        assert recorder.record(topic, msgtype, message, stamp * 1000)
    stats = recorder.close()
    assert (stats.recorded, stats.dropped, stats.failed) == (len(sent), 0, 0)

    found = {topic: (schema, log_time, decoded)
             for topic, schema, log_time, decoded in read_back(recorder.directory)}
    assert sorted(found) == sorted(['/cam/image_raw/compressed'] + [t for t, _, _ in sent[1:]])
    image = found['/cam/image_raw/compressed'][2]
    assert image.format == 'rgb8; jpeg compressed bgr8' and image.header.frame_id == 'cam'
    pixels = cv2.imdecode(np.frombuffer(bytes(image.data), np.uint8), cv2.IMREAD_COLOR)
    assert pixels.shape == (48, 64, 3)
    assert found['/node/command'][2].data == 'Monte à 35 mètres'
    assert found['/pose'][2].pose.position.x == 3.5
    assert found['/battery'][2].percentage == pytest.approx(0.8)
    assert found['/clock'][2].clock.sec == 12
    assert found['/node/decision'][2].data == '{"action": "land"}'
    assert found['/diagnostics'][2].status[0].level == 1
    assert found['/diagnostics'][2].status[0].values[0].key == 'dropped'
    drawn = found['/node/annotations'][2]
    assert [c for p in drawn.points for c in (p.x, p.y)] == pytest.approx(
        [6.4, 9.6, 32.0, 9.6, 32.0, 28.8, 6.4, 28.8])
    assert found['/node/annotations'][1] == 10_000

    with open(stats.files[0], 'rb') as stream:
        reader = make_reader(stream)
        summary = reader.get_summary()
        assert reader.get_header().profile == 'ros2'
    for channel in summary.channels.values():
        schema = summary.schemas[channel.schema_id]
        assert channel.message_encoding == 'cdr' and schema.encoding == 'ros2msg'
        assert schema.data.decode() == full_definition(schema.name)
        assert channel.metadata['topic_type_hash'] == TYPE_HASHES[schema.name]
        qos = yaml.safe_load(channel.metadata['offered_qos_profiles'])
        assert qos[0]['reliability'] == (2 if channel.topic in (
            '/cam/image_raw/compressed', '/pose', '/battery') else 1)

    info = yaml.safe_load((recorder.directory / 'metadata.yaml').read_text())
    bag = info['rosbag2_bagfile_information']
    assert bag['storage_identifier'] == 'mcap' and bag['message_count'] == len(sent)
    assert bag['relative_file_paths'] == [Path(stats.files[0]).name]
    assert {t['topic_metadata']['name']: t['message_count']
            for t in bag['topics_with_message_count']}['/pose'] == 1


def test_shipped_schemas_match_the_installed_message_packages():
    share = Path(sys.prefix) / 'share'
    if not (share / 'std_msgs' / 'msg' / 'String.msg').is_file():
        pytest.skip('no ROS message packages installed in this environment')
    for name, text in MSG_TEXTS.items():
        package, _, message = name.split('/')
        assert (share / package / 'msg' / f'{message}.msg').read_text() == text, name
    assert set(RECORDED_TYPES) <= set(MSG_TEXTS) and set(TYPE_HASHES) == set(RECORDED_TYPES)
    assert msgdefs_tool.render(*msgdefs_tool.collect(share)) == \
        msgdefs_tool.OUTPUT.read_text(), \
        'regenerate: python -m ministral_node.tools.msgdefs_generator'


def test_serialized_messages_from_raw_subscriptions_are_written_as_they_are(tmp_path):
    recorder = _recorder(tmp_path)
    recorder.start()
    recorder.record('/command', 'std_msgs/msg/String', serialize_message(String(data='land')), 1)
    recorder.close()
    assert [m[3].data for m in read_back(recorder.directory)] == ['land']


def test_frames_are_throttled_and_a_command_keeps_the_frame_it_is_decided_on(tmp_path):
    clock = FakeClock(0.0)
    recorder = _recorder(tmp_path, clock, image_rate_hz=2.0)
    recorder.start()
    for tick in range(10):  # 10 Hz camera for 1 s
        recorder.record('/cam', 'sensor_msgs/msg/Image', image_message(RGB, tick), tick * 100)
        if tick in (3, 5):  # after a held frame, and right after one that went at the rate
            recorder.record('/command', 'std_msgs/msg/String', String(data='land'),
                            tick * 100 + 50, flush_images=True)
        clock.advance(0.1)
    stats = recorder.close()
    back = read_back(recorder.directory)
    kept = [(topic, log_time, m.format.split(';')[1].split()[0] if 'compressed' in topic
             else '') for topic, _, log_time, m in back]
    # the frames the commands were decided on are there losslessly (the 500 one twice: its
    # JPEG went at the rate, then the PNG; replay takes the last frame of a stamp)
    assert kept == [('/cam/compressed', 0, 'jpeg'), ('/cam/compressed', 300, 'png'),
                    ('/command', 350, ''), ('/cam/compressed', 500, 'jpeg'),
                    ('/cam/compressed', 500, 'png'), ('/command', 550, '')]
    assert stats.throttled == 7
    for topic, _, _, message in back:
        if 'compressed' in topic and 'png' in message.format:
            decoded = cv2.imdecode(np.frombuffer(message.data, np.uint8), cv2.IMREAD_COLOR)
            assert np.array_equal(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), RGB)


def test_no_frames_at_rate_zero(tmp_path):
    recorder = _recorder(tmp_path, image_rate_hz=0.0)
    recorder.start()
    assert not recorder.record('/cam', 'sensor_msgs/msg/Image', image_message(RGB, 1), 1)
    recorder.close()
    assert read_back(recorder.directory) == []


class _Gate(dict):
    """A message whose encoding waits until the gate opens: a writer that cannot keep up."""

    def __init__(self, gate: threading.Event, **fields) -> None:
        super().__init__(**fields)
        self.gate = gate

    def __getitem__(self, key):
        self.gate.wait(10)
        return super().__getitem__(key)


def test_a_full_queue_drops_and_counts_instead_of_blocking(tmp_path):
    gate = threading.Event()
    health = HealthBoard(FakeClock())
    recorder = _recorder(tmp_path, health=health, queue_depth=3)
    recorder.start()
    accepted = [recorder.record('/command', 'std_msgs/msg/String', _Gate(gate, data=str(i)), i)
                for i in range(20)]
    gate.set()
    stats = recorder.close()
    assert accepted[:3] == [True] * 3 and sum(accepted) <= 4
    assert stats.dropped == 20 - sum(accepted)
    assert stats.recorded == sum(accepted)
    assert health.snapshot_of('recorder').values['dropped'] == str(stats.dropped)


def test_a_writer_that_falls_behind_holds_few_frames(tmp_path):
    gate = threading.Event()
    clock = FakeClock(0.0)
    recorder = _recorder(tmp_path, clock, queue_depth=100, image_rate_hz=100.0,
                         max_queued_frames=3)
    recorder.start()
    recorder.record('/command', 'std_msgs/msg/String', _Gate(gate, data='first'), 0)
    kept = []
    for tick in range(10):  # frames at the recording rate while the writer is stuck
        kept.append(recorder.record('/cam', 'sensor_msgs/msg/Image',
                                    image_message(RGB, tick), tick + 1))
        clock.advance(0.1)
    gate.set()
    stats = recorder.close()
    assert sum(kept) == 3 and stats.dropped == 10 - 3
    assert stats.recorded == 1 + 3


class _FullDisk(io.RawIOBase):
    """A file that fails with ENOSPC once `room` bytes are written."""

    def __init__(self, room: int) -> None:
        self.room, self.written = room, 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if self.written + len(data) > self.room:
            raise OSError(errno.ENOSPC, 'No space left on device')
        self.written += len(data)
        return len(data)

    def tell(self) -> int:
        return self.written


def test_a_full_disk_stops_recording_with_warn_and_never_raises_to_the_caller(tmp_path):
    health = HealthBoard(FakeClock())
    recorder = Recorder(RecorderSettings(str(tmp_path), split_mib=0.01), FakeClock(), health,
                        name='rec', opener=lambda path: _FullDisk(2000))
    assert recorder.start()
    noise = np.random.default_rng(1).integers(0, 255, 3000, dtype=np.uint8).tobytes().hex()
    accepted = [recorder.record('/decision', 'std_msgs/msg/String', String(data=noise), i)
                for i in range(5)]
    stats = recorder.close()
    assert all(accepted) and stats.recorded < 5
    state = health.snapshot_of('recorder')
    assert state.level == WARN and 'No space left on device' in state.message
    assert stats.stopped is not None and not recorder.recording
    assert not recorder.record('/command', 'std_msgs/msg/String', String(data='land'), 9)


def test_an_unwritable_directory_is_a_warn_not_a_crash(tmp_path):
    blocker = tmp_path / 'a_file'
    blocker.write_text('not a directory')
    health = HealthBoard(FakeClock())
    recorder = _recorder(blocker, health=health)
    assert not recorder.start()
    state = health.snapshot_of('recorder')
    assert state.level == WARN and str(blocker) in state.message
    assert not recorder.record('/command', 'std_msgs/msg/String', String(data='land'), 1)


def test_files_split_by_size_and_every_file_stands_alone(tmp_path):
    recorder = _recorder(tmp_path, split_mib=0.05)
    recorder.start()
    rng = np.random.default_rng(2)
    for i in range(30):  # 30 messages of 8 KB of random data (as hex) over 50 KB files
        data = rng.integers(0, 255, 8192, np.uint8).tobytes().hex()
        assert recorder.record('/decision', 'std_msgs/msg/String', String(data=data), i)
    stats = recorder.close()
    assert len(stats.files) >= 4
    assert [m[2] for m in read_back(recorder.directory)] == list(range(30))
    info = yaml.safe_load((recorder.directory / 'metadata.yaml').read_text())
    files = info['rosbag2_bagfile_information']['files']
    assert sum(f['message_count'] for f in files) == 30 and len(files) == len(stats.files)


def test_files_split_by_duration(tmp_path):
    clock = FakeClock(0.0)
    recorder = _recorder(tmp_path, clock, split_s=10.0)
    recorder.start()
    clock.advance(11.0)
    recorder.record('/command', 'std_msgs/msg/String', String(data='one'), 1)
    recorder.record('/command', 'std_msgs/msg/String', String(data='two'), 2)
    stats = recorder.close()
    assert len(stats.files) == 2
    assert [m[3].data for m in read_back(recorder.directory)] == ['one', 'two']


def test_a_message_that_cannot_be_encoded_is_counted_and_recording_goes_on(tmp_path):
    health = HealthBoard(FakeClock())
    recorder = _recorder(tmp_path, health=health)
    recorder.start()
    broken = image_message(RGB, 1)
    broken.encoding = 'yuv-unknown'
    recorder.record('/cam', 'sensor_msgs/msg/Image', broken, 1)
    recorder.record('/command', 'std_msgs/msg/String', String(data='land'), 2)
    stats = recorder.close()
    assert (stats.failed, stats.recorded) == (1, 1)
    assert health.snapshot_of('recorder').level == OK


def test_settings_come_from_the_parameters():
    values = parameters.with_changes(parameters.defaults(), {
        'record_dir': '/tmp/flights', 'record_image_rate_hz': 5, 'record_split_mib': 64,
        'record_split_s': 60, 'record_queue_depth': 32})
    settings = RecorderSettings.from_params(values)
    assert (settings.directory, settings.image_rate_hz, settings.split_mib, settings.split_s,
            settings.queue_depth) == ('/tmp/flights', 5.0, 64.0, 60.0, 32)
    assert settings.enabled and not RecorderSettings.from_params(parameters.defaults()).enabled
