"""A decision's named target resolved to what the detector sees.

The target label, in any of the five languages ("plateforme rouge", "weißer LKW", "macchina
blu", "red pad", "persona"), is read as a class (multilingual class words) and an optional
colour; detections of that class whose measured colour matches are the candidates. One
candidate: the decision gets the detector's box and score (the model's own box only survives
where it agrees with a detection). None: `clarify` saying what is in view, except for the
first step of a mission the node flies: it keeps its target without a box, and the mission
executor searches for it (a full turn, then the search pattern) as for a later step. Several
equally good: `clarify` naming them with their bearings (left, ahead, right).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ministral_node.decision import MISSION, Proposal, Target, clarify, step_dict, steps_of
from ministral_node.perception.colors import box_color
from ministral_node.perception.detector import Detection, intersection, iou

AGREE_IOU = 0.5  # a model's box is kept only where it overlaps a detection this much
PART_OF = 0.8  # a detection this much inside a stronger one of its class is a part of it
# Actions whose target must be in view now; a `search` looks for it, so it is never asked back.
IN_VIEW_ACTIONS = ('land', 'goto', 'follow', 'orbit', 'capture_photo')

# Class concepts: the detector class names they match, and the words operators use, per
# language (accents and case are ignored when matching; German endings too); the first word of
# each language is the one answers say, spelled as written.
CLASS_WORDS: dict[str, tuple[tuple[str, ...], dict[str, tuple[str, ...]]]] = {
    'pad': (('pad', 'landing pad', 'landing_pad', 'helipad'), {
        'en': ('pad', 'landing pad', 'helipad', 'platform'),
        'fr': ('plateforme', 'plate-forme', 'aire', 'piste', 'helipad', 'pad'),
        'de': ('Plattform', 'landeplatz', 'landeplattform', 'landefeld', 'pad'),
        'es': ('plataforma', 'helipuerto', 'pad'),
        'it': ('piattaforma', 'piazzola', 'eliporto', 'pad')}),
    'car': (('car', 'auto', 'automobile'), {
        'en': ('car', 'auto'), 'fr': ('voiture', 'auto'), 'de': ('Auto', 'wagen', 'pkw'),
        'es': ('coche', 'auto', 'carro'), 'it': ('macchina', 'auto', 'automobile')}),
    'truck': (('truck', 'lorry'), {
        'en': ('truck', 'lorry'), 'fr': ('camion',),
        'de': ('LKW', 'lastwagen', 'laster', 'lastkraftwagen'), 'es': ('camión',),
        'it': ('camion', 'camioncino')}),
    'person': (('person', 'people', 'pedestrian'), {
        'en': ('person', 'man', 'woman', 'people', 'human', 'pedestrian'),
        'fr': ('personne', 'homme', 'femme', 'pieton'),
        'de': ('Person', 'mensch', 'mann', 'frau', 'fussganger'),
        'es': ('persona', 'hombre', 'mujer', 'peaton'),
        'it': ('persona', 'uomo', 'donna', 'pedone')}),
    'building': (('building', 'house'), {
        'en': ('building', 'house'), 'fr': ('bâtiment', 'maison', 'immeuble'),
        'de': ('Gebäude', 'haus'), 'es': ('edificio', 'casa'), 'it': ('edificio', 'casa')}),
    'tower': (('tower',), {
        'en': ('tower',), 'fr': ('tour',), 'de': ('Turm',), 'es': ('torre',),
        'it': ('torre',)}),
    'marker': (('marker',), {
        'en': ('marker',), 'fr': ('marqueur', 'balise'), 'de': ('Markierung', 'marker'),
        'es': ('marcador',), 'it': ('marcatore',)}),
    'tree': (('tree',), {
        'en': ('tree',), 'fr': ('arbre',), 'de': ('Baum',), 'es': ('árbol',),
        'it': ('albero',)}),
}
COLOR_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    'red': {'en': ('red',), 'fr': ('rouge',), 'de': ('rot',), 'es': ('rojo', 'roja'),
            'it': ('rosso', 'rossa', 'rossi', 'rosse')},
    'blue': {'en': ('blue',), 'fr': ('bleu', 'bleue'), 'de': ('blau',), 'es': ('azul',),
             'it': ('blu',)},
    'white': {'en': ('white',), 'fr': ('blanc', 'blanche'), 'de': ('weiß',),
              'es': ('blanco', 'blanca'), 'it': ('bianco', 'bianca', 'bianchi', 'bianche')},
    'black': {'en': ('black',), 'fr': ('noir', 'noire'), 'de': ('schwarz',),
              'es': ('negro', 'negra'), 'it': ('nero', 'nera', 'neri', 'nere')},
    'green': {'en': ('green',), 'fr': ('vert', 'verte'), 'de': ('grün',), 'es': ('verde',),
              'it': ('verde', 'verdi')},
    'yellow': {'en': ('yellow',), 'fr': ('jaune',), 'de': ('gelb',),
               'es': ('amarillo', 'amarilla'), 'it': ('giallo', 'gialla', 'gialli', 'gialle')},
    'orange': {'en': ('orange',), 'fr': ('orange',), 'de': ('orange', 'orangen'),
               'es': ('naranja',), 'it': ('arancione', 'arancio', 'arancioni')},
    'grey': {'en': ('grey', 'gray'), 'fr': ('gris', 'grise'), 'de': ('grau',),
             'es': ('gris',), 'it': ('grigio', 'grigia', 'grigi', 'grigie')},
}
_GERMAN_ENDINGS = ('em', 'en', 'er', 'es', 'e', 's')

# Colours a camera confuses in shade or light: a match when the named one is not in view.
SHADES = {'white': ('grey',), 'grey': ('white', 'black'), 'black': ('grey',)}

# Where a detection is in the frame (`bearing`), said in each language.
BEARING_WORDS = {
    'en': {'left': 'on the left', 'ahead': 'ahead', 'right': 'on the right'},
    'fr': {'left': 'à gauche', 'ahead': 'devant', 'right': 'à droite'},
    'de': {'left': 'links', 'ahead': 'voraus', 'right': 'rechts'},
    'es': {'left': 'a la izquierda', 'ahead': 'delante', 'right': 'a la derecha'},
    'it': {'left': 'a sinistra', 'ahead': 'davanti', 'right': 'a destra'},
}
# What a clarifying question says, per language.
_PHRASES = {
    'en': {
           'none': "I don't see {target}. In view: {seen}. Which one do you mean?",
           'nothing': "I don't see {target}, nor anything I can recognise. What should I do?",
           'several': 'I see {count} that match {target}: {seen}. Which one?', 'or': 'or'},
    'fr': {
           'none': 'Je ne vois pas {target}. En vue : {seen}. Lequel voulez-vous dire ?',
           'nothing': 'Je ne vois pas {target}, ni rien que je reconnaisse. Que dois-je faire ?',
           'several': 'Je vois {count} correspondances pour {target} : {seen}. Laquelle ?',
           'or': 'ou'},
    'de': {
           'none': 'Ich sehe {target} nicht. Im Bild: {seen}. Welches meinst du?',
           'nothing': 'Ich sehe {target} nicht und auch sonst nichts, was ich erkenne. '
                      'Was soll ich tun?',
           'several': 'Ich sehe {count}, die zu {target} passen: {seen}. Welches?',
           'or': 'oder'},
    'es': {
           'none': 'No veo {target}. A la vista: {seen}. ¿Cuál quieres decir?',
           'nothing': 'No veo {target} ni nada que reconozca. ¿Qué debo hacer?',
           'several': 'Veo {count} que coinciden con {target}: {seen}. ¿Cuál?', 'or': 'o'},
    'it': {
           'none': 'Non vedo {target}. In vista: {seen}. Quale intendi?',
           'nothing': 'Non vedo {target} né altro che riconosca. Cosa devo fare?',
           'several': 'Vedo {count} corrispondenze per {target}: {seen}. Quale?', 'or': 'o'},
}


def fold(text: str) -> str:
    """Lower case, accents removed, ß as ss: how labels and questions are compared."""
    text = text.lower().replace('ß', 'ss')
    text = unicodedata.normalize('NFKD', text)
    return ''.join(c for c in text if not unicodedata.combining(c))


def _words(text: str) -> list[str]:
    return re.findall(r'[a-z0-9]+', fold(text))


def _plural(word: str, stem: str) -> bool:
    """Whether `word` is a plural of `stem`: -s/-es (English, French, Spanish) or the Italian
    -a/-o/-e to -e/-i."""
    if word in (stem + 's', stem + 'es'):
        return True
    return len(stem) > 3 and stem[-1] in 'aoe' and word in (stem[:-1] + 'e', stem[:-1] + 'i')


def _matches(words: list[str], phrase: str, german: bool) -> bool:
    """Whether the folded `phrase` (one or more words) occurs in `words`, plurals included; a
    German word may carry an adjective or plural ending."""
    parts = _words(phrase)
    for start in range(len(words) - len(parts) + 1):
        window = words[start:start + len(parts)]
        if all(w == p or _plural(w, p)
               or (german and w.startswith(p) and w[len(p):] in _GERMAN_ENDINGS)
               for w, p in zip(window, parts)):
            return True
    return False


@dataclass(frozen=True)
class TargetQuery:
    """What a label asks for: a class concept (None when no class word is known) and an
    optional colour."""

    concept: str | None
    color: str | None

    def class_names(self) -> tuple[str, ...]:
        return CLASS_WORDS[self.concept][0] if self.concept else ()


def parse_label(label: str) -> TargetQuery:
    """The class and colour a target label names, in any of the five languages."""
    words = _words(label)
    concept = color = None
    for name, (_classes, per_language) in CLASS_WORDS.items():
        if any(_matches(words, w, lang == 'de') for lang, ws in per_language.items()
               for w in ws):
            concept = name
            break
    for name, per_language in COLOR_WORDS.items():
        if any(_matches(words, w, lang == 'de') for lang, ws in per_language.items()
               for w in ws):
            color = name
            break
    return TargetQuery(concept, color)


@dataclass(frozen=True)
class Seen:
    """One detection as grounding sees it: with its measured colour and bearing."""

    detection: Detection
    color: str
    color_share: float
    bearing: str  # left, ahead or right, from the box centre

    def to_dict(self) -> dict:
        return {**self.detection.to_dict(), 'color': self.color,
                'color_share': round(self.color_share, 3), 'bearing': self.bearing}


def bearing(detection: Detection) -> str:
    """left, ahead or right: the third of the image the box centre is in."""
    x = detection.center[0]
    return 'left' if x < 1 / 3 else 'right' if x > 2 / 3 else 'ahead'


def inside_share(inner: Sequence[float], outer: Sequence[float]) -> float:
    """The share of box `inner`'s area that lies inside box `outer` (xyxy)."""
    area = (inner[2] - inner[0]) * (inner[3] - inner[1])
    return intersection(inner, outer) / area if area > 0 else 1.0


