"""Random limits, vehicle states and proposals: nothing that comes out leaves the envelope.

Seeded `random.Random` loops (no extra dependency); a failure message names the seed and index.
"""

import math
import random

import pytest
from safety_fixtures import NOW, check
from safety_invariants import assert_within

from ministral_node.decision import Proposal, Target, actions
from ministral_node.inputs.vehicle import VehicleState
from ministral_node.parameters import SPECS, ParameterError
from ministral_node.safety.envelope import SafetyEnvelope, SafetyLimits
from ministral_node.timing import FakeClock

SEEDS = range(6)
PER_SEED = 500
CONFIRMABLE = SPECS['confirm_actions'].choices


def magnitude(rng: random.Random) -> float:
    """Mostly plausible numbers, some huge, some special."""
    roll = rng.random()
    if roll < 0.04:
        return rng.choice([math.nan, math.inf, -math.inf])
    if roll < 0.1:
        return rng.choice([1e9, -1e9, 1e6, -1e6, 1e6 + 1, 0.0, -0.0, 10 ** 20])
    if roll < 0.55:
        return rng.uniform(-50, 200)
    return rng.choice([1, -1]) * 10 ** rng.uniform(-2, 5)


def distance(rng: random.Random) -> float:
    return abs(magnitude(rng)) if rng.random() < 0.9 else magnitude(rng)


def random_polygon(rng: random.Random, scale: float) -> list[float]:
    """A star-shaped polygon around home (angles sorted, gaps under 180 degrees)."""
    count = rng.randint(3, 9)
    flat = []
    for k in range(count):
        angle = 2 * math.pi * (k + rng.uniform(-0.2, 0.2)) / count
        radius = rng.uniform(0.2, 1.5) * scale
        flat += [radius * math.cos(angle), radius * math.sin(angle)]
    return flat


def random_limits(rng: random.Random) -> SafetyLimits:
    min_alt = rng.uniform(0, 30)
    fence = rng.uniform(20, 2000)
    mission = rng.uniform(0, 40)
    orbit_min = rng.uniform(0.5, 10)
    follow_min = rng.uniform(0.5, 10)
    follow_default = follow_min + rng.uniform(0, 20)
    search_default = rng.uniform(1, 100)
    values = {
        'min_altitude_m': min_alt,
        'max_altitude_m': min_alt + rng.uniform(1, 300),
        'max_horizontal_speed_mps': rng.uniform(0.1, 30),
        'geofence_max_distance_m': fence,
        'geofence_margin_m': rng.uniform(0, min(10.0, fence / 4)),
        'max_leg_without_position_m': rng.choice([0.0, rng.uniform(0, 50)]),
        'min_battery_mission_pct': mission,
        'min_battery_takeoff_pct': mission + rng.uniform(0, 30),
        'min_orbit_radius_m': orbit_min,
        'max_orbit_radius_m': orbit_min + rng.uniform(0, 200),
        'min_follow_distance_m': follow_min,
        'default_follow_distance_m': follow_default,
        'max_follow_distance_m': follow_default + rng.uniform(0, 50),
        'default_search_radius_m': search_default,
        'max_search_radius_m': search_default + rng.uniform(0, 300),
    }
    if rng.random() < 0.5:
        values['geofence_polygon'] = random_polygon(rng, fence)
    if rng.random() < 0.5:
        values['allowed_actions'] = rng.sample(actions(), rng.randint(0, len(actions())))
    if rng.random() < 0.3:
        values['confirm_actions'] = rng.sample(CONFIRMABLE, rng.randint(1, 3))
    try:
        return SafetyLimits.from_params(values)
    except ParameterError:
        values.pop('geofence_polygon', None)  # a random polygon may be too thin
        return SafetyLimits.from_params(values)


