"""The rule parser: one operator command in, one schema-valid proposal out, never an exception.

Pipeline: tokenise; score the five languages on the words they know; match phrases, numbers and
units of the best language into items; refuse what it must not guess (negation, conditions,
several actions, contradictions); pick the one action family; bind its parameters and target;
anything left over that it could not place turns the result into a `clarify`.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NoReturn

from ministral_node.decision import Proposal, Target, answer, clarify, reject, shorten
from ministral_node.sources.rules import lexicon as lx
from ministral_node.sources.rules import missions
from ministral_node.sources.rules.forms import base_form, known_word
from ministral_node.sources.rules.messages import message
from ministral_node.sources.rules.numbers import (
    LANGUAGES,
    is_number_word,
    match_fraction,
    match_words,
    parse_digits,
)
from ministral_node.sources.rules.provenance import TURN_DEG, Said, command_quantities
from ministral_node.sources.rules.spelling import (
    correction,
    guarded,
    near_negation,
    near_quiet_word,
    near_unit,
    phrase_correction,
    typo_distance,
)
from ministral_node.sources.rules.text import (
    PUNCTUATION,
    Token,
    fold,
    hyphen_joined,
    prepare,
    printable,
    tokenize,
)
from ministral_node.sources.rules.units import (
    ANGLE,
    COUNT,
    DEFAULT_UNITS,
    LENGTH,
    SPEED,
    TIME,
    TURN,
    Unit,
    match_time_rest,
    match_unit,
    unit_languages,
)

_log = logging.getLogger(__name__)

MAX_COMMAND_CHARS = 500
DEFAULT_UNIT_CONFIDENCE = 0.8  # a number said without its unit
DEFAULT_SPIN_CONFIDENCE = 0.8  # an orbit without a direction: clockwise
ASSUMED_SIGN_CONFIDENCE = 0.9  # "rotate 90" without left/right: clockwise, the schema's sign
IGNORED_WORDS_CONFIDENCE = 0.9  # "stop" with more words after it
NOT_UNDERSTOOD_CONFIDENCE = 0.5  # a clarify because nothing (or not everything) was understood
PARTIAL_CONFIDENCE = 0.9  # a reading that ignored an unknown word or corrected a typo
MAX_IGNORED_WORDS = 2  # more unknown words than this and the command is asked back
LABEL_CHARS = 80
ECHO_CHARS = 60

UNIT_ASSUMPTIONS = frozenset(f'assumed {unit}' for unit in DEFAULT_UNITS.values() if unit)
DEFAULT_SENSE = 'assumed clockwise'  # a turn or an orbit that names no sense
_NOT_UNDERSTOOD = ('unknown', 'unknown_words', 'question', 'error')
_INTENT_FAMILY = {'face': 'rotate', 'uturn': 'rotate', 'spin': 'rotate', 'photos': 'photo',
                  'move': 'goto'}
_OPPOSITES = ({'takeoff', 'land'}, {'left', 'right'}, {'forward', 'back'}, {'up', 'down'},
              {'cw', 'ccw'})
_AXES = {'forward': ('forward_m', 1.0), 'back': ('forward_m', -1.0), 'right': ('right_m', 1.0),
         'left': ('right_m', -1.0), 'up': ('up_m', 1.0), 'down': ('up_m', -1.0)}
_TURN_SIGN = {'left': -1.0, 'right': 1.0, 'cw': 1.0, 'ccw': -1.0}
_CHANGE_SIGN = {'up': 1.0, 'inc': 1.0, 'faster': 1.0, 'down': -1.0, 'dec': -1.0, 'slower': -1.0,
                'ground': -1.0, 'place': 0.0, 'level': 0.0, 'pace': 0.0}
_VERBS = ('intent', 'change')
# Never left over, never a command.
_QUIET = frozenset({'glue', 'filler', 'punct', 'to', 'and', 'q', 'limit', 'but', 'corr'})
_SKIPPED = frozenset({'glue', 'filler'})  # read past: articles, polite words, particles
# Meanings of another language's word that an unknown word must not be read past.
_FOREIGN_MEANINGS = frozenset({'intent', 'change', 'dir', 'compass', 'rotdir', 'neg', 'cond',
                               'stunt', 'home', 'kw'})
_HARD = frozenset({'intent', 'change', 'num', 'punct', 'seq', 'neg', 'cond', 'rotdir', 'kw',
                   'more', 'but', 'unit'})  # these end a target label
MIN_BARE_UNIT_CHARS = 4  # "metres" without a number is a unit; "m", "ora", "mal" are words
_ADJECTIVAL = frozenset({'dir', 'compass', 'home'})  # "the left pad", "the north gate"
_CONTENT = frozenset({'word', 'home'})  # what a target label is made of ("photo of the house")
_SEPARATORS = frozenset({'punct', 'and', 'seq'})
_TARGETED = frozenset({'land', 'goto', 'orbit', 'follow', 'search', 'photo'})  # may take a target


@dataclass
class Quantity:
    """A number as said: its value, its unit (None if none was said) and what preceded it."""

    number: float
    unit: Unit | None
    to: bool = False  # after a preposition that makes it absolute: "to 30 m", "auf 30 m"
    kw: str | None = None  # after a parameter noun: "heading 90", "radius 20 m"


@dataclass(eq=False)
class Item:
    """A run of tokens with one meaning: a verb, a number with its unit, a direction, a word."""

    kind: str
    value: Any
    first: int
    last: int
    noun: bool = False
    used: bool = False


@dataclass(frozen=True)
class RuleResult:
    """A parse: the proposal, the operator's language, and why it came out that way.

    `reason` is 'parsed', 'partial' (parsed, but an unknown word was ignored or a typo read as
    the nearest vocabulary word: `ignored` and the rationale say which), 'answer', 'scene'
    (rejected), or why it asks back: 'missing',
    'invalid', 'unused', 'ambiguous', 'multi', 'contradiction', 'negation', 'conditional',
    'empty', 'too_long', or, when it did not understand, 'unknown', 'unknown_words',
    'question', 'error'.
    """

    proposal: Proposal
    language: str
    reason: str
    key: str | None = None  # the question asked back (a `messages` key), if any
    ignored: tuple[str, ...] = ()  # words read past, and typos as "typo->word"
    assumptions: tuple[str, ...] = ()  # what the reading assumed ("assumed m", ...)

    @property
    def units_assumed_only(self) -> bool:
        """Whether the reading is word for word but for the default unit of a number said
        without one ("climb 20"): its action and directions are the command's own."""
        return self.reason == 'parsed' and bool(self.assumptions) and all(
            note in UNIT_ASSUMPTIONS for note in self.assumptions)

    @property
    def action_read(self) -> bool:
        """Whether the action is the command's own word, whatever default the reading took
        for a unit or for the sense of a turn or an orbit the command does not name ("circle
        the tower at 20 m" is an orbit, clockwise or not)."""
        return self.reason == 'parsed' and all(
            note in UNIT_ASSUMPTIONS or note == DEFAULT_SENSE for note in self.assumptions)

    @property
    def partial(self) -> bool:
        """Whether the reading is complete only because words were ignored or corrected."""
        return self.reason == 'partial'

    @property
    def understood(self) -> bool:
        """Whether the parser understood the command (a model may do better when not)."""
        return self.reason not in _NOT_UNDERSTOOD


class _Clarify(Exception):
    """Raised inside a parse to answer with a clarify question."""

    def __init__(self, key: str, reason: str, fields: dict[str, str]) -> None:
        super().__init__(key)
        self.key, self.reason, self.fields = key, reason, fields


# ---- public entry points ------------------------------------------------------------------------

def parse_command(text: str, *, takeoff_altitude_m: float | None = None) -> Proposal:
    """A schema-valid proposal for one operator command; never raises.

    `takeoff_altitude_m` is used for "take off" without an altitude; None asks back instead.
    """
    return analyse(text, takeoff_altitude_m=takeoff_altitude_m).proposal


def analyse(text: str, *, takeoff_altitude_m: float | None = None) -> RuleResult:
    """Like `parse_command`, also saying which language was detected and why."""
    try:
        return _analyse(text, takeoff_altitude_m)
    except Exception:  # noqa: BLE001 - the last fallback must answer, whatever the input
        _log.exception('rule parser failed on %r', text)
        echo = _echo(text if isinstance(text, str) else repr(text))
        return RuleResult(clarify(message('unknown', 'en', text=echo), 'internal error',
                                  NOT_UNDERSTOOD_CONFIDENCE), 'en', 'error')


def detect_language(text: str) -> str:
    """The language (en, fr, de, es, it) the command is most likely written in."""
    return _rank_languages(tokenize(prepare(text)))[0][0]


def language_scores(text: str) -> dict[str, int]:
    """How many words of `text` each language's vocabulary knows."""
    return dict(_rank_languages(tokenize(prepare(text))))


class CommandAnalysis:
    """What the rule parser reads in one command, each part worked out once, when first asked
    for, and kept: for whoever looks at the same command several times (the verify stage, once
    per proposal)."""

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def result(self) -> RuleResult:
        """The parser's reading (`analyse`)."""
        return analyse(self.text)

    @cached_property
    def quantities(self) -> tuple[Said, ...]:
        """Every quantity the command says (`provenance.command_quantities`)."""
        return command_quantities(self.text)

    @cached_property
    def languages(self) -> frozenset[str]:
        """The languages whose vocabulary knows a word of the command."""
        return frozenset(lang for lang, score in language_scores(self.text).items() if score)


# ---- top level ----------------------------------------------------------------------------------

# German separable verbs of returning close their clause with the particle ("kehre zur Basis
# zurück"); the vocabulary has them with the particle beside the verb ("kehre zurück").
_BRACKET = re.compile(r'\b(kehre?|kehrt|komme?|kommt)\b([^,;.:!?]*?)\s+(zurück|zurueck)\b'
                      r'(?=\s*(?:$|[,;.:!?]|und\b|dann\b|danach\b))', re.IGNORECASE)
# The same for going up and down: "hol die Drohne runter" -> "hol runter die Drohne", "geh 10
# Meter hoch" -> "geh hoch 10 Meter".
_UP_DOWN_BRACKET = re.compile(
    r'\b(hole?|bringe?|setze?|geh|gehe|fliege?|komme?|ziehe?)\b'
    r'((?:(?!\b(?:und|dann|danach)\b)[^,;.:!?])*?)\s+'
    r'(runter|herunter|hinunter|hoch|rauf|hinauf)\b'
    r'(?=\s*(?:$|[,;.:!?]|und\b|dann\b|danach\b))', re.IGNORECASE)
