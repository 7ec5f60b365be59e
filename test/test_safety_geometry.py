"""Geofence geometry and vehicle state helpers the envelope relies on."""

import math

import pytest

from ministral_node.geometry import (
    point_in_polygon,
    polygon_from_flat,
    polygon_problem,
    segments_intersect,
)
from ministral_node.inputs.vehicle import VehicleState, battery_percent, heading_from_quaternion
from ministral_node.safety.geofence import Geofence

SQUARE = polygon_from_flat([-100, -100, 100, -100, 100, 100, -100, 100])
U_SHAPE = polygon_from_flat([-100, -100, 100, -100, 100, 100, 50, 100, 50, 0, -50, 0, -50, 100,
                             -100, 100])


@pytest.mark.parametrize('point, inside', [
    ((0, 0), True), ((99, 99), True), ((100, 0), True), ((100.1, 0), False),
    ((0, 50), False), ((-75, 50), True), ((0, -100), True), ((0, 0.5), False)])
def test_point_in_u_shape(point, inside):
    assert point_in_polygon(point, U_SHAPE) == inside


@pytest.mark.parametrize('point, clearance', [
    ((0, 0), 100.0), ((90, 0), 10.0), ((120, 0), -20.0), ((0, -95), 5.0)])
def test_clearance_is_signed_distance_to_the_nearest_edge(point, clearance):
    assert Geofence(1000.0, SQUARE).clearance(point) == pytest.approx(clearance)


def test_circle_only_fence():
    fence = Geofence(50.0)
    assert fence.contains((30, 40)) and not fence.contains((30, 40.1))
    assert fence.clearance((0, 10)) == pytest.approx(40.0)
    assert fence.inside_run((0, 0), (1, 0), 80.0) == pytest.approx((0.0, 50.0))
    assert fence.inside_run((-80, 0), (1, 0), 200.0) == pytest.approx((30.0, 130.0))
    assert fence.inside_run((-80, 0), (0, 1), 200.0) is None


def test_inside_run_stops_at_the_first_exit_of_a_non_convex_fence():
    fence = Geofence(1000.0, U_SHAPE)
    assert fence.inside_run((-75, 50), (1, 0), 150.0) == pytest.approx((0.0, 25.0))
    assert fence.inside_run((-75, -50), (1, 0), 150.0) == pytest.approx((0.0, 150.0))
    assert fence.inside_run((0, 50), (0, 1), 30.0) is None
    assert fence.inside_run((0, 50), (0, -1), 100.0) == pytest.approx((50.0, 100.0))


def test_inside_run_through_a_vertex():
    fence = Geofence(1000.0, SQUARE)
    diagonal = (math.sqrt(0.5), math.sqrt(0.5))
    assert fence.inside_run((0, 0), diagonal, 500.0)[1] == pytest.approx(100 * math.sqrt(2))


def test_segments_intersect():
    assert segments_intersect((0, 0), (2, 2), (0, 2), (2, 0))
    assert segments_intersect((0, 0), (2, 0), (1, 0), (3, 0))  # collinear overlap
    assert segments_intersect((0, 0), (1, 1), (1, 1), (2, 0))  # touching end
    assert not segments_intersect((0, 0), (1, 0), (0, 1), (1, 1))
    assert not segments_intersect((0, 0), (1, 0), (2, 0), (3, 0))


def test_polygon_problem_accepts_empty_and_simple():
    assert polygon_problem([]) is None
    assert polygon_problem([0, 0, 10, 0, 0, 10]) is None


# Vehicle state


@pytest.mark.parametrize('yaw_enu_deg, heading', [(0, 90), (90, 0), (-90, 180), (180, 270)])
def test_heading_from_an_enu_quaternion(yaw_enu_deg, heading):
    half = math.radians(yaw_enu_deg) / 2
    assert heading_from_quaternion(0, 0, math.sin(half), math.cos(half)) == \
        pytest.approx(heading % 360, abs=1e-9)


def test_invalid_quaternions_give_no_heading():
    assert heading_from_quaternion(0, 0, 0, 0) is None
    assert heading_from_quaternion(math.nan, 0, 0, 1) is None


@pytest.mark.parametrize('fraction, percent', [
    (0.5, 50.0), (1.0, 100.0), (0.0, 0.0), (math.nan, None), (1.5, None), (-0.1, None)])
def test_battery_percent(fraction, percent):
    assert battery_percent(fraction) == percent


def test_pose_and_battery_update_and_go_stale_separately():
    state = VehicleState().with_pose(1, 2, 3, 370.0, stamp=10.0, in_air=True)
    state = state.with_battery(55.0, stamp=10.0)
    assert state.position_m == (1.0, 2.0, 3.0) and state.heading_deg == pytest.approx(10.0)
    assert state.fresh(10.5, 1.0, 10.0) == state
    stale_pose = state.fresh(12.0, 1.0, 10.0)
    assert stale_pose.position_m is None and stale_pose.in_air is None
    assert stale_pose.battery_pct == 55.0
    assert state.fresh(21.0, 60.0, 10.0).battery_pct is None
    assert state.fresh(9.0, 1.0, 10.0).position_m is None  # stamped in the future


def test_non_finite_inputs_make_state_unknown():
    state = VehicleState().with_pose(1, 2, 3, 0.0, stamp=1.0)
    assert state.with_pose(math.nan, 0, 0, 0.0, stamp=2.0).position_m is None
    assert state.with_pose(0, 0, 0, math.inf, stamp=2.0).heading_deg is None
    assert VehicleState().with_battery(math.nan, 1.0).battery_pct is None
    assert VehicleState().with_battery(None, 1.0).battery_pct is None
    assert VehicleState().fresh(0.0, 1.0, 1.0) == VehicleState()
