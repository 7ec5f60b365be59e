"""Training examples: a rendered scene, an operator command about it, and the decision.

    split = Split('train', seed=0)          # or Split('heldout', seed=1): unseen templates
    example = make_example(split, index)    # deterministic in (split, index)
    answer_text(example.proposal)           # the exact JSON the model learns to write

The decision is a `Proposal` that validates against the contract and fits the generation
constraint (numbers in 0.01 steps, short strings without escapes); grounded commands carry the
target's box as rendered.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from ministral_node.decision import Proposal, Target, mission, targets_of
from ministral_node.sources.rules.messages import MESSAGES
from ministral_node.training import casual, scenes, templates, writing
from ministral_node.training.templates import LANGUAGES, Template

SPLITS = ('train', 'heldout')

INTENT_WEIGHTS = {
    'takeoff': 1.0, 'land': 0.7, 'land_on': 3.0, 'hold': 0.5, 'hold_for': 0.8, 'home': 0.7,
    'move': 1.2, 'fly_compass': 1.2, 'climb_to': 1.0, 'climb_by': 0.8, 'descend_to': 0.8,
    'descend_by': 0.8, 'speed': 1.0, 'turn_left': 0.8, 'turn_right': 0.8, 'face': 0.8,
    'orbit': 1.5, 'orbit_dir': 1.5, 'follow': 2.0, 'follow_at': 1.5, 'goto_target': 2.0,
    'search': 2.0, 'photo': 0.8, 'photo_of': 1.5, 'stop': 0.6, 'capabilities': 0.4,
    'stunt': 0.5, 'vague_climb': 0.4, 'vague_takeoff': 0.4, 'uturn': 0.5,
    'search_radius': 1.2, 'negation': 0.8, 'offtopic': 0.5, 'nonsense': 0.5, 'mission': 3.0,
    'step_forward': 0.3, 'step_back': 0.3, 'step_left': 0.3, 'step_right': 0.3,
}
# Relative moves whose verb says the direction ("back up 5 m"), in templates.DIRECTIONS order.
STEP_INTENTS = ('step_forward', 'step_back', 'step_left', 'step_right')
MISSION_INTENT = 'mission'  # several step intents joined by templates.CONNECTORS
SEARCH_ABSENT = 0.25  # share of searches whose target is not in view (box null)
CONFIDENCE = 0.9
CAPITALISED = 0.4
PUNCTUATED = 0.15
# Training commands only: operators' politeness and urgency words in random places, so a model
# does not tie an intent to one sentence frame (the held-out frames use such words too).
FILLERS = {
    'en': (('please',), ('now', 'right now', 'quickly')),
    'fr': (("s'il te plaît", 's’il vous plaît'), ('maintenant', 'tout de suite', 'vite')),
    'de': (('bitte',), ('jetzt', 'sofort', 'schnell')),
    'es': (('por favor',), ('ahora', 'ya', 'rápido')),
    'it': (('per favore', 'per piacere'), ('ora', 'adesso', 'subito', 'veloce')),
}
POLITE_RATE = 0.3
URGENT_RATE = 0.2

# Short, fixed texts per language: rationale per action, and the free-text params.
RATIONALES = {
    'en': {'takeoff': 'Taking off as asked.', 'land': 'Landing as asked.',
           'hold': 'Holding position.', 'return_to_home': 'Returning home.',
           'goto': 'Moving as asked.', 'change_altitude': 'Changing altitude.',
           'set_speed': 'Setting the speed.', 'rotate': 'Turning as asked.',
           'orbit': 'Orbiting the target.', 'follow': 'Following the target.',
           'search': 'Searching for the target.', 'capture_photo': 'Taking photos.',
           'stop': 'Stopping now.', 'answer': 'Listing what I can do.',
           'clarify': 'An amount is missing.', 'reject': 'Not a supported manoeuvre.',
           'mission': 'Flying the steps in order.', 'negation': 'Told only what not to do.',
           'offtopic': 'Not a flight command.'},
    'fr': {'takeoff': 'Décollage demandé.', 'land': 'Atterrissage demandé.',
           'hold': 'Maintien de la position.', 'return_to_home': 'Retour à la base.',
           'goto': 'Déplacement demandé.', 'change_altitude': 'Changement d\'altitude.',
           'set_speed': 'Réglage de la vitesse.', 'rotate': 'Rotation demandée.',
           'orbit': 'Orbite autour de la cible.', 'follow': 'Suivi de la cible.',
           'search': 'Recherche de la cible.', 'capture_photo': 'Prise de photos.',
           'stop': 'Arrêt immédiat.', 'answer': 'Voici ce que je sais faire.',
           'clarify': 'Il manque une valeur.', 'reject': 'Manœuvre non prise en charge.',
           'mission': 'Étapes dans l\'ordre.',
           'negation': 'Seulement ce qu\'il ne faut pas faire.',
           'offtopic': 'Pas une commande de vol.'},
    'de': {'takeoff': 'Start wie verlangt.', 'land': 'Landung wie verlangt.',
           'hold': 'Position wird gehalten.', 'return_to_home': 'Rückkehr zum Start.',
           'goto': 'Bewegung wie verlangt.', 'change_altitude': 'Höhe wird geändert.',
           'set_speed': 'Geschwindigkeit wird gesetzt.', 'rotate': 'Drehung wie verlangt.',
           'orbit': 'Kreisen um das Ziel.', 'follow': 'Ziel wird verfolgt.',
           'search': 'Ziel wird gesucht.', 'capture_photo': 'Fotos werden gemacht.',
           'stop': 'Sofortiger Halt.', 'answer': 'Das kann ich.',
           'clarify': 'Ein Wert fehlt.', 'reject': 'Manöver nicht unterstützt.',
           'mission': 'Schritte der Reihe nach.', 'negation': 'Nur was ich nicht tun soll.',
           'offtopic': 'Kein Flugbefehl.'},
    'es': {'takeoff': 'Despegue solicitado.', 'land': 'Aterrizaje solicitado.',
           'hold': 'Manteniendo la posición.', 'return_to_home': 'Volviendo a casa.',
           'goto': 'Movimiento solicitado.', 'change_altitude': 'Cambio de altitud.',
           'set_speed': 'Ajuste de velocidad.', 'rotate': 'Giro solicitado.',
           'orbit': 'Orbitando el objetivo.', 'follow': 'Siguiendo el objetivo.',
           'search': 'Buscando el objetivo.', 'capture_photo': 'Tomando fotos.',
           'stop': 'Parada inmediata.', 'answer': 'Esto es lo que sé hacer.',
           'clarify': 'Falta un valor.', 'reject': 'Maniobra no admitida.',
           'mission': 'Pasos en orden.', 'negation': 'Solo lo que no debo hacer.',
           'offtopic': 'No es una orden de vuelo.'},
    'it': {'takeoff': 'Decollo richiesto.', 'land': 'Atterraggio richiesto.',
           'hold': 'Mantengo la posizione.', 'return_to_home': 'Ritorno alla base.',
           'goto': 'Spostamento richiesto.', 'change_altitude': 'Cambio di quota.',
           'set_speed': 'Imposto la velocità.', 'rotate': 'Rotazione richiesta.',
           'orbit': 'Orbita attorno al bersaglio.', 'follow': 'Seguo il bersaglio.',
           'search': 'Cerco il bersaglio.', 'capture_photo': 'Scatto foto.',
           'stop': 'Arresto immediato.', 'answer': 'Ecco cosa so fare.',
           'clarify': 'Manca un valore.', 'reject': 'Manovra non supportata.',
           'mission': 'Passi in ordine.', 'negation': 'Solo cosa non fare.',
           'offtopic': 'Non è un comando di volo.'},
}
# The free-text params per intent (aerobatics refused in the rule parser's own words).
TEXTS = {
    'en': {'capabilities': 'I can take off, land, hold, return home, move, change altitude, '
                           'speed or heading, orbit, follow, search and take photos.',
           'stunt': MESSAGES['stunt']['en'],
           'vague_climb': 'To what altitude, or by how many metres?',
           'vague_takeoff': 'To what altitude should I take off?',
           'negation': 'What should I do instead?', 'offtopic': 'Not a drone command.',
           'nonsense': 'I did not understand that. What should I do?'},
    'fr': {'capabilities': 'Je sais décoller, atterrir, attendre, rentrer, me déplacer, changer '
                           'd\'altitude, de vitesse ou de cap, orbiter, suivre, chercher et '
                           'photographier.',
           'stunt': MESSAGES['stunt']['fr'],
           'vague_climb': 'À quelle altitude, ou de combien de mètres ?',
           'vague_takeoff': 'À quelle altitude dois-je décoller ?',
           'negation': 'Que dois-je faire à la place ?',
           'offtopic': 'Ce n\'est pas une commande de drone.',
           'nonsense': 'Je n\'ai pas compris. Que dois-je faire ?'},
    'de': {'capabilities': 'Ich kann starten, landen, warten, heimkehren, mich bewegen, Höhe, '
                           'Tempo oder Kurs ändern, kreisen, folgen, suchen und fotografieren.',
           'stunt': MESSAGES['stunt']['de'],
           'vague_climb': 'Auf welche Höhe oder um wie viele Meter?',
           'vague_takeoff': 'Auf welche Höhe soll ich starten?',
           'negation': 'Was soll ich stattdessen tun?', 'offtopic': 'Kein Drohnenbefehl.',
           'nonsense': 'Das habe ich nicht verstanden. Was soll ich tun?'},
    'es': {'capabilities': 'Sé despegar, aterrizar, esperar, volver, moverme, cambiar altitud, '
                           'velocidad o rumbo, orbitar, seguir, buscar y tomar fotos.',
           'stunt': MESSAGES['stunt']['es'],
           'vague_climb': '¿A qué altitud, o cuántos metros?',
           'vague_takeoff': '¿A qué altitud debo despegar?',
           'negation': '¿Qué debo hacer en su lugar?',
           'offtopic': 'No es una orden para el dron.',
           'nonsense': 'No lo he entendido. ¿Qué debo hacer?'},
    'it': {'capabilities': 'So decollare, atterrare, attendere, rientrare, spostarmi, cambiare '
                           'quota, velocità o rotta, orbitare, seguire, cercare e fotografare.',
           'stunt': MESSAGES['stunt']['it'],
           'vague_climb': 'A quale quota, o di quanti metri?',
           'vague_takeoff': 'A quale quota devo decollare?',
           'negation': 'Cosa devo fare invece?', 'offtopic': 'Non è un comando per il drone.',
           'nonsense': 'Non ho capito. Cosa devo fare?'},
}


@dataclass(frozen=True)
class Split:
    """Which examples: `train` uses training templates, `heldout` only held-out ones."""

    name: str = 'train'
    seed: int = 0

    def __post_init__(self) -> None:
        if self.name not in SPLITS:
            raise ValueError(f'split {self.name!r} is not one of {SPLITS}')

    @property
    def held_out(self) -> bool:
        return self.name == 'heldout'


@dataclass
class Example:
    """One training or evaluation example."""

    image: np.ndarray  # RGB uint8
    command: str
    language: str
    intent: str
    template: Template
    proposal: Proposal
    objects: list[scenes.SceneObject] = field(default_factory=list)
    phenomena: tuple[str, ...] = ()  # casual-speech phenomena in the command (casual.RATES)

    @property
    def box(self) -> tuple[float, ...] | None:
        """The box the decision (or a step of its mission) points at, if any."""
        return target_box(self.proposal)

    @property
    def targeted(self) -> bool:
        """True when the decision (or a step) names a target, seen or not."""
        return bool(targets_of(self.proposal))

    @property
    def grounded(self) -> bool:
        """True when the decision points at a box in the image."""
        return self.box is not None


def target_box(proposal: Proposal) -> tuple[float, ...] | None:
    """The first box `proposal` (or a step of its mission) points at, if any."""
    return next((t.box for t in targets_of(proposal) if t.box is not None), None)


def canonical(value: Any) -> Any:
    """Numbers as the constraint writes them: 0.01 steps, whole numbers without '.0'."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    rounded = round(float(value), 2)
    return int(rounded) if rounded == int(rounded) else rounded


