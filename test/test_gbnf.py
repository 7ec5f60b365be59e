"""The GBNF grammar made from the decision schema: every bound enforced, always finite.

Grammars are checked with llguidance's GBNF reader and the test model's byte-level tokenizer,
the same way ministral-serve applies a `grammar` field.
"""

import random

import llguidance
import pytest
from engine_models import model

from ministral_node.decision import Proposal
from ministral_node.decoding.gbnf import decision_grammar, integer_range, schema_grammar

GRAMMAR = decision_grammar(384)


@pytest.fixture(scope='module')
def tokenizer() -> llguidance.LLTokenizer:
    return llguidance.LLTokenizer((model('deterministic') / 'tokenizer.json').read_text(),
                                  eos_token=2)


def _matcher(tokenizer, text: str) -> llguidance.LLMatcher:
    matcher = llguidance.LLMatcher(tokenizer, llguidance.grammar_from('gbnf', text),
                                   log_level=0)
    assert not matcher.is_error(), matcher.get_error()
    return matcher


def _accepts(tokenizer, grammar: str, sentence: str) -> bool:
    matcher = _matcher(tokenizer, grammar)
    return matcher.consume_tokens(tokenizer.tokenize_str(sentence)) and matcher.is_accepting()


def _proposal(action: str = 'land', params: str = '{}', target: str = 'null',
              confidence: str = '0.5', rationale: str = 'ok') -> str:
    return (f'{{"action":"{action}","params":{params},"target":{target},'
            f'"confidence":{confidence},"rationale":"{rationale}"}}')


@pytest.mark.parametrize('sentence, valid', [
    (_proposal(), True),
    (_proposal(confidence='1'), True),
    (_proposal(confidence='1.00'), True),
    (_proposal(confidence='0.07'), True),
    (_proposal(confidence='6401'), False),  # the bound llama.cpp's own schema grammar ignores
    (_proposal(confidence='1.01'), False),
    (_proposal(confidence='0.123'), False),  # more digits than multipleOf 0.01 allows
    (_proposal(confidence='1e0'), False),
    (_proposal(confidence='00.5'), False),
    (_proposal('change_altitude', '{"altitude_m":-100000}'), True),
    (_proposal('change_altitude', '{"altitude_m":-100000.01}'), False),
    (_proposal('change_altitude', '{"altitude_m":100000.00}'), True),
    (_proposal('rotate', '{"yaw_deg":-359.99}'), True),
    (_proposal('rotate', '{"yaw_deg":360.5}'), False),
    (_proposal('capture_photo', '{"count":100}', '{"label":"car","box":[0,0.5,1,0.25]}'), True),
    (_proposal('capture_photo', '{"count":0}'), False),
    (_proposal('capture_photo', '{"count":2.5}'), False),
    (_proposal('capture_photo', '{"count":1}', '{"label":"","box":null}'), False),  # minLength
    (_proposal('capture_photo', '{"count":1}', '{"label":"car","box":[0,0,1]}'), False),
    (_proposal('hold', '{"duration_s":null}'), True),
    (_proposal(rationale='été 🚁 über'), True),
    (_proposal(rationale='a\\"quote'), False),  # no escapes
    (_proposal().replace(',', ', ', 1), False),  # no free whitespace
    (_proposal('fly_to_the_moon'), False),
    (_proposal(rationale='x' * GRAMMAR.string_caps['rationale']), True),
    (_proposal(rationale='x' * (GRAMMAR.string_caps['rationale'] + 1)), False),
])
def test_the_grammar_takes_exactly_the_bounded_decisions(tokenizer, sentence, valid):
    assert _accepts(tokenizer, GRAMMAR.text, sentence) is valid
    if valid:
        Proposal.from_json(sentence).validate()


def test_string_caps_count_utf8_bytes(tokenizer):
    cap = GRAMMAR.string_caps['rationale']
    two_byte = 'é' * (cap // 2)
    assert _accepts(tokenizer, GRAMMAR.text, _proposal(rationale=two_byte))
    assert not _accepts(tokenizer, GRAMMAR.text, _proposal(rationale=two_byte + 'éé'))


@pytest.mark.parametrize('low, high', [(0, 9), (1, 100), (7, 1234), (0, 360), (10, 10)])
def test_integer_ranges_have_no_gaps_and_no_leading_zeros(tokenizer, low, high):
    grammar = f'root ::= {integer_range(low, high)}\n'
    probes = sorted({0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 1233, 1234, 1235,
                     low - 1, low, low + 1, high - 1, high, high + 1} - {-1})
    for value in probes:
        assert _accepts(tokenizer, grammar, str(value)) is (low <= value <= high), value
    assert not _accepts(tokenizer, grammar, f'0{high}')


def test_random_tokens_inside_the_grammar_always_make_a_valid_finite_decision(tokenizer):
    """A random-weight model on a server that enforces the grammar: every step picks a random
    allowed token; every reply must complete within the byte budget and validate."""
    grammar = decision_grammar(200)
    rng = random.Random(5)
    compiled = llguidance.grammar_from('gbnf', grammar.text)
    vocab = tokenizer.vocab_size
    for _ in range(50):
        matcher = llguidance.LLMatcher(tokenizer, compiled, log_level=0)
        tokens = []
        while not matcher.is_stopped():
            mask = matcher.compute_logit_bias()
            allowed = [t for t in range(vocab) if mask[t] > 0]
            token = rng.choice(allowed)
            assert matcher.consume_token(token), matcher.get_error()
            tokens.append(token)
            assert len(tokens) <= 200
        text = tokenizer.decode_str([t for t in tokens if t != 2])
        assert len(text.encode()) <= grammar.max_bytes
        Proposal.from_json(text).validate()


def test_the_budget_shrinks_strings_to_fit_max_tokens():
    small, large = decision_grammar(200), decision_grammar(16000)
    assert small.max_bytes <= 199 and large.max_bytes <= 15999
    assert small.string_caps['rationale'] < large.string_caps['rationale']
    assert large.string_caps['rationale'] == 160  # the schema's own cap when room allows
    with pytest.raises(ValueError, match='raise max_tokens'):
        decision_grammar(40)


def test_schemas_without_bounds_are_refused():
    with pytest.raises(ValueError, match='has no maxItems'):
        schema_grammar({'type': 'object', 'properties': {'x': {'type': 'array'}}})
    with pytest.raises(ValueError, match='needs more than'):
        schema_grammar({'type': 'object', 'properties': {'x': {'type': 'number'}}}, 8)


def test_a_budget_too_small_for_a_mission_leaves_missions_out_but_not_single_actions():
    mission, land = '\\"mission\\"', '\\"land\\"'  # as GBNF literals spell them
    small = decision_grammar(300)
    assert mission not in small.text and land in small.text
    assert mission in decision_grammar(4096).text
