"""Decision target boxes as visualization_msgs/ImageMarker fields (~/annotations)."""

import json

import pytest
from geometry_msgs.msg import Point
from std_msgs.msg import ColorRGBA
from visualization_msgs.msg import ImageMarker

from ministral_node.cli.demo import TOPICS
from ministral_node.decision import (
    FrameInfo,
    Proposal,
    SafetyChange,
    SafetyReport,
    Target,
    make_decision,
)
from ministral_node.recording.annotations import (
    COLORS,
    POLYGON,
    box_marker,
    decision_marker,
    fill_message,
    remove_marker,
    time_fields,
)
from ministral_node.resources import config_path

MISSION_TOPIC = '/ministral_node/mission'  # the mission status (std_msgs/String JSON)


def _decision(box=(0.25, 0.5, 0.75, 1.0), frame=True, target=True):
    """A land decision the envelope modified, on a 640x480 frame."""
    return make_decision(
        Proposal('land', {}, Target('blue car', box) if target else None),
        source='rules', stamp=13.0, latency_ms=1.0,
        frame=FrameInfo(12.25, 'cam', 0.1, 640, 480) if frame else None,
        safety=SafetyReport((SafetyChange('params.distance_m', 3.0, 10.0, 'too close'),)))


def test_a_box_becomes_a_closed_pixel_polygon_stamped_with_its_frame():
    marker = decision_marker(_decision(), marker_id=4)
    assert marker['type'] == POLYGON == ImageMarker.POLYGON and marker['id'] == 4
    assert [(p['x'], p['y']) for p in marker['points']] == [
        (160.0, 240.0), (480.0, 240.0), (480.0, 480.0), (160.0, 480.0)]
    assert marker['header'] == {'stamp': {'sec': 12, 'nanosec': 250_000_000},
                                'frame_id': 'cam'}
    colour = marker['outline_color']
    assert (colour['r'], colour['g'], colour['b'], colour['a']) == COLORS['modified']


def test_boxes_are_clamped_and_ordered():
    marker = box_marker([1.2, 0.8, -0.1, 0.2], 100, 50, stamp_s=0.0)
    xs = [p['x'] for p in marker['points']]
    ys = [p['y'] for p in marker['points']]
    assert (min(xs), max(xs), min(ys), max(ys)) == (0.0, 100.0, 10.0, 40.0)


@pytest.mark.parametrize('decision', [_decision(box=None), _decision(frame=False),
                                      _decision(target=False)])
def test_no_marker_without_a_box_or_a_frame(decision):
    assert decision_marker(decision) is None


@pytest.mark.parametrize('box, size', [([0.1, 0.2, 0.3], (10, 10)), ([0, 0, 1, 1], (0, 10))])
def test_bad_boxes_and_sizes_are_refused(box, size):
    with pytest.raises(ValueError):
        box_marker(box, *size, stamp_s=0.0)


def test_fields_fill_a_real_image_marker():
    marker = fill_message(ImageMarker(), decision_marker(_decision()),
                          {'points': Point, 'outline_colors': ColorRGBA})
    assert isinstance(marker.points[0], Point) and marker.points[2].y == 480.0
    assert marker.header.stamp.nanosec == 250_000_000 and marker.scale == 3.0


def test_a_remove_marker_names_the_box_it_clears():
    marker = fill_message(ImageMarker(), remove_marker(3.0), {})
    assert (marker.action, marker.ns, marker.id) == (ImageMarker.REMOVE,
                                                     decision_marker(_decision())['ns'], 0)


def test_time_fields_round_to_nanoseconds():
    assert time_fields(1.5) == {'sec': 1, 'nanosec': 500_000_000}


def _panels(node):
    if isinstance(node, str):
        return [node]
    return _panels(node['first']) + _panels(node['second'])


def test_the_foxglove_layout_shows_the_recorded_topics():
    layout = json.loads(config_path('foxglove_layout.json').read_text())
    panels = _panels(layout['layout'])
    assert sorted(panels) == sorted(layout['configById'])
    camera = layout['configById']['Image!camera']['imageMode']
    assert camera['imageTopic'] == TOPICS['camera'] + '/compressed'  # as the recorder names it
    detections = TOPICS['decision'].rsplit('/', 1)[0] + '/detections'
    assert set(camera['annotations']) == {TOPICS['annotations'],
                                          detections.replace('detections', 'detection_markers')}
    paths = {c.get('topicPath', '').split('.')[0] for c in layout['configById'].values()}
    assert {TOPICS['decision'], MISSION_TOPIC, detections} <= paths
    diagnostics = layout['configById']['DiagnosticSummary!diagnostics']['topicToRender']
    assert diagnostics == TOPICS['diagnostics']