# Any separable verb whose prefix closes the clause ("dreh dich mal um", "heb mal auf 15 Meter
# ab", "hör mal auf"): the prefix goes back beside the verb when the vocabulary has the pair.
_SEPARABLE = re.compile(
    r'\b(\w+)\b((?:\s+(?!(?:und|dann|danach)\b)[^\s,;.:!?]+)*?)\s+(ab|auf|um|an|aus|los|dran)\b'
    r'(?=\s*(?:$|[,;.:!?]|und\b|dann\b|danach\b))', re.IGNORECASE)

# A motion verb whose particle "nach" closes the clause goes after what it names ("flieg dem
# Auto nach", "fahr dem Radfahrer nach"): nachfliegen is following, as "hinterher".
_AFTER = re.compile(
    r'\b(fliege?|fahre?|gehe?|laufe?|renne?|düse?|jage?|eile?|zieh|ziehe)\b'
    r'((?:\s+(?!(?:und|dann|danach|nach)\b)[^\s,;.:!?]+)+?)\s+nach\b'
    r'(?=\s*(?:$|[,;.:!?]|und\b|dann\b|danach\b))', re.IGNORECASE)

# German written contractions of the article with an apostrophe ("'ne Minute", "'nen Moment");
# without it "ne" stays the French negation, never read past.
_ARTICLE_CONTRACTION = re.compile(r"(?<!\w)'(ne|nen|nem|ner)\b", re.IGNORECASE)


def _close_bracket(match: re.Match[str]) -> str:
    words, prefix = [match.group(1), *match.group(2).split()], match.group(3)
    table = lx.PHRASES['de']
    for k in range(len(words)):
        after = k + 1 + (k + 1 < len(words) and fold(words[k + 1]) in ('dich', 'sich'))
        if tuple(fold(word) for word in words[k:after]) + (fold(prefix),) in table:
            return ' '.join(words[:after] + [prefix] + words[after:])
    return match.group(0)


# A speed change said "by" an amount: the new speed is unknown ("slow down by 2 m/s").
_BY = frozenset({'by', 'de', 'um', 'en', 'di'})
# "un par de metros", "a quarter of an hour", "un quart d'heure": the unit of an amount
_OF = frozenset({'of', 'de', 'di', 'd'})
_OF_ARTICLES = frozenset({'a', 'an'})
CORRECTED_NOTE = 'read past what the command negates'


def _analyse(text: Any, takeoff_altitude_m: float | None) -> RuleResult:
    if not isinstance(text, str):
        text = '' if text is None else str(text)
    prepared = prepare(text)
    tokens = tokenize(prepared[:MAX_COMMAND_CHARS])
    ranked = _rank_languages(tokens)
    if len(prepared) > MAX_COMMAND_CHARS:
        return _clarify_result(_Clarify('too_long', 'too_long', {}), ranked[0][0])
    if all(t.kind == 'sym' for t in tokens):
        return _clarify_result(_Clarify('empty', 'empty', {}), ranked[0][0])
    first = None
    unknown_words = ranked[0][1] == 0  # perhaps only typos: each language may read them
    readings: list[RuleResult] = []
    for rank, (lang, score) in enumerate(ranked):
        if first is not None and score == 0 and not unknown_words:
            break
        read = prepared
        if lang == 'de':
            read = _ARTICLE_CONTRACTION.sub(r'ei\1', read)
            for bracket in (_BRACKET, _UP_DOWN_BRACKET):
                read = bracket.sub(r'\1 \3\2', read)
            read = _SEPARABLE.sub(_close_bracket, read)
            read = _AFTER.sub(r'\1\2 hinterher', read)
        read_tokens = tokens if read == prepared else tokenize(read[:MAX_COMMAND_CHARS])
        result = _Parse(read, read_tokens, lang, takeoff_altitude_m).run()
        if result.reason in missions.MISSION_REASONS and not unknown_words:
            return _mission(read, read_tokens, lang, takeoff_altitude_m, result)
        if result.reason != 'unknown' and not unknown_words:
            if result.understood or not _tie_knows_more(tokens, ranked, rank):
                return result if first is None or result.understood else first
            first = first or result
            continue
        if result.understood and result.proposal.action != 'clarify':
            readings.append(result)
        first = first or result
    if len({(r.proposal.action, repr(r.proposal.params)) for r in readings}) == 1:
        # "lnade", "atteriza": read the same by every language that reads it; the language
        # is the one whose words are nearest
        return min(readings, key=_typos_distance)
    return first


def _said_in(items: Iterable[Item], dim: str) -> bool:
    """Whether `items` hold a number said in a unit of `dim` ("5 m/s": SPEED)."""
    return any(it.kind == 'num' and it.value.unit is not None and it.value.unit.dim == dim
               for it in items)


def _in_first_clause(before: list[Item]) -> bool:
    """Whether what comes after `before` is still in the command's first clause: no
    separator (, ; . and then) after something said."""
    said = False
    for item in before:
        if item.kind in _SEPARATORS and said:
            return False
        said = said or item.kind not in _QUIET
    return True


def _tie_knows_more(tokens: list[Token], ranked: list[tuple[str, int]], rank: int) -> bool:
    """Whether the language after `ranked[rank]` scores the same and knows every word that
    one does not ("scattami una foto del ponte": Italian, though Spanish knows "ponte"), or
    reads it as a typo of its own ("decola subito": Italian, though Spanish has "súbito")."""
    if rank + 1 >= len(ranked) or ranked[rank + 1][1] != ranked[rank][1]:
        return False
    lang, other = ranked[rank][0], ranked[rank + 1][0]
    unknown = [t.norm for t in tokens if t.kind == 'word' and not known_word(t.norm, lang)]
    return bool(unknown) and all(known_word(word, other) or correction(word, other) is not None
                                 for word in unknown)


def _typos_distance(result: RuleResult) -> int:
    pairs = [word.split('->') for word in result.ignored]
    return sum(typo_distance(pair[0], pair[1].split()[0]) if len(pair) == 2 else 3
               for pair in pairs)


def _mission(text: str, tokens: list[Token], lang: str, takeoff_altitude_m: float | None,
             whole: RuleResult) -> RuleResult:
    """A command that asks for several actions, as a mission of steps (see `missions`)."""
    parse = _Parse(text, tokens, lang, takeoff_altitude_m)
    parse._match()
    items = parse.items
    cuts = missions.boundaries([it.kind for it in items], [it.value for it in items])
    sequence = [k for k in cuts if items[k].kind == 'seq']
    words = [missions.folded(parse.norms[items[k].first:items[k].last + 1]) for k in sequence]
    at_start = [not any(it.kind not in _QUIET for it in items[:k]) for k in sequence]
    if missions.reverses_order(words, at_start, [_in_first_clause(items[:k]) for k in sequence]):
        return _clarify_result(_Clarify('multi', 'multi', {}), lang)
    if whole.reason == 'contradiction' and all(items[k].kind == 'and' for k in cuts):
        return whole
    for chunk in _split(items, {id(items[k]) for k in cuts if items[k].kind != 'and'}, key=id):
        if any(it.kind == 'and' for it in chunk):  # opposites joined by "and" in one clause
            span = text[tokens[chunk[0].first].start:tokens[chunk[-1].last].end]
            result = _Parse(span, tokenize(span), lang, takeoff_altitude_m).run()
            if result.reason == 'contradiction':
                return result
    runs = [run for run in _split(items, {id(items[k]) for k in cuts}, key=id)
            if any(it.kind not in _QUIET for it in run)]
    steps = missions.group([[it.kind for it in run] for run in runs])
    if len(steps) < 2:
        return whole
    texts = [' '.join(text[tokens[runs[k][0].first].start:tokens[runs[k][-1].last].end]
                      for k in step) for step in steps]

    level = not parse.horizontal()

    def parse_step(index: int, altitude: float | None) -> RuleResult:
        step = _Parse(texts[index], tokenize(texts[index]), lang, altitude)
        step.level = level  # "north 20 m then 5 m up": the second step is an offset too
        step.later_step = index > 0
        return step.run()

    results = [parse_step(index, None) for index in range(len(texts))]
    proposal, reason = missions.build_mission(results, lang, takeoff_altitude_m, parse_step)
    if proposal is None:
        return _clarify_result(_Clarify('multi', 'multi', {}), lang)
    ignored = tuple(word for result in results for word in result.ignored)
    if reason == 'parsed' and ignored:
        reason = 'partial'
    assumptions = tuple(dict.fromkeys(note for result in results for note in result.assumptions))
    return RuleResult(proposal, lang, reason, ignored=ignored, assumptions=assumptions)


def _rank_languages(tokens: list[Token]) -> list[tuple[str, int]]:
    """Languages with how many words of each the command uses, best first (English on ties)."""
    scores: Counter[str] = Counter()
    norms = [t.norm for t in tokens]
    i = 0
    while i < len(tokens):
        if tokens[i].kind == 'num':
            unit = match_unit(norms, i + 1)
            size = unit[1] if unit else 0  # "5 m/s": the "s" is no French word
            scores.update(unit_languages(norms[i + 1:i + 1 + size]))  # "100 pieds", "20 Fuß"
            i += 1 + size
            continue
        size, langs = 1, set()
        if tokens[i].kind == 'word':
            scores.update(lang for lang in LANGUAGES if is_number_word(norms[i], lang)
                          or base_form(norms[i], lang) != norms[i])  # "fammi", "fotito"
            size, langs = _known_phrase(norms, i)
        scores.update({lang: size for lang in langs})
        i += size
    return sorted(((lang, scores[lang]) for lang in LANGUAGES), key=lambda pair: -pair[1])


def _known_phrase(norms: list[str], i: int) -> tuple[int, set[str]]:
    """The longest table phrase at `norms[i]`: its length and the languages that know it."""
    for size in range(min(lx.LONGEST_PHRASE, len(norms) - i), 0, -1):
        langs = lx.PHRASE_LANGUAGES.get(tuple(norms[i:i + size]))
        if langs:
            return size, langs
    return 1, set()


