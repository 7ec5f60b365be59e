"""Casual speech in training commands: how operators talk on a radio or type in a hurry.

    frame(rng, 'land', 'en')            # ('put her down', 'colloquial') now and then, or None
    spoken(rng, 'monte à 30 m', 'fr')   # ('allez, monte à 30 m', ('particle',)) now and then

Each phenomenon is drawn at its rate in `RATES` (`ministral-train --casual-rate NAME=RATE`):

- `filler`: a hesitation or filler at the start ("uh", "ok so", "alors", "ja gut", "pues")
- `particle`: a discourse particle and a comma at the start ("right,", "allez,", "los,",
  "venga,", "dai,"), and German modal particles after the verb ("flieg halt heim")
- `colloquial`: the action said with another verb of it ("bring her home", "put her down",
  "hop up to 20 m", "pose-toi", "heb ab auf 20 m", "tira su a 20 m", "vete 10 m a la derecha")
- `infinitive`: written-instruction forms: infinitives and German verb-final clauses
  ("Tempo auf 36 km/h setzen", "faire trois photos", "atterrare sopra la piattaforma"; in
  English a request before the imperative: "I need you to land")
- `abbreviation`: radio abbreviations ("alt 300 ft", "spd 12 kts", "hdg 090", "fwd 20 m",
  "RTB"), the decision in the contract's units
- `typo`: one action or direction word misspelt by one edit, one the rule parser reads back
  as that word (numbers and negations never)
- `run_on`: a mission's steps run together with commas, fillers and particles ("take off to
  10 m, uh then head north 30 m")

The words come from the rule parser's vocabulary (`sources/rules/lexicon.py`), so the model
learns the words the parser reads, and a word added there reaches the training data. The
decision is the one the command asks for: fillers and particles change nothing, a misspelt
direction still goes that way, a negated command still asks back. Training split only.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from ministral_node.sources.rules import lexicon as lx
from ministral_node.sources.rules.spelling import MIN_TYPO_CHARS, correction, guarded
from ministral_node.sources.rules.text import fold, phrase_keys
from ministral_node.sources.rules.units import UNITS
from ministral_node.training.templates import DIRECTIONS, LANGUAGES, TEMPLATES

RATES = {'filler': 0.08, 'particle': 0.06, 'colloquial': 0.1, 'infinitive': 0.08,
         'abbreviation': 0.05, 'typo': 0.06, 'run_on': 0.3}
# Phenomena that replace a step's sentence frame, in the order they are tried.
FRAMES = ('abbreviation', 'colloquial', 'infinitive')

# Colloquial frames: the lexicon concept whose verbs say the intent, and where they go.
_TO = {'en': '{verb} to {alt}', 'fr': '{verb} à {alt}', 'de': '{verb} auf {alt}',
       'es': '{verb} a {alt}', 'it': '{verb} a {alt}'}
_BY = {'en': '{verb} {alt}', 'fr': '{verb} de {alt}', 'de': '{verb} um {alt}',
       'es': '{verb} {alt}', 'it': '{verb} di {alt}'}
_ALONE = {lang: '{verb}' for lang in LANGUAGES}
_TURN = {lang: '{verb} {side} {deg}' for lang in LANGUAGES}
COLLOQUIAL = {
    'land': ('intent.land', _ALONE), 'home': ('intent.rth', _ALONE),
    'hold': ('intent.hold', _ALONE), 'stop': ('intent.stop', _ALONE),
    'takeoff': ('intent.takeoff', _TO), 'climb_to': ('change.up', _TO),
    'descend_to': ('change.down', _TO), 'climb_by': ('change.up', _BY),
    'descend_by': ('change.down', _BY),
    'move': ('intent.move', {'en': '{verb} {dir} {dist}', 'fr': '{verb} {dir} de {dist}',
                             'de': '{verb} {dist} {dir}', 'es': '{verb} {dist} {dir}',
                             'it': '{verb} {dist} {dir}'}),
    'fly_compass': ('intent.move', {'en': '{verb} {cmp} {dist}',
                                    'fr': '{verb} vers {cmp} sur {dist}',
                                    'de': '{verb} {dist} nach {cmp}',
                                    'es': '{verb} hacia {cmp} {dist}',
                                    'it': '{verb} verso {cmp} per {dist}'}),
    'turn_left': ('intent.rotate', _TURN), 'turn_right': ('intent.rotate', _TURN),
}
_SIDES = {'turn_left': 2, 'turn_right': 3}  # index in templates.DIRECTIONS

# Written instructions: infinitives (German: verb last). English has none of its own: a
# request ("I need you to", from the lexicon) goes before an English template instead.
INFINITIVES: dict[str, dict[str, tuple[str, ...]]] = {
    'fr': {'takeoff': ('décoller à {alt}',), 'land': ('atterrir', 'se poser'),
           'land_on': ('atterrir sur {np}', 'se poser sur {np}'),
           'home': ('rentrer à la base', 'revenir au point de départ'),
           'climb_to': ('monter à {alt}', "régler l'altitude à {alt}"),
           'descend_to': ('descendre à {alt}',), 'climb_by': ('monter de {alt}',),
           'descend_by': ('descendre de {alt}',),
           'speed': ('régler la vitesse à {speed}', 'passer la vitesse à {speed}'),
           'move': ('aller {dir} de {dist}',), 'fly_compass': ('voler vers {cmp} sur {dist}',),
           'turn_left': ('tourner à gauche de {deg}',),
           'turn_right': ('tourner à droite de {deg}',),
           'hold': ('rester en place',), 'hold_for': ('attendre {sec}',),
           'photo': ('faire {count}', 'prendre {count}'),
           'photo_of': ('prendre {count} {np_de}',), 'follow': ('suivre {np}',),
           'search': ('chercher {np}', 'rechercher {np}'), 'goto_target': ('aller vers {np}',)},
    'de': {'takeoff': ('auf {alt} starten', 'auf {alt} abheben'),
           'land': ('sofort landen', 'hier landen'), 'land_on': ('auf {np_dat} landen',),
           'home': ('nach Hause fliegen', 'zur Basis zurückkehren'),
           'climb_to': ('auf {alt} steigen', 'Höhe auf {alt} setzen'),
           'descend_to': ('auf {alt} sinken',), 'climb_by': ('um {alt} steigen',),
           'descend_by': ('um {alt} sinken',),
           'speed': ('Tempo auf {speed} setzen', 'Geschwindigkeit auf {speed} einstellen'),
           'move': ('{dist} {dir} fliegen',), 'fly_compass': ('{dist} nach {cmp} fliegen',),
           'turn_left': ('{deg} nach links drehen',),
           'turn_right': ('{deg} nach rechts drehen',),
           'hold': ('hier warten',), 'hold_for': ('{sec} warten',),
           'photo': ('{count} machen', '{count} aufnehmen'),
           'photo_of': ('{count} von {np_dat} machen',), 'follow': ('{np_dat} folgen',),
           'search': ('nach {np_dat} suchen', '{np} suchen'),
           'goto_target': ('zu {np_dat} fliegen',)},
    'es': {'takeoff': ('despegar a {alt}',), 'land': ('aterrizar',),
           'land_on': ('aterrizar en {np}',), 'home': ('volver a casa', 'regresar a la base'),
           'climb_to': ('subir a {alt}',), 'descend_to': ('bajar a {alt}', 'descender a {alt}'),
           'climb_by': ('subir {alt}',), 'descend_by': ('bajar {alt}',),
           'speed': ('poner la velocidad a {speed}', 'ajustar la velocidad a {speed}'),
           'move': ('volar {dist} {dir}',), 'fly_compass': ('volar {dist} hacia {cmp}',),
           'turn_left': ('girar a la izquierda {deg}',),
           'turn_right': ('girar {deg} a la derecha',),
           'hold': ('esperar aquí',), 'hold_for': ('esperar {sec}',),
           'photo': ('hacer {count}', 'sacar {count}'),
           'photo_of': ('hacer {count} {np_de}',), 'follow': ('seguir {np_a}',),
           'search': ('buscar {np_a}', 'encontrar {np_a}'), 'goto_target': ('volar hacia {np}',)},
    'it': {'takeoff': ('decollare a {alt}',), 'land': ('atterrare',),
           'land_on': ('atterrare sopra {np}',),
           'home': ('tornare a casa', 'rientrare alla base'),
           'climb_to': ('salire a {alt}', 'portare la quota a {alt}'),
           'descend_to': ('scendere a {alt}',), 'climb_by': ('salire di {alt}',),
           'descend_by': ('scendere di {alt}',), 'speed': ('impostare la velocità a {speed}',),
           'move': ('volare {dist} {dir}',), 'fly_compass': ('volare verso {cmp} per {dist}',),
           'turn_left': ('girare a sinistra di {deg}',),
           'turn_right': ('ruotare di {deg} a destra',),
           'hold': ('restare fermo',), 'hold_for': ('aspettare {sec}', 'attendere {sec}'),
           'photo': ('fare {count}', 'scattare {count}'),
           'photo_of': ('scattare {count} {np_de}',), 'follow': ('seguire {np}',),
           'search': ('cercare {np}', 'trovare {np}'), 'goto_target': ('andare verso {np}',)},
}
# Intents an English request may open (questions and refusals need no request).
_REQUESTABLE = frozenset(INFINITIVES['fr'])

# Radio abbreviations, the same in every language; `{hdg}` is a three-digit heading.
ABBREVIATED = {
    'climb_to': ('alt {alt}', 'ALT {alt}'), 'speed': ('spd {speed}', 'SPD {speed}'),
    'face': ('hdg {hdg}', 'HDG {hdg}'),
    'step_forward': tuple(f'{word} {{dist}}' for word in
                          lx.VOCAB['dir.forward']['all'].split('|')),
    'step_back': tuple(f'{word} {{dist}}' for word in lx.VOCAB['dir.back']['all'].split('|')),
    'home': tuple(word for abbreviation in lx.VOCAB['intent.rth']['all'].split('|')
                  for word in (abbreviation.upper(), abbreviation)),
}
ABBREVIATED_UNIT_RATE = 0.5  # "alt 300 ft", "spd 12 kts": the unit abbreviated too


@cache
def unit_abbreviations(symbol: str) -> tuple[str, ...]:
    """The rule parser's abbreviations of a unit, written without vowels ('kn' -> 'kn',
    'kt', 'kts'; 'ft')."""
    return tuple(sorted(key[0] for key, unit in UNITS.items()
                        if unit.symbol == symbol and len(key) == 1 and key[0].isalpha()
                        and not set(key[0]) & set('aeiouy')))


def _negated(phrase: str, lang: str) -> bool:
    return any(guarded(word) or lx.PHRASES[lang].get((word,), lx.Entry('', '')).kind == 'neg'
               for key in phrase_keys(phrase) for word in key)


@cache
def verbs(concept: str, lang: str) -> tuple[str, ...]:
    """The lexicon's verbs of `concept` in `lang`: no noun forms, no ambiguous words, nothing
    with a negation in it ("don't move" holds, but is no example of a plain hold)."""
    spec = lx.VOCAB[concept].get(lang, '')
    return tuple(phrase for phrase in spec.split('|')
                 if phrase and phrase[-1] != '*' and phrase[0] != '~'
                 and not _negated(phrase, lang))


@cache
def fillers(lang: str) -> tuple[str, ...]:
    """Fillers of `lang` (and of every language: "uh", "ok") that can open a clause: up to
    two words, none a negation or number, not led by "and" ("y ya", "e basta" close one)."""
    phrases = [*lx.VOCAB['filler'][lang].split('|'), *lx.VOCAB['filler']['all'].split('|'),
               *(p for p in lx.VOCAB['glue']['all'].split('|') if p[0] != '~')]
    ands = lx.phrase_set(lx.VOCAB['and'][lang])
    return tuple(p for p in phrases if p and not _negated(p, lang)
                 and all(len(key) <= 2 and key[:1] not in ands for key in phrase_keys(p)))


@cache
def requests() -> tuple[str, ...]:
    """English request phrases that take an infinitive ("I need you to"): the lexicon's
    glue ending in "to", less the questions about ability."""
    ability = {phrase for spec in lx.ABILITY['en'].values() for phrase in spec.split('|')}
    return tuple(p for p in lx.VOCAB['glue']['en'].split('|')
                 if p.endswith(' to') and p not in ability)


def _pick(rng: np.random.Generator, items) -> str:
    return items[int(rng.integers(len(items)))]


def frame(rng: np.random.Generator, intent: str, language: str) -> tuple[str, str] | None:
    """(a sentence frame for `intent` in the manner of one phenomenon of `FRAMES`, its name),
    drawn at the phenomena's rates; None for the intent's ordinary templates."""
    for name in FRAMES:
        if rng.random() >= RATES[name]:
            continue
        text = _frame(rng, name, intent, language)
        if text is not None:
            return text, name
    return None


def _frame(rng: np.random.Generator, name: str, intent: str, language: str) -> str | None:
    if name == 'abbreviation':
        return _pick(rng, ABBREVIATED[intent]) if intent in ABBREVIATED else None
    if name == 'colloquial':
        if intent not in COLLOQUIAL:
            return None
        concept, frames = COLLOQUIAL[intent]
        text = frames[language].replace('{verb}', _pick(rng, verbs(concept, language)))
        if intent in _SIDES:
            text = text.replace('{side}', DIRECTIONS[language][_SIDES[intent]])
        return text
    if language == 'en':
        if intent not in _REQUESTABLE:
            return None
        return f'{_pick(rng, requests())} {_pick(rng, TEMPLATES["en"][intent])}'
    options = INFINITIVES[language].get(intent)
    return _pick(rng, options) if options else None


# Spoken additions ---------------------------------------------------------------------------

def _starts(rng: np.random.Generator, language: str, kind: str) -> str:
    if kind == 'filler':
        word = _pick(rng, fillers(language))
        return word + (', ' if rng.random() < 0.5 else ' ')
    return _pick(rng, lx.DISCOURSE[language].split('|')) + ', '


def opener(rng: np.random.Generator, language: str) -> tuple[str, str] | None:
    """(a filler or discourse particle to put before a clause, its phenomenon), at their
    rates, or None."""
    for kind in ('particle', 'filler'):
        if rng.random() < RATES[kind]:
            return _starts(rng, language, kind), kind
    return None


def modal_particle(rng: np.random.Generator, command: str, language: str) -> str | None:
    """`command` with a modal particle after its verb, at the particle rate ("flieg halt
    heim", "lande mal"; German), or None when it starts with no verb or the draw says no."""
    particles = lx.MODAL_PARTICLES.get(language, '')
    words = command.split(' ')
    if not particles or len(words) < 2 or rng.random() >= RATES['particle']:
        return None
    entry = lx.PHRASES[language].get((fold(words[0]),))
    if entry is None or entry.kind not in ('intent', 'change') or entry.weak:
        return None
    return ' '.join([words[0], _pick(rng, particles.split('|')), *words[1:]])


def spoken(rng: np.random.Generator, command: str, language: str,
           keep: str = '') -> tuple[str, tuple[str, ...]]:
    """`command` with a typo in an action or direction word and a filler or particle first,
    each at its rate; and the phenomena added. Words inside `keep` (target names) are never
    misspelt."""
    applied: list[str] = []
    if rng.random() < RATES['typo']:
        slipped = typo(rng, command, language, keep)
        if slipped is not None:
            command = slipped
            applied.append('typo')
    start = opener(rng, language)
    if start is not None:
        command = start[0] + command
        applied.append(start[1])
    return command, tuple(applied)


def join(rng: np.random.Generator, language: str, connector: str) -> str:
    """A run-on join of two mission steps: a bare comma, or the connector with a filler or
    particle after it ("then uh", "und dann los,")."""
    if rng.random() < 0.4:
        return ', '
    word = _starts(rng, language, 'filler' if rng.random() < 0.6 else 'particle')
    return connector + word


# Typos --------------------------------------------------------------------------------------

_EDITS = ('swap', 'drop', 'double')


def _edit(rng: np.random.Generator, word: str) -> str:
    at = int(rng.integers(1, len(word) - 1))
    kind = _pick(rng, _EDITS)
    if kind == 'swap':
        return word[:at] + word[at + 1] + word[at] + word[at + 2:]
    if kind == 'drop':
        return word[:at] + word[at + 1:]
    return word[:at] + word[at] + word[at:]


def misspelt(rng: np.random.Generator, word: str, language: str) -> str | None:
    """`word` (an action or direction word of `language`) with one slip that the rule
    parser reads back as the same word, or None (never a number, unit or negation)."""
    key = fold(word)
    entry = lx.PHRASES[language].get((key,))
    if (entry is None or entry.kind not in lx.TYPO_KINDS or entry.weak or entry.noun
            or len(key) < MIN_TYPO_CHARS or guarded(key) or not word.isalpha()
            or not set(key) & set('aeiouy')):  # an abbreviation ("fwds"): left as it is
        return None
    for _ in range(6):
        slipped = _edit(rng, word)
        folded = fold(slipped)
        if (folded,) in lx.PHRASES[language] or guarded(folded):
            continue
        read = correction(folded, language)
        if read is not None and (read[1].kind, read[1].value) == (entry.kind, entry.value):
            return slipped
    return None


def typo(rng: np.random.Generator, command: str, language: str, keep: str = '') -> str | None:
    """`command` with one action or direction word misspelt (see `misspelt`), or None when
    it has none that can be."""
    words = command.split(' ')
    kept = set(keep.split())
    order = rng.permutation(len(words))
    for i in order:
        stripped = words[i].strip(',.!?;:')
        if stripped in kept or not stripped:
            continue
        slipped = misspelt(rng, stripped, language)
        if slipped is not None:
            words[i] = words[i].replace(stripped, slipped, 1)
            return ' '.join(words)
    return None
