"""From a normalised image box to a point on the ground, assuming flat ground at home level.

Frames: vehicle positions are local ENU metres from home (east, north, up); headings are
compass degrees (clockwise from north); the camera mount is given in the body frame (forward,
right, up) with a downward pitch (0 looks ahead, 90 straight down). The vehicle is taken as
level (roll and pitch ignored: a gimbal holds the camera, or the error is small at hover).
The pinhole intrinsics are those of `sensor_msgs/CameraInfo` (K = [fx 0 cx; 0 fy cy; 0 0 1]).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ministral_node.inputs.vehicle import VehicleState


class ProjectionError(ValueError):
    """The box cannot be placed on the ground; the message says why."""


@dataclass(frozen=True)
class CameraIntrinsics:
    """Pinhole intrinsics in pixels and the image size they belong to."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    @classmethod
    def from_camera_info(cls, k: list[float] | tuple[float, ...], width: int,
                         height: int) -> CameraIntrinsics | None:
        """From CameraInfo's row-major K and size; None when K is unset (zeros) or invalid."""
        if len(k) != 9 or width <= 0 or height <= 0:
            return None
        fx, fy, cx, cy = float(k[0]), float(k[4]), float(k[2]), float(k[5])
        if not all(math.isfinite(v) for v in (fx, fy, cx, cy)) or fx <= 0 or fy <= 0:
            return None
        return cls(fx, fy, cx, cy, int(width), int(height))


@dataclass(frozen=True)
class CameraMount:
    """Where the camera sits on the vehicle: downward pitch and body-frame offset."""

    pitch_deg: float = 45.0
    forward_m: float = 0.0
    right_m: float = 0.0
    up_m: float = 0.0

    @classmethod
    def from_params(cls, values: Mapping[str, Any]) -> CameraMount:
        """From the `camera_mount_*` parameter values (missing ones at the defaults)."""
        return cls(float(values.get('camera_mount_pitch_deg', 45.0)),
                   float(values.get('camera_mount_forward_m', 0.0)),
                   float(values.get('camera_mount_right_m', 0.0)),
                   float(values.get('camera_mount_up_m', 0.0)))


def body_to_enu(forward: float, right: float, up: float, heading_deg: float
                ) -> tuple[float, float, float]:
    """A body-frame vector (forward, right, up) in ENU for a level vehicle with this heading."""
    rad = math.radians(heading_deg)
    return (forward * math.sin(rad) + right * math.cos(rad),
            forward * math.cos(rad) - right * math.sin(rad), up)


def angle_between(a: float, b: float) -> float:
    """Smallest difference of two compass headings, degrees (0..180)."""
    return abs((a - b + 180.0) % 360.0 - 180.0)


def box_center(box: tuple[float, float, float, float] | list[float]) -> tuple[float, float]:
    """The normalised image point at the centre of a box [x_min, y_min, x_max, y_max]."""
    x_min, y_min, x_max, y_max = box
    return (x_min + x_max) / 2.0, (y_min + y_max) / 2.0


def project_to_ground(point: tuple[float, float], intrinsics: CameraIntrinsics | None,
                      mount: CameraMount, vehicle: VehicleState,
                      max_distance_m: float) -> tuple[float, float]:
    """The ground point (east, north) seen at normalised image `point`.

    Raises `ProjectionError` without intrinsics, pose or heading, for a point at or above the
    horizon, or when the point lies farther than `max_distance_m` from the camera.
    """
    if intrinsics is None:
        raise ProjectionError('no camera intrinsics (camera_info) to place the target')
    if vehicle.position_m is None or vehicle.heading_deg is None:
        raise ProjectionError('vehicle pose unknown: cannot place the target on the ground')
    u = point[0] * intrinsics.width
    v = point[1] * intrinsics.height
    dx = (u - intrinsics.cx) / intrinsics.fx  # image right
    dy = (v - intrinsics.cy) / intrinsics.fy  # image down
    pitch = math.radians(mount.pitch_deg)
    # Optical axis and image-down axis in the body frame (forward, right, up).
    forward = dy * -math.sin(pitch) + math.cos(pitch)
    right = dx
    up = dy * -math.cos(pitch) - math.sin(pitch)
    ray = body_to_enu(forward, right, up, vehicle.heading_deg)
    offset = body_to_enu(mount.forward_m, mount.right_m, mount.up_m, vehicle.heading_deg)
    camera = tuple(p + o for p, o in zip(vehicle.position_m, offset))
    if camera[2] <= 0:
        raise ProjectionError('the camera is at or below the ground: cannot place the target')
    if ray[2] >= -1e-6:
        raise ProjectionError('the target is at or above the horizon: not on the ground')
    t = -camera[2] / ray[2]
    distance = t * math.sqrt(sum(c * c for c in ray))
    if distance > max_distance_m:
        raise ProjectionError(f'the target would be {distance:.0f} m away, beyond '
                              f'max_projection_distance_m ({max_distance_m:g} m)')
    return camera[0] + t * ray[0], camera[1] + t * ray[1]


def ground_distance(point: tuple[float, float], intrinsics: CameraIntrinsics | None,
                    mount: CameraMount, vehicle: VehicleState,
                    max_distance_m: float) -> float | None:
    """Horizontal distance (m) from the vehicle to the ground point seen at normalised image
    `point`; None when it cannot be placed (no intrinsics, pose or heading, above the horizon,
    too far): never a guess."""
    try:
        east, north = project_to_ground(point, intrinsics, mount, vehicle, max_distance_m)
    except ProjectionError:
        return None
    return math.hypot(east - vehicle.position_m[0], north - vehicle.position_m[1])
