"""The verify stage: number provenance, agreement with the rule parser, confidence, boxes."""

import random

import pytest
from support import ScriptedDecider

from ministral_node.core.fallback import FallbackChain
from ministral_node.decision import CommandInfo, ConfidenceDetail, Proposal, Target
from ministral_node.sources.base import DecisionRequest
from ministral_node.sources.rules import RuleDecider, analyse
from ministral_node.sources.rules.messages import MESSAGES
from ministral_node.sources.rules.provenance import command_numbers, command_quantities
from ministral_node.sources.rules.units import ANGLE, LENGTH, SPEED, TIME, UNITS
from ministral_node.sources.rules.verify import (
    TEXT_PARAMS,
    Verifier,
    VerifySettings,
    agrees,
    degenerate,
    malformed_text,
    named_missing,
    unsupported_numbers,
    unsupported_quantities,
)
from ministral_node.timing import Deadline, FakeClock


def _request(text):
    return DecisionRequest(CommandInfo('c', text, 0.0))


def _verify(text, proposal, source='onboard', **settings):
    return Verifier(VerifySettings(**settings))(source, _request(text), proposal)


def test_unsupported_numbers_name_each_number_not_said():
    said = command_numbers('climb to 900 m')
    assert unsupported_numbers({'altitude_m': 90.0}, said) == ['altitude_m=90']
    assert unsupported_numbers({'altitude_m': 900.0}, said) == []
    assert unsupported_numbers({'forward_m': 0.0, 'right_m': -5.0, 'up_m': 0.0},
                               command_numbers('move left 5 m')) == []  # defaults and signs
    assert unsupported_numbers({'count': 1}, command_numbers('take a photo')) == []
    assert unsupported_numbers({'altitude_m': 30.5}, command_numbers('climb to 100 ft')) == []


def test_a_number_not_in_the_command_hands_over():
    verdict = _verify('climb to 900 m', Proposal('change_altitude', {'altitude_m': 90.0}))
    assert verdict.proposal is None and verdict.outcome == 'provenance'
    assert 'altitude_m=90 not in the command' in verdict.detail


def test_low_confidence_hands_over_before_anything_else():
    proposal = Proposal('change_altitude', {'altitude_m': 900.0}, confidence=0.3)
    verdict = _verify('climb to 900 m', proposal, min_confidence=0.5)
    assert verdict.proposal is None and verdict.outcome == 'low_confidence'
    assert 'below min_confidence 0.5' in verdict.detail
    assert _verify('climb to 900 m', proposal, min_confidence=0.2).proposal is proposal


def test_agreement_with_the_rule_parser_passes_the_proposal_unchanged():
    proposal = Proposal('takeoff', {'altitude_m': 10.0}, confidence=0.97)
    verdict = _verify('take off to 10 m', proposal)
    assert verdict.proposal is proposal and verdict.outcome == 'agreed'
    assert verdict.detail.startswith('verified: ') and 'agrees' in verdict.detail
    assert agrees(proposal, Proposal('takeoff', {'altitude_m': 10}))
    assert not agrees(proposal, Proposal('takeoff', {'altitude_m': 11}))


def test_explicit_numbers_the_rule_parser_reads_otherwise_go_to_the_rule_reading():
    # every number is said (3 m), but the model made a relative descent absolute
    verdict = _verify('descend 3 m', Proposal('change_altitude', {'altitude_m': 3.0}))
    assert (verdict.outcome, verdict.source) == ('rules_won', 'rules')
    assert verdict.proposal.params == {'delta_m': -3.0}
    assert 'the rule reading wins' in verdict.detail and verdict.notes
    # north is the angle 0, not a length: a zero distance is not said (quantities have units)
    verdict = _verify('fly north 50 m', Proposal('goto', {'heading_deg': 0.0,
                                                          'distance_m': 0.0}))
    assert (verdict.proposal, verdict.outcome) == (None, 'provenance')
    assert 'distance_m=0 not in the command' in verdict.detail


@pytest.mark.parametrize('arbitration, outcome, source', [
    ('verify', 'rules_won', 'rules'), ('rules_first', 'rules_won', 'rules'),
    ('model_first', 'model_kept', None)])
def test_arbitration_settles_a_disagreement(arbitration, outcome, source):
    verdict = _verify('fly north 50 m', Proposal('rotate', {'heading_deg': 0.0}),
                      arbitration=arbitration)
    assert (verdict.outcome, verdict.source) == (outcome, source)