def look(image: np.ndarray, detections: Sequence[Detection]) -> list[Seen]:
    """Each detection with its colour measured in `image` (RGB) and its bearing, best first.
    A detection lying mostly inside a stronger one of its class (`PART_OF`) is a part of that
    object (NMS keeps it: their IoU is low), not a second one to ask about or count."""
    seen: list[Seen] = []
    for detection in sorted(detections, key=lambda d: -d.score):
        if any(s.detection.label == detection.label
               and inside_share(detection.box, s.detection.box) >= PART_OF for s in seen):
            continue
        color, share = box_color(image, detection.box_px)
        seen.append(Seen(detection, color, share, bearing(detection)))
    return seen


@dataclass(frozen=True)
class Grounding:
    """How a decision's target was resolved against the detections (the decision's
    `grounding`): status grounded, ambiguous, not_in_view, unknown_class or no_target."""

    label: str
    status: str
    query: TargetQuery
    detection: Seen | None = None
    candidates: tuple[Seen, ...] = ()
    in_view: tuple[Seen, ...] = ()
    model_box: str = 'none'  # none, agreed (IoU >= 0.5 with a detection) or dropped
    detect_ms: float = 0.0
    searching: bool = False  # not in view: a mission's first step left to search for it

    def to_dict(self) -> dict:
        return {'label': self.label, 'status': self.status, 'class': self.query.concept,
                'color': self.query.color,
                'detection': None if self.detection is None else self.detection.to_dict(),
                'candidates': [c.to_dict() for c in self.candidates],
                'in_view': [s.to_dict() for s in self.in_view[:10]],
                'model_box': self.model_box, 'detect_ms': round(self.detect_ms, 2)}


