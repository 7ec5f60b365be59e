"""Rule parser, commands as operators talk to a drone on a radio, in the five languages (issue
25, a second batch beside `test_rules_radio_phrasing.py`, none of its sentences repeated):
fillers and polite words around the verb, written-instruction infinitives, reflexive
positioning verbs ("portati a 30 metri", "ponte a 30 metros", "level off at 200 feet"),
brake verbs with a new speed, hold idioms (a moment, keep the position or the altitude), half
turns, radio digits joined by a hyphen ("two-five"), typos in verbs and directions, and
missions chained with then/puis/dann/luego/poi.

Written for this file from how operators talk, not taken from the evaluation sets
(casual_speech.yaml, quantities.yaml) nor from the training generators. Numbers keep their
unit: the expected value is the command's quantity in the contract's unit. A negated command
is never read as its verb.
"""

import pytest

from ministral_node.decision import steps_of
from ministral_node.sources.rules import analyse

KMH, KNOT, FT = 1 / 3.6, 1852 / 3600, 0.3048
OFF = {'forward_m': 0.0, 'right_m': 0.0, 'up_m': 0.0}
HOLD = {'duration_s': None}
TAKEOFF_M = 10.0  # the node's takeoff_altitude_m, for a takeoff said without one


def _goto(heading, distance):
    return {'heading_deg': heading, 'distance_m': distance}


def _off(**axes):
    return {**OFF, **axes}


def _alt(metres):
    return {'altitude_m': metres}


def _delta(metres):
    return {'delta_m': metres}


def _yaw(degrees):
    return {'yaw_deg': degrees}


def _speed(mps):
    return {'speed_mps': mps}


def _photos(count):
    return {'count': count}


def _read(text, language, action, params):
    """`text` reads as `action` with `params` (a mission: its steps as (action, params)) in
    `language`; a reading that read past a word says so and is less confident."""
    result = _acts(text, language, action)
    proposal = result.proposal
    if action == 'mission':
        got = [(step.action, step.params) for step in steps_of(proposal)]
        assert [a for a, _ in got] == [a for a, _ in params], proposal.to_dict()
        for (_, got_params), (_, want) in zip(got, params):
            assert got_params == pytest.approx(want), proposal.to_dict()
    else:
        assert proposal.params == pytest.approx(params), proposal.to_dict()
    if result.partial:
        assert proposal.confidence < 1.0
        assert all(word.split('->')[0] in proposal.rationale for word in result.ignored)


def _acts(text, language, action):
    """`text` reads as `action` in `language` (a valid proposal); the analysis."""
    result = analyse(text, takeoff_altitude_m=TAKEOFF_M)
    proposal = result.proposal.validate()
    assert (proposal.action, result.language) == (action, language), (
        proposal.to_dict(), result.reason, result.ignored)
    return result


def _names(text, language, action, label):
    """`text` reads as `action` in `language` on the target named `label`."""
    proposal = _acts(text, language, action).proposal
    assert proposal.target is not None and proposal.target.label == label, proposal.to_dict()


