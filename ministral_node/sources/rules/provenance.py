"""Number and unit provenance: every quantity an operator command says.

What the rule parser's vocabulary reads as a magnitude in any of the five languages: numbers
in digits or words, with the unit said after them converted to the contract's unit (the param
name's suffix: `_m`, `_mps`, `_deg`, `_s`), numbers said bare, compass headings and the 180 or
360 degrees of a half or full turn. The verify stage (`verify`) checks a model's numbers
against them, the training data checks its commands. Imports no ROS.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from ministral_node.sources.rules import lexicon as lx
from ministral_node.sources.rules.numbers import (
    LANGUAGES,
    match_fraction,
    match_words,
    parse_digits,
)
from ministral_node.sources.rules.text import Token, hyphen_joined, prepare, tokenize
from ministral_node.sources.rules.units import (
    ANGLE,
    COUNT,
    DEFAULT_UNITS,
    LENGTH,
    SPEED,
    TIME,
    match_time_rest,
    match_unit,
)

# What a turn phrase says by itself: "turn around", "fais demi-tour" a half turn, "do a 360",
# "fai un giro su te stesso" a full one.
TURN_DEG = {'uturn': 180.0, 'spin': 360.0}


def command_numbers(text: str) -> frozenset[float]:
    """Every magnitude `text` says or implies: numbers in digits or words (any of the five
    languages), as said and converted from the unit after them; compass headings; 180 or 360
    for a half or full turn said as such."""
    prepared = prepare(text)
    tokens = tokenize(prepared)
    norms, joined = [t.norm for t in tokens], hyphen_joined(prepared, tokens)
    values: set[float] = set()
    headings: list[float] = []
    for i, token in enumerate(tokens):
        for lang in LANGUAGES:
            if token.kind == 'num':
                number = parse_digits(token.norm, lang)
                if number is not None:
                    values |= _with_units(number, norms, i + 1, lang)
            elif token.kind == 'word':
                words = match_words(norms, i, lang, joined)
                if words is not None:
                    said = _with_units(words[0], norms, i + words[1], lang)
                    values |= said if not words[2] else said - {abs(words[0])}
                entry = lx.PHRASES[lang].get((token.norm,))
                headings += _headings(token.raw, entry, lang, i > 0)
    bare = not values
    distinct = list(dict.fromkeys(headings))  # in the order said
    values |= {lx.combine_headings(list(pair)) for size in (2, 3)
               for pair in combinations(distinct, size)}
    values |= set(headings)
    values |= _turns_said(norms, bare)
    return frozenset(v for v in values if v is not None)


def _with_units(number: float, norms: list[str], after: int, lang: str) -> set[float]:
    values = {abs(number)}
    unit = match_unit(norms, after)
    if unit is not None:
        half = match_fraction(norms, after + unit[1], lang)
        for value in (number, number + (half[0] if half else 0.0)):
            values |= {abs(value), abs(round(value * unit[0].factor, 6))}
    return values


def _headings(raw: str, entry: lx.Entry | None, lang: str, inside: bool) -> list[float]:
    if entry is not None and entry.kind == 'compass':
        return [lx.COMPASS_DEG[entry.value]]
    letters = lx.ABBREVIATION_LETTERS[lang]
    if inside and 1 <= len(raw) <= 3 and raw.isupper() and all(c in letters for c in raw):
        heading = lx.combine_headings([letters[c] for c in raw])
        return [] if heading is None else [heading]
    return []


_TURNS = {key: TURN_DEG[entry.value] for lang in LANGUAGES
          for key, entry in lx.PHRASES[lang].items()
          if entry.kind == 'intent' and entry.value in TURN_DEG}
_REFLEXIVE = frozenset(key for keys in lx.REFLEXIVE_TURN_PHRASES.values() for key in keys)
_TURN_WORDS = max(map(len, [*_TURNS, *_REFLEXIVE]))


def _turns_said(norms: list[str], bare: bool) -> set[float]:
    """The angles the turn phrases of `norms` say by themselves (180, 360); a turn verb
    said to the vehicle itself ("girati", "gírate") says 180 when no number is said (`bare`)."""
    keys = {tuple(norms[i:i + size]) for i in range(len(norms))
            for size in range(1, _TURN_WORDS + 1)}
    return {_TURNS[key] for key in keys if key in _TURNS} | (
        {TURN_DEG['uturn']} if bare and keys & _REFLEXIVE else set())


# The contract's units, read from a param name's suffix (longest first).
_PARAM_UNITS = (('_mps', SPEED), ('_deg', ANGLE), ('_m', LENGTH), ('_s', TIME))


@dataclass(frozen=True)
class Said:
    """A magnitude the command says: its value in the contract's unit of `dim` (None: said
    without a unit, so it may measure anything), how it was written, and the number in it
    as written (before conversion; NaN for a compass word)."""

    value: float
    dim: str | None
    written: str
    number: float


def param_dimension(name: str) -> str | None:
    """What a param measures, from the unit in its name (`speed_mps` -> speed); None if the
    name carries no unit."""
    leaf = name.rsplit('.', 1)[-1]
    if leaf == 'count':
        return COUNT
    return next((dim for suffix, dim in _PARAM_UNITS if leaf.endswith(suffix)), None)


def command_quantities(text: str) -> tuple[Said, ...]:
    """Every quantity `text` says: numbers in digits or words (any of the five languages)
    with the unit said after them converted to the contract's unit, numbers said bare,
    compass headings and a half or full turn's 180 or 360 (angles)."""
    prepared = prepare(text)
    tokens = tokenize(prepared)
    norms, joined = [t.norm for t in tokens], hyphen_joined(prepared, tokens)
    said: dict[tuple[float, str | None], Said] = {}
    headings: list[float] = []
    for i, token in enumerate(tokens):
        for lang in LANGUAGES:
            found: tuple[float, int, bool] | None = None
            if token.kind == 'num':
                number = parse_digits(token.norm, lang)
                found = None if number is None else (number, 1, False)
            elif token.kind == 'word':
                found = match_words(norms, i, lang, joined)
                headings += _headings(token.raw, lx.PHRASES[lang].get((token.norm,)), lang,
                                      i > 0)
            if found is not None:
                for quantity in _quantities(found, prepared, tokens, i, lang):
                    said.setdefault((round(quantity.value, 6), quantity.dim), quantity)
    distinct = list(dict.fromkeys(headings))
    angles = set(headings) | {lx.combine_headings(list(group)) for size in (2, 3)
                              for group in combinations(distinct, size)}
    angles |= _turns_said(norms, bare=not said)
    for angle in sorted(a for a in angles if a is not None):
        said.setdefault((round(angle, 6), ANGLE), Said(angle, ANGLE, f'{angle:g} deg',
                                                          float('nan')))
    return tuple(said.values())


