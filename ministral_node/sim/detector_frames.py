"""Labelled frames rendered by the simulator, for training and evaluating the object detector.

Each seed builds a world like the scenarios' (`world.make_layout`: the scenes' classes and
colours, a seeded ground) with a few extra pads, cars, trucks and people near home, then
flies the simulator's own camera (`CameraModel`, the renderer `PhysicsWorld` uses) over it:
heights 5-60 m, forward, oblique and downward mounts, the camera pointed so that an object
lies somewhere in view, the light varied around the renderer's default. Each object's box is
the extent of its visible pixels in the renderer's segmentation; objects with too few pixels
are marked `ignore` (not required of a detector).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ministral_node.sim.world import SIZES, CameraModel, Layout, PhysicsWorld, make_layout
from ministral_node.training.detector_data import IMAGES, FrameLabels, FrameSet
from ministral_node.training.scenes import CLASSES

NAMES = tuple(CLASSES)  # class numbers of the detector: the scenes' classes in their order
MAIN_CLASSES = ('pad', 'car', 'truck', 'person')
MIN_SIDE_PX = 4.0  # at 320 x 240: smaller boxes are `ignore`
MIN_PIXELS = 12
HEIGHTS_M = (5.0, 60.0)


@dataclass(frozen=True)
class FramePlan:
    """How the frames of a set are drawn: the frame size, how many per world, and seeds."""

    seeds: tuple[int, ...]
    per_world: int = 24
    width: int = 320
    height: int = 240
    store_width: int = 320  # frames are stored at this size (rendered larger, then shrunk)
    store_height: int = 240


def training_layout(seed: int) -> Layout:
    """A seeded world: 2-6 placed pads, cars, trucks and people within 30 m of home (random
    colours of their class) among 6-14 random objects of every class within 30-60 m."""
    rng = np.random.default_rng(seed + 7_000_003)
    placed: list[dict] = []
    for _ in range(int(rng.integers(2, 7))):
        kind = MAIN_CLASSES[int(rng.integers(len(MAIN_CLASSES)))]
        colors = CLASSES[kind].colors
        for _ in range(20):
            east, north = rng.uniform(-30, 30, 2)
            if all(math.hypot(east - p['east'], north - p['north'])
                   > max(SIZES[kind][:2]) + max(SIZES[p['kind']][:2]) for p in placed):
                placed.append({'kind': kind, 'color': colors[int(rng.integers(len(colors)))],
                               'east': float(east), 'north': float(north),
                               'yaw_deg': float(rng.uniform(0, 360))})
                break
    return make_layout(seed, placed, clutter=int(rng.integers(6, 15)),
                       extent_m=float(rng.uniform(30, 60)), keep_clear_m=3.0,
                       clear_corridors=bool(rng.random() < 0.5))


def _light(rng: np.random.Generator) -> dict | None:
    """The renderer's default light two times in five, else a random sun and mix."""
    if rng.random() < 0.4:
        return None
    azimuth, elevation = rng.uniform(0, 2 * math.pi), rng.uniform(math.radians(25), math.pi / 2)
    direction = [math.cos(azimuth) * math.cos(elevation),
                 math.sin(azimuth) * math.cos(elevation), math.sin(elevation)]
    tint = rng.uniform(0.85, 1.0, 3)
    return {'lightDirection': direction, 'lightColor': tint.tolist(), 'lightDistance': 100.0,
            'lightAmbientCoeff': float(rng.uniform(0.35, 0.8)),
            'lightDiffuseCoeff': float(rng.uniform(0.3, 0.7)),
            'lightSpecularCoeff': float(rng.uniform(0.0, 0.1))}


def _pitch(rng: np.random.Generator) -> float:
    """Downward 30 %, forward (0-10 degrees) 20 %, the suite's 45 degrees 15 %, else any."""
    draw = rng.random()
    if draw < 0.3:
        return 90.0
    if draw < 0.5:
        return float(rng.uniform(0.0, 10.0))
    if draw < 0.65:
        return 45.0
    return float(rng.uniform(15.0, 85.0))