TALK = {
    'en': [
        ('hey drone, uh, climb to thirty metres please', 'change_altitude', _alt(30)),
        ('okay buddy go up to 25', 'change_altitude', _alt(25)),
        ('alt 40', 'change_altitude', _alt(40)),
        ('spd 6', 'set_speed', _speed(6)),
        ('hdg 270', 'rotate', {'heading_deg': 270}),
        ('yeah so just hop up to 12 metres', 'change_altitude', _alt(12)),
        ('could you bring it down to 8 metres', 'change_altitude', _alt(8)),
        ('scoot left 3 metres', 'goto', _off(right_m=-3)),
        ('nudge forward two metres', 'goto', _off(forward_m=2)),
        ('swing right 30 degrees', 'rotate', _yaw(30)),
        ('rotate to face west', 'rotate', {'heading_deg': 270}),
        ('snap a pic', 'capture_photo', _photos(1)),
        ('take a couple of photos', 'capture_photo', _photos(2)),
        ('hover for 45 secs', 'hold', {'duration_s': 45}),
        ('touch down', 'land', {}),
        ('return to launch', 'return_to_home', {}),
        ('climb to 20 m then fly east 30 m then come back', 'mission',
         [('change_altitude', _alt(20)), ('goto', _goto(90, 30)), ('return_to_home', {})]),
        ('take off, then head north 50 metres, then land', 'mission',
         [('takeoff', _alt(TAKEOFF_M)), ('goto', _goto(0, 50)), ('land', {})]),
        ('thanks, now land', 'land', {}),
        ('go forward 10 metres cheers', 'goto', _off(forward_m=10)),
        ('decsend to 10 metres', 'change_altitude', _alt(10)),
        ('fly soutth 20 metres', 'goto', _goto(180, 20)),
        ('retrun home', 'return_to_home', {}),
        ('lnad now', 'land', {}),
        ('slow down to 3 m/s', 'set_speed', _speed(3)),
        ('lose 5 metres', 'change_altitude', _delta(-5)),
        ('two-five metres north', 'goto', _goto(0, 25)),
        ('climb two-zero metres', 'change_altitude', _delta(20)),
        ('level off at 200 feet', 'change_altitude', _alt(200 * FT)),
        ('brake to 3 m/s', 'set_speed', _speed(3)),
        ('hold it there a moment', 'hold', HOLD),
        ('do a one-eighty', 'rotate', _yaw(180)),
        ('hold altitude', 'hold', HOLD),
    ],
    'fr': [
        ('euh bon, monte à vingt mètres stp', 'change_altitude', _alt(20)),
        ("s'il te plaît, atterris", 'land', {}),
        ('alors, avance de quinze mètres', 'goto', _off(forward_m=15)),
        ('vas-y, décolle', 'takeoff', _alt(TAKEOFF_M)),
        ('tourne de 90 degrés vers la droite', 'rotate', _yaw(90)),
        ('pivote à gauche de 30 degrés', 'rotate', _yaw(-30)),
        ('redescends un peu, de 5 mètres', 'change_altitude', _delta(-5)),
        ('prends-moi une photo', 'capture_photo', _photos(1)),
        ('retour maison', 'return_to_home', {}),
        ('Décoller à 10 mètres', 'takeoff', _alt(10)),
        ('Se déplacer de 20 mètres vers le nord', 'goto', _goto(0, 20)),
        ('Tourner à droite de 45 degrés', 'rotate', _yaw(45)),
        ('monte à 20 mètres et ensuite avance de 10 mètres', 'mission',
         [('change_altitude', _alt(20)), ('goto', _off(forward_m=10))]),
        ('décolle, puis fais une photo, puis pose-toi', 'mission',
         [('takeoff', _alt(TAKEOFF_M)), ('capture_photo', _photos(1)), ('land', {})]),
        ('merci, rentre maintenant', 'return_to_home', {}),
        ('va vers le nrod sur 30 mètres', 'goto', _goto(0, 30)),
        ('ralentis à 3 mètres par seconde', 'set_speed', _speed(3)),
        ("file à l'est sur 40 mètres", 'goto', _goto(90, 40)),
        ('mets-toi à 30 mètres', 'change_altitude', _alt(30)),
        ('place-toi à 25 mètres de hauteur', 'change_altitude', _alt(25)),
        ('freine à 3 m/s', 'set_speed', _speed(3)),
        ('attends un instant', 'hold', HOLD),
    ],
    'de': [
        ('äh, steig bitte auf zwanzig Meter', 'change_altitude', _alt(20)),
        ('so, jetzt flieg mal 15 Meter vor', 'goto', _off(forward_m=15)),
        ('ja, dann lande mal', 'land', {}),
        ('nu mach mal zwei Fotos', 'capture_photo', _photos(2)),
        ('dreh dich mal 30 Grad nach links', 'rotate', _yaw(-30)),
        ('geh mal auf 25 Meter hoch', 'change_altitude', _alt(25)),
        ('runter auf 10 Meter', 'change_altitude', _alt(10)),
        ('zurück nach Hause bitte', 'return_to_home', {}),
        ('starten', 'takeoff', _alt(TAKEOFF_M)),
        ('20 Meter nach Norden fliegen', 'goto', _goto(0, 20)),
        ('Um 90 Grad nach rechts drehen', 'rotate', _yaw(90)),
        ('Geschwindigkeit auf 4 m/s setzen', 'set_speed', _speed(4)),
        ('10 Sekunden warten', 'hold', {'duration_s': 10}),
        ('steig auf 20 Meter, danach flieg 30 Meter nach Osten', 'mission',
         [('change_altitude', _alt(20)), ('goto', _goto(90, 30))]),
        ('starte, dann mach ein Foto, dann lande', 'mission',
         [('takeoff', _alt(TAKEOFF_M)), ('capture_photo', _photos(1)), ('land', {})]),
        ('danke, jetzt heimfliegen', 'return_to_home', {}),
        ('flieg nach Nodren 20 Meter', 'goto', _goto(0, 20)),
        ('bleib mal kurz stehen, 10 Sekunden', 'hold', {'duration_s': 10}),
        ('bremse auf 3 m/s', 'set_speed', _speed(3)),
        ('positionier dich auf 30 Meter', 'change_altitude', _alt(30)),
        ('warte einen Moment', 'hold', HOLD),
        ('Höhe halten', 'hold', HOLD),
    ],
    'es': [
        ('oye, sube a veinte metros por favor', 'change_altitude', _alt(20)),
        ('pues nada, vuelve a la base', 'return_to_home', {}),
        ('a ver, gira 30 grados a la izquierda', 'rotate', _yaw(-30)),
        ('échate para adelante diez metros', 'goto', _off(forward_m=10)),
        ('baja un poco, unos 5 metros', 'change_altitude', _delta(-5)),
        ('saca una foto', 'capture_photo', _photos(1)),
        ('Despegar', 'takeoff', _alt(TAKEOFF_M)),
        ('Subir a 30 metros', 'change_altitude', _alt(30)),
        ('Volar 20 metros hacia el norte', 'goto', _goto(0, 20)),
        ('Girar a la derecha 45 grados', 'rotate', _yaw(45)),
        ('sube a 20 metros, después avanza 10 metros', 'mission',
         [('change_altitude', _alt(20)), ('goto', _off(forward_m=10))]),
        ('despega, luego haz una foto y luego aterriza', 'mission',
         [('takeoff', _alt(TAKEOFF_M)), ('capture_photo', _photos(1)), ('land', {})]),
        ('gracias, ahora vuelve', 'return_to_home', {}),
        ('vuela al nrote 20 metros', 'goto', _goto(0, 20)),
        ('porfa, sube a 15', 'change_altitude', _alt(15)),
        ('ponte a 30 metros', 'change_altitude', _alt(30)),
        ('colócate a 40 metros de altura', 'change_altitude', _alt(40)),
        ('frena a 3 metros por segundo', 'set_speed', _speed(3)),
        ('espera un momento', 'hold', HOLD),
        ('mantén la altura', 'hold', HOLD),
    ],
    'it': [
        ('allora, sali a venti metri per favore', 'change_altitude', _alt(20)),
        ('ecco, vai avanti di 10 metri', 'goto', _off(forward_m=10)),
        ('gira a destra di 30 gradi, grazie', 'rotate', _yaw(30)),
        ('tipo, sali di 5 metri', 'change_altitude', _delta(5)),
        ('Decollare a 10 metri', 'takeoff', _alt(10)),
        ('Volare 20 metri verso nord', 'goto', _goto(0, 20)),
        ('Girare a sinistra di 45 gradi', 'rotate', _yaw(-45)),
        ('sali a 20 metri, poi vai avanti di 10 metri', 'mission',
         [('change_altitude', _alt(20)), ('goto', _off(forward_m=10))]),
        ('decolla, poi scatta una foto, poi atterra', 'mission',
         [('takeoff', _alt(TAKEOFF_M)), ('capture_photo', _photos(1)), ('land', {})]),
        ('grazie, adesso rientra', 'return_to_home', {}),
        ('vola verso nrod per 20 metri', 'goto', _goto(0, 20)),
        ('rallenta a 3 metri al secondo', 'set_speed', _speed(3)),
        ('abbassati a 10 metri', 'change_altitude', _alt(10)),
        ('spostati a sinistra di 3 metri', 'goto', _off(right_m=-3)),
        ('stai fermo lì 20 secondi', 'hold', {'duration_s': 20}),
        ('ok, vai su di 10 metri', 'change_altitude', _delta(10)),
        ('ruota di 90 gradi a destra', 'rotate', _yaw(90)),
        ('dai, portati a 30 metri', 'change_altitude', _alt(30)),
        ('senti, mettiti a 15 metri', 'change_altitude', _alt(15)),
        ('sistemati a 25 metri di quota', 'change_altitude', _alt(25)),
        ('portati a 5 metri al secondo', 'set_speed', _speed(5)),
        ('frena fino a 2 metri al secondo', 'set_speed', _speed(2)),
        ('aspetta lì un attimo', 'hold', HOLD),
        ('tieni la posizione', 'hold', HOLD),
        ('mantieni la quota', 'hold', HOLD),
        ('fai mezzo giro', 'rotate', _yaw(180)),
        ('voltati', 'rotate', _yaw(180)),
        ('sali a due-cinque metri', 'change_altitude', _alt(25)),
    ],
}

