"""Targets resolved by name against detections: class words and colours in five languages,
the detector's box and score, the model's box only where it agrees, clarify when the target
is absent or ambiguous; and the pipeline running the detector on the decision's frame."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from detector_models import CLASSES, H, W, build_detector, scene
from support import ScriptedDecider

from ministral_node.core.pipeline import DecisionPipeline
from ministral_node.core.settings import Settings
from ministral_node.decision import Proposal, Target, validate_decision
from ministral_node.health import ERROR, OK, HealthBoard
from ministral_node.inputs.camera import Frame, LatestFrame
from ministral_node.perception.colors import box_color
from ministral_node.perception.detector import Detection
from ministral_node.perception.grounding import ground, look, parse_label
from ministral_node.timing import FakeClock


def land(label: str, box=None, action: str = 'land') -> Proposal:
    return Proposal(action, {}, Target(label, box), 0.8, 'asked')


@pytest.mark.parametrize('label, concept, color', [
    ('plateforme rouge', 'pad', 'red'), ('weißer LKW', 'truck', 'white'),
    ('weissen Lastwagen', 'truck', 'white'), ('macchina blu', 'car', 'blue'),
    ('red pad', 'pad', 'red'), ('persona', 'person', None), ('coche amarillo', 'car', 'yellow'),
    ('la voiture noire', 'car', 'black'), ('rote Plattform', 'pad', 'red'),
    ('the tower', 'tower', None), ('something odd', None, None),
])
def test_labels_in_five_languages_name_a_class_and_a_colour(label, concept, color):
    query = parse_label(label)
    assert (query.concept, query.color) == (concept, color)


@pytest.mark.parametrize('color', ['red', 'blue', 'white', 'black', 'green', 'yellow', 'orange',
                                   'grey'])
def test_the_colour_measured_in_a_box_is_its_named_colour(color):
    image, _ = scene(('pad', color, (100, 80, 180, 160)))
    assert box_color(image, (100, 80, 180, 160))[0] == color


@pytest.mark.parametrize('label, language', [
    ('plateforme rouge', 'fr'), ('red pad', 'en'), ('rote Plattform', 'de'),
    ('plataforma roja', 'es'), ('piattaforma rossa', 'it'),
])
def test_the_named_target_gets_the_detectors_box_and_score(label, language):
    image, seen = scene(('pad', 'blue', (20, 100, 90, 170)), ('pad', 'red', (200, 90, 280, 170)),
                        ('car', 'red', (120, 20, 170, 60)))
    grounded, result = ground(land(label), seen, CLASSES, language, 4.2)
    assert grounded.action == 'land'
    assert grounded.target.box == pytest.approx((200 / W, 90 / H, 280 / W, 170 / H), abs=1e-4)
    assert result.status == 'grounded' and result.detection.color == 'red'
    assert result.detection.detection.score == 0.9 and result.detection.bearing == 'right'
    record = result.to_dict()
    assert record['detection']['box_px'] == [200, 90, 280, 170]
    assert record['detect_ms'] == 4.2 and len(record['in_view']) == 3


def test_the_models_box_is_kept_only_where_it_agrees_with_a_detection():
    _, seen = scene(('pad', 'red', (200, 90, 280, 170)))
    near = (0.6, 0.36, 0.88, 0.72)  # IoU with the red pad's box > 0.5
    _, result = ground(land('red pad', near), seen, CLASSES)
    assert result.model_box == 'agreed'
    grounded, result = ground(land('red pad', (0.0, 0.0, 0.2, 0.2)), seen, CLASSES)
    assert result.model_box == 'dropped' and result.status == 'grounded'
    assert grounded.target.box == pytest.approx((200 / W, 90 / H, 280 / W, 170 / H), abs=1e-4)
    # A class the detector does not know: its box survives only if it agrees with a detection.
    kept, result = ground(land('the tower', near), seen, CLASSES)
    assert result.status == 'unknown_class' and kept.target.box == near
    dropped, result = ground(land('the tower', (0.0, 0.0, 0.2, 0.2)), seen, CLASSES)
    assert result.status == 'unknown_class' and dropped.target.box is None


def test_a_target_not_in_view_asks_back_saying_what_is_there():
    _, seen = scene(('pad', 'blue', (20, 100, 90, 170)), ('truck', 'white', (200, 60, 300, 150)))
    asked, result = ground(land('plateforme rouge'), seen, CLASSES, 'fr')
    assert asked.action == 'clarify' and result.status == 'not_in_view'
    question = asked.params['question']
    assert question.startswith('Je ne vois pas "plateforme rouge".')
    assert 'plateforme (bleu) à gauche' in question and 'camion (blanc) à droite' in question
    asked, _ = ground(land('red pad'), [], CLASSES, 'en')
    assert asked.action == 'clarify' and 'nor anything I can recognise' in asked.params['question']


def test_a_pad_of_another_colour_is_never_taken_for_the_named_one():
    # The simulated world has red and orange pads: "red pad" with only an orange one in view
    # once flew to the orange one (pad_behind_first_step_en, after the detector's retraining).
    _, seen = scene(('pad', 'orange', (20, 100, 90, 170)))
    asked, result = ground(land('red pad'), seen, CLASSES, 'en')
    assert asked.action == 'clarify' and result.status == 'not_in_view'
    assert 'an orange pad on the left' in asked.params['question']
    from ministral_node.decision import mission
    from ministral_node.mission.executor import SEARCHING_ACTIONS

    plan = mission([land('red pad', None, 'goto'), Proposal('land', {}, None, 0.9, '')],
                   'asked', 0.8)
    kept, result = ground(plan, seen, CLASSES, 'en', searched=SEARCHING_ACTIONS)
    assert kept.action == 'mission' and result.status == 'not_in_view'
    assert kept.params['steps'][0]['target'] == {'label': 'red pad', 'box': None}


def test_a_white_car_measured_grey_in_the_shade_is_still_the_white_car():
    _, seen = scene(('car', 'grey', (20, 100, 90, 170)), ('car', 'red', (200, 100, 270, 170)))
    grounded, result = ground(land('white car', None, 'goto'), seen, CLASSES, 'en')
    assert grounded.action == 'goto' and result.status == 'grounded'
    assert result.detection.color == 'grey'


def test_two_equally_good_matches_ask_which_naming_both_with_bearings():
    _, seen = scene(('pad', 'red', (10, 100, 80, 170)), ('pad', 'red', (130, 100, 200, 170)))
    asked, result = ground(land('red pad'), seen, CLASSES, 'en')
    assert asked.action == 'clarify' and result.status == 'ambiguous'
    assert len(result.candidates) == 2
    assert asked.params['question'] == ('I see 2 that match "red pad": a red pad on the left or '
                                        'a red pad ahead. Which one?')
    # The model's own box picks one of them when it agrees with exactly one.
    picked, result = ground(land('red pad', (130 / W, 100 / H, 200 / W, 170 / H)), seen, CLASSES)
    assert picked.action == 'land' and result.status == 'grounded'
    assert result.detection.bearing == 'ahead'


def test_a_weak_box_on_part_of_a_car_is_that_car_not_a_second_one():
    """Seen from above, the simulated world's detector also boxes the back half of a car
    (score 0.3, IoU 0.34 with the car's box: NMS keeps it); the operator was asked "the blue
    car on the left or on the right?" about one car. A box mostly inside a stronger one of its
    class is part of it; a weak box beside it is another car, still asked about."""
    image = np.full((H, W, 3), (70, 120, 60), np.uint8)
    image[60:120, 190:216] = (30, 60, 220)
    car = Detection('car', CLASSES.index('car'), 0.9, (190, 60, 216, 120),
                    (190 / W, 60 / H, 216 / W, 120 / H))
    part = Detection('car', CLASSES.index('car'), 0.3, (192, 92, 216, 118),
                     (192 / W, 92 / H, 216 / W, 118 / H))
    seen = look(image, [part, car])
    assert [s.detection.score for s in seen] == [0.9]
    grounded, result = ground(land('macchina blu', action='goto'), seen, CLASSES, 'it')
    assert grounded.action == 'goto' and result.status == 'grounded'
    image[60:120, 230:256] = (30, 60, 220)
    other = Detection('car', CLASSES.index('car'), 0.3, (230, 60, 256, 120),
                      (230 / W, 60 / H, 256 / W, 120 / H))
    asked, result = ground(land('blue car', action='goto'), look(image, [part, car, other]),
                           CLASSES, 'en')
    assert asked.action == 'clarify' and len(result.candidates) == 2


def test_a_search_is_never_asked_back_and_targetless_decisions_list_the_view():
    _, seen = scene(('car', 'blue', (20, 100, 90, 170)))
    searched, result = ground(land('red car', (0.1, 0.1, 0.2, 0.2), 'search'), seen, CLASSES)
    assert searched.action == 'search' and searched.target.box is None
    assert result.status == 'not_in_view'
    takeoff = Proposal('takeoff', {'altitude_m': 10.0}, None, 0.9, '')
    same, result = ground(takeoff, seen, CLASSES)
    assert same is takeoff and result.status == 'no_target' and len(result.in_view) == 1


# The pipeline: the detector on the decision's frame -------------------------------------------

def _pipeline(tmp_path, proposal: Proposal, model: str | None, **options):
    values = {}
    if model is not None:
        values['detector_model'] = model
        values['detector_providers'] = ['cpu']
    clock = FakeClock()
    frames = LatestFrame()
    health = HealthBoard(clock)
    rules = ScriptedDecider('rules', proposal)
    pipeline = DecisionPipeline.from_settings(Settings.from_values(values), [rules], frames,
                                              clock, FakeClock(1_700_000_000.0), health,
                                              **options)
    return pipeline, frames, clock, rules


def _red_pad_frame(clock) -> Frame:
    image = np.zeros((H, W, 3), np.uint8)
    image[100:160, 200:260] = (230, 20, 20)  # bright in the red channel only: class 0
    return Frame(image, 5.0, 'cam', clock.now())


def test_the_pipeline_grounds_the_decision_on_the_detectors_box(tmp_path):
    model = build_detector(tmp_path / 'pads.onnx', names="{0: 'pad', 1: 'car', 2: 'person'}")
    pipeline, frames, clock, rules = _pipeline(tmp_path, land('plateforme rouge'), str(model))
    frames.store(_red_pad_frame(clock))
    decision = pipeline.decide('Atterris sur la plateforme rouge')
    validate_decision(decision.to_dict())
    assert decision.schema_version == '1.4.0'
    assert rules.requests[0].scene is not None  # the sources see the detections too
    assert decision.action == 'land'
    assert decision.target.box == pytest.approx([200 / W, 100 / H, 260 / W, 160 / H],
                                                      abs=0.02)
    grounding = decision.grounding
    assert grounding['status'] == 'grounded' and grounding['class'] == 'pad'
    assert grounding['detection']['label'] == 'pad'
    assert grounding['detection']['score'] == pytest.approx(0.9)
    assert grounding['detection']['color'] == 'red'
    assert pipeline.health.snapshot_of('detector').level == OK
    # Not in view: clarify in the operator's language.
    rules.proposal = land('macchina blu')
    asked = pipeline.decide('Atterra sulla macchina blu')
    assert asked.action == 'clarify' and asked.grounding['status'] == 'not_in_view'
    assert asked.params['question'].startswith(
        'Non vedo "macchina blu". In vista: piattaforma (rosso)')


@pytest.mark.parametrize('kind', ['missing', 'corrupt'])
def test_a_bad_detector_model_is_reported_and_decisions_go_on_without_it(tmp_path, kind):
    path = tmp_path / 'bad.onnx'
    if kind == 'corrupt':
        path.write_bytes(b'garbage' * 20)
    pipeline, frames, clock, _ = _pipeline(tmp_path, land('red pad'), str(path))
    health = pipeline.health.snapshot_of('detector')
    assert health.level == ERROR and health.values['problem'] == kind
    assert 'bad.onnx' in health.message
    frames.store(_red_pad_frame(clock))
    decision = pipeline.decide('land on the red pad')
    assert decision.action == 'land' and decision.grounding is None
    assert any(n.startswith('decided without the object detector: ') for n in decision.notes)


def test_without_a_detector_nothing_changes(tmp_path):
    pipeline, frames, clock, _ = _pipeline(tmp_path, land('red pad', (0.1, 0.1, 0.3, 0.3)), None)
    frames.store(_red_pad_frame(clock))
    decision = pipeline.decide('land on the red pad')
    assert decision.target.box == (0.1, 0.1, 0.3, 0.3) and decision.grounding is None
    assert 'detector' not in {h.name for h in pipeline.health.snapshot()}


def test_detections_between_decisions_are_reused_by_the_decision_on_that_frame(tmp_path):
    model = build_detector(tmp_path / 'pads.onnx', names="{0: 'pad', 1: 'car', 2: 'person'}")
    pipeline, frames, clock, rules = _pipeline(tmp_path, land('red pad'), str(model))
    assert pipeline.detect_newest() is None  # no frame yet
    frames.store(_red_pad_frame(clock))
    early = pipeline.detect_newest()
    assert [s.detection.label for s in early.seen] == ['pad']
    pipeline.decide('land on the red pad')
    assert rules.requests[0].scene is early  # not detected again
    settings = Settings.from_values({'detector_model': str(model),
                                     'detector_providers': ['cpu'], 'detector_rate_hz': 5.0})
    pipeline.apply(settings)
    assert pipeline.perception.settings.rate_hz == 5.0
    assert pipeline.perception.detector is not None  # same model: retuned, not reloaded


def test_the_decision_loop_loads_the_detector_on_activate_and_reports_it(tmp_path):
    from ministral_node.core.decision_loop import DecisionLoop

    model = build_detector(tmp_path / 'pads.onnx', names="{0: 'pad', 1: 'car', 2: 'person'}")
    published: list[dict] = []
    clock = FakeClock()
    for path, level in ((model, 'OK'), (tmp_path / 'absent.onnx', 'ERROR')):
        loop = DecisionLoop(Settings.from_values({'detector_model': str(path),
                                                  'detector_providers': ['cpu']}),
                            clock, published.append, wake=lambda: None, steady=clock,
                            build=lambda settings, health: [ScriptedDecider('rules',
                                                                            land('red pad'))])
        assert 'detector' not in loop.status()['health']  # inactive: nothing loaded
        loop.activate()
        assert loop.status()['health']['detector'] == level
        loop.frames.store(_red_pad_frame(clock))
        decision = loop.pipeline.decide('land on the red pad')
        assert (decision.grounding or {}).get('status') == (
            'grounded' if level == 'OK' else None)
        loop.detect()  # the detector_rate_hz timer's call
        assert loop.status()['health']['detector'] == level
        loop.deactivate()
        assert loop.status()['health']['detector'] == 'WARN'  # freed with the sources
        loop.shutdown()


def test_a_missions_first_step_is_resolved_and_later_steps_are_left_alone():
    from ministral_node.decision import mission

    _, seen = scene(('car', 'red', (200, 90, 280, 170)))
    photos = Proposal('capture_photo', {'count': 2}, Target('blue car', None), 0.8, '')
    plan = mission([land('red car', action='goto'), photos], 'asked', 0.8)
    grounded, result = ground(plan, seen, CLASSES, 'en')
    assert grounded.action == 'mission' and result.status == 'grounded'
    first, second = grounded.params['steps']
    assert first['target']['box'] == pytest.approx([200 / W, 90 / H, 280 / W, 170 / H],
                                                   abs=1e-4)
    assert second == plan.params['steps'][1]  # seen later, from elsewhere: not judged now
    asked, result = ground(mission([photos, land('red car', action='goto')]), seen, CLASSES)
    assert asked.action == 'clarify' and result.status == 'not_in_view'
    takeoff = Proposal('takeoff', {'altitude_m': 10.0}, None, 0.9, '')
    same, result = ground(mission([takeoff, photos]), seen, CLASSES)
    assert same.params['steps'][1]['target'] == {'label': 'blue car', 'box': None}
    assert result.status == 'no_target'


def test_two_matches_with_the_same_bearing_are_told_apart_left_to_right():
    # Both centres in the middle third: 'ahead' twice would not say which is which.
    _, seen = scene(('pad', 'red', (175, 100, 205, 130)), ('pad', 'red', (115, 100, 145, 130)))
    assert {s.bearing for s in seen} == {'ahead'}
    asked, result = ground(land('plataforma roja'), seen, CLASSES, 'es')
    assert asked.params['question'] == ('Veo 2 que coinciden con "plataforma roja": plataforma '
                                        '(rojo) a la izquierda o plataforma (rojo) a la '
                                        'derecha. ¿Cuál?')
    assert [c.bearing for c in result.candidates] == ['ahead', 'ahead']  # as measured
    _, three = scene(('pad', 'red', (150, 100, 170, 130)), ('pad', 'red', (110, 100, 130, 130)),
                     ('pad', 'red', (190, 100, 210, 130)))
    asked, _ = ground(land('red pad'), three, CLASSES, 'en')
    assert asked.params['question'] == ('I see 3 that match "red pad": a red pad on the left, '
                                        'a red pad ahead or a red pad on the right. Which one?')


# A mission's first step whose target is not in view, when missions are flown ----------------

def test_a_missions_first_step_not_in_view_is_left_for_the_executor_to_search():
    from ministral_node.decision import mission
    from ministral_node.mission.executor import SEARCHING_ACTIONS

    _, seen = scene(('pad', 'blue', (20, 100, 90, 170)))
    then_land = Proposal('land', {}, None, 0.9, '')
    plan = mission([land('red pad', (0.6, 0.4, 0.8, 0.6), 'goto'), then_land], 'asked', 0.8)
    kept, result = ground(plan, seen, CLASSES, 'en', searched=SEARCHING_ACTIONS)
    assert kept.action == 'mission' and result.status == 'not_in_view' and result.searching
    first, second = kept.params['steps']
    # The model's box is no detection's: the step looks for the pad from where it starts.
    assert first == {'action': 'goto', 'params': {}, 'target': {'label': 'red pad', 'box': None}}
    assert second == plan.params['steps'][1]
    assert [s.detection.label for s in result.in_view] == ['pad']
    # Missions not flown here (no executor to search): asked back as before.
    asked, result = ground(plan, seen, CLASSES, 'en')
    assert asked.action == 'clarify' and result.status == 'not_in_view' and not result.searching
    assert asked.params['question'].startswith('I don\'t see "red pad". In view: a blue pad')


def test_a_first_step_searches_only_where_it_can_and_never_for_one_of_two():
    from ministral_node.decision import mission
    from ministral_node.mission.executor import SEARCHING_ACTIONS

    then_land = Proposal('land', {}, None, 0.9, '')
    _, two = scene(('pad', 'red', (10, 100, 80, 170)), ('pad', 'red', (230, 100, 300, 170)))
    asked, result = ground(mission([land('red pad', action='goto'), then_land], 'asked'), two,
                           CLASSES, 'en', searched=SEARCHING_ACTIONS)
    assert asked.action == 'clarify' and result.status == 'ambiguous'
    assert asked.params['question'] == ('I see 2 that match "red pad": a red pad on the left or '
                                        'a red pad on the right. Which one?')
    _, none = scene(('car', 'blue', (20, 100, 90, 170)))
    # A single decision is still asked back, saying what is in view.
    single, result = ground(land('red pad'), none, CLASSES, 'en', searched=SEARCHING_ACTIONS)
    assert single.action == 'clarify' and 'In view: a blue car' in single.params['question']
    # A photo of the target is taken where the vehicle is: nothing searches for it.
    photo = Proposal('capture_photo', {'count': 1}, Target('red pad', None), 0.9, '')
    asked, _ = ground(mission([photo, then_land], 'asked'), none, CLASSES, 'en',
                      searched=SEARCHING_ACTIONS)
    assert asked.action == 'clarify'


def _nothing_frame(clock) -> Frame:
    return Frame(np.zeros((H, W, 3), np.uint8), 5.0, 'cam', clock.now())


def _fly_to_the_red_pad_then_land():
    from ministral_node.decision import mission

    return mission([land('red pad', action='goto'), Proposal('land', {}, None, 0.9, '')],
                   'asked', 0.8)


def test_the_pipeline_leaves_the_first_step_to_search_when_missions_are_flown(tmp_path):
    from ministral_node.inputs.vehicle import VehicleState

    model = build_detector(tmp_path / 'pads.onnx', names="{0: 'pad', 1: 'car', 2: 'person'}")
    flying = VehicleState().with_pose(0.0, 0.0, 20.0, 0.0, 1000.0, in_air=True)
    pipeline, frames, clock, _ = _pipeline(tmp_path, _fly_to_the_red_pad_then_land(),
                                           str(model), searches=True, vehicle=lambda: flying)
    frames.store(_nothing_frame(clock))
    decision = pipeline.decide('fly to the red pad, then land')
    validate_decision(decision.to_dict())
    assert decision.action == 'mission' and decision.safety.refused is None
    assert decision.params['steps'][0]['target'] == {'label': 'red pad', 'box': None}
    assert decision.grounding['status'] == 'not_in_view'
    assert "target 'red pad' not in view for the detector (0 matching, 0 in view): the " \
           "mission's first step searches for it (a full turn, then the search pattern)" \
           in decision.notes
    # Missions not flown by this node: asked back, as for a single decision.
    pipeline, frames, clock, _ = _pipeline(tmp_path, _fly_to_the_red_pad_then_land(),
                                           str(model), vehicle=lambda: flying)
    frames.store(_nothing_frame(clock))
    asked = pipeline.decide('fly to the red pad, then land')
    assert asked.action == 'clarify' and asked.grounding['status'] == 'not_in_view'
    assert 'nor anything I can recognise' in asked.params['question']


def test_on_the_ground_a_first_step_not_in_view_is_refused_saying_why(tmp_path):
    from ministral_node.inputs.vehicle import VehicleState

    model = build_detector(tmp_path / 'pads.onnx', names="{0: 'pad', 1: 'car', 2: 'person'}")
    landed = VehicleState().with_pose(0.0, 0.0, 0.0, 0.0, 1000.0, in_air=False)
    plan = _fly_to_the_red_pad_then_land()
    plan = replace(plan, params={'steps': [{**plan.params['steps'][0], 'action': 'land'},
                                           {'action': 'takeoff', 'params': {'altitude_m': 10.0},
                                            'target': None}]})
    pipeline, frames, clock, _ = _pipeline(tmp_path, plan, str(model), searches=True,
                                           vehicle=lambda: landed)
    frames.store(_nothing_frame(clock))
    decision = pipeline.decide('land on the red pad, then take off to 10 m')
    assert decision.action == 'reject' and decision.grounding['status'] == 'not_in_view'
    assert decision.params['reason'] == (
        "land on 'red pad': not in view, and the search for it needs the vehicle in the air: "
        'take off first')


def test_the_node_flies_a_first_step_not_in_view_by_searching_with_its_detector(tmp_path):
    from support import LoopRig

    model = build_detector(tmp_path / 'pads.onnx', names="{0: 'pad', 1: 'car', 2: 'person'}")
    rig = LoopRig(sources=[ScriptedDecider('rules', _fly_to_the_red_pad_then_land())],
                  execute_missions=True, detector_model=str(model), detector_providers=['cpu'])
    loop, clock = rig.loop, rig.clock
    loop.activate()
    loop.camera_info([160.0, 0.0, 160.0, 0.0, 160.0, 120.0, 0.0, 0.0, 1.0], 320, 240)
    loop.pose(0.0, 0.0, 20.0, 0.0, in_air=True)
    loop.frames.store(_nothing_frame(clock))
    loop.command('fly to the red pad, then land')
    loop.drain()
    [decision] = rig.published
    assert decision.action == 'mission' and decision.grounding['status'] == 'not_in_view'
    frame = _nothing_frame
    for tick in range(40):  # the step settles 1 s, looks, then the pad comes into view
        clock.advance(0.1)
        if tick == 15:
            frame = _red_pad_frame
        loop.frames.store(frame(clock))
        loop.pose(0.0, 0.0, 20.0, 0.0 if tick < 12 else 45.0, in_air=True)
        loop.execute()
    reasons = [s['reason'] for out in rig.executed for s in out.statuses]
    assert "steps[0] (goto): 'red pad' not in view: searching (a full turn)" in reasons
    assert any(r.startswith("steps[0] (goto) started: 'red pad' found after") and
               r.endswith('(2 looks)') for r in reasons), reasons
    assert loop.mission_status()['state'] == 'running'
    assert rig.executed[-1].setpoint is not None  # flying to where the detector saw it
