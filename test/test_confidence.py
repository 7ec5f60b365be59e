"""Measured confidence: token log-probabilities mapped onto the proposal's fields."""

import math

import numpy as np
import pytest

from ministral_node.decision import Proposal
from ministral_node.decoding.confidence import (
    MODEL_REPORTED,
    TOKEN_LOGPROBS,
    field_confidence,
    measured,
    value_spans,
)
from ministral_node.engine.engine import GenerationResult
from ministral_node.engine.generation import chosen_logprob
from ministral_node.sources.remote import reply_confidence

TEXT = ('{"action":"takeoff","params":{"altitude_m":90},"target":null,'
        '"confidence":0.9,"rationale":"Up."}')


def _pieces(text, chunks, logprobs):
    """`text` cut into pieces of the given lengths, with these logprobs (0 elsewhere)."""
    pieces, at = [], 0
    for size in chunks:
        pieces.append(text[at:at + size])
        at += size
    pieces.append(text[at:])
    return list(zip(pieces, [*logprobs, *[0.0] * (len(pieces) - len(logprobs))]))


def test_value_spans_find_every_value_compact_or_spaced():
    spans = value_spans(TEXT)
    assert TEXT[slice(*spans['action'])] == '"takeoff"'
    assert TEXT[slice(*spans['params.altitude_m'])] == '90'
    assert TEXT[slice(*spans['target'])] == 'null'
    spaced = '{ "action": "orbit",\n "params": {"radius_m": 3.5, "direction": "clockwise"} }'
    spans = value_spans(spaced)
    assert spaced[slice(*spans['params.radius_m'])] == '3.5'
    assert spaced[slice(*spans['params.direction'])] == '"clockwise"'
    assert value_spans('{"action": "tak') == {}


def test_each_field_gets_the_probability_of_its_own_tokens():
    head = '{"action":'
    at_number = TEXT.index('90')
    # tokens: head | "takeoff" | ,"params":{"altitude_m": | 9 | 0 | } ... rest
    chunks = [len(head), len('"takeoff"'), at_number - len(head) - len('"takeoff"'), 1, 1, 1]
    pieces = _pieces(TEXT, chunks, [0.0, math.log(0.8), 0.0, math.log(0.5), math.log(0.9),
                                    math.log(0.4)])
    detail = field_confidence(pieces)
    assert detail.method == TOKEN_LOGPROBS
    assert detail.fields['action'] == pytest.approx(0.8)
    # the number's digits and the token that ended it ("90" rather than "900")
    assert detail.fields['params.altitude_m'] == pytest.approx(0.5 * 0.9 * 0.4)
    assert detail.overall == pytest.approx(0.8 * 0.5 * 0.9 * 0.4, rel=1e-3)
    assert 'confidence' not in detail.fields and 'rationale' not in detail.fields


def test_free_text_is_not_scored_and_the_box_is_kept_apart():
    text = ('{"action":"clarify","params":{"question":"Which one?"},"target":null,'
            '"confidence":1,"rationale":"r"}')
    question = text.index('"Which')
    pieces = _pieces(text, [question, 3], [0.0, math.log(0.01)])
    detail = field_confidence(pieces)
    assert set(detail.fields) == {'action'} and detail.overall == pytest.approx(1.0)
    boxed = ('{"action":"land","params":{},"target":{"label":"pad","box":[0.23,0.5,0.4,0.68]},'
             '"confidence":1,"rationale":"r"}')
    first = boxed.index('0.23')
    # "0.2" is scored (where the box is, to a tenth); the "3" is not
    pieces = _pieces(boxed, [first, 3, 1], [0.0, math.log(0.5), math.log(0.1)])
    detail = field_confidence(pieces)
    assert detail.fields['target.box'] == pytest.approx(0.5)
    assert detail.overall == pytest.approx(1.0)  # the box is judged by min_box_confidence


def test_a_missions_steps_are_scored_like_proposals():
    text = ('{"action":"mission","params":{"steps":[{"action":"takeoff","params":'
            '{"altitude_m":10},"target":null},{"action":"land","params":{},"target":'
            '{"label":"pad","box":[0.23,0.5,0.4,0.68]}}]},"target":null,"confidence":1,'
            '"rationale":"r"}')
    digit = text.index('10')
    box = text.index('0.23')
    pieces = _pieces(text, [digit, 1, box - digit - 1, 3],
                     [0.0, math.log(0.5), 0.0, math.log(0.2)])
    detail = field_confidence(pieces)
    assert detail.fields['params.steps.0.params.altitude_m'] == pytest.approx(0.5)
    assert detail.fields['params.steps.1.target.box'] == pytest.approx(0.2)
    assert {'action', 'params.steps.0.action', 'params.steps.1.action'} <= set(detail.fields)
    assert 'params.steps' not in detail.fields
    assert detail.overall == pytest.approx(0.5)


def test_measured_replaces_the_written_confidence_and_keeps_it_in_the_note():
    proposal = Proposal.from_json(TEXT)
    pieces = _pieces(TEXT, [TEXT.index('90'), 2], [0.0, math.log(0.25)])
    out = measured(proposal, pieces, TEXT)
    assert out.confidence == pytest.approx(0.25)
    assert out.confidence_detail.note == 'the model wrote confidence 0.9'
    unchanged = measured(Proposal.from_json(TEXT), [('{', 0.0)], '{')
    assert unchanged.confidence == 0.9 and unchanged.confidence_detail is None


def test_chosen_logprob_is_taken_after_the_mask():
    row = np.array([0.0, np.log(3.0), -np.inf, -np.inf], np.float32)
    assert chosen_logprob(row, 1) == pytest.approx(math.log(0.75))
    assert chosen_logprob(row, 0) == pytest.approx(math.log(0.25))


def test_token_pieces_cut_the_text_where_each_token_ends():
    vocab = {1: 'ab', 2: 'c', 3: 'de'}

    def decode(ids):
        return ''.join(vocab[i] for i in ids)

    result = GenerationResult('abcde', [1, 2, 3], 0, 0, 'stop', 0, token_logprobs=[-1.0, 0.0,
                                                                                    -2.0])
    assert result.token_pieces(decode) == [('ab', -1.0), ('c', 0.0), ('de', -2.0)]


def test_remote_confidence_is_measured_when_the_server_sends_logprobs():
    pieces = _pieces(TEXT, [TEXT.index('90'), 2], [0.0, math.log(0.5)])
    reply = {'choices': [{'message': {'content': TEXT}, 'logprobs': {'content': [
        {'token': piece, 'logprob': logprob} for piece, logprob in pieces]}}]}
    proposal = reply_confidence(Proposal.from_json(TEXT), reply, TEXT)
    assert proposal.confidence_detail.method == TOKEN_LOGPROBS
    assert proposal.confidence == pytest.approx(0.5)


def test_remote_confidence_says_when_the_server_sends_no_logprobs():
    reply = {'choices': [{'message': {'content': TEXT}}]}
    proposal = reply_confidence(Proposal.from_json(TEXT), reply, TEXT)
    assert proposal.confidence == 0.9
    assert proposal.confidence_detail.method == MODEL_REPORTED
    assert 'no token logprobs' in proposal.confidence_detail.note
