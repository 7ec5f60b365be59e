"""Rule parser, French commands (accents optional)."""

import pytest
from rules_support import check_casual, check_clarify, check_parse, check_reply

from ministral_node.sources.rules import analyse

OFF = {'forward_m': 0.0, 'right_m': 0.0, 'up_m': 0.0}

PARSES = [
    ('décolle à 30 m', 'takeoff', {'altitude_m': 30}, None),
    ('decolle a trente metres', 'takeoff', {'altitude_m': 30}, None),
    ('décolle à 10 pieds', 'takeoff', {'altitude_m': 3.048}, None),
    ('décolle à deux cents mètres', 'takeoff', {'altitude_m': 200}, None),
    ('atterris', 'land', {}, None),
    ('atterris sur la plateforme rouge', 'land', {}, 'plateforme rouge'),
    ('pose-toi', 'land', {}, None),
    ('attends 10 secondes', 'hold', {'duration_s': 10}, None),
    ('reste en vol stationnaire pendant deux minutes et demie', 'hold', {'duration_s': 150},
     None),
    ('rentre à la base', 'return_to_home', {}, None),
    ('retourne au point de départ', 'return_to_home', {}, None),
    ('avance de 10 mètres', 'goto', {**OFF, 'forward_m': 10}, None),
    ('recule de 5 m', 'goto', {**OFF, 'forward_m': -5}, None),
    ('va à gauche de 3 m', 'goto', {**OFF, 'right_m': -3}, None),
    ('vole vers le nord sur 200 m', 'goto', {'heading_deg': 0, 'distance_m': 200}, None),
    ('vole vers le nord-est sur 1,5 km', 'goto', {'heading_deg': 45, 'distance_m': 1500}, None),
    ("vole vers l'est 100 m", 'goto', {'heading_deg': 90, 'distance_m': 100}, None),
    ('monte à 50 m', 'change_altitude', {'altitude_m': 50}, None),
    ('monte de 10 m', 'change_altitude', {'delta_m': 10}, None),
    ('descends de 2,5 m', 'change_altitude', {'delta_m': -2.5}, None),
    ('descends à vingt-cinq mètres', 'change_altitude', {'altitude_m': 25}, None),
    ('monte à quatre-vingt-dix mètres', 'change_altitude', {'altitude_m': 90}, None),
    ('vitesse 5 m/s', 'set_speed', {'speed_mps': 5}, None),
    ('règle la vitesse à 36 km/h', 'set_speed', {'speed_mps': 10}, None),
    ('ralentis à 4 nœuds', 'set_speed', {'speed_mps': 4 * 1852 / 3600}, None),
    ('tourne à gauche de 90 degrés', 'rotate', {'yaw_deg': -90}, None),
    ('tourne à droite de 45°', 'rotate', {'yaw_deg': 45}, None),
    ('fais demi-tour', 'rotate', {'yaw_deg': 180}, None),
    ('oriente-toi vers le nord', 'rotate', {'heading_deg': 0}, None),
    ('fais face au sud-ouest', 'rotate', {'heading_deg': 225}, None),
    ('tourne autour de la tour à 20 m dans le sens horaire', 'orbit',
     {'radius_m': 20, 'direction': 'clockwise'}, 'tour'),
    ('suis la voiture bleue', 'follow', {'distance_m': None}, 'voiture bleue'),
    ('suis-moi', 'follow', {'distance_m': None}, 'moi'),
    ('cherche une personne avec une veste rouge', 'search', {'radius_m': None},
     'personne avec une veste rouge'),
    ('cherche un homme dans un rayon de 100 m', 'search', {'radius_m': 100}, 'homme'),
    ('prends une photo', 'capture_photo', {'count': 1}, None),
    ('prends trois photos du pont', 'capture_photo', {'count': 3}, 'pont'),
    ('arrête !', 'stop', {}, None),
    ("arrêt d'urgence", 'stop', {}, None),
    ('prends 2 photos de la maison', 'capture_photo', {'count': 2}, 'maison'),
    ('capture 9 photos de la balise bleue', 'capture_photo', {'count': 9}, 'balise bleue'),
    ('peux-tu atterrir ?', 'land', {}, None),
    ('vole à 5 m/s', 'set_speed', {'speed_mps': 5}, None),
    ('vole cap 270 sur 500 m', 'goto', {'heading_deg': 270, 'distance_m': 500}, None),
    ('arrête de suivre la voiture', 'stop', {}, None),
]

