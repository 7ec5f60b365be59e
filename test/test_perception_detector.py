"""The Ultralytics-layout detector: letterbox, boxes back in frame pixels, NMS, class filter,
thresholds, and each kind of unusable model (no ROS)."""

from __future__ import annotations

from array import array
from dataclasses import replace

import numpy as np
import pytest
from detector_models import build_detector, detector

from ministral_node import parameters
from ministral_node.perception.detector import (
    CORRUPT,
    LAYOUT,
    MISSING,
    NAMES,
    Candidates,
    Detector,
    DetectorModelError,
    DetectorSettings,
    iou,
    letterbox,
    merge_scales,
    nms,
    parse_names,
)


def settings(**changes) -> DetectorSettings:
    return replace(DetectorSettings(model=str(detector()), providers=('cpu',)), **changes)


def frame(height: int, width: int, squares: list[tuple[int, int, int, int, tuple]]
          ) -> np.ndarray:
    image = np.zeros((height, width, 3), np.uint8)
    for x0, y0, x1, y1, color in squares:
        image[y0:y1, x0:x1] = color
    return image


def test_letterbox_keeps_the_aspect_and_centres_on_grey():
    image = np.full((240, 320, 3), 200, np.uint8)
    fitted, fit = letterbox(image, (64, 64))
    assert fitted.shape == (64, 64, 3) and fit.scale == pytest.approx(0.2)
    assert (fit.left, fit.top) == (0, 8)
    assert (fitted[:8] == 114).all() and (fitted[-8:] == 114).all()
    assert (fitted[8:56] == 200).all()
    tall, fit = letterbox(np.zeros((320, 160, 3), np.uint8), (64, 64))
    assert (fit.left, fit.top) == (16, 0) and (tall[:, :16] == 114).all()
    # A model with dynamic height and width: padded only to the next multiple of the stride.
    fitted, fit = letterbox(image, (640, 640), stride=32)
    assert fitted.shape == (480, 640, 3) and (fit.scale, fit.left, fit.top) == (2.0, 0, 0)
    fitted, fit = letterbox(image, (320, 320), stride=32)
    assert fitted.shape == (256, 320, 3) and (fit.left, fit.top) == (0, 8)
    assert (fitted[:8] == 114).all() and (fitted[8:248] == 200).all()


@pytest.mark.parametrize('height, width, size', [
    (240, 320, 64),     # landscape: padded top and bottom
    (480, 640, 0),      # 0: the model's own input size (64)
    (320, 160, 64),     # portrait: padded left and right
    (64, 64, 64),       # no resize at all
])
def test_a_bright_square_is_found_where_it_is_in_frame_pixels(height, width, size):
    scale = 64 / max(height, width)
    x0, y0 = int(width * 0.25), int(height * 0.5)
    x1, y1 = x0 + int(width * 0.25), y0 + int(height * 0.25)
    image = frame(height, width, [(x0, y0, x1, y1, (255, 0, 0))])
    (found,) = Detector(settings(input_size=size)).detect(image)
    assert found.label == 'red' and found.class_id == 0 and found.score == pytest.approx(0.9)
    tolerance = 1.0 / scale + 0.5  # one input pixel
    assert found.box_px == pytest.approx((x0, y0, x1, y1), abs=tolerance)
    assert found.box == pytest.approx((x0 / width, y0 / height, x1 / width, y1 / height),
                                      abs=tolerance / min(width, height))
    assert found.to_dict()['box_px'] == [round(v, 1) for v in found.box_px]


def test_nms_removes_duplicates_of_a_class_but_not_other_classes_on_the_same_box():
    # A white square is bright in every channel: red, green and blue fire on the same box;
    # each also has a shrunk duplicate at a lower score that NMS must remove.
    image = frame(240, 320, [(100, 60, 180, 140, (255, 255, 255))])
    found = Detector(settings()).detect(image)
    assert sorted(d.label for d in found) == ['blue', 'green', 'red']
    assert all(d.score == pytest.approx(0.9) for d in found)
    loose = Detector(settings(iou_threshold=0.99)).detect(image)  # duplicates overlap < 0.99
    assert len(loose) == 6 and sorted({d.score for d in loose})[0] == pytest.approx(0.72)


