"""The simulated world: seeded layouts of the training scenes' objects, built in PyBullet.

Objects are the classes and colours of `ministral_node.training.scenes` (landing pads, cars,
trucks, people, buildings, towers, markers, trees) at real-world sizes, on a textured ground,
so the shipped model sees familiar things. PyBullet runs in DIRECT mode (no display) and
renders the camera with its CPU renderer (`ER_TINY_RENDERER`); it also answers whether the
vehicle touches an object.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ministral_node.training.scenes import CLASSES, COLORS

# Footprint (length, width) and height in metres of each class.
SIZES: dict[str, tuple[float, float, float]] = {
    'pad': (3.0, 3.0, 0.05), 'car': (4.5, 1.9, 1.5), 'truck': (8.0, 2.5, 3.2),
    'person': (0.6, 0.6, 1.8), 'building': (12.0, 9.0, 9.0), 'tower': (2.5, 2.5, 25.0),
    'marker': (1.5, 1.5, 0.1), 'tree': (4.0, 4.0, 7.0),
}
GROUND_COLORS = {'grass': (70, 120, 50), 'asphalt': (70, 70, 72), 'sand': (200, 180, 130),
                 'concrete': (160, 160, 155), 'field': (150, 130, 70)}


@dataclass(frozen=True)
class WorldObject:
    """One object on the ground: class, colour, centre (east, north, metres) and yaw."""

    kind: str
    color: str
    east: float
    north: float
    yaw_deg: float = 0.0

    @property
    def label(self) -> str:
        """How commands name it, e.g. 'red pad'."""
        return f'{self.color} {self.kind}'

    @property
    def height(self) -> float:
        return SIZES[self.kind][2]

    def to_dict(self) -> dict:
        return {'kind': self.kind, 'color': self.color, 'east': round(self.east, 2),
                'north': round(self.north, 2), 'yaw_deg': round(self.yaw_deg, 1)}


@dataclass(frozen=True)
class Layout:
    """Everything on the ground of one scenario."""

    objects: tuple[WorldObject, ...]
    ground: str = 'grass'

    def find(self, label: str) -> WorldObject | None:
        """The object a label names ('red pad', 'pad'), the first one when several match."""
        words = label.lower().split()
        for obj in self.objects:
            if obj.kind in words and (len(words) == 1 or obj.color in words):
                return obj
        return None


def make_layout(seed: int, placed: list[dict] | tuple = (), clutter: int = 6,
                extent_m: float = 60.0, keep_clear_m: float = 6.0, ground: str | None = None,
                clear_corridors: bool = True) -> Layout:
    """The scenario's own objects (`placed`: dicts with kind, color, east, north) plus
    `clutter` seeded random ones within `extent_m` of home. Clutter keeps `keep_clear_m` from
    home and the placed objects, and tall clutter (buildings, towers, trees) stays off the
    compass axes (`clear_corridors`), where the suite's missions fly."""
    rng = np.random.default_rng(seed)
    objects = [WorldObject(p['kind'], p['color'], float(p['east']), float(p['north']),
                           float(p.get('yaw_deg', 0.0))) for p in placed]
    kinds = sorted(CLASSES)
    tries = 0
    while len(objects) < len(placed) + clutter and tries < 1000:
        tries += 1
        kind = kinds[rng.integers(len(kinds))]
        color = CLASSES[kind].colors[rng.integers(len(CLASSES[kind].colors))]
        east, north = rng.uniform(-extent_m, extent_m, 2)
        if math.hypot(east, north) < keep_clear_m + max(SIZES[kind][:2]):
            continue
        if any(math.hypot(east - o.east, north - o.north) < keep_clear_m + max(SIZES[kind][:2])
               for o in objects):
            continue
        if clear_corridors and SIZES[kind][2] > 2.0 and min(abs(east), abs(north)) < 15.0:
            continue
        if any(o.kind == kind and o.color == color for o in objects[:len(placed)]):
            continue  # a target's label stays unique
        objects.append(WorldObject(kind, color, float(east), float(north),
                                   float(rng.uniform(0, 180))))
    grounds = sorted(GROUND_COLORS)
    return Layout(tuple(objects), ground or grounds[int(rng.integers(len(grounds)))])


def _rgba(color: str, alpha: float = 1.0) -> list[float]:
    return [c / 255.0 for c in COLORS[color]] + [alpha]


