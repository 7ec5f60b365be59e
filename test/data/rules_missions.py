"""Mission tables for the rule parser, per language: step phrases with the step each means,
the connectors that join them, and hand-written cases (merges, contradictions, order words)."""

N = 0.0  # compass north

# phrase -> (action, params, target label); every phrase is also a valid single command.
STEPS = {
    'en': [
        ('take off to 20 m', ('takeoff', {'altitude_m': 20.0}, None)),
        ('climb to 40 m', ('change_altitude', {'altitude_m': 40.0}, None)),
        ('fly north 50 m', ('goto', {'heading_deg': N, 'distance_m': 50.0}, None)),
        ('turn right 90 degrees', ('rotate', {'yaw_deg': 90.0}, None)),
        ('take 2 photos', ('capture_photo', {'count': 2}, None)),
        ('hold for 10 seconds', ('hold', {'duration_s': 10.0}, None)),
        ('set speed to 5 m/s', ('set_speed', {'speed_mps': 5.0}, None)),
        ('fly to the red car', ('goto', {}, 'red car')),
        ('land', ('land', {}, None)),
        ('return home', ('return_to_home', {}, None)),
    ],
    'fr': [
        ('décolle à 20 m', ('takeoff', {'altitude_m': 20.0}, None)),
        ('monte à 40 m', ('change_altitude', {'altitude_m': 40.0}, None)),
        ('vole vers le nord 50 m', ('goto', {'heading_deg': N, 'distance_m': 50.0}, None)),
        ('tourne à droite de 90 degrés', ('rotate', {'yaw_deg': 90.0}, None)),
        ('prends 2 photos', ('capture_photo', {'count': 2}, None)),
        ('attends 10 secondes', ('hold', {'duration_s': 10.0}, None)),
        ('vitesse 5 m/s', ('set_speed', {'speed_mps': 5.0}, None)),
        ('va vers la voiture rouge', ('goto', {}, 'voiture rouge')),
        ('atterris', ('land', {}, None)),
        ('rentre à la maison', ('return_to_home', {}, None)),
    ],
    'de': [
        ('starte auf 20 m', ('takeoff', {'altitude_m': 20.0}, None)),
        ('steig auf 40 m', ('change_altitude', {'altitude_m': 40.0}, None)),
        ('flieg 50 m nach Norden', ('goto', {'heading_deg': N, 'distance_m': 50.0}, None)),
        ('dreh dich 90 Grad nach rechts', ('rotate', {'yaw_deg': 90.0}, None)),
        ('mach 2 Fotos', ('capture_photo', {'count': 2}, None)),
        ('warte 10 Sekunden', ('hold', {'duration_s': 10.0}, None)),
        ('Geschwindigkeit 5 m/s', ('set_speed', {'speed_mps': 5.0}, None)),
        ('flieg zum roten Auto', ('goto', {}, 'roten Auto')),
        ('lande', ('land', {}, None)),
        ('flieg nach Hause', ('return_to_home', {}, None)),
    ],
    'es': [
        ('despega a 20 m', ('takeoff', {'altitude_m': 20.0}, None)),
        ('sube a 40 m', ('change_altitude', {'altitude_m': 40.0}, None)),
        ('vuela al norte 50 m', ('goto', {'heading_deg': N, 'distance_m': 50.0}, None)),
        ('gira a la derecha 90 grados', ('rotate', {'yaw_deg': 90.0}, None)),
        ('toma 2 fotos', ('capture_photo', {'count': 2}, None)),
        ('espera 10 segundos', ('hold', {'duration_s': 10.0}, None)),
        ('velocidad 5 m/s', ('set_speed', {'speed_mps': 5.0}, None)),
        ('ve al coche rojo', ('goto', {}, 'coche rojo')),
        ('aterriza', ('land', {}, None)),
        ('vuelve a casa', ('return_to_home', {}, None)),
    ],
    'it': [
        ('decolla a 20 m', ('takeoff', {'altitude_m': 20.0}, None)),
        ('sali a 40 m', ('change_altitude', {'altitude_m': 40.0}, None)),
        ('vola a nord per 50 m', ('goto', {'heading_deg': N, 'distance_m': 50.0}, None)),
        ('gira a destra di 90 gradi', ('rotate', {'yaw_deg': 90.0}, None)),
        ('scatta 2 foto', ('capture_photo', {'count': 2}, None)),
        ('aspetta 10 secondi', ('hold', {'duration_s': 10.0}, None)),
        ('velocità 5 m/s', ('set_speed', {'speed_mps': 5.0}, None)),
        ("vai verso l'auto rossa", ('goto', {}, 'auto rossa')),
        ('atterra', ('land', {}, None)),
        ('torna a casa', ('return_to_home', {}, None)),
    ],
}

