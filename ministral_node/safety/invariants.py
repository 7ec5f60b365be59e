"""The safety invariants a flight must keep at every instant, checked by the simulator on every
step: never above `max_altitude_m`, never farther from home than `geofence_max_distance_m` nor
outside `geofence_polygon`, never faster than `max_horizontal_speed_mps` /
`max_vertical_speed_mps`. A violation counts once per episode (each time an invariant goes from
kept to broken). The limits are the node's own parameters (`Limits.from_params`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ministral_node.geometry import point_in_polygon, polygon_from_flat


class Sample(Protocol):
    """What the monitor reads of one instant of a flight."""

    t: float
    position: tuple[float, float, float]
    speed_h: float
    speed_v: float


# What the measurement allows beyond a limit (numerical integration, not a margin to use).
ALTITUDE_SLACK_M = 0.3
SPEED_SLACK_MPS = 0.15


@dataclass(frozen=True)
class Limits:
    """The envelope the vehicle must stay in, and the failsafe timing, from node parameters."""

    max_altitude_m: float = 120.0
    geofence_max_distance_m: float = 500.0
    geofence_polygon: tuple[tuple[float, float], ...] = ()
    max_horizontal_speed_mps: float = 12.0
    max_vertical_speed_mps: float = 3.0
    link_loss_timeout_s: float = 10.0
    failsafe_hold_s: float = 5.0
    failsafe_action: str = 'return_to_home'
    pose_timeout_s: float = 1.0

    @classmethod
    def from_params(cls, values: Mapping[str, Any]) -> Limits:
        """From node parameter values (missing ones keep the defaults)."""
        names = [n for n in cls.__dataclass_fields__ if n != 'geofence_polygon' and n in values]
        polygon = tuple(polygon_from_flat(values.get('geofence_polygon') or []))
        found = {n: values[n] if n == 'failsafe_action' else float(values[n]) for n in names}
        return cls(**found, geofence_polygon=polygon)


@dataclass
class Violation:
    """An invariant broken at time `t`: what was measured against which limit."""

    t: float
    invariant: str
    measured: float
    limit: float

    def to_dict(self) -> dict:
        return {'t': round(self.t, 2), 'invariant': self.invariant,
                'measured': round(self.measured, 3), 'limit': self.limit}


class SafetyMonitor:
    """Checks every sample against the limits; keeps the episodes of violation."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.violations: list[Violation] = []
        self._broken: set[str] = set()

    def check(self, sample: Sample) -> None:
        lim = self.limits
        x, y, z = sample.position
        checks = {
            'max_altitude_m': (z, lim.max_altitude_m + ALTITUDE_SLACK_M, lim.max_altitude_m),
            'geofence_max_distance_m': (math.hypot(x, y), lim.geofence_max_distance_m,
                                        lim.geofence_max_distance_m),
            'max_horizontal_speed_mps': (sample.speed_h,
                                         lim.max_horizontal_speed_mps + SPEED_SLACK_MPS,
                                         lim.max_horizontal_speed_mps),
            'max_vertical_speed_mps': (abs(sample.speed_v),
                                       lim.max_vertical_speed_mps + SPEED_SLACK_MPS,
                                       lim.max_vertical_speed_mps),
        }
        if lim.geofence_polygon:
            outside = 0.0 if point_in_polygon((x, y), lim.geofence_polygon) else 1.0
            checks['geofence_polygon'] = (outside, 0.5, 0.0)
        for name, (measured, allowed, limit) in checks.items():
            if measured > allowed:
                if name not in self._broken:
                    self._broken.add(name)
                    self.violations.append(Violation(sample.t, name, measured, limit))
            else:
                self._broken.discard(name)
