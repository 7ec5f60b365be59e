"""Safety for missions: the whole mission is checked before it is published.

The envelope's single-action checks run on each step against the vehicle state predicted from
the steps before it (altitude, position against the geofence, legs without a position, in the
air or not). A step may be modified (`safety.changes` names it: `steps[2].params.altitude_m`)
or refused; a refused step refuses every step after it, since the vehicle would be somewhere
else. The steps that remain are published; a mission longer than `max_mission_steps` is
refused whole, never cut. `predict` is also what the executor uses to know where a step ends.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

from ministral_node.decision import (
    MISSION,
    Proposal,
    SafetyChange,
    SafetyReport,
    mission,
    reject,
    shorten,
    step_dict,
    steps_of,
)
from ministral_node.inputs.vehicle import VehicleState

Evaluate = Callable[[Proposal, VehicleState], tuple[Proposal, SafetyReport]]


def _unit(heading_deg: float) -> tuple[float, float]:
    rad = math.radians(heading_deg)
    return math.sin(rad), math.cos(rad)


def goto_offset(step: Proposal, heading_deg: float | None) -> tuple[float, float, float] | None:
    """The east, north, up displacement of a goto by heading or body offsets (None for a goto
    to a target, or body offsets without a heading)."""
    params = step.params
    if 'distance_m' in params:
        east, north = _unit(params['heading_deg'])
        return east * params['distance_m'], north * params['distance_m'], 0.0
    if 'forward_m' in params:
        if heading_deg is None:
            return None
        fx, fy = _unit(heading_deg)
        forward, right = params['forward_m'], params['right_m']
        return forward * fx + right * fy, forward * fy - right * fx, params['up_m']
    return None


def predict(step: Proposal, state: VehicleState) -> VehicleState:
    """The vehicle state once `step` is done (unknown where it cannot be told)."""
    action, params, position = step.action, step.params, state.position_m
    if action == 'takeoff':
        moved = None if position is None else (position[0], position[1], params['altitude_m'])
        return replace(state, position_m=moved, in_air=True)
    if action == 'land':
        moved = None if position is None or step.target is not None else \
            (position[0], position[1], 0.0)
        return replace(state, position_m=moved, in_air=False)
    if action == 'return_to_home':
        return replace(state, position_m=(0.0, 0.0, 0.0), in_air=False)
    if action == 'change_altitude' and position is not None:
        altitude = params['altitude_m'] if 'altitude_m' in params else \
            position[2] + params['delta_m']
        return replace(state, position_m=(position[0], position[1], altitude))
    if action == 'rotate':
        if 'heading_deg' in params:
            return replace(state, heading_deg=params['heading_deg'] % 360.0)
        if state.heading_deg is not None:
            return replace(state, heading_deg=(state.heading_deg + params['yaw_deg']) % 360.0)
        return state
    if action == 'goto':
        offset = goto_offset(step, state.heading_deg)
        if position is None or offset is None:
            return replace(state, position_m=None)
        return replace(state, position_m=tuple(p + d for p, d in zip(position, offset)))
    if action == 'follow':
        return replace(state, position_m=None)
    return state  # hold, set_speed, capture_photo, orbit and search end where they began


def _step_changes(index: int, report: SafetyReport) -> list[SafetyChange]:
    return [replace(change, field=f'steps[{index}].{change.field}') for change in report.changes]


def check_mission(proposal: Proposal, vehicle: VehicleState, evaluate: Evaluate,
                  max_steps: int) -> tuple[Proposal, SafetyReport]:
    """The mission to publish and what the envelope did to it, step by step.

    `evaluate(step, state)` is the envelope's single-action check on a fresh state.
    """
    steps = steps_of(proposal)
    if len(steps) > max_steps:
        reason = (f'mission of {len(steps)} steps is longer than max_mission_steps '
                  f'({max_steps}): refused, not cut; send it in parts')
        return reject(reason, rationale='safety envelope refused mission'), \
            SafetyReport(refused=reason)
    kept: list[Proposal] = []
    changes: list[SafetyChange] = []
    state, refused_at = vehicle, None
    for index, step in enumerate(steps):
        if refused_at is not None:
            changes.append(SafetyChange(f'steps[{index}]', step_dict(step), None,
                                        f'refused: follows refused step {refused_at}'))
            continue
        if step.action == 'land' and state.in_air is False and index > 0:
            result, report = step, SafetyReport(refused='the vehicle is already on the ground '
                                                        'at this step: land refused')
        else:
            result, report = evaluate(step, state)
        if report.refused is not None:
            refused_at = index
            changes.append(SafetyChange(f'steps[{index}]', step_dict(step), None,
                                        shorten(f'refused: {report.refused}', 300)))
            continue
        changes.extend(_step_changes(index, report))
        kept.append(result)
        state = predict(result, state)
    if not kept:
        reason = shorten(f'mission refused at step 0: {changes[0].reason}', 300)
        return reject(reason, rationale='safety envelope refused mission'), \
            SafetyReport(tuple(changes), reason)
    if len(kept) == 1:
        single = replace(kept[0], confidence=proposal.confidence, rationale=proposal.rationale)
        return single, SafetyReport(tuple(changes))
    return mission(kept, proposal.rationale, proposal.confidence), SafetyReport(tuple(changes))


def is_mission(proposal: Proposal) -> bool:
    """Whether the proposal is a mission."""
    return proposal.action == MISSION