def class_word(label: str, language: str) -> str:
    """The operator's word for a detector class ('pad' -> 'plateforme' in French); the class
    name itself when it is none of the known concepts."""
    lowered = label.lower()
    concept = next((c for c, (names, _) in CLASS_WORDS.items() if lowered in names), None)
    if concept is None:
        return label
    words = CLASS_WORDS[concept][1]
    return words.get(language, words['en'])[0]


def color_word(color: str, language: str) -> str:
    """A named colour in the operator's language."""
    return COLOR_WORDS[color].get(language, COLOR_WORDS[color]['en'])[0]


def bearing_word(seen: Seen, language: str) -> str:
    """Where `seen` is in the frame (left, ahead, right) in the operator's language."""
    return BEARING_WORDS.get(language, BEARING_WORDS['en'])[seen.bearing]


def join_list(parts: Sequence[str], joiner: str) -> str:
    """'a, b and c': `parts` joined by commas, the last by `joiner` ('and', 'or', ...)."""
    if len(parts) <= 1:
        return ''.join(parts)
    return ', '.join(parts[:-1]) + f' {joiner} ' + parts[-1]


def _describe(seen: Seen, language: str) -> str:
    where = bearing_word(seen, language)
    noun = class_word(seen.detection.label, language)
    if language == 'en':
        article = 'an' if seen.color[:1] in 'aeiou' else 'a'  # "an orange pad"
        return f'{article} {seen.color} {noun} {where}'
    return f'{noun} ({color_word(seen.color, language)}) {where}'