CASES = [(text, language, *rest) for language, table in TALK.items() for text, *rest in table]


@pytest.mark.parametrize('text, language, action, params', CASES, ids=[c[0] for c in CASES])
def test_operator_talk_reads_as_meant(text, language, action, params):
    _read(text, language, action, params)


# A reflexive positioning verb puts the vehicle at a height or a speed said with "to"; a
# horizontal direction beside it makes it a move; said without a value it asks back.
@pytest.mark.parametrize('text, language, action, params', [
    ('portati 20 metri a nord', 'it', 'goto', _goto(0, 20)),
    ('mets-toi 10 mètres à droite', 'fr', 'goto', _off(right_m=10)),
    ('ponte a 18 km/h', 'es', 'set_speed', _speed(5)),
    ('level off at 120 m', 'en', 'change_altitude', _alt(120)),
])
def test_a_positioning_verb_takes_the_dimension_of_its_value(text, language, action, params):
    _read(text, language, action, params)


@pytest.mark.parametrize('text', ['portati', 'mettiti', 'ponte', 'level off'])
def test_a_positioning_verb_without_a_value_is_asked_back(text):
    assert analyse(text).proposal.action == 'clarify'


# A brake verb alone stops at once; with a new speed in its unit it sets that speed; with
# anything else it still stops.
@pytest.mark.parametrize('text', ['brake', 'freine', 'bremse!', 'frena', 'frena subito',
                                  'brake to 30 m', 'frena a 10 metri'])
def test_a_brake_without_a_speed_stops(text):
    assert analyse(text).proposal.action == 'stop'


# A negation is never read past, whatever verb class it stands before.
@pytest.mark.parametrize('text', [
    'non metterti a 30 metri', 'ne te mets pas à 30 mètres', 'no te pongas a 30 metros',
    "don't level off at 200 feet", 'ne freine pas à 3 m/s', 'non frenare a 3 m/s',
    'dai, non portarti a 30 metri', 'non fare mezzo giro', "don't do a one-eighty",
    'nicht auf 30 Meter positionieren',
])
def test_a_negated_operator_command_is_never_flown(text):
    assert analyse(text).proposal.action in ('clarify', 'stop')
    assert analyse(text).proposal.action != 'stop' or 'fren' in text or 'frein' in text


# Radio digits: two digit words joined by a hyphen are one number ("two-five" = 25); apart,
# two digits not ending in zero stay two numbers (see test_rules_radio_phrasing).
@pytest.mark.parametrize('text, language, action, params', [
    ('descend to one-five metres', 'en', 'change_altitude', _alt(15)),
    ('vole au nord sur quatre-cinq mètres', 'fr', 'goto', _goto(0, 45)),
    ('steig auf drei-fünf Meter', 'de', 'change_altitude', _alt(35)),
    ('vuela al este dos-cinco metros', 'es', 'goto', _goto(90, 25)),
    ('vola a ovest per tre-due metri', 'it', 'goto', _goto(270, 32)),
])
def test_digit_words_joined_by_a_hyphen_are_one_number(text, language, action, params):
    _read(text, language, action, params)


