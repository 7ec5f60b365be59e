"""The JSON decision contract <-> ministral_interfaces: every action of the contract (each
params variant, missions included) goes JSON -> message fields -> JSON and comes back equal on
every field the message carries, valid against the schema; then the same through real
messages when the package is built (`make setup`)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

from ministral_node import decision as d
from ministral_node.ros import interfaces_mapping as m

ROOT = Path(__file__).resolve().parent.parent
BOX = (0.1, 0.2, 0.3, 0.4)
# One proposal per params variant of the contract, in the schema's order.
PROPOSALS = [
    d.Proposal('takeoff', {'altitude_m': 10}),
    d.Proposal('land', {}, d.Target('red pad', BOX)),
    d.Proposal('hold', {'duration_s': None}),
    d.Proposal('return_to_home', {}),
    d.Proposal('goto', {'forward_m': 0.0, 'right_m': -3.5, 'up_m': 2.0}),
    d.Proposal('goto', {'heading_deg': 90.0, 'distance_m': 20.0}),
    d.Proposal('goto', {}, d.Target('blue car', None)),
    d.Proposal('change_altitude', {'altitude_m': 15.0}),
    d.Proposal('change_altitude', {'delta_m': -2.0}),
    d.Proposal('set_speed', {'speed_mps': 4.0}),
    d.Proposal('rotate', {'yaw_deg': -45.0}),
    d.Proposal('rotate', {'heading_deg': 0.0}),
    d.Proposal('orbit', {'radius_m': 8.0, 'direction': 'counterclockwise'}, d.Target('tower')),
    d.Proposal('follow', {'distance_m': None}, d.Target('person', BOX)),
    d.Proposal('search', {'radius_m': 30.0}, d.Target('white van')),
    d.Proposal('capture_photo', {'count': 3}),
    d.Proposal('stop', {}),
    d.mission([d.Proposal('takeoff', {'altitude_m': 10.0}),
               d.Proposal('goto', {'heading_deg': 0.0, 'distance_m': 20.0}),
               d.Proposal('hold', {'duration_s': 5.0}),
               d.Proposal('land', {}, d.Target('red pad', BOX))], 'three legs'),
    d.answer('I see two cars.'),
    d.clarify('Which car?'),
    d.reject('no weapons'),
]


def _decision(proposal: d.Proposal, **extra) -> dict:
    return d.make_decision(
        proposal, source='onboard', stamp=1765090000.123456, latency_ms=12.5,
        command=d.CommandInfo('c-1', 'do it', 1765089999.5),
        frame=d.FrameInfo(1765089999.9, 'camera', 0.2, 640, 480),
        model=d.ModelInfo('ministral-3', 'q4', 'cpu'),
        safety=d.SafetyReport((d.SafetyChange('params.altitude_m', 200, 120.0, 'ceiling'),)),
        attempts=(d.Attempt('remote', 'timeout', 'no answer', 800.0),
                  d.Attempt('onboard', 'ok', '', 300.25)),
        notes=('camera stale',), **extra).to_dict()


def _close(a: object, b: object) -> bool:
    """Equal, stamps (seconds) within the message's nanosecond resolution."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=0, abs_tol=1e-6)
    return a == b


def test_the_params_message_has_every_parameter_of_the_contract():
    lines = (ROOT / 'interfaces/ministral_interfaces/msg/Params.msg').read_text().splitlines()
    declared = {line.split()[1]: line.split()[0] for line in lines
                if line.strip() and not line.startswith('#')}
    kinds = {'number': 'float64', 'integer': 'int32', 'string': 'string'}
    assert declared == {name: kinds[kind] for name, kind in m.param_fields().items()}
    assert set(m.param_variants()) == set(d.actions())


@pytest.mark.parametrize('proposal', PROPOSALS, ids=lambda p: f'{p.action}-{sorted(p.params)}')
def test_every_action_goes_to_fields_and_back_equal(proposal):
    decision = _decision(proposal)
    back = m.decision_from_fields(m.decision_fields(decision))
    d.validate_decision(back)
    assert _close(back, decision)
    assert list(back) == [k for k in decision if k not in m.NOT_CARRIED]