def answer_text(proposal: Proposal) -> str:
    """The proposal as the compact JSON the model writes (the constrained decoder's format)."""
    return json.dumps(proposal.to_dict(), ensure_ascii=False, separators=(',', ':'),
                      allow_nan=False)


# Values -----------------------------------------------------------------------------------------

def _pick(rng: np.random.Generator, items: list | tuple) -> Any:
    return items[int(rng.integers(len(items)))]


def _amount(rng: np.random.Generator, low: int, high: int, half: float = 0.1) -> float:
    value = float(rng.integers(low, high + 1))
    return value + 0.5 if rng.random() < half else value


FEET = tuple(range(50, 401, 50))
FEET_RATE = 0.06
KM = (1, 1.5, 2, 2.5, 3)
KM_RATE = 0.12
MINUTES_RATE = 0.15
KMH_RATE = 0.1
KNOTS_RATE = 0.05
SHORT_COMPASS_RATE = 0.1
KNOT = 1852.0 / 3600.0


def _abbreviated_unit(rng: np.random.Generator, language: str, value: float, unit: str) -> str:
    """`value` with the unit's radio abbreviation ("300 ft", "12 kts")."""
    return f'{templates.format_number(value, language)} ' \
        f'{_pick(rng, casual.unit_abbreviations(unit))}'


