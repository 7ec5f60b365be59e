"""Checks shared by the rule parser's table-driven tests (one table per language)."""

import pytest

from ministral_node.sources.rules import analyse
from ministral_node.sources.rules.messages import MESSAGES


def check_parse(command, action, params, label, language):
    """`command` parses to `action` with `params` (approx) and target `label`, and validates."""
    result = analyse(command)
    proposal = result.proposal.validate()
    assert (proposal.action, result.language) == (action, language), proposal.to_dict()
    assert proposal.params == pytest.approx(params), proposal.to_dict()
    assert (None if proposal.target is None else proposal.target.label) == label
    if proposal.target is not None:
        assert proposal.target.box is None
    assert 0 < proposal.confidence <= 1 and proposal.rationale


def check_clarify(command, reason, language):
    """`command` is asked back, for `reason`, in the operator's `language`, and validates."""
    result = analyse(command)
    proposal = result.proposal.validate()
    assert (proposal.action, result.reason, result.language) == ('clarify', reason, language), (
        proposal.to_dict())
    question = proposal.params['question']
    others = [texts[lang] for texts in MESSAGES.values() for lang in texts if lang != language]
    assert question not in others  # written in the operator's language


def check_reply(command, action, language):
    """Questions: `command` is answered or rejected with a text in the operator's `language`."""
    result = analyse(command)
    proposal = result.proposal.validate()
    assert (proposal.action, result.language) == (action, language), proposal.to_dict()
    key = 'capability' if action == 'answer' else 'scene'
    assert proposal.params == {'text' if action == 'answer' else 'reason':
                               MESSAGES[key][language]}


def check_casual(command, action, params, label, language, ignored=()):
    """Radio-style `command` reads as `action` with `params` and target `label`; the reading is
    marked partial exactly when it read past (or corrected) the words in `ignored`.

    For a mission, `params` is the list of its steps as (action, params)."""
    result = analyse(command)
    proposal = result.proposal.validate()
    assert (proposal.action, result.language) == (action, language), proposal.to_dict()
    if action == 'mission':
        steps = [(step['action'], step['params']) for step in proposal.params['steps']]
        assert [a for a, _ in steps] == [a for a, _ in params], proposal.to_dict()
        for (_, got), (_, want) in zip(steps, params):
            assert got == pytest.approx(want), proposal.to_dict()
    else:
        assert proposal.params == pytest.approx(params), proposal.to_dict()
        assert (None if proposal.target is None else proposal.target.label) == label
    assert result.partial == bool(ignored), (result.reason, result.ignored)
    assert [word.split('->')[0] for word in result.ignored] == list(ignored)
    for word in ignored:
        assert word in proposal.rationale  # the decision says what it read past
    if ignored:
        assert proposal.confidence < 1.0