# Colloquial verbs of the targeted actions (follow, search, orbit, photo) in each language,
# English gerunds after "keep".
@pytest.mark.parametrize('text, language, action, label', [
    ('keep your eyes on the red car', 'en', 'follow', 'red car'),
    ('lock onto the white van', 'en', 'follow', 'white van'),
    ('scout around for the hiker', 'en', 'search', 'hiker'),
    ('be on the lookout for a blue tent', 'en', 'search', 'blue tent'),
    ('grab me a shot of the bridge', 'en', 'capture_photo', 'bridge'),
    ('garde un œil sur le camion', 'fr', 'follow', 'camion'),
    ('surveille la voiture grise', 'fr', 'follow', 'voiture grise'),
    ('ratisse le champ pour le chien', 'fr', 'search', None),
    ('beobachte den Traktor', 'de', 'follow', 'Traktor'),
    ('durchkämme das Feld', 'de', 'search', 'Feld'),
    ('vigila el coche rojo', 'es', 'follow', 'coche rojo'),
    ('échale un ojo al camión', 'es', 'follow', 'camión'),
    ("tieni d'occhio la macchina rossa", 'it', 'follow', 'macchina rossa'),
    ('stai attaccato al furgone', 'it', 'follow', 'furgone'),
    ('perlustra il bosco', 'it', 'search', 'bosco'),
    ('setaccia il campo', 'it', 'search', 'campo'),
])
def test_colloquial_verbs_of_the_targeted_actions(text, language, action, label):
    if label is None:
        _acts(text, language, action)
    else:
        _names(text, language, action, label)


@pytest.mark.parametrize('text, language, params', [
    ('keep circling the mast at 15 m', 'en', {'radius_m': 15, 'direction': 'clockwise'}),
    ('make laps around the pylon, radius 25 m', 'en', {'radius_m': 25,
                                                       'direction': 'clockwise'}),
    ('tourne en rond autour du silo à 20 mètres', 'fr', {'radius_m': 20,
                                                          'direction': 'clockwise'}),
    ('dreh ein paar Runden um die Scheune mit 30 Meter Radius', 'de',
     {'radius_m': 30, 'direction': 'clockwise'}),
    ('dale vueltas al depósito a 10 metros', 'es', {'radius_m': 10, 'direction': 'clockwise'}),
    ('giragli intorno al campanile a 40 metri', 'it', {'radius_m': 40,
                                                        'direction': 'clockwise'}),
])
def test_colloquial_orbits_keep_their_radius(text, language, params):
    _read(text, language, 'orbit', params)


@pytest.mark.parametrize('text, language, action, params', [
    ('keep hovering', 'en', 'hold', HOLD),
    ('keep climbing to 40 m', 'en', 'change_altitude', _alt(40)),
    ('mitraille le pont', 'fr', 'clarify', None),  # many photos: how many is asked
])
def test_gerunds_and_plural_verbs(text, language, action, params):
    proposal = analyse(text).proposal.validate()
    assert proposal.action == action
    if params is not None:
        assert proposal.params == pytest.approx(params)


# "Stay there and don't land": a negated clause joined by "and" to a hold keeps the vehicle
# where it is, which also obeys the negation; joined to any other action it is asked back.
@pytest.mark.parametrize('text, language', [
    ('stay there and do not land', 'en'), ('do not land yet, keep hovering', 'en'),
    ('reste là et ne te pose pas', 'fr'), ('bleib da und lande nicht', 'de'),
    ('quédate ahí y no aterrices', 'es'), ('resta lì e non atterrare', 'it'),
    ('non scendere e aspetta', 'it'),
])
def test_a_hold_beside_a_negated_clause_holds(text, language):
    _acts(text, language, 'hold')


@pytest.mark.parametrize('text', [
    'land and do not take photos', 'fly north 100 m and do not go above 20 m',
    'monte à 30 mètres et ne va pas au nord', 'flieg nach Norden und steig nicht',
    'sube y no gires', 'atterra e non fare foto', 'hover and do not land and land',
])
def test_another_action_beside_a_negated_clause_is_asked_back(text):
    assert analyse(text).proposal.action == 'clarify'


# Urgent radio Italian and its neighbours: an exclamation "fermo!" stops like "freeze!";
# "e basta" / "y ya está" end a command without stopping it; a repeated "down" or "come on"
# before a landing is the landing; interjections (oh, ah) are read past.
@pytest.mark.parametrize('text, language, action', [
    ('fermo!', 'it', 'stop'), ('fermo, fermo!', 'it', 'stop'),
    ('atterra e basta', 'it', 'land'), ('aterriza y ya está', 'es', 'land'),
    ('torna alla base e basta', 'it', 'return_to_home'),
    ('giù giù, atterra!', 'it', 'land'), ('su su, atterra', 'it', 'land'),
    ('down, down, land now', 'en', 'land'), ('abajo, aterriza ya', 'es', 'land'),
    ('oh, atterra', 'it', 'land'), ('ah, pose-toi', 'fr', 'land'),
])
def test_urgent_words_around_a_command(text, language, action):
    _acts(text, language, action)


@pytest.mark.parametrize('text', ['stai fermo lì', 'resta fermo'])
def test_staying_still_is_still_a_hold(text):
    assert analyse(text).proposal.action == 'hold'


# Doing nothing is holding; it says no action to refuse.
@pytest.mark.parametrize('text, language', [
    ('do nothing, wait', 'en'), ("don't do anything, just hover", 'en'),
    ('ne fais rien, attends', 'fr'), ('mach nichts, warte', 'de'),
    ('no hagas nada, espera', 'es'), ('non fare niente, resta lì', 'it'),
    ('non fare nulla', 'it'),
])
def test_doing_nothing_is_a_hold(text, language):
    _acts(text, language, 'hold')


