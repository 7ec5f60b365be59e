"""Average precision at IoU 0.5 per class of a detector on labelled frames.

Detections of a class are taken best score first over all frames; each is a true positive when
it overlaps (IoU >= 0.5) a not yet matched required object of its class in its frame, is left
out when it overlaps an `ignore` object of its class (or one already matched), and is a false
positive otherwise. AP is the area under the precision-recall curve with precision made
monotone (all-point interpolation, as PASCAL VOC since 2010 and COCO's per-IoU AP do).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from ministral_node.perception.detector import Detection
from ministral_node.training.detector_data import FrameLabels, FrameSet

IOU_THRESHOLD = 0.5
EVAL_SCORE_THRESHOLD = 0.01  # detections kept for the precision-recall curve
AP_GOALS = {'pad': 0.9, 'car': 0.9, 'truck': 0.9, 'person': 0.9}  # AP@0.5 the issue asks for


class Detects(Protocol):
    def detect(self, image: np.ndarray) -> list[Detection]: ...


def pairwise_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box of `a` `[N, 4]` with every box of `b` `[M, 4]` (xyxy)."""
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)))
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(axis=2)
    area_a = (a[:, 2:] - a[:, :2]).prod(axis=1)
    area_b = (b[:, 2:] - b[:, :2]).prod(axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def average_precision(scores: np.ndarray, hits: np.ndarray, required: int) -> float:
    """All-point interpolated AP of detections (`scores`, `hits` true/false) against
    `required` objects; NaN without any required object."""
    if required == 0:
        return float('nan')
    order = np.argsort(-scores, kind='stable')
    hits = hits[order].astype(np.float64)
    true_pos = np.cumsum(hits)
    precision = true_pos / np.arange(1, len(hits) + 1)
    recall = true_pos / required
    recall = np.concatenate([[0.0], recall, [recall[-1] if len(recall) else 0.0]])
    precision = np.concatenate([[1.0], precision, [0.0]])
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    return float(np.sum((recall[1:] - recall[:-1]) * precision[1:]))


def match_frame(detections: Sequence[Detection], labels: FrameLabels, class_id: int
                ) -> tuple[list[float], list[bool]]:
    """Scores and hit flags of `detections` of `class_id` in one frame (ignored ones left
    out), greedy best score first."""
    mine = sorted((d for d in detections if d.class_id == class_id), key=lambda d: -d.score)
    of_class = labels.classes == class_id
    boxes, ignore = labels.boxes[of_class], labels.ignore[of_class]
    overlaps = pairwise_iou(np.array([d.box_px for d in mine]).reshape(-1, 4), boxes)
    taken = np.zeros(len(boxes), bool)
    scores, hits = [], []
    for i, detection in enumerate(mine):
        open_required = np.where(~ignore & ~taken, overlaps[i], -1.0)
        best = int(open_required.argmax()) if len(boxes) else -1
        if best >= 0 and open_required[best] >= IOU_THRESHOLD:
            taken[best] = True
            scores.append(detection.score)
            hits.append(True)
        elif len(boxes) and (overlaps[i][ignore | taken] >= IOU_THRESHOLD).any():
            continue  # an ignored object, or a second box on a matched one: left out
        else:
            scores.append(detection.score)
            hits.append(False)
    return scores, hits


def evaluate(detector: Detects, frames: FrameSet) -> dict:
    """AP@0.5 per class (and recall at the detector's threshold) of `detector` on `frames`."""
    names = frames.names
    scores: dict[int, list[float]] = {c: [] for c in range(len(names))}
    hits: dict[int, list[bool]] = {c: [] for c in range(len(names))}
    for image, labels in zip(frames.images, frames.labels):
        found = detector.detect(np.asarray(image))
        for class_id in range(len(names)):
            s, h = match_frame(found, labels, class_id)
            scores[class_id] += s
            hits[class_id] += h
    counts = frames.counts()
    classes = {}
    for class_id, name in enumerate(names):
        hit = np.array(hits[class_id], bool)
        classes[name] = {
            'ap50': average_precision(np.array(scores[class_id]), hit, counts[name]),
            'objects': counts[name], 'detections': len(hit), 'true_positives': int(hit.sum())}
    measured = [c['ap50'] for c in classes.values() if not np.isnan(c['ap50'])]
    return {'classes': classes, 'map50': float(np.mean(measured)) if measured else float('nan')}


def format_report(report: dict, title: str) -> str:
    """The per-class table `ministral-detector eval` prints."""
    lines = [title, f'{"class":<10} {"AP@0.5":>7} {"objects":>8} {"found":>6} {"boxes":>6}']
    for name, row in report['classes'].items():
        lines.append(f'{name:<10} {row["ap50"]:>7.3f} {row["objects"]:>8} '
                     f'{row["true_positives"]:>6} {row["detections"]:>6}')
    lines.append(f'{"mAP@0.5":<10} {report["map50"]:>7.3f}')
    return '\n'.join(lines)


def missed_goals(report: dict, goals: dict[str, float] = AP_GOALS) -> list[str]:
    """The classes of `goals` whose AP@0.5 in `report` is below their goal ('truck 0.864 <
    0.9'); a class the frames do not hold counts as missed."""
    missed = []
    for name, goal in goals.items():
        ap = report['classes'].get(name, {}).get('ap50', float('nan'))
        if not ap >= goal:  # shown rounded down: 0.89998 is no 0.9000
            missed.append(f'{name} {math.floor(ap * 1e4) / 1e4:.4f} < {goal:g}'
                          if math.isfinite(ap) else f'{name} not in the frames')
    return missed