def _slots(rng: np.random.Generator, intent: str, language: str,
           abbreviated: bool = False) -> tuple[dict, dict]:
    """(slot texts for the template, params of the decision); `abbreviated`: for a radio
    abbreviation frame (casual.ABBREVIATED), units abbreviated half the time."""
    q = templates.quantity
    short_unit = abbreviated and rng.random() < casual.ABBREVIATED_UNIT_RATE
    if intent in ('takeoff', 'climb_to', 'descend_to'):
        if short_unit or rng.random() < FEET_RATE:
            feet = float(_pick(rng, FEET))
            text = _abbreviated_unit(rng, language, feet, 'ft') if short_unit else \
                templates.other_quantity(rng, language, feet, 'ft')
            return {'alt': text}, {'altitude_m': round(feet * 0.3048, 2)}
        alt = _amount(rng, 5, 120)
        if intent == 'climb_to' and rng.random() < 0.08:
            alt = float(rng.integers(130, 1000))
        return {'alt': q(rng, language, alt, 'm')}, {'altitude_m': alt}
    if intent in ('climb_by', 'descend_by'):
        delta = _amount(rng, 1, 40)
        sign = 1 if intent == 'climb_by' else -1
        return {'alt': q(rng, language, delta, 'm')}, {'delta_m': sign * delta}
    if intent == 'hold_for':
        if rng.random() < MINUTES_RATE:
            minutes = float(rng.integers(1, 6))
            return ({'sec': templates.other_quantity(rng, language, minutes, 'min')},
                    {'duration_s': minutes * 60})
        sec = float(rng.integers(5, 121))
        return {'sec': q(rng, language, sec, 's')}, {'duration_s': sec}
    if intent == 'move' or intent in STEP_INTENTS:
        dist = _amount(rng, 1, 100)
        which = int(rng.integers(4)) if intent == 'move' else STEP_INTENTS.index(intent)
        params = {'forward_m': 0, 'right_m': 0, 'up_m': 0}
        params['forward_m' if which < 2 else 'right_m'] = dist if which in (0, 3) else -dist
        direction = templates.DIRECTIONS[language][which]
        synonyms = templates.DIRECTION_SYNONYMS[language].get(which, ())
        if synonyms and rng.random() < 0.3:
            direction = _pick(rng, synonyms)
        return {'dist': q(rng, language, dist, 'm'), 'dir': direction}, params
    if intent == 'fly_compass':
        point = int(rng.integers(8))
        names = templates.COMPASS_SHORT if rng.random() < SHORT_COMPASS_RATE else templates.COMPASS
        if rng.random() < KM_RATE:
            km = float(_pick(rng, KM))
            dist, text = km * 1000, templates.other_quantity(rng, language, km, 'km')
        else:
            dist = _amount(rng, 10, 500, 0.0)
            text = q(rng, language, dist, 'm')
        return {'dist': text, 'cmp': names[language][point]}, \
            {'heading_deg': point * 45, 'distance_m': dist}
    if intent == 'face':
        if abbreviated:
            heading = int(rng.integers(72)) * 5
            return {'hdg': f'{heading:03d}'}, {'heading_deg': heading}
        point = int(rng.integers(8))
        return {'cmp': templates.COMPASS[language][point]}, {'heading_deg': point * 45}
    if intent == 'speed':
        if short_unit:
            knots = float(rng.integers(1, 11) * 2)
            return ({'speed': _abbreviated_unit(rng, language, knots, 'kn')},
                    {'speed_mps': round(knots * KNOT, 2)})
        draw = rng.random()
        if draw < KMH_RATE:
            speed = float(rng.integers(1, 16))
            return ({'speed': templates.other_quantity(rng, language, round(speed * 3.6, 1),
                                                      'kmh')}, {'speed_mps': speed})
        if draw < KMH_RATE + KNOTS_RATE:
            knots = float(rng.integers(1, 11) * 2)
            return ({'speed': templates.other_quantity(rng, language, knots, 'kn')},
                    {'speed_mps': round(knots * KNOT, 2)})
        speed = _amount(rng, 1, 15, 0.2)
        return {'speed': q(rng, language, speed, 'mps')}, {'speed_mps': speed}
    if intent in ('turn_left', 'turn_right'):
        deg = float(rng.integers(1, 37) * 5) if rng.random() < 0.85 else \
            float(rng.integers(1, 181))
        sign = -1 if intent == 'turn_left' else 1
        return {'deg': q(rng, language, deg, 'deg')}, {'yaw_deg': sign * deg}
    if intent == 'uturn':
        return {}, {'yaw_deg': 180}
    if intent in ('orbit', 'orbit_dir'):
        radius = _amount(rng, 5, 80, 0.0)
        direction = 0 if intent == 'orbit' else int(rng.integers(2))
        slots = {'radius': q(rng, language, radius, 'm')}
        if intent == 'orbit_dir':
            slots['rot'] = templates.ROTATIONS[language][direction]
        return slots, {'radius_m': radius,
                       'direction': ('clockwise', 'counterclockwise')[direction]}
    if intent == 'follow':
        return {}, {'distance_m': None}
    if intent == 'follow_at':
        dist = _amount(rng, 3, 40, 0.0)
        return {'dist': q(rng, language, dist, 'm')}, {'distance_m': dist}
    if intent == 'search':
        return {}, {'radius_m': None}
    if intent == 'search_radius':
        radius = float(rng.integers(2, 21) * 10)
        return {'radius': q(rng, language, radius, 'm')}, {'radius_m': radius}
    if intent in ('photo', 'photo_of'):
        count = int(rng.integers(1, 11)) if rng.random() < 0.6 else int(rng.integers(1, 6))
        return {'count': templates.photo_count(rng, language, count)}, {'count': count}
    if intent == 'hold':
        return {}, {'duration_s': None}
    if intent == 'nonsense':
        return {'noise': writing.noise(rng, templates.template_words())}, {}
    return {}, {}