def camera_pose(rng: np.random.Generator, layout: Layout, camera: CameraModel
                ) -> tuple[tuple[float, float, float], float]:
    """A pose (position ENU, compass heading) at 5-60 m from which an object of the layout
    (or, one time in ten, a random ground point) lies somewhere in the camera's view."""
    height = float(math.exp(rng.uniform(*np.log(HEIGHTS_M))))
    if layout.objects and rng.random() < 0.9:
        target = layout.objects[int(rng.integers(len(layout.objects)))]
        east, north = target.east, target.north
    else:
        east, north = rng.uniform(-40, 40, 2)
    half_v = camera.vertical_fov_deg / 2
    half_h = math.degrees(math.atan(math.tan(math.radians(half_v)) * camera.width
                                    / camera.height))
    for _ in range(50):
        depression = camera.pitch_deg + rng.uniform(-0.85, 0.85) * half_v
        if 3.0 < depression <= 90.0:
            break
    else:
        depression = camera.pitch_deg + half_v * 0.5
    distance = min(height / math.tan(math.radians(min(depression, 89.9))), 150.0)
    if depression >= 89.9:  # straight down: anywhere under the vehicle
        distance = 0.0
    heading = float(rng.uniform(0, 360))
    bearing = math.radians(heading + rng.uniform(-0.8, 0.8) * half_h)
    position = (east - distance * math.sin(bearing), north - distance * math.cos(bearing), height)
    if depression >= 89.9:
        footprint = height * math.tan(math.radians(half_v)) * 0.8
        position = (position[0] + rng.uniform(-footprint, footprint),
                    position[1] + rng.uniform(-footprint, footprint), height)
    return position, heading


def object_pixels(segmentation: np.ndarray, object_of: dict[int, int]
                  ) -> dict[int, tuple[np.ndarray, int]]:
    """Per object in view (index in the layout): the box `[x0, y0, x1, y1]` of the pixels it
    covers in `segmentation` (body ids) and how many they are."""
    ids = segmentation.reshape(-1)
    bodies: dict[int, list[int]] = {}
    for body in np.unique(ids):
        index = object_of.get(int(body))
        if index is not None:
            bodies.setdefault(index, []).append(int(body))
    width = segmentation.shape[1]
    found = {}
    for index, own in sorted(bodies.items()):
        pixels = np.flatnonzero(np.isin(ids, own))
        ys, xs = np.divmod(pixels, width)
        found[index] = (np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32),
                        len(pixels))
    return found


def visible_boxes(segmentation: np.ndarray, object_of: dict[int, int], layout: Layout,
                  scale: float = 1.0) -> FrameLabels:
    """Each object's box from the pixels it covers in `segmentation`, scaled by `scale`;
    `ignore` when its box has a side under MIN_SIDE_PX or fewer than MIN_PIXELS (both
    measured at the stored size)."""
    boxes, classes, ignore = [], [], []
    for index, (box, count) in object_pixels(segmentation, object_of).items():
        box = box * scale
        boxes.append(box)
        classes.append(NAMES.index(layout.objects[index].kind))
        ignore.append(bool(min(box[2] - box[0], box[3] - box[1]) < MIN_SIDE_PX
                           or count * scale * scale < MIN_PIXELS))
    if not boxes:
        return FrameLabels.empty()
    return FrameLabels(np.stack(boxes), np.asarray(classes, np.int64), np.asarray(ignore))


def render_world(seed: int, plan: FramePlan, camera_seed: int | None = None):
    """Yield `plan.per_world` (image, labels, pitch) of the training world of `seed`."""
    rng = np.random.default_rng(seed if camera_seed is None else camera_seed)
    layout = training_layout(seed)
    world = PhysicsWorld(layout, seed)
    scale = plan.store_width / plan.width
    try:
        for _ in range(plan.per_world):
            camera = CameraModel(width=plan.width, height=plan.height, pitch_deg=_pitch(rng))
            position, heading = camera_pose(rng, layout, camera)
            world.place_vehicle(position)
            image, segmentation = world.capture(camera, position, heading, _light(rng))
            if scale != 1.0:
                image = cv2.resize(image, (plan.store_width, plan.store_height),
                                   interpolation=cv2.INTER_AREA)
            yield image, visible_boxes(segmentation, world.object_of, layout, scale), \
                camera.pitch_deg
    finally:
        world.close()


def render_set(plan: FramePlan, folder: Path | None = None,
               progress: Callable[[int, int], None] | None = None) -> FrameSet:
    """Render every world of `plan` into a FrameSet (written to `folder`, images memory-mapped
    there, when given)."""
    total = len(plan.seeds) * plan.per_world
    shape = (total, plan.store_height, plan.store_width, 3)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        images = np.lib.format.open_memmap(folder.resolve() / IMAGES, 'w+', np.uint8, shape)
    else:
        images = np.zeros(shape, np.uint8)
    labels: list[FrameLabels] = []
    pitches: list[float] = []
    for done, seed in enumerate(plan.seeds):
        for image, label, pitch in render_world(seed, plan):
            images[len(labels)] = image
            labels.append(label)
            pitches.append(pitch)
        if progress is not None:
            progress(done + 1, len(plan.seeds))
    meta = {'seeds': [min(plan.seeds), max(plan.seeds)], 'per_world': plan.per_world,
            'rendered': [plan.width, plan.height], 'pitch_deg': [round(p, 1) for p in pitches]}
    frames = FrameSet(images, labels, NAMES, meta)
    if folder is not None:
        if isinstance(images, np.memmap):
            images.flush()
        frames.save(folder)
    return frames
