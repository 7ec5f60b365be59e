"""Tiny object detectors in the Ultralytics ONNX layout, built with onnx.helper for the
perception tests.

The graph really looks at the image: class c fires where channel c is above 0.5 (so the grey
114 letterbox padding never does), and its box is the bounding box of those pixels. Anchor c
carries that box with score 0.9 for class c; anchor c + 3 the same box shrunk by one pixel on
every side with score 0.72 (a duplicate for NMS to remove). Output [1, 7, 6]: cx, cy, w, h in
input pixels, then the three class scores.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ministral_node.perception.detector import Detection
from ministral_node.perception.grounding import Seen, look
from ministral_node.training.scenes import COLORS

NAMES = "{0: 'red', 1: 'green', 2: 'blue'}"
_ROOT = Path(tempfile.mkdtemp(prefix='ministral-test-detectors-'))


def _const(name: str, value) -> onnx.NodeProto:
    return helper.make_node('Constant', [], [name],
                            value=numpy_helper.from_array(np.asarray(value), name))


def _extent(nodes: list, axis_reduce: int, axis_len: int, tag: str) -> None:
    """nodes computing `{tag}_min`, `{tag}_max` [1, 3] of the bright pixels along one axis."""
    nodes += [
        helper.make_node('ReduceMax', ['mask'], [f'{tag}_any'], axes=[axis_reduce],
                         keepdims=0),  # [1, 3, L]
        helper.make_node('Shape', ['image'], [f'{tag}_shape']),
        _const(f'{tag}_axis', np.int64(axis_len)),
        helper.make_node('Gather', [f'{tag}_shape', f'{tag}_axis'], [f'{tag}_len']),
        helper.make_node('Range', ['zero_i', f'{tag}_len', 'one_i'], [f'{tag}_idx_i']),
        helper.make_node('Cast', [f'{tag}_idx_i'], [f'{tag}_idx'], to=TensorProto.FLOAT),
        helper.make_node('Greater', [f'{tag}_any', 'zero_f'], [f'{tag}_on']),
        helper.make_node('Where', [f'{tag}_on', f'{tag}_idx', 'big'], [f'{tag}_lo_all']),
        helper.make_node('Add', [f'{tag}_idx', 'one_f'], [f'{tag}_idx1']),
        helper.make_node('Where', [f'{tag}_on', f'{tag}_idx1', 'minus_big'], [f'{tag}_hi_all']),
        helper.make_node('ReduceMin', [f'{tag}_lo_all'], [f'{tag}_min'], axes=[2], keepdims=0),
        helper.make_node('ReduceMax', [f'{tag}_hi_all'], [f'{tag}_max'], axes=[2], keepdims=0),
    ]


def build_detector(path: Path, *, size: int | None = 64, names: str | None = NAMES,
                   layout: str = 'ultralytics') -> Path:
    """Write a detector to `path`: input [1, 3, size, size] (dynamic H, W when size is None);
    `layout` 'ultralytics', or 'few_channels' (output [1, 4, 6]), 'end2end' ([1, 300, 6]) or
    'two_outputs' to test refusals."""
    dim = size if size is not None else None
    image = helper.make_tensor_value_info(
        'image', TensorProto.FLOAT, [1, 3, dim or 'height', dim or 'width'])
    nodes = [
        _const('half', np.float32(0.5)), _const('zero_f', np.float32(0.0)),
        _const('one_f', np.float32(1.0)), _const('big', np.float32(1e6)),
        _const('minus_big', np.float32(-1e6)), _const('zero_i', np.int64(0)),
        _const('one_i', np.int64(1)),
        helper.make_node('Greater', ['image', 'half'], ['bright']),
        helper.make_node('Cast', ['bright'], ['mask'], to=TensorProto.FLOAT),
    ]
    _extent(nodes, 2, 3, 'x')  # reduce over rows: extent along the width
    _extent(nodes, 3, 2, 'y')
    nodes += [
        helper.make_node('ReduceMax', ['x_any'], ['seen'], axes=[2], keepdims=0),  # [1, 3]
        _const('two', np.float32(2.0)),
        helper.make_node('Add', ['x_min', 'x_max'], ['x_sum']),
        helper.make_node('Div', ['x_sum', 'two'], ['cx']),
        helper.make_node('Add', ['y_min', 'y_max'], ['y_sum']),
        helper.make_node('Div', ['y_sum', 'two'], ['cy']),
        helper.make_node('Sub', ['x_max', 'x_min'], ['w']),
        helper.make_node('Sub', ['y_max', 'y_min'], ['h']),
        helper.make_node('Sub', ['w', 'two'], ['w2']),
        helper.make_node('Sub', ['h', 'two'], ['h2']),
        _const('axis1', np.array([1], np.int64)),
    ]
    for name in ('cx', 'cy', 'w', 'h', 'w2', 'h2'):
        nodes.append(helper.make_node('Unsqueeze', [name, 'axis1'], [f'{name}_u']))  # [1,1,3]
    nodes += [
        helper.make_node('Concat', ['cx_u', 'cy_u', 'w_u', 'h_u'], ['box_a'], axis=1),
        helper.make_node('Concat', ['cx_u', 'cy_u', 'w2_u', 'h2_u'], ['box_b'], axis=1),
        helper.make_node('Unsqueeze', ['seen', 'axis1'], ['seen_u']),  # [1, 1, 3]
        _const('eye', np.eye(3, dtype=np.float32)[None] * 0.9),
        helper.make_node('Mul', ['eye', 'seen_u'], ['cls_a']),  # [1, 3 classes, 3 anchors]
        _const('dup', np.float32(0.8)),
        helper.make_node('Mul', ['cls_a', 'dup'], ['cls_b']),
        helper.make_node('Concat', ['box_a', 'cls_a'], ['anchors_a'], axis=1),  # [1, 7, 3]
        helper.make_node('Concat', ['box_b', 'cls_b'], ['anchors_b'], axis=1),
        helper.make_node('Concat', ['anchors_a', 'anchors_b'], ['output0'], axis=2),  # [1, 7, 6]
    ]
    outputs = [helper.make_tensor_value_info('output0', TensorProto.FLOAT, [1, 7, 6])]
    if layout == 'few_channels':
        nodes += [_const('starts', np.array([0], np.int64)),
                  _const('ends', np.array([4], np.int64)),
                  helper.make_node('Slice', ['output0', 'starts', 'ends', 'axis1'],
                                   ['boxes_only'])]
        outputs = [helper.make_tensor_value_info('boxes_only', TensorProto.FLOAT, [1, 4, 6])]
    elif layout == 'end2end':  # NMS inside: [1, 300, 6] rows of x0, y0, x1, y1, score, class
        nodes += [_const('rows', np.zeros((1, 300, 6), np.float32))]
        outputs = [helper.make_tensor_value_info('rows', TensorProto.FLOAT, [1, 300, 6])]
    elif layout == 'two_outputs':
        outputs.append(helper.make_tensor_value_info('seen', TensorProto.FLOAT, [1, 3]))
    graph = helper.make_graph(nodes, 'tiny_detector', [image], outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)],
                              producer_name='ministral_node tests')
    model.ir_version = 8
    if names is not None:
        helper.set_model_props(model, {'names': names, 'task': 'detect'})
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def detector(name: str = 'tiny', **options) -> Path:
    """A detector built once per test session under a temporary folder."""
    path = _ROOT / f'{name}.onnx'
    return path if path.exists() else build_detector(path, **options)


W, H = 320, 240
CLASSES = ('pad', 'car', 'truck', 'person')


def scene(*objects: tuple[str, str, tuple[int, int, int, int]], score: float = 0.9
          ) -> tuple[np.ndarray, list[Seen]]:
    """A 320x240 image of coloured rectangles on grass and their detections (no model)."""
    image = np.full((H, W, 3), (70, 120, 60), np.uint8)
    detections = []
    for label, color, (x0, y0, x1, y1) in objects:
        image[y0:y1, x0:x1] = COLORS[color]
        detections.append(Detection(label, CLASSES.index(label), score, (x0, y0, x1, y1),
                                    (x0 / W, y0 / H, x1 / W, y1 / H)))
    return image, look(image, detections)
