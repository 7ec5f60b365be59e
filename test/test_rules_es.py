"""Rule parser, Spanish commands (accents optional)."""

import pytest
from rules_support import check_casual, check_clarify, check_parse, check_reply

from ministral_node.sources.rules import analyse

OFF = {'forward_m': 0.0, 'right_m': 0.0, 'up_m': 0.0}

PARSES = [
    ('despega a 30 metros', 'takeoff', {'altitude_m': 30}, None),
    ('despega a treinta metros', 'takeoff', {'altitude_m': 30}, None),
    ('despega a 2,5 m', 'takeoff', {'altitude_m': 2.5}, None),
    ('despega a cien pies', 'takeoff', {'altitude_m': 30.48}, None),
    ('aterriza', 'land', {}, None),
    ('aterriza en la plataforma roja', 'land', {}, 'plataforma roja'),
    ('espera 10 segundos', 'hold', {'duration_s': 10}, None),
    ('mantén la posición durante dos minutos y medio', 'hold', {'duration_s': 150}, None),
    ('vuelve a casa', 'return_to_home', {}, None),
    ('regresa a la base', 'return_to_home', {}, None),
    ('avanza 10 metros', 'goto', {**OFF, 'forward_m': 10}, None),
    ('ve a la izquierda 5 metros', 'goto', {**OFF, 'right_m': -5}, None),
    ('retrocede 3 m', 'goto', {**OFF, 'forward_m': -3}, None),
    ('vuela al norte 50 metros', 'goto', {'heading_deg': 0, 'distance_m': 50}, None),
    ('vuela al noreste 1 km', 'goto', {'heading_deg': 45, 'distance_m': 1000}, None),
    ('vuela hacia el este 200 m', 'goto', {'heading_deg': 90, 'distance_m': 200}, None),
    ('sube a 50 metros', 'change_altitude', {'altitude_m': 50}, None),
    ('sube 10 metros', 'change_altitude', {'delta_m': 10}, None),
    ('sube veinticinco metros más', 'change_altitude', {'delta_m': 25}, None),
    ('baja 5 metros', 'change_altitude', {'delta_m': -5}, None),
    ('baja a 20 m', 'change_altitude', {'altitude_m': 20}, None),
    ('velocidad 5 m/s', 'set_speed', {'speed_mps': 5}, None),
    ('pon la velocidad a 36 km/h', 'set_speed', {'speed_mps': 10}, None),
    ('gira a la izquierda 90 grados', 'rotate', {'yaw_deg': -90}, None),
    ('gira a la derecha 45º', 'rotate', {'yaw_deg': 45}, None),
    ('gira 30 grados en sentido antihorario', 'rotate', {'yaw_deg': -30}, None),
    ('da la vuelta', 'rotate', {'yaw_deg': 180}, None),
    ('oriéntate al norte', 'rotate', {'heading_deg': 0}, None),
    ('orbita la torre a 20 metros en sentido horario', 'orbit',
     {'radius_m': 20, 'direction': 'clockwise'}, 'torre'),
    ('sigue al coche azul', 'follow', {'distance_m': None}, 'coche azul'),
    ('sígueme', 'follow', {'distance_m': None}, 'me'),
    ('sigue a la persona a 10 metros', 'follow', {'distance_m': 10}, 'persona'),
    ('busca a una persona con chaqueta roja', 'search', {'radius_m': None},
     'persona con chaqueta roja'),
    ('busca un coche blanco en un radio de 100 metros', 'search', {'radius_m': 100},
     'coche blanco'),
    ('toma una foto', 'capture_photo', {'count': 1}, None),
    ('toma tres fotos del puente', 'capture_photo', {'count': 3}, 'puente'),
    ('¡para!', 'stop', {}, None),
    ('detente', 'stop', {}, None),
    ('¿puedes aterrizar?', 'land', {}, None),
    ('avanza 20 metros hacia adelante', 'goto', {**OFF, 'forward_m': 20}, None),
    ('mira hacia el sur', 'rotate', {'heading_deg': 180}, None),
    ('vuela rumbo 90 durante 300 m', 'goto', {'heading_deg': 90, 'distance_m': 300}, None),
    ('quédate quieto 5 segundos', 'hold', {'duration_s': 5}, None),
    ('saca dos fotos de la casa', 'capture_photo', {'count': 2}, 'casa'),
]