def _clarify_result(error: _Clarify, lang: str) -> RuleResult:
    confidence = NOT_UNDERSTOOD_CONFIDENCE if error.reason in _NOT_UNDERSTOOD else 1.0
    question = message(error.key, lang, **error.fields)
    return RuleResult(clarify(question, f'{error.reason}: {error.key} [{lang}]', confidence),
                      lang, error.reason, error.key)


def _echo(text: str, limit: int = ECHO_CHARS) -> str:
    return shorten(printable(text), limit)


def _split(items: list[Item], kinds: Iterable[Any],
           key: Callable[[Item], Any] = lambda item: item.kind) -> list[list[Item]]:
    parts: list[list[Item]] = [[]]
    for item in items:
        if key(item) in kinds:
            parts.append([])
        else:
            parts[-1].append(item)
    return parts


# ---- one parse in one language ------------------------------------------------------------------

class _Parse:
    """Parsing one command in one language: matched items and what the binders used of them."""

    def __init__(self, text: str, tokens: list[Token], lang: str,
                 takeoff_altitude_m: float | None) -> None:
        self.text, self.tokens, self.lang = text, tokens, lang
        self.takeoff_altitude_m = takeoff_altitude_m
        self.norms = [base_form(t.norm, lang) if t.kind == 'word' else t.norm for t in tokens]
        self.joined = hyphen_joined(text, tokens)
        self.shouting = not any(t.raw != t.raw.upper() for t in tokens if t.kind == 'word')
        self.items: list[Item] = []
        self.confidence = 1.0
        self.notes: list[str] = []
        self.ignored: list[str] = []  # what the reading read past or corrected
        self.target_start: int | None = None  # the first token of the target label, if any
        self.level = True  # whether the whole command (a mission: all steps) stays level
        self.later_step = False  # a mission's step after another ("..., then fly back")

    def run(self) -> RuleResult:
        self._match()
        try:
            proposal, reason = self._resolve()
        except _Clarify as error:
            return _clarify_result(error, self.lang)
        if reason == 'parsed' and self.ignored:
            reason = 'partial'
        return RuleResult(proposal, self.lang, reason, ignored=tuple(self.ignored),
                          assumptions=tuple(self.notes))

    # -- matching ---------------------------------------------------------------------------------

    def _match(self) -> None:
        framing = self._framing()
        i = 0
        while i < len(self.tokens):
            item = Item('filler', self.norms[i], i, framing[i]) if i in framing \
                else self._match_at(i)
            self.items.append(item)
            i = item.last + 1
        self._discourse()
        self._merge_compass()
        self._more_units()
        self._attach_prepositions()
        self._way_back()
        self._corrections()

    def _more_units(self) -> None:
        """A unit said after "more" or "of" belongs to the number before it ("5 more
        metres", "un par de metros", "a couple of metres")."""
        for k, item in enumerate(self.items[:-1]):
            more = self.items[k + 1]
            if item.kind != 'num' or item.value.unit is not None or more.first != item.last + 1 \
                    or not (more.kind == 'more' or self.norms[more.first] in _OF):
                continue
            after = more.last + 1 + (more.last + 1 < len(self.norms)
                                     and self.norms[more.last + 1] in _OF_ARTICLES)
            unit = match_unit(self.norms, after)
            if unit is not None:
                item.value.unit = unit[0]
                end = after + unit[1] - 1
                start = more.first if more.kind != 'more' else more.last + 1  # "d'ora" too
                self.items = [it for it in self.items if not start <= it.first <= end]
                return
    def _framing(self) -> dict[int, int]:
        """Radio framing, as {first token: last token}: a call sign before the first comma
        ("Eagle two, ...", "Drone 1, ..."), the station speaking ("this is base, ...", "ici
        la base, ...") and a proword at the end ("..., over", "à vous", "kommen", "cambio",
        "passo")."""
        found: dict[int, int] = {}
        words = [k for k, t in enumerate(self.tokens) if t.kind != 'sym']
        end = words[-1] + 1 if words else 0
        for size in range(min(4, len(words) - 1), 0, -1):
            start = end - size
            if tuple(self.norms[start:end]) in lx.PROWORD_PHRASES[self.lang] and (
                    self.tokens[start - 1].raw in PUNCTUATION or self._phrase(start) is None):
                found[start] = end - 1  # "..., over" (but "fly over" keeps its word)
                break
        opening = self._past_fillers(0)  # "uh, drone two, ...": fillers before the call sign
        comma = self._call_sign(opening)
        if comma is not None:
            found[opening] = comma - 1
            opening = self._past_fillers(comma + 1)
        comma = self._station(opening)
        if comma is not None:
            found[opening] = comma - 1
        return found

    def _way_back(self) -> None:
        """The way back named with no distance after other steps ("..., grab a photo and
        back", "und dann zurück", "then fly back") is the way home."""
        clauses = _split(self.items, _SEPARATORS)
        last = [it for it in clauses[-1] if it.kind not in _QUIET] if clauses else []
        if not last or not any(it.kind == 'dir' and it.value == 'back' for it in last) or not (
                all(it.kind == 'dir' and it.value == 'back'
                    or it.kind == 'intent' and it.value == 'move' for it in last)):
            return
        earlier = [it for clause in clauses[:-1] for it in clause]
        if self.later_step or any(it.kind in (*_VERBS, 'dir', 'compass') for it in earlier):
            home = Item('intent', 'rth', last[0].first, last[-1].last)
            self.items = [it for it in self.items if it not in last[1:]]
            self.items[self.items.index(last[0])] = home

    def _past_fillers(self, k: int) -> int:
        while k < len(self.tokens) and (
                self._filler(k) or self.tokens[k].raw in PUNCTUATION):
            k += 1
        return k

    def _next_comma(self, k: int) -> int | None:
        """The comma closing a framing segment of one to three tokens from `k`, with words
        after it."""
        comma = next((j for j in range(k, len(self.tokens)) if self.tokens[j].raw == ','),
                     None)
        if comma is None or not 1 <= comma - k <= 3 or not any(
                t.kind != 'sym' for t in self.tokens[comma + 1:]):
            return None
        return comma

    def _call_sign(self, opening: int) -> int | None:
        """The comma after a call sign at `opening` (unknown names, or a vehicle word, with a
        number or capitalised), or None."""
        comma = self._next_comma(opening)
        if comma is None:
            return None
        numbered = comma - opening > 1 and self._number_at(comma - 1)
        named = range(opening, comma - 1 if numbered else comma)
        if self.tokens[opening].kind != 'word' or any(
                self.tokens[k].kind != 'word' or self._number_at(k) or guarded(self.norms[k])
                or (self._phrase(k) is not None and self.norms[k] not in lx.VEHICLE_WORDS)
                or correction(self.norms[k], self.lang) is not None for k in named):
            return None
        if numbered or all(self.tokens[k].raw[:1].isupper() for k in named):
            return comma
        return None

    def _station(self, opening: int) -> int | None:
        """The comma after "this is <station>" at `opening`, or None."""
        for size in (3, 2, 1):
            if tuple(self.norms[opening:opening + size]) in lx.STATION_PHRASES[self.lang]:
                comma = self._next_comma(opening + size)
                named = range(opening + size, comma) if comma is not None else range(0)
                if comma is not None and not any(
                        guarded(self.norms[k]) or self.tokens[k].kind != 'word'
                        or self._meaning(k) not in (None, 'glue', 'home', 'filler')
                        for k in named):
                    return comma
        return None

    def _meaning(self, k: int) -> str | None:
        item = self._phrase(k)
        return None if item is None else item.kind

    def _filler(self, k: int) -> bool:
        entry = lx.PHRASES[self.lang].get((self.norms[k],))
        return entry is not None and entry.kind == 'filler'

    def _corrections(self) -> None:
        """Corrections drop what the operator negates when the same command says what they
        want instead: "not north, south, 50 m", "north, no, south", "north, not south" (a
        direction, heading or number), and "no, don't land, keep hovering" (a negated clause
        beside one that is not). Anything else negated stays, and is asked back."""
        slots = ('dir', 'compass', 'num')
        clauses = _split(self.items, ('punct', 'but'))
        dropped: list[Item] = []
        for k, clause in enumerate(clauses):
            said = [it for it in clause if it.kind not in _SKIPPED | {'to', 'seq', 'and'}]
            lead = next((j for j, it in enumerate(said) if it.kind not in ('neg', 'corr')),
                        len(said))
            markers = said[:lead]  # "no", "I mean", "no wait" opening the clause
            if len(said) >= 2 and said[-1].kind in slots and all(
                    it.kind == 'neg' for it in said[:-1]):
                other = self._alternative(said[-1], clauses[:k] + clauses[k + 1:])
                if other is not None:  # "not north, south", "north, not south"
                    dropped += [it for it in clause if it.kind not in ('seq', 'and')]
            elif k and markers and (
                    len(markers) == len(said) or 'corr' in {it.kind for it in markers}):
                # "north, no, south", "east, I mean west", "20, no wait, 25"
                after = [it for it in said[len(markers):] if it.kind in slots] or (
                    [it for it in clauses[k + 1] if it.kind in slots]
                    if k + 1 < len(clauses) and len(markers) == len(said) else [])
                before = [it for it in clauses[k - 1]
                          if after and self._same_slot(it, after[0])]
                if before:
                    dropped += [before[-1], *markers]
                    self._inherit(after[0], before[-1])
                    between = self.items[self.items.index(before[-1]):
                                         self.items.index(after[0])]
                    if all(it.kind in ('punct', 'neg', 'corr') or it is before[-1]
                           for it in between):
                        dropped += between  # "turn left, no, right": "turn right"
                elif not after:  # "take off, no, land", "land, I mean hover": the second
                    rest = said[len(markers):] or (
                        clauses[k + 1] if k + 1 < len(clauses) else [])
                    previous = clauses[k - 1]
                    if any(it.kind in _VERBS for it in rest) and any(
                            it.kind in _VERBS for it in previous) and not any(
                            it.kind in ('neg', 'corr') for it in previous):
                        dropped += [it for it in previous if it.kind not in ('seq', 'and')]
                        dropped += markers
        if dropped:
            self._drop(dropped)
        said_apart = _split(self.items, ('punct', 'but'))
        # "stay there and don't land": a negated clause joined by "and" to a hold only
        clauses = _split(self.items, ('punct', 'but', 'and'))
        negated = [c for c in clauses if any(it.kind in ('neg', 'corr') for it in c)]
        wanted = [c for c in clauses if c not in negated
                  and any(it.kind in _VERBS for it in c)]
        if not negated or not wanted:
            return
        joined = any(n[0] in part and w[0] in part for part in said_apart
                     for n in negated for w in wanted)
        if joined and not all(it.kind == 'intent' and it.value == 'hold'
                              for w in wanted for it in w if it.kind in _VERBS):
            return  # "land and don't take photos", "fly north and don't climb": asked back
        for clause in negated:
            kinds = {it.kind for it in clause if it.kind not in _SKIPPED | {'to'}}
            if kinds <= {'corr'}:
                continue  # "sorry, ...", "scratch that, ...": quiet
            kinds -= {'corr'}
            if not (kinds == {'neg'} and clause is clauses[0]) and \
                    not (kinds & set(_VERBS) and kinds <= {'neg', *_VERBS, 'dir', 'compass',
                                                           'home', 'num', 'more', 'word'}):
                return  # a negation that is neither an interjection nor a whole clause
            if any(it.kind == 'cond' for it in clause):
                return
        if any(self._said(c) == self._said(w) for c in negated for w in wanted):
            return  # "don't land, land": no way to tell which one is meant
        self._drop([it for clause in negated for it in clause
                    if any(o.kind == 'neg' for o in clause)])

    def _alternative(self, negated: Item, others: list[list[Item]]) -> Item | None:
        """The one item of the same slot as `negated` said elsewhere and not negated."""
        found = [it for clause in others for it in clause if self._same_slot(negated, it)
                 and not any(o.kind == 'neg' for o in clause)]
        return found[0] if len(found) == 1 else None

    @staticmethod
    def _same_slot(a: Item, b: Item) -> bool:
        if a.kind != b.kind:
            return False
        if a.kind != 'num':
            return True
        units = {q.unit.dim for q in (a.value, b.value) if q.unit is not None}
        return len(units) <= 1

    @staticmethod
    def _inherit(number: Item, corrected: Item) -> None:
        """A number said in place of another keeps what was said around that one ("climb to
        40, no, 30": to 30)."""
        if number.kind == 'num':
            quantity, old = number.value, corrected.value
            quantity.to = quantity.to or old.to
            quantity.kw = quantity.kw or old.kw
            quantity.unit = quantity.unit or old.unit

    @staticmethod
    def _said(clause: list[Item]) -> set[str]:
        """What a clause says, negations aside: its verbs, directions and numbers."""
        return {f'{it.kind}={it.value}' for it in clause
                if it.kind in (*_VERBS, 'dir', 'compass', 'num', 'home')}

    def _drop(self, items: list[Item]) -> None:
        gone = {id(it) for it in items}
        kept = [it for it in self.items if id(it) not in gone]
        self.items = [it for k, it in enumerate(kept) if it.kind != 'punct' or (
            k and kept[k - 1].kind != 'punct')]  # no empty clause left behind
        self.assume(CORRECTED_NOTE, 1.0)

    def _match_at(self, i: int) -> Item:
        token = self.tokens[i]
        if token.kind == 'sym':
            return Item('punct' if token.raw in PUNCTUATION else 'glue', token.raw, i, i)
        if token.kind == 'num':
            value = parse_digits(token.norm, self.lang)
            number = None if value is None else self._number(i, 1, value, False)
            return number or Item('word', token.norm, i, i)
        if token.kind != 'word':
            return Item('word', token.norm, i, i)
        restater = self._restater(i)
        if restater is not None:
            return restater
        abbreviation = self._abbreviation(i)
        if abbreviation is not None:
            return abbreviation
        words = self._number_words(i)
        number = None if words is None else self._number(i, words[1], words[0], words[2])
        if number is not None and number.value.unit is None and ((self._after_word() and (
                self.norms[self.items[-1].first] not in lx.APPROXIMATORS[self.lang])) or (
                number.value.number == 1 and i
                and self.norms[i - 1] in lx.DEFINITE_WORDS[self.lang])):
            number = None  # "the red one", "the one on the left": a pronoun, not a number
        phrase = self._phrase(i)
        if phrase is not None and phrase.kind == 'kw' and (
                token.norm in lx.NUMBER_ABBREVIATIONS and not self._number_at(i + 1)):
            phrase = None  # "alt!" alone: no altitude
        if phrase is not None and phrase.kind == 'intent' and phrase.value == 'stop' and (
                self._after_word()):
            phrase.kind = 'word'  # "the bus stop": a noun, not the command
        if phrase is not None and phrase.kind in _VERBS and not phrase.noun and (
                phrase.first == phrase.last and self._unitless_number_before(i)) and (
                self.lang not in lx.VERB_FINAL
                or any(it.kind in _VERBS for it in self._clause_so_far())):
            phrase.kind = 'word'  # "fai tre giri": the number's unit ("auf 30 steigen": a verb)
        if number is not None and (phrase is None or number.last > phrase.last or (
                number.last == phrase.last and not self._turn(number))):
            return number  # but "media vuelta", "mezzo giro", "demi-tour" are the phrase
        if phrase is not None and phrase.kind in _QUIET:  # "take of": a misspelt longer phrase
            return self._typo(i, after=phrase.last) or phrase
        return phrase or self._unit_and_a_half(i) or self._bare_unit(i) or self._typo(i) or Item(
            'word', token.norm, i, i)

    def _restater(self, i: int) -> Item | None:
        """A correction marker: a word that says the number right after it replaces the one
        said just before ("about thirty metres, say 35", "une vingtaine de mètres, enfin 25")."""
        said = [it for it in self.items if it.kind not in _SKIPPED]
        if not said or said[-1].kind not in ('punct', 'num') or not any(
                it.kind == 'num' for it in said):
            return None
        for size in range(min(3, len(self.norms) - i), 0, -1):
            if tuple(self.norms[i:i + size]) in lx.RESTATER_PHRASES[self.lang] and (
                    self._number_at(i + size)):
                return Item('corr', 'restate', i, i + size - 1)
        return None

    def _unitless_number_before(self, i: int) -> bool:
        """Whether the item just before token `i` is a number said without its unit."""
        last = self.items[-1] if self.items else None
        return last is not None and last.kind == 'num' and last.value.unit is None and (
            last.last + 1 == i)

    @staticmethod
    def _turn(number: Item) -> bool:
        return number.value.unit is not None and number.value.unit.symbol == TURN

    def _number_words(self, i: int) -> tuple[float, int, bool] | None:
        """A number in words at token `i` that ends before any phrase starting inside it and
        going on past it: "un demi-tour" is a U-turn, not a half and a word."""
        words = match_words(self.norms, i, self.lang, self.joined)
        if words is None:
            return None
        for k in range(i + 1, i + words[1]):
            phrase = self._phrase(k)
            if phrase is not None and phrase.kind not in _QUIET and phrase.last >= i + words[1]:
                return match_words(self.norms[:k], i, self.lang, self.joined)
        return words

    def _unit_and_a_half(self, i: int) -> Item | None:
        """A unit of time and its half without the one before it ("minuto y medio", "hover
        for minute and a half", "aspetta minuto e mezzo"): one and a half of it."""
        unit = match_unit(self.norms, i)
        if unit is None or unit[0].dim != TIME:
            return None
        half = match_fraction(self.norms, i + unit[1], self.lang)
        if half is None:
            return None
        return Item('num', Quantity(1.0 + half[0], unit[0]), i, i + unit[1] + half[1] - 1)

    def _bare_unit(self, i: int) -> Item | None:
        """A unit of length said without its number ("a few metres left", "ein paar Meter"):
        never part of a target, and asked about when nothing measures it."""
        unit = match_unit(self.norms, i)
        if unit is None or unit[0].dim != LENGTH or len(self.norms[i]) < MIN_BARE_UNIT_CHARS:
            return None
        return Item('unit', unit[0], i, i + unit[1] - 1)

    def _number_at(self, i: int) -> bool:
        """Whether a number (digits or words) starts at token `i`."""
        return i < len(self.tokens) and (self.tokens[i].kind == 'num' or match_words(
            self.norms, i, self.lang) is not None)

    def _clause_so_far(self) -> list[Item]:
        """The items matched since the last separator."""
        start = max((k + 1 for k, it in enumerate(self.items) if it.kind in _SEPARATORS),
                    default=0)
        return self.items[start:]

    def _typo(self, i: int, after: int | None = None) -> Item | None:
        """A misspelt vocabulary word ("tunr" for "turn") where its meaning fits: a verb only
        where the clause has none yet (first, outside verb-final German), a direction or
        parameter noun only after a verb, number or direction in its clause. With `after`,
        only a misspelt phrase that goes on past token `after` (a known word at `i`)."""
        token = self.tokens[i]
        if token.norm in lx.DISCOURSE_WORDS[self.lang] or (
                (token.norm,) in lx.APPOSITIVE_PHRASES[self.lang]):
            return None  # "fine, land": an interjection, not a typo of "find"; "celle": no "colle"
        # a phrase with one word misspelt ("tkae off", "take of"), else a word
        found = phrase_correction(self.norms, i, self.lang)
        if after is not None:
            if found is None or i + len(found[0].split()) - 1 <= after:
                return None
        elif found is None:
            found = correction(token.norm, self.lang)
        if found is None:
            return None
        known, entry = found
        size = len(known.split())
        raw = next((t.raw for t, word in zip(self.tokens[i:], known.split())
                    if t.norm != word), token.raw)  # the misspelt word of a phrase
        clause = self._clause_so_far()
        if entry.kind in _VERBS:
            if i and self.norms[i - 1] in lx.DEFINITE_WORDS[self.lang]:
                return None  # "follow the car, the truck": a noun, no misspelt "track"
            if any(it.kind in _VERBS for it in clause) or (
                    self.lang not in lx.VERB_FINAL
                    and any(it.kind not in _SKIPPED for it in clause)):
                return None
        else:  # a preposition between is read past: "tourne à gauhce", "turn to the rigth"
            said = [it.kind for it in clause if it.kind not in _SKIPPED | {'to'}]
            before = said[-1] if said else None
            if before not in ('num', 'intent', 'change', 'dir', 'compass'):
                return None  # "lift 10 m" is no "left 10 m": never at the start of a clause
        self.ignored.append(f'{raw}->{known}')
        self.assume(f"read '{raw}' as '{known}'", PARTIAL_CONFIDENCE)
        value = lx.COMPASS_DEG[entry.value] if entry.kind == 'compass' else entry.value
        return Item(entry.kind, value, i, i + size - 1, entry.noun)

    def _discourse(self) -> None:
        """Interjections opening a clause before a comma ("right, fly north 50 m", "allez,
        monte à 30 m") are read past when a verb follows, and slang approximators right
        before a number ("genre 5 mètres"); elsewhere they keep their meaning."""
        for k, item in enumerate(self.items[:-1]):
            after = self.items[k + 1]
            if item.kind == 'word' and after.kind == 'num' and after.first == item.last + 1 \
                    and self.norms[item.first] in lx.APPROXIMATORS[self.lang]:
                item.kind = 'filler'  # "genre 5 mètres", "tipo 5 metri"
                continue
            if item.first != item.last or after.kind != 'punct' or after.value != ',' \
                    or self.norms[item.first] not in lx.DISCOURSE_WORDS[self.lang] \
                    or item.kind in ('neg', 'cond', 'num'):
                continue
            opening = all(it.kind in _SKIPPED | _SEPARATORS for it in self.items[:k]) or \
                self.items[k - 1].kind in _SEPARATORS
            if opening and any(it.kind in _VERBS for it in self.items[k + 2:]):
                item.kind = 'filler'

    def _number(self, i: int, size: int, value: float, article: bool) -> Item | None:
        unit = match_unit(self.norms, i + size)
        if article and (unit is None or unit[0].dim == COUNT):
            return None  # "a photo", "une fois que": an article, not the number one
        last = i + size - 1 + (unit[1] if unit else 0)
        half = match_fraction(self.norms, last + 1, self.lang) if unit else None
        if half is not None:
            value, last = value + half[0], last + half[1]
        rest = match_time_rest(self.norms, last + 1, unit[0], self.lang) if unit else None
        if rest is not None:  # "2 minutes 30 seconds", "1 h 15"
            value, last = value + rest[0], last + rest[1]
        return Item('num', Quantity(value, unit[0] if unit else None), i, last)

    def _phrase(self, i: int) -> Item | None:
        table = lx.PHRASES[self.lang]
        for size in range(min(lx.LONGEST_PHRASE, len(self.norms) - i), 0, -1):
            entry = table.get(tuple(self.norms[i:i + size]))
            if entry is None:
                continue
            kind = entry.kind
            if entry.weak and not self._weak_holds(i):
                kind = lx.WEAK_FALLBACK[kind]
            value = lx.COMPASS_DEG[entry.value] if kind == 'compass' else entry.value
            return Item(kind, value, i, i + size - 1, entry.noun)
        return None

    def _after_word(self) -> bool:
        return bool(self.items) and self.items[-1].kind == 'word'

    def _weak_holds(self, i: int) -> bool:
        """Whether an ambiguous phrase keeps its meaning: at a clause start or after a cue."""
        if i and self.norms[i - 1] in lx.CUES[self.lang]:
            return True
        for item in reversed(self.items):
            if item.kind in _SEPARATORS:
                return True
            if item.kind not in _SKIPPED:
                return False
        return True

    def _abbreviation(self, i: int) -> Item | None:
        """Upper-case compass abbreviations ("fly NE 100 m"), unless the whole text is shouted."""
        raw = self.tokens[i].raw
        letters = lx.ABBREVIATION_LETTERS[self.lang]
        if self.shouting or not i or not 1 <= len(raw) <= 3 or not raw.isupper():
            return None
        if any(c not in letters for c in raw) or self._phrase(i):
            return None
        heading = lx.combine_headings([letters[c] for c in raw])
        return None if heading is None else Item('compass', heading, i, i)

    def _merge_compass(self) -> None:
        """Adjacent compass words make one heading: "north east", "nord-est", "N NE"."""
        merged: list[Item] = []
        for item in self.items:
            previous = merged[-1] if merged else None
            if (item.kind == 'compass' and previous is not None and previous.kind == 'compass'
                    and previous.last + 1 == item.first):
                previous.value.append(item.value)
                previous.last = item.last
            else:
                merged.append(item)
                if item.kind == 'compass':
                    item.value = [item.value]
        for item in merged:
            if item.kind == 'compass':
                item.value = lx.combine_headings(item.value)
        self.items = merged

    def _attach_prepositions(self) -> None:
        for k, item in enumerate(self.items):
            if item.kind != 'num':
                continue
            for before in reversed(self.items[:k]):
                if before.kind == 'to':
                    item.value.to = True
                elif before.kind == 'kw':
                    item.value.kw = item.value.kw or before.value
                elif before.kind not in _SKIPPED:
                    break

    # -- deciding what the command is -------------------------------------------------------------

    def _resolve(self) -> tuple[Proposal, str]:
        clauses = _split(self.items, _SEPARATORS)
        for clause in clauses:
            self._brake_to_speed(clause)
            if any(it.kind == 'intent' and it.value == 'stop' for it in clause) and not any(
                    it.kind in ('neg', 'cond') for it in clause):
                return self._stop(), 'parsed'
        if self._any('neg'):
            self.fail('negation', 'negation')
        if self._any('stunt'):
            return reject(message('stunt', self.lang), f'aerobatics [{self.lang}]'), 'stunt'
        if self._any('cond'):
            self.fail('conditional', 'conditional')
        first = next((it for it in self.items if it.kind not in _QUIET - {'q'}), None)
        if first is None:
            self.fail('unknown', 'unknown', text=_echo(self.text))
        if first.kind == 'q' or not self._any(*_VERBS):
            question = self._question(first.kind == 'q')
            if question is not None:
                return question
        for item in self.items:
            if item.kind in ('capab', 'scene'):
                item.kind = 'word'
        families: set[str] = set()
        for clause in clauses[1:]:
            for side in self._side_apposition(clause):
                side.kind = 'word'  # part of the target's description, no direction to fly
        for clause in self._course_clauses(clauses):
            families |= self._clause_families(clause)
        if sum(1 for part in _split(self.items, ('seq',)) if self._meaningful(part)) > 1:
            self.fail('multi', 'multi')
        self._refuse_contradictions(families, clauses)
        if families == {'hold'} and _said_in(self.items, SPEED):
            families = {'speed'}  # "hold 20 knots", "mantén 5 m/s": keep that speed
        if len(families) > 1:
            self.fail('multi', 'multi')
        if not families:
            self.fail('unknown', 'unknown', text=_echo(self.text))
        for item in self.items:
            if item.kind in _VERBS:
                item.used = True
        ability = self._ability()
        if ability == 'know':  # "do you know how to orbit?", "tu sais suivre des vélos ?"
            return self._capability()
        family = families.pop()
        if ability == 'can' and family == 'photo' and not self.free('num') and any(
                it.kind == 'intent' and it.value == 'photos' for it in self.items):
            return self._capability()  # "can you take pictures?"
        if family in _TARGETED:
            proposal = _BINDERS[family](self)
            if ability == 'can' and self._generic():  # "can you follow boats?"
                return self._capability()
            return proposal, 'parsed'
        try:
            return _BINDERS[family](self), 'parsed'
        except _Clarify as error:
            if error.reason != 'unknown_words':
                self._refuse_words()  # a missing value: the unknown words may be the reason
            raise

    def _side_apposition(self, clause: list[Item]) -> list[Item]:
        """The side a clause describes the target by, again ("suis le camion, celui de
        gauche", "follow the car, the one on the right", "quella a destra"): [] unless the
        clause is only that, no action of its own."""
        said = [it for it in clause if it.kind not in _QUIET]
        sides = [it for it in said if it.kind == 'compass' or (
            it.kind == 'dir' and it.value not in ('up', 'down'))]
        if len(sides) != 1 or len(said) > 2 or any(
                it.kind != 'word' for it in said if it is not sides[0]):
            return []
        return sides if self._describes(clause) else []

    def _describes(self, items: list[Item]) -> bool:
        """Whether the words of `items` describe the target again ("the one", "celui",
        "quella")."""
        norms = self.norms[items[0].first:items[-1].last + 1]
        return any(tuple(norms[k:k + len(phrase)]) == phrase
                   for phrase in lx.APPOSITIVE_PHRASES[self.lang] for k in range(len(norms)))

    def _brake_to_speed(self, clause: list[Item]) -> None:
        """A brake verb said with a speed in its unit ("brake to 3 m/s", "frena a 2 m/s")
        slows down to that speed; alone, or with anything else, it stops."""
        brakes = [it for it in clause if it.kind == 'intent' and it.value == 'stop' and tuple(
            self.norms[it.first:it.last + 1]) in lx.BRAKE_PHRASES[self.lang]]
        if len(brakes) == 1 and _said_in(clause, SPEED):
            brakes[0].kind, brakes[0].value = 'change', 'slower'

    def _capability(self) -> tuple[Proposal, str]:
        return answer(message('capability', self.lang),
                      f'capability question [{self.lang}]'), 'answer'

    def _ability(self) -> str | None:
        """'know' or 'can' when the command opens with a question about what the node can do
        ("are you able to", "tu sais", "kannst du ...?"; 'can' only with a question mark)."""
        first = next((it for it in self.items if it.kind != 'filler'), None)
        if first is None or first.kind != 'glue':
            return None
        said = tuple(self.norms[first.first:first.last + 1])
        after = self.items.index(first) + 1
        if after < len(self.items) and self.items[after].kind == 'punct':
            return None  # "tu sais, atterris": an interjection
        phrases = lx.ABILITY_PHRASES[self.lang]
        if said in phrases['know']:
            return 'know'
        asked = any(t.raw == '?' for t in self.tokens)
        return 'can' if asked and said in phrases['can'] else None

    def _generic(self) -> bool:
        """Whether the target is a kind of thing ("boats", "des vélos"), not one in view."""
        start, definite = self.target_start, lx.DEFINITE_WORDS[self.lang]
        return start is not None and self.norms[start] not in definite and (
            start == 0 or self.norms[start - 1] not in definite)

    def _question(self, asked: bool) -> tuple[Proposal, str] | None:
        if self._any('capab'):
            return self._capability()
        if self._any('scene'):
            return reject(message('scene', self.lang),
                          f'scene question needs the vision model [{self.lang}]'), 'scene'
        if asked:
            self.fail('question', 'question')
        return None

    def _clause_families(self, clause: list[Item]) -> set[str]:
        """The action families one clause asks for; noun forms and generic motion give way."""
        kws = {it.value for it in clause if it.kind == 'kw'}
        if not kws & {'altitude', 'speed'} and _said_in(clause, SPEED):
            for verb in clause:  # "reduce to 5 mph", "aumenta a 8 m/s": the unit says what
                if verb.kind == 'change' and verb.value in ('inc', 'dec'):
                    verb.value = 'faster' if verb.value == 'inc' else 'slower'
        self._place(clause)
        verbs = [it for it in clause if it.kind in _VERBS]
        nouns = [it for it in verbs if it.noun]
        kept = {self._family(it, kws) for it in verbs if not it.noun and it.value != 'move'}
        verbal = any(not it.noun for it in verbs)  # "fly to the landing pad": a verb too
        for noun in nouns:
            kept = kept or {self._family(noun, kws)}
            if self._family(noun, kws) not in kept or (verbal and self._qualifies(noun)):
                noun.kind = 'word'  # "search for the landing zone", "land on the landing pad"
        families = {self._family(it, kws) for it in verbs if it.kind in _VERBS}
        if not families and self._takes_height(clause):
            return {'altitude'}
        if families - {'goto'}:
            families.discard('goto')
            return families
        level = self.level and not self.horizontal()
        implicit = self._implicit_family(clause, kws, moving=bool(families), vertical=level)
        return {implicit} if implicit else families

    def _takes_height(self, clause: list[Item]) -> bool:
        """Whether a clause takes a length and says nothing else: "prends 5 mètres de plus",
        "prendi altri 10 metri" climb by it."""
        kinds = {it.kind for it in clause if it.kind not in _QUIET}
        lengths = [it for it in clause if it.kind == 'num' and it.value.unit is not None
                   and it.value.unit.dim == LENGTH]
        return kinds <= {'num', 'more'} and len(lengths) == 1 and any(
            self.norms[k] in lx.TAKE_WORDS[self.lang]
            for k in range(clause[0].first, lengths[0].first))

    @staticmethod
    def _place(clause: list[Item]) -> None:
        """A positioning verb ("portati", "ponte", "mets-toi", "level off") takes the dimension
        of what it is said with: a move beside a horizontal direction, a speed beside a speed
        in its unit, else a height; a compass point alone, the way it faces ("mettiti verso
        sud", "ponte al norte"); a hold, that state ("mettiti in hovering")."""
        for verb in clause:
            if verb.kind != 'change' or verb.value != 'place':
                continue
            if {it.kind for it in clause if it.kind not in _QUIET} == {'change', 'compass'}:
                verb.kind, verb.value = 'intent', 'face'
            elif any(it.kind == 'intent' and it.value == 'hold' for it in clause):
                verb.kind = 'glue'  # "mettiti in hovering", "ponte en hover": that state
            elif any(it.kind == 'compass' or (it.kind == 'dir' and it.value not in ('up', 'down'))
                   for it in clause):
                verb.kind, verb.value = 'intent', 'move'
            elif _said_in(clause, SPEED):
                verb.value = 'pace'
            else:
                verb.value = 'level'

    def _course_clauses(self, clauses: list[list[Item]]) -> list[list[Item]]:
        """Clauses for choosing the action, a course said apart from its distance joined to
        it: "heading south-west, 120 m", "Kurs 090, 200 Meter", "course 045, go 100 m"."""
        joined: list[list[Item]] = []
        for clause in clauses:
            previous = joined[-1] if joined else None
            if previous is not None and self._comma_between(previous, clause) and (
                    (self._course(previous) and self._distance(clause))
                    or (self._bare_direction(clause) and self._acts(previous))
                    or (self._bare_down(previous) and (self._bare_down(clause) or any(
                        it.kind == 'intent' and it.value == 'land' for it in clause)))):
                # "gira 90, a la derecha": a direction said after its verb's clause; "down,
                # down, land": a landing urged on
                joined[-1] = previous + clause
            else:
                joined.append(clause)
        return joined

    @staticmethod
    def _bare_direction(clause: list[Item]) -> bool:
        return {it.kind for it in clause if it.kind not in _QUIET} == {'dir'}

    @classmethod
    def _bare_down(cls, clause: list[Item]) -> bool:
        return cls._bare_direction(clause) and all(
            it.value == 'down' for it in clause if it.kind == 'dir')

    @staticmethod
    def _acts(clause: list[Item]) -> bool:
        return any(it.kind in _VERBS and it.value != 'move' for it in clause)

    @staticmethod
    def _course(clause: list[Item]) -> bool:
        kinds = {it.kind for it in clause if it.kind not in _QUIET}
        lengths = [it for it in clause if it.kind == 'num' and it.value.unit is not None
                   and it.value.unit.dim != ANGLE]
        return any(it.kind == 'kw' and it.value == 'heading' for it in clause) and not lengths \
            and kinds <= {'kw', 'compass', 'num'}

    @staticmethod
    def _distance(clause: list[Item]) -> bool:
        kinds = {it.kind for it in clause if it.kind not in _QUIET}
        moves = {it.value for it in clause if it.kind == 'intent'}
        forward = {it.value for it in clause if it.kind == 'dir'} <= {'forward'}
        return moves <= {'move'} and forward and kinds <= {'intent', 'num', 'kw', 'dir'} and \
            _said_in(clause, LENGTH)

    def _comma_between(self, before: list[Item], after: list[Item]) -> bool:
        if not before or not after:
            return False
        between = self.items[self.items.index(before[-1]) + 1:self.items.index(after[0])]
        return len(between) == 1 and between[0].kind == 'punct'

    def horizontal(self) -> bool:
        """Whether the command names a horizontal direction."""
        return any(it.kind == 'compass' or (it.kind == 'dir' and it.value not in ('up', 'down'))
                   for it in self.items)

    def _qualifies(self, noun: Item) -> bool:
        """Whether a noun form qualifies a word: right before it ("landing pad") or after it
        and "of" ("piattaforma di atterraggio", "zone d'atterrissage")."""
        k = self.items.index(noun)
        after = self.items[k + 1] if k + 1 < len(self.items) else None
        if after is not None and after.kind == 'word' and after.first == noun.last + 1:
            return True
        of, word = (self.items[k - 1], self.items[k - 2]) if k >= 2 else (None, None)
        return of is not None and self.norms[of.first] in _OF and of.first == of.last and (
            word.kind == 'word' and word.last + 1 == of.first == noun.first - 1)

    @staticmethod
    def _family(verb: Item, kws: set[str]) -> str:
        if verb.kind == 'intent':
            return _INTENT_FAMILY.get(verb.value, verb.value)
        if 'speed' in kws or verb.value in ('faster', 'slower', 'pace'):
            return 'speed'
        if 'altitude' in kws or verb.value in ('up', 'down', 'ground', 'level'):
            return 'altitude'
        return 'change'

    @staticmethod
    def _implicit_family(clause: list[Item], kws: set[str], moving: bool,
                         vertical: bool = False) -> str | None:
        """The family of a clause without a specific verb: "north 50 m", "speed 5 m/s"."""
        kinds = {it.kind for it in clause}
        dirs = {it.value for it in clause if it.kind == 'dir'}
        numbers = [it.value for it in clause if it.kind == 'num']
        dims = {q.unit.dim for q in numbers if q.unit}
        horizontal = 'compass' in kinds or bool(dirs - {'up', 'down'}) or 'heading' in kws
        if 'home' in kinds:
            return 'rth'
        if 'surface' in kinds and not (horizontal or moving or numbers):
            return 'land'  # "put it on the ground", "setz sie auf den Boden"
        if not horizontal and ('speed' in kws or SPEED in dims):
            return 'speed'
        absolute = any(q.to and (q.unit is None or q.unit.dim == LENGTH) for q in numbers)
        if not horizontal and ('altitude' in kws or (dirs and (
                absolute or (vertical and not moving)))):
            return 'altitude'  # "up to 30 m", "zehn Meter runter" (no move verb: no offset)
        if (horizontal or dirs) and ANGLE in dims and LENGTH not in dims:
            return 'rotate'
        if 'heading' in kws and not moving and LENGTH not in dims:
            return 'rotate'
        return 'goto' if horizontal or dirs or moving else None

    def _refuse_contradictions(self, families: set[str], clauses: list[list[Item]]) -> None:
        said = set(families)
        said.update(it.value for it in self.items if it.kind in ('dir', 'rotdir'))
        signs: dict[str, set[float]] = {}
        for clause in clauses:
            kws = {it.value for it in clause if it.kind == 'kw'}
            for it in clause:
                if it.kind == 'change' and _CHANGE_SIGN[it.value]:
                    signs.setdefault(self._family(it, kws), set()).add(_CHANGE_SIGN[it.value])
        if (any(pair <= said for pair in _OPPOSITES) or any(len(s) > 1 for s in signs.values())
                or any(it.kind == 'compass' and it.value is None for it in self.items)):
            self.fail('contradiction', 'contradiction')

    # -- helpers the binders share ----------------------------------------------------------------

    def _any(self, *kinds: str) -> bool:
        return any(it.kind in kinds for it in self.items)

    @staticmethod
    def _meaningful(part: list[Item]) -> bool:
        return any(it.kind not in _QUIET for it in part)

    def fail(self, key: str, reason: str = 'missing', **fields: str) -> NoReturn:
        """Stop parsing and ask the operator `key` instead."""
        raise _Clarify(key, reason, fields)

    def span(self, first: Item, last: Item | None = None) -> str:
        """The operator's own text from item `first` to `last`."""
        end = (last or first).last
        return self.text[self.tokens[first.first].start:self.tokens[end].end]

    def free(self, kind: str, *values: str) -> list[Item]:
        """Unused items of `kind` (with one of `values`, if given)."""
        return [it for it in self.items if it.kind == kind and not it.used
                and (not values or it.value in values)]

    @staticmethod
    def use(items: list[Item]) -> list[Item]:
        for item in items:
            item.used = True
        return items

    def assume(self, note: str, confidence: float) -> None:
        """Record an assumption once, lowering the confidence."""
        if note not in self.notes:
            self.notes.append(note)
            self.confidence *= confidence

    def quantity(self, dim: str, missing: str | None = None, kw: str | None = None) -> Item | None:
        """The first unused number that can measure `dim` (after noun `kw`, if given).

        With `missing`, asks that question when there is none.
        """
        for item in self.free('num'):
            unit = item.value.unit
            if unit is None and self._names_target(item):
                continue  # "follow car 2": the car's number, never 2 m
            if (unit is None or unit.dim == dim) and (kw is None or item.value.kw == kw):
                item.used = True
                return item
        if missing is not None:
            self.fail(missing)
        return None

    def _names_target(self, number: Item) -> bool:
        """Whether a number said without its unit stands right after a word of the target
        ("car 2", "pad 3"): it names the target."""
        k = self.items.index(number)
        return k > 0 and self.items[k - 1].kind == 'word' and \
            self.items[k - 1].last + 1 == number.first

    def si(self, item: Item, dim: str) -> float:
        """The number of `item` in the SI unit of `dim`, assuming the default unit if none."""
        quantity = item.value
        if quantity.unit is None:
            if 0 < quantity.number < 1:  # "quarter turn left": a fraction of what?
                self.fail('unknown_words', 'unknown_words', text=_echo(self.span(item)))
            if dim != COUNT:
                self.assume(f'assumed {DEFAULT_UNITS[dim]}', DEFAULT_UNIT_CONFIDENCE)
            return float(quantity.number)
        if quantity.unit.symbol == TURN and abs(quantity.number) >= 1:
            # "deux tours", "tres vueltas": spins or laps? asked, never 720 degrees
            self.fail('unknown_words', 'unknown_words', text=_echo(self.span(item)))
        return round(quantity.number * quantity.unit.factor, 6)

    def amount(self, item: Item, dim: str, allow_zero: bool = False) -> float:
        """A magnitude that must be positive (or zero where `allow_zero`)."""
        value = self.si(item, dim)
        if value < 0 or (value == 0 and not allow_zero):
            self.fail('not_positive', 'invalid', text=self.span(item))
        return value

    def bounded(self, value: float, item: Item, low: float, high: float) -> float:
        """`value` if it lies in [low, high], else ask back saying so."""
        if not low <= value <= high:
            self.fail('out_of_range', 'invalid', text=self.span(item), range=f'{low:g}–{high:g}')
        return value

    def target(self, missing: str | None = None) -> Target | None:
        """The target in the operator's words: the one run of unknown words, articles trimmed."""
        runs: list[list[Item]] = [[]]
        for item in self.items:
            if item.used or item.kind in _HARD:
                runs.append([])
            else:
                runs[-1].append(item)
        runs = [run for run in runs if any(it.kind in _CONTENT for it in run)
                and (self.lang in lx.VERB_FINAL or self._after_verb(run[0]))
                and not self._misspelt_quiet(run)]
        purposes = [it for it in self.items if it.kind == 'intent' and tuple(
            self.norms[it.first:it.last + 1]) in lx.PURPOSE_PHRASES[self.lang]]
        if purposes:  # "sweep the field to find the dog": the field is the area
            for run in [run for run in runs if run[0].first < purposes[-1].first]:
                self.use(run)
                self.assume(f"searched area '{_echo(self.span(run[0], run[-1]))}'", 1.0)
            runs = [run for run in runs if run[0].first > purposes[-1].last]
        runs = self._appositions(runs)
        if len(runs) > 1:
            self.fail('ambiguous_target', 'ambiguous')
        if not runs:
            if missing is not None:
                self.fail(missing)
            return None
        run = runs[0]
        if any(it.kind == 'word' and near_negation(it.value) for it in run):
            self._refuse_words()  # "nich landen": perhaps a negation, never a target
        words = [k for k, it in enumerate(run) if it.kind in _CONTENT]
        if len(words) > 1 and self.norms[run[words[0]].first] in lx.OBJECT_PRONOUNS[self.lang]:
            words = words[1:]  # "suis-moi ce camion": the pronoun is no part of its name
        start, end = words[0], words[-1]
        while start and self._adjective(run[start - 1], run[start]):
            start -= 1
        tail = [k for k in range(end + 1, len(run)) if run[k].kind in _ADJECTIVAL]
        if tail and self._ends_clause(run[-1]):
            end = tail[-1]
        self.use(run[start:end + 1])
        self.target_start = run[start].first
        label = shorten(printable(self.span(run[start], run[end])), LABEL_CHARS)
        return Target(label, None)

    def _misspelt_quiet(self, run: list[Item]) -> bool:
        """Whether a run is one misspelt word that carries no meaning ("atterra subbito"):
        read past, never a target."""
        content = [it for it in run if it.kind in _CONTENT]
        return len(content) == 1 and content[0].kind == 'word' and content[0].first == \
            content[0].last and near_quiet_word(self.norms[content[0].first], self.lang)

    def _appositions(self, runs: list[list[Item]]) -> list[list[Item]]:
        """Runs joined where a later one describes the target again after a comma ("the
        car, the red one", "la macchina, quella vicino al ponte")."""
        joined: list[list[Item]] = []
        for run in runs:
            if joined and self._describes(run):
                between = self.items[self.items.index(joined[-1][-1]) + 1:
                                     self.items.index(run[0])]
                if between and all(it.kind == 'punct' for it in between):
                    joined[-1] = joined[-1] + between + run
                    continue
            joined.append(run)
        return joined

    def _after_verb(self, item: Item) -> bool:
        verbs = [it.first for it in self.items if it.kind in _VERBS]
        return not verbs or item.first > verbs[0]

    @staticmethod
    def _adjective(item: Item, noun: Item) -> bool:
        """Whether `item` qualifies the word right after it: "left pad", "north gate"."""
        one_word = item.first == item.last or item.kind == 'compass'
        return item.kind in _ADJECTIVAL and one_word and item.last + 1 == noun.first

    def _ends_clause(self, item: Item) -> bool:
        after = self.items[self.items.index(item) + 1:]
        return not after or after[0].kind == 'punct'

    def heading(self, item: Item) -> float:
        """A compass heading from a number said in degrees, checked to be 0..360."""
        return self.bounded(self.si(item, ANGLE), item, 0.0, 360.0)

    def _refuse_words(self) -> None:
        unknown = [it for it in self.items if it.kind == 'word' and not it.used]
        if unknown:
            self.fail('unknown_words', 'unknown_words',
                      text=_echo(' '.join(self.span(it) for it in unknown)))

    def _ignorable(self, item: Item) -> bool:
        """Whether an unknown word may be read past: not a negation, number, unit (nor any word
        right after a number said without its unit), or a word with a meaning in another
        language; not where the verb stands (the first word of its
        clause, outside verb-final German); not a noun after an article or preposition (a
        target: "over the house")."""
        norms = self.norms[item.first:item.last + 1]
        if any(guarded(norm) for norm in norms):
            return False
        for lang in LANGUAGES:
            entry = lx.PHRASES[lang].get(tuple(norms))
            if entry is not None and entry.kind in _FOREIGN_MEANINGS:
                return False
        k = self.items.index(item)
        number = self.items[k - 1] if k else None
        if number is not None and number.kind == 'num' and number.value.unit is None and (
                any(near_unit(norm) for norm in norms) or number.last + 1 == item.first):
            return False  # "30 fet", "20 storeys", "3 blocks": a unit, never a default one
        clause_start = max((j + 1 for j in range(k) if self.items[j].kind in _SEPARATORS),
                           default=0)
        before = [it for it in self.items[clause_start:k] if it.kind not in _SKIPPED]
        if not before and self.lang not in lx.VERB_FINAL:
            return False
        previous = self.items[k - 1] if k else None
        return previous is None or previous.kind not in ('glue', 'to')

    def propose(self, action: str, params: dict[str, Any],
                target: Target | None = None) -> Proposal:
        """The proposal, once every item of the command found its place."""
        left = [it for it in self.items if not it.used and it.kind not in _QUIET | {'seq'}]
        if left and all(it.kind == 'word' for it in left):
            if len(left) > MAX_IGNORED_WORDS or not all(map(self._ignorable, left)) or (
                    DEFAULT_SENSE in self.notes):  # the word may be the sense: "rotate lt 90"
                self._refuse_words()
            for item in self.use(left):
                self.ignored.append(self.span(item))
                self.assume(f"ignored '{_echo(self.span(item))}'", PARTIAL_CONFIDENCE)
            left = []
        if left:
            self.fail('unused', 'unused', text=_echo(self.span(left[0])))
        said = [self.span(it) for it in self.items
                if it.used and it.kind in ('intent', 'change', 'num', 'dir', 'compass', 'kw',
                                            'home', 'rotdir')]
        shown = ', '.join(f'{k}={v:g}' if isinstance(v, float) else f'{k}={v}'
                          for k, v in params.items())
        if target is not None:
            shown += f"{', ' if shown else ''}target='{target.label}'"
        notes = ''.join(f'; {note}' for note in self.notes)
        matched = ' + '.join(f"'{text}'" for text in said)
        rationale = f'matched {matched} -> {action}({shown}){notes} [{self.lang}]'
        return Proposal(action, params, target, round(self.confidence, 3), rationale)

    def _stop(self) -> Proposal:
        extra = [it for it in self.items if it.kind not in _QUIET
                 and not (it.kind == 'intent' and it.value == 'stop')]
        if extra and self._for_a_time(extra):  # "stop for ten seconds", "stop, wait 10 s"
            self.use([it for it in self.items if it.kind == 'intent'])
            return _hold(self)
        if extra:
            self.assume('other words ignored: stopping first', IGNORED_WORDS_CONFIDENCE)
        self.use(self.items)
        return self.propose('stop', {})


    @staticmethod
    def _for_a_time(extra: list[Item]) -> bool:
        """Whether what a stop says besides is only how long: one duration with its time
        unit, a hold verb or the word "duration" (a hold of that long, still stopping)."""
        numbers = [it for it in extra if it.kind == 'num']
        return len(numbers) == 1 and numbers[0].value.unit is not None \
            and numbers[0].value.unit.dim == TIME and all(
                it.kind == 'num' or (it.kind, it.value) in (('intent', 'hold'),
                                                            ('kw', 'duration'))
                for it in extra)


