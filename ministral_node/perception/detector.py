"""An object detector in the Ultralytics ONNX export layout, run with ONNX Runtime.

The layout most ROS users already run (YOLOv8/11 exports, yolo_ros): one image input
`[1, 3, H, W]` (RGB, 0-1, letterboxed with grey 114 padding), one output `[1, 4 + classes,
anchors]` holding per anchor cx, cy, w, h in input pixels and then one score per class (no
objectness), and the class names in the model's metadata `names` as a Python dict literal
("{0: 'person', 1: 'car'}"). Non-maximum suppression is the caller's: done here, per class.
"""

from __future__ import annotations

import ast
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ministral_node.engine.model_files import ModelError
from ministral_node.engine.sessions import SessionConfig, create_session

log = logging.getLogger(__name__)

PAD_VALUE = 114  # Ultralytics' letterbox grey
DEFAULT_INPUT_SIZE = 640  # for models whose input size is dynamic and no size is set
STRIDE = 32  # Ultralytics detectors' largest stride: input sides are multiples of it
MAX_DETECTIONS = 300
_INPUT_DTYPES = {'tensor(float)': np.float32, 'tensor(float16)': np.float16}

# What is wrong with a model (DetectorModelError.problem).
MISSING, CORRUPT, LAYOUT, NAMES = 'missing', 'corrupt', 'layout', 'names'


class DetectorModelError(ValueError):
    """The detector model cannot be used: `problem` is missing, corrupt, layout or names, and
    the message says what exactly (the node goes on without a detector)."""

    def __init__(self, problem: str, message: str) -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True)
class DetectorSettings:
    """The detector's parameters (`detector_*`)."""

    model: str = ''  # '' = no detector
    score_threshold: float = 0.25
    iou_threshold: float = 0.45
    input_size: int = 0  # 0 = the model's own input size (dynamic: its imgsz metadata, or 640)
    classes: tuple[str, ...] = ()  # class names kept; () = every class
    providers: tuple[str, ...] = ('cpu',)
    rate_hz: float = 0.0  # background detection rate; 0 = only on decisions
    input_sizes: tuple[int, ...] = ()  # several inputs on each frame, boxes merged; () = one
    scale_split_px: float = 0.0  # size rule between inputs (merge_scales); 0 = NMS only

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> DetectorSettings:
        """Settings from validated parameter values."""
        return cls(str(values['detector_model']), float(values['detector_score_threshold']),
                   float(values['detector_iou_threshold']), int(values['detector_input_size']),
                   tuple(values['detector_classes']), tuple(values['detector_providers']),
                   float(values['detector_rate_hz']),
                   tuple(int(v) for v in values['detector_input_sizes']),
                   float(values['detector_scale_split_px']))

    @property
    def enabled(self) -> bool:
        return bool(self.model.strip())


@dataclass(frozen=True)
class Detection:
    """One detected object: class, score, box in frame pixels [x_min, y_min, x_max, y_max]
    and the same box normalised to 0-1 by the frame's width and height."""

    label: str
    class_id: int
    score: float
    box_px: tuple[float, float, float, float]
    box: tuple[float, float, float, float]

    @property
    def center(self) -> tuple[float, float]:
        """Normalised centre (x, y) of the box."""
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2

    def to_dict(self) -> dict:
        return {'label': self.label, 'class_id': self.class_id, 'score': round(self.score, 4),
                'box_px': [round(v, 1) for v in self.box_px],
                'box': [round(v, 4) for v in self.box]}


@dataclass(frozen=True)
class Letterbox:
    """How a frame was fitted into the model's input: scale, then padding left and top."""

    scale: float
    left: int
    top: int

    def to_frame(self, boxes: np.ndarray, width: int, height: int) -> np.ndarray:
        """Input-pixel xyxy boxes back to frame pixels, clipped to the frame."""
        out = boxes.copy()
        out[:, [0, 2]] = ((out[:, [0, 2]] - self.left) / self.scale).clip(0, width)
        out[:, [1, 3]] = ((out[:, [1, 3]] - self.top) / self.scale).clip(0, height)
        return out


