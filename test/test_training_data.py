"""Synthetic mission data: reproducible, split cleanly, decisions fit the contract and grammar."""

import copy

import numpy as np
import pytest

from ministral_node.engine.preprocess import ImageConfig
from ministral_node.resources import share_dir
from ministral_node.sources.onboard import resolve_model_dir
from ministral_node.sources.rules.provenance import command_numbers
from ministral_node.sources.system_prompt import (
    SYSTEM_PROMPT_FILE,
    model_system_prompt,
    system_prompt,
)
from ministral_node.tools import tokenizer_builder
from ministral_node.training import dataset, scenes, templates, writing
from ministral_node.training.dataset import STEP_INTENTS, Split, answer_text, make_example
from ministral_node.training.encoding import IGNORE, Encoder
from ministral_node.training.evaluate import compare, iou
from ministral_node.training.handwritten import load_cases


@pytest.fixture(scope='module')
def encoder(tmp_path_factory):
    path = tmp_path_factory.mktemp('tok') / 'tokenizer.json'
    tokenizer_builder.train(dataset.corpus(300), 600).save(str(path))
    return Encoder(path, 'short prompt', ImageConfig(longest_edge=224))


def test_examples_are_reproducible_and_seeds_differ():
    a, b = make_example(Split('train', 0), 17), make_example(Split('train', 0), 17)
    assert a.command == b.command and a.proposal == b.proposal
    assert np.array_equal(a.image, b.image)
    other = [make_example(Split('train', 5), i).command for i in range(20)]
    assert other != [make_example(Split('train', 0), i).command for i in range(20)]


def test_held_out_split_uses_only_unseen_templates_in_every_language():
    every = templates.all_templates()
    train_texts = {(t.language, t.text) for t in every if not t.held_out}
    held = [t for t in every if t.held_out]
    assert not {(t.language, t.text) for t in held} & train_texts
    for language in templates.LANGUAGES:
        assert not set(templates.HELD_OUT_CONNECTORS[language]) & \
            set(templates.CONNECTORS[language])
        for intent in set(dataset.INTENT_WEIGHTS) - {dataset.MISSION_INTENT}:
            assert templates.templates_for(intent, language, True), (language, intent)
            assert templates.templates_for(intent, language, False), (language, intent)
    for split in (Split('train', 0), Split('heldout', 1)):
        examples = [make_example(split, i) for i in range(40)]
        assert {e.template.held_out for e in examples} == {split.held_out}
        assert {e.language for e in examples} == set(templates.LANGUAGES)


def test_decisions_validate_and_the_generation_constraint_accepts_them(encoder):
    actions = set()
    for split in (Split('train', 0), Split('heldout', 1)):
        for i in range(50):
            example = make_example(split, i)
            example.proposal.validate()
            actions.add(example.proposal.action)
            ids = encoder.answer_ids(answer_text(example.proposal))
            assert encoder.tokenizer.decode(ids) == answer_text(example.proposal)
    assert len(actions) >= 12


def test_grounded_boxes_come_from_the_render():
    grounded = 0
    for i in range(80):
        example = make_example(Split('train', 3), i)
        target = example.proposal.target
        if target is None or target.box is None:
            continue
        grounded += 1
        x0, y0, x1, y1 = target.box
        assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
        assert target.label in example.command
        assert any(tuple(o.box) == target.box for o in example.objects)
    assert grounded > 20


def test_encoded_example_has_the_engines_prompt_and_answer_only_labels(encoder):
    example = make_example(Split('train', 0), 3)
    encoded = encoder.encode(example)
    prompt, prepared = encoder.prompt(example)
    assert np.array_equal(encoded.input_ids[:len(prompt)], prompt.ids)
    assert (encoded.labels[:len(prompt)] == IGNORE).all()
    assert (encoded.labels[len(prompt):] != IGNORE).all()
    assert encoded.pixel_values.shape == prepared.pixel_values.shape[1:]
    assert prompt.image_positions.size == prepared.rows * prepared.cols
    assert example.command in encoder.tokenizer.decode(list(prompt.ids))


