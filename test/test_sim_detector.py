"""The simulated world's detector: labelled renders, training pieces, the Ultralytics-layout
export, the shipped model on the suite's own worlds, and `ministral-detector` eval / bench."""

from __future__ import annotations

import ast
import json
import re

import numpy as np
import onnx
import pytest
import torch

from ministral_node import parameters
from ministral_node.cli import sim_detector as detector_cli
from ministral_node.perception.detector import Detection, Detector, DetectorSettings, iou
from ministral_node.resources import config_path, share_dir
from ministral_node.sim.detector_frames import (
    NAMES,
    FramePlan,
    object_pixels,
    render_set,
    visible_boxes,
)
from ministral_node.sim.scenario import load_suite
from ministral_node.sim.world import CameraModel, PhysicsWorld, make_layout
from ministral_node.training import detector_train
from ministral_node.training.detector_data import FrameLabels, FrameSet
from ministral_node.training.detector_eval import average_precision, evaluate, match_frame
from ministral_node.training.detector_net import (
    STRIDES,
    SimDetector,
    UltralyticsLayout,
    decode,
    export_onnx,
)
from ministral_node.training.detector_train import (
    assign,
    detection_loss,
    prepare,
    save_checkpoint,
)

SHIPPED = share_dir() / 'models' / 'sim-detector' / detector_cli.MODEL_FILE


def _labels(boxes, classes, ignore=None) -> FrameLabels:
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    return FrameLabels(boxes, np.asarray(classes, np.int64),
                       np.zeros(len(boxes), bool) if ignore is None else np.asarray(ignore))


def _detection(box, class_id=0, score=0.9) -> Detection:
    return Detection(NAMES[class_id], class_id, score, tuple(box), (0, 0, 0, 0))


# Labelled renders ---------------------------------------------------------------------------

def test_a_pad_straight_below_is_boxed_from_its_pixels_at_its_true_size():
    layout = make_layout(0, [{'kind': 'pad', 'color': 'red', 'east': 0, 'north': 0}],
                         clutter=0)
    world = PhysicsWorld(layout, 0)
    camera = CameraModel(pitch_deg=90)
    try:
        _, segmentation = world.capture(camera, (0.0, 0.0, 20.0), 0.0)
        labels = visible_boxes(segmentation, world.object_of, layout)
    finally:
        world.close()
    assert [NAMES[c] for c in labels.classes] == ['pad'] and not labels.ignore.any()
    x0, y0, x1, y1 = labels.boxes[0]
    expected = 3.0 * camera.fy / (20.1 - 0.05)  # 3 m across, seen from the eye's height
    assert abs((x0 + x1) / 2 - 160) < 3 and abs((y0 + y1) / 2 - 120) < 3
    assert abs((x1 - x0) - expected) < 0.15 * expected


def test_rendered_sets_are_seeded_and_round_trip_through_disk(tmp_path):
    plan = FramePlan(seeds=(3,), per_world=3)
    first = render_set(plan, tmp_path / 'set')
    again = render_set(plan)
    loaded = FrameSet.load(tmp_path / 'set')
    assert np.array_equal(np.asarray(loaded.images), again.images)
    assert loaded.names == NAMES and len(loaded) == 3
    for a, b in zip(first.labels, loaded.labels):
        assert np.array_equal(a.boxes, b.boxes) and np.array_equal(a.classes, b.classes)
    assert sum(len(label.classes) for label in loaded.labels) > 0


# Training pieces ------------------------------------------------------------------------------

def test_prepare_letterboxes_the_boxes_like_the_loader():
    image = np.zeros((240, 320, 3), np.uint8)
    tensor, labels = prepare(image, _labels([[10, 20, 50, 60]], [1]), 320)
    assert tensor.shape == (3, 320, 320)
    assert labels.boxes.tolist() == [[10, 60, 50, 100]]  # 40 grey rows above a 4:3 frame
    assert tensor[:, :40].max() == pytest.approx(114 / 255)