# ---- binders: one per action family -------------------------------------------------------------

def _takeoff(p: _Parse) -> Proposal:
    p.use(p.free('kw', 'altitude'))
    number = p.quantity(LENGTH, None if p.takeoff_altitude_m is not None else 'missing_takeoff')
    if number is None:
        p.assume('default takeoff altitude', DEFAULT_UNIT_CONFIDENCE)
        return p.propose('takeoff', {'altitude_m': float(p.takeoff_altitude_m)})
    return p.propose('takeoff', {'altitude_m': p.amount(number, LENGTH)})


def _land(p: _Parse) -> Proposal:
    p.use(p.free('surface'))  # "land on the ground": where it ends, not a target
    if not p.free('num'):
        p.use(p.free('dir', 'down'))  # "down, down, land now", "giù giù, atterra"
    return p.propose('land', {}, p.target())


def _hold(p: _Parse) -> Proposal:
    p.use(p.free('kw', 'duration'))
    number = p.quantity(TIME)
    if not p.free('num'):  # "hold altitude", "mantieni la quota", "bleib da oben": stay
        p.use(p.free('kw', 'altitude') + p.free('dir', 'up'))
    return p.propose('hold', {'duration_s': None if number is None else p.amount(number, TIME)})


def _return_home(p: _Parse) -> Proposal:
    p.use(p.free('home') + p.free('dir', 'back'))  # "go back home", "zurück zum Startpunkt"
    return p.propose('return_to_home', {})


