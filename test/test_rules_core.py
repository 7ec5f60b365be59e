"""Rule parser internals and guarantees: numbers, units, languages, confidence, the decider,
and that any string whatsoever gives a schema-valid proposal."""

import random
import subprocess
import sys

import pytest

from ministral_node.decision import CommandInfo, actions
from ministral_node.sources.base import Decider, DecisionRequest
from ministral_node.sources.rules import (
    LANGUAGES,
    RuleDecider,
    analyse,
    detect_language,
    parse_command,
    spelling,
)
from ministral_node.sources.rules import lexicon as lx
from ministral_node.sources.rules.messages import MESSAGES
from ministral_node.sources.rules.numbers import match_words, parse_digits
from ministral_node.sources.rules.parser import MAX_COMMAND_CHARS
from ministral_node.sources.rules.text import fold, prepare, tokenize
from ministral_node.sources.rules.units import UNITS, match_unit
from ministral_node.timing import Cancellation, Cancelled


@pytest.mark.parametrize('text, lang, value', [
    ('30', 'en', 30), ('2.5', 'fr', 2.5), ('2,5', 'de', 2.5), ('2,5', 'en', 2.5),
    ('1,000', 'en', 1000), ('1.000', 'it', 1000), ('1.000', 'en', 1.0), ('1,000', 'es', 1.0),
    ('1,234.5', 'en', 1234.5), ('1.234,5', 'de', 1234.5), ('-5', 'en', -5), ('0.500', 'es', 0.5),
    ('1,2,3', 'en', None), ('1.2,3', 'en', None), ('9' * 400, 'en', None),
])
def test_digits_follow_the_locale(text, lang, value):
    assert parse_digits(text, lang) == value


def _words(text, lang):
    norms = [t.norm for t in tokenize(prepare(text))]
    return match_words(norms, 0, lang)


@pytest.mark.parametrize('text, lang, value, size', [
    ('two hundred and five', 'en', 205, 4), ('a dozen', 'en', 12, 2),
    ('one and a half', 'en', 1.5, 4), ('twenty-one', 'en', 21, 2), ('two three', 'en', 2, 1),
    ('quatre-vingt-dix-sept', 'fr', 97, 4), ('soixante et onze', 'fr', 71, 3),
    ('deux mille cinq cents', 'fr', 2500, 4), ('vingt-cinq', 'fr', 25, 2),
    ('fünfundzwanzig', 'de', 25, 1), ('dreihundertzwölf', 'de', 312, 1),
    ('zweieinhalb', 'de', 2.5, 1), ('dreißig', 'de', 30, 1), ('funfzig', 'de', 50, 1),
    ('veintitrés', 'es', 23, 1), ('trescientos cuarenta', 'es', 340, 2),
    ('ciento cinco', 'es', 105, 2), ('treinta y cinco', 'es', 35, 3),
    ('ventotto', 'it', 28, 1), ('duemilacinquecento', 'it', 2500, 1),
    ('centottanta', 'it', 180, 1), ('trentatré', 'it', 33, 1),
])
def test_number_words(text, lang, value, size):
    assert _words(text, lang) == (pytest.approx(value), size, False)


@pytest.mark.parametrize('text, lang', [
    ('centro', 'it'), ('treno', 'it'), ('dove', 'it'), ('and', 'en'), ('siebenschläfer', 'de'),
])
def test_words_that_only_look_like_numbers(text, lang):
    assert _words(text, lang) is None


def test_an_article_alone_is_flagged_so_it_needs_a_unit():
    assert _words('une', 'fr') == (1, 1, True)
    assert analyse('hover for a minute').proposal.params == {'duration_s': 60}
    assert analyse('take a photo').proposal.params == {'count': 1}


@pytest.mark.parametrize('text, symbol, factor', [
    ('km/h', 'km/h', 1 / 3.6), ('nœuds', 'kn', 1852 / 3600), ('noeuds', 'kn', 1852 / 3600),
    ('Fuß', 'ft', 0.3048), ('metri', 'm', 1), ('mètres par seconde', 'm/s', 1),
    ('chilometri all\'ora', 'km/h', 1 / 3.6), ('grados', 'deg', 1), ('°', 'deg', 1),
    ('Minuten', 'min', 60), ('heures', 'h', 3600), ('mph', 'mph', 0.44704),
])
def test_units_convert_to_si(text, symbol, factor):
    norms = [t.norm for t in tokenize(prepare(text))]
    unit, size = match_unit(norms, 0)
    assert (unit.symbol, size) == (symbol, len(norms))
    assert unit.factor == pytest.approx(factor)