def _quantities(found: tuple[float, int, bool], text: str, tokens: list[Token], i: int,
                lang: str) -> list[Said]:
    """The quantity of one number at token `i`: converted when a unit follows, else bare (an
    article alone, "a photo", says nothing)."""
    number, size, article = found
    norms = [t.norm for t in tokens]
    after = i + size
    unit = match_unit(norms, after)
    if unit is None:
        written = text[tokens[i].start:tokens[after - 1].end]
        return [] if article else [Said(abs(number), None, written, abs(number))]
    written = text[tokens[i].start:tokens[after + unit[1] - 1].end]
    half = match_fraction(norms, after + unit[1], lang)
    rest = match_time_rest(norms, after + unit[1], unit[0], lang)  # "2 minutes 30 seconds"
    values = {number} | ({number + half[0]} if half else set()) | (
        {number + rest[0]} if rest else set())
    return [Said(abs(round(value * unit[0].factor, 6)), unit[0].dim, written, abs(value))
            for value in values]


def unit_name(dim: str | None) -> str:
    return DEFAULT_UNITS.get(dim, '') if dim else ''


def measure(dim: str | None) -> str:
    """`dim` in words with its contract unit: "a length in m"."""
    if dim is None:
        return 'a number'
    article = 'an' if dim[0] in 'aeiou' else 'a'
    return f'{article} {dim} in {unit_name(dim)}' if unit_name(dim) else f'{article} {dim}'