def _listing(seen: Sequence[Seen], language: str, joiner: str) -> str:
    return join_list([_describe(s, language) for s in seen[:4]], joiner)


def told_apart(candidates: Sequence[Seen]) -> list[Seen]:
    """Detections whose bearings collide (two red pads both ahead) with bearings relative to
    each other instead, left to right, so a question or an answer tells them apart; others as
    they are."""
    if len({c.bearing for c in candidates}) == len(candidates) or len(candidates) > 3:
        return list(candidates)
    order = sorted(candidates, key=lambda c: c.detection.center[0])
    sides = ('left', 'right') if len(order) == 2 else ('left', 'ahead', 'right')
    return [replace(c, bearing=side) for c, side in zip(order, sides)]


def _model_box(box: Sequence[float] | None, detections: Sequence[Seen]) -> str:
    if box is None:
        return 'none'
    agrees = any(iou(box, s.detection.box) >= AGREE_IOU for s in detections)
    return 'agreed' if agrees else 'dropped'


def _candidates(query: TargetQuery, seen: list[Seen]) -> list[Seen]:
    """Detections of the queried class in the colour it names; where none is, a shade of it
    (white, grey and black differ in lightness only, which shade and exposure change). Never
    another hue: orange is no red pad, even with no red one in view (the simulated world has
    pads of both); the question that follows then names what is in view."""
    names = {n.lower() for n in query.class_names()}
    of_class = [s for s in seen if s.detection.label.lower() in names]
    if query.color is None:
        return of_class
    exact = [s for s in of_class if s.color == query.color]
    return exact or [s for s in of_class if s.color in SHADES.get(query.color, ())]


def target_box(seen: Seen) -> tuple[float, float, float, float]:
    """A detection's normalised box as a decision's target carries it (clamped, rounded)."""
    return tuple(round(min(1.0, max(0.0, v)), 4) for v in seen.detection.box)


def knows(query: TargetQuery, known_classes: Sequence[str]) -> bool:
    """Whether a detector that knows `known_classes` can find what `query` asks for."""
    known = {c.lower() for c in known_classes}
    return bool(query.concept) and bool(known & {n.lower() for n in query.class_names()})