ACTIONS = {
    'takeoff': 'takeoff', 'land': 'land', 'land_on': 'land', 'hold': 'hold', 'hold_for': 'hold',
    'home': 'return_to_home', 'move': 'goto', 'fly_compass': 'goto', 'goto_target': 'goto',
    'climb_to': 'change_altitude', 'climb_by': 'change_altitude',
    'descend_to': 'change_altitude', 'descend_by': 'change_altitude', 'speed': 'set_speed',
    'turn_left': 'rotate', 'turn_right': 'rotate', 'face': 'rotate', 'orbit': 'orbit',
    'orbit_dir': 'orbit', 'follow': 'follow', 'follow_at': 'follow', 'search': 'search',
    'photo': 'capture_photo', 'photo_of': 'capture_photo', 'stop': 'stop',
    'capabilities': 'answer', 'stunt': 'reject', 'vague_climb': 'clarify',
    'vague_takeoff': 'clarify', 'uturn': 'rotate', 'search_radius': 'search',
    'negation': 'clarify', 'offtopic': 'reject', 'nonsense': 'clarify',
    **{intent: 'goto' for intent in STEP_INTENTS},
}
TEXT_PARAM = {'answer': 'text', 'reject': 'reason', 'clarify': 'question'}


# Examples ---------------------------------------------------------------------------------------