def test_a_stop_read_word_for_word_wins_over_the_model():
    verdict = _verify('stop!', Proposal('land', {}))
    assert (verdict.outcome, verdict.source, verdict.proposal.action) == (
        'rules_won', 'rules', 'stop')


def test_the_model_keeps_visual_commands_and_other_disagreements_go_to_the_rule_reading():
    seen = Proposal('orbit', {'radius_m': None, 'direction': 'clockwise'},
                    Target('red car', (0.1, 0.1, 0.3, 0.3)))
    verdict = _verify('circle around the red car', seen)
    assert verdict.outcome == 'agreed' or verdict.proposal is seen
    misread = Proposal('goto', {}, Target('red pad', (0.1, 0.1, 0.3, 0.3)), 0.9)
    verdict = _verify('land on the red pad', misread)  # the action read word for word wins
    assert verdict.outcome == 'target_kept' and verdict.source is None
    assert (verdict.proposal.action, verdict.proposal.target) == ('land', misread.target)
    assert "took the rule parser's land with the model's target" in verdict.notes[0]
    kept = _verify('land on the red pad', misread, arbitration='model_first')
    assert kept.outcome == 'model_kept' and kept.proposal is misread
    assert 'kept the model' in kept.notes[0]
    verdict = _verify('land', Proposal('capture_photo', {'count': 1}))  # a full reading wins
    assert (verdict.outcome, verdict.source, verdict.proposal.action) == (
        'rules_won', 'rules', 'land')
    assert 'another action or direction' in verdict.detail


def test_a_question_the_rule_parser_asks_on_purpose_wins():
    verdict = _verify("don't land", Proposal('land', {}))
    assert (verdict.source, verdict.proposal.action) == ('rules', 'clarify')
    seen = Proposal('land', {}, Target('red pad', (0.1, 0.1, 0.3, 0.3)))
    verdict = _verify("don't land on the red pad", seen)  # visual, but negated
    assert (verdict.source, verdict.proposal.action) == ('rules', 'clarify')
    verdict = _verify('what can you do?', Proposal('hold', {'duration_s': None}))
    assert (verdict.source, verdict.proposal.action) == ('rules', 'answer')
    verdict = _verify('take off to 10 m then fly north 50 m',  # a mission, read fully
                      Proposal('takeoff', {'altitude_m': 10.0}))
    assert (verdict.source, verdict.proposal.action) == ('rules', 'mission')
    invented = Proposal('mission', {'steps': [
        {'action': 'takeoff', 'params': {'altitude_m': 10.0}, 'target': None},
        {'action': 'goto', 'params': {'heading_deg': 0.0, 'distance_m': 500.0},
         'target': None}]})
    verdict = _verify('take off to 10 m then fly north 50 m', invented)
    assert verdict.proposal is None and 'steps[1].distance_m=500' in verdict.detail


def test_commands_the_rule_parser_does_not_read_keep_the_model():
    proposal = Proposal('takeoff', {'altitude_m': 12.0})
    verdict = _verify('xyzzy auf 12 m', proposal)
    assert verdict.proposal is proposal and verdict.outcome == 'unchecked_by_rules'


# ---- the arbitration table (docs/arbitration.md) ------------------------------------------------

def test_a_partial_rule_reading_that_agrees_is_agreement():
    proposal = Proposal('takeoff', {'altitude_m': 12.0})
    verdict = _verify('strate auf 12 m', proposal)  # the parser reads the typo: partial
    assert verdict.proposal is proposal and verdict.outcome == 'agreed'


@pytest.mark.parametrize('confidence, outcome, action', [
    (0.95, 'model_kept', 'land'), (0.6, 'rules_won', 'change_altitude')])
def test_a_partial_rule_reading_loses_to_a_confident_model_only(confidence, outcome, action):
    text = 'climb to 30 m straightaway'  # 'straightaway' ignored: a partial reading
    assert analyse(text).partial
    model = Proposal('land', {}, None, confidence)
    verdict = _verify(text, model, min_confidence_unread=0.8)
    assert (verdict.outcome, verdict.proposal.action) == (outcome, action)
    assert 'partial' in verdict.detail and 'straightaway' in verdict.detail


