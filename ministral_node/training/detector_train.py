"""Train the simulated-world detector (`training/detector_net.py`) on a `FrameSet`.

Every frame is letterboxed to the model's square input (or to one of several, drawn at random)
exactly as `perception/detector.py` does at run time (grey 114 bands), after augmentation: a
random zoom into part of the frame (objects as a 640-pixel input sees them), a horizontal flip,
brightness, contrast, per-channel gain, blur and sensor noise; then a random square part of the
input is taken (`crop`: the network is convolutional, so it learns the same for a third less
work). Assignment is static and anchor-free: a grid cell is positive for an object when its
centre lies in the object's box within 2.5 strides of the box centre, on the levels whose size
range holds the box's longer side (the cell holding the centre always is); a cell claimed by
several objects takes the smallest.
Classification is trained with the varifocal loss (a positive's target is the IoU of its
predicted box, so scores rank boxes by quality for NMS), boxes with the GIoU loss. Cells
claimed only by an `ignore` object carry no classification loss. Weights are averaged (EMA) and
the average is what is exported.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.nn import functional as F  # noqa: N812

from ministral_node.perception.detector import letterbox
from ministral_node.training.detector_data import FrameLabels, FrameSet
from ministral_node.training.detector_net import STRIDES, SimDetector, decode

# Longer box side (input pixels) each level learns: strides 8, 16, 32.
LEVEL_RANGES = ((0.0, 64.0), (32.0, 160.0), (96.0, math.inf))
CENTRE_RADIUS = 2.5  # strides


@dataclass(frozen=True)
class TrainConfig:
    """The training run's settings."""

    steps: int = 2400
    batch: int = 16
    lr: float = 0.002
    weight_decay: float = 0.0005
    warmup: int = 100
    input_size: int = 320
    # Further inputs, each frame letterboxed to one of input_size and these at random: the
    # object sizes the node's several inputs (`detector_input_sizes`) show the network.
    more_input_sizes: tuple[int, ...] = ()
    crop: int = 256  # trained on random crops of the letterboxed input (a third less work)
    max_minutes: float = 0.0  # > 0: the schedule also ends by then (a busy machine)
    ema_decay: float = 0.999
    box_weight: float = 2.0
    hard_negatives: bool = True  # other classes at a positive cell at full weight
    zoom_p: float = 0.35
    zoom_max: float = 2.2
    seed: int = 0
    threads: int = 2

    def __post_init__(self) -> None:
        if self.more_input_sizes and self.crop > min(self.input_size, *self.more_input_sizes):
            raise ValueError(f'several input sizes need a crop ({self.crop}) no larger than '
                             'the smallest, so that a batch has one shape')


# Data ---------------------------------------------------------------------------------------

