"""Rule parser, German commands (umlauts and ß optional)."""

import pytest
from rules_support import check_casual, check_clarify, check_parse, check_reply

OFF = {'forward_m': 0.0, 'right_m': 0.0, 'up_m': 0.0}

PARSES = [
    ('starte auf 30 Meter', 'takeoff', {'altitude_m': 30}, None),
    ('Starte auf dreißig Meter', 'takeoff', {'altitude_m': 30}, None),
    ('starte auf dreissig meter', 'takeoff', {'altitude_m': 30}, None),
    ('heb ab auf zweihundertfünfzig Fuß', 'takeoff', {'altitude_m': 250 * 0.3048}, None),
    ('lande', 'land', {}, None),
    ('Lande auf dem roten Landeplatz', 'land', {}, 'roten Landeplatz'),
    ('warte 10 Sekunden', 'hold', {'duration_s': 10}, None),
    ('schwebe eine Minute lang', 'hold', {'duration_s': 60}, None),
    ('kehre zurück', 'return_to_home', {}, None),
    # separable verbs: the particle closes the clause
    ('kehr zum Startpunkt zurück!', 'return_to_home', {}, None),
    ('komm zum Start zurück', 'return_to_home', {}, None),
    ('flieg nach Hause', 'return_to_home', {}, None),
    ('flieg 10 Meter vorwärts', 'goto', {**OFF, 'forward_m': 10}, None),
    ('flieg 5 m nach links', 'goto', {**OFF, 'right_m': -5}, None),
    ('flieg 3 m zurück', 'goto', {**OFF, 'forward_m': -3}, None),
    ('fliege 30 Fuß nach oben', 'goto', {**OFF, 'up_m': 9.144}, None),
    ('flieg 50 m nach Norden', 'goto', {'heading_deg': 0, 'distance_m': 50}, None),
    ('flieg 2,5 km nach Nordosten', 'goto', {'heading_deg': 45, 'distance_m': 2500}, None),
    ('flieg 100 m Richtung Süd-West', 'goto', {'heading_deg': 225, 'distance_m': 100}, None),
    ('steig auf 50 m', 'change_altitude', {'altitude_m': 50}, None),
    ('steige um 10 Meter', 'change_altitude', {'delta_m': 10}, None),
    # a half after the article in every case: eine halbe, einen halben, einem/einer halben
    ('such im Umkreis von einem halben Kilometer nach dem Auto', 'search', {'radius_m': 500},
     'Auto'),
    ('warte einer halben Minute', 'hold', {'duration_s': 30}, None),
    ('steig fünfundzwanzig Meter höher', 'change_altitude', {'delta_m': 25}, None),
    ('hoeher um 10 m', 'change_altitude', {'delta_m': 10}, None),
    ('hoher um 10 m', 'change_altitude', {'delta_m': 10}, None),
    ('sinke um 5 m', 'change_altitude', {'delta_m': -5}, None),
    ('sinke auf zwanzig Meter', 'change_altitude', {'altitude_m': 20}, None),
    ('Geschwindigkeit 5 m/s', 'set_speed', {'speed_mps': 5}, None),
    ('setze die Geschwindigkeit auf 18 km/h', 'set_speed', {'speed_mps': 5}, None),
    ('dreh dich 90 Grad nach links', 'rotate', {'yaw_deg': -90}, None),
    ('drehe 45° nach rechts', 'rotate', {'yaw_deg': 45}, None),
    ('dreh dich um', 'rotate', {'yaw_deg': 180}, None),
    ('richte dich nach Norden aus', 'rotate', {'heading_deg': 0}, None),
    ('umkreise den Turm mit 20 m Radius im Uhrzeigersinn', 'orbit',
     {'radius_m': 20, 'direction': 'clockwise'}, 'Turm'),
    ('umkreise das Haus mit 15 m Radius gegen den Uhrzeigersinn', 'orbit',
     {'radius_m': 15, 'direction': 'counterclockwise'}, 'Haus'),
    ('folge dem roten Auto', 'follow', {'distance_m': None}, 'roten Auto'),
    ('folge dem roten Auto in 10 m Abstand', 'follow', {'distance_m': 10}, 'roten Auto'),
    ('folge mir', 'follow', {'distance_m': None}, 'mir'),
    ('folge der Straße', 'follow', {'distance_m': None}, 'Straße'),
    ('suche eine Person mit roter Jacke', 'search', {'radius_m': None},
     'Person mit roter Jacke'),
    ('suche nach einem weißen Lieferwagen im Umkreis von 300 m', 'search',
     {'radius_m': 300}, 'weißen Lieferwagen'),
    ('mach ein Foto', 'capture_photo', {'count': 1}, None),
    ('mach zwei Fotos von der Brücke', 'capture_photo', {'count': 2}, 'Brücke'),
    ('stopp', 'stop', {}, None),
    ('Notstopp!', 'stop', {}, None),
    ('Kannst du landen?', 'land', {}, None),
    ('flieg geradeaus 20 Meter', 'goto', {**OFF, 'forward_m': 20}, None),
    ('geh auf 40 Meter Höhe', 'change_altitude', {'altitude_m': 40}, None),
    ('dreh dich nach Osten', 'rotate', {'heading_deg': 90}, None),
    ('fliege Kurs 90 für 200 m', 'goto', {'heading_deg': 90, 'distance_m': 200}, None),
    ('halte die Position für 30 Sekunden', 'hold', {'duration_s': 30}, None),
    ('fliege mit 10 km/h', 'set_speed', {'speed_mps': 10 / 3.6}, None),
    ('langsamer auf 2 m/s', 'set_speed', {'speed_mps': 2}, None),
    ('brich ab', 'stop', {}, None),
    ('dem roten Auto folgen', 'follow', {'distance_m': None}, 'roten Auto'),
    ('auf dem Landeplatz landen', 'land', {}, 'Landeplatz'),
]

