"""Builders shared by the safety tests: envelopes on a fake clock, vehicle states, proposals."""

from __future__ import annotations

from safety_invariants import assert_within

from ministral_node.decision import Proposal, SafetyReport, Target
from ministral_node.inputs.vehicle import VehicleState
from ministral_node.safety.envelope import SafetyEnvelope, SafetyLimits
from ministral_node.timing import FakeClock

NOW = 1000.0
SQUARE_100 = [-100.0, -100.0, 100.0, -100.0, 100.0, 100.0, -100.0, 100.0]


def envelope(**params) -> SafetyEnvelope:
    """An envelope over default limits changed by `params`, on a FakeClock at NOW."""
    return SafetyEnvelope(SafetyLimits.from_params(params), FakeClock(NOW))


def vehicle(east: float = 0.0, north: float = 0.0, up: float = 10.0,
            heading: float | None = 0.0, battery: float | None = 80.0,
            in_air: bool | None = True, stamp: float = NOW) -> VehicleState:
    """A vehicle state stamped at `stamp` (fresh at NOW by default)."""
    state = VehicleState().with_pose(east, north, up, heading, stamp, in_air=in_air)
    return state if battery is None else state.with_battery(battery, stamp)


def proposal(action: str, target: str | None = None, **params) -> Proposal:
    return Proposal(action, params, None if target is None else Target(target), 0.8, 'test')


def check(env: SafetyEnvelope, prop: Proposal, state: VehicleState | None = None,
          source: str = 'onboard', **kwargs) -> tuple[Proposal, SafetyReport]:
    """`env.check`, asserting every invariant on the result as well."""
    before = repr(prop)
    out, report = env.check(prop, source, state, **kwargs)
    assert repr(prop) == before, 'the envelope mutated its input'
    fresh = (state or VehicleState()).fresh(env.clock.now(), env.limits.pose_timeout_s,
                                            env.limits.battery_timeout_s)
    assert_within(env.limits, fresh, source, prop, out, report)
    return out, report


def fields_changed(report: SafetyReport) -> list[str]:
    return [c.field for c in report.changes]