CONNECTORS = {
    'en': [' and ', ', then ', ', ', '. ', ' then ', ', after that ', ' and then ', '; '],
    'fr': [' et ', ', puis ', ', ', '. ', ' puis ', ', ensuite ', ' et ensuite ', '; '],
    'de': [' und ', ', dann ', ', ', '. ', ' danach ', ', und dann ', ' und danach ', '; '],
    'es': [' y ', ', luego ', ', ', '. ', ' después ', ', y luego ', ' y después ', '; '],
    'it': [' e ', ', poi ', ', ', '. ', ' quindi ', ', e poi ', ' e quindi ', '; '],
}

# Hand-written: command -> expected steps (one step: a single decision, not a mission).
SPECIAL = {
    'en': [
        ('take off and climb to 25 meters', [('takeoff', {'altitude_m': 25.0}, None)]),
        ('take off and climb 15 m', [('takeoff', {'altitude_m': 15.0}, None)]),
        ('return home and land', [('return_to_home', {}, None)]),
        ('take off to 10 m, then fly north 20 m, finally land',
         [('takeoff', {'altitude_m': 10.0}, None),
          ('goto', {'heading_deg': N, 'distance_m': 20.0}, None), ('land', {}, None)]),
        ('take off to 10 m, fly north, 50 m, then land',
         [('takeoff', {'altitude_m': 10.0}, None),
          ('goto', {'heading_deg': N, 'distance_m': 50.0}, None), ('land', {}, None)]),
        ('climb 10 m then descend 5 m',
         [('change_altitude', {'delta_m': 10.0}, None),
          ('change_altitude', {'delta_m': -5.0}, None)]),
    ],
    'fr': [('décolle et monte à 25 m', [('takeoff', {'altitude_m': 25.0}, None)])],
    'de': [('starte und steig auf 25 m', [('takeoff', {'altitude_m': 25.0}, None)]),
           ('starte auf 10 m, dann kehr zum Start zurück',
            [('takeoff', {'altitude_m': 10.0}, None), ('return_to_home', {}, None)]),
           ('starte auf 20 m und flieg dann 50 m nach Norden, danach lande',
            [('takeoff', {'altitude_m': 20.0}, None),
             ('goto', {'heading_deg': N, 'distance_m': 50.0}, None), ('land', {}, None)])],
    'es': [('despega y sube a 25 m', [('takeoff', {'altitude_m': 25.0}, None)])],
    'it': [('decolla e sali a 25 m', [('takeoff', {'altitude_m': 25.0}, None)])],
}

# command -> clarify reason: missions the parser must not guess.
CLARIFY = {
    'en': [('climb and descend', 'contradiction'), ('take off and land', 'contradiction'),
           ('land before taking a photo', 'multi'), ('fly north after taking off', 'multi'),
           ('take off, then fly north', 'missing'),
           ('take off to 10 m, then climb and descend', 'contradiction')],
    'fr': [('monte et descends', 'contradiction'), ('décolle et atterris', 'contradiction'),
           ('décolle à 10 m puis vole vers le nord', 'missing')],
    'de': [('steig und sinke', 'contradiction'), ('starte und flieg dann nach Norden', 'missing'),
           ('lande, vorher mach ein Foto', 'multi')],
    'es': [('sube y baja', 'contradiction'), ('despega y luego vuela al norte', 'missing'),
           ('aterriza antes de tomar una foto', 'multi')],
    'it': [('sali e scendi', 'contradiction'), ('decolla e poi vola a nord', 'missing')],
}


def generated(lang):
    """Missions of 2, 3 and 4 steps from windows over the step phrases, connectors cycled."""
    steps, joins = STEPS[lang], CONNECTORS[lang]
    cases, turn = [], 0
    for size in (2, 3, 4):
        for start in range(len(steps)):
            window = [steps[(start + k) % len(steps)] for k in range(size)]
            text = window[0][0]
            for phrase, _ in window[1:]:
                join = joins[turn % len(joins)]
                turn += 1
                text += join + (phrase[:1].upper() + phrase[1:] if join == '. ' else phrase)
            cases.append((text, [expected for _, expected in window]))
    return cases