# "Try to ..." is the command itself; "cerca di" (try to) is no search.
@pytest.mark.parametrize('text, language, action, params', [
    ('try to climb to 30 m', 'en', 'change_altitude', _alt(30)),
    ('essaie de monter à 30 mètres', 'fr', 'change_altitude', _alt(30)),
    ('versuch auf 30 Meter zu steigen', 'de', 'change_altitude', _alt(30)),
    ('intenta subir a 30 metros', 'es', 'change_altitude', _alt(30)),
    ('cerca di salire a 30 metri', 'it', 'change_altitude', _alt(30)),
    ('prova a scendere di 5 metri', 'it', 'change_altitude', _delta(-5)),
])
def test_trying_is_doing(text, language, action, params):
    _read(text, language, action, params)


# Looking behind is facing back: half a turn.
@pytest.mark.parametrize('text, language', [
    ('look behind you', 'en'), ('look back', 'en'), ('regarde derrière toi', 'fr'),
    ('schau nach hinten', 'de'), ('mira atrás', 'es'), ('guarda indietro', 'it'),
    ('guardati alle spalle', 'it'),
])
def test_looking_behind_is_half_a_turn(text, language):
    _read(text, language, 'rotate', _yaw(180))


@pytest.mark.parametrize('text', ['look left', 'guarda a destra', 'schau nach links'])
def test_looking_to_a_side_without_an_angle_is_asked_back(text):
    assert analyse(text).proposal.action == 'clarify'  # never an invented 90 degrees


# Speeds said as on the road: "30 all'ora", "30 à l'heure", "30 por hora",
# "30 Stundenkilometern" are km/h.
@pytest.mark.parametrize('text, language', [
    ("vai a 36 all'ora", 'it'), ("file à 36 à l'heure", 'fr'), ('ve a 36 por hora', 'es'),
    ('flieg mit 36 Stundenkilometern', 'de'),
])
def test_road_speeds_are_kilometres_an_hour(text, language):
    _read(text, language, 'set_speed', _speed(10))


# A unit said as a diminutive ("minutitos", "secondini", "metritos") is that unit.
@pytest.mark.parametrize('text, language, action, params', [
    ('espera dos minutitos', 'es', 'hold', {'duration_s': 120}),
    ('aspetta due minutini', 'it', 'hold', {'duration_s': 120}),
    ('aspetta trenta secondini', 'it', 'hold', {'duration_s': 30}),
    ('sube tres metritos', 'es', 'change_altitude', _delta(3)),
])
def test_a_unit_said_as_a_diminutive_is_that_unit(text, language, action, params):
    _read(text, language, action, params)


# "We" forms: "decolliamo", "saliamo a 30 metri", "décollons", "montons", "wir landen": the
# command itself, never a target named "wir".
@pytest.mark.parametrize('text, language, action, params', [
    ('decolliamo', 'it', 'takeoff', _alt(TAKEOFF_M)),
    ('saliamo a 30 metri', 'it', 'change_altitude', _alt(30)),
    ('torniamo a casa', 'it', 'return_to_home', {}),
    ('giriamo a destra di 90 gradi', 'it', 'rotate', _yaw(90)),
    ('décollons', 'fr', 'takeoff', _alt(TAKEOFF_M)),
    ('montons à 30 mètres', 'fr', 'change_altitude', _alt(30)),
    ('rentrons', 'fr', 'return_to_home', {}),
    ('atterrissons', 'fr', 'land', {}),
    ('wir landen', 'de', 'land', {}),
    ('so, wir steigen auf 30 Meter', 'de', 'change_altitude', _alt(30)),
])
def test_we_forms_are_the_command(text, language, action, params):
    _read(text, language, action, params)
    assert analyse(text, takeoff_altitude_m=TAKEOFF_M).proposal.target is None


# Turning on the spot ("sur toi-même", "su te stesso", "sobre ti mismo", "auf der Stelle") is
# a turn by the angle said, never a heading.
@pytest.mark.parametrize('text, language', [
    ('pivote sur toi-même de 90 degrés', 'fr'), ('gira su te stesso di 90 gradi', 'it'),
    ('gira sobre ti mismo 90 grados', 'es'), ('dreh dich auf der Stelle um 90 Grad', 'de'),
    ('spin on the spot 90 degrees', 'en'),
])
def test_turning_on_the_spot_is_a_turn_by_the_angle(text, language):
    _read(text, language, 'rotate', _yaw(90))


# German written contractions with an apostrophe ("'ne", "'nen") are articles; without one
# "ne" stays the French negation (see test_rules_radio_phrasing).
@pytest.mark.parametrize('text, action, params', [
    ("bleib mal 'ne Minute da oben", 'hold', {'duration_s': 60}),
    ("warte 'nen Moment", 'hold', HOLD),
    ("mach mal 'ne Aufnahme", 'capture_photo', _photos(1)),
])
def test_german_apostrophe_contractions_are_articles(text, action, params):
    _read(text, 'de', action, params)


# Radio stops, speed caps and a colloquial way home.
@pytest.mark.parametrize('text, language, action, params', [
    ('knock it off', 'en', 'stop', {}),
    ('cease all movement', 'en', 'stop', {}),
    ('keep it under 5 m/s', 'en', 'set_speed', _speed(5)),
    ('keep the speed below 10 knots', 'en', 'set_speed', _speed(10 * KNOT)),
    ('bring it on home', 'en', 'return_to_home', {}),
    ('vitesse en dessous de 18 km/h', 'fr', 'set_speed', _speed(5)),
    ('velocidad por debajo de 5 m/s', 'es', 'set_speed', _speed(5)),
    ('velocità sotto i 5 m/s', 'it', 'set_speed', _speed(5)),
])
def test_radio_stops_speed_caps_and_home(text, language, action, params):
    _read(text, language, action, params)