def test_a_confident_model_that_drops_a_named_direction_loses_to_the_partial_reading():
    text = 'go nroth 50 m'  # a typo read as north: partial
    forward = Proposal('goto', {'forward_m': 50.0, 'right_m': 0.0, 'up_m': 0.0}, None, 0.99)
    verdict = _verify(text, forward, min_confidence_unread=0.8)
    assert (verdict.outcome, verdict.source) == ('rules_won', 'rules')
    assert verdict.proposal.params == {'heading_deg': 0.0, 'distance_m': 50.0}
    assert 'drops heading 0' in verdict.detail


@pytest.mark.parametrize('text, proposal, flaw', [
    ('put it down on the red pad', Proposal('goto', {}), 'a move of zero length'),
    ('fly forward', Proposal('goto', {'forward_m': 0.0, 'right_m': 0.0, 'up_m': 0.0}),
     'a move of zero length'),
    ('cerca il ragazzo disperso', Proposal('search', {'radius_m': None}),
     'a search without a target'),
    ('turn left 0 degrees', Proposal('rotate', {'yaw_deg': 0.0}), 'a rotate by nothing'),
])
def test_a_degenerate_model_reading_never_wins(text, proposal, flaw):
    verdict = _verify(text, proposal)
    assert (verdict.proposal, verdict.outcome) == (None, 'degenerate')
    assert flaw in verdict.detail


def test_a_degenerate_mission_step_is_degenerate_and_a_real_move_is_not():
    steps = [{'action': 'takeoff', 'params': {'altitude_m': 10.0}, 'target': None},
             {'action': 'goto', 'params': {'heading_deg': 0.0, 'distance_m': 0.0},
              'target': None}]
    assert degenerate(Proposal('mission', {'steps': steps})) == 'a move of zero length'
    assert degenerate(Proposal('goto', {'heading_deg': 0.0, 'distance_m': 5.0})) is None
    assert degenerate(Proposal('goto', {}, Target('red car'))) is None


def test_a_target_the_command_names_must_be_in_the_published_decision():
    blind = Proposal('land', {})
    verdict = _verify('land on the red pad', blind)  # the rule reading is full and has it
    assert (verdict.outcome, verdict.source) == ('rules_won', 'rules')
    assert verdict.proposal.target.label == 'red pad'
    assert "drops target 'red pad'" in verdict.detail
    assert named_missing(Proposal('goto', {'heading_deg': 90.0, 'distance_m': 5.0}),
                         Proposal('goto', {'heading_deg': 270.0, 'distance_m': 5.0})) == \
        ['heading 270']


def test_an_unsure_box_is_dropped_with_a_note():
    detail = ConfidenceDetail('token_logprobs', 0.99, {'action': 0.99, 'target.box': 0.01})
    proposal = Proposal('land', {}, Target('red pad', (0.1, 0.1, 0.3, 0.3)), 0.99,
                        confidence_detail=detail)
    verdict = _verify('land on the red pad', proposal, min_box_confidence=0.05)
    assert verdict.proposal.target == Target('red pad', None) and verdict.box_dropped
    assert 'below min_box_confidence 0.05' in verdict.notes[0]
    kept = _verify('land on the red pad', proposal, min_box_confidence=0.005)
    assert kept.proposal.target.box == (0.1, 0.1, 0.3, 0.3) and not kept.box_dropped


def test_an_unsure_box_in_a_mission_step_is_dropped_with_a_note():
    detail = ConfidenceDetail('token_logprobs', 0.99, {
        'action': 0.99, 'params.steps.1.target.box': 0.01})
    steps = [{'action': 'takeoff', 'params': {'altitude_m': 10}, 'target': None},
             {'action': 'land', 'params': {},
              'target': {'label': 'red pad', 'box': [0.1, 0.1, 0.3, 0.3]}}]
    proposal = Proposal('mission', {'steps': steps}, None, 0.99, confidence_detail=detail)
    verdict = _verify('take off to 10 m then land on the red pad', proposal,
                      min_box_confidence=0.05)
    assert verdict.proposal.params['steps'][1]['target'] == {'label': 'red pad', 'box': None}
    assert verdict.box_dropped and 'step 2: 0.01' in verdict.notes[-1]
    assert proposal.params['steps'][1]['target']['box'] == [0.1, 0.1, 0.3, 0.3]  # a copy