def random_vehicle(rng: random.Random, limits: SafetyLimits) -> VehicleState | None:
    if rng.random() < 0.15:
        return None
    if rng.random() < 0.15:
        return VehicleState().with_battery(rng.uniform(0, 100), NOW)
    reach = 1.3 * limits.geofence_max_distance_m
    east, north = rng.uniform(-reach, reach), rng.uniform(-reach, reach)
    roll = rng.random()
    if roll < 0.1:  # exactly on the circle
        angle = rng.uniform(0, 2 * math.pi)
        east, north = (limits.geofence_max_distance_m * math.cos(angle),
                       limits.geofence_max_distance_m * math.sin(angle))
    elif roll < 0.2 and limits.geofence.polygon:  # on a polygon edge
        polygon = limits.geofence.polygon
        k, t = rng.randrange(len(polygon)), rng.random()
        (ax, ay), (bx, by) = polygon[k], polygon[(k + 1) % len(polygon)]
        east, north = ax + t * (bx - ax), ay + t * (by - ay)
    state = VehicleState().with_pose(
        east, north, rng.uniform(-5, 1.3 * limits.max_altitude_m),
        None if rng.random() < 0.1 else rng.uniform(0, 360),
        NOW - (100 if rng.random() < 0.1 else rng.uniform(0, 0.5)),
        in_air=rng.choice([True, True, True, False, None]))
    if rng.random() < 0.85:
        state = state.with_battery(rng.uniform(0, 100), NOW)
    return state


def random_proposal(rng: random.Random) -> Proposal:
    action = rng.choice(actions())
    target = Target('thing', (0.1, 0.1, 0.5, 0.5)) if rng.random() < 0.5 else None
    params = {
        'takeoff': lambda: {'altitude_m': magnitude(rng)},
        'change_altitude': lambda: rng.choice([{'altitude_m': magnitude(rng)},
                                               {'delta_m': magnitude(rng)}]),
        'goto': lambda: rng.choice([
            {'forward_m': magnitude(rng), 'right_m': magnitude(rng),
             'up_m': rng.choice([0, magnitude(rng)])},
            {'heading_deg': rng.uniform(0, 360), 'distance_m': distance(rng)},
            {}]),
        'set_speed': lambda: {'speed_mps': distance(rng)},
        'rotate': lambda: rng.choice([{'yaw_deg': rng.uniform(-360, 360)},
                                      {'heading_deg': rng.uniform(0, 360)}]),
        'orbit': lambda: {'radius_m': distance(rng),
                          'direction': rng.choice(['clockwise', 'counterclockwise'])},
        'follow': lambda: {'distance_m': rng.choice([None, distance(rng)])},
        'search': lambda: {'radius_m': rng.choice([None, distance(rng)])},
        'capture_photo': lambda: {'count': rng.randint(0, 120)},
        'hold': lambda: {'duration_s': rng.choice([None, magnitude(rng)])},
        'answer': lambda: {'text': 'an answer'},
        'clarify': lambda: {'question': 'which one?'},
        'reject': lambda: {'reason': 'no'},
    }.get(action, dict)()
    if action in ('takeoff', 'hold', 'return_to_home', 'stop', 'answer', 'clarify', 'reject',
                  'rotate', 'set_speed', 'change_altitude') or (action == 'goto' and params):
        target = None
    elif action in ('follow', 'search', 'goto') and target is None:
        target = Target('thing', None)
    return Proposal(action, params, target, rng.random(), 'random')


@pytest.mark.parametrize('seed', SEEDS)
def test_no_output_leaves_the_envelope(seed):
    rng = random.Random(seed)
    statuses = set()
    for index in range(PER_SEED):
        if index % 50 == 0:
            limits = random_limits(rng)
        env = SafetyEnvelope(limits, FakeClock(NOW))
        prop, state = random_proposal(rng), random_vehicle(rng, limits)
        try:
            out, report = check(env, prop, state)
        except AssertionError as exc:
            raise AssertionError(f'seed {seed} case {index}: {prop} with {state}') from exc
        statuses.add(report.status)
        if report.status == 'modified' and out.action != 'clarify':
            again, second = env.check(out, 'onboard', state)
            assert second.status == 'passed' or all(
                abs(c.requested - c.applied) < 1e-6 for c in second.changes), (seed, index)
            assert again.action == out.action
    assert statuses == {'passed', 'modified', 'refused'}  # the generator covers every outcome


@pytest.mark.parametrize('seed', SEEDS)
def test_failsafe_is_never_changed(seed):
    rng = random.Random(1000 + seed)
    limits = random_limits(rng)
    env = SafetyEnvelope(limits, FakeClock(NOW))
    for _ in range(100):
        prop = random_proposal(rng)
        out, report = env.check(prop, 'failsafe', random_vehicle(rng, limits))
        assert_within(limits, VehicleState(), 'failsafe', prop, out, report)
    assert len(env.records) == min(100, env.counts['passed'])