def _intents(language: str, held_out: bool) -> tuple[list[str], np.ndarray]:
    names = [i for i in INTENT_WEIGHTS
             if i == MISSION_INTENT or templates.templates_for(i, language, held_out)]
    weights = np.asarray([INTENT_WEIGHTS[i] for i in names])
    return names, weights / weights.sum()


MISSION_FIRST = ('takeoff',)
MISSION_MIDDLE = ('move', 'fly_compass', 'climb_to', 'climb_by', 'descend_to', 'hold_for',
                  'turn_left', 'turn_right', 'face', 'photo', 'speed', 'goto_target', 'orbit',
                  'photo_of')
MISSION_LAST = ('land', 'home', 'land_on')
# Training commands only: slips of the keyboard, accents left out, shouting.
TYPO_RATE = 0.07
UNACCENTED_RATE = 0.1
SHOUTED_RATE = 0.03
LOWERED_RATE = 0.05  # all lower case, acronyms too ("rtl")
REPEATED_RATE = 0.15  # a short command said again for urgency ("land, land!")
REPEATS = (' ', ', ', '! ')


@dataclass
class _Step:
    text: str
    proposal: Proposal
    template: Template
    scene: scenes.Scene | None
    phenomena: tuple[str, ...] = ()


def _step(rng: np.random.Generator, intent: str, language: str, held_out: bool) -> _Step:
    """One command of `intent` and its decision; a grounded intent renders its scene. A
    training command now and then takes a casual-speech frame (casual.frame)."""
    template = _pick(rng, templates.templates_for(intent, language, held_out))
    framed = None if held_out else casual.frame(rng, intent, language)
    if framed is not None:
        template = Template(intent, language, framed[0], False)
    slots, params = _slots(rng, intent, language, framed is not None and
                           framed[1] == 'abbreviation')
    action = ACTIONS[intent]
    target = scene = None
    if intent in templates.GROUNDED:
        scene, slot_texts, target = _grounded_scene(rng, intent, language, template.text)
        slots.update(slot_texts)
    if action in TEXT_PARAM:
        params = {TEXT_PARAM[action]: TEXTS[language][intent]}
    proposal = Proposal(action, {k: canonical(v) for k, v in params.items()}, target,
                        CONFIDENCE if action != 'clarify' else 0.6,
                        RATIONALES[language].get(intent, RATIONALES[language][action]))
    proposal.validate()
    text = template.text.format(**slots)
    phenomena = (framed[1],) if framed else ()
    particled = None if held_out else casual.modal_particle(rng, text, language)
    if particled is not None:
        text, phenomena = particled, (*phenomena, 'particle')
    return _Step(text, proposal, template, scene, phenomena)


