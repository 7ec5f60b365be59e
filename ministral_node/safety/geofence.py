"""The geofence: a circle of `max_distance_m` around home, intersected with an optional simple
polygon, in the local East-North frame around home, in metres (`ministral_node.geometry`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ministral_node.geometry import (
    TOLERANCE_M,
    Point,
    distance_to_segment,
    edges,
    point_in_polygon,
    ray_hits_segment,
)


@dataclass(frozen=True)
class Geofence:
    """Circle of `max_distance_m` around home, intersected with `polygon` when one is given."""

    max_distance_m: float
    polygon: tuple[Point, ...] = ()

    def contains(self, p: Point) -> bool:
        """Whether p is inside the fence or on its boundary."""
        if math.hypot(*p) > self.max_distance_m + TOLERANCE_M:
            return False
        return not self.polygon or point_in_polygon(p, self.polygon)

    def clearance(self, p: Point) -> float:
        """Signed distance to the boundary: positive inside, negative outside."""
        circle = self.max_distance_m - math.hypot(*p)
        if not self.polygon:
            return circle
        edge = min(distance_to_segment(p, a, b) for a, b in edges(self.polygon))
        return min(circle, edge if point_in_polygon(p, self.polygon) else -edge)

    def _crossings(self, p: Point, d: Point, length: float) -> list[float]:
        """Distances in (0, length) where the ray p + t*d meets the boundary."""
        ts = []
        # Circle: t^2 + 2(p.d)t + |p|^2 - R^2 = 0
        b = p[0] * d[0] + p[1] * d[1]
        c = p[0] ** 2 + p[1] ** 2 - self.max_distance_m ** 2
        disc = b * b - c
        if disc > 0:
            root = math.sqrt(disc)
            ts += [-b - root, -b + root]
        for a, e in edges(self.polygon):
            t = ray_hits_segment(p, d, a, e)
            if t is not None:
                ts.append(t)
        return sorted(t for t in ts if 0 < t < length)

    def inside_run(self, p: Point, d: Point, length: float) -> tuple[float, float] | None:
        """The first stretch [t_in, t_out] of p + t*d, 0 <= t <= length, inside the fence.

        `d` is a unit vector. None if the ray never enters the fence within `length`.
        """
        if length <= 0:
            return (0.0, 0.0) if self.contains(p) else None
        cuts = [0.0, *self._crossings(p, d, length), length]
        start = None
        for t0, t1 in zip(cuts, cuts[1:]):
            if t1 <= t0:
                continue  # a vertex where two edges meet the ray at the same distance
            mid = 0.5 * (t0 + t1)
            inside = self.contains((p[0] + mid * d[0], p[1] + mid * d[1]))
            if inside and start is None:
                start = t0
            elif not inside and start is not None:
                return start, t0
        return None if start is None else (start, length)
