"""Frames and units between the node (ENU) and the autopilots (PX4 NED; MAVROS ENU).

The node works in a local ENU frame with its origin at home: x east, y north, z up (REP-103,
MAVROS `local_position/pose`). PX4's uORB/uXRCE-DDS topics use a local NED frame: x north,
y east, z down, whose origin is the estimator's local origin (not necessarily home).

| quantity | node (ENU) | PX4 (NED) |
|---|---|---|
| position | (east, north, up) from home | (north, east, down) from the EKF origin |
| velocity | (v_east, v_north, v_up) | (v_north, v_east, v_down) |
| yaw | radians from east, counter-clockwise | radians from north, clockwise, in [-pi, pi] |
| compass heading | degrees from north, clockwise, [0, 360) | = NED yaw in degrees, mod 360 |
| time | seconds (float) | microseconds (uint64) |

Both swaps are their own inverse: applying one twice gives back the input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Vector3 = tuple[float, float, float]

_TWO_PI = 2.0 * math.pi


def wrap_pi(angle: float) -> float:
    """The same angle in [-pi, pi) (radians)."""
    return (angle + math.pi) % _TWO_PI - math.pi


def enu_to_ned(vector: Vector3) -> Vector3:
    """A position or velocity (east, north, up) as (north, east, down)."""
    east, north, up = vector
    return (float(north), float(east), -float(up))


def ned_to_enu(vector: Vector3) -> Vector3:
    """A position or velocity (north, east, down) as (east, north, up)."""
    north, east, down = vector
    return (float(east), float(north), -float(down))


def enu_yaw_to_ned(yaw_enu: float) -> float:
    """ENU yaw (from east, counter-clockwise) as NED yaw (from north, clockwise), [-pi, pi)."""
    return wrap_pi(math.pi / 2.0 - yaw_enu)


def ned_yaw_to_enu(yaw_ned: float) -> float:
    """NED yaw (from north, clockwise) as ENU yaw (from east, counter-clockwise), [-pi, pi)."""
    return wrap_pi(math.pi / 2.0 - yaw_ned)


def heading_to_ned_yaw(heading_deg: float) -> float:
    """Compass heading (degrees clockwise from north) as NED yaw (radians, [-pi, pi))."""
    return wrap_pi(math.radians(heading_deg))


def ned_yaw_to_heading(yaw_ned: float) -> float:
    """NED yaw (radians) as a compass heading in degrees, [0, 360)."""
    heading = math.degrees(yaw_ned) % 360.0
    return 0.0 if heading >= 360.0 else heading


@dataclass(frozen=True)
class LocalOrigin:
    """Where home is in the autopilot's local NED frame (PX4 `home_position` x, y, z).

    The node's ENU frame has its origin at home; PX4's local frame has its origin where the
    estimator started. With `home_ned` = (0, 0, 0) the two origins coincide.
    """

    home_ned: Vector3 = (0.0, 0.0, 0.0)

    def to_autopilot(self, enu_from_home: Vector3) -> Vector3:
        """A node position (ENU from home) as a position in the autopilot's local NED frame."""
        north, east, down = enu_to_ned(enu_from_home)
        hn, he, hd = self.home_ned
        return (north + hn, east + he, down + hd)

    def from_autopilot(self, ned: Vector3) -> Vector3:
        """An autopilot local NED position as the node's ENU position from home."""
        hn, he, hd = self.home_ned
        return ned_to_enu((ned[0] - hn, ned[1] - he, ned[2] - hd))


def to_microseconds(seconds: float) -> int:
    """Seconds (a clock reading) as the integer microseconds PX4's `timestamp` fields carry."""
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f'a PX4 timestamp is a non-negative time, not {seconds!r}')
    return int(round(seconds * 1_000_000))


def from_microseconds(microseconds: int) -> float:
    """PX4 microseconds as seconds."""
    if microseconds < 0:
        raise ValueError(f'a PX4 timestamp is non-negative, not {microseconds!r}')
    return microseconds / 1_000_000
