"""Questions about the scene answered from the detections, in the operator's language.

"What is below us?", "what do you see?" (describe), "is there a person?" (presence) and "how
many red cars?" (count), in English, French, German, Spanish and Italian: counts, classes,
colours and bearings (left, ahead, right) of what the detector found in the decision's frame,
and each one's ground distance where the caller can estimate it (camera model and altitude
known; otherwise the answer says nothing about distance).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ministral_node.decision import Proposal, answer
from ministral_node.perception.grounding import (
    Seen,
    TargetQuery,
    bearing_word,
    class_word,
    color_word,
    fold,
    join_list,
    parse_label,
    told_apart,
)

DESCRIBE, PRESENCE, COUNT = 'describe', 'presence', 'count'

# Question forms, matched on the folded text (lower case, accents removed, ß as ss).
_FORMS: tuple[tuple[str, str], ...] = (
    (COUNT, r'\bhow many\b|\bcombien\b|\bwie ?viele?\b|\bcuant[oa]s\b|\bquant[ie]\b'),
    (PRESENCE, r'\bis there\b|\bare there\b|\bdo you see an?\b|\bcan you see an?\b'
               r'|\by a[ -]t[ -]il\b|\bvois[ -]tu (un|une|des)\b|\bvoyez[ -]vous (un|une|des)\b'
               r'|\bgibt es\b|\bsiehst du (ein|eine|einen)\b|\bhay\b|\bves (un|una)\b'
               r"|\bc'?e\b|\bci sono\b|\bvedi (un|una|uno|dei|delle)\b"),
    (DESCRIBE, r'\bwhat\b.*\b(below|under(neath)?|beneath|see|in view|there|ahead|around)\b'
               r"|\bqu'?est[ -]ce qu'?il y a\b|\bque vois\b|\bqu'?y a[ -]t[ -]il\b"
               r"|\bqu'?est[ -]ce que (tu vois|vous voyez)\b|\bwas (ist|siehst|gibt es)\b"
               r'|\bque hay\b|\bque ves\b|\bcosa (c.?e|vedi)\b|\bche cosa (c.?e|vedi)\b'),
)

_TEXTS = {
    'en': {'and': 'and', 'distance': 'about {m} m',
           'describe': 'In view: {items}.', 'nothing': 'I see nothing I can recognise.',
           'yes': 'Yes: {count} {what}, {where}.', 'no': 'No, I see no {what}.',
           'no_but': 'No, I see no {what}. In view: {items}.',
           'count': 'I see {count} {what}{where}.'},
    'fr': {'and': 'et', 'distance': 'à environ {m} m',
           'describe': 'En vue : {items}.', 'nothing': 'Je ne vois rien que je reconnaisse.',
           'yes': 'Oui : {count} × {what}, {where}.', 'no': 'Non, je ne vois pas de {what}.',
           'no_but': 'Non, je ne vois pas de {what}. En vue : {items}.',
           'count': 'Je vois {count} × {what}{where}.'},
    'de': {'and': 'und', 'distance': 'etwa {m} m',
           'describe': 'Im Bild: {items}.', 'nothing': 'Ich sehe nichts, was ich erkenne.',
           'yes': 'Ja: {count} × {what}, {where}.', 'no': 'Nein, ich sehe kein(e) {what}.',
           'no_but': 'Nein, ich sehe kein(e) {what}. Im Bild: {items}.',
           'count': 'Ich sehe {count} × {what}{where}.'},
    'es': {'and': 'y', 'distance': 'a unos {m} m',
           'describe': 'A la vista: {items}.', 'nothing': 'No veo nada que reconozca.',
           'yes': 'Sí: {count} × {what}, {where}.', 'no': 'No, no veo ningún/a {what}.',
           'no_but': 'No, no veo ningún/a {what}. A la vista: {items}.',
           'count': 'Veo {count} × {what}{where}.'},
    'it': {'and': 'e', 'distance': 'a circa {m} m',
           'describe': 'In vista: {items}.', 'nothing': 'Non vedo niente che riconosca.',
           'yes': 'Sì: {count} × {what}, {where}.', 'no': 'No, non vedo {what}.',
           'no_but': 'No, non vedo {what}. In vista: {items}.',
           'count': 'Vedo {count} × {what}{where}.'},
}


# The ground distance (m) of a detection, or None when it cannot be estimated.
Distance = Callable[[Seen], float | None]


def about_m(distance: float) -> int:
    """A distance rounded as it is said: to the metre below 10 m, to 5 m below 100 m, else to
    10 m."""
    step = 1 if distance < 10 else 5 if distance < 100 else 10
    return max(step, int(distance / step + 0.5) * step)


@dataclass(frozen=True)
class SceneQuestion:
    """A question about the scene: its form (describe, presence, count) and what it asks
    about (class and colour; none for describe)."""

    form: str
    query: TargetQuery


def scene_question(text: str) -> SceneQuestion | None:
    """The scene question `text` asks, or None when it is not one."""
    folded = fold(text).replace('’', "'")
    for form, pattern in _FORMS:
        if re.search(pattern, folded):
            query = parse_label(text)
            if form != DESCRIBE and query.concept is None:
                return SceneQuestion(DESCRIBE, query)
            return SceneQuestion(form, query)
    return None


def _where(seen: Seen, language: str, distance: Distance | None) -> str:
    """Where `seen` is: its bearing, after its ground distance when that is known."""
    metres = None if distance is None else distance(seen)
    where = bearing_word(seen, language)
    if metres is None:
        return where
    return f"{_TEXTS[language]['distance'].format(m=about_m(metres))} {where}"


def _item(seen: Seen, language: str, distance: Distance | None) -> str:
    noun = class_word(seen.detection.label, language)
    color = color_word(seen.color, language)
    described = f'{color} {noun}' if language == 'en' else f'{noun} ({color})'
    return f'{described} {_where(seen, language, distance)}'


def _join(parts: Sequence[str], language: str) -> str:
    return join_list(parts, _TEXTS[language]['and'])


def _matching(question: SceneQuestion, seen: Sequence[Seen]) -> list[Seen]:
    names = {n.lower() for n in question.query.class_names()}
    found = [s for s in seen if s.detection.label.lower() in names]
    if question.query.color is not None:
        found = [s for s in found if s.color == question.query.color]
    return found


def answer_scene(question: SceneQuestion, seen: Sequence[Seen], language: str = 'en',
                 distance: Distance | None = None) -> Proposal:
    """An `answer` to the scene question from the detections `seen`; `distance` gives each
    one's ground distance (None, or its None for a detection: not said)."""
    language = language if language in _TEXTS else 'en'
    texts = _TEXTS[language]
    items = _join([_item(s, language, distance) for s in seen[:6]], language)
    rationale = f'scene question ({question.form}) answered from {len(seen)} detection(s)'
    if question.form == DESCRIBE:
        return answer(texts['describe'].format(items=items) if seen else texts['nothing'],
                      rationale)
    found = _matching(question, seen)
    names = question.query.class_names()
    what = class_word(names[0] if names else '', language)
    if question.query.color is not None:
        color = color_word(question.query.color, language)
        what = f'{color} {what}' if language == 'en' else f'{what} ({color})'
    where = _join([_where(s, language, distance) for s in told_apart(found)], language)
    if question.form == PRESENCE:
        if found:
            return answer(texts['yes'].format(count=len(found), what=what, where=where),
                          rationale)
        if seen:
            return answer(texts['no_but'].format(what=what, items=items), rationale)
        return answer(texts['no'].format(what=what), rationale)
    return answer(texts['count'].format(count=len(found), what=what,
                                        where=f': {where}' if found else ''), rationale)