def _mission_intents(rng: np.random.Generator) -> list[str]:
    """2 to 4 step intents in an order a pilot would fly them, at most one about a target."""
    while True:
        middle = [_pick(rng, MISSION_MIDDLE) for _ in range(int(rng.integers(1, 4)))]
        intents = (list(MISSION_FIRST) if rng.random() < 0.5 else []) + middle + \
            ([_pick(rng, MISSION_LAST)] if rng.random() < 0.5 else [])
        if intents[:2] == ['takeoff', 'climb_to']:  # "take off and climb to" is one takeoff
            continue
        if 2 <= len(intents) <= 4 and sum(i in templates.GROUNDED for i in intents) <= 1:
            return intents


# Training commands are never a sentence of the evaluation sets (hand-written, casual speech,
# quantities; case and punctuation aside): such a draw is drawn again. Commands of one or two
# words ("land", "RTL", "vieni qua") are vocabulary the model must learn, not sentences.
MIN_GUARDED_WORDS = 3
MAX_DRAWS = 20


def normalised(text: str) -> str:
    """`text` as compared with the evaluation sets: case-folded words, no punctuation."""
    return ' '.join(re.findall(r'[^\W_]+', unicodedata.normalize('NFKC', text).casefold()))


@cache
def evaluation_sentences() -> frozenset[str]:
    """The evaluation sets' sentences of `MIN_GUARDED_WORDS` words or more, normalised (none
    where the sets are not installed: they live in the repository's test/data)."""
    from ministral_node.training import handwritten

    return frozenset(text for name, path in handwritten.SETS.items() if path.is_file()
                     for case in handwritten.load_set(name)
                     if len((text := normalised(case.text)).split()) >= MIN_GUARDED_WORDS)


