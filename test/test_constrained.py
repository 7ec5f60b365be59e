"""JSON-schema constrained decoding: the generation schema, the mask, the token budget."""

import json

import jsonschema
import numpy as np
import pytest
from engine_models import model

from ministral_node.decision import Proposal, proposal_schema, validate_proposal
from ministral_node.decoding.constrained import (
    JsonConstraint,
    generation_schema,
    max_output_bytes,
)
from ministral_node.engine import EngineOptions, GenerationOptions, VisionLanguageEngine


@pytest.fixture(scope='module')
def engine():
    return VisionLanguageEngine.load(model('random'), EngineOptions())


@pytest.fixture(scope='module')
def constraint(engine):
    return JsonConstraint(engine.tokenizer.to_json(), engine.tokenizer.special.eos)


def _walk(schema):
    yield schema
    for value in schema.values():
        if isinstance(value, dict):
            yield from _walk(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    yield from _walk(item)


def test_generation_schema_is_finite_and_derived_from_the_contract():
    schema = generation_schema()
    assert '$ref' not in json.dumps(schema)
    for node in _walk(schema):
        types = node.get('type')
        types = types if isinstance(types, list) else [types]
        if 'string' in types:
            assert node['maxLength'] <= 200
        if 'number' in types:
            assert node['minimum'] >= -1e5 and node['maximum'] <= 1e5
            assert node['multipleOf'] == 0.01
        if 'object' in types:
            assert node['additionalProperties'] is False
            assert node['required'] == list(node['properties'])
    variants = proposal_schema()['anyOf']
    assert len(schema['anyOf']) == len(variants)
    assert max_output_bytes(schema) > max_output_bytes(schema, minimal_strings=True) > 100


def test_every_generation_schema_instance_fits_the_contract():
    # Extremes the generation schema allows are valid proposals.
    samples = [
        {'action': 'goto', 'params': {'forward_m': -100000, 'right_m': 99999.99, 'up_m': 0.01},
         'target': None, 'confidence': 1, 'rationale': 'x' * 160},
        {'action': 'follow', 'params': {'distance_m': None},
         'target': {'label': 'l' * 60, 'box': [0, 0, 1, 1]}, 'confidence': 0,
         'rationale': ''},
    ]
    schema = generation_schema()
    for sample in samples:
        jsonschema.validate(sample, schema)
        validate_proposal(sample)


def test_unbounded_constructs_are_refused():
    for schema in ({'type': 'string'}, {'type': 'array', 'items': {'type': 'null'}},
                   {'type': 'object', 'properties': {}}):
        with pytest.raises(ValueError, match='unbounded'):
            max_output_bytes(schema)


def test_the_mask_allows_only_the_grammar(constraint, engine):
    processor = constraint.processor(300)
    allowed = processor.allowed()
    assert 0 < allowed.sum() < allowed.size
    for token in np.flatnonzero(allowed):
        assert engine.tokenizer.decode([int(token)]).startswith('{')
    logits = np.zeros(allowed.size, np.float32)
    masked = processor.process(logits)
    assert np.isneginf(masked[~allowed]).all() and np.isfinite(masked[allowed]).all()
    quote = constraint.quote_token
    assert not allowed[quote]
    with pytest.raises(Exception, match='broke the grammar'):
        processor.advance(quote)


def test_each_request_starts_at_the_grammars_start(constraint):
    first = constraint.processor(300)
    start = first.allowed()
    first.advance(int(np.flatnonzero(start)[0]))
    assert not np.array_equal(first.allowed(), start)
    second = constraint.processor(300)  # a copy of the unused matcher, not of `first`
    assert np.array_equal(second.allowed(), start)
    assert second.matcher is not first.matcher


def test_budget_too_small_is_refused(constraint):
    with pytest.raises(ValueError, match='too small to guarantee'):
        constraint.processor(constraint.reserve_tokens)


class Verbose:
    """A processor that makes the model avoid closing strings: the worst case for a budget."""

    def __init__(self, inner, engine):
        self.inner = inner
        pieces = [engine.tokenizer.decode([t]) for t in range(engine.tokenizer.vocab_size)]
        self.quotes = np.array(['"' in piece for piece in pieces])
        self.long = np.array([len(piece.encode()) > 1 for piece in pieces])

    def process(self, logits):
        logits = logits.copy()
        logits[self.long] -= 30.0
        logits[self.quotes] -= 60.0
        return self.inner.process(logits)

    def advance(self, token):
        self.inner.advance(token)

    def finished(self):
        return self.inner.finished()

    def forced(self, limit):
        return self.inner.forced(limit)


@pytest.mark.parametrize('seed', range(3))
def test_the_tightest_budget_still_completes(engine, constraint, seed):
    budget = constraint.reserve_tokens + 1
    processor = constraint.processor(budget)
    result = engine.generate('s', 'answer with a very long text', None,
                             GenerationOptions(max_new_tokens=budget, temperature=1.0,
                                               seed=seed), processor=Verbose(processor, engine))
    assert result.new_tokens <= budget
    assert processor.tight_steps > 0
    assert processor.finished() and processor.accepting()
    Proposal.from_json(result.text)


def test_without_the_reserve_a_verbose_model_runs_out_of_tokens(engine, constraint):
    budget = constraint.reserve_tokens + 1
    processor = constraint.processor(budget)
    processor.max_new_tokens = 10**9  # never narrows
    engine.generate('s', 'answer with a very long text', None,
                    GenerationOptions(max_new_tokens=budget, temperature=1.0, seed=0),
                    processor=Verbose(processor, engine))
    assert processor.tight_steps == 0
    assert not processor.accepting()


def test_mask_timing_is_recorded(engine, constraint):
    processor = constraint.processor(384)
    engine.generate('s', 'land', None, GenerationOptions(max_new_tokens=384, temperature=1.0,
                                                         seed=1), processor=processor)
    summary = processor.stats.summary()
    assert summary['tokens'] > 5 and 0 < summary['median_ms'] <= summary['p99_ms']


def test_forced_tokens_share_decoder_runs_and_stay_valid(engine, constraint):
    results = {}
    for fast_forward in (False, True):
        processor = constraint.processor(384, fast_forward=fast_forward)
        result = engine.generate('s', 'follow the car', None,
                                 GenerationOptions(max_new_tokens=384, temperature=1.0, seed=4),
                                 processor=processor)
        Proposal.from_json(result.text)
        results[fast_forward] = result
    slow, fast = results[False], results[True]
    assert slow.decode_steps == slow.new_tokens - 1
    assert fast.decode_steps < fast.new_tokens - 5


class Steered(Verbose):
    """Pushes the model towards `mission` and towards more steps (`,` after a step)."""

    def __init__(self, inner, engine):
        super().__init__(inner, engine)
        pieces = [engine.tokenizer.decode([t]) for t in range(engine.tokenizer.vocab_size)]
        self.mission = np.array([p.startswith(('m', 'mi', 'mission')) for p in pieces])
        self.comma = np.array([p == ',' for p in pieces])
        self.long[:] = False
        self.quotes[:] = False

    def process(self, logits):
        logits = logits.copy()
        logits[self.mission] += 50.0
        logits[self.comma] += 8.0
        return self.inner.process(logits)


def _mission_reserve(constraint):
    return constraint.action_reserves['mission']


def test_reserves_are_per_action_and_a_mission_needs_two_steps(constraint):
    reserves = constraint.action_reserves
    assert set(reserves) == set(proposal_schema()['$defs']['actions']['enum'])
    assert constraint.reserve_tokens == min(reserves.values())
    assert reserves['mission'] > 2 * reserves['stop']  # at least two steps to finish


@pytest.mark.parametrize('seed', range(4))
def test_random_model_steered_to_missions_always_parses(engine, constraint, seed):
    budget = _mission_reserve(constraint) + 120
    processor = constraint.processor(budget)
    result = engine.generate('s', 'a mission', None,
                             GenerationOptions(max_new_tokens=budget, temperature=1.0,
                                               seed=seed),
                             processor=Steered(processor, engine))
    assert result.new_tokens <= budget and processor.accepting()
    proposal = Proposal.from_json(result.text)
    assert proposal.action == 'mission'
    steps = proposal.params['steps']
    assert 2 <= len(steps) <= 16
    assert all(step['action'] not in ('mission', 'answer', 'clarify', 'reject')
               for step in steps)


def test_a_mission_that_does_not_fit_the_budget_is_masked_out(engine, constraint):
    budget = _mission_reserve(constraint) - 40
    processor = constraint.processor(budget)
    result = engine.generate('s', 'a mission', None,
                             GenerationOptions(max_new_tokens=budget, temperature=1.0, seed=0),
                             processor=Steered(processor, engine))
    proposal = Proposal.from_json(result.text)
    assert proposal.action != 'mission' and result.new_tokens <= budget


def test_the_tight_mask_cuts_a_long_mission_and_says_so(engine, constraint):
    budget = _mission_reserve(constraint) + 30
    processor = constraint.processor(budget)
    result = engine.generate('s', 'a mission', None,
                             GenerationOptions(max_new_tokens=budget, temperature=1.0, seed=2),
                             processor=Steered(processor, engine))
    proposal = Proposal.from_json(result.text)
    assert proposal.action == 'mission' and processor.tight_steps > 0
    assert processor.cut_lists >= 1