# A reading that assumes the sense of a turn or an orbit never reads past an unknown word: the
# word may be the sense ("rotate lt 90" was published as 90 degrees clockwise).
@pytest.mark.parametrize('text', ['rotate lt 90 degrees', 'turn L 90 degrees',
                                  'dreh li um 90 Grad', 'tourne g de 90 degrés',
                                  'orbit the mast ccw-ish at 20 m'])
def test_an_unknown_word_is_never_read_past_where_the_sense_is_assumed(text):
    assert analyse(text).proposal.action == 'clarify'


# Written abbreviations of left and right: Italian dx/sx, Spanish izq/izqda/dcha.
@pytest.mark.parametrize('text, language, action, params', [
    ('ruota sx di 90 gradi', 'it', 'rotate', _yaw(-90)),
    ('gira a dx di 30 gradi', 'it', 'rotate', _yaw(30)),
    ('spostati 3 metri a dx', 'it', 'goto', _off(right_m=3)),
    ('gira a la izq 30 grados', 'es', 'rotate', _yaw(-30)),
    ('gira a la dcha 45 grados', 'es', 'rotate', _yaw(45)),
    ('muévete 5 metros a la izqda', 'es', 'goto', _off(right_m=-5)),
])
def test_written_abbreviations_of_left_and_right(text, language, action, params):
    _read(text, language, action, params)


# A fraction of a turn is an angle: "un quart de tour", "un cuarto de vuelta", "un quarto di
# giro", "eine Vierteldrehung"; a whole number of turns ("deux tours") is asked back, and the
# half turns and orbits that share the words keep their meaning.
@pytest.mark.parametrize('text, language, params', [
    ('fais un quart de tour à droite', 'fr', _yaw(90)),
    ('tourne d\'un quart de tour vers la gauche', 'fr', _yaw(-90)),
    ('gira un cuarto de vuelta a la izquierda', 'es', _yaw(-90)),
    ('fai un quarto di giro a destra', 'it', _yaw(90)),
    ('mach eine Vierteldrehung nach links', 'de', _yaw(-90)),
    ('fais demi-tour', 'fr', _yaw(180)), ('media vuelta', 'es', _yaw(180)),
    ('fai mezzo giro', 'it', _yaw(180)),
])
def test_a_fraction_of_a_turn_is_an_angle(text, language, params):
    _read(text, language, 'rotate', params)


@pytest.mark.parametrize('text', ['fais deux tours à droite', 'da tres vueltas a la izquierda',
                                  'dreh zwei Umdrehungen nach links'])
def test_whole_turns_are_asked_back(text):
    assert analyse(text).proposal.action == 'clarify'


@pytest.mark.parametrize('text, language', [
    ('fais un tour autour de la tour à 20 mètres', 'fr'),
    ('fai un giro intorno alla torre a 20 metri', 'it'),
    ('da una vuelta alrededor de la torre a 20 metros', 'es'),
])
def test_a_turn_around_something_is_still_an_orbit(text, language):
    _read(text, language, 'orbit', {'radius_m': 20, 'direction': 'clockwise'})


# A target described again after a comma ("the car, the red one", "la macchina, quella
# vicino al ponte") is one target; two different nouns stay asked back.
@pytest.mark.parametrize('text, language, action, label', [
    ('follow the car, the red one', 'en', 'follow', 'car, the red one'),
    ('cerca la macchina rossa, quella vicino al ponte', 'it', 'search',
     'macchina rossa, quella vicino al ponte'),
    ('suis le camion, celui avec la bâche bleue', 'fr', 'follow',
     'camion, celui avec la bâche bleue'),
    ('busca al chico, el de la gorra roja', 'es', 'search', 'chico, el de la gorra roja'),
])
def test_a_target_described_again_after_a_comma_is_one_target(text, language, action, label):
    _names(text, language, action, label)


@pytest.mark.parametrize('text', ['follow the car, the truck', 'cerca il cane, il gatto',
                                  'suis le camion, celui qui roule vers le nord'])
def test_two_targets_after_a_comma_are_asked_back(text):
    assert analyse(text).proposal.action == 'clarify'


# How the photo should look ("a nice photo", "une belle photo", "ein schönes Foto") is no part
# of the command's target.
@pytest.mark.parametrize('text, language, label', [
    ('take a nice photo of the bridge', 'en', 'bridge'),
    ('prends une belle photo du pont', 'fr', 'pont'),
    ('mach ein schönes Foto von der Brücke', 'de', 'Brücke'),
    ('haz una buena foto del puente', 'es', 'puente'),
    ('scatta una bella foto del ponte', 'it', 'ponte'),
])
def test_how_a_photo_should_look_is_not_its_target(text, language, label):
    _names(text, language, 'capture_photo', label)
    assert analyse(text).proposal.params == {'count': 1}


# A misspelt adverb after a complete command ("atterra subbito") is read past, never a target.
@pytest.mark.parametrize('text, language, action', [
    ('atterra subbito', 'it', 'land'), ('atterra imediatamente', 'it', 'land'),
    ('land immediatly', 'en', 'land'), ('pose-toi immédiatemment', 'fr', 'land'),
    ('aterriza inmediatamenet', 'es', 'land'),
])
def test_a_misspelt_adverb_is_read_past_not_a_target(text, language, action):
    result = _acts(text, language, action)
    assert result.proposal.target is None
    assert result.partial and result.proposal.confidence < 1.0