def test_the_score_threshold_and_the_classes_to_keep_filter():
    image = frame(240, 320, [(20, 20, 80, 80, (255, 0, 0)), (200, 100, 260, 180, (0, 0, 255))])
    assert {d.label for d in Detector(settings()).detect(image)} == {'red', 'blue'}
    only_blue = Detector(settings(classes=('blue',))).detect(image)
    assert [d.label for d in only_blue] == ['blue']
    assert only_blue[0].box_px == pytest.approx((200, 100, 260, 180), abs=6)
    assert Detector(settings(score_threshold=0.95)).detect(image) == []
    tuned = Detector(settings())
    tuned.retune(settings(classes=('red',)))
    assert [d.label for d in tuned.detect(image)] == ['red']
    assert Detector(settings()).detect(frame(240, 320, [])) == []


def test_a_dynamic_input_model_takes_the_configured_size(tmp_path):
    path = build_detector(tmp_path / 'dynamic.onnx', size=None)
    image = frame(240, 320, [(100, 60, 160, 120, (0, 255, 0))])
    for size, expected in ((0, (640, 640)), (96, (96, 96))):
        model = Detector(settings(model=str(path), input_size=size))
        assert model.input_size == expected
        (found,) = model.detect(image)
        assert found.label == 'green'
        assert found.box_px == pytest.approx((100, 60, 160, 120), abs=320 / expected[0] + 0.5)


class _Inputs:
    """A session that records the input shapes it is run on."""

    def __init__(self, session) -> None:
        self.session, self.shapes = session, []

    def run(self, names, feeds):
        self.shapes += [tuple(v.shape) for v in feeds.values()]
        return self.session.run(names, feeds)


@pytest.mark.parametrize('split', [0.0, 32.0])
def test_several_input_sizes_run_on_each_frame_and_one_box_per_object_is_kept(tmp_path, split):
    path = build_detector(tmp_path / 'dynamic.onnx', size=None)
    image = frame(240, 320, [(100, 60, 160, 120, (0, 255, 0)), (20, 20, 26, 28, (255, 0, 0))])
    model = Detector(settings(model=str(path), input_sizes=(128, 0, 640, 128),
                              scale_split_px=split))
    assert model.input_sizes == [(128, 128), (640, 640)] and model.input_size == (128, 128)
    assert model.inputs == '128+640 fitted'
    model.session = _Inputs(model.session)
    found = sorted(model.detect(image), key=lambda d: d.label)
    # dynamic height and width: each input fitted to the frame, padded to a multiple of 32
    assert model.session.shapes == [(1, 3, 96, 128), (1, 3, 480, 640)]
    assert [d.label for d in found] == ['green', 'red']
    assert found[0].box_px == pytest.approx((100, 60, 160, 120), abs=3)
    assert found[1].box_px == pytest.approx((20, 20, 26, 28), abs=3)


def _run(scale: float, *boxes: tuple[float, float, float, float]) -> Candidates:
    return Candidates(np.array(boxes, float).reshape(-1, 4), np.linspace(0.9, 0.5, len(boxes)),
                      np.zeros(len(boxes), np.int64), scale)


def test_the_size_rule_takes_large_objects_from_the_small_input_and_small_from_the_large():
    big, small = (0, 0, 40, 60), (100, 100, 110, 104)  # shorter sides 40 and 4 frame px
    runs = [_run(2.0, big, small), _run(1.0, big, small)]  # a 640 and a 320 input, 320 frame
    boxes, scores, classes = merge_scales(runs, split_px=32)
    # from the 320 input the box measured 16 px or more there (32 px in the 640 input), from
    # the 640 input the ones under 32 px there
    assert boxes.tolist() == [list(big), list(small)] and scores.tolist() == [0.9, 0.5]
    assert classes.tolist() == [0, 0]
    boxes, _, _ = merge_scales(runs, split_px=0)  # no rule: every box, for NMS
    assert len(boxes) == 4
    three = [_run(1.0, big, small), _run(2.0, big, small), _run(4.0, big, small)]
    boxes, _, _ = merge_scales(three, split_px=64)  # each size from exactly one input
    assert sorted(map(tuple, boxes.tolist())) == sorted([big, small])


def test_names_default_when_the_metadata_has_none(tmp_path):
    path = build_detector(tmp_path / 'nameless.onnx', names=None)
    assert Detector(settings(model=str(path))).classes == ['class_0', 'class_1', 'class_2']


