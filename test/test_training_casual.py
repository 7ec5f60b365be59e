"""Casual speech in the training generators (issue 25): every phenomenon in every language, with
the decision the command asks for, and never an evaluation set's sentence."""

import re
import unicodedata

import numpy as np
import pytest

from ministral_node.sources.rules import lexicon as lx
from ministral_node.sources.rules.spelling import correction, near_negation
from ministral_node.sources.rules.text import fold
from ministral_node.training import casual, dataset, scenes, templates
from ministral_node.training import handwritten as hw
from ministral_node.training.dataset import KNOT, Split, make_example

SAMPLE = 6000


def _quick_scene(rng, kinds=None, *args, **kwargs):
    """A scene with the asked objects and no pixels worth the time (text is what is tested)."""
    objects = [scenes.SceneObject(kind, color, (0.1, 0.2, 0.3, 0.4)) for kind, color in
               kinds or ()]
    return scenes.Scene(np.zeros((4, 4, 3), np.uint8), objects)


@pytest.fixture(scope='module')
def casual_examples():
    """Training examples of a fixed seed with every phenomenon drawn often."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scenes, 'render_scene', _quick_scene)
        patch.setattr(casual, 'RATES', {name: 0.35 for name in casual.RATES})
        return [make_example(Split('train', 7), i) for i in range(SAMPLE)]


def test_every_phenomenon_reaches_every_language(casual_examples):
    seen = {(p, e.language) for e in casual_examples for p in e.phenomena}
    assert seen == {(p, lang) for p in casual.RATES for lang in templates.LANGUAGES}


def test_held_out_commands_stay_plain():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scenes, 'render_scene', _quick_scene)
        patch.setattr(casual, 'RATES', {name: 1.0 for name in casual.RATES})
        assert not any(make_example(Split('heldout', 1), i).phenomena for i in range(200))


def test_rates_of_zero_leave_the_commands_plain():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scenes, 'render_scene', _quick_scene)
        patch.setattr(casual, 'RATES', {name: 0.0 for name in casual.RATES})
        assert not any(make_example(Split('train', 0), i).phenomena for i in range(300))


def test_negated_commands_still_ask_back(casual_examples):
    negations = [e for e in casual_examples if e.intent == 'negation']
    assert any(e.phenomena for e in negations)
    assert all(e.proposal.action == 'clarify' for e in negations)
    for language in templates.LANGUAGES:  # nothing added may say "no" itself
        added = [*casual.fillers(language), *lx.DISCOURSE[language].split('|'),
                 *lx.MODAL_PARTICLES.get(language, '').split('|')]
        assert not [w for p in added for w in fold(p).split() if near_negation(w)], language
        for concept, _ in casual.COLLOQUIAL.values():
            for verb in casual.verbs(concept, language):
                assert not any(near_negation(w) for w in re.findall(r'\w+', fold(verb))), verb


def test_a_misspelt_direction_still_goes_that_way(casual_examples):
    rng = np.random.default_rng(1)
    for language, words in templates.DIRECTIONS.items():
        for phrase in words:
            word = phrase.split()[-1]
            slipped = {casual.misspelt(rng, word, language) for _ in range(30)} - {None}
            assert slipped, (language, word)
            for typo in slipped:
                assert typo != word and typo[0] == word[0]
                read = correction(fold(typo), language)
                assert read and read[1] == lx.PHRASES[language][(fold(word),)], typo
    axis = {'step_forward': ('forward_m', 1), 'step_back': ('forward_m', -1),
            'step_left': ('right_m', -1), 'step_right': ('right_m', 1)}
    typoed = [e for e in casual_examples if 'typo' in e.phenomena and e.intent in axis]
    assert len(typoed) > 10
    for example in typoed:
        name, sign = axis[example.intent]
        assert example.proposal.params[name] * sign > 0, example.command


@pytest.mark.parametrize('word,language', [('trente', 'fr'), ('nicht', 'de'), ('metros', 'es'),
                                           ('dont', 'en'), ('fwds', 'en'), ('mai', 'it')])
def test_numbers_units_negations_and_abbreviations_are_never_misspelt(word, language):
    rng = np.random.default_rng(0)
    assert all(casual.misspelt(rng, word, language) is None for _ in range(20))
    assert casual.typo(rng, f'{word} {word}', language) is None


def _number_before(unit: str, command: str) -> float | None:
    match = re.search(r'(\d+(?:[.,]\d+)?) ' + re.escape(unit) + r'\b', command, re.IGNORECASE)
    return float(match.group(1).replace(',', '.')) if match else None


def test_abbreviated_units_are_converted_in_the_decision(casual_examples):
    checked = set()
    for example in casual_examples:
        if 'abbreviation' not in example.phenomena or example.intent == 'mission':
            continue
        params = example.proposal.params
        feet = _number_before('ft', example.command)
        if feet is not None:
            assert params['altitude_m'] == round(feet * 0.3048, 2), example.command
            checked.add(('ft', example.language))
        for unit in casual.unit_abbreviations('kn'):
            knots = _number_before(unit, example.command)
            if knots is not None:
                assert params['speed_mps'] == round(knots * KNOT, 2), example.command
                checked.add(('kn', example.language))
        heading = re.search(r'\bhdg (\d{3})\b', example.command, re.IGNORECASE)
        if heading:
            assert params['heading_deg'] == int(heading.group(1)), example.command
            checked.add(('hdg', example.language))
    assert checked == {(u, lang) for u in ('ft', 'kn', 'hdg') for lang in templates.LANGUAGES}


def test_written_instructions_convert_other_units_too(casual_examples):
    kmh = [e for e in casual_examples if 'infinitive' in e.phenomena and e.intent == 'speed'
           and 'km/h' in e.command]
    assert kmh
    for example in kmh:
        value = _number_before('km/h', example.command)
        assert example.proposal.params['speed_mps'] == pytest.approx(value / 3.6, abs=0.01)


def test_run_on_missions_keep_their_steps(casual_examples):
    missions = [e for e in casual_examples if 'run_on' in e.phenomena]
    assert len(missions) > 20
    for example in missions:
        assert example.proposal.action == 'mission'
        assert 2 <= len(example.proposal.params['steps']) <= 4


def test_german_modal_particles_follow_a_verb(casual_examples):
    particles = set(lx.MODAL_PARTICLES['de'].split('|'))
    rng = np.random.default_rng(0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(casual, 'RATES', {**casual.RATES, 'particle': 1.0})
        said = casual.modal_particle(rng, 'flieg heim', 'de')
        assert said.split()[0] == 'flieg' and said.split()[1] in particles
        assert casual.modal_particle(rng, 'bitte flieg heim', 'de') is None


def _normalised(text: str) -> str:
    return ' '.join(re.findall(r'[^\W_]+', unicodedata.normalize('NFKC', text).casefold()))


def test_training_commands_are_never_an_evaluation_sentence(casual_examples):
    """No training command of three words or more equals a sentence of the evaluation sets,
    case and punctuation aside (a draw that does is drawn again). One or two words ("RTL",
    "vieni qua") are vocabulary: the generators must teach them."""
    sentences = {_normalised(case.text) for name in hw.SETS for case in hw.load_set(name)}
    sentences = {text for text in sentences if len(text.split()) >= 3}
    assert len(sentences) > 500 and sentences == dataset.evaluation_sentences()
    leaked = {e.command for e in casual_examples if _normalised(e.command) in sentences}
    assert not leaked
    assert any(len(_normalised(e.command).split()) < 3 for e in casual_examples)


def test_a_draw_that_is_an_evaluation_sentence_is_drawn_again(monkeypatch):
    monkeypatch.setattr(scenes, 'render_scene', _quick_scene)
    first = [make_example(Split('train', 3), i) for i in range(12)]
    sentence = next(e for e in first if len(e.command.split()) >= 3)
    monkeypatch.setattr(dataset, 'evaluation_sentences',
                        lambda: frozenset({_normalised(sentence.command.upper() + '!')}))
    again = make_example(Split('train', 3), first.index(sentence))
    assert _normalised(again.command) != _normalised(sentence.command)
    assert [make_example(Split('train', 3), i).command for i in range(12)
            if first[i] is not sentence] == [e.command for e in first if e is not sentence]