@pytest.mark.parametrize('language,kind,color,form,expected', [
    ('de', 'car', 'blue', 'np_dat', ('dem blauen Auto', 'blauen Auto')),
    ('de', 'truck', 'red', 'np', ('den roten Lastwagen', 'roten Lastwagen')),
    ('de', 'pad', 'white', 'np', ('den weißen Landeplatz', 'weißen Landeplatz')),
    ('fr', 'truck', 'red', 'np_de', ('du camion rouge', 'camion rouge')),
    ('fr', 'car', 'blue', 'np', ('la voiture bleue', 'voiture bleue')),
    ('es', 'car', 'blue', 'np_a', ('al coche azul', 'coche azul')),
    ('it', 'building', 'red', 'np_de', ("dell'edificio rosso", 'edificio rosso')),
    ('en', 'person', 'red', 'np', ('the person in red', 'person in red')),
    ('de', 'person', 'red', 'np_dat', ('der Person in Rot', 'Person in Rot')),
])
def test_noun_phrases_agree_in_gender_and_case(language, kind, color, form, expected):
    assert templates.noun_phrase(language, kind, color, form) == expected


def test_scenes_are_seeded_and_boxes_cover_the_objects():
    rng = np.random.default_rng(4)
    scene = scenes.render_scene(rng, [('pad', 'red')], size=(320, 240), distractors=0)
    again = scenes.render_scene(np.random.default_rng(4), [('pad', 'red')], size=(320, 240),
                                distractors=0)
    assert np.array_equal(scene.image, again.image)
    (pad,) = scene.objects
    x0, y0, x1, y1 = (int(v * s) for v, s in zip(pad.box, (320, 240, 320, 240)))
    inside = scene.image[y0:y1, x0:x1].reshape(-1, 3).astype(int)
    # The pad is red: many strongly red pixels inside its box.
    assert ((inside[:, 0] > 120) & (inside[:, 1] < 110)).mean() > 0.3


def test_yaml_extensions_add_templates_nouns_and_scene_classes(tmp_path, monkeypatch):
    for name in ('TEMPLATES', 'NOUNS', 'TARGET_KINDS'):
        monkeypatch.setattr(templates, name, copy.deepcopy(getattr(templates, name)))
    monkeypatch.setattr(scenes, 'CLASSES', dict(scenes.CLASSES))
    monkeypatch.setattr(templates, '_INDEX', {})
    monkeypatch.setattr(templates, '_WORDS', set())
    assert 'colle' not in templates.template_words()
    path = tmp_path / 'extra.yaml'
    path.write_text(templates.EXTENSION_EXAMPLE, encoding='utf-8')
    templates.load_extensions(path)
    assert 'colle' in templates.template_words()  # noise avoids the added words too
    assert 'boat' in scenes.CLASSES and 'boat' in templates.TARGET_KINDS['follow']
    texts = {t.text: t.held_out for t in templates.templates_for('land_on', 'en', False)
             + templates.templates_for('land_on', 'en', True)}
    assert texts['put it down on {np}'] is False and texts['bring it down on {np}'] is True
    scene = scenes.render_scene(np.random.default_rng(0), [('boat', 'red')], distractors=0)
    assert scene.objects[0].kind == 'boat'
    bad = tmp_path / 'bad.yaml'
    bad.write_text('templates: {xx: {land: [a]}}\n', encoding='utf-8')
    with pytest.raises(ValueError, match='language'):
        templates.load_extensions(bad)


def test_model_directory_may_carry_its_system_prompt(tmp_path):
    assert model_system_prompt(tmp_path) == system_prompt()
    (tmp_path / SYSTEM_PROMPT_FILE).write_text('Be brief.\n', encoding='utf-8')
    assert model_system_prompt(tmp_path) == 'Be brief.'
    assert resolve_model_dir('config') == share_dir() / 'config'
    assert resolve_model_dir(str(tmp_path)) == tmp_path


def test_scoring_counts_actions_numbers_and_boxes():
    example = make_example(Split('heldout', 1), 0)
    assert compare(example, example.proposal).action_ok
    assert compare(example, None).valid is False
    assert iou((0, 0, 1, 1), (0, 0, 0.5, 1)) == pytest.approx(0.5)
    assert iou(None, (0, 0, 1, 1)) == 0.0


