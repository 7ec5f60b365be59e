"""Rule parser, English commands."""

import pytest
from rules_support import check_casual, check_clarify, check_parse, check_reply

FT = 0.3048
OFF = {'forward_m': 0.0, 'right_m': 0.0, 'up_m': 0.0}

PARSES = [
    # command, action, params, target label
    ('take off to 30 m', 'takeoff', {'altitude_m': 30}, None),
    ('Take off to 100 feet', 'takeoff', {'altitude_m': 100 * FT}, None),
    ('takeoff 12.5 meters', 'takeoff', {'altitude_m': 12.5}, None),
    ('lift off to twenty five metres', 'takeoff', {'altitude_m': 25}, None),
    ('take off to 1,000 ft', 'takeoff', {'altitude_m': 1000 * FT}, None),
    ('drone, take off to 10 m please', 'takeoff', {'altitude_m': 10}, None),
    ('land', 'land', {}, None),
    ('please land now', 'land', {}, None),
    ('land on the red pad', 'land', {}, 'red pad'),
    ('land on the landing pad', 'land', {}, 'landing pad'),
    ('land on the left pad', 'land', {}, 'left pad'),
    ('hover', 'hold', {'duration_s': None}, None),
    ('hold position for 30 seconds', 'hold', {'duration_s': 30}, None),
    ('wait two minutes', 'hold', {'duration_s': 120}, None),
    ('hover for half a minute', 'hold', {'duration_s': 30}, None),
    ('return home', 'return_to_home', {}, None),
    ('RTL', 'return_to_home', {}, None),
    ('go home', 'return_to_home', {}, None),
    ('come back', 'return_to_home', {}, None),
    ('fly forward 10 m', 'goto', {**OFF, 'forward_m': 10}, None),
    ('move 5 m to the left', 'goto', {**OFF, 'right_m': -5}, None),
    ('go back 3 meters', 'goto', {**OFF, 'forward_m': -3}, None),
    ('fly forward 10 m and right 5 m', 'goto', {**OFF, 'forward_m': 10, 'right_m': 5}, None),
    ('move up 5 m', 'goto', {**OFF, 'up_m': 5}, None),
    ('fly north 50 m', 'goto', {'heading_deg': 0, 'distance_m': 50}, None),
    ('head north-east for 2 km', 'goto', {'heading_deg': 45, 'distance_m': 2000}, None),
    ('fly 100 yards south west', 'goto', {'heading_deg': 225, 'distance_m': 91.44}, None),
    ('fly NE 100 m', 'goto', {'heading_deg': 45, 'distance_m': 100}, None),
    ('fly heading 270 for 1 mile', 'goto', {'heading_deg': 270, 'distance_m': 1609.344}, None),
    ('fly to the red car', 'goto', {}, 'red car'),
    ('fly to the car on the left', 'goto', {}, 'car on the left'),
    ('fly to the bus stop', 'goto', {}, 'bus stop'),
    ('fly north north east 100 m', 'goto', {'heading_deg': 22.5, 'distance_m': 100}, None),
    ('climb to 30 m', 'change_altitude', {'altitude_m': 30}, None),
    ('climb 10 m', 'change_altitude', {'delta_m': 10}, None),
    ('climb by 15 feet', 'change_altitude', {'delta_m': 15 * FT}, None),
    ('descend 5 m', 'change_altitude', {'delta_m': -5}, None),
    ('descend to 2.5 m', 'change_altitude', {'altitude_m': 2.5}, None),
    ('go up 10 m more', 'change_altitude', {'delta_m': 10}, None),
    ('10 m higher', 'change_altitude', {'delta_m': 10}, None),
    ('set altitude to 50 m', 'change_altitude', {'altitude_m': 50}, None),
    ('climb to 900 m', 'change_altitude', {'altitude_m': 900}, None),
    ('set speed to 5 m/s', 'set_speed', {'speed_mps': 5}, None),
    ('speed 36 km/h', 'set_speed', {'speed_mps': 10}, None),
    ('fly at 10 knots', 'set_speed', {'speed_mps': 10 * 1852 / 3600}, None),
    ('slow down to 2 m/s', 'set_speed', {'speed_mps': 2}, None),
    ('speed 20 mph', 'set_speed', {'speed_mps': 20 * 0.44704}, None),
    ('turn left 90°', 'rotate', {'yaw_deg': -90}, None),
    ('turn right 45 degrees', 'rotate', {'yaw_deg': 45}, None),
    ('rotate 30 degrees counterclockwise', 'rotate', {'yaw_deg': -30}, None),
    ('turn around', 'rotate', {'yaw_deg': 180}, None),
    ('face north', 'rotate', {'heading_deg': 0}, None),
    ('face east', 'rotate', {'heading_deg': 90}, None),
    ('turn to heading 270', 'rotate', {'heading_deg': 270}, None),
    ('orbit the tower at 20 m clockwise', 'orbit',
     {'radius_m': 20, 'direction': 'clockwise'}, 'tower'),
    ('circle around the red house with a radius of 30 m counterclockwise', 'orbit',
     {'radius_m': 30, 'direction': 'counterclockwise'}, 'red house'),
    ('follow the blue car', 'follow', {'distance_m': None}, 'blue car'),
    ('follow me', 'follow', {'distance_m': None}, 'me'),
    ('follow the red one', 'follow', {'distance_m': None}, 'red one'),
    ('track the man in the red jacket at 15 m', 'follow', {'distance_m': 15},
     'man in the red jacket'),
    ('search for a person in a red jacket', 'search', {'radius_m': None},
     'person in a red jacket'),
    ('look for a white van within 200 m', 'search', {'radius_m': 200}, 'white van'),
    ('take a photo', 'capture_photo', {'count': 1}, None),
    ('take 3 photos', 'capture_photo', {'count': 3}, None),
    ('take a dozen pictures of the bridge', 'capture_photo', {'count': 12}, 'bridge'),
    ('snap a picture of the house', 'capture_photo', {'count': 1}, 'house'),
    ('stop', 'stop', {}, None),
    ('EMERGENCY STOP!', 'stop', {}, None),
    ('abort', 'stop', {}, None),
    ('no, stop!', 'stop', {}, None),
]