def matching(label: str, seen: Sequence[Seen]) -> list[Seen]:
    """The detections `label` names: of its class, with the best colour match."""
    return _candidates(parse_label(label), list(seen))


def ground(proposal: Proposal, seen: list[Seen], known_classes: Sequence[str],
           language: str = 'en', detect_ms: float = 0.0, *,
           searched: Collection[str] = ()) -> tuple[Proposal, Grounding]:
    """`proposal` with its target resolved against the detections `seen` of a detector that
    knows `known_classes`; a `clarify` instead when the target is not in view or ambiguous
    (for actions that need it in view). In a mission only the first step is resolved: the
    executor places a step's box from the pose it starts at, which only the first shares with
    the frame. A first step whose action is in `searched` (the actions the mission executor
    searches for, when it flies the mission) and whose target is not in view keeps its target
    without a box instead of asking back: the executor searches for it, as for a later step."""
    if proposal.action == MISSION:
        return _ground_first_step(proposal, seen, known_classes, language, detect_ms,
                                  searched)
    target = proposal.target
    if target is None:
        return proposal, Grounding('', 'no_target', TargetQuery(None, None), in_view=tuple(seen),
                                   detect_ms=detect_ms)
    query = parse_label(target.label)
    model_box = _model_box(target.box, seen)
    if not knows(query, known_classes):
        # The detector cannot find this kind of thing: the model's box stands where it agrees.
        kept = target.box if model_box == 'agreed' else None
        result = Grounding(target.label, 'unknown_class', query, in_view=tuple(seen),
                           model_box=model_box, detect_ms=detect_ms)
        return replace(proposal, target=Target(target.label, kept)), result
    candidates = _candidates(query, seen)
    if len(candidates) > 1 and target.box is not None:
        agreeing = [c for c in candidates if iou(target.box, c.detection.box) >= AGREE_IOU]
        if len(agreeing) == 1:  # the model's own box picks one of them
            candidates = agreeing
    if len(candidates) == 1:
        (chosen,) = candidates
        box = target_box(chosen)
        result = Grounding(target.label, 'grounded', query, chosen, (chosen,), tuple(seen),
                           model_box, detect_ms)
        return replace(proposal, target=Target(target.label, box)), result
    status = 'ambiguous' if candidates else 'not_in_view'
    result = Grounding(target.label, status, query, None, tuple(candidates), tuple(seen),
                       model_box, detect_ms)
    if proposal.action not in IN_VIEW_ACTIONS:
        return replace(proposal, target=Target(target.label, None)), result
    phrases = _PHRASES.get(language, _PHRASES['en'])
    quoted = f'"{target.label}"'
    if candidates:
        question = phrases['several'].format(
            count=len(candidates), target=quoted,
            seen=_listing(told_apart(candidates), language, phrases['or']))
    elif seen:
        question = phrases['none'].format(target=quoted,
                                          seen=_listing(seen, language, phrases['or']))
    else:
        question = phrases['nothing'].format(target=quoted)
    rationale = f'{proposal.action} {target.label}: {status.replace("_", " ")} (detector)'
    return clarify(question, rationale[:200], proposal.confidence), result


def _ground_first_step(proposal: Proposal, seen: list[Seen], known_classes: Sequence[str],
                       language: str, detect_ms: float, searched: Collection[str]
                       ) -> tuple[Proposal, Grounding]:
    """A mission with its first step's target resolved, or left to be searched for (or a
    clarify for it)."""
    first = steps_of(proposal)[0]
    grounded, result = ground(first, seen, known_classes, language, detect_ms)
    if result.status == 'not_in_view' and first.action in searched:
        grounded = replace(first, target=Target(first.target.label, None))
        result = replace(result, searching=True)
    elif grounded.action != first.action:  # asked back: the mission cannot start
        return grounded, result
    steps = [step_dict(grounded), *proposal.params['steps'][1:]]
    return replace(proposal, params={**proposal.params, 'steps': steps}), result