def test_training_commands_get_filler_words_and_held_out_ones_never(monkeypatch):
    rng = np.random.default_rng(0)
    variants = {dataset._with_fillers(rng, 'folge dem roten Auto', 'de') for _ in range(200)}
    assert 'folge dem roten Auto' in variants
    assert any(v.startswith('bitte ') for v in variants)
    assert any(' jetzt ' in f' {v} ' or ' sofort ' in f' {v} ' for v in variants)
    for variant in variants:  # the command's own words stay, in order
        words = [w for w in variant.split() if w not in dataset.FILLERS['de'][0] +
                 dataset.FILLERS['de'][1]]
        assert words == ['folge', 'dem', 'roten', 'Auto']
    monkeypatch.setattr(dataset, '_with_fillers', lambda *a: pytest.fail('held-out filler'))
    for i in range(30):
        make_example(Split('heldout', 1), i)


def test_scratch_tokenizer_writes_numbers_digit_by_digit(tmp_path):
    tokenizer = tokenizer_builder.train(dataset.corpus(300), 600, individual_digits=True)
    encoding = tokenizer.encode('climb to 137 m, box [0.25,0.5]')
    digits = [t for t in encoding.tokens if any(c.isdigit() for c in t)]
    assert digits == ['1', '3', '7', '0', '2', '5', '0', '5']
    assert tokenizer.decode(encoding.ids) == 'climb to 137 m, box [0.25,0.5]'


def test_box_steps_are_the_positions_that_write_the_target_box(encoder):
    from ministral_node.training.train import box_steps

    decode = encoder.constraint.tokenizer.decode_bytes
    checked = 0
    for i in range(40):
        example = make_example(Split('train', 0), i)
        encoded = encoder.encode(example)
        steps = box_steps(encoded, decode)
        if example.box is None:
            assert steps.size == 0
            continue
        written = b''.join(decode([int(encoded.input_ids[s + 1])]) for s in steps)
        assert written.decode() == answer_text(example.proposal).split('"box":[')[1].split(']')[0]
        checked += 1
    assert checked > 5


def test_the_export_check_compares_the_decision_not_what_follows_it(encoder):
    from ministral_node.training.export import decision_length

    text = answer_text(make_example(Split('train', 0), 3).proposal)
    ids = encoder.tokenizer.encode(text) + encoder.tokenizer.encode('."} asked')
    assert encoder.tokenizer.decode(ids[:decision_length(encoder.tokenizer, ids)]) == text
    broken = encoder.tokenizer.encode('{"action":"land"')
    assert decision_length(encoder.tokenizer, broken) == len(broken)


@pytest.mark.parametrize('language', templates.LANGUAGES)
def test_numbers_in_words_are_ones_the_rule_parser_reads_back(language):
    for value in [*range(2, 130), *range(130, 1000, 7)]:
        words = writing.spell(value, language)
        assert float(value) in command_numbers(f'{words} m'), (language, value, words)
    with pytest.raises(ValueError):
        writing.spell(2.5, language)


def test_slips_change_one_word_and_keep_target_names():
    rng = np.random.default_rng(3)
    for _ in range(100):
        slipped = writing.typo(rng, 'land on the blue landing pad now', keep='blue landing pad')
        before, after = 'land on the blue landing pad now'.split(), slipped.split()
        changed = [(a, b) for a, b in zip(before, after) if a != b]
        assert len(after) == len(before) and len(changed) == 1
        assert abs(len(changed[0][0]) - len(changed[0][1])) <= 1
        assert after[3:6] == ['blue', 'landing', 'pad']
    assert writing.unaccented('décolle à 30 mètres', 'fr') == 'decolle a 30 metres'
    assert writing.unaccented('steig auf dreißig Meter, höher', 'de') in (
        'steig auf dreissig Meter, hoeher', 'steig auf dreissig Meter, hoher')


def test_operators_writing_reaches_the_training_commands():
    examples = [make_example(Split('train', 0), i) for i in range(600)]
    text = ' '.join(e.command for e in examples)
    assert any(w in text for w in ('trente', 'dreißig', 'dreissig', 'treinta', 'trenta'))
    assert 'RTL' in text or 'RTH' in text
    assert any(unit in text for unit in (' km ', 'km/h', 'ft', 'feet', 'minut', 'Minute'))
    assert any(e.command.isascii() and not e.template.text.isascii() for e in examples)
    assert any(e.command.isupper() for e in examples)