def test_unit_table_is_consistent():
    assert len({(u.dim, u.symbol) for u in UNITS.values()}) == len(set(UNITS.values()))


@pytest.mark.parametrize('text, lang', [
    ('take off to 30 m', 'en'), ('décolle à 30 m', 'fr'), ('starte auf 30 m', 'de'),
    ('despega a 30 m', 'es'), ('decolla a 30 m', 'it'), ('nord 50 m', 'fr'),
    ('gira a la derecha 90 grados', 'es'), ('gira a destra di 90 gradi', 'it'),
    ('Höhe 30', 'de'), ('xyzzy', 'en'),
])
def test_language_detection(text, lang):
    assert detect_language(text) == lang


@pytest.mark.parametrize('command, confidence, note', [
    ('climb 10', 0.8, 'assumed m'),
    ('speed 5', 0.8, 'assumed m/s'),
    ('orbit the tower at 20 m', 0.8, 'assumed clockwise'),
    ('rotate 90 degrees', 0.9, 'assumed clockwise'),
    ('stop following the car', 0.9, 'stopping first'),
    ('climb 10 m', 1.0, None),
])
def test_confidence_drops_for_each_assumption(command, confidence, note):
    proposal = parse_command(command).validate()
    assert proposal.confidence == pytest.approx(confidence)
    assert note is None or note in proposal.rationale


def test_rationale_is_a_short_english_summary():
    proposal = parse_command('monte à 30 m')
    assert proposal.rationale == "matched 'monte' + '30 m' -> change_altitude(altitude_m=30) [fr]"
    assert len(proposal.rationale) <= 200


def test_bare_takeoff_uses_the_configured_altitude_or_asks():
    assert parse_command('take off').action == 'clarify'
    proposal = parse_command('take off', takeoff_altitude_m=2.5).validate()
    assert (proposal.action, proposal.params, proposal.confidence) == (
        'takeoff', {'altitude_m': 2.5}, 0.8)


def test_rule_decider_implements_the_decider_protocol():
    decider: Decider = RuleDecider(takeoff_altitude_m=5.0)
    request = DecisionRequest(CommandInfo('c1', 'suis la voiture bleue', 1.0))
    proposal = decider.decide(request, Cancellation()).validate()
    assert (decider.source, decider.model_info()) == ('rules', None)
    assert (proposal.action, proposal.target.label) == ('follow', 'voiture bleue')
    bare = decider.decide(DecisionRequest(CommandInfo('c2', 'take off', 1.0)), Cancellation())
    assert bare.params == {'altitude_m': 5.0}


def test_rule_decider_honours_cancellation():
    cancel = Cancellation()
    cancel.cancel('shutting down')
    with pytest.raises(Cancelled, match='shutting down'):
        RuleDecider().decide(DecisionRequest(CommandInfo('c', 'land', 1.0)), cancel)