CLARIFIES = [
    # command, reason
    ('climb', 'missing'),
    ('take off', 'missing'),
    ('fly north', 'missing'),
    ('forward', 'missing'),
    ('take a photo every 10 seconds', 'conditional'),
    ('turn left', 'missing'),
    ('follow', 'missing'),
    ('search', 'missing'),
    ('take photos', 'missing'),
    ('orbit the tower', 'missing'),
    ('fly', 'missing'),
    ('speed up', 'missing'),
    ('increase by 5', 'missing'),
    ('speed -5', 'invalid'),
    ('speed up by 2 m/s', 'invalid'),
    ('take 500 photos', 'invalid'),
    ('turn 720 degrees', 'invalid'),
    ('take off and then fly north 50 m', 'missing'),  # the takeoff altitude
    ("don't land", 'negation'),
    ('do not take off', 'negation'),
    ('climb and descend', 'contradiction'),
    ('turn left and right 90 degrees', 'contradiction'),
    ('land if the battery is low', 'conditional'),
    ('asdf qwer', 'unknown'),
    ('take off to 30 m over the house', 'unknown_words'),
    ('climb 10 m in 5 seconds', 'unused'),
    ('fly north 50 m at 5 m/s', 'unused'),
    ('follow the car at 10 m behind the truck', 'ambiguous'),
    ('where are you?', 'question'),
    ('fly left to the car', 'unused'),
    ('asdf land', 'unknown_words'),  # words before the verb are no target in English
    ('hover at 10 m', 'unused'),
]

REPLIES = [
    ('what can you do?', 'answer'),
    ('help', 'answer'),
    ('what do you see?', 'reject'),
    ('is there a car on the road?', 'reject'),
]


@pytest.mark.parametrize('command, action, params, label', PARSES)
def test_parses(command, action, params, label):
    check_parse(command, action, params, label, 'en')


@pytest.mark.parametrize('command, reason', CLARIFIES)
def test_asks_back(command, reason):
    check_clarify(command, reason, 'en')


@pytest.mark.parametrize('command, action', REPLIES)
def test_questions(command, action):
    check_reply(command, action, 'en')


