"""Frames and units between the node (ENU) and PX4 (NED): known cases and round trips.

Seeded `random.Random` loops (hypothesis is not installed); a failure names the seed.
"""

import math
import random

import pytest

from ministral_node.inputs.vehicle import heading_from_quaternion
from ministral_node.mission.executor import enu_yaw
from ministral_node.vehicle_link.frames import (
    LocalOrigin,
    enu_to_ned,
    enu_yaw_to_ned,
    from_microseconds,
    heading_to_ned_yaw,
    ned_to_enu,
    ned_yaw_to_enu,
    ned_yaw_to_heading,
    to_microseconds,
    wrap_pi,
)

SEEDS = range(5)
PER_SEED = 400


def same_angle(a: float, b: float, tol: float = 1e-9) -> bool:
    return abs(wrap_pi(a - b)) < tol


@pytest.mark.parametrize(('enu', 'ned'), [
    ((0.0, 0.0, 0.0), (0.0, 0.0, -0.0)),
    ((1.0, 0.0, 0.0), (0.0, 1.0, -0.0)),  # east
    ((0.0, 1.0, 0.0), (1.0, 0.0, -0.0)),  # north
    ((0.0, 0.0, 10.0), (0.0, 0.0, -10.0)),  # 10 m up is z = -10 in NED
    ((3.0, -4.0, 2.5), (-4.0, 3.0, -2.5)),
])
def test_known_positions(enu, ned):
    assert enu_to_ned(enu) == ned
    assert ned_to_enu(ned) == pytest.approx(enu)


@pytest.mark.parametrize(('heading_deg', 'enu_rad', 'ned_rad'), [
    (0.0, math.pi / 2, 0.0),  # north
    (90.0, 0.0, math.pi / 2),  # east
    (180.0, -math.pi / 2, -math.pi),  # south (NED yaw wraps to -pi)
    (270.0, math.pi, -math.pi / 2),  # west
    (45.0, math.pi / 4, math.pi / 4),  # north-east: the one case where both agree
])
def test_known_yaws(heading_deg, enu_rad, ned_rad):
    assert same_angle(enu_yaw(heading_deg), enu_rad)
    assert same_angle(enu_yaw_to_ned(enu_rad), ned_rad)
    assert same_angle(ned_yaw_to_enu(ned_rad), enu_rad)
    assert same_angle(heading_to_ned_yaw(heading_deg), ned_rad)
    assert ned_yaw_to_heading(ned_rad) == pytest.approx(heading_deg % 360.0, abs=1e-9)


def test_ned_yaw_is_in_px4_range():
    for heading in range(0, 720, 5):
        assert -math.pi <= heading_to_ned_yaw(heading) < math.pi
        assert -math.pi <= enu_yaw_to_ned(math.radians(heading)) < math.pi


@pytest.mark.parametrize('seed', SEEDS)
def test_round_trips(seed):
    rng = random.Random(seed)
    for i in range(PER_SEED):
        v = tuple(rng.uniform(-1e4, 1e4) for _ in range(3))
        assert ned_to_enu(enu_to_ned(v)) == pytest.approx(v), (seed, i)
        assert enu_to_ned(ned_to_enu(v)) == pytest.approx(v), (seed, i)
        yaw = rng.uniform(-50.0, 50.0)
        assert same_angle(ned_yaw_to_enu(enu_yaw_to_ned(yaw)), yaw), (seed, i)
        heading = rng.uniform(0.0, 360.0)
        assert ned_yaw_to_heading(heading_to_ned_yaw(heading)) == \
            pytest.approx(heading, abs=1e-9), (seed, i)


@pytest.mark.parametrize('seed', SEEDS)
def test_the_ned_yaw_points_where_the_enu_yaw_points(seed):
    """A unit step along the yaw in ENU, converted to NED, is the step along the NED yaw."""
    rng = random.Random(seed)
    for i in range(PER_SEED):
        yaw = rng.uniform(-math.pi, math.pi)
        step_enu = (math.cos(yaw), math.sin(yaw), 0.0)
        north, east, _ = enu_to_ned(step_enu)
        yaw_ned = enu_yaw_to_ned(yaw)
        assert (north, east) == pytest.approx((math.cos(yaw_ned), math.sin(yaw_ned))), (seed, i)


@pytest.mark.parametrize('seed', SEEDS)
def test_heading_agrees_with_the_quaternion_reading(seed):
    """The node reads compass headings from ENU quaternions (vehicle.py); the same heading
    comes back from the NED yaw PX4 would report for that attitude."""
    rng = random.Random(seed)
    for i in range(PER_SEED):
        yaw = rng.uniform(-math.pi, math.pi)
        from_quaternion = heading_from_quaternion(0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2))
        from_ned = ned_yaw_to_heading(enu_yaw_to_ned(yaw))
        assert abs((from_quaternion - from_ned + 180.0) % 360.0 - 180.0) < 1e-6, (seed, i)


@pytest.mark.parametrize('seed', SEEDS)
def test_local_origin_round_trip(seed):
    rng = random.Random(seed)
    for i in range(PER_SEED):
        origin = LocalOrigin(tuple(rng.uniform(-500, 500) for _ in range(3)))
        enu = tuple(rng.uniform(-1e3, 1e3) for _ in range(3))
        assert origin.from_autopilot(origin.to_autopilot(enu)) == pytest.approx(enu), (seed, i)


def test_local_origin_known_case():
    """Home 10 m north, 5 m east and 2 m above the EKF origin (NED z = -2)."""
    origin = LocalOrigin((10.0, 5.0, -2.0))
    assert origin.to_autopilot((0.0, 0.0, 0.0)) == (10.0, 5.0, -2.0)
    # 3 m east, 4 m north and 20 m up from home
    assert origin.to_autopilot((3.0, 4.0, 20.0)) == (14.0, 8.0, -22.0)
    assert origin.from_autopilot((14.0, 8.0, -22.0)) == pytest.approx((3.0, 4.0, 20.0))


def test_microseconds():
    assert to_microseconds(0.0) == 0
    assert to_microseconds(1.5) == 1_500_000
    assert to_microseconds(1234.000001) == 1_234_000_001
    assert isinstance(to_microseconds(2.0), int)
    assert from_microseconds(1_500_000) == 1.5
    rng = random.Random(0)
    for _ in range(PER_SEED):
        us = rng.randrange(0, 10 ** 13)
        assert to_microseconds(from_microseconds(us)) == us
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError):
            to_microseconds(bad)
    with pytest.raises(ValueError):
        from_microseconds(-5)