def test_a_command_the_rule_parser_finds_no_action_in_needs_a_surer_model():
    unsure = Proposal('hold', {'duration_s': None}, confidence=0.6)
    verdict = _verify('blabla', unsure, min_confidence=0.5, min_confidence_unread=0.8)
    assert verdict.proposal is None and verdict.outcome == 'low_confidence'
    assert 'finds no action' in verdict.detail
    sure = Proposal('takeoff', {'altitude_m': 25.0}, confidence=0.9)
    verdict = _verify('zake off to 25 m', sure, min_confidence=0.5, min_confidence_unread=0.8)
    assert verdict.proposal is sure and verdict.outcome == 'unchecked_by_rules'
    understood = Proposal('land', {}, confidence=0.6)  # a command the parser reads: 0.5 rules
    assert _verify('land', understood, min_confidence=0.5,
                   min_confidence_unread=0.8).outcome == 'agreed'


def test_rule_and_failsafe_proposals_are_not_checked():
    proposal = Proposal('takeoff', {'altitude_m': 99.0}, confidence=0.1)
    for source in ('rules', 'failsafe'):
        verdict = _verify('take off', proposal, source=source, min_confidence=0.5)
        assert verdict.proposal is proposal and verdict.outcome == 'not_checked'
    assert _verify('take off', proposal, source='remote').proposal is None


# ---- quantities with their units: a generated property over unit forms x five languages -----

_TEMPLATES = {  # dimension -> (action, param, per-language command with {q})
    LENGTH: ('change_altitude', 'altitude_m', {
        'en': 'climb to {q}', 'fr': 'monte à {q}', 'de': 'steig auf {q}', 'es': 'sube a {q}',
        'it': 'sali a {q}'}),
    SPEED: ('set_speed', 'speed_mps', {
        'en': 'set speed to {q}', 'fr': 'mettre la vitesse à {q}',
        'de': 'Geschwindigkeit auf {q} setzen', 'es': 'pon la velocidad a {q}',
        'it': 'imposta la velocità a {q}'}),
    TIME: ('hold', 'duration_s', {
        'en': 'hover for {q}', 'fr': 'attends {q}', 'de': 'warte {q}', 'es': 'espera {q}',
        'it': 'aspetta {q}'}),
    ANGLE: ('rotate', 'yaw_deg', {
        'en': 'turn right {q}', 'fr': 'tourne à droite de {q}', 'de': 'dreh dich {q} nach rechts',
        'es': 'gira a la derecha {q}', 'it': 'gira a destra di {q}'}),
}


def _unit_forms():
    """Every spelling of every unit the parser knows, with the unit, for the four contract
    dimensions."""
    return sorted(((' '.join(key), unit) for key, unit in UNITS.items()
                   if unit.dim in _TEMPLATES), key=lambda pair: pair[0])


def _generated_commands(seed=25, per_form=2):
    """(language, command, number, unit, action, param) for every unit form x language, with
    seeded numbers (integers and decimals written the language's way)."""
    rng = random.Random(seed)
    for form, unit in _unit_forms():
        action, param, texts = _TEMPLATES[unit.dim]
        for lang, template in texts.items():
            for _ in range(per_form):
                number = rng.choice([rng.randint(1, 360), rng.randint(10, 99) / 2])
                if unit.dim == ANGLE:
                    number = float(rng.randint(1, 359))
                written = f'{number:g}' if lang == 'en' else f'{number:g}'.replace('.', ',')
                yield lang, template.format(q=f'{written} {form}'), number, unit, action, param


def test_published_quantities_equal_the_commands_converted_value_or_it_asks():
    published = 0
    for lang, text, number, unit, action, param in _generated_commands():
        proposal = analyse(text).proposal
        if proposal.action == 'clarify':
            continue
        published += 1
        assert proposal.action == action, (lang, text, proposal.to_dict())
        expected = number * unit.factor
        assert proposal.params[param] == pytest.approx(expected, rel=1e-6), (lang, text)
    assert published >= 0.9 * len(list(_generated_commands()))  # it reads nearly all of them


def test_a_model_that_copies_the_digits_of_another_unit_fails_and_the_unit_is_named():
    checked = 0
    for _, text, number, unit, action, param in _generated_commands():
        converted = number * unit.factor
        right = _verify(text, Proposal(action, {param: round(converted, 3)}), min_confidence=0)
        assert right.outcome != 'provenance', (text, right.detail)
        if abs(converted - number) <= max(0.01, 0.005 * number):
            continue  # m, m/s, deg, s: the digits are the value
        copied = _verify(text, Proposal(action, {param: number}))
        assert (copied.proposal, copied.outcome) == (None, 'provenance'), (text, copied.detail)
        assert f'{param}={number:g} (the digits of' in copied.detail, copied.detail
        assert unit_form_in(copied.detail, text), (text, copied.detail)
        checked += 1
    assert checked > 100


