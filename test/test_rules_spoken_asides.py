"""Rule parser, what operators add around a command on a radio (issue 25): a number said again
to make it exact or to correct it ("about thirty metres, say 35"), a mission that ends with the
way back and no distance ("..., grab a photo and back": the way home), a word of approval
before the next command ("that'll do, land now"), a bare "increase"/"reduce" whose number's
unit says it is the speed ("riduci a 10 km/h"), and a unit of time with its half but not the
one before it ("espera minuto y medio"), and the loanword "hovering" in every language
("resta in hovering", "ponte en hover").

Written for this file from how operators talk, not taken from the evaluation sets
(casual_speech.yaml, quantities.yaml), the simulator's scenarios nor the training generators.
"""

import pytest
from rules_support import check_parse

from ministral_node.decision import steps_of
from ministral_node.sources.rules import analyse

OFF = {'forward_m': 0.0, 'right_m': 0.0, 'up_m': 0.0}


def _goto(heading, distance):
    return {'heading_deg': heading, 'distance_m': distance}


RESTATED = [
    ('climb to about thirty metres, say 35', 'en', 'change_altitude', {'altitude_m': 35.0}),
    ('head north roughly fifty metres, call it 50', 'en', 'goto', _goto(0.0, 50.0)),
    ("go west twenty metres, let's say 25", 'en', 'goto', _goto(270.0, 25.0)),
    ('monte à une trentaine de mètres, disons 30', 'fr', 'change_altitude', {'altitude_m': 30.0}),
    ("recule d'une vingtaine de mètres, enfin 25 m", 'fr', 'goto', {**OFF, 'forward_m': -25.0}),
    ('steig auf ungefähr dreißig Meter, sagen wir 35', 'de', 'change_altitude',
     {'altitude_m': 35.0}),
    ('flieg etwa zwanzig Meter nach Süden, sagen wir mal 20', 'de', 'goto', _goto(180.0, 20.0)),
    ('sube a unos treinta metros, digamos 30', 'es', 'change_altitude', {'altitude_m': 30.0}),
    ('avanza una veintena de metros hacia el este, pongamos 25', 'es', 'goto',
     _goto(90.0, 25.0)),
    ('sali a una trentina di metri, diciamo 35', 'it', 'change_altitude', {'altitude_m': 35.0}),
    ('vai a ovest per una ventina di metri, facciamo 20', 'it', 'goto', _goto(270.0, 20.0)),
]


@pytest.mark.parametrize(('command', 'language', 'action', 'params'), RESTATED)
def test_a_number_said_again_is_the_one_meant(command, language, action, params):
    check_parse(command, action, params, None, language)


def test_a_restating_word_before_a_verb_is_still_a_sequence_word():
    result = analyse('monte à 20 m puis avance de 10 m, enfin atterris')
    assert [step.action for step in steps_of(result.proposal)] == [
        'change_altitude', 'goto', 'land']


def test_a_second_number_after_then_is_not_a_restatement():
    assert analyse('climb to 20 m, then 30 m').proposal.action == 'clarify'


ROUND_TRIPS = [
    ('take off to 15 m, fly east 40 m, grab a photo and back', 'en',
     [('takeoff', {'altitude_m': 15.0}), ('goto', _goto(90.0, 40.0)),
      ('capture_photo', {'count': 1}), ('return_to_home', {})]),
    ('take off to 20, head south 30 metres, then fly back', 'en',
     [('takeoff', {'altitude_m': 20.0}), ('goto', _goto(180.0, 30.0)),
      ('return_to_home', {})]),
    ('starte auf 20 m, flieg 50 m nach Osten und dann zurück', 'de',
     [('takeoff', {'altitude_m': 20.0}), ('goto', _goto(90.0, 50.0)), ('return_to_home', {})]),
    ('despega a 15 m, vuela 30 m al norte y luego atrás', 'es',
     [('takeoff', {'altitude_m': 15.0}), ('goto', _goto(0.0, 30.0)), ('return_to_home', {})]),
    ('despega a 20 m, ve 25 m al oeste y atrás', 'es',
     [('takeoff', {'altitude_m': 20.0}), ('goto', _goto(270.0, 25.0)),
      ('return_to_home', {})]),
    ('decolla a 15 m, vai 30 m a est, scatta una foto e indietro', 'it',
     [('takeoff', {'altitude_m': 15.0}), ('goto', _goto(90.0, 30.0)),
      ('capture_photo', {'count': 1}), ('return_to_home', {})]),
]


