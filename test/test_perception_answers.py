"""Scene questions ("what is below us?", "is there a person?", "how many red cars?") answered
from the detections in the operator's language, and in the pipeline with the rule parser."""

from __future__ import annotations

import numpy as np
import pytest
from detector_models import build_detector, scene

from ministral_node.core.pipeline import DecisionPipeline
from ministral_node.core.settings import Settings
from ministral_node.decision import validate_decision
from ministral_node.health import HealthBoard
from ministral_node.inputs.camera import Frame, LatestFrame
from ministral_node.perception.answers import (
    COUNT,
    DESCRIBE,
    PRESENCE,
    answer_scene,
    scene_question,
)
from ministral_node.sources.rules.decider import RuleDecider
from ministral_node.timing import FakeClock


@pytest.mark.parametrize('text, form, concept, color', [
    ('what is below us?', DESCRIBE, None, None),
    ('what do you see?', DESCRIBE, None, None),
    ("qu'est-ce qu'il y a en dessous ?", DESCRIBE, None, None),
    ('was ist unter uns?', DESCRIBE, None, None),
    ('¿qué hay debajo de nosotros?', DESCRIBE, None, None),
    ("cosa c'è sotto di noi?", DESCRIBE, None, None),
    ('is there a person?', PRESENCE, 'person', None),
    ('y a-t-il une personne ?', PRESENCE, 'person', None),
    ('gibt es ein rotes Auto?', PRESENCE, 'car', 'red'),
    ('¿hay una persona?', PRESENCE, 'person', None),
    ("c'è una macchina blu?", PRESENCE, 'car', 'blue'),
    ('how many red pads?', COUNT, 'pad', 'red'),
    ('combien de voitures rouges ?', COUNT, 'car', 'red'),
    ('wie viele LKW siehst du?', COUNT, 'truck', None),
    ('¿cuántos coches hay?', COUNT, 'car', None),
    ('quante persone ci sono?', COUNT, 'person', None),
])
def test_scene_questions_in_five_languages(text, form, concept, color):
    question = scene_question(text)
    assert (question.form, question.query.concept, question.query.color) == (form, concept,
                                                                           color)


@pytest.mark.parametrize('text', ['land on the red pad', 'take off to 10 m', 'what can you do?',
                                  'fly 30 m north'])
def test_commands_are_not_scene_questions(text):
    assert scene_question(text) is None


def test_answers_count_classes_colours_and_bearings():
    _, seen = scene(('pad', 'red', (10, 100, 80, 170)), ('pad', 'red', (130, 100, 200, 170)),
                    ('person', 'blue', (250, 40, 270, 80)))
    described = answer_scene(scene_question('what is below us?'), seen, 'en')
    assert described.action == 'answer'
    assert described.params['text'] == ('In view: red pad on the left, red pad ahead and blue '
                                        'person on the right.')
    yes = answer_scene(scene_question('is there a person?'), seen, 'en')
    assert yes.params['text'] == 'Yes: 1 person, on the right.'
    counted = answer_scene(scene_question('combien de plateformes rouges ?'), seen, 'fr')
    assert counted.params['text'] == 'Je vois 2 × plateforme (rouge): à gauche et devant.'
    none = answer_scene(scene_question('gibt es einen LKW?'), seen, 'de')
    assert none.params['text'].startswith('Nein, ich sehe kein(e) lkw. Im Bild: plattform (rot)')
    empty = answer_scene(scene_question('¿qué hay debajo?'), [], 'es')
    assert empty.params['text'] == 'No veo nada que reconozca.'


def test_the_pipeline_answers_a_scene_question_the_rule_parser_cannot(tmp_path):
    model = build_detector(tmp_path / 'people.onnx',
                           names="{0: 'person', 1: 'car', 2: 'truck'}")
    clock = FakeClock()
    frames = LatestFrame()
    settings = Settings.from_values({'detector_model': str(model),
                                     'detector_providers': ['cpu']})
    pipeline = DecisionPipeline.from_settings(settings, [RuleDecider()], frames, clock,
                                              FakeClock(1_700_000_000.0), HealthBoard(clock))
    image = np.zeros((240, 320, 3), np.uint8)
    image[100:160, 20:60] = (230, 20, 20)  # bright red: class 0, 'person', on the left
    frames.store(Frame(image, 5.0, 'cam', clock.now()))
    decision = pipeline.decide("c'è una persona?")
    validate_decision(decision.to_dict())
    assert decision.action == 'answer'
    assert decision.params['text'] == 'Sì: 1 × persona, a sinistra.'
    assert decision.grounding['status'] == 'no_target'
    assert decision.grounding['in_view'][0]['label'] == 'person'
    assert 'scene question (presence) answered from the object detector' in decision.notes
    takeoff = pipeline.decide('take off to 10 m')  # commands are left alone
    assert takeoff.action == 'takeoff'
