"""Output budget: parameters cap the free text the onboard model writes."""

import json

import pytest
from engine_models import model

from ministral_node.decision import Proposal
from ministral_node.decoding.constrained import (
    BUDGET_PARAMETERS,
    JsonConstraint,
    generation_schema,
    max_output_bytes,
    string_caps,
)
from ministral_node.engine import EngineOptions, GenerationOptions, VisionLanguageEngine
from ministral_node.parameters import SPECS


def _strings(schema, name=''):
    """(property name, string schema) for every string in the schema."""
    if isinstance(schema, dict):
        if schema.get('type') == 'string':
            yield name, schema
        for key, value in schema.get('properties', {}).items():
            yield from _strings(value, key)
        for key in ('anyOf', 'oneOf', 'allOf'):
            for item in schema.get(key, []):
                yield from _strings(item, name)
        if 'items' in schema:
            yield from _strings(schema['items'], name)


def test_every_budget_parameter_is_declared_and_names_a_field_of_the_schema():
    fields = {name for name, _ in _strings(generation_schema())}
    for parameter, field in BUDGET_PARAMETERS.items():
        assert parameter in SPECS
        assert field in fields
    defaults = string_caps({name: SPECS[name].default for name in BUDGET_PARAMETERS})
    assert defaults == {field: SPECS[name].default for name, field in BUDGET_PARAMETERS.items()}
    assert string_caps({'max_rationale_chars': 0, 'unrelated': 5}) == {'rationale': 0}


def test_caps_bound_the_fields_they_name_and_never_go_below_the_contract():
    schema = generation_schema(caps={'rationale': 30, 'label': 12, 'question': 0})
    caps = {}
    for name, node in _strings(schema):
        caps.setdefault(name, set()).add(node['maxLength'])
        assert node['maxLength'] >= node.get('minLength', 0)
    assert caps['rationale'] == {30} and caps['label'] == {12}
    assert caps['question'] == {1}  # the contract needs at least one character
    assert max_output_bytes(schema) < max_output_bytes(generation_schema())


@pytest.fixture(scope='module')
def engine():
    return VisionLanguageEngine.load(model('random'), EngineOptions())


@pytest.mark.parametrize('rationale', [0, 12])
def test_decisions_keep_to_the_budget_and_still_parse(engine, rationale):
    constraint = JsonConstraint(engine.tokenizer.to_json(), engine.tokenizer.special.eos,
                                caps={'rationale': rationale, 'label': 8})
    for seed in range(6):
        processor = constraint.processor(384)
        result = engine.generate('You fly a drone.', f'follow the car {seed}', None,
                                 GenerationOptions(max_new_tokens=384, temperature=1.0,
                                                   seed=seed), processor=processor)
        proposal = Proposal.from_json(result.text)
        assert len(proposal.rationale) <= rationale
        if proposal.target is not None:
            assert len(json.loads(result.text)['target']['label']) <= 8


def test_no_rationale_takes_fewer_decode_steps(engine):
    steps = {}
    for rationale in (0, 160):
        constraint = JsonConstraint(engine.tokenizer.to_json(), engine.tokenizer.special.eos,
                                    caps={'rationale': rationale})
        total = 0
        for seed in range(4):
            result = engine.generate('You fly a drone.', 'hover here', None,
                                     GenerationOptions(max_new_tokens=384, temperature=1.0,
                                                       seed=seed),
                                     processor=constraint.processor(384))
            total += result.decode_steps
        steps[rationale] = total
    assert steps[0] < steps[160]
