"""Rule parser, colloquial verbs and idioms operators use for an action in the five languages
(issue 25, a third batch beside `test_rules_operator_talk.py`, none of its sentences
repeated): staying in the air as a hold, getting close to a thing as going there, tailing a
thing as following it (French "filer", German "nachfliegen", "don't lose sight of"), a turn
verb said alone to the vehicle as a half turn, taking metres as climbing them, a positioning
verb with a compass point as facing it, the hands of a clock turned against, and slang
approximators before a number in words.

Written for this file from how operators talk, not taken from the evaluation sets
(casual_speech.yaml, quantities.yaml) nor from the training generators. A negated command is
never read as its verb.
"""

import pytest

from ministral_node.sources.rules import analyse
from ministral_node.sources.rules.provenance import command_numbers

HOLD = {'duration_s': None}


def _reads(text, language, action, params, label=None):
    """`text` reads completely as `action` with `params` on the target `label`, in
    `language`."""
    result = analyse(text, takeoff_altitude_m=10.0)
    proposal = result.proposal.validate()
    assert (proposal.action, result.language) == (action, language), (
        proposal.to_dict(), result.reason, result.ignored)
    assert proposal.params == pytest.approx(params), proposal.to_dict()
    assert (None if proposal.target is None else proposal.target.label) == label
    assert not result.partial, result.ignored


@pytest.mark.parametrize('text, language', [
    ('stay in the air', 'en'),
    ('no, do not land, stay airborne', 'en'),
    ('remain in the air for now', 'en'),
    ('reste en vol', 'fr'),
    ("non, ne te pose pas, restez en vol", 'fr'),
    ('quédate en el aire', 'es'),
    ('no aterrices, mantente en el aire', 'es'),
    ('rimani in volo', 'it'),
    ('non atterrare, resta lassù', 'it'),
])
def test_staying_in_the_air_is_a_hold(text, language):
    _reads(text, language, 'hold', HOLD)


@pytest.mark.parametrize('text, language, label', [
    ('approach the blue truck', 'en', 'blue truck'),
    ('pop over to the white van', 'en', 'white van'),
    ('get closer to the tower', 'en', 'tower'),
    ('approche-toi de la tour', 'fr', 'tour'),
    ('rapproche-toi du camion blanc', 'fr', 'camion blanc'),
    ('nähere dich dem roten Auto', 'de', 'roten Auto'),
    ('acércate al coche rojo', 'es', 'coche rojo'),
    ('aproxímate a la furgoneta', 'es', 'furgoneta'),
    ('avvicinati alla macchina rossa', 'it', 'macchina rossa'),
    ('fai un salto al capannone', 'it', 'capannone'),
])
def test_getting_close_to_a_thing_is_going_there(text, language, label):
    _reads(text, language, 'goto', {}, label)


@pytest.mark.parametrize('text, language, params, label', [
    ('stay on that truck', 'en', {'distance_m': None}, 'truck'),
    ("don't lose sight of the cyclist", 'en', {'distance_m': None}, 'cyclist'),
    ('file la moto à 15 m', 'fr', {'distance_m': 15}, 'moto'),
    ("filez l'ambulance", 'fr', {'distance_m': None}, 'ambulance'),
    ('ne lâche pas le camion', 'fr', {'distance_m': None}, 'camion'),
    ('flieg dem Radfahrer nach', 'de', {'distance_m': None}, 'Radfahrer'),
    ('fahr dem weißen Lieferwagen nach', 'de', {'distance_m': None}, 'weißen Lieferwagen'),
    ('no pierdas de vista al perro', 'es', {'distance_m': None}, 'perro'),
    ('ve detrás del ciclista', 'es', {'distance_m': None}, 'ciclista'),
    ('vai dietro alla bici', 'it', {'distance_m': None}, 'bici'),
    ('non perdere di vista il furgone', 'it', {'distance_m': None}, 'furgone'),
])
def test_tailing_a_thing_is_following_it(text, language, params, label):
    _reads(text, language, 'follow', params, label)


@pytest.mark.parametrize('text', ['flieg nach Norden 20 Meter', 'file vers le nord sur 20 m',
                                  'stay on this heading'])
def test_a_follow_idiom_needs_a_thing_to_follow(text):
    assert analyse(text).proposal.action != 'follow'