def _zoom(image: np.ndarray, boxes: np.ndarray, rng: np.random.Generator, zoom_max: float
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A random part of the frame blown up to the frame's size; boxes moved and clipped,
    with a mask of the boxes still in view."""
    height, width = image.shape[:2]
    scale = rng.uniform(1.0, zoom_max)
    crop_w, crop_h = width / scale, height / scale
    x0, y0 = rng.uniform(0, width - crop_w), rng.uniform(0, height - crop_h)
    matrix = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]], np.float32)
    image = cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR)
    moved = (boxes - np.array([x0, y0, x0, y0], np.float32)) * scale
    clipped = moved.copy()
    clipped[:, [0, 2]] = clipped[:, [0, 2]].clip(0, width)
    clipped[:, [1, 3]] = clipped[:, [1, 3]].clip(0, height)
    area = (moved[:, 2] - moved[:, 0]) * (moved[:, 3] - moved[:, 1])
    kept_area = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
    # More than 60 % cut away: the rest could be anything, so it is neither object nor ground.
    keep = kept_area > 0
    partial = kept_area < 0.4 * np.maximum(area, 1e-6)
    return image, clipped, np.where(keep, partial, False) | ~keep


def _photometric(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = image.astype(np.float32)
    gain = rng.uniform(0.7, 1.3) * rng.uniform(0.93, 1.07, 3)
    mean = out.mean()
    out = (out - mean) * rng.uniform(0.75, 1.25) + mean
    out *= gain
    if rng.random() < 0.2:
        out = cv2.GaussianBlur(out, (3, 3), rng.uniform(0.3, 1.0))
    if rng.random() < 0.5:
        out += rng.normal(0.0, rng.uniform(1.0, 5.0), out.shape)
    return out.clip(0, 255).astype(np.uint8)


def prepare(image: np.ndarray, labels: FrameLabels, size: int,
            rng: np.random.Generator | None = None, config: TrainConfig | None = None
            ) -> tuple[np.ndarray, FrameLabels]:
    """One frame as the model's input (`[3, size, size]` float 0-1, letterboxed) and its labels
    in input pixels; augmented when `rng` is given."""
    boxes, ignore = labels.boxes.astype(np.float32), labels.ignore.copy()
    image = np.asarray(image)
    if rng is not None:
        config = config or TrainConfig()
        if len(boxes) and rng.random() < config.zoom_p:
            image, boxes, cut = _zoom(image, boxes, rng, config.zoom_max)
            ignore = ignore | cut
        if rng.random() < 0.5:
            image = image[:, ::-1]
            boxes = boxes[:, [2, 1, 0, 3]] * np.array([-1, 1, -1, 1], np.float32) \
                + np.array([image.shape[1], 0, image.shape[1], 0], np.float32)
        image = _photometric(np.ascontiguousarray(image), rng)
    fitted, fit = letterbox(np.ascontiguousarray(image), (size, size))
    boxes = boxes * fit.scale + np.array([fit.left, fit.top, fit.left, fit.top], np.float32)
    if rng is not None and config.crop < size:
        x0, y0 = (int(v) for v in rng.integers(0, size - config.crop + 1, 2))
        fitted = fitted[y0:y0 + config.crop, x0:x0 + config.crop]
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        boxes = (boxes - np.array([x0, y0, x0, y0], np.float32)).clip(0, config.crop)
        kept = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        ignore = ignore | (kept < 0.4 * np.maximum(area, 1e-6))
    valid = (boxes[:, 2] - boxes[:, 0] >= 1.0) & (boxes[:, 3] - boxes[:, 1] >= 1.0)
    tensor = np.ascontiguousarray(fitted.transpose(2, 0, 1)).astype(np.float32) / 255.0
    return tensor, FrameLabels(boxes[valid], labels.classes[valid], ignore[valid])


# Assignment and loss ------------------------------------------------------------------------

def assign(where: torch.Tensor, labels: FrameLabels) -> tuple[torch.Tensor, torch.Tensor,
                                                                torch.Tensor]:
    """For each cell (`where`: centre x, y and stride, `[A, 3]`): the index of the object it
    is positive for (-1: none), and whether it is left out of the classification loss
    (claimed by an ignored object only); also returns the objects' boxes `[K, 4]`."""
    cells = where.shape[0]
    owner = torch.full((cells,), -1, dtype=torch.long)
    skip = torch.zeros(cells, dtype=torch.bool)
    if not len(labels.classes):
        return owner, skip, torch.zeros((0, 4))
    boxes = torch.as_tensor(labels.boxes, dtype=torch.float32)
    cx, cy, stride = where[:, 0:1], where[:, 1:2], where[:, 2:3]  # [A, 1]
    bx = (boxes[:, 0] + boxes[:, 2]) / 2
    by = (boxes[:, 1] + boxes[:, 3]) / 2
    longer = torch.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    in_range = torch.zeros((cells, len(boxes)), dtype=torch.bool)
    for level_stride, (low, high) in zip(STRIDES, LEVEL_RANGES):
        in_range |= (stride == level_stride) & ((longer > low) & (longer <= high))[None, :]
    inside = ((cx > boxes[:, 0]) & (cx < boxes[:, 2]) & (cy > boxes[:, 1])
              & (cy < boxes[:, 3]))
    near = ((cx - bx).abs() < CENTRE_RADIUS * stride) & ((cy - by).abs() < CENTRE_RADIUS * stride)
    holds_centre = ((cx - bx).abs() <= stride / 2) & ((cy - by).abs() <= stride / 2)
    claimed = in_range & ((inside & near) | holds_centre)  # [A, K]
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    ignore = torch.as_tensor(labels.ignore, dtype=torch.bool)
    required = claimed & ~ignore[None, :]
    cost = torch.where(required, area[None, :], torch.full_like(required, math.inf,
                                                                 dtype=torch.float32))
    best = cost.argmin(dim=1)
    has = required.any(dim=1)
    owner[has] = best[has]
    skip = (claimed & ignore[None, :]).any(dim=1) & ~has
    return owner, skip, boxes


def box_iou_pairs(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """IoU and GIoU of matching rows of two xyxy box tensors."""
    lt = torch.maximum(a[:, :2], b[:, :2])
    rb = torch.minimum(a[:, 2:], b[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(dim=1)
    area_a = (a[:, 2:] - a[:, :2]).clamp(min=0).prod(dim=1)
    area_b = (b[:, 2:] - b[:, :2]).clamp(min=0).prod(dim=1)
    union = area_a + area_b - inter + 1e-7
    iou = inter / union
    hull = (torch.maximum(a[:, 2:], b[:, 2:]) - torch.minimum(a[:, :2], b[:, :2])).prod(dim=1)
    return iou, iou - (hull - union) / (hull + 1e-7)


def detection_loss(boxes: torch.Tensor, logits: torch.Tensor, where: torch.Tensor,
                   batch_labels: list[FrameLabels], box_weight: float = 2.0,
                   hard_negatives: bool = True) -> tuple[torch.Tensor, dict[str, float]]:
    """Varifocal classification loss plus GIoU box loss over a batch (see the module
    docstring), normalised by the number of positive cells."""
    owners, skips, matched_boxes, matched_classes = [], [], [], []
    for labels in batch_labels:
        owner, skip, gt = assign(where, labels)
        pos = owner >= 0
        owners.append(owner)
        skips.append(skip)
        matched_boxes.append(gt[owner[pos]] if pos.any() else torch.zeros((0, 4)))
        matched_classes.append(torch.as_tensor(labels.classes, dtype=torch.long)[owner[pos]]
                               if pos.any() else torch.zeros(0, dtype=torch.long))
    pos = torch.stack(owners) >= 0  # [B, A]
    skip = torch.stack(skips)
    positives = int(pos.sum())
    target = torch.zeros_like(logits)
    if positives:
        iou, giou = box_iou_pairs(boxes[pos], torch.cat(matched_boxes))
        box_loss = (1.0 - giou).sum() / positives
        where_pos = pos.nonzero()
        target[where_pos[:, 0], where_pos[:, 1], torch.cat(matched_classes)] = \
            iou.detach().clamp(min=0.05)
    else:
        box_loss = boxes.sum() * 0.0
    probability = logits.sigmoid().detach()
    # Other classes at a positive cell are hard negatives: full weight, so an object's
    # class is told apart from the others, not only from the ground.
    soft = 0.75 * probability.pow(2)
    negative = torch.where(pos[..., None], 1.0, soft) if hard_negatives else soft
    weight = torch.where(target > 0, target, negative)
    terms = F.binary_cross_entropy_with_logits(logits, target, weight=weight, reduction='none')
    cls_loss = terms[~skip].sum() / max(positives, 1)
    total = cls_loss + box_weight * box_loss
    return total, {'cls': float(cls_loss.detach()), 'box': float(box_loss.detach()),
                   'positives': positives}


# Training -----------------------------------------------------------------------------------

class _Ema:
    """Exponential moving average of the weights (and BatchNorm statistics)."""

    def __init__(self, net: SimDetector, decay: float) -> None:
        self.net = copy.deepcopy(net).eval()
        self.decay = decay
        self.updates = 0
        for parameter in self.net.parameters():
            parameter.requires_grad_(False)

    @torch.no_grad()
    def update(self, net: SimDetector) -> None:
        self.updates += 1
        decay = self.decay * (1 - math.exp(-self.updates / 200))
        own = self.net.state_dict()
        for name, value in net.state_dict().items():
            if value.dtype.is_floating_point:
                own[name].mul_(decay).add_(value.detach(), alpha=1 - decay)
            else:
                own[name].copy_(value)


def _batches(frames: FrameSet, config: TrainConfig, rng: np.random.Generator):
    order = np.array([], dtype=np.int64)
    sizes = (config.input_size, *config.more_input_sizes)
    while True:
        if len(order) < config.batch:
            order = np.concatenate([order, rng.permutation(len(frames))])
        chosen, order = order[:config.batch], order[config.batch:]
        images, labels = [], []
        for index in chosen:
            # one input: no draw, so a single-input run keeps the random stream it always had
            size = sizes[int(rng.integers(len(sizes)))] if len(sizes) > 1 else sizes[0]
            image, label = prepare(frames.images[index], frames.labels[index], size, rng,
                                   config)
            images.append(image)
            labels.append(label)
        yield torch.from_numpy(np.stack(images)), labels


def train(frames: FrameSet, config: TrainConfig, log: Callable[[str], None] = print,
          init: SimDetector | None = None) -> tuple[SimDetector, dict]:
    """A detector trained on `frames` (from `init`'s weights when given); returns the
    averaged (EMA) network and a summary."""
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    net = init.train() if init is not None else SimDetector(len(frames.names))
    net = net.to(memory_format=torch.channels_last)  # twice as fast on CPU convolutions
    decay, no_decay = [], []
    for parameter in net.parameters():
        (no_decay if parameter.ndim <= 1 else decay).append(parameter)
    optimizer = torch.optim.AdamW([{'params': decay, 'weight_decay': config.weight_decay},
                                   {'params': no_decay, 'weight_decay': 0.0}], lr=config.lr)

    began = time.monotonic()

    def progress(step: int) -> float:
        done = (step - config.warmup) / max(1, config.steps - config.warmup)
        if config.max_minutes > 0:
            done = max(done, (time.monotonic() - began) / 60 / config.max_minutes)
        return min(1.0, done)

    def rate(step: int) -> float:
        if step < config.warmup:
            return (step + 1) / config.warmup
        return 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress(step)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
    ema = _Ema(net, config.ema_decay)
    batches = _batches(frames, config, rng)
    running: dict[str, float] = {}
    net.train()
    steps = config.steps
    for step in range(config.steps):
        if step > config.warmup and progress(step) >= 1.0:
            steps = step
            log(f'time is up ({config.max_minutes} min): stopped after {step} steps')
            break
        images, labels = next(batches)
        boxes, logits, where = decode(net(images.contiguous(memory_format=torch.channels_last)))
        loss, parts = detection_loss(boxes, logits, where, labels, config.box_weight,
                                     config.hard_negatives)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
        optimizer.step()
        scheduler.step()
        ema.update(net)
        for key, value in {'loss': float(loss.detach()), **parts}.items():
            running[key] = running.get(key, value) * 0.95 + value * 0.05
        if (step + 1) % 50 == 0 or step + 1 == config.steps:
            elapsed = time.monotonic() - began
            log(f'step {step + 1}/{config.steps} loss {running["loss"]:.3f} '
                f'(cls {running["cls"]:.3f} box {running["box"]:.3f}) '
                f'lr {scheduler.get_last_lr()[0]:.5f} {elapsed / 60:.1f} min')
    summary = {'config': asdict(config), 'steps': steps, 'frames': len(frames),
               'names': list(frames.names),
               'minutes': round((time.monotonic() - began) / 60, 1),
               'final_loss': {k: round(v, 4) for k, v in running.items()}}
    return ema.net.to(memory_format=torch.contiguous_format), summary


def save_checkpoint(net: SimDetector, summary: dict, folder: Path) -> Path:
    """The network's weights and the run's summary in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    torch.save({'state': net.state_dict(), 'classes': net.classes, 'width': net.width,
                'neck': net.neck_width}, folder / 'detector.pt')
    (folder / 'training.json').write_text(json.dumps(summary, indent=1) + '\n')
    return folder / 'detector.pt'


def load_checkpoint(path: Path) -> SimDetector:
    """A network saved by `save_checkpoint`."""
    saved = torch.load(path, map_location='cpu')
    net = SimDetector(saved['classes'], saved['width'], saved['neck'])
    net.load_state_dict(saved['state'])
    return net.eval()