def test_missions_join_two_to_four_steps_with_connectors():
    for split in (Split('train', 0), Split('heldout', 1)):
        missions = [e for e in (make_example(split, i) for i in range(300))
                    if e.intent == dataset.MISSION_INTENT]
        assert len(missions) > 15
        joins = templates.HELD_OUT_CONNECTORS if split.held_out else templates.CONNECTORS
        for example in missions:
            steps = example.proposal.params['steps']
            assert 2 <= len(steps) <= 4
            assert sum(step['target'] is not None for step in steps) <= 1
            assert steps[0]['action'] == 'takeoff' or 'takeoff' not in \
                [s['action'] for s in steps]
            if split.held_out:  # (training commands may have a typo in the connector)
                assert any(j.strip(' ,;.').lower() in example.command.lower()
                           for j in joins[example.language] if j.strip(' ,;.'))
            assert compare(example, example.proposal).numeric_ok in (True, None)


# Phrasings added to existing intents after the hand-written set was written.
ADDED_TEMPLATES = {'take off, {alt}', 'get airborne to {alt}', 'launch to {alt}', 'stay put',
                   'stay where you are', 'décolle, {alt}', 'envole-toi à {alt}',
                   'retourne à la maison', 'starte, {alt}', 'steig auf und flieg auf {alt}',
                   'despega, {alt}', 'elévate a {alt}', 'decolla, {alt}',
                   'alzati in volo a {alt}', 'set alt to {alt}', 'change alt to {alt}',
                   'remain in place', 'remain in place for {sec}', 'resta dove sei',
                   'stai fermo qui'}


def test_new_phrasings_are_not_the_hand_written_evaluation_sentences():
    import re

    added = ('uturn', 'search_radius', 'negation', 'offtopic', *STEP_INTENTS)
    new = [t for t in templates.all_templates()
           if t.intent in added or t.text in ADDED_TEMPLATES]
    assert {t.text for t in new} >= ADDED_TEMPLATES
    patterns = [re.compile(re.sub(r'\\{\w+\\}', '.+', re.escape(t.text.lower())) + r'[.!?]?')
                for t in new]
    for case in load_cases():
        assert not any(p.fullmatch(case.text.lower()) for p in patterns), case.text


def test_nonsense_is_never_a_command_word_nor_a_hand_written_sentence():
    rng = np.random.default_rng(5)
    words = templates.template_words()
    sentences = {case.text.lower().strip('!?. ') for case in load_cases()}
    for _ in range(20000):
        text = writing.noise(rng, words)
        assert text.strip('?') and text.strip('?') not in sentences, text
        assert not set(text.strip('?').split()) & words, text
    example = next(e for e in (make_example(Split('train'), i) for i in range(400))
                   if e.intent == 'nonsense')
    assert example.proposal.action == 'clarify' and example.proposal.params['question']


def test_moves_whose_verb_says_the_direction_go_that_way():
    axis = {'step_forward': ('forward_m', 1), 'step_back': ('forward_m', -1),
            'step_left': ('right_m', -1), 'step_right': ('right_m', 1)}
    seen = set()
    for index in range(6000):
        example = make_example(Split('train'), index)
        if example.intent not in axis:
            continue
        name, sign = axis[example.intent]
        params = example.proposal.params
        assert example.proposal.action == 'goto'
        assert params[name] * sign > 0, (example.command, params)
        other = 'right_m' if name == 'forward_m' else 'forward_m'
        assert params[other] == 0 and params['up_m'] == 0
        seen.add((example.intent, example.language))
    assert seen == {(i, lang) for i in axis for lang in templates.LANGUAGES}


def test_short_commands_are_sometimes_said_again_and_written_in_lower_case():
    rng = np.random.default_rng(0)
    stop = dataset.Proposal('stop', {}, None, 0.9, 'Stopping now.')
    written = {dataset._slips(rng, 'RTH', 'en', stop) for _ in range(400)}
    assert 'rth' in written and any(w.count('RTH') >= 2 for w in written)
    long = 'fly forward 20 m'
    assert all(dataset._slips(rng, long, 'en', stop).split().count('fly') <= 1
               for _ in range(400))
