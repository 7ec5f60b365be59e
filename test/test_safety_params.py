"""Safety limits as declared parameters: defaults, ranges, cross-checks, immutability."""

import dataclasses

import pytest

from ministral_node import parameters
from ministral_node.decision import actions
from ministral_node.parameters import SPECS, ParameterError
from ministral_node.safety.envelope import SafetyLimits


def limit_names():
    return [f.name for f in dataclasses.fields(SafetyLimits) if f.init]


def test_every_limit_is_a_declared_parameter_with_a_description():
    for name in limit_names():
        assert name in SPECS, name
        assert len(SPECS[name].description) > 20, name


def test_defaults_build_the_documented_limits():
    limits = SafetyLimits.from_params({})
    assert (limits.min_altitude_m, limits.max_altitude_m) == (2.0, 120.0)
    assert limits.max_horizontal_speed_mps == 12.0 and limits.max_vertical_speed_mps == 3.0
    assert limits.geofence_max_distance_m == 500.0 and limits.geofence_polygon == ()
    assert set(limits.allowed_actions) == set(actions())
    assert limits.confirm_actions == ()
    assert limits.min_battery_takeoff_pct >= limits.min_battery_mission_pct > 15.0
    assert limits == SafetyLimits.from_params(parameters.defaults())


def test_from_params_ignores_other_parameters_and_coerces_ints():
    values = {**parameters.defaults(), 'max_altitude_m': 60, 'geofence_polygon': [
        -10, -10, 10, -10, 0, 10]}
    limits = SafetyLimits.from_params(values)
    assert limits.max_altitude_m == 60.0 and isinstance(limits.max_altitude_m, float)
    assert limits.geofence.polygon == ((-10.0, -10.0), (10.0, -10.0), (0.0, 10.0))


@pytest.mark.parametrize('changes, message', [
    ({'max_altitude_m': 1.0}, 'max_altitude_m (1.0) must be above min_altitude_m (2.0)'),
    ({'min_altitude_m': 120.0}, 'must be above min_altitude_m'),
    ({'max_orbit_radius_m': 2.0}, 'max_orbit_radius_m (2.0) must be at least min_orbit'),
    ({'max_follow_distance_m': 5.0}, 'max_follow_distance_m (5.0) must be at least default'),
    ({'min_follow_distance_m': 20.0}, 'default_follow_distance_m (10.0) must be at least min'),
    ({'default_search_radius_m': 300.0}, 'max_search_radius_m (200.0) must be at least'),
    ({'min_battery_mission_pct': 40.0}, 'min_battery_takeoff_pct (30.0) must be at least'),
    ({'geofence_margin_m': 600.0}, 'geofence_max_distance_m (500.0) must be above'),
    ({'geofence_polygon': [0.0, 0.0, 10.0, 10.0]}, 'at least 3 vertices, got 2'),
    ({'geofence_polygon': [0.0, 0.0, 10.0, 10.0, 5.0]}, 'odd count of 5'),
    ({'geofence_polygon': [-10, -10, 10, 10, 10, -10, -10, 10]}, 'intersects itself'),
    ({'geofence_polygon': [10, 10, 20, 10, 20, 20]}, 'home (0, 0) must be inside'),
    ({'geofence_polygon': [-10, 0, 0, 0, 10, 0]}, 'less than 1 square metre'),
    ({'geofence_polygon': [-10, -10, 10, -10, 10, -10, 0, 10]}, 'repeats'),
    ({'geofence_polygon': [-1e6, 0, 1, 0, 0, 1]}, 'below the minimum'),
    ({'max_altitude_m': 'high'}, 'expected float'),
    ({'min_battery_takeoff_pct': 150.0}, 'above the maximum 100.0'),
    ({'allowed_actions': ['takeoff', 'teleport']}, "'teleport' is not one of"),
    ({'confirm_actions': ['stop']}, "'stop' is not one of"),
    ({'confirm_actions': ['return_to_home']}, "'return_to_home' is not one of"),
])
def test_bad_values_are_refused_with_a_reason(changes, message):
    with pytest.raises(ParameterError) as info:
        parameters.with_changes(parameters.defaults(), changes)
    assert message in str(info.value)
    with pytest.raises(ParameterError):
        SafetyLimits.from_params(changes)


@pytest.mark.parametrize('polygon', [
    [-10, -10, 10, -10, 10, 10, -10, 10],  # square, counter-clockwise
    [-10, 10, 10, 10, 10, -10, -10, -10],  # clockwise
    [-100, -100, 100, -100, 100, 100, 50, 100, 50, 10, -50, 10, -50, 100, -100, 100],  # a U
])
def test_good_polygons_are_accepted(polygon):
    limits = SafetyLimits.from_params({'geofence_polygon': polygon})
    assert len(limits.geofence.polygon) == len(polygon) // 2


def test_changing_a_limit_is_a_validated_new_value():
    current = parameters.validate(parameters.defaults())
    old = SafetyLimits.from_params(current)
    new = SafetyLimits.from_params(parameters.with_changes(current, {'max_altitude_m': 60}))
    assert (old.max_altitude_m, new.max_altitude_m) == (120.0, 60.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        new.allowed_actions = ('orbit',)


def test_settings_build_their_limits_from_the_values_they_validated(monkeypatch):
    from ministral_node.core import settings as core_settings
    from ministral_node.safety import envelope

    calls = []
    monkeypatch.setattr(envelope, 'validate', lambda values: calls.append(values))
    built = core_settings.Settings.from_values({'max_altitude_m': 60})
    assert calls == [] and built.limits.max_altitude_m == 60.0
    assert built.limits == SafetyLimits.from_validated(built.values)
    assert built.limits.geofence.max_distance_m == 500.0