CLARIFIES = [
    ('steig', 'missing'),
    ('folge', 'missing'),
    ('lande nicht', 'negation'),
    ('starte und flieg dann nach Norden', 'missing'),
    ('steig und sinke', 'contradiction'),
    ('Geschwindigkeit -5', 'invalid'),
    ('wenn du ein Auto siehst, lande', 'conditional'),
    ('mach das Ding da', 'unknown'),
    ('nicht landen', 'negation'),
    ('dreh dich nach rechts', 'missing'),
]

REPLIES = [
    ('was kannst du?', 'answer'),
    ('Hilfe', 'answer'),
    ('was siehst du?', 'reject'),
    ('Gibt es hier Autos?', 'reject'),
]


@pytest.mark.parametrize('command, action, params, label', PARSES)
def test_parses(command, action, params, label):
    check_parse(command, action, params, label, 'de')


@pytest.mark.parametrize('command, reason', CLARIFIES)
def test_asks_back(command, reason):
    check_clarify(command, reason, 'de')


@pytest.mark.parametrize('command, action', REPLIES)
def test_questions(command, action):
    check_reply(command, action, 'de')


CASUAL = [
    ('heb ab, zwanzig Meter, und dann ab nach Norden 30 Meter', 'mission',
     [('takeoff', {'altitude_m': 20}), ('goto', {'heading_deg': 0, 'distance_m': 30})], None,
     ()),
    ('ja gut, dann flieg halt heim', 'return_to_home', {}, None, ()),
    ('jo, dann dreh dich halt 90 Grad nach rechts', 'rotate', {'yaw_deg': 90}, None, ()),
    ('na los, heb ab auf 20 Meter', 'takeoff', {'altitude_m': 20}, None, ()),
    ('komm, flieg mal 30 Meter nach links', 'goto', {**OFF, 'right_m': -30}, None, ()),
    ('ab nach Hause', 'return_to_home', {}, None, ()),
    ('Tempo auf 36 km/h setzen', 'set_speed', {'speed_mps': 10}, None, ()),
    ('Auf 30 Meter steigen', 'change_altitude', {'altitude_m': 30}, None, ()),
    ('Drei Fotos machen', 'capture_photo', {'count': 3}, None, ()),
    ('Landung einleiten', 'land', {}, None, ()),
    ('also gut, zurück zum Startpunkt', 'return_to_home', {}, None, ()),
    ("los geht's, abheben auf 15 Meter", 'takeoff', {'altitude_m': 15}, None, ()),
    ('auf 20 Meter runtergehen', 'change_altitude', {'altitude_m': 20}, None, ()),
    ('schwebe mal kurz 5 Sekunden', 'hold', {'duration_s': 5}, None, ()),
    ('steig auf eins zwei null Meter', 'change_altitude', {'altitude_m': 120}, None, ()),
    ('Nach Norden 50 Meter fliegen', 'goto', {'heading_deg': 0, 'distance_m': 50}, None, ()),
    ('dreh dich 90 Grad nach rehcts', 'rotate', {'yaw_deg': 90}, None, ('rehcts',)),
]

NEVER_READ_PAST = [
    ('na gut, nicht landen', 'negation'),
    ('los, kein Start', 'negation'),
    ('nich landen', 'unknown_words'),  # a misspelt negation is never a target or skipped
    ('mach zwei drei Fotos', 'unused'),  # two or three: never read as 23
]


@pytest.mark.parametrize('command, action, params, label, ignored', CASUAL)
def test_reads_radio_speech(command, action, params, label, ignored):
    check_casual(command, action, params, label, 'de', ignored)


@pytest.mark.parametrize('command, reason', NEVER_READ_PAST)
def test_never_reads_past_negations(command, reason):
    check_clarify(command, reason, 'de')


@pytest.mark.parametrize('command', ['Halt!', 'Halt, sofort!', 'halt an'])
def test_halt_as_a_command_still_stops(command):
    check_parse(command, 'stop', {}, None, 'en' if command == 'Halt!' else 'de')
