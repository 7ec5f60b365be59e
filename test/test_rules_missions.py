"""Missions by the rule parser: sequences in five languages, merges, what stays a question."""

import pytest
from data.rules_missions import CLARIFY, SPECIAL, STEPS, generated

from ministral_node.decision import steps_of
from ministral_node.sources.rules import analyse

CASES = [(lang, text, steps) for lang in STEPS
         for text, steps in generated(lang) + SPECIAL[lang]]


def _shape(proposal):
    return [(s.action, s.params, None if s.target is None else s.target.label)
            for s in steps_of(proposal)]


@pytest.mark.parametrize('lang', STEPS)
def test_every_step_phrase_is_a_single_command(lang):
    for phrase, expected in STEPS[lang]:
        result = analyse(phrase)
        assert (result.language, _shape(result.proposal)) == (lang, [expected]), phrase


@pytest.mark.parametrize('lang', STEPS)
def test_at_least_thirty_missions_per_language(lang):
    assert sum(1 for case in CASES if case[0] == lang and len(case[2]) > 1) >= 30


@pytest.mark.parametrize(('lang', 'text', 'steps'), CASES)
def test_mission(lang, text, steps):
    result = analyse(text)
    proposal = result.proposal.validate()
    assert (result.language, result.reason) == (lang, 'parsed'), proposal.to_dict()
    assert proposal.action == ('mission' if len(steps) > 1 else steps[0][0])
    assert _shape(proposal) == steps
    assert 0 < proposal.confidence <= 1 and proposal.rationale


@pytest.mark.parametrize(('lang', 'text', 'reason'),
                         [(lang, text, reason) for lang in CLARIFY
                          for text, reason in CLARIFY[lang]])
def test_missions_the_parser_asks_back_about(lang, text, reason):
    result = analyse(text)
    assert (result.proposal.action, result.reason, result.language) == (
        'clarify', reason, lang)


def test_takeoff_default_altitude_applies_inside_a_mission():
    result = analyse('take off, then fly north 20 m', takeoff_altitude_m=12.0)
    assert _shape(result.proposal) == [('takeoff', {'altitude_m': 12.0}, None),
                                       ('goto', {'heading_deg': 0.0, 'distance_m': 20.0}, None)]


def test_more_steps_than_the_contract_allows_is_rejected_not_cut():
    text = ', then '.join(['take a photo'] * 17)
    result = analyse(text)
    assert (result.proposal.action, result.reason) == ('reject', 'too_many_steps')
    assert '17' in result.proposal.params['reason']


def test_stop_anywhere_still_stops_at_once():
    assert analyse('fly north 50 m, then stop').proposal.action == 'stop'