CLARIFIES = [
    ('sube', 'missing'),
    ('sigue', 'missing'),
    ('no aterrices', 'negation'),
    ('despega y luego vuela al norte', 'missing'),
    ('sube y baja', 'contradiction'),
    ('velocidad -5', 'invalid'),
    ('aterriza cuando veas un coche', 'conditional'),
    ('sube para ver mejor', 'unknown_words'),  # "para" is "for" here, not "stop"
    ('haz la cosa esa', 'unknown'),
    ('no despegues', 'negation'),
    ('gira a la izquierda', 'missing'),
    ('sube un poco', 'missing'),  # how much?
]

REPLIES = [
    ('¿qué puedes hacer?', 'answer'),
    ('ayuda', 'answer'),
    ('¿qué ves?', 'reject'),
    ('¿cuántos coches hay?', 'reject'),
]


@pytest.mark.parametrize('command, action, params, label', PARSES)
def test_parses(command, action, params, label):
    check_parse(command, action, params, label, 'es')


@pytest.mark.parametrize('command, reason', CLARIFIES)
def test_asks_back(command, reason):
    check_clarify(command, reason, 'es')


@pytest.mark.parametrize('command, action', REPLIES)
def test_questions(command, action):
    check_reply(command, action, 'es')


CASUAL = [
    ('avanza 20 metros hacia el norte', 'goto', {'heading_deg': 0, 'distance_m': 20}, None, ()),
    ('pues gira a la izquierda 90 grados', 'rotate', {'yaw_deg': -90}, None, ()),
    ('bueno, pues sube a 30 metros', 'change_altitude', {'altitude_m': 30}, None, ()),
    ('dale, gira 45 grados a la derecha', 'rotate', {'yaw_deg': 45}, None, ()),
    ('vete a casa', 'return_to_home', {}, None, ()),
    ('tráelo de vuelta', 'return_to_home', {}, None, ()),
    ('toma tierra en la plataforma', 'land', {}, 'plataforma', ()),
    ('Tomar dos fotos', 'capture_photo', {'count': 2}, None, ()),
    ('pues nada, vuelve a casa', 'return_to_home', {}, None, ()),
    ('échate 10 metros a la izquierda', 'goto', {**OFF, 'right_m': -10}, None, ()),
    ('saca un par de fotos', 'capture_photo', {'count': 2}, None, ()),
    ('Iniciar el aterrizaje', 'land', {}, None, ()),
    ('Poner la velocidad a 36 km/h', 'set_speed', {'speed_mps': 10}, None, ()),
    ('venga, vete 40 metros al oeste y luego aterriza', 'mission',
     [('goto', {'heading_deg': 270, 'distance_m': 40}), ('land', {})], None, ()),
    ('gria a la derecha 30 grados', 'rotate', {'yaw_deg': 30}, None, ('gria',)),
]

NEVER_READ_PAST = [
    ('vale, no aterrices', 'negation'),
    ('venga, nunca subas', 'negation'),
    ('sube a 30 metros salvo si llueve', 'conditional'),
]


@pytest.mark.parametrize('command, action, params, label, ignored', CASUAL)
def test_reads_radio_speech(command, action, params, label, ignored):
    check_casual(command, action, params, label, 'es', ignored)


@pytest.mark.parametrize('command, reason', NEVER_READ_PAST)
def test_never_reads_past_negations(command, reason):
    check_clarify(command, reason, 'es')


def test_an_unknown_first_word_is_no_typo_of_a_generic_move():
    result = analyse('hazme un café')  # one edit from "hazte": still not understood
    assert (result.proposal.action, result.reason, result.ignored) == ('clarify', 'unknown', ())