@pytest.mark.parametrize('text, language', [
    ('spin around', 'en'), ('whip round', 'en'), ('swing around', 'en'),
    ('tourne-toi', 'fr'), ('dreh dich', 'de'), ('gírate', 'es'), ('girati', 'it'),
])
def test_a_turn_said_alone_to_the_vehicle_is_a_half_turn(text, language):
    _reads(text, language, 'rotate', {'yaw_deg': 180})
    assert 180.0 in command_numbers(text)  # the verifier finds the angle in the command


@pytest.mark.parametrize('text', ['girati a destra', 'gírate a la izquierda',
                                  'tourne-toi à droite'])
def test_a_turn_to_a_side_without_an_angle_is_still_asked_back(text):
    assert analyse(text).proposal.action == 'clarify'


def test_a_turn_verb_with_a_number_says_no_half_turn():
    assert 180.0 not in command_numbers('girati di 90 gradi')


@pytest.mark.parametrize('text, language, metres', [
    ('prenez encore 10 mètres', 'fr', 10),
    ('prends trois mètres', 'fr', 3),
    ('prendi altri 5 metri', 'it', 5),
    ('prendi otto metri', 'it', 8),
])
def test_taking_metres_is_climbing_them(text, language, metres):
    _reads(text, language, 'change_altitude', {'delta_m': metres})


@pytest.mark.parametrize('text', ['prends 10 mètres vers le nord', 'prendi 5 metri a destra'])
def test_taking_metres_with_a_direction_is_no_climb(text):
    assert analyse(text).proposal.action != 'change_altitude'


@pytest.mark.parametrize('text, language, heading', [
    ('mettiti verso sud', 'it', 180),
    ('posizionati rivolto a ovest', 'it', 270),
    ('ponte al este', 'es', 90),
    ('colócate mirando hacia el oeste', 'es', 270),
    ('sitúate de cara al norte', 'es', 0),
    ('place-toi face au sud', 'fr', 180),
])
def test_a_positioning_verb_with_a_compass_point_faces_it(text, language, heading):
    _reads(text, language, 'rotate', {'heading_deg': heading})


@pytest.mark.parametrize('text', ['mettiti 20 metri a sud', 'ponte a 10 metros al norte'])
def test_a_positioning_verb_with_a_distance_still_moves(text):
    assert analyse(text).proposal.action == 'goto'


@pytest.mark.parametrize('text, language, radius', [
    ("tourne autour de l'arbre à 10 m dans le sens contraire des aiguilles", 'fr', 10),
    ('fais le tour du hangar à 25 m, sens inverse des aiguilles', 'fr', 25),
    ('kreise linksherum um den Baum mit 12 Metern Radius', 'de', 12),
    ('rodea el árbol a 10 metros contra las agujas del reloj', 'es', 10),
    ('gira intorno alla torre a 20 metri contro le lancette', 'it', 20),
])
def test_against_the_clock_hands_is_counterclockwise(text, language, radius):
    result = analyse(text)
    assert (result.proposal.action, result.language) == ('orbit', language)
    assert result.proposal.params == {'radius_m': radius, 'direction': 'counterclockwise'}


@pytest.mark.parametrize('text, language', [
    ('umkreise das Haus rechtsherum, 20 Meter', 'de'),
    ("tourne autour de la maison dans le sens des aiguilles à 20 m", 'fr'),
])
def test_with_the_clock_hands_is_clockwise(text, language):
    assert analyse(text).proposal.params == {'radius_m': 20, 'direction': 'clockwise'}


@pytest.mark.parametrize('text, language, count', [
    ('fai tipo tre foto', 'it', 3),
    ('saca tipo cinco fotos', 'es', 5),
    ('fais genre deux photos', 'fr', 2),
])
def test_an_approximator_before_a_number_in_words_keeps_the_number(text, language, count):
    _reads(text, language, 'capture_photo', {'count': count})


@pytest.mark.parametrize('text, language, action, params', [
    ('decola subito', 'it', 'takeoff', {'altitude_m': 10.0}),
    ('aterra sul ponte', 'it', 'land', {}),
])
def test_a_typo_is_read_in_the_language_that_knows_the_other_words(text, language, action,
                                                                   params):
    result = analyse(text, takeoff_altitude_m=10.0)
    assert (result.proposal.action, result.language) == (action, language)
    assert result.proposal.params == params
    assert result.partial and result.proposal.confidence < 1.0  # the typo is noted