# Wrapping up and speed phrasal verbs: "time to head home", "we're done, come home", "crank it
# up to 10 m/s", "bring the speed down to 4 m/s"; Spanish "we" forms.
@pytest.mark.parametrize('text, language, action, params', [
    ('time to head home', 'en', 'return_to_home', {}),
    ("ok we're done, come home", 'en', 'return_to_home', {}),
    ("c'est bon, on a fini, rentre", 'fr', 'return_to_home', {}),
    ('wir sind fertig, komm heim', 'de', 'return_to_home', {}),
    ('hemos terminado, vuelve a casa', 'es', 'return_to_home', {}),
    ('abbiamo finito, torna alla base', 'it', 'return_to_home', {}),
    ('crank it up to 10 m/s', 'en', 'set_speed', _speed(10)),
    ('bring the speed down to 4 m/s', 'en', 'set_speed', _speed(4)),
    ('despegamos', 'es', 'takeoff', _alt(TAKEOFF_M)),
    ('subimos a 20 metros', 'es', 'change_altitude', _alt(20)),
    ('aterrizamos', 'es', 'land', {}),
])
def test_wrapping_up_speed_phrasals_and_spanish_we_forms(text, language, action, params):
    _read(text, language, action, params)


# Gaining or taking altitude by an amount is a climb by it ("prends 10 mètres d'altitude" was
# published as an altitude of 10 m); losing it, a descent.
@pytest.mark.parametrize('text, language, params', [
    ("prends 10 mètres d'altitude", 'fr', _delta(10)),
    ('gagne 10 mètres', 'fr', _delta(10)),
    ('perds 5 mètres', 'fr', _delta(-5)),
    ('prendi 10 metri di quota', 'it', _delta(10)),
    ('guadagna 10 metri', 'it', _delta(10)),
    ('perdi 5 metri', 'it', _delta(-5)),
    ('gana 10 metros de altura', 'es', _delta(10)),
    ('pierde 5 metros', 'es', _delta(-5)),
    ('take another 10 metres of altitude', 'en', _delta(10)),
    ('verliere 5 Meter', 'de', _delta(-5)),
    ('lève-toi à 30 mètres', 'fr', _alt(30)),
    ('abaisse-toi à 10 mètres', 'fr', _alt(10)),
    ("reprends de l'altitude, à 30 mètres", 'fr', _alt(30)),
])
def test_gaining_or_losing_altitude(text, language, params):
    _read(text, language, 'change_altitude', params)


# Putting the drone somewhere ("porta il drone a 30 metri", "mets le drone à 20 mètres"): a
# height, a move with a direction, as the positioning verbs.
@pytest.mark.parametrize('text, language, action, params', [
    ('porta il drone a 30 metri', 'it', 'change_altitude', _alt(30)),
    ('metti il drone a 20 metri di quota', 'it', 'change_altitude', _alt(20)),
    ('mets le drone à 20 mètres', 'fr', 'change_altitude', _alt(20)),
    ('bring the drone to 20 metres', 'en', 'change_altitude', _alt(20)),
    ('pon el dron a 20 metros', 'es', 'change_altitude', _alt(20)),
    ('bring die Drohne auf 20 Meter', 'de', 'change_altitude', _alt(20)),
    ('porta il drone 20 metri a nord', 'it', 'goto', _goto(0, 20)),
])
def test_putting_the_drone_somewhere(text, language, action, params):
    _read(text, language, action, params)


# "Don't exceed 5 m/s" names a speed limit, read as a whole like "max 5 m/s"; any other
# negated verb is still asked back.
@pytest.mark.parametrize('text, language', [
    ("don't exceed 5 m/s", 'en'), ('ne dépasse pas les 5 m/s', 'fr'),
    ('5 m/s nicht überschreiten', 'de'), ('no superes los 5 m/s', 'es'),
    ('non superare i 5 m/s', 'it'), ('non andare oltre i 5 metri al secondo', 'it'),
])
def test_do_not_exceed_is_a_speed_limit(text, language):
    _read(text, language, 'set_speed', _speed(5))


@pytest.mark.parametrize('text', ["don't exceed 30 m", 'non superare il ponte',
                                  'non andare oltre', "don't climb above 5 m/s"])
def test_exceeding_anything_but_a_speed_is_asked_back(text):
    assert analyse(text).proposal.action == 'clarify'


# Italian speed talk: "dai gas", "tieni i 5 m/s", "portala a 5 m/s", "vel 5".
@pytest.mark.parametrize('text, params', [
    ('dai gas, 10 m/s', _speed(10)), ('tieni i 5 m/s', _speed(5)),
    ('portala a 5 m/s', _speed(5)), ('vel 5 metri al secondo', _speed(5)),
])
def test_italian_speed_talk(text, params):
    _read(text, 'it', 'set_speed', params)


# Sea and air words for the sides (bâbord/tribord, babor/estribor, Backbord/Steuerbord,
# babordo/tribordo) and turning verbs (vire, braque, vira).
@pytest.mark.parametrize('text, language, params', [
    ('tourne à tribord de 20 degrés', 'fr', _yaw(20)),
    ('vire à bâbord de 30 degrés', 'fr', _yaw(-30)),
    ('braque à gauche de 20 degrés', 'fr', _yaw(-20)),
    ('gira a babor 20 grados', 'es', _yaw(-20)),
    ('vira a estribor 15 grados', 'es', _yaw(15)),
    ('dreh nach Steuerbord 20 Grad', 'de', _yaw(20)),
    ('vira a sinistra di 20 gradi', 'it', _yaw(-20)),
    ('gira a tribordo di 10 gradi', 'it', _yaw(10)),
])
def test_sea_and_air_words_for_the_sides(text, language, params):
    _read(text, language, 'rotate', params)