def test_unused_parameters_are_nan_zero_or_empty_and_null_is_nan():
    fields = m.decision_fields(_decision(d.Proposal('hold', {'duration_s': None})))
    assert math.isnan(fields['params']['duration_s']) and math.isnan(fields['params']['up_m'])
    assert (fields['params']['count'], fields['params']['direction']) == (0, '')
    offset = m.params_from_fields('goto', m.params_fields({'forward_m': 0.0, 'right_m': 0.0,
                                                            'up_m': 0.0}))
    assert offset == {'forward_m': 0.0, 'right_m': 0.0, 'up_m': 0.0}  # 0.0 is a value


def test_target_box_is_also_a_pixel_roi_and_the_grounded_score_is_carried():
    grounding = {'label': 'red pad', 'status': 'grounded', 'class': 'pad', 'color': 'red',
                 'detection': {'label': 'pad', 'class_id': 0, 'score': 0.875,
                               'box_px': [64, 96, 192, 192], 'box': list(BOX), 'color': 'red',
                               'color_share': 0.6, 'bearing': 'left'},
                 'candidates': [], 'in_view': [], 'model_box': 'none', 'detect_ms': 4.0}
    fields = m.decision_fields(_decision(d.Proposal('land', {}, d.Target('red pad', BOX)),
                                         grounding=grounding))
    assert fields['target']['roi'] == {'x_offset': 64, 'y_offset': 96, 'width': 128,
                                       'height': 96, 'do_rectify': False}
    assert (fields['target']['score'], fields['grounding_status']) == (0.875, 'grounded')
    assert fields['target']['box'] == list(BOX)


def test_unsolicited_decision_without_frame_or_model():
    decision = d.make_decision(d.Proposal('return_to_home', {}), source='failsafe', stamp=5.0,
                               latency_ms=0.0).to_dict()
    fields = m.decision_fields(decision)
    assert (fields['has_command'], fields['has_frame'], fields['has_model']) == (False,) * 3
    assert m.decision_from_fields(fields) == decision


def test_a_refused_command_maps_without_attempts_and_its_refusal_stays_in_the_json():
    refusal = d.Refusal(d.RefusalKind.INACTIVE, 'node inactive: not deciding')
    decision = d.make_decision(d.reject('Command not executed: node inactive', 'inactive'),
                               source='rules', stamp=5.0, latency_ms=0.0,
                               command=d.CommandInfo('c', 'land', 5.0),
                               refusal=refusal).to_dict()
    fields = m.decision_fields(decision)
    assert fields['attempts'] == [] and fields['action'] == 'reject'
    back = m.decision_from_fields(fields)
    d.validate_decision(back)
    assert back == {k: v for k, v in decision.items() if k != 'refusal'}


def test_mission_and_node_status_fields():
    status = {'mission_id': 'mission-1', 'decision_id': 'x', 'source': 'rules',
              'state': 'running', 'step_index': 1, 'step_count': 3, 'step_action': 'goto',
              'progress': 0.5, 'step_progress': 0.25, 'reason': '', 'note': '', 'stamp': 12.5}
    fields = m.mission_status_fields(status)
    assert (fields['state'], fields['step_index'], fields['stamp']) == \
        ('running', 1, {'sec': 12, 'nanosec': 500_000_000})
    idle = m.mission_status_fields({**status, 'mission_id': None, 'decision_id': None,
                                    'source': None, 'step_action': None})
    assert (idle['mission_id'], idle['step_action']) == ('', '')
    assert m.node_status_fields({'node': '/n', 'state': 'unconfigured'}) == \
        {'node': '/n', 'state': 'unconfigured'}


needs_package = pytest.mark.skipif(importlib.util.find_spec('ministral_interfaces') is None,
                                   reason='ministral_interfaces not built (make setup)')


@needs_package
@pytest.mark.parametrize('proposal', PROPOSALS, ids=lambda p: f'{p.action}-{sorted(p.params)}')
def test_every_action_goes_through_a_real_message_and_back(proposal):
    from ministral_interfaces.msg import Decision

    from ministral_node.ros import typed

    msg, _action, why = typed.load()
    assert why == ''
    decision = _decision(proposal)
    message = typed.decision_message(msg, d.Decision.from_dict(decision))
    assert isinstance(message, Decision) and message.action == proposal.action
    back = typed.decision_of(message)
    d.validate_decision(back)
    assert _close(back, decision)
