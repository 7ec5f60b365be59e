"""The shipped demo model meets its goals on a fixed held-out sample, through the node's path.

Held-out means other seeds and paraphrase templates never seen in training; decisions go
through the real engine and `OnboardDecider` (constrained, greedy), as the node makes them.
"""

import pytest

from ministral_node.sources.onboard import resolve_model_dir
from ministral_node.training.evaluate import (
    DEMO_MODEL,
    GOALS,
    heldout_examples,
    markdown,
    meets_goals,
    run_model,
    summarise,
)

pytestmark = pytest.mark.slow

SAMPLE = 250  # 50 per language


@pytest.fixture(scope='module')
def decided():
    model_dir = resolve_model_dir(DEMO_MODEL)
    if not (model_dir / 'config.json').is_file():
        pytest.fail(f'the demo model is missing from {model_dir} (make train writes it)')
    examples = heldout_examples(SAMPLE, seed=1)
    return examples, run_model(model_dir, examples)


@pytest.fixture(scope='module')
def table(decided):
    return summarise(decided[1])


@pytest.fixture(scope='module')
def singles(decided):
    """Single commands only: what the goals were set on (missions are scored apart)."""
    examples, outcomes = decided
    return summarise([o for e, o in zip(examples, outcomes) if e.intent != 'mission'])


def test_every_decision_is_schema_valid(table):
    assert table['all']['valid'] == 1.0


def test_the_action_goal_is_met_on_single_commands(singles):
    print('\n' + markdown({'single': singles}))
    assert singles['all']['action_accuracy'] >= GOALS['action_accuracy']
    # per language: 93.2-100 % measured; French and English miss 95 % on held-out frames
    # (e.g. "reste ici", read as land or stop), docs/model.md "The shipped model"
    for language, row in singles.items():
        assert row['action_accuracy'] >= 0.9, (language, row)


def test_numbers_and_boxes_hold_the_level_the_shipped_model_reached(singles):
    # Measured on this sample: numbers exact 75.0-90.3 % per language on single commands
    # (numbers in words and other units included), mean IoU 0.11-0.15 (docs/model.md, "The
    # shipped model"); a worse export fails here.
    for language, row in singles.items():
        assert row['numeric_exact'] >= 0.7, (language, row)
        assert row['mean_iou'] >= 0.07, (language, row)


def test_the_demo_model_plans_missions(decided):
    examples, outcomes = decided
    missions = summarise([o for e, o in zip(examples, outcomes) if e.intent == 'mission'])
    print('\n' + markdown({'mission': missions}))
    # every step's action right in 50 % of the sample's held-out missions (connectors and
    # step phrasings never seen in training); the rule parser and verification cover the rest
    assert missions['all']['valid'] == 1.0 and missions['all']['action_accuracy'] >= 0.3


@pytest.mark.xfail(strict=True, reason='the shipped model does not reach the grounding goal '
                   '(docs/model.md, "The shipped model"); strict: a model that does turns this '
                   'into a failure, to be made a plain test')
def test_every_goal_is_met_in_every_language(table):
    assert meets_goals(table) == [], GOALS


def test_the_config_makes_the_demo_model_the_onboard_default():
    from ministral_node import parameters
    from ministral_node.resources import config_path

    values = parameters.load_params_file(config_path('ministral.yaml'))
    assert values['decision_sources'][0] == 'onboard'
    assert resolve_model_dir(values['model_dir']) == resolve_model_dir(DEMO_MODEL)


def test_the_shipped_config_decides_the_demo_scene_with_the_demo_model(capsys, tmp_path):
    import json

    import cv2

    from ministral_node.cli import decide
    from ministral_node.training.scenes import demo_scene

    scene = demo_scene()
    path = tmp_path / 'frame.png'
    cv2.imwrite(str(path), cv2.cvtColor(scene.image, cv2.COLOR_RGB2BGR))
    assert decide.main(['--command', 'Atterris sur la plateforme rouge', '--image',
                        str(path)]) == 0
    decision = json.loads(capsys.readouterr().out)
    assert (decision['source'], decision['action']) == ('onboard', 'land')
    assert decision['model']['name'] == 'ministral-3-drone-demo'
    # where: not reliable yet (see the goals above), and the model is unsure of it: the
    # measured box confidence is below min_box_confidence, so the box is published as null
    assert decision['target'] == {'label': 'plateforme rouge', 'box': None}
    assert decision['frame']['width'] == 640
    assert decision['confidence_detail']['fields']['target.box'] < 0.05
    assert any(note.startswith('target box dropped') for note in decision['notes'])


def test_the_demo_model_optimized_decides_exactly_as_shipped(tmp_path):
    """`ministral-optimize` on a real torch export (the demo model): its attention fuses, the
    engine runs it in place, and every decision of a held-out sample is the same (its
    measured confidence within 0.005)."""
    import shutil

    from ministral_node import parameters
    from ministral_node.engine.decoder import InPlaceDecoder
    from ministral_node.sources.onboard import OnboardDecider
    from ministral_node.timing import Cancellation
    from ministral_node.tools import optimize
    from ministral_node.training.encoding import request_for

    shipped = resolve_model_dir(DEMO_MODEL)
    optimized = shutil.copytree(shipped, tmp_path / 'demo')
    assert optimize.main([str(optimized)]) == 0
    examples = heldout_examples(30, seed=5)
    decided = {}
    for directory in (shipped, optimized):
        decider = OnboardDecider.from_params(parameters.validate({
            **parameters.defaults(), 'model_dir': str(directory),
            'execution_providers': ['cpu'], 'temperature': 0.0}))
        decider.load()
        try:
            assert isinstance(decider.engine.decoder, InPlaceDecoder) == (
                directory == optimized)
            decided[directory] = [decider.decide(request_for(e), Cancellation()).to_dict()
                                  for e in examples]
        finally:
            decider.close()
    # The confidence is measured from token probabilities, which move in the third digit.
    confidences = {d: [p.pop('confidence') for p in decided[d]] for d in decided}
    assert decided[optimized] == decided[shipped]
    assert confidences[optimized] == pytest.approx(confidences[shipped], abs=5e-3)
