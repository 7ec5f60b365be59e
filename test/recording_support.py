"""Helpers for recorder and replay tests: an independent MCAP reader and a recorded run."""

from __future__ import annotations

from pathlib import Path

from geometry_msgs.msg import PoseStamped
from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory
from sensor_msgs.msg import BatteryState, Image
from std_msgs.msg import String

from ministral_node import parameters
from ministral_node.core.pipeline import DecisionPipeline
from ministral_node.core.settings import Settings
from ministral_node.inputs.camera import EncodedFrame, LatestFrame
from ministral_node.inputs.image_conversion import RawImage, encode_raw
from ministral_node.inputs.vehicle import VehicleState, battery_percent
from ministral_node.recording.annotations import decision_marker
from ministral_node.recording.recorder import Recorder, RecorderSettings, recording_metadata
from ministral_node.sources.factory import build_sources, close_sources
from ministral_node.timing import FakeClock

ROLES = {'camera': '/cam/image_raw', 'command': '/ministral_node/command',
         'decision': '/ministral_node/decision', 'pose': '/pose', 'battery': '/battery',
         'annotations': '/ministral_node/annotations'}


def read_back(folder: Path) -> list[tuple]:
    """(topic, schema name, log time, decoded) of every message in a recording folder, read
    with the plain `mcap` reader and the `mcap_ros2` decoder, file after file."""
    found = []
    for path in sorted(folder.glob('*.mcap'), key=lambda p: int(p.stem.rsplit('_', 1)[1])):
        with open(path, 'rb') as stream:
            reader = make_reader(stream, decoder_factories=[DecoderFactory()])
            for schema, channel, message, decoded in reader.iter_decoded_messages(
                    log_time_order=True):
                found.append((channel.topic, schema.name, message.log_time, decoded))
    return found


def image_message(rgb, stamp_ns: int, frame_id: str = 'cam') -> Image:
    raw = encode_raw(rgb, 'rgb8')
    msg = Image(width=raw.width, height=raw.height, encoding=raw.encoding, step=raw.step,
                data=raw.data)
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
    msg.header.frame_id = frame_id
    return msg


def record_run(directory: Path, values: dict, commands: list[str], rgb,
               altitude_m: float = 20.0) -> tuple[Path, list[dict]]:
    """Drive a recorder and a pipeline as the node does: camera at 5 Hz, pose and battery at
    10 Hz, one command a second; returns the recording folder and the decisions made."""
    clock = FakeClock(1_000.0)
    recorder = Recorder(RecorderSettings(str(directory), max_queued_frames=100), clock, name='run',
                        metadata=recording_metadata(values, ROLES), stamp_clock=clock)
    assert recorder.start()
    frames = LatestFrame()
    vehicle = {'state': VehicleState()}
    sources = build_sources(values)
    pipeline = DecisionPipeline.from_settings(
        Settings.from_values(values), sources, frames, clock, clock,
        vehicle=lambda: vehicle['state'])
    decisions = []
    try:
        for tick in range(10 * (len(commands) + 1)):
            now = clock.now()
            ns = round(now * 1e9)
            if tick % 2 == 0:
                msg = image_message(rgb, ns)
                frames.store(EncodedFrame(RawImage(msg.width, msg.height, msg.encoding,
                                                   msg.step, memoryview(msg.data)),
                                          now, 'cam', now))
                recorder.record(ROLES['camera'], 'sensor_msgs/msg/Image', msg, ns)
            pose = PoseStamped()
            pose.pose.position.z = altitude_m
            pose.pose.orientation.z = pose.pose.orientation.w = 0.5 ** 0.5
            battery = BatteryState(percentage=0.8)
            vehicle['state'] = vehicle['state'].with_pose(0.0, 0.0, altitude_m, 0.0, now) \
                .with_battery(battery_percent(battery.percentage), now)
            recorder.record(ROLES['pose'], 'geometry_msgs/msg/PoseStamped', pose, ns)
            recorder.record(ROLES['battery'], 'sensor_msgs/msg/BatteryState', battery, ns)
            if tick % 10 == 5 and tick // 10 < len(commands):
                text = commands[tick // 10]
                recorder.record(ROLES['command'], 'std_msgs/msg/String', String(data=text), ns,
                                flush_images=True)
                clock.advance(0.01)
                decision = pipeline.decide(text, received=now)
                decisions.append(decision)
                ns = round(clock.now() * 1e9)
                recorder.record(ROLES['decision'], 'std_msgs/msg/String',
                                String(data=decision.to_json()), ns)
                marker = decision_marker(decision)
                if marker is not None:
                    recorder.record(ROLES['annotations'], 'visualization_msgs/msg/ImageMarker',
                                    marker, ns)
            clock.set(1_000.0 + (tick + 1) * 0.1)
    finally:
        close_sources(sources)
        recorder.close()
    return recorder.directory, decisions


def params_with(**changes) -> dict:
    return parameters.with_changes(parameters.defaults(), changes)