def _problem(**changes) -> DetectorModelError:
    with pytest.raises(DetectorModelError) as caught:
        Detector(settings(**changes))
    return caught.value


def test_a_missing_model_is_named(tmp_path):
    error = _problem(model=str(tmp_path / 'nope.onnx'))
    assert error.problem == MISSING and 'nope.onnx does not exist' in str(error)
    error = _problem(model=str(tmp_path))
    assert error.problem == MISSING and 'is not a file' in str(error)


def test_a_corrupt_model_is_named(tmp_path):
    path = tmp_path / 'broken.onnx'
    path.write_bytes(b'\x00not an onnx model at all' * 10)
    error = _problem(model=str(path))
    assert error.problem == CORRUPT and 'broken.onnx' in str(error)


@pytest.mark.parametrize('layout, message', [
    ('few_channels', 'has 4 channels; expected 4 box values + classes'),
    ('two_outputs', 'has 1 inputs and 2 outputs'),
])
def test_a_wrong_layout_is_named(tmp_path, layout, message):
    path = build_detector(tmp_path / f'{layout}.onnx', layout=layout)
    error = _problem(model=str(path))
    assert error.problem == LAYOUT and message in str(error)


def test_names_that_do_not_match_the_output_are_refused(tmp_path):
    path = build_detector(tmp_path / 'two_names.onnx', names="{0: 'red', 1: 'green'}")
    error = _problem(model=str(path))
    assert error.problem == LAYOUT and '3 class scores' in str(error) and 'names 2' in str(error)
    path = build_detector(tmp_path / 'garbled.onnx', names='{0: red')
    assert _problem(model=str(path)).problem == NAMES


def test_an_export_with_nms_inside_is_refused_saying_so(tmp_path):
    names = str({i: f'c{i}' for i in range(80)})
    path = build_detector(tmp_path / 'end2end.onnx', layout='end2end', names=names)
    error = _problem(model=str(path))
    assert error.problem == LAYOUT and 'looks like an export with NMS inside' in str(error)


def test_an_input_size_other_than_a_fixed_models_is_refused():
    error = _problem(input_size=320)
    assert error.problem == LAYOUT and 'takes 64x64 images; detector_input_size is 320' in str(
        error)
    error = _problem(input_sizes=(64, 320))
    assert error.problem == LAYOUT and 'takes 64x64 images; detector_input_sizes names 320' in (
        str(error))


def test_names_metadata_forms():
    assert parse_names("{0: 'person', 1: 'car'}", 2) == {0: 'person', 1: 'car'}
    assert parse_names("['a', 'b']", None) == {0: 'a', 1: 'b'}
    with pytest.raises(DetectorModelError, match='does not number its classes'):
        parse_names("{1: 'a'}", None)


def test_nms_and_iou_by_hand():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10], [50, 50, 60, 60]], float)
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    classes = np.array([0, 0, 1, 0])
    assert nms(boxes, scores, classes, 0.5) == [0, 2, 3]
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)


def test_detector_parameters_are_declared_and_checked():
    values = parameters.defaults()
    assert values['detector_model'] == '' and not DetectorSettings.from_values(values).enabled
    assert DetectorSettings.from_values({**values, 'detector_classes': ['car']}).classes == (
        'car',)
    assert parameters.problems({'detector_input_size': 100}) == [
        "detector_input_size: 100 is not a multiple of 32 (0 = the model's own)"]
    assert parameters.problems({'detector_input_sizes': [320, 100]}) == [
        "detector_input_sizes: 100 is not a multiple of 32 (0 = the model's own)"]
    assert parameters.problems({'detector_input_sizes': [320.0]})
    assert parameters.validate({**values, 'detector_input_sizes': array('q', [640, 320])})[
        'detector_input_sizes'] == [640, 320]  # as rclpy gives an integer array
    multi = DetectorSettings.from_values({**values, 'detector_input_sizes': [640, 320],
                                          'detector_scale_split_px': 40.0})
    assert (multi.input_sizes, multi.scale_split_px) == ((640, 320), 40.0)
    assert parameters.problems({'detector_score_threshold': 0.0})
    assert parameters.problems({'detector_providers': ['gpu']})
