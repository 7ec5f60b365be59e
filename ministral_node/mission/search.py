"""A mission step's target looked for when it is not in view.

A step on a named target ("land on the red pad") whose target has no image box searches before
it gives up: a full turn on the spot at its altitude, in steps a little narrower than the
camera's field of view, then the search pattern (a circle of viewpoints around the start,
facing outward). At each viewpoint the vehicle settles, then looks once through the injected
`Finder` (the executor imports no perception: the decision loop gives it one that runs the
object detector on the newest frame). Looking only while still keeps the projection of what it
finds as good as that of a box seen when deciding.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ministral_node.inputs.vehicle import VehicleState
from ministral_node.mission.projection import CameraIntrinsics, angle_between, body_to_enu

TURN, PATTERN = 'turn', 'pattern'
MAX_TURN_STEP_DEG = 45.0
FOV_OVERLAP = 0.8  # a turn step is this share of the horizontal field of view


@dataclass(frozen=True)
class Sighting:
    """One look for a named target in the newest camera frame: its normalised box when exactly
    one detection matches, how many matched, or why no look is possible at all."""

    box: tuple[float, float, float, float] | None = None
    matches: int = 0
    problem: str = ''  # no detector, a class it cannot find: the search gives up at once


# One look for the target a label names (the decision loop runs the detector).
Finder = Callable[[str], Sighting]


@dataclass(frozen=True)
class Viewpoint:
    """Where the vehicle looks from: local ENU position, compass heading, and the phase."""

    east: float
    north: float
    up: float
    heading_deg: float
    phase: str  # turn or pattern


@dataclass(frozen=True)
class Tolerances:
    """When a viewpoint is reached, and how long the vehicle settles there before looking."""

    arrival_m: float = 1.0
    altitude_m: float = 0.5
    yaw_deg: float = 5.0
    settle_s: float = 1.0

    def reached(self, state: VehicleState, point: tuple[float, float, float],
                heading_deg: float | None = None) -> bool:
        """Whether the vehicle is at `point` (local ENU) within these tolerances, and faces
        `heading_deg` when one is given; never while its position is unknown."""
        here = state.position_m
        if here is None or math.dist(here[:2], point[:2]) > self.arrival_m or \
                abs(here[2] - point[2]) > self.altitude_m:
            return False
        return heading_deg is None or (state.heading_deg is not None and angle_between(
            state.heading_deg, heading_deg) <= self.yaw_deg)


def turn_step_deg(intrinsics: CameraIntrinsics | None) -> float:
    """The heading step of the turn: a share of the horizontal field of view, at most 45."""
    if intrinsics is None:
        return MAX_TURN_STEP_DEG
    fov = math.degrees(2.0 * math.atan(intrinsics.width / 2.0 / intrinsics.fx))
    return min(MAX_TURN_STEP_DEG, FOV_OVERLAP * fov)


def viewpoints(here: tuple[float, float, float], heading_deg: float, step_deg: float,
               radius_m: float) -> list[Viewpoint]:
    """A full turn at `here` from `heading_deg` in steps of at most `step_deg`, then (radius
    above 0) as many viewpoints on a circle of `radius_m` around it, facing outward."""
    count = max(1, math.ceil(360.0 / step_deg - 1e-9))
    headings = [(heading_deg + k * 360.0 / count) % 360.0 for k in range(count)]
    views = [Viewpoint(*here, h, TURN) for h in headings]
    if radius_m > 0:
        for h in headings:
            east, north, _ = body_to_enu(radius_m, 0.0, 0.0, h)
            views.append(Viewpoint(here[0] + east, here[1] + north, here[2], h, PATTERN))
    return views


def path_length(views: list[Viewpoint], start: tuple[float, float, float]) -> float:
    """Metres flown from `start` through every viewpoint."""
    points = [start[:2], *((v.east, v.north) for v in views)]
    return sum(math.dist(a, b) for a, b in zip(points, points[1:]))


@dataclass
class SearchTick:
    """What one tick of the search says: the viewpoint to hold, the target's box when it was
    found (seen from the pose of this tick), or why the search gave up."""

    view: Viewpoint | None
    found: tuple[float, float, float, float] | None = None
    failed: str | None = None


class TargetSearch:
    """Visits the viewpoints in order, settles at each and looks once; see the module
    docstring. `ending` is what the reason says when nothing was found (e.g. 'after a full
    turn and a search of 30 m')."""

    def __init__(self, label: str, views: list[Viewpoint], tolerances: Tolerances,
                 ending: str) -> None:
        self.label = label
        self.views = views
        self.tolerances = tolerances
        self.ending = ending
        self.index = 0
        self.looks = 0
        self._settled_from: float | None = None

    @property
    def view(self) -> Viewpoint:
        return self.views[min(self.index, len(self.views) - 1)]

    @property
    def progress(self) -> float:
        return self.index / len(self.views)

    def advance(self, now: float, state: VehicleState, finder: Finder) -> SearchTick:
        """One tick: hold the current viewpoint until reached and settled, then look."""
        view = self.view
        if not self.tolerances.reached(state, (view.east, view.north, view.up),
                                       view.heading_deg):
            self._settled_from = None
            return SearchTick(view)
        if self._settled_from is None:
            self._settled_from = now
        if now - self._settled_from < self.tolerances.settle_s:
            return SearchTick(view)
        sighting = finder(self.label)
        self.looks += 1
        if sighting.problem:
            return SearchTick(None, failed=f'cannot search for {self.label!r}: '
                                           f'{sighting.problem}')
        if sighting.matches > 1:
            return SearchTick(None, failed=f'{sighting.matches} detections match '
                                           f'{self.label!r}: cannot tell which')
        if sighting.box is not None:
            return SearchTick(view, found=sighting.box)
        self.index += 1
        self._settled_from = None
        if self.index >= len(self.views):
            return SearchTick(None, failed=f'{self.label} not found {self.ending}')
        return SearchTick(self.view)