def test_assignment_puts_small_boxes_on_the_fine_grid_and_skips_ignored_ones():
    net = SimDetector(len(NAMES))
    _, _, where = decode(net(torch.zeros(1, 3, 320, 320)))
    small = _labels([[100, 100, 120, 116]], [3])
    owner, skip, _ = assign(where, small)
    assert (owner >= 0).any() and set(where[owner >= 0, 2].tolist()) == {8.0}
    large = _labels([[0, 40, 300, 280]], [4])
    owner, _, _ = assign(where, large)
    assert set(where[owner >= 0, 2].tolist()) == {32.0}
    owner, skip, _ = assign(where, _labels([[100, 100, 120, 116]], [3], [True]))
    assert not (owner >= 0).any() and skip.any()


def test_the_loss_is_finite_and_learns_a_box():
    torch.manual_seed(0)
    net = SimDetector(len(NAMES))
    optimizer = torch.optim.Adam(net.parameters(), 0.003)
    image = torch.rand(1, 3, 128, 128)
    labels = [_labels([[40, 40, 80, 72]], [0])]
    losses = []
    for _ in range(25):
        boxes, logits, where = decode(net(image))
        loss, parts = detection_loss(boxes, logits, where, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert parts['positives'] > 0 and np.isfinite(losses).all()
    assert losses[-1] < 0.5 * losses[0]


# Export -------------------------------------------------------------------------------------

def test_the_export_is_the_ultralytics_layout_the_loader_reads(tmp_path):
    torch.manual_seed(1)
    net = SimDetector(3).eval()
    path = export_onnx(net, ['pad', 'car', 'person'], tmp_path / 'd.onnx', 320)
    metadata = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert ast.literal_eval(metadata['names']) == {0: 'pad', 1: 'car', 2: 'person'}
    assert metadata['task'] == 'detect' and metadata['imgsz'] == '[320, 320]'
    # detector_input_size 0: a dynamic model runs at the size its metadata names
    assert Detector(DetectorSettings(model=str(path), providers=('cpu',))).input_size == (320,
                                                                                          320)
    for size in (320, 640):
        loaded = Detector(DetectorSettings(model=str(path), input_size=size,
                                           providers=('cpu',)))
        assert loaded.input_size == (size, size) and loaded.classes == ['pad', 'car', 'person']
        blob = np.random.default_rng(0).random((1, 3, size, size), np.float32)
        (output,) = loaded.session.run(None, {loaded.input_name: blob})
        anchors = sum((size // s) ** 2 for s in STRIDES)
        assert output.shape == (1, 4 + 3, anchors)
        with torch.no_grad():
            expected = UltralyticsLayout(net)(torch.from_numpy(blob)).numpy()
        assert np.allclose(output, expected, atol=1e-3)
        assert (output[0, 4:] >= 0).all() and (output[0, 4:] <= 1).all()  # sigmoid scores
        assert (output[0, 2:4] > 0).all()  # widths and heights in input pixels


def test_export_writes_the_input_size_it_is_asked_for_and_says_what_it_was_trained_at(tmp_path):
    summary = {'config': {'input_size': 320}, 'names': ['pad', 'car'], 'frames': 12,
               'data': {'seeds': [0, 1]}}
    checkpoint = save_checkpoint(SimDetector(2).eval(), summary, tmp_path / 'run')
    for asked, written in ((0, 320), (640, 640)):
        out = tmp_path / f'model{asked}'
        argv = ['export', str(checkpoint), str(out)] + (['--input-size', str(asked)] * bool(asked))
        assert detector_cli.main(argv) == 0
        model = onnx.load(str(out / 'sim-detector.onnx'))
        metadata = {p.key: p.value for p in model.metadata_props}
        assert metadata['imgsz'] == f'[{written}, {written}]'
        assert f'trained at 320, `imgsz` {written}' in (out / 'README.md').read_text()


def test_several_input_sizes_letterbox_each_frame_to_one_of_them_in_one_batch_shape(
        monkeypatch):
    frames = FrameSet(np.zeros((4, 240, 320, 3), np.uint8),
                      [_labels([[100, 100, 140, 130]], [0])] * 4, tuple(NAMES))
    asked = []

    def recording(image, labels, size, rng=None, config=None):
        asked.append(size)
        return real(image, labels, size, rng, config)

    real = detector_train.prepare
    monkeypatch.setattr(detector_train, 'prepare', recording)
    config = detector_train.TrainConfig(batch=4, more_input_sizes=(640,))
    batches = detector_train._batches(frames, config, np.random.default_rng(0))
    for _ in range(10):
        images, _ = next(batches)
        assert images.shape == (4, 3, config.crop, config.crop)
    assert set(asked) == {320, 640} and 10 <= asked.count(640) <= 30
    with pytest.raises(ValueError, match='crop'):
        detector_train.TrainConfig(crop=320, input_size=320, more_input_sizes=(256,))


def test_a_stage_goes_on_from_an_exported_model_folder_with_the_weights_kept_beside_it(tmp_path):
    frames = render_set(FramePlan(seeds=(3,), per_world=2), tmp_path / 'frames')
    run = tmp_path / 'run'
    assert detector_cli.main(['train', str(tmp_path / 'frames'), str(run), '--steps', '2',
                              '--batch', '2', '--warmup', '1', '--zoom-p', '1',
                              '--zoom-max', '3', '--input-size', '320+640']) == 0
    config = json.loads((run / 'training.json').read_text())['config']
    assert (config['zoom_p'], config['zoom_max']) == (1.0, 3.0)
    assert (config['input_size'], config['more_input_sizes']) == (320, [640])
    model = tmp_path / 'model'
    assert detector_cli.main(['export', str(run / 'detector.pt'), str(model)]) == 0
    assert (model / 'detector.pt').read_bytes() == (run / 'detector.pt').read_bytes()
    assert 'trained at 320+640, `imgsz` 320' in (model / 'README.md').read_text()
    assert detector_cli.main(['train', str(tmp_path / 'frames'), str(tmp_path / 'more'),
                              '--init', str(model), '--steps', '1', '--batch', '2',
                              '--warmup', '1']) == 0
    more = json.loads((tmp_path / 'more' / 'training.json').read_text())
    assert more['init']['folder'] == str(model) and more['init']['steps'] == 2
    assert more['config']['zoom_p'] == 0.35 and more['frames'] == len(frames)


# Metrics ------------------------------------------------------------------------------------

def test_average_precision_by_hand():
    assert average_precision(np.array([0.9, 0.8]), np.array([True, True]), 2) == 1.0
    # one hit then a miss, one object never found: precision 1 up to recall 0.5
    assert average_precision(np.array([0.9, 0.8]), np.array([True, False]), 2) == 0.5
    # a false positive ranked first halves the precision at the only hit
    assert average_precision(np.array([0.9, 0.8]), np.array([False, True]), 1) == 0.5
    assert np.isnan(average_precision(np.array([]), np.array([], bool), 0))


def test_matching_leaves_ignored_objects_and_counts_duplicates_once():
    labels = _labels([[0, 0, 10, 10], [50, 50, 52, 52]], [0, 0], [False, True])
    found = [_detection((0, 0, 10, 10), score=0.9), _detection((0, 0, 10, 9), score=0.8),
             _detection((50, 50, 52, 52), score=0.7), _detection((80, 80, 90, 90), score=0.6),
             _detection((0, 0, 10, 10), class_id=1)]
    scores, hits = match_frame(found, labels, 0)
    assert scores == [0.9, 0.6] and hits == [True, False]


class _Oracle:
    """Answers each frame with its own labels (shifted by `offset` pixels)."""

    def __init__(self, frames: FrameSet, offset: float = 0.0) -> None:
        self.frames, self.offset, self.index = frames, offset, 0

    def detect(self, image):
        labels = self.frames.labels[self.index]
        self.index += 1
        return [_detection(tuple(b + self.offset), int(c)) for b, c in
                zip(labels.boxes, labels.classes)]


def test_evaluate_scores_a_perfect_detector_one_and_a_misplaced_one_zero():
    frames = render_set(FramePlan(seeds=(5,), per_world=4))
    perfect = evaluate(_Oracle(frames), frames)
    assert perfect['map50'] == 1.0
    misplaced = evaluate(_Oracle(frames, offset=400.0), frames)
    assert misplaced['map50'] == 0.0


# The shipped model ----------------------------------------------------------------------------

def test_the_simulator_suite_flies_with_the_shipped_detector():
    for scenario in load_suite():
        assert (share_dir() / scenario.params['detector_model']).resolve() == SHIPPED.resolve()
    assert SHIPPED.is_file() and SHIPPED.stat().st_size < 5_000_000
    assert parameters.load_params_file(config_path('ministral.yaml'))['detector_model'] == ''


def test_the_shipped_model_runs_at_the_640_input_it_was_exported_for():
    # trained at 320 px, exported for 640: the node's default (detector_input_size 0) upscales
    detector = Detector(DetectorSettings(model=str(SHIPPED), providers=('cpu',)))
    assert detector.input_size == (640, 640)
    metadata = {p.key: p.value for p in onnx.load(str(SHIPPED)).metadata_props}
    assert metadata['imgsz'] == '[640, 640]'


# The suite's visual worlds (config/sim_suite.yaml: land_on_pad_en, fly_to_car_en,
# downward_camera_pad_es), seen from where their flights look for the target.
SUITE_VIEWS = [
    ('red pad', 10, [{'kind': 'pad', 'color': 'red', 'east': 0, 'north': 20}], (0, 0, 20), 45),
    ('blue car', 21, [{'kind': 'car', 'color': 'blue', 'east': 4, 'north': 22, 'yaw_deg': 30}],
     (0, 0, 20), 45),
    ('yellow pad', 22, [{'kind': 'pad', 'color': 'yellow', 'east': 0, 'north': 30}],
     (0, 28, 20), 90),
]


@pytest.mark.parametrize('label, seed, placed, position, pitch', SUITE_VIEWS,
                         ids=[v[0] for v in SUITE_VIEWS])
def test_the_shipped_model_boxes_the_named_object_of_a_suite_world(label, seed, placed,
                                                                   position, pitch):
    layout = make_layout(seed, placed)
    world = PhysicsWorld(layout, seed)
    camera = CameraModel(pitch_deg=pitch)
    try:
        world.place_vehicle(position)
        image, segmentation = world.capture(camera, position, 0.0)
        in_view = object_pixels(segmentation, world.object_of)
    finally:
        world.close()
    target = layout.find(label)
    true_box = in_view[layout.objects.index(target)][0]
    detector = Detector(DetectorSettings(model=str(SHIPPED), input_size=0,
                                         providers=('cpu',)))
    found = [d for d in detector.detect(image) if d.label == target.kind]
    assert found, f'no {target.kind} found in view of the {label}'
    assert max(iou(d.box_px, true_box) for d in found) >= 0.5


def test_eval_prints_ap_per_class(capsys):
    assert detector_cli.main(['eval', str(SHIPPED), '--worlds', '1', '--per-world', '6']) == 0
    out = capsys.readouterr().out
    for name in NAMES:
        row = re.search(rf'^{name}\s+(\S+)\s+(\d+)', out, re.MULTILINE)
        assert row, f'no row for {name}:\n{out}'
        assert row.group(1) == 'nan' or 0.0 <= float(row.group(1)) <= 1.0
    assert re.search(r'^mAP@0\.5\s+[01]\.\d{3}$', out, re.MULTILINE)


def test_eval_runs_several_input_sizes_on_frames_it_keeps(capsys, tmp_path):
    cached, report = tmp_path / 'frames', tmp_path / 'r.json'
    args = ['eval', str(SHIPPED), '--worlds', '1', '--per-world', '4', '--frames', str(cached),
            '--input-size', '640+320', '--scale-split-px', '40', '--json', str(report)]
    assert detector_cli.main(args) == 0
    assert FrameSet.load(cached).meta['seeds'] == [100_000, 100_000]
    first = json.loads(report.read_text())
    assert first['frames']['inputs'] == [[640, 640], [320, 320]]
    assert first['frames']['scale_split_px'] == 40.0
    assert 'input 640+320 fitted split 40 px' in capsys.readouterr().out
    assert detector_cli.main(args) == 0  # the second run reads the frames kept
    assert json.loads(report.read_text())['classes'] == first['classes']
    with pytest.raises(SystemExit, match='eval asks for'):
        detector_cli.main([*args, '--per-world', '5'])


def test_ministral_eval_scores_the_detector_as_the_suite_runs_it_against_the_goal(
        capsys, tmp_path, monkeypatch):
    """`ministral-eval --set detector`: the suite's detector at the suite's inputs, AP@0.5 per
    class and the goal (0.9 for pads, cars, trucks and people) met or missed by class."""
    from ministral_node.cli import ministral_eval
    from ministral_node.training.detector_eval import missed_goals

    def few_worlds(*args, **kwargs):  # 4 frames of one held-out world, not 800
        return held_out(*args, **{**kwargs, 'worlds': 1, 'per_world': 4})

    held_out = detector_cli.held_out_report
    monkeypatch.setattr(detector_cli, 'held_out_report', few_worlds)
    report = tmp_path / 'detector.json'
    code = ministral_eval.main(['--set', 'detector', '--json', str(report), '--check-goals'])
    out = capsys.readouterr().out
    assert 'input 640+320 fitted split 40 px' in out  # config/sim_suite.yaml's settings
    written = json.loads(report.read_text())
    assert set(written['goals']) == {'pad', 'car', 'truck', 'person'}
    assert written['missed'] == missed_goals(written)
    assert code == (1 if written['missed'] else 0)
    assert ('goal AP@0.5 >= 0.9 for pad, car, truck, person: met' in out) == (code == 0)
    perfect = {'classes': {n: {'ap50': 1.0} for n in ('pad', 'car', 'truck', 'person')}}
    assert missed_goals(perfect) == []
    short = {'classes': {**perfect['classes'], 'car': {'ap50': 0.89998}}}
    assert missed_goals(short) == ['car 0.8999 < 0.9']
    assert missed_goals({'classes': {}}) == [f'{n} not in the frames'
                                             for n in ('pad', 'car', 'truck', 'person')]


def test_bench_times_both_frame_sizes(capsys, tmp_path):
    assert detector_cli.main(['bench', str(SHIPPED), '--frames', '4', '--sizes', '320',
                              '640+320', '--json', str(tmp_path / 'b.json')]) == 0
    rows = json.loads((tmp_path / 'b.json').read_text())
    assert [(r['frame'], r['input']) for r in rows] == [
        ('320x240', '320'), ('320x240', '640+320'), ('640x480', '320'), ('640x480', '640+320')]
    assert all(r['median_ms'] > 0 and r['frames'] == 4 for r in rows)


def test_the_imgsz_metadata_forms_ultralytics_writes():
    from ministral_node.perception.detector import metadata_size

    assert metadata_size('[640, 640]') == (640, 640)
    assert metadata_size('[256, 320]') == (256, 320)
    assert metadata_size('320') == (320, 320)
    for unusable in (None, '', 'big', '[100, 100]', '[640]', "{'h': 640}"):
        assert metadata_size(unusable) is None, unusable