def make_example(split: Split, index: int) -> Example:
    """The example `index` of a split; the same (split, index) always gives the same one. A
    training command that is an evaluation sentence is drawn again (`evaluation_sentences`)."""
    for attempt in range(MAX_DRAWS):
        extra = [attempt] if attempt else []
        rng = np.random.default_rng([split.seed, SPLITS.index(split.name), index, *extra])
        example = _draw(split, index, rng)
        if split.held_out or normalised(example.command) not in evaluation_sentences():
            return example
    raise RuntimeError(f'{split} example {index}: every draw was an evaluation sentence')


def _draw(split: Split, index: int, rng: np.random.Generator) -> Example:
    language = LANGUAGES[index % len(LANGUAGES)]
    names, weights = _intents(language, split.held_out)
    intent = names[int(rng.choice(len(names), p=weights))]
    run_on = False
    if intent == MISSION_INTENT:
        steps = [_step(rng, i, language, split.held_out) for i in _mission_intents(rng)]
        joins = (templates.HELD_OUT_CONNECTORS if split.held_out else templates.CONNECTORS)
        run_on = not split.held_out and rng.random() < casual.RATES['run_on']
        command = steps[0].text
        for step in steps[1:]:
            join = _pick(rng, joins[language])
            command += (casual.join(rng, language, join) if run_on else join) + step.text
        proposal = mission([s.proposal for s in steps], RATIONALES[language]['mission'],
                           CONFIDENCE)
        proposal.validate()
        template = Template(MISSION_INTENT, language, ' | '.join(s.template.text for s in steps),
                            split.held_out)
    else:
        steps = [_step(rng, intent, language, split.held_out)]
        command, proposal, template = steps[0].text, steps[0].proposal, steps[0].template
    scene = next((s.scene for s in steps if s.scene is not None), None) or \
        scenes.render_scene(rng)
    phenomena = tuple(p for s in steps for p in s.phenomena)
    if not split.held_out:
        command = _with_fillers(rng, command, language)
        labels = ' '.join(target.label for target in targets_of(proposal))
        command, spoken = casual.spoken(rng, command, language, labels)
        phenomena += spoken + (('run_on',) if run_on else ())
        command = _slips(rng, command, language, proposal)
    command = _written(rng, command)
    return Example(scene.image, command, language, intent, template, proposal, scene.objects,
                   tuple(dict.fromkeys(phenomena)))