def unit_form_in(detail, text):
    """Whether the detail quotes the command's own words for the quantity (its unit)."""
    quoted = detail.split("'")[1]
    return quoted in text and any(c.isalpha() or c in '°/' for c in quoted)


@pytest.mark.parametrize('text, params, unit', [
    ('mettre la vitesse à 18 km/h', {'speed_mps': 18.0}, '18 km/h'),
    ('Tempo auf 36 km/h setzen', {'speed_mps': 36.0}, '36 km/h'),
    ('climb to 400 ft', {'altitude_m': 400.0}, '400 ft'),
    ('vola a 20 nodi', {'speed_mps': 20.0}, '20 nodi'),
    ('espera dos minutos', {'duration_s': 2.0}, 'dos minutos'),
])
def test_copying_the_digits_of_another_unit_names_the_unit(text, params, unit):
    verdict = _verify(text, Proposal('set_speed' if 'speed_mps' in params else 'hold', params))
    assert verdict.outcome == 'provenance' and f"'{unit}'" in verdict.detail, verdict.detail


def test_a_unit_of_another_dimension_does_not_support_a_number():
    said = command_quantities('fly north 50 m at 5 m/s')
    assert unsupported_quantities({'heading_deg': 0.0, 'distance_m': 50.0}, said) == []
    assert unsupported_quantities({'speed_mps': 5.0}, said) == []
    wrong = unsupported_quantities({'distance_m': 5.0}, said)
    assert wrong == ["distance_m=5 (the digits of '5 m/s', a speed in m/s, not a length in m)"]
    assert unsupported_quantities({'altitude_m': 0.0}, said) == ['altitude_m=0']  # north: angle


# ---- free text from a model ---------------------------------------------------------------------

@pytest.mark.parametrize('text, flaw', [
    ('Le manovre1]},', 'stray JSON punctuation'),
    ('Which direction", "action', 'stray JSON punctuation'),
    ('Le manovre1 non sono supportate.', 'digits glued to a word'),
    ('Aerobatic manoeuvres are', 'a fragment'),
    ('Ok', 'a fragment'),
    ('', 'empty'),
    ('Aerobatic manoeuvres are not supported.', None),
    ('Dans quelle direction ?', None),
    ('Ich habe „ab“ nicht verstanden.', None),
    ('I can fly at 5m/s at most.', None),  # a number with its unit is not a glued digit
])
def test_malformed_free_text_is_recognised(text, flaw):
    assert malformed_text(text) == flaw


@pytest.mark.parametrize('action, field', sorted(TEXT_PARAMS.items()))
def test_a_model_text_that_is_not_well_formed_hands_over(action, field):
    verdict = _verify('cerca il ragazzo disperso', Proposal(action, {field: 'Le manovre1]},'}))
    assert (verdict.proposal, verdict.outcome) == (None, 'malformed_text')
    assert f'the {field}' in verdict.detail and 'stray JSON punctuation' in verdict.detail
    fine = _verify('fai un looping', Proposal('reject', {'reason': 'Acrobazie non supportate.'}))
    assert fine.outcome != 'malformed_text'


def test_the_rule_parsers_message_replaces_a_broken_model_text():
    clock = FakeClock()
    chain = FallbackChain([ScriptedDecider('onboard', Proposal('reject',
                                                               {'reason': 'Le manovre1]},'})),
                           RuleDecider()], clock, verify=Verifier())
    request = DecisionRequest(CommandInfo('c', 'fai un tonneau', 0.0))
    result = chain.decide(request, Deadline(clock, 5))
    assert result.source == 'rules' and result.proposal.action == 'reject'
    assert result.proposal.params['reason'] == MESSAGES['stunt']['it']  # the operator's language
    assert result.attempts[0].outcome == 'unverified'
    assert 'not well-formed text' in result.attempts[0].detail


