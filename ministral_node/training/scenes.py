"""Seeded camera-like aerial scenes rendered with OpenCV, with the box of every object.

A scene is a ground texture (grass, asphalt, sand, concrete, field) with a few objects on it
(landing pads, cars, trucks, people, buildings, towers, coloured markers, and trees that are
never referred to), then lighting, blur and sensor noise. `render_scene(rng)` returns the RGB
image and each object's kind, colour and normalised box [x_min, y_min, x_max, y_max] taken from
the pixels it drew.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

# RGB values of the colour names commands use.
COLORS: dict[str, tuple[int, int, int]] = {
    'red': (200, 35, 35), 'blue': (35, 70, 200), 'green': (40, 150, 60),
    'yellow': (230, 200, 40), 'white': (235, 235, 235), 'black': (30, 30, 32),
    'orange': (240, 130, 30), 'grey': (125, 125, 130),
}
GROUNDS = ('grass', 'asphalt', 'sand', 'concrete', 'field')
# Mostly 4:3 like most cameras; the engine shrinks them all to the model's longest edge.
FRAME_SIZES = ((640, 480), (320, 240), (320, 240), (448, 336), (384, 216), (288, 288))


@dataclass(frozen=True)
class SceneClass:
    """A kind of object: the colours it comes in, its size range (fraction of the shorter image
    side) and how it is drawn. `referable` objects can be the target of a command."""

    name: str
    colors: tuple[str, ...]
    size: tuple[float, float]
    draw: Callable[[np.ndarray, np.random.Generator, tuple[float, float], float, float,
                    tuple[int, int, int]], None]
    referable: bool = True


@dataclass(frozen=True)
class SceneObject:
    """One object in a rendered scene."""

    kind: str
    color: str
    box: tuple[float, float, float, float]  # normalised, 2 decimals


@dataclass
class Scene:
    """A rendered frame and what is in it."""

    image: np.ndarray  # RGB uint8 (H, W, 3)
    objects: list[SceneObject] = field(default_factory=list)
    ground: str = 'grass'


# Drawing --------------------------------------------------------------------------------------

def _shade(color: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return tuple(int(np.clip(c * factor, 0, 255)) for c in color)


def _rotated_rect(center: tuple[float, float], size: tuple[float, float], angle: float
                  ) -> np.ndarray:
    points = cv2.boxPoints(((center[0], center[1]), (size[0], size[1]), angle))
    return np.round(points).astype(np.int32)


def _draw_pad(image, rng, center, size, angle, color):
    radius = int(size / 2)
    mark = (255, 255, 255) if color != COLORS['white'] else (20, 20, 20)
    if rng.random() < 0.6:
        cv2.circle(image, _pt(center), radius, color, -1, cv2.LINE_AA)
    else:
        cv2.fillPoly(image, [_rotated_rect(center, (size, size), angle)], color, cv2.LINE_AA)
    scale = size / 60.0
    (w, h), _ = cv2.getTextSize('H', cv2.FONT_HERSHEY_SIMPLEX, scale, max(1, int(size / 14)))
    cv2.putText(image, 'H', (int(center[0] - w / 2), int(center[1] + h / 2)),
                cv2.FONT_HERSHEY_SIMPLEX, scale, mark, max(1, int(size / 14)), cv2.LINE_AA)


def _draw_car(image, rng, center, size, angle, color):
    body = (size, size * rng.uniform(0.45, 0.55))
    cv2.fillPoly(image, [_rotated_rect(center, body, angle)], color, cv2.LINE_AA)
    if rng.random() < 0.8:
        glass = _shade(color, 0.45)
        dx, dy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        for offset, length in ((0.18, 0.16), (-0.28, 0.1)):
            c = (center[0] + dx * offset * size, center[1] + dy * offset * size)
            cv2.fillPoly(image, [_rotated_rect(c, (length * size, body[1] * 0.8), angle)],
                         glass, cv2.LINE_AA)


def _draw_truck(image, rng, center, size, angle, color):
    width = size * rng.uniform(0.35, 0.42)
    cv2.fillPoly(image, [_rotated_rect(center, (size, width), angle)], _shade(color, 0.8),
                 cv2.LINE_AA)
    dx, dy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    cab = (center[0] + dx * 0.38 * size, center[1] + dy * 0.38 * size)
    cv2.fillPoly(image, [_rotated_rect(cab, (0.24 * size, width), angle)], color, cv2.LINE_AA)
    cargo = (center[0] - dx * 0.12 * size, center[1] - dy * 0.12 * size)
    cv2.fillPoly(image, [_rotated_rect(cargo, (0.7 * size, width * 0.9), angle)], color,
                 cv2.LINE_AA)


def _draw_person(image, rng, center, size, angle, color):
    body = (size * 0.75, size * 0.45)
    cv2.ellipse(image, (_pt(center), (body[0], body[1]), angle), color, -1, cv2.LINE_AA)
    skin = (225, 185, 150) if rng.random() < 0.5 else (140, 95, 70)
    cv2.circle(image, _pt(center), max(2, int(size * 0.2)), skin, -1, cv2.LINE_AA)


def _draw_building(image, rng, center, size, angle, color):
    footprint = (size, size * rng.uniform(0.55, 1.0))
    shadow = (center[0] + size * 0.08, center[1] + size * 0.08)
    cv2.fillPoly(image, [_rotated_rect(shadow, footprint, angle)], (35, 35, 35), cv2.LINE_AA)
    corners = _rotated_rect(center, footprint, angle)
    cv2.fillPoly(image, [corners], color, cv2.LINE_AA)
    cv2.polylines(image, [corners], True, _shade(color, 0.6), max(1, int(size / 40)),
                  cv2.LINE_AA)
    mid = [(corners[0] + corners[1]) // 2, (corners[2] + corners[3]) // 2]
    cv2.line(image, tuple(int(v) for v in mid[0]), tuple(int(v) for v in mid[1]),
             _shade(color, 0.75), max(1, int(size / 30)), cv2.LINE_AA)


def _draw_tower(image, rng, center, size, angle, color):
    radius = int(size / 2)
    shadow = (int(center[0] + radius * 0.5), int(center[1] + radius * 0.5))
    cv2.circle(image, shadow, radius, (35, 35, 35), -1, cv2.LINE_AA)
    cv2.circle(image, _pt(center), radius, color, -1, cv2.LINE_AA)
    cv2.circle(image, _pt(center), int(radius * 0.6), _shade(color, 0.7), max(1, radius // 6),
                cv2.LINE_AA)
    cv2.circle(image, _pt(center), max(1, int(radius * 0.2)), _shade(color, 0.5), -1,
               cv2.LINE_AA)


def _draw_marker(image, rng, center, size, angle, color):
    half = size / 2
    thickness = max(2, int(size / 5))
    if rng.random() < 0.5:
        for a in (angle + 45, angle - 45):
            dx, dy = math.cos(math.radians(a)) * half, math.sin(math.radians(a)) * half
            cv2.line(image, (int(center[0] - dx), int(center[1] - dy)),
                     (int(center[0] + dx), int(center[1] + dy)), color, thickness, cv2.LINE_AA)
    else:
        points = [(center[0] + half * math.cos(math.radians(angle + k * 120)),
                   center[1] + half * math.sin(math.radians(angle + k * 120))) for k in range(3)]
        cv2.fillPoly(image, [np.round(points).astype(np.int32)], color, cv2.LINE_AA)


def _draw_tree(image, rng, center, size, angle, color):
    for _ in range(4):
        offset = rng.normal(0, size * 0.12, 2)
        radius = int(size * rng.uniform(0.25, 0.4))
        cv2.circle(image, _pt((center[0] + offset[0], center[1] + offset[1])), radius,
                   _shade(COLORS['green'], rng.uniform(0.5, 0.8)), -1, cv2.LINE_AA)


def rectangle_drawer(aspect: float) -> Callable:
    """A drawing function for a plain rotated rectangle (width = aspect * length)."""

    def draw(image, rng, center, size, angle, color):
        cv2.fillPoly(image, [_rotated_rect(center, (size, size * aspect), angle)], color,
                     cv2.LINE_AA)

    return draw


def _pt(point: tuple[float, float]) -> tuple[int, int]:
    return int(round(point[0])), int(round(point[1]))


CLASSES: dict[str, SceneClass] = {c.name: c for c in (
    SceneClass('pad', ('red', 'blue', 'yellow', 'white', 'orange'), (0.16, 0.3), _draw_pad),
    SceneClass('car', ('red', 'blue', 'white', 'black', 'yellow'), (0.16, 0.28), _draw_car),
    SceneClass('truck', ('red', 'blue', 'white', 'yellow', 'orange'), (0.22, 0.36),
               _draw_truck),
    SceneClass('person', ('red', 'blue', 'yellow', 'orange', 'white'), (0.09, 0.14),
               _draw_person),
    SceneClass('building', ('grey', 'white', 'red'), (0.24, 0.42), _draw_building),
    SceneClass('tower', ('grey', 'white'), (0.16, 0.26), _draw_tower),
    SceneClass('marker', ('red', 'blue', 'yellow', 'orange'), (0.1, 0.18), _draw_marker),
    SceneClass('tree', ('green',), (0.12, 0.22), _draw_tree, referable=False),
)}


def register_class(scene_class: SceneClass) -> None:
    """Add (or replace) a scene class, e.g. one described in a user's YAML file."""
    CLASSES[scene_class.name] = scene_class