def _slips(rng: np.random.Generator, command: str, language: str, proposal: Proposal) -> str:
    """How people type in a hurry: a typo, no accents, capitals or all lower case, a short
    command said again. Target names stay as the decision writes them (the model copies
    them)."""
    labels = ' '.join(target.label for target in targets_of(proposal))
    if rng.random() < TYPO_RATE:
        command = writing.typo(rng, command, keep=labels)
    if not labels and rng.random() < UNACCENTED_RATE:
        command = writing.unaccented(command, language, rng)
    if not labels and rng.random() < SHOUTED_RATE:
        command = command.upper()
    elif not labels and rng.random() < LOWERED_RATE:
        command = command.lower()
    if len(command.split()) <= 2 and rng.random() < REPEATED_RATE:
        command = _pick(rng, REPEATS).join([command] * int(rng.integers(2, 4)))
    return command


def _with_fillers(rng: np.random.Generator, command: str, language: str) -> str:
    """Sometimes a politeness word at the start or end, sometimes an urgency word after the
    verb or at the end."""
    polite, urgent = FILLERS[language]
    words = command.split(' ')
    if rng.random() < URGENT_RATE:
        word = _pick(rng, urgent)
        words.insert(1 if rng.random() < 0.5 else len(words), word)
    if rng.random() < POLITE_RATE:
        word = _pick(rng, polite)
        words.insert(0 if rng.random() < 0.7 else len(words), word)
    return ' '.join(words)


def _written(rng: np.random.Generator, command: str) -> str:
    """How operators type: sometimes a capital first letter, sometimes a full stop or '!'."""
    if rng.random() < CAPITALISED:
        command = command[0].upper() + command[1:]
    if command[-1].isalnum() and rng.random() < PUNCTUATED:
        command += '.' if rng.random() < 0.6 else '!'
    return command


def _grounded_scene(rng: np.random.Generator, intent: str, language: str, text: str
                    ) -> tuple[scenes.Scene, dict[str, str], Target]:
    kind = _pick(rng, [k for k in templates.TARGET_KINDS[intent] if k in scenes.CLASSES])
    color = _pick(rng, scenes.CLASSES[kind].colors)
    others = [o for o in scenes.random_objects(rng, int(rng.integers(0, 4)))
              if o != (kind, color)]
    absent = intent == 'search' and rng.random() < SEARCH_ABSENT
    scene = scenes.render_scene(rng, others if absent else [(kind, color), *others])
    unique = sum(1 for o in others if o[0] == kind) == 0
    named_color = None if unique and rng.random() < 0.35 else color
    variant = int(rng.integers(len(templates.NOUNS[language][kind])))
    forms = [f for f in ('np', 'np_dat', 'np_de', 'np_a') if '{' + f + '}' in text]
    slot_texts = {}
    label = ''
    for form in forms:
        slot_texts[form], label = templates.noun_phrase(language, kind, named_color, form,
                                                       variant)
    box = None
    if not absent:
        found = [o for o in scene.objects if (o.kind, o.color) == (kind, color)]
        if not found:  # no room to place it: render a scene with the target alone
            scene = scenes.render_scene(rng, [(kind, color)])
            found = scene.objects
        box = tuple(canonical(v) for v in found[0].box)
    return scene, slot_texts, Target(label, box)


def corpus(count: int = 4000, seed: int = 0) -> list[str]:
    """Texts the tokenizer learns from: commands and answers of training examples (of a seed
    the training does not use)."""
    texts = []
    for index in range(count):
        example = make_example(Split('train', seed + 99), index)
        texts += [example.command, answer_text(example.proposal)]
    return texts