CLARIFIES = [
    ('monte', 'missing'),
    ('décolle', 'missing'),
    ('suis', 'missing'),
    ("n'atterris pas", 'negation'),
    ('décolle puis vole vers le nord', 'missing'),
    ('monte et descends', 'contradiction'),
    ('vitesse -5', 'invalid'),
    ('atterris si la batterie est faible', 'conditional'),
    ('fais le truc bidule', 'unknown'),
    ('descends un peu', 'missing'),  # how much?
    ('quelle est ton altitude ?', 'question'),
    ('décolle et atterris', 'contradiction'),
]

REPLIES = [
    ('que sais-tu faire ?', 'answer'),
    ('aide', 'answer'),
    ("qu'est-ce que tu vois ?", 'reject'),
    ('combien de personnes vois-tu ?', 'reject'),
]


@pytest.mark.parametrize('command, action, params, label', PARSES)
def test_parses(command, action, params, label):
    check_parse(command, action, params, label, 'fr')


@pytest.mark.parametrize('command, reason', CLARIFIES)
def test_asks_back(command, reason):
    check_clarify(command, reason, 'fr')


@pytest.mark.parametrize('command, action', REPLIES)
def test_questions(command, action):
    check_reply(command, action, 'fr')


def test_questions_are_asked_in_french():
    assert analyse('monte').proposal.params['question'].startswith('De combien ?')


CASUAL = [
    ('bon, on monte à vingt mètres', 'change_altitude', {'altitude_m': 20}, None, ()),
    ('allez, monte à trente mètres', 'change_altitude', {'altitude_m': 30}, None, ()),
    ('alors, pose-toi sur la plateforme', 'land', {}, 'plateforme', ()),
    ('allez hop, décolle à 15 mètres', 'takeoff', {'altitude_m': 15}, None, ()),
    ('ramène-le à la maison', 'return_to_home', {}, None, ()),
    ('bien, file vers le nord sur 50 mètres', 'goto', {'heading_deg': 0, 'distance_m': 50},
     None, ()),
    ('mettre la vitesse à 18 km/h', 'set_speed', {'speed_mps': 5}, None, ()),
    ('Faire trois photos', 'capture_photo', {'count': 3}, None, ()),
    ('fais-moi une photo de la voiture', 'capture_photo', {'count': 1}, 'voiture', ()),
    ("reste en l'air 30 secondes", 'hold', {'duration_s': 30}, None, ()),
    ('fais un tour autour de la maison à 20 mètres', 'orbit',
     {'radius_m': 20, 'direction': 'clockwise'}, 'maison', ()),
    ("Régler l'altitude à 40 mètres", 'change_altitude', {'altitude_m': 40}, None, ()),
    ('tounre à gauche de 45 degrés', 'rotate', {'yaw_deg': -45}, None, ('tounre',)),
    ('ok, décolle à dix mètres puis vole vers le nord sur 20 mètres', 'mission',
     [('takeoff', {'altitude_m': 10}), ('goto', {'heading_deg': 0, 'distance_m': 20})], None,
     ()),
]

NEVER_READ_PAST = [
    ('bon, ne monte pas', 'negation'),
    ("allez, n'atterris pas", 'negation'),
    ('monte à 30 mètres sauf au-dessus du lac', 'conditional'),
]


@pytest.mark.parametrize('command, action, params, label, ignored', CASUAL)
def test_reads_radio_speech(command, action, params, label, ignored):
    check_casual(command, action, params, label, 'fr', ignored)


@pytest.mark.parametrize('command, reason', NEVER_READ_PAST)
def test_never_reads_past_negations(command, reason):
    check_clarify(command, reason, 'fr')
