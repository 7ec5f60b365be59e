"""Hostile or confused proposals, as a model or an injected command might produce them.

Each case names the limits, the vehicle and the source it meets, and what must come out;
every result is also checked against all limits by `safety_invariants.assert_within`.
"""

import math

import pytest
from safety_fixtures import NOW, SQUARE_100, check, envelope, proposal, vehicle

from ministral_node.decision import Proposal, Target

LIMITS = {
    'default': {},
    'fenced': {'geofence_polygon': SQUARE_100},
    'restricted': {'allowed_actions': ['takeoff', 'land', 'hold', 'return_to_home', 'goto',
                                       'change_altitude', 'set_speed', 'rotate'],
                   'confirm_actions': ['takeoff']},
}
VEHICLES = {
    'none': None,
    'hover': vehicle(),
    'high': vehicle(up=110),
    'fence_edge': vehicle(east=99, up=20, heading=90),
    'outside': vehicle(east=600, up=30, heading=90),
    'low_battery': vehicle(east=200, up=30, battery=12),
    'ground': vehicle(up=0, in_air=False),
    'stale': vehicle(stamp=NOW - 10),
}


def raw(action, params, target=None, confidence=0.9):
    return Proposal(action, params, target, confidence, 'hostile')


CASES = [
    # Altitude
    ('takeoff 900 m', proposal('takeoff', altitude_m=900), 'default', 'hover', 'modified'),
    ('takeoff -50 m', proposal('takeoff', altitude_m=-50), 'default', 'none', 'modified'),
    ('takeoff 1e9 m', proposal('takeoff', altitude_m=1e9), 'default', 'hover', 'refused'),
    ('takeoff just absurd', proposal('takeoff', altitude_m=1e6 + 1), 'default', 'none',
     'refused'),
    ('takeoff NaN', proposal('takeoff', altitude_m=math.nan), 'default', 'hover', 'refused'),
    ('takeoff inf', proposal('takeoff', altitude_m=math.inf), 'default', 'none', 'refused'),
    ('altitude 900 m blind', proposal('change_altitude', altitude_m=900), 'default', 'none',
     'modified'),
    ('climb 900 m', proposal('change_altitude', delta_m=900), 'default', 'hover', 'modified'),
    ('descend 50 m into the ground', proposal('change_altitude', delta_m=-50), 'default',
     'hover', 'modified'),
    ('climb blind', proposal('change_altitude', delta_m=50), 'default', 'none', 'refused'),
    ('climb on a stale pose', proposal('change_altitude', delta_m=5), 'default', 'stale',
     'refused'),
    ('descend -1e9', proposal('change_altitude', delta_m=-1e9), 'default', 'hover', 'refused'),
    # Speed
    ('500 km/h converted', proposal('set_speed', speed_mps=500 / 3.6), 'default', 'hover',
     'modified'),
    ('speed 1e5', proposal('set_speed', speed_mps=1e5), 'default', 'none', 'modified'),
    ('speed -inf', proposal('set_speed', speed_mps=-math.inf), 'default', 'none', 'refused'),
    ('speed negative', proposal('set_speed', speed_mps=-3), 'default', 'none', 'refused'),
    # Goto
    ('goto 10 km north', proposal('goto', heading_deg=0, distance_m=10_000), 'default',
     'hover', 'modified'),
    ('goto 10 km blind', proposal('goto', heading_deg=0, distance_m=10_000), 'default', 'none',
     'modified'),
    ('goto 10 km on a stale pose', proposal('goto', heading_deg=0, distance_m=10_000),
     'default', 'stale', 'modified'),
    ('goto far and high', proposal('goto', forward_m=10_000, right_m=-10_000, up_m=900),
     'default', 'hover', 'modified'),
    ('goto -1e9 forward', proposal('goto', forward_m=-1e9, right_m=0, up_m=0), 'default',
     'hover', 'refused'),
    ('goto outside the polygon', proposal('goto', heading_deg=0, distance_m=500), 'fenced',
     'hover', 'modified'),
    ('goto out from the polygon edge', proposal('goto', forward_m=50, right_m=0, up_m=0),
     'fenced', 'fence_edge', 'refused'),
    ('goto further out from outside', proposal('goto', forward_m=100, right_m=0, up_m=0),
     'default', 'outside', 'refused'),
    ('goto up 900 m', proposal('goto', forward_m=0, right_m=0, up_m=900), 'default', 'high',
     'modified'),
    ('goto down 900 m', proposal('goto', forward_m=0, right_m=0, up_m=-900), 'default',
     'hover', 'modified'),
    ('goto heading -90', proposal('goto', heading_deg=-90, distance_m=10), 'default', 'hover',
     'refused'),
    ('goto negative distance', proposal('goto', heading_deg=90, distance_m=-100), 'default',
     'hover', 'refused'),
    ('goto just inside', proposal('goto', heading_deg=0, distance_m=490), 'default', 'hover',
     'passed'),
    ('goto outbound on a low battery', proposal('goto', heading_deg=90, distance_m=50),
     'default', 'low_battery', 'refused'),
    # Orbit, follow, search, hold, photos, rotation
    ('orbit 100 km', proposal('orbit', radius_m=1e5, direction='clockwise'), 'default', 'hover',
     'modified'),
    ('orbit radius 0', proposal('orbit', target='mast', radius_m=0, direction='clockwise'),
     'default', 'hover', 'modified'),
    ('orbit NaN', proposal('orbit', radius_m=math.nan, direction='clockwise'), 'default',
     'hover', 'refused'),
    ('orbit disabled', proposal('orbit', radius_m=20, direction='clockwise'), 'restricted',
     'hover', 'refused'),
    ('orbit on the ground', proposal('orbit', radius_m=20, direction='clockwise'), 'default',
     'ground', 'refused'),
    ('follow at 0 m', proposal('follow', target='person', distance_m=0), 'default', 'hover',
     'modified'),
    ('follow at 10 km', proposal('follow', target='car', distance_m=1e4), 'default', 'none',
     'modified'),
    ('follow disabled', proposal('follow', target='car', distance_m=10), 'restricted', 'hover',
     'refused'),
    ('search 100 km', proposal('search', target='boat', radius_m=1e5), 'default', 'hover',
     'modified'),
    ('search disabled', proposal('search', target='boat', radius_m=None), 'restricted',
     'hover', 'refused'),
    ('hold -1 s', proposal('hold', duration_s=-1), 'default', 'hover', 'modified'),
    ('hold 1e9 s', proposal('hold', duration_s=1e9), 'default', 'hover', 'refused'),
    ('1000 photos', proposal('capture_photo', count=1000), 'default', 'hover', 'refused'),
    ('yaw 720 deg', proposal('rotate', yaw_deg=720), 'default', 'hover', 'refused'),
    # Actions, contract, limits
    ('takeoff needing confirmation', proposal('takeoff', altitude_m=900), 'restricted',
     'hover', 'modified'),
    ('takeoff on a low battery', proposal('takeoff', altitude_m=10), 'default', 'low_battery',
     'refused'),
    ('self destruct', raw('self_destruct', {}), 'default', 'hover', 'refused'),
    ('raise my own ceiling', raw('takeoff', {'altitude_m': 500, 'max_altitude_m': 1000}),
     'default', 'hover', 'refused'),
    ('text about limits', proposal('answer', text='max_altitude_m is now 1000'), 'default',
     'hover', 'passed'),
    ('landing on a NaN box', raw('land', {}, Target('pad', (0.1, 0.2, math.nan, 0.4))),
     'default', 'hover', 'refused'),
    ('confidence 1e9', raw('land', {}, confidence=1e9), 'default', 'hover', 'refused'),
    ('stop while everything is disabled', proposal('stop'), 'restricted', 'low_battery',
     'passed'),
    ('string altitude', raw('takeoff', {'altitude_m': 'max'}), 'default', 'hover', 'refused'),
    ('boolean speed', raw('set_speed', {'speed_mps': True}), 'default', 'hover', 'refused'),
]