def ground_texture(ground: str, seed: int, size: int = 256) -> np.ndarray:
    """A seeded noisy ground texture (RGB uint8) so the camera sees motion and scale."""
    rng = np.random.default_rng(seed)
    base = np.array(GROUND_COLORS[ground], dtype=np.float32)
    coarse = rng.normal(0.0, 1.0, (size // 16, size // 16)).repeat(16, 0).repeat(16, 1)
    fine = rng.normal(0.0, 1.0, (size, size))
    shade = 1.0 + 0.08 * coarse + 0.06 * fine
    image = np.clip(base[None, None, :] * shade[..., None], 0, 255).astype(np.uint8)
    image[::64, :, :] = image[::64, :, :] // 2 + 40  # faint grid lines every few metres
    image[:, ::64, :] = image[:, ::64, :] // 2 + 40
    return image


class PhysicsWorld:
    """The layout built in a PyBullet DIRECT client: render camera frames, test contacts."""

    def __init__(self, layout: Layout, seed: int = 0, ground_size_m: float = 400.0) -> None:
        import pybullet as p  # imported here: only the simulator needs it

        self.p = p
        self.layout = layout
        self.client = p.connect(p.DIRECT)
        self._bodies: list[int] = []
        self._solid: list[int] = []  # bodies the vehicle must not touch (not flat ones)
        self.object_of: dict[int, int] = {}  # body id -> index in layout.objects
        self._ground(seed, ground_size_m)
        for index, obj in enumerate(layout.objects):
            first = len(self._bodies)
            self._add(obj)
            self.object_of.update(dict.fromkeys(self._bodies[first:], index))
            if obj.height > 0.5:
                self._solid.extend(self._bodies[first:])
        radius = 0.4
        shape = p.createCollisionShape(p.GEOM_SPHERE, radius=radius, physicsClientId=self.client)
        self.vehicle = p.createMultiBody(0, shape, -1, [0, 0, radius],
                                         physicsClientId=self.client)

    def close(self) -> None:
        """Disconnect the PyBullet client."""
        if self.client is not None:
            self.p.disconnect(self.client)
            self.client = None

    def _ground(self, seed: int, size: float) -> None:
        p, c = self.p, self.client
        half = size / 2
        visual = p.createVisualShape(p.GEOM_BOX, halfExtents=[half, half, 0.05],
                                     physicsClientId=c)
        body = p.createMultiBody(0, -1, visual, [0, 0, -0.05], physicsClientId=c)
        from PIL import Image

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / 'ground.png'
            Image.fromarray(ground_texture(self.layout.ground, seed)).save(path)
            texture = p.loadTexture(str(path), physicsClientId=c)
        p.changeVisualShape(body, -1, textureUniqueId=texture, rgbaColor=[1, 1, 1, 1],
                            physicsClientId=c)

    def _box(self, half: list[float], center: list[float], yaw_deg: float, rgba: list[float]
             ) -> None:
        p, c = self.p, self.client
        visual = p.createVisualShape(p.GEOM_BOX, halfExtents=half, rgbaColor=rgba,
                                     physicsClientId=c)
        collision = p.createCollisionShape(p.GEOM_BOX, halfExtents=half, physicsClientId=c)
        orientation = p.getQuaternionFromEuler([0, 0, math.radians(yaw_deg)])
        self._bodies.append(p.createMultiBody(0, collision, visual, center, orientation,
                                              physicsClientId=c))

    def _cylinder(self, radius: float, height: float, center: list[float],
                  rgba: list[float]) -> None:
        p, c = self.p, self.client
        visual = p.createVisualShape(p.GEOM_CYLINDER, radius=radius, length=height,
                                     rgbaColor=rgba, physicsClientId=c)
        collision = p.createCollisionShape(p.GEOM_CYLINDER, radius=radius, height=height,
                                           physicsClientId=c)
        self._bodies.append(p.createMultiBody(0, collision, visual, center,
                                              physicsClientId=c))

    def _add(self, obj: WorldObject) -> None:
        length, width, height = SIZES[obj.kind]
        x, y, yaw = obj.east, obj.north, 90.0 - obj.yaw_deg
        rgba = _rgba(obj.color)
        if obj.kind == 'pad':
            self._cylinder(length / 2, height, [x, y, height / 2], rgba)
            mark = _rgba('black' if obj.color == 'white' else 'white')
            for dx in (-0.5, 0.5):  # the H
                self._box([0.1, 0.6, 0.02], [x + dx, y, height + 0.01], 0.0, mark)
            self._box([0.5, 0.1, 0.02], [x, y, height + 0.01], 0.0, mark)
        elif obj.kind == 'person':
            self._cylinder(0.25, 1.4, [x, y, 0.7], rgba)
            self._cylinder(0.15, 0.3, [x, y, 1.6], [0.88, 0.72, 0.59, 1])
        elif obj.kind == 'tower':
            self._cylinder(length / 2, height, [x, y, height / 2], rgba)
            self._box([1.5, 1.5, 0.2], [x, y, height], 0.0, _rgba('red'))
        elif obj.kind == 'tree':
            self._cylinder(0.3, 3.0, [x, y, 1.5], [0.4, 0.26, 0.13, 1])
            p, c = self.p, self.client
            visual = p.createVisualShape(p.GEOM_SPHERE, radius=2.0, rgbaColor=_rgba('green'),
                                         physicsClientId=c)
            collision = p.createCollisionShape(p.GEOM_SPHERE, radius=2.0, physicsClientId=c)
            self._bodies.append(p.createMultiBody(0, collision, visual, [x, y, 5.0],
                                                  physicsClientId=c))
        elif obj.kind == 'truck':
            self._box([length / 2 * 0.7, width / 2, height / 2], [x, y, height / 2], yaw, rgba)
            rad = math.radians(yaw)
            cab = [x + math.cos(rad) * length * 0.38, y + math.sin(rad) * length * 0.38]
            self._box([length * 0.12, width / 2, height * 0.35], [*cab, height * 0.35], yaw,
                      [c * 0.8 for c in rgba[:3]] + [1])
        elif obj.kind == 'car':
            self._box([length / 2, width / 2, height * 0.3], [x, y, height * 0.3], yaw, rgba)
            self._box([length * 0.25, width / 2 * 0.9, height * 0.2], [x, y, height * 0.8],
                      yaw, [c * 0.5 for c in rgba[:3]] + [1])
        else:  # building, marker
            self._box([length / 2, width / 2, height / 2], [x, y, height / 2], yaw, rgba)

    # Queries

    def place_vehicle(self, position: list[float] | tuple[float, ...]) -> None:
        """Move the vehicle's collision sphere to its true position."""
        self.p.resetBasePositionAndOrientation(
            self.vehicle, [position[0], position[1], position[2] + 0.4], [0, 0, 0, 1],
            physicsClientId=self.client)

    def touching(self) -> bool:
        """Whether the vehicle touches an object (the ground, pads and markers do not count)."""
        p = self.p
        return any(p.getClosestPoints(self.vehicle, body, 0.0, physicsClientId=self.client)
                   for body in self._solid)

    def render(self, camera: CameraModel, position: tuple[float, float, float],
               heading_deg: float) -> np.ndarray:
        """The camera image (RGB uint8, height x width x 3) from this pose."""
        return self.capture(camera, position, heading_deg)[0]

    def capture(self, camera: CameraModel, position: tuple[float, float, float],
                heading_deg: float, light: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The camera image and its segmentation (body id per pixel, -1 for the sky) from
        this pose; `light` takes PyBullet's tiny-renderer light arguments (lightDirection,
        lightAmbientCoeff, ...), the renderer's defaults without it."""
        p = self.p
        eye, target, up = camera.view(position, heading_deg)
        view = p.computeViewMatrix(eye, target, up)
        projection = p.computeProjectionMatrixFOV(camera.vertical_fov_deg,
                                                  camera.width / camera.height, 0.2, 800.0)
        _, _, rgba, _, segmentation = p.getCameraImage(
            camera.width, camera.height, view, projection, renderer=p.ER_TINY_RENDERER,
            shadow=0, physicsClientId=self.client, **(light or {}))
        shape = (camera.height, camera.width)
        return (np.asarray(rgba, dtype=np.uint8).reshape(*shape, 4)[..., :3],
                np.asarray(segmentation, dtype=np.int32).reshape(shape))


@dataclass(frozen=True)
class CameraModel:
    """A pinhole camera on the vehicle: size, rate, vertical field of view and downward pitch
    (0 looks ahead, 90 straight down: the executor's `camera_mount_pitch_deg`)."""

    width: int = 320
    height: int = 240
    rate_hz: float = 5.0
    vertical_fov_deg: float = 60.0
    pitch_deg: float = 45.0

    @property
    def fy(self) -> float:
        return (self.height / 2) / math.tan(math.radians(self.vertical_fov_deg) / 2)

    def k(self) -> list[float]:
        """Row-major K of `sensor_msgs/CameraInfo` (square pixels, centred)."""
        f = self.fy
        return [f, 0.0, self.width / 2, 0.0, f, self.height / 2, 0.0, 0.0, 1.0]

    def view(self, position: tuple[float, float, float], heading_deg: float
             ) -> tuple[list[float], list[float], list[float]]:
        """Eye, look-at point and up vector in ENU for a level vehicle."""
        heading, pitch = math.radians(heading_deg), math.radians(self.pitch_deg)
        forward = (math.sin(heading), math.cos(heading))
        axis = [forward[0] * math.cos(pitch), forward[1] * math.cos(pitch), -math.sin(pitch)]
        up = [forward[0] * math.sin(pitch), forward[1] * math.sin(pitch), math.cos(pitch)]
        eye = [position[0], position[1], max(position[2], 0.05) + 0.1]
        return eye, [e + a for e, a in zip(eye, axis)], up