# Ground and camera ------------------------------------------------------------------------------

def _ground(rng: np.random.Generator, width: int, height: int, kind: str) -> np.ndarray:
    base = {'grass': (70, 120, 60), 'asphalt': (80, 82, 86), 'sand': (190, 170, 125),
            'concrete': (160, 160, 155), 'field': (120, 135, 60)}[kind]
    base = np.asarray(base, np.float32) * rng.uniform(0.85, 1.15, 3).astype(np.float32)
    image = np.empty((height, width, 3), np.float32)
    image[:] = base
    # Low-frequency patches, then fine grain.
    coarse = rng.normal(0, 14, (max(2, height // 40), max(2, width // 40), 1)).astype(np.float32)
    image += cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)[..., None]
    image += rng.standard_normal((height, width, 1), dtype=np.float32) * np.float32(
        rng.uniform(4, 16))
    if kind == 'field':
        period = int(rng.integers(12, 30))
        rows = (np.arange(height) // period) % 2 == 0
        image[rows] *= 0.9
    elif kind in ('asphalt', 'concrete') and rng.random() < 0.7:
        line = (230, 230, 230) if rng.random() < 0.7 else (230, 200, 40)
        y = int(rng.integers(0, height))
        cv2.line(image, (0, y), (width, int(y + rng.normal(0, height * 0.2))), line,
                 max(1, width // 150))
    return image


def _camera(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Lighting (gain, tint, gradient), optional blur, sensor noise."""
    height, width = image.shape[:2]
    gain = rng.uniform(0.65, 1.3) * rng.uniform(0.92, 1.08, 3)
    image = image * gain.astype(np.float32)
    gradient = np.linspace(rng.uniform(-25, 0), rng.uniform(0, 25), width, dtype=np.float32)
    image += gradient[None, :, None]
    if rng.random() < 0.5:
        sigma = rng.uniform(0.3, 1.6)
        image = cv2.GaussianBlur(image, (0, 0), sigma)
    image += rng.standard_normal(image.shape, dtype=np.float32) * np.float32(rng.uniform(0, 10))
    return np.clip(image, 0, 255).astype(np.uint8)


def _box_of(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    ys, xs = np.nonzero(mask)
    if xs.size == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / smaller if smaller > 0 else 0.0


def render_scene(rng: np.random.Generator, kinds: list[tuple[str, str]] | None = None,
                 size: tuple[int, int] | None = None, distractors: int | None = None) -> Scene:
    """A scene with the given (kind, colour) objects (random ones if None) plus distractors.

    Objects never overlap much; each box is measured from the pixels the object drew (before
    blur), so it is exact for rotated shapes and text.
    """
    width, height = size or FRAME_SIZES[int(rng.integers(len(FRAME_SIZES)))]
    ground = GROUNDS[int(rng.integers(len(GROUNDS)))]
    image = _ground(rng, width, height, ground)
    if kinds is None:
        kinds = random_objects(rng, int(rng.integers(1, 5)))
    if distractors is None:
        distractors = int(rng.integers(0, 3))
    wanted = [*kinds, *(('tree', 'green') for _ in range(distractors))]
    objects: list[SceneObject] = []
    placed: list[tuple[float, ...]] = []
    short = min(width, height)
    for kind, color in wanted:
        scene_class = CLASSES[kind]
        for _attempt in range(30):
            extent = rng.uniform(*scene_class.size) * short
            margin = extent * 0.6
            center = (rng.uniform(margin, width - margin), rng.uniform(margin, height - margin))
            rough = (center[0] - margin, center[1] - margin, center[0] + margin,
                     center[1] + margin)
            if all(_overlap(rough, other) < 0.08 for other in placed):
                break
        else:
            continue  # no room left: the scene simply has fewer objects
        # Draw on a patch around the object (shapes stay well inside 0.8 extent of centre).
        x0, y0 = max(0, int(center[0] - extent)), max(0, int(center[1] - extent))
        x1, y1 = min(width, int(center[0] + extent) + 1), min(height, int(center[1] + extent) + 1)
        layer = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
        scene_class.draw(layer, rng, (center[0] - x0, center[1] - y0), extent,
                         float(rng.uniform(0, 180)), COLORS[color])
        mask = layer.any(axis=2)
        box = _box_of(mask)
        if box is None:
            continue
        image[y0:y1, x0:x1][mask] = layer[mask]
        box = (box[0] + x0, box[1] + y0, box[2] + x0, box[3] + y0)
        placed.append(rough)
        if scene_class.referable:
            objects.append(SceneObject(kind, color, (
                round(box[0] / width, 2), round(box[1] / height, 2),
                round(box[2] / width, 2), round(box[3] / height, 2))))
    return Scene(_camera(image, rng), objects, ground)


def random_objects(rng: np.random.Generator, count: int) -> list[tuple[str, str]]:
    """`count` referable (kind, colour) pairs, all different, so each can be named uniquely."""
    pool = [(c.name, color) for c in CLASSES.values() if c.referable for color in c.colors]
    picks = rng.choice(len(pool), size=min(count, len(pool)), replace=False)
    return [pool[int(i)] for i in picks]


DEMO_SCENE = (('pad', 'red'), ('car', 'blue'), ('tower', 'grey'), ('building', 'grey'))


def demo_scene(width: int = 640, height: int = 480, seed: int = 3) -> Scene:
    """The demo's synthetic aerial view (the training renderer): a red landing pad, a blue car,
    a grey tower and a grey building on the ground, with each object's box."""
    rng = np.random.default_rng(seed)
    return render_scene(rng, list(DEMO_SCENE), size=(width, height), distractors=1)