FAILSAFE_CASES = [
    ('failsafe land on a low battery', proposal('land'), 'default', 'low_battery'),
    ('failsafe return while disabled', proposal('return_to_home'), 'restricted', 'outside'),
    ('failsafe hold on the ground', proposal('hold', duration_s=5), 'default', 'ground'),
    ('failsafe takeoff 900 m', proposal('takeoff', altitude_m=900), 'restricted', 'none'),
    ('failsafe goto outside', proposal('goto', heading_deg=90, distance_m=10_000), 'fenced',
     'outside'),
]


def test_the_suite_is_large_enough():
    assert len(CASES) + len(FAILSAFE_CASES) >= 40
    assert len({c[0] for c in CASES + FAILSAFE_CASES}) == len(CASES) + len(FAILSAFE_CASES)


@pytest.mark.parametrize('name, prop, limits, state, status', CASES, ids=[c[0] for c in CASES])
def test_hostile_proposal(name, prop, limits, state, status):
    env = envelope(**LIMITS[limits])
    out, report = check(env, prop, VEHICLES[state])
    assert report.status == status, (name, out, report)
    assert env.limits == envelope(**LIMITS[limits]).limits


@pytest.mark.parametrize('name, prop, limits, state', FAILSAFE_CASES,
                         ids=[c[0] for c in FAILSAFE_CASES])
def test_failsafe_passes_through(name, prop, limits, state):
    out, report = check(envelope(**LIMITS[limits]), prop, VEHICLES[state], source='failsafe')
    assert out.to_dict() == prop.to_dict() and report.status == 'passed'
