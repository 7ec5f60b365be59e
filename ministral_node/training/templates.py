"""Operator commands in English, French, German, Spanish and Italian, from paraphrase templates.

Every template belongs to an intent (what the operator wants) and fills slots: `{alt}`,
`{dist}`, `{speed}`, `{deg}`, `{sec}`, `{radius}`, `{count}` (numbers with a unit, in that
language's writing), `{dir}` (forward/back/left/right), `{cmp}` (a compass direction), `{rot}`
(clockwise or not) and `{np}` (the target's noun phrase, article included, in the case the
template needs: `{np}`, `{np_dat}`, `{np_de}`, `{np_a}`). `HELD_OUT` templates (and added ones
starting with `* `) never appear in training data, only in the held-out split.

`load_extensions(path)` adds templates, nouns and scene classes from a YAML file (see
`EXTENSION_EXAMPLE`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from ministral_node.training import writing

LANGUAGES = ('en', 'fr', 'de', 'es', 'it')
HELD_OUT_MARK = '* '


@dataclass(frozen=True)
class Template:
    """One paraphrase of an intent in one language."""

    intent: str
    language: str
    text: str
    held_out: bool

    @property
    def key(self) -> str:
        return f'{self.language}:{self.intent}:{self.text}'


# Templates ------------------------------------------------------------------------------------
# Intents: takeoff, land, land_on, hold, hold_for, home, move, fly_compass, climb_to, climb_by,
# descend_to, descend_by, speed, turn_left, turn_right, face, orbit, orbit_dir, follow,
# follow_at, goto_target, search, photo, photo_of, stop, uturn, search_radius, capabilities,
# stunt, negation, offtopic, nonsense, vague_climb, vague_takeoff; `mission` joins several
# step intents with CONNECTORS.

TEMPLATES: dict[str, dict[str, list[str]]] = {
    'en': {
        'takeoff': ['take off to {alt}', 'takeoff {alt}', 'lift off to {alt}', 'take off, {alt}',
                    'get airborne to {alt}', 'launch to {alt}',
                    'please take off and climb to {alt}'],
        'land': ['land', 'land now', 'please land', 'touch down'],
        'land_on': ['land on {np}', 'touch down on {np}', 'please land on {np}'],
        'hold': ['hover', 'hold position', 'hold', 'wait here', 'stay put', 'stay where you are',
                 'remain in place'],
        'hold_for': ['hold position for {sec}', 'hover for {sec}', 'wait {sec}',
                     'remain in place for {sec}'],
        'home': ['return home', 'go home', 'return to launch', 'come back home', 'RTL', 'RTH',
                 'head back to base'],
        'move': ['fly {dir} {dist}', 'move {dist} {dir}', 'go {dir} {dist}'],
        'fly_compass': ['fly {cmp} {dist}', 'head {cmp} for {dist}', 'go {dist} {cmp}'],
        'climb_to': ['climb to {alt}', 'set altitude to {alt}', 'go up to {alt}',
                     'set alt to {alt}', 'change alt to {alt}'],
        'climb_by': ['climb {alt}', 'go up {alt}', 'climb by {alt}'],
        'descend_to': ['descend to {alt}', 'go down to {alt}', 'lower altitude to {alt}'],
        'descend_by': ['descend {alt}', 'go down {alt}', 'descend by {alt}'],
        'speed': ['set speed to {speed}', 'fly at {speed}', 'speed {speed}',
                  'cruise speed {speed}'],
        'turn_left': ['turn left {deg}', 'rotate {deg} to the left', 'yaw left {deg}'],
        'turn_right': ['turn right {deg}', 'rotate {deg} to the right', 'yaw right {deg}'],
        'face': ['face {cmp}', 'turn to face {cmp}', 'point {cmp}'],
        'orbit': ['orbit {np} at {radius}', 'circle around {np} with a {radius} radius',
                  'circle {np} at {radius}'],
        'orbit_dir': ['orbit {np} at {radius} {rot}', 'circle {np} {rot} at {radius}'],
        'follow': ['follow {np}', 'track {np}', 'keep following {np}'],
        'follow_at': ['follow {np} at {dist}', 'track {np} from {dist}'],
        'goto_target': ['fly to {np}', 'go to {np}', 'move over {np}'],
        'search': ['search for {np}', 'look for {np}', 'find {np}'],
        'photo': ['take {count}', 'snap {count}', 'capture {count}'],
        'photo_of': ['take {count} of {np}', 'snap {count} of {np}'],
        'stop': ['stop', 'stop now', 'abort', 'emergency stop'],
        'step_forward': ['advance {dist}', 'move ahead {dist}', 'go straight ahead {dist}',
                         'push forward {dist}'],
        'step_back': ['back up {dist}', 'back off {dist}', 'reverse {dist}',
                      'retreat {dist}'],
        'step_left': ['slide left {dist}', 'strafe left {dist}', 'shift {dist} to the left'],
        'step_right': ['slide right {dist}', 'strafe right {dist}', 'shift {dist} to the right'],
        'capabilities': ['what can you do?', 'help', 'which commands do you know?'],
        'stunt': ['do a barrel roll', 'do a flip', 'loop the loop'],
        'vague_climb': ['climb', 'go higher', 'climb a bit'],
        'uturn': ['do a U-turn', 'make a u-turn', 'spin around', 'turn round'],
        'search_radius': ['search for {np} within {radius}', 'look for {np} in a {radius} radius',
                          'search {radius} around for {np}'],
        'negation': ['do not take off', "don't go home", 'do not climb', "don't take a photo",
                     "don't descend", 'do not turn', "don't follow it", 'never fly north',
                     "don't speed up", 'do not orbit', 'do not land yet',
                     'never land here'],
        'offtopic': ['sing me a song', 'what is the weather like?', 'order a pizza',
                     'tell me a joke', 'play some music'],
        'vague_takeoff': ['take off', 'lift off', 'launch'],
    },
    'fr': {
        'takeoff': ['décolle à {alt}', 'décollage à {alt}', 'décolle et monte à {alt}',
                    'décolle, {alt}', 'envole-toi à {alt}'],
        'land': ['atterris', 'atterris maintenant', 'pose-toi'],
        'land_on': ['atterris sur {np}', 'pose-toi sur {np}', 'atterrissage sur {np}'],
        'hold': ['reste en place', 'vol stationnaire', 'attends ici', 'garde la position'],
        'hold_for': ['attends {sec}', 'reste en place pendant {sec}',
                     'vol stationnaire pendant {sec}'],
        'home': ['rentre à la base', 'retour maison', 'retourne à la maison',
                 'retourne au point de départ', 'RTL', 'RTH', 'reviens à la base'],
        'move': ['vole {dir} de {dist}', 'déplace-toi de {dist} {dir}', 'va {dir} de {dist}'],
        'fly_compass': ['vole vers {cmp} sur {dist}', 'va {dist} vers {cmp}',
                        'cap vers {cmp} sur {dist}'],
        'climb_to': ['monte à {alt}', 'altitude {alt}', 'règle l\'altitude à {alt}'],
        'climb_by': ['monte de {alt}', 'prends {alt} d\'altitude', 'élève-toi de {alt}'],
        'descend_to': ['descends à {alt}', 'redescends à {alt}',
                       'baisse l\'altitude à {alt}'],
        'descend_by': ['descends de {alt}', 'perds {alt} d\'altitude', 'baisse-toi de {alt}'],
        'speed': ['vitesse {speed}', 'règle la vitesse à {speed}', 'vole à {speed}'],
        'turn_left': ['tourne à gauche de {deg}', 'pivote de {deg} vers la gauche',
                      'rotation gauche {deg}'],
        'turn_right': ['tourne à droite de {deg}', 'pivote de {deg} vers la droite',
                       'rotation droite {deg}'],
        'face': ['oriente-toi vers {cmp}', 'tourne-toi vers {cmp}', 'fais face vers {cmp}'],
        'orbit': ['tourne autour {np_de} à {radius}', 'orbite autour {np_de} à {radius}',
                  'encercle {np} à {radius}'],
        'orbit_dir': ['tourne autour {np_de} à {radius} {rot}',
                      'orbite {rot} autour {np_de} à {radius}'],
        'follow': ['suis {np}', 'suivre {np}', 'piste {np}'],
        'follow_at': ['suis {np} à {dist}', 'suis {np} à une distance de {dist}'],
        'goto_target': ['va vers {np}', 'vole vers {np}', 'rejoins {np}'],
        'search': ['cherche {np}', 'recherche {np}', 'trouve {np}'],
        'photo': ['prends {count}', 'fais {count}', 'capture {count}'],
        'photo_of': ['prends {count} {np_de}', 'fais {count} {np_de}'],
        'stop': ['stop', 'arrête', 'arrêt d\'urgence', 'annule'],
        'step_forward': ['avance tout droit de {dist}', 'avance encore de {dist}',
                         'progresse de {dist}'],
        'step_back': ['recule encore de {dist}', 'recule un peu, {dist}',
                      'fais marche arrière sur {dist}'],
        'step_left': ['décale-toi à gauche de {dist}', 'glisse de {dist} vers la gauche',
                      'translate à gauche sur {dist}'],
        'step_right': ['décale-toi à droite de {dist}', 'glisse de {dist} vers la droite',
                       'translate à droite sur {dist}'],
        'capabilities': ['que sais-tu faire ?', 'aide', 'quelles commandes connais-tu ?'],
        'stunt': ['fais un tonneau', 'fais un salto', 'fais un looping'],
        'vague_climb': ['monte', 'monte un peu', 'plus haut'],
        'uturn': ['fais un demi-tour', 'demi-tour', 'retourne-toi'],
        'search_radius': ['recherche {np} dans un rayon de {radius}',
                          'cherche {np} sur {radius} autour'],
        'negation': ['ne décolle pas', 'ne rentre pas', 'ne monte pas', 'ne prends pas de photo',
                     'ne descends pas', 'ne tourne pas', 'ne suis pas la voiture',
                     "n'atterris pas ici", 'ne va pas au nord', 'ne pars pas'],
        'offtopic': ['chante une chanson', 'quel temps fait-il ?', 'commande une pizza',
                     'raconte-moi une blague'],
        'vague_takeoff': ['décolle', 'décollage', 'envole-toi'],
    },
    'de': {
        'takeoff': ['starte auf {alt}', 'heb ab auf {alt}', 'abheben auf {alt}', 'starte, {alt}',
                    'steig auf und flieg auf {alt}'],
        'land': ['lande', 'jetzt landen', 'bitte landen'],
        'land_on': ['lande auf {np_dat}', 'landen auf {np_dat}', 'setz dich auf {np}'],
        'hold': ['schweben', 'position halten', 'warte hier', 'Position halten, bitte'],
        'hold_for': ['warte {sec}', 'position halten für {sec}', 'schwebe {sec} lang'],
        'home': ['flieg nach Hause', 'zurück zum Start', 'kehr zur Basis zurück', 'RTL', 'RTH'],
        'move': ['flieg {dist} {dir}', 'beweg dich {dist} {dir}', 'geh {dist} {dir}'],
        'fly_compass': ['flieg {dist} nach {cmp}', 'flieg nach {cmp} {dist}',
                        'kurs {cmp} für {dist}'],
        'climb_to': ['steig auf {alt}', 'höhe {alt}', 'geh auf {alt} Höhe'],
        'climb_by': ['steig um {alt}', 'geh {alt} höher', 'steig {alt} höher'],
        'descend_to': ['sink auf {alt}', 'geh runter auf {alt}',
                       'verringere die Höhe auf {alt}'],
        'descend_by': ['sink um {alt}', 'geh {alt} tiefer', 'sink {alt} tiefer'],
        'speed': ['geschwindigkeit {speed}', 'flieg mit {speed}', 'setz die Geschwindigkeit '
                  'auf {speed}'],
        'turn_left': ['dreh dich {deg} nach links', 'links drehen um {deg}',
                      'dreh {deg} links'],
        'turn_right': ['dreh dich {deg} nach rechts', 'rechts drehen um {deg}',
                       'dreh {deg} rechts'],
        'face': ['richte dich nach {cmp} aus', 'dreh dich nach {cmp}', 'schau nach {cmp}'],
        'orbit': ['kreise um {np} mit {radius}', 'umkreise {np} mit {radius} Radius',
                  'flieg Kreise um {np} mit {radius}'],
        'orbit_dir': ['kreise {rot} um {np} mit {radius}',
                      'umkreise {np} {rot} mit {radius}'],
        'follow': ['folge {np_dat}', 'verfolge {np}', 'bleib an {np_dat} dran'],
        'follow_at': ['folge {np_dat} mit {dist} Abstand', 'verfolge {np} mit {dist} Abstand'],
        'goto_target': ['flieg zu {np_dat}', 'geh zu {np_dat}', 'flieg über {np}'],
        'search': ['such {np}', 'suche nach {np_dat}', 'finde {np}'],
        'photo': ['mach {count}', 'nimm {count} auf', 'schieß {count}'],
        'photo_of': ['mach {count} von {np_dat}', 'nimm {count} von {np_dat} auf'],
        'stop': ['stopp', 'halt', 'notstopp', 'abbrechen'],
        'step_forward': ['fahr {dist} vor', 'rück {dist} vor', 'weiter vor um {dist}'],
        'step_back': ['fahr {dist} zurück', 'geh {dist} zurück', 'setz {dist} zurück'],
        'step_left': ['weich {dist} nach links aus', 'versetz dich {dist} nach links',
                      'schieb dich {dist} nach links'],
        'step_right': ['weich {dist} nach rechts aus', 'versetz dich {dist} nach rechts',
                       'schieb dich {dist} nach rechts'],
        'capabilities': ['was kannst du?', 'hilfe', 'welche Befehle kennst du?'],
        'stunt': ['mach eine Rolle', 'mach einen Salto', 'flieg einen Looping'],
        'vague_climb': ['steig', 'höher', 'steig ein bisschen'],
        'uturn': ['wende', 'mach kehrt', 'Kehrtwende', 'dreh um'],
        'search_radius': ['suche {np} im Umkreis von {radius}',
                          'such nach {np_dat} in {radius} Umkreis'],
        'negation': ['nicht starten', 'flieg nicht nach Hause', 'nicht steigen', 'nicht sinken',
                     'dreh dich nicht', 'folge ihm nicht', 'lande hier nicht', 'nicht drehen',
                     'mach kein Foto'],
        'offtopic': ['sing ein Lied', 'wie ist das Wetter?', 'bestell eine Pizza',
                     'erzähl einen Witz'],
        'vague_takeoff': ['starte', 'abheben', 'heb ab'],
    },
    'es': {
        'takeoff': ['despega a {alt}', 'despegue a {alt}', 'despega y sube a {alt}',
                    'despega, {alt}', 'elévate a {alt}'],
        'land': ['aterriza', 'aterriza ya', 'aterrizaje', 'pósate'],
        'land_on': ['aterriza en {np}', 'aterriza sobre {np}', 'posa el dron en {np}',
                    'pósate sobre {np}'],
        'hold': ['mantén la posición', 'quédate quieto', 'espera aquí'],
        'hold_for': ['espera {sec}', 'mantén la posición durante {sec}',
                     'quédate quieto {sec}'],
        'home': ['vuelve a casa', 'regresa a la base', 'vuelve al punto de partida', 'RTL', 'RTH'],
        'move': ['vuela {dist} {dir}', 'muévete {dist} {dir}', 've {dir} {dist}'],
        'fly_compass': ['vuela {dist} hacia {cmp}', 'dirígete hacia {cmp} {dist}',
                        'rumbo {cmp} durante {dist}'],
        'climb_to': ['sube a {alt}', 'altitud {alt}', 'pon la altitud a {alt}'],
        'climb_by': ['sube {alt}', 'sube {alt} más', 'gana {alt} de altura'],
        'descend_to': ['baja a {alt}', 'desciende a {alt}', 'reduce la altitud a {alt}'],
        'descend_by': ['baja {alt}', 'desciende {alt}', 'pierde {alt} de altura'],
        'speed': ['velocidad {speed}', 'vuela a {speed}', 'pon la velocidad a {speed}'],
        'turn_left': ['gira a la izquierda {deg}', 'gira {deg} a la izquierda',
                      'rota {deg} a la izquierda'],
        'turn_right': ['gira a la derecha {deg}', 'gira {deg} a la derecha',
                       'rota {deg} a la derecha'],
        'face': ['oriéntate hacia {cmp}', 'mira hacia {cmp}', 'gira hacia {cmp}'],
        'orbit': ['orbita alrededor {np_de} a {radius}', 'da vueltas alrededor {np_de} a '
                  '{radius}', 'rodea {np_a} a {radius}'],
        'orbit_dir': ['orbita alrededor {np_de} a {radius} {rot}',
                      'da vueltas {rot} alrededor {np_de} a {radius}'],
        'follow': ['sigue {np_a}', 'persigue {np_a}', 'rastrea {np_a}'],
        'follow_at': ['sigue {np_a} a {dist}', 'sigue {np_a} a una distancia de {dist}'],
        'goto_target': ['vuela hacia {np}', 've hacia {np}', 'acércate {np_a}'],
        'search': ['busca {np_a}', 'encuentra {np_a}', 'localiza {np_a}'],
        'photo': ['toma {count}', 'haz {count}', 'saca {count}'],
        'photo_of': ['toma {count} {np_de}', 'haz {count} {np_de}'],
        'stop': ['para', 'detente', 'parada de emergencia', 'aborta'],
        'step_forward': ['avanza otros {dist}', 'sigue recto {dist}', 'adelántate {dist}'],
        'step_back': ['retrocede otros {dist}', 'echa para atrás {dist}',
                      'da marcha atrás {dist}'],
        'step_left': ['desplázate a la izquierda {dist}', 'ladéate {dist} a la izquierda'],
        'step_right': ['desplázate a la derecha {dist}', 'ladéate {dist} a la derecha'],
        'capabilities': ['¿qué puedes hacer?', 'ayuda', '¿qué órdenes conoces?'],
        'stunt': ['haz un tonel', 'haz una voltereta', 'haz un rizo'],
        'vague_climb': ['sube', 'más alto', 'sube un poco'],
        'uturn': ['media vuelta', 'haz un cambio de sentido', 'date la vuelta'],
        'search_radius': ['localiza {np_a} en un radio de {radius}',
                          'busca {np_a} dentro de {radius}'],
        'negation': ['no despegues', 'no vuelvas a casa', 'no subas', 'no hagas fotos',
                     'no bajes', 'no gires', 'no sigas el coche', 'no aterrices aquí todavía',
                     'no vueles al norte'],
        'offtopic': ['canta una canción', '¿qué tiempo hace?', 'pide una pizza',
                     'cuéntame un chiste'],
        'vague_takeoff': ['despega', 'despegue', 'elévate'],
    },
    'it': {
        'takeoff': ['decolla a {alt}', 'decollo a {alt}', 'decolla e sali a {alt}',
                    'decolla, {alt}', 'alzati in volo a {alt}'],
        'land': ['atterra', 'atterra subito', 'atterraggio'],
        'land_on': ['atterra sopra {np}', 'posati sopra {np}', 'scendi sopra {np}'],
        'hold': ['resta fermo', 'mantieni la posizione', 'aspetta qui', 'resta dove sei',
                 'stai fermo qui'],
        'hold_for': ['aspetta {sec}', 'mantieni la posizione per {sec}', 'resta fermo {sec}'],
        'home': ['torna a casa', 'rientra alla base', 'torna al punto di partenza', 'RTL', 'RTH'],
        'move': ['vola {dist} {dir}', 'spostati {dist} {dir}', 'vai {dir} di {dist}'],
        'fly_compass': ['vola verso {cmp} per {dist}', 'vai {dist} verso {cmp}',
                        'rotta {cmp} per {dist}'],
        'climb_to': ['sali a {alt}', 'quota {alt}', 'porta la quota a {alt}'],
        'climb_by': ['sali di {alt}', 'guadagna {alt} di quota', 'alzati di {alt}'],
        'descend_to': ['scendi a {alt}', 'abbassati a {alt}', 'riduci la quota a {alt}'],
        'descend_by': ['scendi di {alt}', 'perdi {alt} di quota', 'abbassati di {alt}'],
        'speed': ['velocità {speed}', 'vola a {speed}', 'imposta la velocità a {speed}'],
        'turn_left': ['gira a sinistra di {deg}', 'ruota di {deg} a sinistra',
                      'girati {deg} a sinistra'],
        'turn_right': ['gira a destra di {deg}', 'ruota di {deg} a destra',
                       'girati {deg} a destra'],
        'face': ['orientati verso {cmp}', 'guarda verso {cmp}', 'girati verso {cmp}'],
        'orbit': ['orbita intorno {np_a} a {radius}', 'gira intorno {np_a} a {radius}',
                  'fai cerchi attorno {np_a} a {radius}'],
        'orbit_dir': ['orbita intorno {np_a} a {radius} {rot}',
                      'gira {rot} intorno {np_a} a {radius}'],
        'follow': ['segui {np}', 'insegui {np}', 'traccia {np}'],
        'follow_at': ['segui {np} a {dist}', 'segui {np} a una distanza di {dist}'],
        'goto_target': ['vola verso {np}', 'vai verso {np}', 'raggiungi {np}'],
        'search': ['cerca {np}', 'trova {np}', 'individua {np}'],
        'photo': ['scatta {count}', 'fai {count}', 'cattura {count}'],
        'photo_of': ['scatta {count} {np_de}', 'fai {count} {np_de}'],
        'stop': ['fermati', 'stop', 'arresto di emergenza', 'annulla'],
        'step_forward': ['avanza ancora di {dist}', 'procedi dritto per {dist}',
                         'vai avanti di {dist}'],
        'step_back': ['indietreggia ancora di {dist}', 'torna indietro di {dist}',
                      'arretra di {dist}'],
        'step_left': ['spostati a sinistra di {dist}', 'scivola di {dist} a sinistra'],
        'step_right': ['spostati a destra di {dist}', 'scivola di {dist} a destra'],
        'capabilities': ['cosa sai fare?', 'aiuto', 'quali comandi conosci?'],
        'stunt': ['fai un tonneau', 'fai una capriola', 'fai un looping'],
        'vague_climb': ['sali', 'più in alto', 'sali un po\''],
        'uturn': ['fai inversione', 'inversione a U', 'fai dietrofront'],
        'search_radius': ['trova {np} in un raggio di {radius}', 'cerca {np} entro {radius}'],
        'negation': ['non decollare', 'non tornare a casa', 'non salire', 'non fare foto',
                     'non scendere', 'non girare', 'non seguire la macchina',
                     'non atterrare qui adesso', 'non volare a nord'],
        'offtopic': ['canta una canzone', 'che tempo fa?', 'ordina una pizza',
                     'raccontami una barzelletta'],
        'vague_takeoff': ['decolla', 'decollo', 'alzati in volo'],
    },
}

# Held out of training: new sentence frames made of words the training templates use (a model
# trained from scratch cannot know a word it never saw; a fine-tuned base model can).
HELD_OUT: dict[str, dict[str, list[str]]] = {
    'en': {
        'step_forward': ['please advance {dist} now'],
        'step_back': ['please back up {dist} now'],
        'step_left': ['now slide {dist} to the left'],
        'step_right': ['now slide {dist} to the right'],
        'takeoff': ['please lift off to {alt} now'], 'land': ['please land here'],
        'land_on': ['now land on {np} please'], 'hold': ['hover here'],
        'hold_for': ['please wait here for {sec}'], 'home': ['please go home now'],
        'move': ['please move {dir} {dist}'], 'fly_compass': ['fly {dist} {cmp}'],
        'climb_to': ['please climb to {alt} now'], 'climb_by': ['now climb by {alt}'],
        'descend_to': ['please descend to {alt}'], 'descend_by': ['now descend by {alt}'],
        'speed': ['please set speed to {speed} now'], 'turn_left': ['turn {deg} to the left'],
        'turn_right': ['turn {deg} to the right'], 'face': ['please turn to face {cmp}'],
        'orbit': ['orbit around {np} at {radius}'],
        'orbit_dir': ['circle around {np} {rot} at {radius}'],
        'follow': ['please keep following {np}'], 'follow_at': ['follow {np} from {dist}'],
        'goto_target': ['please fly over to {np}'], 'search': ['please look for {np} now'],
        'photo': ['please take {count} now'], 'photo_of': ['capture {count} of {np}'],
        'stop': ['please stop now'], 'capabilities': ['what commands do you know?'],
        'stunt': ['please do a barrel roll'], 'vague_climb': ['please climb a bit'],
        'uturn': ['please do a U-turn'],
        'search_radius': ['please search for {np} within {radius}'],
        'negation': ['please do not take off'], 'offtopic': ['please sing me a song'],
        'vague_takeoff': ['please take off now'],
    },
    'fr': {
        'step_forward': ['avance maintenant de {dist}'],
        'step_back': ['recule maintenant de {dist}'],
        'step_left': ['glisse maintenant de {dist} vers la gauche'],
        'step_right': ['glisse maintenant de {dist} vers la droite'],
        'takeoff': ['décolle maintenant à {alt}'], 'land': ['atterris ici maintenant'],
        'land_on': ['maintenant atterris sur {np}'], 'hold': ['reste ici'],
        'hold_for': ['reste ici pendant {sec}'], 'home': ['rentre maintenant à la base'],
        'move': ['déplace-toi {dir} de {dist}'], 'fly_compass': ['vole {dist} vers {cmp}'],
        'climb_to': ['monte maintenant à {alt}'], 'climb_by': ['monte maintenant de {alt}'],
        'descend_to': ['descends maintenant à {alt}'],
        'descend_by': ['descends maintenant de {alt}'],
        'speed': ['règle maintenant la vitesse à {speed}'],
        'turn_left': ['tourne de {deg} vers la gauche'],
        'turn_right': ['tourne de {deg} vers la droite'], 'face': ['tourne vers {cmp}'],
        'orbit': ['tourne maintenant autour {np_de} à {radius}'],
        'orbit_dir': ['tourne {rot} autour {np_de} à {radius}'],
        'follow': ['maintenant suis {np}'], 'follow_at': ['piste {np} à {dist}'],
        'goto_target': ['va maintenant vers {np}'], 'search': ['cherche maintenant {np}'],
        'photo': ['prends maintenant {count}'], 'photo_of': ['capture {count} {np_de}'],
        'stop': ['arrête maintenant'], 'capabilities': ['que sais-tu faire maintenant ?'],
        'stunt': ['fais maintenant un salto'], 'vague_climb': ['monte un peu plus haut'],
        'uturn': ['fais maintenant un demi-tour'],
        'search_radius': ['recherche maintenant {np} dans un rayon de {radius}'],
        'negation': ['ne décolle pas maintenant'], 'offtopic': ['chante maintenant une chanson'],
        'vague_takeoff': ['décolle maintenant'],
    },
    'de': {
        'step_forward': ['bitte fahr {dist} vor'],
        'step_back': ['bitte fahr {dist} zurück'],
        'step_left': ['bitte weich {dist} nach links aus'],
        'step_right': ['bitte weich {dist} nach rechts aus'],
        'takeoff': ['bitte starte auf {alt}'], 'land': ['bitte jetzt landen'],
        'land_on': ['bitte lande auf {np_dat}'], 'hold': ['bitte warte hier'],
        'hold_for': ['bitte warte hier {sec}'], 'home': ['bitte flieg jetzt nach Hause'],
        'move': ['bitte flieg {dist} {dir}'], 'fly_compass': ['bitte flieg {dist} nach {cmp}'],
        'climb_to': ['bitte steig jetzt auf {alt}'], 'climb_by': ['bitte steig um {alt}'],
        'descend_to': ['bitte sink jetzt auf {alt}'], 'descend_by': ['bitte sink um {alt}'],
        'speed': ['bitte flieg jetzt mit {speed}'],
        'turn_left': ['bitte dreh dich {deg} nach links'],
        'turn_right': ['bitte dreh dich {deg} nach rechts'],
        'face': ['bitte dreh dich nach {cmp}'], 'orbit': ['bitte kreise um {np} mit {radius}'],
        'orbit_dir': ['bitte kreise {rot} um {np} mit {radius}'],
        'follow': ['bitte folge {np_dat}'], 'follow_at': ['bitte folge {np_dat} mit {dist} '
                                                       'Abstand'],
        'goto_target': ['bitte flieg jetzt zu {np_dat}'], 'search': ['bitte such {np}'],
        'photo': ['bitte mach {count}'], 'photo_of': ['bitte mach {count} von {np_dat}'],
        'stop': ['bitte jetzt abbrechen'], 'capabilities': ['was kannst du jetzt?'],
        'stunt': ['bitte mach einen Salto'], 'vague_climb': ['bitte steig höher'],
        'uturn': ['bitte wende'], 'search_radius': ['bitte suche {np} im Umkreis von {radius}'],
        'negation': ['bitte nicht starten'], 'offtopic': ['bitte sing ein Lied'],
        'vague_takeoff': ['bitte heb ab'],
    },
    'es': {
        'step_forward': ['por favor avanza otros {dist}'],
        'step_back': ['por favor retrocede otros {dist}'],
        'step_left': ['por favor desplázate a la izquierda {dist}'],
        'step_right': ['por favor desplázate a la derecha {dist}'],
        'takeoff': ['por favor despega a {alt}'], 'land': ['por favor aterriza aquí'],
        'land_on': ['por favor aterriza en {np}'], 'hold': ['por favor espera aquí'],
        'hold_for': ['por favor espera aquí {sec}'], 'home': ['por favor vuelve a casa ya'],
        'move': ['por favor vuela {dist} {dir}'],
        'fly_compass': ['por favor vuela {dist} hacia {cmp}'],
        'climb_to': ['por favor sube a {alt}'], 'climb_by': ['por favor sube {alt} más'],
        'descend_to': ['por favor baja a {alt}'], 'descend_by': ['por favor baja {alt}'],
        'speed': ['por favor vuela a {speed}'],
        'turn_left': ['por favor gira {deg} a la izquierda'],
        'turn_right': ['por favor gira {deg} a la derecha'],
        'face': ['por favor mira hacia {cmp}'],
        'orbit': ['por favor orbita alrededor {np_de} a {radius}'],
        'orbit_dir': ['por favor da vueltas {rot} alrededor {np_de} a {radius}'],
        'follow': ['por favor sigue {np_a}'], 'follow_at': ['por favor sigue {np_a} a {dist}'],
        'goto_target': ['por favor vuela hacia {np}'], 'search': ['por favor busca {np_a}'],
        'photo': ['por favor toma {count}'], 'photo_of': ['por favor haz {count} {np_de}'],
        'stop': ['por favor detente ya'], 'capabilities': ['¿qué puedes hacer ya?'],
        'stunt': ['por favor haz un rizo'], 'vague_climb': ['por favor sube un poco'],
        'uturn': ['por favor media vuelta'],
        'search_radius': ['por favor localiza {np_a} en un radio de {radius}'],
        'negation': ['por favor no despegues'], 'offtopic': ['por favor canta una canción'],
        'vague_takeoff': ['por favor despega'],
    },
    'it': {
        'step_forward': ['per favore avanza ancora di {dist}'],
        'step_back': ['per favore arretra di {dist}'],
        'step_left': ['per favore spostati a sinistra di {dist}'],
        'step_right': ['per favore spostati a destra di {dist}'],
        'takeoff': ['per favore decolla a {alt}'], 'land': ['per favore atterra subito'],
        'land_on': ['per favore atterra sopra {np}'], 'hold': ['per favore aspetta qui'],
        'hold_for': ['per favore aspetta qui {sec}'], 'home': ['per favore torna a casa'],
        'move': ['per favore vola {dist} {dir}'],
        'fly_compass': ['per favore vola verso {cmp} per {dist}'],
        'climb_to': ['per favore sali a {alt}'], 'climb_by': ['per favore sali di {alt}'],
        'descend_to': ['per favore scendi a {alt}'], 'descend_by': ['per favore scendi di {alt}'],
        'speed': ['per favore vola a {speed}'],
        'turn_left': ['per favore gira a sinistra di {deg}'],
        'turn_right': ['per favore gira a destra di {deg}'],
        'face': ['per favore guarda verso {cmp}'],
        'orbit': ['per favore orbita intorno {np_a} a {radius}'],
        'orbit_dir': ['per favore gira {rot} intorno {np_a} a {radius}'],
        'follow': ['per favore segui {np}'], 'follow_at': ['per favore segui {np} a {dist}'],
        'goto_target': ['per favore vola verso {np}'], 'search': ['per favore cerca {np}'],
        'photo': ['per favore scatta {count}'], 'photo_of': ['per favore fai {count} {np_de}'],
        'stop': ['per favore fermati'], 'capabilities': ['cosa sai fare adesso?'],
        'stunt': ['per favore fai un looping'], 'vague_climb': ['per favore sali un po\''],
        'uturn': ['per favore fai inversione'],
        'search_radius': ['per favore trova {np} in un raggio di {radius}'],
        'negation': ['per favore non decollare'], 'offtopic': ['per favore canta una canzone'],
        'vague_takeoff': ['per favore decolla'],
    },
}
# Babble and keyboard runs (writing.noise) read the same in every language.
for _language in LANGUAGES:
    TEMPLATES[_language]['nonsense'] = ['{noise}']
    HELD_OUT[_language]['nonsense'] = ['{noise} ...']

GROUNDED = ('land_on', 'orbit', 'orbit_dir', 'follow', 'follow_at', 'goto_target', 'search',
            'search_radius', 'photo_of')
# Which scene classes each grounded intent refers to.
TARGET_KINDS = {
    'land_on': ('pad',),
    'orbit': ('building', 'tower', 'car', 'truck', 'pad', 'marker'),
    'orbit_dir': ('building', 'tower', 'car', 'truck', 'pad', 'marker'),
    'follow': ('car', 'truck', 'person'),
    'follow_at': ('car', 'truck', 'person'),
    'goto_target': ('pad', 'car', 'truck', 'person', 'building', 'tower', 'marker'),
    'search': ('car', 'truck', 'person', 'marker'),
    'search_radius': ('car', 'truck', 'person', 'marker'),
    'photo_of': ('building', 'tower', 'car', 'truck', 'person', 'pad', 'marker'),
}

# Words ----------------------------------------------------------------------------------------

# Names of each scene class: (noun, grammatical gender m/f/n), first the most common.
NOUNS: dict[str, dict[str, tuple[tuple[str, str], ...]]] = {
    'en': {'pad': (('landing pad', 'n'), ('pad', 'n'), ('helipad', 'n')),
           'car': (('car', 'n'), ('vehicle', 'n')), 'truck': (('truck', 'n'), ('lorry', 'n')),
           'person': (('person', 'n'), ('man', 'n')), 'building': (('building', 'n'),
                                                                   ('house', 'n')),
           'tower': (('tower', 'n'),), 'marker': (('marker', 'n'), ('flag', 'n'))},
    'fr': {'pad': (('plateforme', 'f'), ('hélisurface', 'f'), ('pad', 'm')),
           'car': (('voiture', 'f'), ('auto', 'f')), 'truck': (('camion', 'm'),),
           'person': (('personne', 'f'), ('homme', 'm')),
           'building': (('bâtiment', 'm'), ('maison', 'f')), 'tower': (('tour', 'f'),),
           'marker': (('balise', 'f'), ('marqueur', 'm'))},
    'de': {'pad': (('Landeplatz', 'm'), ('Plattform', 'f'), ('Pad', 'n')),
           'car': (('Auto', 'n'), ('Wagen', 'm')), 'truck': (('Lastwagen', 'm'), ('LKW', 'm')),
           'person': (('Person', 'f'), ('Mann', 'm')),
           'building': (('Gebäude', 'n'), ('Haus', 'n')), 'tower': (('Turm', 'm'),),
           'marker': (('Markierung', 'f'), ('Marker', 'm'))},
    'es': {'pad': (('plataforma', 'f'), ('helipuerto', 'm'), ('pad', 'm')),
           'car': (('coche', 'm'), ('auto', 'm')), 'truck': (('camión', 'm'),),
           'person': (('persona', 'f'), ('hombre', 'm')),
           'building': (('edificio', 'm'), ('casa', 'f')), 'tower': (('torre', 'f'),),
           'marker': (('baliza', 'f'), ('marcador', 'm'))},
    'it': {'pad': (('piattaforma', 'f'), ('eliporto', 'm'), ('pad', 'm')),
           'car': (('macchina', 'f'), ('auto', 'f')), 'truck': (('camion', 'm'),),
           'person': (('persona', 'f'), ('uomo', 'm')),
           'building': (('edificio', 'm'), ('casa', 'f')), 'tower': (('torre', 'f'),),
           'marker': (('segnale', 'm'), ('bandierina', 'f'))},
}

# colour -> (masculine, feminine) adjective; German gives the stem.
ADJECTIVES: dict[str, dict[str, tuple[str, str]]] = {
    'en': {c: (c, c) for c in ('red', 'blue', 'green', 'yellow', 'white', 'black', 'orange',
                               'grey')},
    'fr': {'red': ('rouge', 'rouge'), 'blue': ('bleu', 'bleue'), 'green': ('vert', 'verte'),
           'yellow': ('jaune', 'jaune'), 'white': ('blanc', 'blanche'),
           'black': ('noir', 'noire'), 'orange': ('orange', 'orange'),
           'grey': ('gris', 'grise')},
    'de': {'red': ('rot', 'rot'), 'blue': ('blau', 'blau'), 'green': ('grün', 'grün'),
           'yellow': ('gelb', 'gelb'), 'white': ('weiß', 'weiß'),
           'black': ('schwarz', 'schwarz'), 'orange': ('orange', 'orange'),
           'grey': ('grau', 'grau')},
    'es': {'red': ('rojo', 'roja'), 'blue': ('azul', 'azul'), 'green': ('verde', 'verde'),
           'yellow': ('amarillo', 'amarilla'), 'white': ('blanco', 'blanca'),
           'black': ('negro', 'negra'), 'orange': ('naranja', 'naranja'),
           'grey': ('gris', 'gris')},
    'it': {'red': ('rosso', 'rossa'), 'blue': ('blu', 'blu'), 'green': ('verde', 'verde'),
           'yellow': ('giallo', 'gialla'), 'white': ('bianco', 'bianca'),
           'black': ('nero', 'nera'), 'orange': ('arancione', 'arancione'),
           'grey': ('grigio', 'grigia')},
}
# People are named by what they wear: "person in red".
WEARING = {'en': 'in', 'fr': 'en', 'de': 'in', 'es': 'de', 'it': 'in'}
COLOR_NOUNS = {
    'en': {}, 'fr': {},
    'de': {'red': 'Rot', 'blue': 'Blau', 'yellow': 'Gelb', 'orange': 'Orange',
           'white': 'Weiß', 'green': 'Grün', 'black': 'Schwarz', 'grey': 'Grau'},
    'es': {}, 'it': {},
}

DIRECTIONS = {  # forward, back, left, right
    'en': ('forward', 'back', 'left', 'right'),
    'fr': ('en avant', 'en arrière', 'à gauche', 'à droite'),
    'de': ('vorwärts', 'rückwärts', 'nach links', 'nach rechts'),
    'es': ('hacia adelante', 'hacia atrás', 'a la izquierda', 'a la derecha'),
    'it': ('in avanti', 'indietro', 'a sinistra', 'a destra'),
}
# Other ways to say a direction (index as in DIRECTIONS), used now and then.
DIRECTION_SYNONYMS = {
    'en': {0: ('forwards', 'ahead'), 1: ('backwards', 'backward')},
    'fr': {1: ("vers l'arrière",)},
    'de': {0: ('nach vorne',), 1: ('nach hinten',)},
    'es': {0: ('adelante',), 1: ('atrás',)},
    'it': {0: ('avanti',)},
}
COMPASS = {  # N, NE, E, SE, S, SW, W, NW
    'en': ('north', 'north-east', 'east', 'south-east', 'south', 'south-west', 'west',
           'north-west'),
    'fr': ('le nord', 'le nord-est', 'l\'est', 'le sud-est', 'le sud', 'le sud-ouest',
           'l\'ouest', 'le nord-ouest'),
    'de': ('Norden', 'Nordosten', 'Osten', 'Südosten', 'Süden', 'Südwesten', 'Westen',
           'Nordwesten'),
    'es': ('el norte', 'el noreste', 'el este', 'el sureste', 'el sur', 'el suroeste',
           'el oeste', 'el noroeste'),
    'it': ('nord', 'nord-est', 'est', 'sud-est', 'sud', 'sud-ovest', 'ovest', 'nord-ovest'),
}
ROTATIONS = {  # clockwise, counterclockwise
    'en': ('clockwise', 'counterclockwise'),
    'fr': ('dans le sens horaire', 'dans le sens antihoraire'),
    'de': ('im Uhrzeigersinn', 'gegen den Uhrzeigersinn'),
    'es': ('en sentido horario', 'en sentido antihorario'),
    'it': ('in senso orario', 'in senso antiorario'),
}
UNITS = {  # slot -> spellings of the unit after the number
    'en': {'m': ('m', 'm', 'meters', 'metres'), 's': ('s', 'seconds', 'seconds', 'sec'),
           'mps': ('m/s', 'm/s', 'meters per second'), 'deg': ('degrees', '°', 'degrees')},
    'fr': {'m': ('m', 'm', 'mètres'), 's': ('s', 'secondes', 'secondes', 'sec'),
           'mps': ('m/s', 'm/s', 'mètres par seconde'), 'deg': ('degrés', '°', 'degrés')},
    'de': {'m': ('m', 'm', 'Meter'), 's': ('s', 'Sekunden', 'Sekunden', 'Sek.'),
           'mps': ('m/s', 'm/s', 'Meter pro Sekunde'), 'deg': ('Grad', '°', 'Grad')},
    'es': {'m': ('m', 'm', 'metros'), 's': ('s', 'segundos', 'segundos', 'seg'),
           'mps': ('m/s', 'm/s', 'metros por segundo'), 'deg': ('grados', '°', 'grados')},
    'it': {'m': ('m', 'm', 'metri'), 's': ('s', 'secondi', 'secondi', 'sec'),
           'mps': ('m/s', 'm/s', 'metri al secondo'), 'deg': ('gradi', '°', 'gradi')},
}
# Other units operators use; the decision holds the value converted (metres, seconds, m/s).
OTHER_UNITS = {  # unit -> spellings per language
    'km': {lang: ('km',) for lang in LANGUAGES},
    'ft': {'en': ('ft', 'feet'), 'fr': ('pieds',), 'de': ('Fuß', 'ft'), 'es': ('pies',),
           'it': ('piedi',)},
    'min': {'en': ('minutes', 'min'), 'fr': ('minutes', 'min'), 'de': ('Minuten', 'min'),
            'es': ('minutos', 'min'), 'it': ('minuti', 'min')},
    'kmh': {lang: ('km/h',) for lang in LANGUAGES},
    'kn': {'en': ('knots', 'kn'), 'fr': ('nœuds',), 'de': ('Knoten',), 'es': ('nudos',),
           'it': ('nodi',)},
}
ONE_MINUTE = {'en': 'one minute', 'fr': 'une minute', 'de': 'eine Minute', 'es': 'un minuto',
              'it': 'un minuto'}
COMPASS_SHORT = {  # N, NE, E, SE, S, SW, W, NW as written on a map of that language
    'en': ('N', 'NE', 'E', 'SE', 'S', 'SW', 'W', 'NW'),
    'fr': ('N', 'NE', 'E', 'SE', 'S', 'SO', 'O', 'NO'),
    'de': ('N', 'NO', 'O', 'SO', 'S', 'SW', 'W', 'NW'),
    'es': ('N', 'NE', 'E', 'SE', 'S', 'SO', 'O', 'NO'),
    'it': ('N', 'NE', 'E', 'SE', 'S', 'SO', 'O', 'NO'),
}
# Missions: step commands joined by sequence words (held-out ones never appear in training).
CONNECTORS = {
    'en': (', then ', ' and then ', ' then ', '. Then ', ', after that ', ' and '),
    'fr': (' puis ', ', puis ', ' et ensuite ', '. Ensuite ', ' et '),
    'de': (' und dann ', ', dann ', ', danach ', '. Danach ', ' und '),
    'es': (' y luego ', ', luego ', ' y después ', '. Después ', ' y '),
    'it': (' e poi ', ', poi ', ', quindi ', '. Poi ', ' e '),
}
HELD_OUT_CONNECTORS = {
    'en': (', and after that ', '; then '), 'fr': (', et après ça ', '; puis '),
    'de': (', und danach ', '; dann '), 'es': (', y después ', '; luego '),
    'it': (', e dopo ', '; poi '),
}
PHOTOS = {  # (one photo, n photos), the usual word first
    'en': (('a photo', '{n} photos'), ('a picture', '{n} pictures'), ('a shot', '{n} shots')),
    'fr': (('une photo', '{n} photos'), ('une image', '{n} images'),
           ('un cliché', '{n} clichés')),
    'de': (('ein Foto', '{n} Fotos'), ('ein Bild', '{n} Bilder'),
           ('eine Aufnahme', '{n} Aufnahmen')),
    'es': (('una foto', '{n} fotos'), ('una imagen', '{n} imágenes'),
           ('una fotografía', '{n} fotografías')),
    'it': (('una foto', '{n} foto'), ("un'immagine", '{n} immagini'),
           ('uno scatto', '{n} scatti')),
}
PHOTO_SYNONYM_RATE = 0.3


def noun_phrase(language: str, kind: str, color: str | None, form: str = 'np',
                variant: int = 0) -> tuple[str, str]:
    """(text with article in the template's form, label without the article).

    Forms: `np` (direct object), `np_dat` (German dative), `np_de` (fr/es/it "of the"),
    `np_a` (es personal/it "to the"). `variant` picks one of the class's nouns.
    """
    names = NOUNS[language][kind]
    noun, gender = names[variant % len(names)]
    if kind == 'person' and color is not None:
        wear = COLOR_NOUNS[language].get(color) or ADJECTIVES[language][color][0]
        if language == 'es':
            wear = ADJECTIVES['es'][color][0]
        label = f'{noun} {WEARING[language]} {wear}'
        color = None
        adjective = ''
    else:
        label = ''
        adjective = ''
    if language == 'de':
        case = 'dat' if form == 'np_dat' else 'acc'
        article = {('acc', 'm'): 'den', ('acc', 'f'): 'die', ('acc', 'n'): 'das',
                   ('dat', 'm'): 'dem', ('dat', 'f'): 'der', ('dat', 'n'): 'dem'}[(case, gender)]
        if color is not None:
            stem = ADJECTIVES['de'][color][0]
            ending = 'en' if case == 'dat' or gender == 'm' else 'e'
            adjective = stem + ('' if stem.endswith('e') and ending == 'e' else ending)
            if stem == 'orange':
                adjective = 'orange' + ('n' if ending == 'en' else '')
        label = label or ' '.join(p for p in (adjective, noun) if p)
        return f'{article} {label}', label
    if language == 'en':
        label = label or ' '.join(p for p in (color, noun) if p)
        return f'the {label}', label
    if color is not None:
        masculine, feminine = ADJECTIVES[language][color]
        adjective = feminine if gender == 'f' else masculine
    label = label or ' '.join(p for p in (noun, adjective) if p)
    vowel = noun[0].lower() in 'aeiouéèh'
    if language == 'fr':
        article = 'l\'' if vowel else ('la ' if gender == 'f' else 'le ')
        if form == 'np_de':
            article = 'de ' + article if gender == 'f' or vowel else 'du '
        return f'{article}{label}', label
    if language == 'es':
        article = 'la ' if gender == 'f' else 'el '
        if form == 'np_de':
            article = 'de la ' if gender == 'f' else 'del '
        elif form == 'np_a':
            article = 'a la ' if gender == 'f' else 'al '
        return f'{article}{label}', label
    # Italian
    article = 'l\'' if vowel else ('la ' if gender == 'f' else 'il ')
    if form == 'np_de':
        article = {'l\'': 'dell\'', 'la ': 'della ', 'il ': 'del '}[article]
    elif form == 'np_a':
        article = {'l\'': 'all\'', 'la ': 'alla ', 'il ': 'al '}[article]
    return f'{article}{label}', label


def format_number(value: float, language: str) -> str:
    """Digits as the operator writes them: decimal comma outside English."""
    text = f'{value:g}'
    return text if language == 'en' else text.replace('.', ',')


WORDS_RATE = 0.12  # share of whole numbers written in words


def _number(rng: np.random.Generator, language: str, value: float) -> tuple[str, bool]:
    """(the number as written, whether in words)."""
    if value == int(value) and 2 <= value <= writing.MAX_SPELLED and rng.random() < WORDS_RATE:
        return writing.spell(value, language), True
    return format_number(value, language), False


def quantity(rng: np.random.Generator, language: str, value: float, unit: str) -> str:
    """`value` with one of the unit's spellings ("30 m", "30 Meter", "30m", "thirty metres")."""
    spellings = UNITS[language][unit]
    spelling = spellings[int(rng.integers(len(spellings)))]
    number, words = _number(rng, language, value)
    if words:
        return f'{number} {spellings[-1]}'
    if spelling == 'm' and rng.random() < 0.25:
        return f'{number}m'
    return f'{number}{spelling}' if spelling == '°' else f'{number} {spelling}'


def other_quantity(rng: np.random.Generator, language: str, value: float, unit: str) -> str:
    """`value` in one of OTHER_UNITS ("1,5 km", "100 feet", "two minutes", "36 km/h")."""
    spellings = OTHER_UNITS[unit][language]
    if unit == 'min' and value == 1:
        return ONE_MINUTE[language]
    number, _ = _number(rng, language, value)
    return f'{number} {spellings[int(rng.integers(len(spellings)))]}'


def photo_count(rng: np.random.Generator, language: str, count: int) -> str:
    words = PHOTOS[language]
    one, many = words[int(rng.integers(1, len(words)))] \
        if rng.random() < PHOTO_SYNONYM_RATE else words[0]
    if count == 1:
        return one
    if count <= 5 and rng.random() < 0.4:
        return many.format(n=writing.spell(count, language))
    return many.format(n=count)


# Templates, split and extensions -----------------------------------------------------------------

def all_templates() -> list[Template]:
    """Every built-in and added template, training and held-out."""
    out = []
    for table, held_table in ((TEMPLATES, False), (HELD_OUT, True)):
        for language, intents in table.items():
            for intent, texts in intents.items():
                for text in texts:
                    held = held_table or text.startswith(HELD_OUT_MARK)
                    out.append(Template(intent, language, text.removeprefix(HELD_OUT_MARK),
                                        held))
    return out


_INDEX: dict[tuple[str, str, bool], list[Template]] = {}


def templates_for(intent: str, language: str, held_out: bool) -> list[Template]:
    """The training (or held-out) templates of one intent in one language."""
    if not _INDEX:
        for template in all_templates():
            key = (template.intent, template.language, template.held_out)
            _INDEX.setdefault(key, []).append(template)
    return _INDEX.get((intent, language, held_out), [])


_WORDS: set[str] = set()


def template_words() -> set[str]:
    """Every word of every template, lower case (rebuilt, like the index, when extensions
    add templates)."""
    if not _WORDS:
        _WORDS.update(word for template in all_templates()
                      for word in re.findall(r'[^\W\d_]+', template.text.lower()))
    return _WORDS


EXTENSION_EXAMPLE = """\
# ministral-train --extensions my_data.yaml
templates:                 # more paraphrases; a leading '* ' holds one out of training
  en:
    land_on: ['put it down on {np}', '* bring it down on {np}']
  fr:
    follow: ['colle à {np}']
nouns:                     # how each language names a (new) scene class
  en: {boat: [[boat, n], [ship, n]]}   # one [noun, gender] or a list of them
  fr: {boat: [bateau, m]}
  de: {boat: [Boot, n]}
  es: {boat: [barco, m]}
  it: {boat: [barca, f]}
scene_classes:             # new objects: drawn as a rotated rectangle of a colour
  boat: {colors: [white, red], size: [0.15, 0.25], aspect: 0.4, targets: [follow, goto_target]}
"""


def load_extensions(path: str | Path) -> None:
    """Add templates, nouns and scene classes from a YAML file (format: EXTENSION_EXAMPLE)."""
    from ministral_node.training import scenes

    with open(path, encoding='utf-8') as handle:
        doc = yaml.safe_load(handle) or {}
    _INDEX.clear()
    _WORDS.clear()
    unknown = set(doc) - {'templates', 'nouns', 'scene_classes'}
    if unknown:
        raise ValueError(f'{path}: unknown sections {sorted(unknown)}')
    for language, intents in (doc.get('templates') or {}).items():
        if language not in TEMPLATES:
            raise ValueError(f'{path}: language {language!r} is not one of {LANGUAGES}')
        for intent, texts in intents.items():
            if intent not in TEMPLATES['en']:
                raise ValueError(f'{path}: unknown intent {intent!r}')
            TEMPLATES[language].setdefault(intent, []).extend(str(t) for t in texts)
    for language, nouns in (doc.get('nouns') or {}).items():
        for kind, names in nouns.items():
            names = [names] if isinstance(names[0], str) else names
            NOUNS[language][kind] = tuple((str(noun), str(gender)) for noun, gender in names)
    for name, spec in (doc.get('scene_classes') or {}).items():
        missing = [lang for lang in LANGUAGES if name not in NOUNS[lang]]
        if missing:
            raise ValueError(f'{path}: scene class {name!r} has no noun in {missing}')
        colors = tuple(spec.get('colors', ('white',)))
        bad = [c for c in colors if c not in scenes.COLORS]
        if bad:
            raise ValueError(f'{path}: unknown colours {bad}; known: {sorted(scenes.COLORS)}')
        scenes.register_class(scenes.SceneClass(
            name, colors, tuple(spec.get('size', (0.15, 0.25))),
            scenes.rectangle_drawer(float(spec.get('aspect', 0.5)))))
        for intent in spec.get('targets', ()):
            TARGET_KINDS[intent] = (*TARGET_KINDS[intent], name)
