"""Named colours measured in an image box: each pixel of the box's centre is given the nearest
of the named colours commands use (by hue, saturation and value), and the box takes the most
frequent name. The centre only, so the ground around an object and its edges count little."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

COLOR_NAMES = ('red', 'orange', 'yellow', 'green', 'blue', 'white', 'grey', 'black')
# Hue bands on OpenCV's 0-179 scale: (upper bound, name), the first band that contains it.
_HUES = ((8, 'red'), (20, 'orange'), (34, 'yellow'), (85, 'green'), (135, 'blue'),
         (165, 'blue'), (180, 'red'))  # 135-165 (violet) reads as blue; above 165 red again
_GREY_SATURATION = 0.25  # below: white, grey or black by value
_BLACK_VALUE, _WHITE_VALUE = 0.25, 0.72
CENTRE = 0.6  # fraction of the box's width and height measured, around its centre
MEASURED_EDGE = 24  # a larger centre is sampled on a grid of about this many pixels a side


def pixel_names(hsv: np.ndarray) -> np.ndarray:
    """Colour-name indices (into COLOR_NAMES) of OpenCV HSV pixels (H 0-179, S and V 0-255)."""
    h = hsv[..., 0].astype(np.int32)
    s = hsv[..., 1].astype(np.float32) / 255.0
    v = hsv[..., 2].astype(np.float32) / 255.0
    names = np.zeros(h.shape, np.int32)
    lower = 0
    for upper, name in _HUES:
        names[(h >= lower) & (h < upper)] = COLOR_NAMES.index(name)
        lower = upper
    plain = s < _GREY_SATURATION
    names[plain] = COLOR_NAMES.index('grey')
    names[plain & (v >= _WHITE_VALUE)] = COLOR_NAMES.index('white')
    names[v < _BLACK_VALUE] = COLOR_NAMES.index('black')
    return names


def box_color(image: np.ndarray, box_px: Sequence[float]) -> tuple[str, float]:
    """The named colour of an RGB uint8 image inside `box_px` [x0, y0, x1, y1] and the share of
    the measured pixels that have it."""
    x0, y0, x1, y1 = box_px
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    hw, hh = max(1.0, (x1 - x0) * CENTRE / 2), max(1.0, (y1 - y0) * CENTRE / 2)
    height, width = image.shape[:2]
    left, right = max(0, int(cx - hw)), min(width, int(np.ceil(cx + hw)))
    top, bottom = max(0, int(cy - hh)), min(height, int(np.ceil(cy + hh)))
    step = max(1, int(max(bottom - top, right - left) // MEASURED_EDGE))
    patch = image[top:max(bottom, top + 1):step, left:max(right, left + 1):step]
    if patch.size == 0:
        return 'grey', 0.0
    hsv = cv2.cvtColor(np.ascontiguousarray(patch), cv2.COLOR_RGB2HSV)
    counts = np.bincount(pixel_names(hsv).ravel(), minlength=len(COLOR_NAMES))
    best = int(counts.argmax())
    return COLOR_NAMES[best], float(counts[best] / counts.sum())