@pytest.mark.parametrize('command, reason', [
    ('', 'empty'), ('   \t\n', 'empty'), ('?!', 'empty'), (None, 'empty'),
    ('land ' * (MAX_COMMAND_CHARS // 5 + 1), 'too_long'),
])
def test_empty_and_oversized_commands_ask_back(command, reason):
    result = analyse(command)
    assert (result.proposal.validate().action, result.reason) == ('clarify', reason)


@pytest.mark.parametrize('command', [
    '\x00\x01\x02', '\ud800 land', 'ﬁve', '🚁🚁🚁', 'حلق إلى الشمال', '起飞到三十米', '9' * 400,
    'climb to 1e309 m', 'take ' + '9' * 5000 + ' photos', '1.2.3.4 m', '°°°///', "'''",
    'N' * 3, 'a a a a a a a a a a', 'zwei drei vier fünf', 'Ⅻ m', '３０ m', 'climb -0 m',
])
def test_strange_input_never_raises(command):
    result = analyse(command)
    assert result.reason != 'error'
    result.proposal.validate()


def _fuzz_commands(seed, count):
    rng = random.Random(seed)
    vocab = [' '.join(key) for table in lx.PHRASES.values() for key in table]
    vocab += ['30', '-2,5', '1.000', '0', 'm', 'km/h', '°', 'NE', ',', 'and', 'then', '?']
    for _ in range(count):
        if rng.random() < 0.5:
            points = [rng.randrange(32, 0x250) if rng.random() < 0.7
                      else rng.randrange(0x250, 0x10FFFF) for _ in range(rng.randrange(40))]
            yield ''.join(map(chr, points))
        else:
            yield ' '.join(rng.choice(vocab) for _ in range(rng.randrange(1, 9)))


def _sensible(proposal):
    """What no parse may ever propose: a move or turn of nothing."""
    params = proposal.params
    offsets = [params.get(k) for k in ('forward_m', 'right_m', 'up_m') if k in params]
    return not (offsets and not any(offsets)) and params.get('yaw_deg', 1) != 0


def test_fuzz_any_string_gives_a_valid_proposal():
    seen = set()
    for command in _fuzz_commands(seed=1234, count=2000):
        result = analyse(command)
        assert result.reason != 'error', command
        assert result.language in LANGUAGES
        assert _sensible(result.proposal), command
        seen.add(result.proposal.validate().action)
    assert seen <= set(actions()) and {'clarify', 'goto', 'stop'} <= seen


def test_every_message_exists_in_every_language_and_fits():
    for key, texts in MESSAGES.items():
        assert set(texts) == set(LANGUAGES), key
        for text in texts.values():
            filled = text.format(text='x' * 60, range='0–360', count='99', limit='16')
            assert 0 < len(filled) <= 300, (key, len(filled))


def test_the_rule_parser_imports_no_ros():
    code = ('import sys, ministral_node.sources.rules; '
            'sys.exit(any(m.split(".")[0] in ("rclpy", "rosidl_runtime_py") '
            'for m in sys.modules))')
    assert subprocess.run([sys.executable, '-c', code], check=False).returncode == 0


@pytest.mark.parametrize('command, language', [
    ('Do a barrel roll', 'en'), ('do a flip now', 'en'), ('fais un tonneau', 'fr'),
    ('mach einen Salto', 'de'), ('flieg einen Looping', 'de'), ('haz un rizo', 'es'),
    ('fai una capriola', 'it')])
def test_aerobatics_are_refused_with_the_reason_in_the_operators_language(command, language):
    result = analyse(command)
    assert (result.proposal.action, result.language) == ('reject', language)
    assert result.proposal.params == {'reason': MESSAGES['stunt'][language]}


def test_a_flip_only_when_it_is_the_manoeuvre():
    assert analyse("don't do a flip").proposal.action == 'clarify'  # negations ask back
    assert analyse('take a photo of the flip-flops').proposal.action == 'capture_photo'


@pytest.mark.parametrize('a, b, distance', [
    ('turn', 'turn', 0), ('tunr', 'turn', 1), ('nroth', 'north', 1), ('lfet', 'left', 1),
    ('trun', 'turn', 1), ('rotat', 'rotate', 1), ('land', 'left', 3),
])
def test_edit_distance_counts_a_swap_as_one_edit(a, b, distance):
    assert spelling.edit_distance(a, b, 3) == distance


@pytest.mark.parametrize('word, lang, known', [
    ('tunr', 'en', 'turn'), ('nroth', 'en', 'north'), ('rehcts', 'de', 'rechts'),
    ('gria', 'es', 'gira'), ('lnad', 'en', 'land'), ('ldna', 'en', None),
    ('tower', 'en', None), ('fiev', 'en', None),  # a target word; never a number
    ('nich', 'de', None), ('nevr', 'en', None),  # never corrected near a negation
])
def test_typos_are_read_against_actions_and_directions_only(word, lang, known):
    found = spelling.correction(word, lang)
    assert (found[0] if found else None) == known


@pytest.mark.parametrize('word, guarded', [
    ('nich', True), ('nicht', True), ('dnot', True), ('due', True), ('metres', True),
    ('pont', False), ('pad', False), ('straightaway', False),
])
def test_words_never_read_past(word, guarded):
    assert spelling.guarded(word) == guarded


@pytest.mark.parametrize('text, lang, value, size', [
    ('two seven zero', 'en', 270, 3), ('five zero', 'en', 50, 2), ('niner zero', 'en', 90, 2),
    ('eins zwei null', 'de', 120, 3), ('dos cinco cero', 'es', 250, 3),
    ('due sette zero', 'it', 270, 3), ('deux sept zéro', 'fr', 270, 3),
])
def test_digits_said_one_at_a_time_read_radio_style(text, lang, value, size):
    assert match_words([fold(w) for w in text.split()], 0, lang)[:2] == (value, size)


@pytest.mark.parametrize('text, lang', [('zwei drei', 'de'), ('two three', 'en')])
def test_two_digits_not_ending_in_zero_stay_two_numbers(text, lang):
    assert match_words(text.split(), 0, lang)[1] == 1
