"""Plane geometry in the local East-North frame around home, in metres: points, segments and
simple polygons (the geofence, its parameter check and the simulator's invariants share it).
Plain float arithmetic on 2-D points; no ROS, no numpy."""

from __future__ import annotations

import math
from collections.abc import Sequence

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


def edges(polygon: Sequence[Point]) -> list[tuple[Point, Point]]:
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
    sides = edges(polygon)
    for i, (a, b) in enumerate(sides):
        if math.dist(a, b) < TOLERANCE_M:
            return f'vertex {i} repeats the next one'
    for i, (a, b) in enumerate(sides):
        # Neighbouring edges share a vertex; only non-adjacent pairs may not touch.
        for j in range(i + 2, len(sides)):
            if i == 0 and j == len(sides) - 1:
                continue
            if segments_intersect(a, b, *sides[j]):
                return f'edges {i} and {j} cross (the polygon intersects itself)'
    if abs(signed_area(polygon)) < 1.0:
        return 'encloses less than 1 square metre'
    return None


def signed_area(polygon: Sequence[Point]) -> float:
    """Shoelace area, positive for counter-clockwise vertices."""
    return 0.5 * sum(a[0] * b[1] - b[0] * a[1] for a, b in edges(polygon))


def point_in_polygon(p: Point, polygon: Sequence[Point]) -> bool:
    """Even-odd rule; points on the boundary count as inside."""
    inside = False
    for a, b in edges(polygon):
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


def ray_hits_segment(p: Point, d: Point, a: Point, b: Point) -> float | None:
    """Distance t > 0 at which the ray p + t*d crosses segment a-b (d is a unit vector)."""
    e = (b[0] - a[0], b[1] - a[1])
    denom = d[0] * e[1] - d[1] * e[0]
    if denom == 0:
        return None  # parallel: the midpoint tests in `Geofence.inside_run` handle overlaps
    w = (a[0] - p[0], a[1] - p[1])
    t = (w[0] * e[1] - w[1] * e[0]) / denom
    s = (w[0] * d[1] - w[1] * d[0]) / denom
    return t if t > 0 and -TOLERANCE_M <= s <= 1 + TOLERANCE_M else None
