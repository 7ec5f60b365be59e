"""What the node knows about the vehicle, as the safety envelope needs it.

The ROS adapter fills a `VehicleState` from `geometry_msgs/PoseStamped` (local pose, ENU as in
REP-103 and MAVROS `local_position/pose`, origin at home) and `sensor_msgs/BatteryState`.
Stamps are readings of the envelope's clock taken when a message arrived (not header stamps),
so staleness is measured on one clock. Every field may be unknown (None).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace


def heading_from_quaternion(x: float, y: float, z: float, w: float) -> float | None:
    """Compass heading (degrees clockwise from north) of an ENU orientation; None if invalid."""
    norm = math.sqrt(x * x + y * y + z * z + w * w)
    if not math.isfinite(norm) or norm < 1e-9:
        return None
    x, y, z, w = x / norm, y / norm, z / norm, w / norm
    yaw_enu = math.degrees(math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)))
    return (90.0 - yaw_enu) % 360.0


def battery_percent(percentage: float) -> float | None:
    """`sensor_msgs/BatteryState.percentage` (0..1, NaN when unknown) as 0..100, or None."""
    if not math.isfinite(percentage) or not 0.0 <= percentage <= 1.0:
        return None
    return 100.0 * percentage


def _finite(*values: float) -> bool:
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)


@dataclass(frozen=True)
class VehicleState:
    """Last known vehicle state relative to home; None means unknown."""

    position_m: tuple[float, float, float] | None = None  # east, north, up from home
    heading_deg: float | None = None  # compass, clockwise from north
    in_air: bool | None = None
    pose_stamp: float | None = None  # clock reading when the pose arrived
    battery_pct: float | None = None  # 0..100
    battery_stamp: float | None = None

    def with_pose(self, east: float, north: float, up: float, heading_deg: float | None,
                  stamp: float, in_air: bool | None = None,
                  landed_altitude_m: float | None = None) -> VehicleState:
        """A copy with a new pose; a non-finite position makes the pose unknown.

        Without `in_air`, a pose at or below `landed_altitude_m` above home (when given) is
        on the ground and one above it in the air, as the mission executor judges a landing;
        otherwise the last known `in_air` is kept."""
        if not _finite(east, north, up):
            return replace(self, position_m=None, heading_deg=None, pose_stamp=None)
        if in_air is None and landed_altitude_m is not None:
            in_air = float(up) > landed_altitude_m
        heading = heading_deg % 360.0 if heading_deg is not None and _finite(heading_deg) \
            else None
        return replace(self, position_m=(float(east), float(north), float(up)),
                       heading_deg=heading, pose_stamp=stamp,
                       in_air=self.in_air if in_air is None else in_air)

    def with_battery(self, percent: float | None, stamp: float) -> VehicleState:
        """A copy with a new battery reading in percent (None or out of 0..100 is unknown)."""
        known = percent is not None and _finite(percent) and 0.0 <= percent <= 100.0
        return replace(self, battery_pct=float(percent) if known else None,
                       battery_stamp=stamp if known else None)

    def fresh(self, now: float, pose_timeout_s: float, battery_timeout_s: float) -> VehicleState:
        """A copy with everything older than its timeout (or never received) made unknown."""
        state = self
        if self.pose_stamp is None or not 0 <= now - self.pose_stamp <= pose_timeout_s:
            state = replace(state, position_m=None, heading_deg=None, in_air=None,
                            pose_stamp=None)
        if self.battery_stamp is None or not 0 <= now - self.battery_stamp <= battery_timeout_s:
            state = replace(state, battery_pct=None, battery_stamp=None)
        return state


STATE_KEYS = ('east', 'north', 'alt', 'heading', 'in_air', 'battery')
# The help of the command-line option that takes `parse_state`'s text (ministral-decide,
# ministral-eval).
STATE_HELP = ('vehicle state the node would have from its pose and battery topics '
              f'({", ".join(STATE_KEYS)}; e.g. alt=20,in_air=true,battery=80); default: unknown')
_TRUE, _FALSE = frozenset({'true', 'yes', '1', 'on'}), frozenset({'false', 'no', '0', 'off'})


def parse_state(spec: str, now: float) -> VehicleState:
    """A vehicle state from `key=value,...` (keys `STATE_KEYS`: east, north, alt in metres
    from home, heading in degrees, in_air true/false, battery in percent), stamped `now`.

    A position key gives the pose (the others 0); `in_air` without a pose is kept too. Raises
    ValueError naming the bad item.
    """
    values: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in spec.split(','))):
        key, sep, value = item.partition('=')
        key = key.strip().lower()
        if not sep or key not in STATE_KEYS:
            raise ValueError(f'vehicle state item {item!r}: expected one of '
                             f'{", ".join(k + "=..." for k in STATE_KEYS)}')
        values[key] = value.strip().lower()
    state = VehicleState()

    def number(key: str) -> float:
        try:
            result = float(values[key])
        except ValueError:
            raise ValueError(f'vehicle state {key}={values[key]!r} is not a number') from None
        if not math.isfinite(result):
            raise ValueError(f'vehicle state {key}={values[key]!r} is not finite')
        return result

    in_air: bool | None = None
    if 'in_air' in values:
        if values['in_air'] not in _TRUE | _FALSE:
            raise ValueError(f"vehicle state in_air={values['in_air']!r}: true or false")
        in_air = values['in_air'] in _TRUE
    if any(key in values for key in ('east', 'north', 'alt', 'heading')):
        east, north, up = (number(k) if k in values else 0.0 for k in ('east', 'north', 'alt'))
        heading = number('heading') if 'heading' in values else None
        state = state.with_pose(east, north, up, heading, now, in_air=in_air)
    elif in_air is not None:
        state = replace(state, in_air=in_air, pose_stamp=now)
    if 'battery' in values:
        state = state.with_battery(number('battery'), now)
    return state