@pytest.mark.parametrize(('command', 'language', 'steps'), ROUND_TRIPS)
def test_a_mission_that_ends_with_the_way_back_returns_home(command, language, steps):
    result = analyse(command)
    proposal = result.proposal.validate()
    assert (proposal.action, result.language) == ('mission', language), proposal.to_dict()
    got = [(step.action, step.params) for step in steps_of(proposal)]
    assert [action for action, _ in got] == [action for action, _ in steps], proposal.to_dict()
    for (_, params), (_, want) in zip(got, steps):
        assert params == pytest.approx(want), proposal.to_dict()


@pytest.mark.parametrize('command', ['fly back', 'flieg zurück', 'e indietro'])
def test_the_way_back_alone_still_asks_how_far(command):
    assert analyse(command).proposal.action == 'clarify'


def test_a_way_back_with_a_distance_is_a_move_back():
    steps = steps_of(analyse('take off to 10 m, fly north 30 m, then fly back 10 m').proposal)
    assert [(step.action, step.params) for step in steps][-1] == (
        'goto', {**OFF, 'forward_m': -10.0})


APPROVALS = [
    ("that'll do, land now", 'en', 'land', {}),
    ('ok that will do, return home', 'en', 'return_to_home', {}),
    ("that's good, hold there", 'en', 'hold', {'duration_s': None}),
    ('well done, come back', 'en', 'return_to_home', {}),
    ('ça ira, reviens', 'fr', 'return_to_home', {}),
    ("c'est parfait, atterris", 'fr', 'land', {}),
    ('passt, komm zurück', 'de', 'return_to_home', {}),
    ('gut gemacht, jetzt landen', 'de', 'land', {}),
    ('ya está bien, vuelve a casa', 'es', 'return_to_home', {}),
    ('así está bien, aterriza', 'es', 'land', {}),
    ('va bene così, torna indietro', 'it', 'return_to_home', {}),
    ('ottimo lavoro, atterra', 'it', 'land', {}),
]


@pytest.mark.parametrize(('command', 'language', 'action', 'params'), APPROVALS)
def test_a_word_of_approval_before_the_command_is_read_past(command, language, action, params):
    check_parse(command, action, params, None, language)


KMH, KNOT = 1 / 3.6, 1852 / 3600

UNIT_SAYS_WHAT = [
    ('reduce to 3 m/s', 'en', 3.0),
    ('increase to 15 knots', 'en', 15 * KNOT),
    ('réduis à 4 m/s', 'fr', 4.0),
    ('reduzier auf 5 m/s', 'de', 5.0),
    ('aumenta a 8 m/s', 'es', 8.0),
    ('riduci a 10 km/h', 'it', 10 * KMH),
]


@pytest.mark.parametrize(('command', 'language', 'speed'), UNIT_SAYS_WHAT)
def test_a_bare_increase_or_reduce_with_a_speed_unit_sets_the_speed(command, language, speed):
    check_parse(command, 'set_speed', {'speed_mps': speed}, None, language)


@pytest.mark.parametrize('command', ['reduce to 20 m', 'climb 5 m/s', 'increase by 2 m/s'])
def test_what_the_unit_does_not_settle_is_still_asked(command):
    assert analyse(command).proposal.action == 'clarify'


@pytest.mark.parametrize(('command', 'language'), [
    ('hover for minute and a half', 'en'), ('espera minuto y medio', 'es'),
    ('aspetta minuto e mezzo', 'it')])
def test_a_unit_of_time_and_its_half_is_one_and_a_half(command, language):
    check_parse(command, 'hold', {'duration_s': 90.0}, None, language)


HOVER_LOANWORD = [
    ('resta in hovering per 30 secondi', 'it', 30.0),
    ('mettiti in hovering', 'it', None),
    ('quédate en hovering 10 segundos', 'es', 10.0),
    ('ponte en hover', 'es', None),
    ('fais du hovering pendant 20 secondes', 'fr', 20.0),
    ('mets-toi en hovering', 'fr', None),
    ('geh in den Hover', 'de', None),
]


@pytest.mark.parametrize(('command', 'language', 'seconds'), HOVER_LOANWORD)
def test_the_loanword_hovering_is_a_hold_in_every_language(command, language, seconds):
    check_parse(command, 'hold', {'duration_s': seconds}, None, language)
