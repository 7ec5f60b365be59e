"""The shipped demo model meets its goals on a fixed held-out sample, through the node's path.

Held-out means other seeds and paraphrase templates never seen in training; decisions go
through the real engine and `OnboardDecider` (constrained, greedy), as the node makes them.
"""

import pytest

from ministral_node.onboard import resolve_model_dir
from ministral_node.training.evaluate import (
    DEMO_MODEL,
    GOALS,
    heldout_examples,
    markdown,
    meets_goals,
    run_model,
    summarise,
)

SAMPLE = 250  # 50 per language


@pytest.fixture(scope='module')
def table():
    model_dir = resolve_model_dir(DEMO_MODEL)
    if not (model_dir / 'config.json').is_file():
        pytest.fail(f'the demo model is missing from {model_dir} (make train writes it)')
    return summarise(run_model(model_dir, heldout_examples(SAMPLE, seed=1)))


def test_every_decision_is_schema_valid(table):
    assert table['all']['valid'] == 1.0


def test_goals_are_met_in_every_language(table):
    print('\n' + markdown({'model': table}))
    assert meets_goals(table) == [], GOALS


def test_the_config_makes_the_demo_model_the_onboard_default():
    from ministral_node import parameters
    from ministral_node.resources import config_path

    values = parameters.load_params_file(config_path('ministral.yaml'))
    assert values['decision_sources'][0] == 'onboard'
    assert resolve_model_dir(values['model_dir']) == resolve_model_dir(DEMO_MODEL)