def _altitude(p: _Parse) -> Proposal:
    sign = next((_CHANGE_SIGN[it.value] for it in p.items if it.kind == 'change'), 0.0) or next(
        (_CHANGE_SIGN[it.value] for it in p.items if it.kind == 'dir' and it.value in (
            'up', 'down')), 0.0)  # "noch 5 Meter hoch", "acht Meter runter"
    p.use(p.free('kw', 'altitude'))
    missing = 'missing_up' if sign > 0 else 'missing_down' if sign < 0 else 'missing_altitude'
    grounding = any(it.kind == 'change' and it.value == 'ground' or it.kind == 'surface'
                    for it in p.items)  # "bring her down", "go down to the floor"
    number = p.quantity(LENGTH, None if grounding or sign < 0 else missing)
    if number is None and not grounding:  # "go down onto the pad": land on it
        target = p.target(missing)
        p.use(p.free('dir', 'down'))
        return p.propose('land', {}, target)
    if number is None:  # "bring her down", "setz sie runter": all the way
        p.use(p.free('dir', 'down'))
        return _land(p)
    more = p.use(p.free('more'))
    if not sign and not number.value.to and any(norm in lx.TAKE_WORDS[p.lang]
                                                 for norm in p.norms[:number.first]):
        sign = 1.0  # "prends 10 mètres d'altitude": taking altitude is gaining it
    if number.value.to or not (sign or more):
        p.use(p.free('dir', 'up', 'down'))
        return p.propose('change_altitude', {'altitude_m': p.amount(number, LENGTH, True)})
    if not sign:
        sign = 1.0
    p.use(p.free('dir', 'up' if sign > 0 else 'down'))
    return p.propose('change_altitude', {'delta_m': sign * p.amount(number, LENGTH)})


