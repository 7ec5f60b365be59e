"""~/detections: the JSON of each scene the detector produces (ROS-free core), its boxes as
ImageMarker fields, and one message per scene (never again for a cached scene)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from detector_models import H, W, build_detector

from ministral_node.health import HealthBoard
from ministral_node.inputs.camera import Frame
from ministral_node.perception.detector import DetectorSettings
from ministral_node.perception.service import DetectorService, scene_dict
from ministral_node.recording.annotations import DETECTIONS_NAMESPACE, POLYGON, detection_markers
from ministral_node.timing import FakeClock


def _service(tmp_path) -> DetectorService:
    model = build_detector(tmp_path / 'pads.onnx', names="{0: 'pad', 1: 'car', 2: 'person'}")
    service = DetectorService(DetectorSettings(str(model)), HealthBoard(FakeClock()))
    service.load()
    assert service.available
    return service


def _frame(stamp: float = 5.0) -> Frame:
    image = np.zeros((H, W, 3), np.uint8)
    image[100:160, 20:80] = (230, 20, 20)  # red: class 0, a red pad on the left
    image[40:80, 250:300] = (20, 20, 230)  # blue: class 2, a blue person on the right
    return Frame(image, stamp, 'cam', stamp)


def test_the_detections_message_has_the_frame_timing_and_every_box(tmp_path):
    service = _service(tmp_path)
    fields = scene_dict(service.see(_frame()))
    json.dumps(fields)  # published as JSON
    assert fields['frame'] == {'stamp': 5.0, 'frame_id': 'cam', 'width': W, 'height': H}
    assert fields['model'] == 'pads.onnx'
    assert fields['detect_ms'] > 0 and fields['count'] == 2
    by_label = {d['label']: d for d in fields['detections']}
    pad, person = by_label['pad'], by_label['person']
    assert set(pad) == {'label', 'class_id', 'score', 'box_px', 'box', 'color', 'color_share',
                        'bearing'}
    assert (pad['class_id'], pad['color'], pad['bearing']) == (0, 'red', 'left')
    assert pad['score'] == pytest.approx(0.9)
    assert pad['box_px'] == pytest.approx([20, 100, 80, 160], abs=2)
    assert pad['box'] == pytest.approx([20 / W, 100 / H, 80 / W, 160 / H], abs=0.01)
    assert (person['class_id'], person['color'], person['bearing']) == (2, 'blue', 'right')


def test_one_message_per_scene_never_again_for_a_cached_scene(tmp_path):
    service = _service(tmp_path)
    published = []
    service.on_scene = lambda scene: published.append(scene_dict(scene))
    frame = _frame()
    first = service.see(frame)
    assert service.see(frame) is first  # the decision on the timer's frame: cached
    assert len(published) == 1
    service.see(_frame(6.0))
    assert [p['frame']['stamp'] for p in published] == [5.0, 6.0]


def test_a_failing_listener_never_stops_the_detector(tmp_path):
    service = _service(tmp_path)

    def broken(scene):
        raise RuntimeError('publisher gone')

    service.on_scene = broken
    assert service.see(_frame()) is not None


def test_an_empty_scene_is_still_one_message():
    from ministral_node.perception.service import Scene

    fields = scene_dict(Scene((), ('pad',), 1.5, 320, 240, 3.0))
    assert fields['count'] == 0 and fields['detections'] == []
    assert detection_markers(fields) == []


def test_each_detection_is_a_polygon_marker_in_frame_pixels(tmp_path):
    service = _service(tmp_path)
    fields = scene_dict(service.see(_frame()))
    markers = detection_markers(fields, lifetime_s=0.5)
    assert [m['id'] for m in markers] == [0, 1]
    assert all(m['ns'] == DETECTIONS_NAMESPACE and m['type'] == POLYGON for m in markers)
    assert markers[0]['header'] == {'stamp': {'sec': 5, 'nanosec': 0}, 'frame_id': 'cam'}
    assert markers[0]['lifetime'] == {'sec': 0, 'nanosec': 500_000_000}
    box = fields['detections'][0]['box_px']
    xs = [p['x'] for p in markers[0]['points']]
    assert min(xs) == pytest.approx(box[0], abs=1) and max(xs) == pytest.approx(box[2], abs=1)


def test_a_decisions_frame_is_published_once_and_the_timer_reuses_it(tmp_path):
    from support import ScriptedDecider

    from ministral_node.core.pipeline import DecisionPipeline
    from ministral_node.core.settings import Settings
    from ministral_node.decision import Proposal, Target
    from ministral_node.inputs.camera import LatestFrame

    model = build_detector(tmp_path / 'pads.onnx', names="{0: 'pad', 1: 'car', 2: 'person'}")
    clock, frames = FakeClock(), LatestFrame()
    rules = ScriptedDecider('rules', Proposal('land', {}, Target('red pad'), 0.8, 'asked'))
    pipeline = DecisionPipeline.from_settings(
        Settings.from_values({'detector_model': str(model), 'detector_providers': ['cpu']}),
        [rules], frames, clock, FakeClock(1_700_000_000.0), HealthBoard(clock))
    published = []
    pipeline.perception.on_scene = lambda scene: published.append(scene_dict(scene))
    frame = _frame()
    frames.store(Frame(frame.image, 5.0, 'cam', clock.now()))
    decision = pipeline.decide('land on the red pad')
    assert decision.grounding['status'] == 'grounded'
    pipeline.detect_newest()  # the timer on the same frame: the cached scene, not published
    assert [(p['frame']['stamp'], p['count']) for p in published] == [(5.0, 2)]
