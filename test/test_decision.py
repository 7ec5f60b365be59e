"""The decision contract: schema, proposals, and the typed decision and its JSON."""

import json

import pytest

from ministral_node import decision as d


def _decision(**changes):
    """A made decision as its JSON object, with `changes`."""
    proposal = d.Proposal('takeoff', {'altitude_m': 10.0}, None, 0.9, 'operator asked')
    base = d.make_decision(proposal, source='rules', stamp=100.0, latency_ms=3.0,
                           command=d.CommandInfo('c1', 'take off to 10 m', 99.0)).to_dict()
    base.update(changes)
    return base


def test_a_made_decision_validates_and_serialises():
    decision = _decision()
    d.validate_decision(decision)
    assert decision['schema_version'] == d.SCHEMA_VERSION == d.load_schema()['properties'][
        'schema_version']['const']
    assert decision['safety'] == {'status': 'passed', 'changes': [], 'refused': None}
    assert 'refusal' not in decision  # only a refused command carries one


def _every_field() -> d.Decision:
    """A decision using every optional part of the contract."""
    detail = d.ConfidenceDetail('token_logprobs', 0.5, {'action': 0.9}, 'measured')
    proposal = d.Proposal('follow', {'distance_m': 8.0}, d.Target('blue car', (0.1, 0.2, 0.3,
                                                                           0.4)),
                          0.5, 'car in view', detail)
    grounding = {'label': 'blue car', 'status': 'not_in_view', 'class': 'car', 'color': 'blue',
                 'detection': None, 'candidates': [], 'in_view': [], 'model_box': 'none',
                 'detect_ms': 4.0}
    return d.make_decision(
        proposal, source='onboard', stamp=10.0, latency_ms=812.34567,
        command=d.CommandInfo('c9', 'follow  the\tblue car', 9.0),
        frame=d.FrameInfo(9.5, 'camera', 0.25, 640, 480),
        model=d.ModelInfo('ministral', 'q4', 'onboard'),
        safety=d.SafetyReport((d.SafetyChange('params.distance_m', 3.0, 8.0, 'too close'),)),
        attempts=[d.Attempt('remote', 'skipped', 'ground link lost'),
                  d.Attempt('onboard', 'ok', '', 800.123456)],
        notes=['a note'], grounding=grounding)


REFUSED = d.make_decision(
    d.reject('Command not executed: dropped unanswered', 'dropped'), source='rules',
    stamp=5.0, latency_ms=0.5, command=d.CommandInfo('c2', 'land', 4.0),
    notes=['command refused before any decision source: dropped unanswered'],
    refusal=d.Refusal(d.RefusalKind.QUEUE_FULL, 'dropped unanswered'))


@pytest.mark.parametrize('decision', [_every_field(), REFUSED], ids=['every field', 'refused'])
def test_a_decision_goes_to_json_and_back_equal_and_valid(decision):
    data = json.loads(decision.to_json())
    d.validate_decision(data)
    assert data == decision.to_dict()
    assert d.Decision.from_json(decision.to_json()) == decision
    assert d.Decision.from_dict(data) == decision


def test_a_made_decision_holds_what_is_published():
    """Texts shortened and numbers rounded as in the JSON, so a decision read back from its
    JSON equals the one published."""
    decision = _every_field()
    assert decision.command.text == 'follow the blue car'
    assert decision.latency_ms == 812.346 and decision.attempts[1].latency_ms == 800.123
    assert decision.proposal == d.Proposal('follow', {'distance_m': 8.0},
                                           d.Target('blue car', (0.1, 0.2, 0.3, 0.4)), 0.5,
                                           'car in view', decision.confidence_detail)
    assert decision.safety.status == 'modified' and decision.refusal is None


def test_a_refusal_is_its_own_field_not_an_attempt():
    data = REFUSED.to_dict()
    assert data['attempts'] == []
    assert data['refusal'] == {'kind': 'queue_full', 'reason': 'dropped unanswered'}
    assert REFUSED.refusal.kind.by_node and not d.RefusalKind.INPUT.by_node
    schema_kinds = d.load_schema()['$defs']['refusal']['properties']['kind']['enum']
    assert schema_kinds == [kind.value for kind in d.RefusalKind]
    with pytest.raises(d.DecisionError, match='refusal/kind'):
        d.validate_decision({**data, 'refusal': {'kind': 'bored', 'reason': 'x'}})


@pytest.mark.parametrize('text, message', [
    ('{"id": ', 'not valid JSON'),
    ('[]', 'must be a JSON object'),
    (json.dumps({**REFUSED.to_dict(), 'schema_version': '1.3.0'}), 'schema_version'),
    (json.dumps({**REFUSED.to_dict(), 'safety': {'status': 'passed', 'changes': [],
                                                  'refused': 'no'}}), 'contradicts'),
])
def test_bad_decision_json_is_refused(text, message):
    with pytest.raises(d.DecisionError, match=message):
        d.Decision.from_json(text)


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
    assert len(decision.params['reason']) <= 300
    assert len(decision.rationale) <= 200
    assert len(decision.command.text) <= 500


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
    decision = d.make_decision(proposal, source='onboard', stamp=1.0, latency_ms=1.0).to_dict()
    assert decision['confidence_detail'] == {
        'method': 'token_logprobs', 'overall': 0.42,
        'fields': {'action': 0.99, 'params.altitude_m': 0.42}, 'note': 'wrote 0.9'}
    assert 'confidence_detail' not in _decision()  # sources that measure nothing
    with pytest.raises(d.DecisionError, match='confidence_detail'):
        d.validate_decision({**decision, 'confidence_detail': {**decision['confidence_detail'],
                                                              'overall': 1.5}})
    outcome = {'source': 'onboard', 'outcome': 'unverified', 'detail': 'x', 'latency_ms': 1.0}
    d.validate_decision({**decision, 'attempts': [outcome]})
