"""Rule parser, Italian commands (accents optional)."""

import pytest
from rules_support import check_casual, check_clarify, check_parse, check_reply

OFF = {'forward_m': 0.0, 'right_m': 0.0, 'up_m': 0.0}

PARSES = [
    ('decolla a 30 metri', 'takeoff', {'altitude_m': 30}, None),
    ('decolla a trenta metri', 'takeoff', {'altitude_m': 30}, None),
    ('decolla a venticinque metri', 'takeoff', {'altitude_m': 25}, None),
    ('decolla a centocinquanta piedi', 'takeoff', {'altitude_m': 150 * 0.3048}, None),
    ('atterra', 'land', {}, None),
    ('atterra sulla piattaforma rossa', 'land', {}, 'piattaforma rossa'),
    ('aspetta 10 secondi', 'hold', {'duration_s': 10}, None),
    ('resta fermo per due minuti e mezzo', 'hold', {'duration_s': 150}, None),
    ('torna a casa', 'return_to_home', {}, None),
    ('rientra alla base', 'return_to_home', {}, None),
    ('vai avanti 10 metri', 'goto', {**OFF, 'forward_m': 10}, None),
    ('vai a sinistra di 5 metri', 'goto', {**OFF, 'right_m': -5}, None),
    ('indietreggia di 3 m', 'goto', {**OFF, 'forward_m': -3}, None),
    ('vola a nord per 50 metri', 'goto', {'heading_deg': 0, 'distance_m': 50}, None),
    ('vola verso nord-est per 1,5 km', 'goto', {'heading_deg': 45, 'distance_m': 1500}, None),
    ('vola a est 200 m', 'goto', {'heading_deg': 90, 'distance_m': 200}, None),
    ('sali a 50 metri', 'change_altitude', {'altitude_m': 50}, None),
    ('sali di 10 metri', 'change_altitude', {'delta_m': 10}, None),
    ('scendi di 2,5 metri', 'change_altitude', {'delta_m': -2.5}, None),
    ('scendi a venti metri', 'change_altitude', {'altitude_m': 20}, None),
    ('velocità 5 m/s', 'set_speed', {'speed_mps': 5}, None),
    ('imposta la velocità a 36 km/h', 'set_speed', {'speed_mps': 10}, None),
    ('gira a sinistra di 90 gradi', 'rotate', {'yaw_deg': -90}, None),
    ('gira a destra di 45°', 'rotate', {'yaw_deg': 45}, None),
    ('ruota di 30 gradi in senso antiorario', 'rotate', {'yaw_deg': -30}, None),
    ('fai inversione', 'rotate', {'yaw_deg': 180}, None),
    ('orientati a nord', 'rotate', {'heading_deg': 0}, None),
    ('gira intorno alla torre a 20 metri in senso orario', 'orbit',
     {'radius_m': 20, 'direction': 'clockwise'}, 'torre'),
    ("segui l'auto blu", 'follow', {'distance_m': None}, 'auto blu'),
    ('seguimi', 'follow', {'distance_m': None}, 'mi'),
    ('segui la persona a 10 metri', 'follow', {'distance_m': 10}, 'persona'),
    ('cerca una persona con la giacca rossa', 'search', {'radius_m': None},
     'persona con la giacca rossa'),
    ('cerca un furgone bianco entro 200 metri', 'search', {'radius_m': 200},
     'furgone bianco'),
    ('scatta una foto', 'capture_photo', {'count': 1}, None),
    ('scatta tre foto del ponte', 'capture_photo', {'count': 3}, 'ponte'),
    ('fermati', 'stop', {}, None),
    ('alt!', 'stop', {}, None),
    ('puoi atterrare?', 'land', {}, None),
    ('vai dritto per 20 metri', 'goto', {**OFF, 'forward_m': 20}, None),
    ('guarda verso sud', 'rotate', {'heading_deg': 180}, None),
    ('accelera a 8 m/s', 'set_speed', {'speed_mps': 8}, None),
    ('scatta due foto della casa', 'capture_photo', {'count': 2}, 'casa'),
    ('insegui il camion', 'follow', {'distance_m': None}, 'camion'),
]

CLARIFIES = [
    ('sali', 'missing'),
    ('segui', 'missing'),
    ('non atterrare', 'negation'),
    ('decolla e poi vola a nord', 'missing'),
    ('sali e scendi', 'contradiction'),
    ('velocità -5', 'invalid'),
    ('atterra se vedi una macchina', 'conditional'),
    ('fai quella roba strana', 'unknown'),
    ('gira a sinistra', 'missing'),
    ('non decollare', 'negation'),
]

REPLIES = [
    ('cosa sai fare?', 'answer'),
    ('aiuto', 'answer'),
    ('cosa vedi?', 'reject'),
    ("c'è una macchina?", 'reject'),
    ('quante persone vedi?', 'reject'),
]


@pytest.mark.parametrize('command, action, params, label', PARSES)
def test_parses(command, action, params, label):
    check_parse(command, action, params, label, 'it')


@pytest.mark.parametrize('command, reason', CLARIFIES)
def test_asks_back(command, reason):
    check_clarify(command, reason, 'it')


@pytest.mark.parametrize('command, action', REPLIES)
def test_questions(command, action):
    check_reply(command, action, 'it')


CASUAL = [
    ('tira su di 10 metri', 'change_altitude', {'delta_m': 10}, None, ()),
    ('forza, sali a 20 metri', 'change_altitude', {'altitude_m': 20}, None, ()),
    ('ecco, torna alla base', 'return_to_home', {}, None, ()),
    ('Atterrare sulla piattaforma', 'land', {}, 'piattaforma', ()),
    ('Scattare tre foto', 'capture_photo', {'count': 3}, None, ()),
    ('Impostare la velocità a 5 m/s', 'set_speed', {'speed_mps': 5}, None, ()),
    ('Ruotare di 90 gradi a destra', 'rotate', {'yaw_deg': 90}, None, ()),
    ('tocca terra', 'land', {}, None, ()),
    ('scatta un paio di foto', 'capture_photo', {'count': 2}, None, ()),
    ("vai un po' più su di 5 metri", 'change_altitude', {'delta_m': 5}, None, ()),
    ('Avviare il decollo a 20 metri', 'takeoff', {'altitude_m': 20}, None, ()),
    ('allora, vai a nord di 30 metri poi atterra', 'mission',
     [('goto', {'heading_deg': 0, 'distance_m': 30}), ('land', {})], None, ()),
    ('gria a destra di 30 gradi', 'rotate', {'yaw_deg': 30}, None, ('gria',)),
]

NEVER_READ_PAST = [
    ('dai, non atterrare', 'negation'),
    ('allora, mai salire', 'negation'),
]


@pytest.mark.parametrize('command, action, params, label, ignored', CASUAL)
def test_reads_radio_speech(command, action, params, label, ignored):
    check_casual(command, action, params, label, 'it', ignored)


@pytest.mark.parametrize('command, reason', NEVER_READ_PAST)
def test_never_reads_past_negations(command, reason):
    check_clarify(command, reason, 'it')
