"""Labelled camera frames for the detector, kept on disk as arrays.

A `FrameSet` folder holds `images.npy` (N x H x W x 3 RGB uint8, read memory-mapped), and
`labels.npz`: every frame's boxes (xyxy in pixels of its image), class numbers and `ignore`
flags (objects too small or too hidden to be required of a detector: neither missed when not
found nor wrong when found), with `offsets` saying which rows belong to which frame, and
`meta.json` (class names, how the frames were made). The simulator writes them
(`sim/detector_frames.py`); the trainer and the evaluation read them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

IMAGES, LABELS, META = 'images.npy', 'labels.npz', 'meta.json'


@dataclass(frozen=True)
class FrameLabels:
    """The objects of one frame: `[K, 4]` xyxy boxes in pixels, `[K]` class numbers and
    `[K]` ignore flags."""

    boxes: np.ndarray
    classes: np.ndarray
    ignore: np.ndarray

    @classmethod
    def empty(cls) -> FrameLabels:
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.int64), np.zeros(0, bool))


@dataclass
class FrameSet:
    """Frames and their labels (see the module docstring)."""

    images: np.ndarray
    labels: list[FrameLabels]
    names: tuple[str, ...]
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)

    def save(self, folder: Path) -> Path:
        """Write the set into `folder` (images unless they are already its memory map)."""
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / IMAGES
        if not (isinstance(self.images, np.memmap)
                and Path(self.images.filename).resolve() == target.resolve()):
            np.save(target, np.ascontiguousarray(self.images))
        counts = [len(label.classes) for label in self.labels]
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

        def stacked(name: str, empty: np.ndarray) -> np.ndarray:
            parts = [getattr(label, name) for label in self.labels]
            return np.concatenate(parts) if parts else empty

        np.savez_compressed(folder / LABELS, offsets=offsets,
                            boxes=stacked('boxes', np.zeros((0, 4), np.float32)),
                            classes=stacked('classes', np.zeros(0, np.int64)),
                            ignore=stacked('ignore', np.zeros(0, bool)))
        (folder / META).write_text(json.dumps({**self.meta, 'names': list(self.names),
                                               'frames': len(self)}, indent=1) + '\n')
        return folder

    @classmethod
    def load(cls, folder: Path) -> FrameSet:
        """A set written by `save` (images memory-mapped)."""
        meta = json.loads((folder / META).read_text())
        images = np.load(folder / IMAGES, mmap_mode='r')
        with np.load(folder / LABELS) as arrays:
            offsets, boxes = arrays['offsets'], arrays['boxes'].astype(np.float32)
            classes, ignore = arrays['classes'].astype(np.int64), arrays['ignore'].astype(bool)
        labels = [FrameLabels(boxes[a:b], classes[a:b], ignore[a:b])
                  for a, b in zip(offsets[:-1], offsets[1:])]
        if len(labels) != len(images):
            raise ValueError(f'{folder}: {len(images)} images but {len(labels)} label rows')
        return cls(images, labels, tuple(meta.pop('names')), meta)

    def counts(self) -> dict[str, int]:
        """Required (not ignored) objects per class."""
        total = dict.fromkeys(self.names, 0)
        for label in self.labels:
            for c in label.classes[~label.ignore]:
                total[self.names[int(c)]] += 1
        return total