# A pronoun on the verb ("suis-moi ce camion", "repère-moi le camion") and "au-dessus de" /
# "sopra" are no part of the target's name.
@pytest.mark.parametrize('text, language, action, label', [
    ('suis-moi ce camion', 'fr', 'follow', 'camion'),
    ('repère-moi le camion', 'fr', 'search', 'camion'),
    ('fais des cercles au-dessus de la maison à 30 mètres', 'fr', 'orbit', 'maison'),
    ('gira sopra la casa a 30 metri', 'it', 'orbit', 'casa'),
])
def test_pronouns_and_above_are_not_the_target(text, language, action, label):
    _names(text, language, action, label)


# Searching: "inspecte", "scanne", "balaye", and a purpose ("to find the dog", "à la recherche
# du chien", "per trovare il cane") names the target; what comes before it is the area.
@pytest.mark.parametrize('text, language, label', [
    ('inspecte le champ', 'fr', 'champ'),
    ('scanne la zone à la recherche du chien', 'fr', 'chien'),
    ('balaye le secteur pour trouver le chien', 'fr', 'chien'),
    ('sweep the field to find the dog', 'en', 'dog'),
    ('perlustra il bosco per trovare il ragazzo', 'it', 'ragazzo'),
    ('recorre la zona en busca del perro', 'es', 'perro'),
])
def test_a_search_purpose_names_the_target(text, language, label):
    _names(text, language, 'search', label)


# A full turn on the spot ("do a 360", "fais un tour sur toi-même", "dreh dich einmal im
# Kreis", "date una vuelta completa", "fai un giro su te stesso") is 360 degrees; the same
# words around something stay an orbit.
@pytest.mark.parametrize('text, language', [
    ('do a 360', 'en'), ('do a full turn to the left', 'en'),
    ('fais un tour sur toi-même', 'fr'), ('dreh dich einmal im Kreis', 'de'),
    ('date una vuelta completa', 'es'), ('fai un giro su te stesso', 'it'),
])
def test_a_full_turn_on_the_spot_is_360_degrees(text, language):
    proposal = _acts(text, language, 'rotate').proposal
    assert abs(proposal.params['yaw_deg']) == 360
    assert (proposal.params['yaw_deg'] < 0) == ('left' in text)


@pytest.mark.parametrize('text, language', [
    ('fais un tour complet autour de la tour à 20 mètres', 'fr'),
    ('fai un giro completo intorno alla torre a 20 metri', 'it'),
])
def test_a_full_turn_around_something_is_an_orbit(text, language):
    _read(text, language, 'orbit', {'radius_m': 20, 'direction': 'clockwise'})


# German: "dranbleiben" split around its object ("bleib am Lkw dran"), "da drüben" (over
# there) no part of a target; going down onto something is landing on it, in each language.
@pytest.mark.parametrize('text, language, action, label', [
    ('bleib am Lkw dran', 'de', 'follow', 'Lkw'),
    ('bleib an dem weißen Auto dran', 'de', 'follow', 'weißen Auto'),
    ('lande mal da drüben auf der Wiese', 'de', 'land', 'Wiese'),
    ('geh runter auf die Plattform', 'de', 'land', 'Plattform'),
    ('go down onto the red pad', 'en', 'land', 'red pad'),
    ('descends sur la plateforme', 'fr', 'land', 'plateforme'),
    ('baja a la plataforma azul', 'es', 'land', 'plataforma azul'),
    ('scendi sulla piattaforma', 'it', 'land', 'piattaforma'),
])
def test_german_split_follow_over_there_and_going_down_onto(text, language, action, label):
    _names(text, language, action, label)


@pytest.mark.parametrize('text', ['climb onto the roof', 'sali sul tetto'])
def test_going_up_onto_something_is_no_landing(text):
    assert analyse(text).proposal.action != 'land'


# A count of turns is laps or spins, never degrees: the word after a number said without its
# unit is that number's unit, not a second verb ("giri" is also "you turn").
@pytest.mark.parametrize('text', [
    'gira due giri a destra', 'fai tre giri a sinistra', 'ruota di due giri',
    'da dos vueltas a la derecha',
    'fais deux tours à droite', 'dreh dich zwei Umdrehungen nach links',
])
def test_a_count_of_turns_is_never_read_as_degrees(text):
    proposal = analyse(text).proposal
    assert proposal.action == 'clarify', proposal


@pytest.mark.parametrize('text, language, action, params', [
    ('giri a destra di 90 gradi', 'it', 'rotate', _yaw(90.0)),
    ('auf 30 steigen', 'de', 'change_altitude', _alt(30.0)),
    ('gira a destra di 45', 'it', 'rotate', _yaw(45.0)),
])
def test_a_verb_after_a_number_still_reads_where_it_is_the_verb(text, language, action, params):
    _read(text, language, action, params)


# The noun of a verb that qualifies a target ("landing pad", "piattaforma di atterraggio") is
# part of the target's name beside a motion verb: flying to the landing pad is no landing.
@pytest.mark.parametrize('text, label', [
    ('fly to the red landing pad', 'red landing pad'),
    ('head over to the landing pad', 'landing pad'),
    ('vola verso la piattaforma di atterraggio rossa', 'piattaforma di atterraggio rossa'),
    ('ve a la plataforma de aterrizaje azul', 'plataforma de aterrizaje azul'),
    ("va vers la plateforme d'atterrissage", "plateforme d'atterrissage"),
])
def test_a_landing_pad_named_beside_a_motion_verb_is_the_target_not_a_landing(text, label):
    proposal = analyse(text).proposal
    assert (proposal.action, proposal.target.label) == ('goto', label)


@pytest.mark.parametrize('text', ['land on the red landing pad', 'go for landing',
                                  'atterra sulla piattaforma di atterraggio'])
def test_a_landing_said_as_the_command_still_lands(text):
    assert analyse(text).proposal.action == 'land'
