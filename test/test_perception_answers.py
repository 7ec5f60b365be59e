"""Scene questions ("what is below us?", "is there a person?", "how many red cars?") answered
from the detections in the operator's language, and in the pipeline with the rule parser."""

from __future__ import annotations

import numpy as np
import pytest
from detector_models import build_detector, scene

from ministral_node.core.fallback import FallbackChain
from ministral_node.core.pipeline import DecisionPipeline
from ministral_node.core.settings import Settings
from ministral_node.decision import validate_decision
from ministral_node.health import HealthBoard
from ministral_node.inputs.camera import Frame, LatestFrame
from ministral_node.inputs.vehicle import VehicleState
from ministral_node.mission.projection import CameraIntrinsics
from ministral_node.mission.search import Sighting
from ministral_node.perception.answers import (
    COUNT,
    DESCRIBE,
    PRESENCE,
    about_m,
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
    assert none.params['text'].startswith('Nein, ich sehe kein(e) LKW. Im Bild: Plattform (rot)')
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


def test_answers_say_each_distance_known_and_none_unknown():
    _, seen = scene(('pad', 'red', (130, 100, 200, 170)), ('person', 'blue', (250, 40, 270, 80)))
    metres = {'pad': 24.2, 'person': None}  # the person: not placeable (above the horizon)

    def distance(s):
        return metres[s.detection.label]

    described = answer_scene(scene_question('what is below us?'), seen, 'en', distance)
    assert described.params['text'] == ('In view: red pad about 25 m ahead and blue person on '
                                        'the right.')
    expected = {'fr': ("qu'est-ce qu'il y a en dessous ?", 'plateforme (rouge) à environ 25 m '
                                                          'devant'),
                'de': ('was ist unter uns?', 'Plattform (rot) etwa 25 m voraus'),
                'es': ('¿qué hay debajo?', 'plataforma (rojo) a unos 25 m delante'),
                'it': ("cosa c'è sotto?", 'piattaforma (rosso) a circa 25 m davanti')}
    for language, (question, item) in expected.items():
        text = answer_scene(scene_question(question), seen, language, distance).params['text']
        assert item in text, (language, text)
    yes = answer_scene(scene_question('is there a red pad?'), seen, 'en', distance)
    assert yes.params['text'] == 'Yes: 1 red pad, about 25 m ahead.'
    unknown = answer_scene(scene_question('what is below us?'), seen, 'en', None)
    assert ' m ' not in unknown.params['text']


@pytest.mark.parametrize('distance, said', [(0.4, 1), (7.4, 7), (24.2, 25), (97.6, 100),
                                            (143.0, 140)])
def test_distances_are_rounded_as_said(distance, said):
    assert about_m(distance) == said


def _person_pipeline(tmp_path, camera, sources=None):
    model = build_detector(tmp_path / 'people.onnx',
                           names="{0: 'person', 1: 'car', 2: 'truck'}")
    clock = FakeClock()
    frames = LatestFrame()
    settings = Settings.from_values({'detector_model': str(model),
                                     'detector_providers': ['cpu'],
                                     'camera_mount_pitch_deg': 90.0})
    vehicle = VehicleState().with_pose(0.0, 0.0, 20.0, 0.0, clock.now(), in_air=True)
    state = {'vehicle': vehicle}
    pipeline = DecisionPipeline.from_settings(settings, sources or [RuleDecider()], frames,
                                              clock, FakeClock(1_700_000_000.0),
                                              HealthBoard(clock),
                                              vehicle=lambda: state['vehicle'], camera=camera)
    image = np.zeros((240, 320, 3), np.uint8)
    image[100:140, 250:290] = (230, 20, 20)  # class 0, 'person', on the right

    def ask(text):
        frames.store(Frame(image, clock.now(), 'cam', clock.now()))
        return pipeline.decide(text)
    ask.pipeline = pipeline
    return ask, clock, state


def test_the_pipeline_says_distances_from_the_camera_model_and_the_pose(tmp_path):
    # Downward camera 20 m up, 90 degree field of view: the box centre (270, 120) lies
    # 110 px right of the image centre: 110 / 160 * 20 m = 13.75 m.
    intrinsics = CameraIntrinsics(160.0, 160.0, 160.0, 120.0, 320, 240)
    ask, clock, state = _person_pipeline(tmp_path, lambda: intrinsics)
    decision = ask('is there a person?')
    assert decision.params['text'] == 'Yes: 1 person, about 15 m on the right.'
    clock.advance(5.0)  # the pose is now older than pose_timeout_s: no distance
    assert ask('is there a person?').params['text'] == 'Yes: 1 person, on the right.'


def test_the_pipeline_says_no_distance_without_camera_intrinsics(tmp_path):
    ask, _, _ = _person_pipeline(tmp_path, lambda: None)
    assert ask('¿hay una persona?').params['text'] == 'Sí: 1 × persona, a la derecha.'


def test_the_pipeline_looks_for_a_named_target_for_a_searching_step(tmp_path):
    ask, _, _ = _person_pipeline(tmp_path, lambda: None)
    ask('take off to 10 m')  # stores the frame: a person on the right
    found = ask.pipeline.find('persona')
    assert found.matches == 1 and found.problem == ''
    assert found.box == pytest.approx((250 / 320, 100 / 240, 290 / 320, 140 / 240), abs=0.01)
    assert ask.pipeline.find('red truck') == Sighting()  # a class it knows, not in view
    assert 'does not know' in ask.pipeline.find('the tower').problem
    blind = DecisionPipeline(FallbackChain([], FakeClock()), LatestFrame(), FakeClock(),
                             FakeClock())
    assert blind.find('red pad').problem == 'no object detector configured (detector_model)'


@pytest.mark.parametrize('text, answered', [
    ('gibt es einen LKW?', 'Nein, ich sehe kein(e) LKW. Im Bild: Person (rot) rechts.'),
    ('is there a person?', 'Yes: 1 person, on the right.'),
])
def test_a_model_that_flies_on_a_scene_question_is_overruled_by_the_answer(tmp_path, text,
                                                                          answered):
    from support import ScriptedDecider

    from ministral_node.decision import Proposal, Target

    # No number of its own: the verify stage lets it through (as the demo model's did).
    follow = Proposal('follow', {'distance_m': None}, Target('lkw', None), 0.9, 'the model')
    ask, _, _ = _person_pipeline(tmp_path, lambda: None,
                                 [ScriptedDecider('onboard', follow), RuleDecider()])
    decision = ask(text)
    assert decision.action == 'answer' and decision.params['text'] == answered
    assert any('the proposed follow replaced' in n for n in decision.notes)
    assert ask('follow the truck').action != 'answer'  # a command stays one


def test_a_count_tells_apart_what_shares_a_bearing():
    _, seen = scene(('car', 'red', (115, 100, 145, 130)), ('car', 'blue', (175, 100, 205, 130)))
    counted = answer_scene(scene_question('combien de voitures ?'), seen, 'fr')
    assert counted.params['text'] == 'Je vois 2 × voiture: à gauche et à droite.'