@pytest.mark.parametrize('text, languages, flaw', [
    ('Aerobatic manoeuvres are not supported.', {'it'},
     "not in the operator's language (en, not it)"),
    ('Acrobazie non supportate.', {'it'}, None),
    ('Je ne comprends pas cette commande.', {'de'},
     "not in the operator's language (fr, not de)"),
    ('Las maniobras acrobáticas no están admitidas.', {'fr', 'es', 'it'}, None),  # ambiguous
    ('Das habe ich nicht verstanden.', set(), None),  # the operator's language is not known
    ('OK.', {'en'}, 'a fragment'),
])
def test_free_text_in_another_language_than_the_operators_is_malformed(text, languages, flaw):
    assert malformed_text(text, languages) == flaw


def test_a_model_question_in_another_language_is_replaced():
    verdict = _verify("don't land", Proposal('clarify', {'question': 'Cosa devo fare invece?'}))
    assert verdict.outcome == 'malformed_text' and "(it, not de/en)" in verdict.detail


def test_every_shipped_message_is_well_formed_in_its_own_language():
    for texts in MESSAGES.values():
        for language, text in texts.items():
            assert malformed_text(text.format(text='x', range='1–2', count='3', limit='2'),
                                  {language}) is None, (language, text)


def test_a_command_is_analysed_once_for_all_the_proposals_made_for_it(monkeypatch):
    from ministral_node.sources.rules import parser

    calls = []
    real = parser.analyse
    monkeypatch.setattr(parser, 'analyse', lambda text: calls.append(text) or real(text))
    verifier = Verifier()
    request = _request('climb to 30 m')
    climb = Proposal('change_altitude', {'altitude_m': 30.0}, None, 0.9, 'asked')
    for source in ('onboard', 'remote'):
        assert verifier(source, request, climb).outcome == 'agreed'
    assert calls == ['climb to 30 m']
    assert verifier('onboard', _request('climb to 30 m'), climb).outcome == 'agreed'
    assert len(calls) == 2  # another command: analysed again


def test_a_reading_that_only_assumed_a_unit_is_complete_for_its_action_and_directions():
    # "left 20": the unit is assumed (metres), the direction is the command's own word
    rules = analyse('go left 20')
    assert rules.units_assumed_only and rules.proposal.confidence < 1.0
    ahead = Proposal('goto', {'forward_m': 20.0, 'right_m': 0.0, 'up_m': 0.0}, confidence=0.95)
    verdict = _verify('go left 20', ahead)
    assert (verdict.outcome, verdict.source) == ('rules_won', 'rules')
    assert verdict.proposal.params == {'forward_m': 0.0, 'right_m': -20.0, 'up_m': 0.0}
    same = Proposal('goto', {'forward_m': 0.0, 'right_m': -20.0, 'up_m': 0.0}, confidence=0.95)
    assert _verify('go left 20', same).outcome == 'agreed'
    # another assumption (a typo read, a default sense) keeps the reading incomplete
    assert not analyse('go lfet 20').units_assumed_only
    assert not analyse('orbit the tower at 20 m').units_assumed_only


def test_a_model_reading_that_drops_a_quantity_of_the_same_action_loses():
    # the command says how long: a hold without a duration drops it
    unsure = Proposal('hold', {'duration_s': None}, confidence=0.95)
    verdict = _verify('hovr for 2 minutes', unsure, min_confidence_unread=0.8)
    assert (verdict.outcome, verdict.source) == ('rules_won', 'rules'), verdict.detail
    assert verdict.proposal.params == {'duration_s': 120.0}
    assert 'duration_s 120' in verdict.detail


def test_a_model_reading_another_action_loses_to_one_read_word_for_word_with_a_default_sense():
    # "circle the tower at 25 m": an orbit (its sense assumed); a move is another action
    assert analyse('circle the tower at 25 m').action_read
    move = Proposal('goto', {'forward_m': 0.0, 'right_m': 25.0, 'up_m': 0.0}, confidence=0.95)
    verdict = _verify('circle the tower at 25 m', move)
    assert (verdict.outcome, verdict.source) == ('rules_won', 'rules')
    assert verdict.proposal.action == 'orbit'
    # the same action with the other sense: the command does not say, the model's stays
    other = Proposal('orbit', {'radius_m': 25.0, 'direction': 'counterclockwise'},
                     Target('tower'), confidence=0.95)
    assert _verify('circle the tower at 25 m', other).proposal.params['direction'] == \
        'counterclockwise'
    assert not analyse('go lfet 20').action_read  # a typo read is no word for word reading