def _change(p: _Parse) -> NoReturn:
    p.fail('missing_noun')


def _speed(p: _Parse) -> Proposal:
    changes = [it for it in p.items if it.kind == 'change']
    p.use(p.free('kw', 'speed'))
    number = p.quantity(SPEED, 'missing_speed')
    by = number.first > 0 and p.norms[number.first - 1] in _BY
    limited = bool(p.use(p.free('limit')))
    # "ease off, 2 m/s", "slow down: 3 m/s tops": the new speed, said apart from the change
    apart = all(any(it.kind == 'punct' for it in p.items[min(p.items.index(c), k):
                                                         max(p.items.index(c), k)])
                for c in changes for k in [p.items.index(number)])
    # a speed said in its unit after "slow down" or "speed up" is the new speed ("slow down 3
    # m/s"); "by 3 m/s", and "increase" or "reduce" without "to", say a change
    unit = number.value.unit is not None and all(c.value in ('faster', 'slower') for c in changes)
    absolute = number.value.to or ((limited or apart or unit) and not by)
    if (changes and not absolute) or p.free('more'):
        p.fail('relative_speed', 'invalid')
    if absolute:
        p.use(p.free('dir', 'up', 'down'))  # "bring the speed down to 4 m/s"
    return p.propose('set_speed', {'speed_mps': p.amount(number, SPEED)})