@pytest.mark.parametrize('text, language, action', [
    ("alright that's enough, head home", 'en', 'return_to_home'),
    ("that'll do, bring her down", 'en', 'land'),
    ("bon, ça suffit, rentre", 'fr', 'return_to_home'),
    ("c'est bon, pose-toi", 'fr', 'land'),
    ('das reicht, komm zurück', 'de', 'return_to_home'),
    ('ya está, vuelve a casa', 'es', 'return_to_home'),
    ('va bene così, torna indietro', 'it', 'return_to_home'),
])
def test_a_closing_remark_before_a_command_is_read_past(text, language, action):
    result = analyse(text)
    assert (result.proposal.action, result.language) == (action, language)
    assert not result.partial


@pytest.mark.parametrize('text', ["that's enough", "c'est bon", 'das reicht'])
def test_a_closing_remark_alone_is_no_command(text):
    assert analyse(text).proposal.action == 'clarify'


@pytest.mark.parametrize('text', ["that's it, don't land", 'das reicht, nicht landen',
                                  "c'est bon, ne te pose pas"])
def test_a_negation_after_a_closing_remark_is_never_read_as_its_verb(text):
    assert analyse(text).proposal.action == 'clarify'


@pytest.mark.parametrize('text, language, altitude', [
    ('take off, 15 metres', 'en', 15), ('prends ton envol, 12 mètres', 'fr', 12),
])
def test_a_take_verb_of_another_clause_is_no_climb(text, language, altitude):
    _reads(text, language, 'takeoff', {'altitude_m': altitude})


# A target described again by its side after a comma is one target, not a move to that side.
@pytest.mark.parametrize('text, language, action, label', [
    ('suis le camion, celui de gauche', 'fr', 'follow', 'camion, celui de gauche'),
    ('suis la moto, celle de droite', 'fr', 'follow', 'moto, celle de droite'),
    ('follow the van, the one on the right', 'en', 'follow', 'van, the one on the right'),
    ('busca el perro, el de la derecha', 'es', 'search', 'perro, el de la derecha'),
    ('segui la bici, quella a sinistra', 'it', 'follow', 'bici, quella a sinistra'),
])
def test_a_target_described_again_by_its_side_is_one_target(text, language, action, label):
    result = analyse(text)
    assert (result.proposal.action, result.language) == (action, language)
    assert result.proposal.target.label == label


def test_a_side_said_after_a_target_with_a_distance_is_still_a_move():
    steps = analyse('follow the car, left 10 m').proposal.params['steps']
    assert [step['action'] for step in steps] == ['follow', 'goto']
    assert steps[1]['params']['right_m'] == -10


@pytest.mark.parametrize('text, yaw', [
    ('tourne de 90 degrés à droite sur place', 90),
    ('pivote sur place de 45 degrés à gauche', -45),
    ('fais demi-tour sur place', 180),
])
def test_turning_on_the_spot_in_french(text, yaw):
    _reads(text, 'fr', 'rotate', {'yaw_deg': yaw})


# "and back" after a move is coming back, as "and come back" is (a mission ending in a return;
# `_Parse._way_back`).
@pytest.mark.parametrize('text, language, move', [
    ('fly 15 m west and back', 'en', {'heading_deg': 270, 'distance_m': 15}),
    ('head 50 metres north then back', 'en', {'heading_deg': 0, 'distance_m': 50}),
    ('flieg 25 Meter nach Süden und wieder zurück', 'de', {'heading_deg': 180, 'distance_m': 25}),
    ('vola 30 metri a sud e indietro', 'it', {'heading_deg': 180, 'distance_m': 30}),
    ('vole 40 m au nord et retour', 'fr', {'heading_deg': 0, 'distance_m': 40}),
])
def test_and_back_after_a_move_comes_back(text, language, move):
    result = analyse(text)
    assert (result.proposal.action, result.language) == ('mission', language)
    steps = [(step['action'], step['params']) for step in result.proposal.params['steps']]
    assert steps == [('goto', move), ('return_to_home', {})]


@pytest.mark.parametrize('text', ['fly forward 10 m and back 5 m', 'fly west and back'])
def test_back_with_a_distance_or_alone_is_no_return(text):
    result = analyse(text).proposal
    assert 'return_to_home' not in [step['action'] for step in result.params.get('steps', [])]
    assert result.action != 'return_to_home'
