"""Geofence geometry in the local East-North frame around home, in metres.

The fence is a circle of `max_distance_m` around home, intersected with an optional simple
polygon. Everything here is plain float arithmetic on 2-D points; no ROS, no numpy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Point = tuple[float, float]

# Points this close to the boundary count as on it (float noise, not a safety margin).
TOLERANCE_M = 1e-6


def polygon_from_flat(values: Sequence[float]) -> tuple[Point, ...]:
    """Vertices from a flat `[x0, y0, x1, y1, ...]` list (east, north metres)."""
    return tuple((float(values[i]), float(values[i + 1])) for i in range(0, len(values) - 1, 2))


def _cross(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _on_segment(p: Point, a: Point, b: Point) -> bool:
    return (min(a[0], b[0]) - TOLERANCE_M <= p[0] <= max(a[0], b[0]) + TOLERANCE_M
            and min(a[1], b[1]) - TOLERANCE_M <= p[1] <= max(a[1], b[1]) + TOLERANCE_M)


def segments_intersect(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Whether segment a-b touches or crosses segment c-d."""
    d1, d2 = _cross(c, d, a), _cross(c, d, b)
    d3, d4 = _cross(a, b, c), _cross(a, b, d)
    if ((d1 > 0) != (d2 > 0)) and ((d3 > 0) != (d4 > 0)) and 0 not in (d1, d2, d3, d4):
        return True
    return ((d1 == 0 and _on_segment(a, c, d)) or (d2 == 0 and _on_segment(b, c, d))
            or (d3 == 0 and _on_segment(c, a, b)) or (d4 == 0 and _on_segment(d, a, b)))


def _edges(polygon: Sequence[Point]) -> list[tuple[Point, Point]]:
    return [(polygon[i], polygon[(i + 1) % len(polygon)]) for i in range(len(polygon))]


def polygon_problem(values: Sequence[float]) -> str | None:
    """Why a flat vertex list is not a usable fence polygon, or None if it is (or is empty)."""
    if not values:
        return None
    if len(values) % 2:
        return f'needs x,y pairs, got an odd count of {len(values)} numbers'
    polygon = polygon_from_flat(values)
    if len(polygon) < 3:
        return f'needs at least 3 vertices, got {len(polygon)}'
    edges = _edges(polygon)
    for i, (a, b) in enumerate(edges):
        if math.dist(a, b) < TOLERANCE_M:
            return f'vertex {i} repeats the next one'
    for i, (a, b) in enumerate(edges):
        # Neighbouring edges share a vertex; only non-adjacent pairs may not touch.
        for j in range(i + 2, len(edges)):
            if i == 0 and j == len(edges) - 1:
                continue
            if segments_intersect(a, b, *edges[j]):
                return f'edges {i} and {j} cross (the polygon intersects itself)'
    if abs(signed_area(polygon)) < 1.0:
        return 'encloses less than 1 square metre'
    return None


def signed_area(polygon: Sequence[Point]) -> float:
    """Shoelace area, positive for counter-clockwise vertices."""
    return 0.5 * sum(a[0] * b[1] - b[0] * a[1] for a, b in _edges(polygon))


def point_in_polygon(p: Point, polygon: Sequence[Point]) -> bool:
    """Even-odd rule; points on the boundary count as inside."""
    inside = False
    for a, b in _edges(polygon):
        if distance_to_segment(p, a, b) <= TOLERANCE_M:
            return True
        if (a[1] > p[1]) != (b[1] > p[1]):
            x = a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
            if p[0] < x:
                inside = not inside
    return inside


def distance_to_segment(p: Point, a: Point, b: Point) -> float:
    """Shortest distance from p to segment a-b."""
    ab = (b[0] - a[0], b[1] - a[1])
    length2 = ab[0] ** 2 + ab[1] ** 2
    if length2 == 0:
        return math.dist(p, a)
    t = max(0.0, min(1.0, ((p[0] - a[0]) * ab[0] + (p[1] - a[1]) * ab[1]) / length2))
    return math.dist(p, (a[0] + t * ab[0], a[1] + t * ab[1]))


def _ray_hits_segment(p: Point, d: Point, a: Point, b: Point) -> float | None:
    """Distance t > 0 at which the ray p + t*d crosses segment a-b (d is a unit vector)."""
    e = (b[0] - a[0], b[1] - a[1])
    denom = d[0] * e[1] - d[1] * e[0]
    if denom == 0:
        return None  # parallel: the midpoint tests in `Geofence.inside_run` handle overlaps
    w = (a[0] - p[0], a[1] - p[1])
    t = (w[0] * e[1] - w[1] * e[0]) / denom
    s = (w[0] * d[1] - w[1] * d[0]) / denom
    return t if t > 0 and -TOLERANCE_M <= s <= 1 + TOLERANCE_M else None


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
        edge = min(distance_to_segment(p, a, b) for a, b in _edges(self.polygon))
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
        for a, e in _edges(self.polygon):
            t = _ray_hits_segment(p, d, a, e)
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