CASUAL = [
    # radio-style phrasing: fillers, colloquial verbs, abbreviations, typos (ignored words)
    ('right, fly sixty metres due north', 'goto', {'heading_deg': 0, 'distance_m': 60}, None,
     ()),
    ('ok so now climb to 40 m please', 'change_altitude', {'altitude_m': 40}, None, ()),
    ('well, turn right 90 degrees', 'rotate', {'yaw_deg': 90}, None, ()),
    ('roger, descend five metres, over', 'change_altitude', {'delta_m': -5}, None, ()),
    ('bring her home', 'return_to_home', {}, None, ()),
    ('alright mate, bring it back', 'return_to_home', {}, None, ()),
    ('put it down on the red pad', 'land', {}, 'red pad', ()),
    ('set her down', 'land', {}, None, ()),
    ('hop up to 20 m', 'change_altitude', {'altitude_m': 20}, None, ()),
    ('bump up the altitude by 10 m', 'change_altitude', {'delta_m': 10}, None, ()),
    ('scoot 5 m to the left', 'goto', {**OFF, 'right_m': -5}, None, ()),
    ('alt 25', 'change_altitude', {'altitude_m': 25}, None, ()),
    ('right, 20 m', 'goto', {**OFF, 'right_m': 20}, None, ()),  # no verb: still a direction
    ('lift 10 m', 'change_altitude', {'delta_m': 10}, None, ()),  # never "left 10 m"
    ('fine, land', 'land', {}, None, ()),
    ('copy, heading two seven zero', 'rotate', {'heading_deg': 270}, None, ()),
    ('fly north one zero zero metres', 'goto', {'heading_deg': 0, 'distance_m': 100}, None,
     ()),
    ('climb and maintain 120 feet', 'change_altitude', {'altitude_m': 120 * FT}, None, ()),
    ('hold it right there', 'hold', {'duration_s': None}, None, ()),
    ('snap a couple of pics', 'capture_photo', {'count': 2}, None, ()),
    ('initiate landing', 'land', {}, None, ()),
    ('head back home', 'return_to_home', {}, None, ()),
    ('land, over and out', 'land', {}, None, ()),
    ('take off to 20 m please, thanks', 'takeoff', {'altitude_m': 20}, None, ()),
    ('alt 100 ft', 'change_altitude', {'altitude_m': 100 * FT}, None, ()),
    ('spd 10 kts', 'set_speed', {'speed_mps': 10 * 1852 / 3600}, None, ()),
    ('hdg 090', 'rotate', {'heading_deg': 90}, None, ()),
    ('fwd 20 m', 'goto', {**OFF, 'forward_m': 20}, None, ()),
    ('tunr left forty five degrees', 'rotate', {'yaw_deg': -45}, None, ('tunr',)),
    ('go nroth 50 m', 'goto', {'heading_deg': 0, 'distance_m': 50}, None, ('nroth',)),
    ('fly 20 m lfet', 'goto', {**OFF, 'right_m': -20}, None, ('lfet',)),
    ('climb to 30 m straightaway', 'change_altitude', {'altitude_m': 30}, None,
     ('straightaway',)),
    ('take off to ten, head thirty metres west, grab two pictures and bring it back',
     'mission', [('takeoff', {'altitude_m': 10}), ('goto', {'heading_deg': 270, 'distance_m': 30}),
                 ('capture_photo', {'count': 2}), ('return_to_home', {})], None, ()),
    ('alright, head west sixty metres then land', 'mission',
     [('goto', {'heading_deg': 270, 'distance_m': 60}), ('land', {})], None, ()),
    ('fly fwd 30 m then RTH', 'mission',
     [('goto', {**OFF, 'forward_m': 30}), ('return_to_home', {})], None, ()),
]

NEVER_READ_PAST = [
    # negations, unknown verbs and target words still ask back
    ("ok so don't land", 'negation'),
    ('right, do not climb', 'negation'),
    ('asdf land', 'unknown_words'),
    ('take off to 30 m over the house', 'unknown_words'),
    ('dnot land', 'unknown_words'),  # one letter from a negation: never read past
    ('climb to 30 m except near the trees', 'conditional'),
    ('nroth 50 m', 'unknown'),  # a direction typo is read only after a verb or number
]


@pytest.mark.parametrize('command, action, params, label, ignored', CASUAL)
def test_reads_radio_speech(command, action, params, label, ignored):
    check_casual(command, action, params, label, 'en', ignored)


@pytest.mark.parametrize('command, reason', NEVER_READ_PAST)
def test_never_reads_past_negations_verbs_or_targets(command, reason):
    check_clarify(command, reason, 'en')


def test_halt_alone_still_stops():
    check_parse('Halt!', 'stop', {}, None, 'en')