def letterbox(image: np.ndarray, size: tuple[int, int], stride: int = 0
              ) -> tuple[np.ndarray, Letterbox]:
    """`image` (H, W, 3) scaled to fit `size` (height, width) keeping its aspect, centred on
    grey 114 padding, as Ultralytics does before export. With `stride` (a model whose height
    and width are dynamic) the padding stops at the next multiple of `stride` around the
    scaled image, as Ultralytics' own predictor pads: a 320 x 240 frame fitted to 640 is a
    640 x 480 input, not 640 x 640 (a quarter less work)."""
    height, width = image.shape[:2]
    target_h, target_w = size
    scale = min(target_h / height, target_w / width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    if stride:
        target_h = min(target_h, -(-new_h // stride) * stride)
        target_w = min(target_w, -(-new_w // stride) * stride)
    if (new_w, new_h) != (width, height):
        image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    left = round((target_w - new_w) / 2 - 0.1)
    top = round((target_h - new_h) / 2 - 0.1)
    canvas = np.full((target_h, target_w, 3), PAD_VALUE, np.uint8)
    canvas[top:top + new_h, left:left + new_w] = image
    return canvas, Letterbox(scale, left, top)


def intersection(a: Sequence[float], b: Sequence[float]) -> float:
    """The area two xyxy boxes share."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(0.0, w) * max(0.0, h)


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two xyxy boxes."""
    inter = intersection(a, b)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def nms(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou_threshold: float,
        limit: int = MAX_DETECTIONS) -> list[int]:
    """Indices kept by class-aware greedy non-maximum suppression, best score first: a box is
    dropped when one of the same class with a higher score overlaps it above the threshold."""
    # Shifting each class to its own region makes boxes of different classes never overlap.
    shifted = boxes + (classes.astype(np.float64) * (boxes.max(initial=0.0) + 1.0))[:, None]
    areas = (shifted[:, 2] - shifted[:, 0]) * (shifted[:, 3] - shifted[:, 1])
    order = np.argsort(-scores, kind='stable')
    keep: list[int] = []
    while order.size and len(keep) < limit:
        best, rest = order[0], order[1:]
        keep.append(int(best))
        x0 = np.maximum(shifted[best, 0], shifted[rest, 0])
        y0 = np.maximum(shifted[best, 1], shifted[rest, 1])
        x1 = np.minimum(shifted[best, 2], shifted[rest, 2])
        y1 = np.minimum(shifted[best, 3], shifted[rest, 3])
        inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
        overlap = inter / np.maximum(areas[best] + areas[rest] - inter, 1e-9)
        order = rest[overlap <= iou_threshold]
    return keep


@dataclass(frozen=True)
class Candidates:
    """One input size's boxes on a frame before NMS: xyxy in frame pixels, best class score
    and class number per box, and the input's scale (input pixels per frame pixel)."""

    boxes: np.ndarray
    scores: np.ndarray
    class_ids: np.ndarray
    scale: float


def merge_scales(runs: Sequence[Candidates], split_px: float = 0.0
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The boxes of several input sizes on one frame as one set (boxes, scores, class ids) for
    class-wise NMS. With `split_px` above 0 each object size comes from one input: a box of a
    larger input is kept while its shorter side measures under `split_px` in that input's
    pixels, a box of a smaller input once the next larger input would measure it at
    `split_px` or more (the smallest input keeps the large objects, the largest the small ones),
    as a detector learns each object size on one level of its pyramid."""
    ordered = sorted(runs, key=lambda run: run.scale)
    kept = []
    for k, run in enumerate(ordered):
        chosen = np.ones(len(run.scores), bool)
        if split_px > 0 and len(ordered) > 1:
            side = np.minimum(run.boxes[:, 2] - run.boxes[:, 0], run.boxes[:, 3] - run.boxes[:, 1])
            if k > 0:
                chosen &= side * run.scale < split_px
            if k < len(ordered) - 1:
                chosen &= side * ordered[k + 1].scale >= split_px
        kept.append((run.boxes[chosen], run.scores[chosen], run.class_ids[chosen]))
    return (np.concatenate([b for b, _, _ in kept]).reshape(-1, 4),
            np.concatenate([s for _, s, _ in kept]),
            np.concatenate([c for _, _, c in kept]).astype(np.int64))


def parse_names(text: str | None, count: int | None) -> dict[int, str]:
    """Class names from the `names` metadata ("{0: 'person', ...}"); DetectorModelError when
    it is unreadable or does not match the output's class count. Without metadata the
    classes are named class_0, class_1, ..."""
    if text is None:
        if count is None:
            raise DetectorModelError(NAMES, 'the model has no `names` metadata and its output '
                                            'does not say how many classes it has')
        return {i: f'class_{i}' for i in range(count)}
    try:
        names = ast.literal_eval(text)
    except (ValueError, SyntaxError) as exc:
        raise DetectorModelError(NAMES, f'the `names` metadata is not a Python dict literal: '
                                        f'{text[:80]!r}') from exc
    if isinstance(names, (list, tuple)):
        names = dict(enumerate(names))
    if not isinstance(names, dict) or not all(isinstance(k, int) and isinstance(v, str)
                                              for k, v in names.items()):
        raise DetectorModelError(NAMES, f'the `names` metadata is not a mapping of class '
                                        f'numbers to names: {text[:80]!r}')
    if sorted(names) != list(range(len(names))):
        raise DetectorModelError(NAMES, 'the `names` metadata does not number its classes '
                                        f'0..{len(names) - 1}: {sorted(names)[:10]}')
    if count is not None and len(names) != count:
        raise DetectorModelError(LAYOUT, f'the output has {count} class scores but the `names` '
                                         f'metadata names {len(names)} classes')
    return names


def metadata_size(text: str | None) -> tuple[int, int] | None:
    """(height, width) from the `imgsz` metadata Ultralytics writes ("[640, 640]" or "640"):
    the size a dynamic-input model was trained at; None when absent or unreadable (or not a
    multiple of 32)."""
    try:
        value = ast.literal_eval(text) if text else None
    except (ValueError, SyntaxError):
        return None
    if isinstance(value, int):
        value = [value, value]
    if (isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(v, int) and v > 0 and v % 32 == 0 for v in value)):
        return int(value[0]), int(value[1])
    return None


def _static(dim: Any) -> int | None:
    return dim if isinstance(dim, int) and dim > 0 else None


def _layout_hint(shape: list[Any]) -> str:
    """What a wrong output shape most likely is, for the error message."""
    rows, columns = _static(shape[1]), _static(shape[2])
    if columns in (6, 7):
        return (f' (output {shape} looks like an export with NMS inside, one row per box: '
                'export without nms)')
    if rows and columns and rows > columns:
        return (f' (output {shape} looks transposed, anchors first, or has an objectness '
                'column: the Ultralytics layout is [1, 4 + classes, anchors])')
    return ''


class Detector:
    """An Ultralytics-layout ONNX detector: `detect(frame_rgb)` -> detections in frame pixels.

    Raises DetectorModelError on a missing, corrupt or wrong-layout model."""

    def __init__(self, settings: DetectorSettings) -> None:
        self.settings = settings
        path = Path(settings.model).expanduser()
        if not path.is_file():
            raise DetectorModelError(MISSING, f'detector model {path} does not exist'
                                     if not path.exists() else f'detector model {path} is not '
                                                               'a file')
        self.path = path
        try:
            self.session = create_session(path, SessionConfig(providers=settings.providers))
        except ModelError as exc:
            raise DetectorModelError(CORRUPT, f'detector model {path.name}: {exc}') from exc
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1:
            raise DetectorModelError(LAYOUT, f'{path.name} has {len(inputs)} inputs and '
                                     f'{len(outputs)} outputs; an Ultralytics detector has one '
                                     'image input and one output [1, 4 + classes, anchors]')
        self.input_name = inputs[0].name
        self.input_dtype = _INPUT_DTYPES.get(inputs[0].type)
        shape = list(inputs[0].shape)
        if self.input_dtype is None or len(shape) != 4 or _static(shape[1]) not in (3, None):
            raise DetectorModelError(LAYOUT, f'{path.name} input {self.input_name} is '
                                     f'{inputs[0].type} {shape}; expected float [1, 3, H, W]')
        metadata = self.session.get_modelmeta().custom_metadata_map
        trained = metadata_size(metadata.get('imgsz'))
        # Dynamic height and width take any multiple of the stride: pad no further than that.
        self.stride = STRIDE if _static(shape[2]) is None and _static(shape[3]) is None else 0
        self.input_sizes = list(dict.fromkeys(
            self._input_size(path.name, shape, trained, size)
            for size in settings.input_sizes or (settings.input_size,)))
        out_shape = list(outputs[0].shape)
        if len(out_shape) != 3:
            raise DetectorModelError(LAYOUT, f'{path.name} output {outputs[0].name} has shape '
                                     f'{out_shape}; expected [1, 4 + classes, anchors]')
        channels = _static(out_shape[1])
        if channels is not None and channels <= 4:
            raise DetectorModelError(LAYOUT, f'{path.name} output {outputs[0].name} has '
                                     f'{channels} channels; expected 4 box values + classes')
        try:
            self.names = parse_names(metadata.get('names'),
                                     None if channels is None else channels - 4)
        except DetectorModelError as exc:
            raise DetectorModelError(exc.problem, f'{path.name}: {exc}'
                                     + _layout_hint(out_shape)) from exc
        unknown = [c for c in settings.classes if c not in self.names.values()]
        if unknown:
            log.warning('detector_classes %s are not classes of %s (%s)', unknown, path.name,
                        ', '.join(self.names.values()))
        self.retune(settings)
        self.last_ms = 0.0

    def _input_size(self, name: str, shape: list[Any], trained: tuple[int, int] | None,
                    wanted: int) -> tuple[int, int]:
        height, width = _static(shape[2]), _static(shape[3])
        if height and width:
            if wanted and (wanted, wanted) != (height, width):
                setting = ('detector_input_sizes names' if self.settings.input_sizes
                           else 'detector_input_size is')
                raise DetectorModelError(LAYOUT, f'{name} takes {width}x{height} images; '
                                         f'{setting} {wanted} (0 uses the model\'s)')
            return height, width
        if not wanted and trained and not (height or width):
            return trained
        size = wanted or DEFAULT_INPUT_SIZE
        if size % STRIDE:
            raise DetectorModelError(LAYOUT, f'detector_input_size {size} is not a multiple of '
                                     f'{STRIDE} (the stride of Ultralytics detectors)')
        return height or size, width or size

    def retune(self, settings: DetectorSettings) -> None:
        """Take new thresholds and classes to keep (the model stays loaded)."""
        self.settings = settings
        self.keep = None if not settings.classes else np.array(
            [name in settings.classes for name in self.classes])

    @property
    def classes(self) -> list[str]:
        """Class names in class-number order."""
        return [name for _, name in sorted(self.names.items())]

    @property
    def input_size(self) -> tuple[int, int]:
        """The first input size (height, width): the one when it runs at one."""
        return self.input_sizes[0]

    @property
    def inputs(self) -> str:
        """The input sizes it runs at, joined by '+': WxH for a fixed input ('640x640'), the
        size a frame is fitted to for a dynamic one ('640+320 fitted')."""
        if self.stride:
            return '+'.join(str(max(size)) for size in self.input_sizes) + ' fitted'
        return '+'.join(f'{width}x{height}' for height, width in self.input_sizes)

    @property
    def provider(self) -> str:
        return self.session.get_providers()[0]

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Detections in an RGB uint8 frame (H, W, 3), best first: the model run at each input
        size, the boxes merged (merge_scales) and suppressed per class."""
        began = time.perf_counter()
        height, width = image.shape[:2]
        runs = [self._candidates(image, size, width, height) for size in self.input_sizes]
        if len(runs) == 1:
            boxes, scores, class_ids = runs[0].boxes, runs[0].scores, runs[0].class_ids
        else:
            boxes, scores, class_ids = merge_scales(runs, self.settings.scale_split_px)
        found = []
        for i in nms(boxes, scores, class_ids, self.settings.iou_threshold):
            x0, y0, x1, y1 = (float(v) for v in boxes[i])
            if x1 - x0 < 1.0 or y1 - y0 < 1.0:
                continue  # wholly in the padding
            found.append(Detection(self.names[int(class_ids[i])], int(class_ids[i]),
                                   float(scores[i]), (x0, y0, x1, y1),
                                   (x0 / width, y0 / height, x1 / width, y1 / height)))
        self.last_ms = (time.perf_counter() - began) * 1000.0
        return found

    def _candidates(self, image: np.ndarray, size: tuple[int, int], width: int, height: int
                    ) -> Candidates:
        """The boxes above the score threshold of the model run at one input size."""
        fitted, fit = letterbox(image, size, self.stride)
        blob = (fitted.transpose(2, 0, 1)[None].astype(np.float32) / 255.0).astype(
            self.input_dtype, copy=False)
        (output, *_) = self.session.run(None, {self.input_name: blob})
        output = np.asarray(output, np.float32)
        classes = len(self.names)
        if output.ndim != 3 or output.shape[0] != 1 or output.shape[1] != 4 + classes:
            raise DetectorModelError(LAYOUT, f'{self.path.name} returned {list(output.shape)}; '
                                     f'expected [1, {4 + classes}, anchors]')
        rows = output[0].T  # anchors x (4 + classes)
        scores = rows[:, 4:]
        if self.keep is not None:
            scores = np.where(self.keep[None, :], scores, -np.inf)
        class_ids = scores.argmax(axis=1)
        best = scores[np.arange(len(rows)), class_ids]
        chosen = best >= self.settings.score_threshold
        xywh, class_ids, best = rows[chosen, :4], class_ids[chosen], best[chosen]
        boxes = np.concatenate([xywh[:, :2] - xywh[:, 2:] / 2, xywh[:, :2] + xywh[:, 2:] / 2],
                               axis=1).astype(np.float64)
        return Candidates(fit.to_frame(boxes, width, height), best.astype(np.float64),
                          class_ids.astype(np.int64), fit.scale)