def _goto(p: _Parse) -> Proposal:
    p.use(p.free('kw', 'distance'))
    compass, heading_kw = p.free('compass'), p.free('kw', 'heading')
    if compass or heading_kw:
        p.use(heading_kw)
        if compass:
            heading = p.use(compass[:1])[0].value
        else:
            heading = p.heading(p.quantity(ANGLE, 'missing_direction', kw='heading'))
        distance = p.amount(p.quantity(LENGTH, 'missing_distance'), LENGTH)
        p.use(p.free('more') + p.free('dir', 'forward'))  # "avanza 20 m hacia el norte"
        return p.propose('goto', {'heading_deg': heading, 'distance_m': distance})
    target = p.target()
    if target is not None:
        return p.propose('goto', {}, target)
    if p.free('dir'):
        return p.propose('goto', _offsets(p))
    p.fail('missing_direction')


def _offsets(p: _Parse) -> dict[str, float]:
    """Body offsets from directions paired with the distance said next to each."""
    line = [it for it in p.items if not it.used and (it.kind == 'dir' or (
        it.kind == 'num' and (it.value.unit is None or it.value.unit.dim == LENGTH)))]
    offsets = {'forward_m': 0.0, 'right_m': 0.0, 'up_m': 0.0}
    k, said = 0, set()
    while k + 1 < len(line):
        pair = {line[k].kind: line[k], line[k + 1].kind: line[k + 1]}
        if len(pair) < 2:
            k += 1
            continue
        axis, sign = _AXES[pair['dir'].value]
        if axis in {_AXES[value][0] for value in said}:
            p.fail('multi', 'multi')
        said.add(pair['dir'].value)
        offsets[axis] = sign * p.amount(pair['num'], LENGTH)
        p.use([pair['dir'], pair['num']])
        k += 2
    if said:
        p.use(p.free('dir', *said))  # the same direction twice: "avanza 20 m hacia adelante"
    if p.free('dir'):
        p.fail('missing_distance')
    p.use(p.free('more'))
    return offsets


