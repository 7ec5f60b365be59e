"""The decision contract: schema, proposals, and the decision dict."""

import json

import pytest

from ministral_node import decision as d


def _decision(**changes):
    proposal = d.Proposal('takeoff', {'altitude_m': 10.0}, None, 0.9, 'operator asked')
    base = d.make_decision(proposal, source='rules', stamp=100.0, latency_ms=3.0,
                           command=d.CommandInfo('c1', 'take off to 10 m', 99.0))
    base.update(changes)
    return base


def test_a_made_decision_validates_and_serialises():
    decision = _decision()
    d.validate_decision(decision)
    assert json.loads(d.to_json(decision)) == decision
    assert decision['schema_version'] == d.SCHEMA_VERSION
    assert decision['safety'] == {'status': 'passed', 'changes': [], 'refused': None}


@pytest.mark.parametrize('changes, message', [
    ({'extra': 1}, "'extra' was unexpected"),
    ({'params': {'altitude_m': 'high'}}, "params/altitude_m: 'high' is not of type"),
    ({'action': 'fly'}, "unknown action 'fly'"),
    ({'confidence': 3}, 'confidence: 3 is greater than the maximum'),
    ({'source': 'oracle'}, "source: 'oracle' is not one of"),
    ({'target': {'label': 'pad', 'box': [0, 0, 2, 1]}}, 'target'),
])
def test_schema_rejects_with_a_readable_reason(changes, message):
    with pytest.raises(d.DecisionError, match=message.replace('(', r'\(')):
        d.validate_decision(_decision(**changes))


def test_every_action_has_a_proposal_variant():
    schema = d.load_schema()
    variant_actions = {v['properties']['action']['const']
                       for v in schema['$defs']['proposal']['anyOf']}
    assert variant_actions == set(d.actions())
    assert {'takeoff', 'land', 'hold', 'return_to_home', 'goto', 'change_altitude', 'set_speed',
            'rotate', 'orbit', 'follow', 'search', 'capture_photo', 'stop', 'answer', 'clarify',
            'reject'} <= set(d.actions())


def test_proposal_from_model_json():
    text = ('{"action":"follow","params":{"distance_m":null},'
            '"target":{"label":"blue car","box":[0.1,0.2,0.3,0.4]},'
            '"confidence":0.7,"rationale":"car in view"}')
    proposal = d.Proposal.from_json(text)
    assert proposal.target == d.Target('blue car', (0.1, 0.2, 0.3, 0.4))
    assert proposal.to_dict() == json.loads(text)


@pytest.mark.parametrize('text, message', [
    ('{"action": "takeoff"', 'not valid JSON'),
    ('[1, 2]', 'must be a JSON object'),
    ('{"action":"follow","params":{"distance_m":null},"target":null,'
     '"confidence":0.7,"rationale":""}', 'target'),
    ('{"action":"goto","params":{"forward_m":1},"target":null,"confidence":1,"rationale":""}',
     'required'),
])
def test_bad_model_output_is_refused(text, message):
    with pytest.raises(d.DecisionError, match=message):
        d.Proposal.from_json(text)


def test_long_texts_are_shortened_to_the_schema_limits():
    proposal = d.reject('x' * 5000, rationale='y' * 5000)
    decision = d.make_decision(proposal, source='rules', stamp=1.0, latency_ms=0.0,
                               command=d.CommandInfo('c', 'z' * 100_000, 1.0))
    assert len(decision['params']['reason']) <= 300
    assert len(decision['rationale']) <= 200
    assert len(decision['command']['text']) <= 500


def test_proposal_schema_is_standalone():
    schema = d.proposal_schema()
    assert 'anyOf' in schema and '$defs' in schema
    json.dumps(schema)


def test_measured_confidence_is_published_beside_the_proposal_and_stays_optional():
    detail = d.ConfidenceDetail('token_logprobs', 0.42,
                                {'action': 0.99, 'params.altitude_m': 0.42}, 'wrote 0.9')
    proposal = d.Proposal('takeoff', {'altitude_m': 10.0}, None, 0.42, 'r', detail)
    proposal.validate()  # the model never writes it: not part of the proposal schema
    assert 'confidence_detail' not in proposal.to_dict()
    decision = d.make_decision(proposal, source='onboard', stamp=1.0, latency_ms=1.0)
    assert decision['confidence_detail'] == {
        'method': 'token_logprobs', 'overall': 0.42,
        'fields': {'action': 0.99, 'params.altitude_m': 0.42}, 'note': 'wrote 0.9'}
    assert 'confidence_detail' not in _decision()  # sources that measure nothing
    with pytest.raises(d.DecisionError, match='confidence_detail'):
        d.validate_decision({**decision, 'confidence_detail': {**decision['confidence_detail'],
                                                              'overall': 1.5}})
    outcome = {'source': 'onboard', 'outcome': 'unverified', 'detail': 'x', 'latency_ms': 1.0}
    d.validate_decision({**decision, 'attempts': [outcome]})