def _rotate(p: _Parse) -> Proposal:
    verbs = {it.value for it in p.items if it.kind == 'intent'}
    p.use(p.free('kw', 'heading'))
    compass = p.free('compass')
    if compass:
        return p.propose('rotate', {'heading_deg': p.use(compass[:1])[0].value})
    number = p.quantity(ANGLE)
    if number is not None and ('face' in verbs or number.value.to or number.value.kw):
        return p.propose('rotate', {'heading_deg': p.heading(number)})
    if 'face' in verbs:
        p.fail('missing_direction')
    turns = p.use(p.free('dir', 'left', 'right') + p.free('rotdir'))
    signs = {_TURN_SIGN[it.value] for it in turns}
    if len(signs) > 1:
        p.fail('contradiction', 'contradiction')
    sign = signs.pop() if signs else 0.0
    p.use(p.free('more'))
    whole = [TURN_DEG[verb] for verb in verbs if verb in TURN_DEG]
    if number is None and not whole and not sign and any(
            tuple(p.norms[it.first:it.last + 1]) in lx.REFLEXIVE_TURN_PHRASES[p.lang]
            for it in p.items if it.kind == 'intent'):
        whole = [TURN_DEG['uturn']]  # "girati!", "gírate": turn around
    if number is None:
        if len(whole) != 1:
            p.fail('missing_angle')
        return p.propose('rotate', {'yaw_deg': whole[0] * (sign or 1.0)})
    if sign:
        yaw = sign * p.amount(number, ANGLE)
    else:
        yaw = p.si(number, ANGLE)
        if yaw == 0:
            p.fail('not_positive', 'invalid', text=p.span(number))
        if yaw > 0:
            p.assume(DEFAULT_SENSE, ASSUMED_SIGN_CONFIDENCE)
    return p.propose('rotate', {'yaw_deg': p.bounded(yaw, number, -360.0, 360.0)})


def _orbit(p: _Parse) -> Proposal:
    p.use(p.free('kw', 'radius') + p.free('kw', 'distance'))
    radius = p.amount(p.quantity(LENGTH, 'missing_radius'), LENGTH)
    spins = p.use(p.free('rotdir'))
    if not spins:
        p.assume(DEFAULT_SENSE, DEFAULT_SPIN_CONFIDENCE)
    direction = 'counterclockwise' if spins and spins[0].value == 'ccw' else 'clockwise'
    return p.propose('orbit', {'radius_m': radius, 'direction': direction}, p.target())


def _tracking(action: str, param: str, kw: str, missing: str) -> Callable[[_Parse], Proposal]:
    """A binder for actions on a required target with an optional distance (follow, search)."""
    def bind(p: _Parse) -> Proposal:
        p.use(p.free('kw', kw))
        number = p.quantity(LENGTH)
        target = p.target(missing)
        value = None if number is None else p.amount(number, LENGTH)
        return p.propose(action, {param: value}, target)
    return bind


def _photo(p: _Parse) -> Proposal:
    plural = any(it.kind == 'intent' and it.value == 'photos' for it in p.items)
    number = p.quantity(COUNT, 'missing_count' if plural else None)
    count = 1
    if number is not None:
        value = p.amount(number, COUNT)
        count = int(p.bounded(value, number, 1, 100))
        if count != value:
            p.fail('out_of_range', 'invalid', text=p.span(number), range='1–100')
    return p.propose('capture_photo', {'count': count}, p.target())


_BINDERS: dict[str, Callable[[_Parse], Proposal]] = {
    'takeoff': _takeoff,
    'land': _land,
    'hold': _hold,
    'rth': _return_home,
    'altitude': _altitude,
    'change': _change,
    'speed': _speed,
    'goto': _goto,
    'rotate': _rotate,
    'orbit': _orbit,
    'follow': _tracking('follow', 'distance_m', 'distance', 'missing_follow'),
    'search': _tracking('search', 'radius_m', 'radius', 'missing_search'),
    'photo': _photo,
}
