"""Numbers written in digits or in words, per language.

Digits: `30`, `2.5`, `-5`; a decimal comma in FR/DE/ES/IT (`2,5`), thousands separators by
locale (`1,000` in English, `1.000` elsewhere; the last separator is the decimal one when both
appear). Words: an atom table per language, segmented so compounds work without listing them
(`fünfundzwanzig`, `venticinque`, `veintitrés`, `quatre-vingt-dix`, `two hundred and five`).
Round approximate amounts count as their number (`une vingtaine`, `una trentina`, `una
decena`, `a dozen`): the operator names that amount.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from functools import lru_cache

from ministral_node.sources.rules.text import fold

LANGUAGES = ('en', 'fr', 'de', 'es', 'it')

# 'word value' pairs. A value adds to the number; x100 and x12 multiply the group so far,
# x1000 multiplies and closes it; +.5 adds a half; art is an article that means one before a
# unit or a multiplier ("a minute", "a hundred"); & links parts ("twenty-one", "vingt et un").
_ATOMS = {
    'en': """zero 0 one 1 two 2 three 3 four 4 five 5 six 6 seven 7 eight 8 nine 9 ten 10
        eleven 11 twelve 12 thirteen 13 fourteen 14 fifteen 15 sixteen 16 seventeen 17
        eighteen 18 nineteen 19 twenty 20 thirty 30 forty 40 fourty 40 fifty 50 sixty 60
        seventy 70 eighty 80 ninety 90 niner 9 hundred x100 thousand x1000 dozen x12
        couple 2 half .5 quarter .25 aquarter .25
        andahalf +.5 ahalf .5 halfa .5 halfan .5 a art an art and &""",
    'fr': """zéro 0 un art une art deux 2 trois 3 quatre 4 cinq 5 six 6 sept 7 huit 8 neuf 9
        dix 10 onze 11 douze 12 treize 13 quatorze 14 quinze 15 seize 16 vingt 20 vingts 20
        trente 30 quarante 40 cinquante 50 soixante 60 septante 70 quatrevingt 80
        quatrevingts 80 huitante 80 octante 80 nonante 90 cent x100 cents x100 mille x1000
        douzaine x12 dizaine x10 quinzaine x15 vingtaine x20 trentaine x30 quarantaine x40
        cinquantaine x50 soixantaine x60 centaine x100 dizaines x10 centaines x100
        quart .25 unquart .25 demi .5 demie .5 undemi .5 unedemi .5 unedemie .5 etdemi +.5
        etdemie +.5 et &""",
    'de': """null 0 eins 1 ein art eine art einen art einem art zwei 2 zwo 2 drei 3 vier 4
        fünf 5 sechs 6 sieben 7 acht 8 neun 9 zehn 10 elf 11 zwölf 12 sechzehn 16 siebzehn 17
        zwanzig 20 dreißig 30 vierzig 40 fünfzig 50 sechzig 60 siebzig 70 achtzig 80
        neunzig 90 hundert x100 tausend x1000 dutzend x12 halb .5 halbe .5 halben .5
        viertel .25 einehalbe .5 einenhalben .5 einemhalben .5 einerhalben .5 einhalb +.5
        anderthalb 1.5
        und &""",
    'es': """cero 0 un art uno art una art dos 2 tres 3 cuatro 4 cinco 5 seis 6 siete 7 ocho 8
        nueve 9 diez 10 once 11 doce 12 trece 13 catorce 14 quince 15 dieci 10 veinte 20
        veinti 20 treinta 30 cuarenta 40 cincuenta 50 sesenta 60 setenta 70 ochenta 80
        noventa 90 cien x100 ciento x100 doscientos 200 doscientas 200 trescientos 300
        trescientas 300 cuatrocientos 400 cuatrocientas 400 quinientos 500 quinientas 500
        seiscientos 600 seiscientas 600 setecientos 700 setecientas 700 ochocientos 800
        ochocientas 800 novecientos 900 novecientas 900 mil x1000 par 2 docena x12 decena x10
        quincena x15 veintena x20 treintena x30 cuarentena x40 cincuentena x50 centenar x100
        decenas x10 centenares x100
        cuarto .25 uncuarto .25 medio .5
        media .5 ymedio +.5 ymedia +.5 y &""",
    'it': """zero 0 un art uno art una art due 2 tre 3 quattro 4 cinque 5 sei 6 sette 7 otto 8
        nove 9 dieci 10 undici 11 dodici 12 tredici 13 quattordici 14 quindici 15 sedici 16
        diciassette 17 diciotto 18 diciannove 19 venti 20 vent 20 trenta 30 trent 30
        quaranta 40 quarant 40 cinquanta 50 cinquant 50 sessanta 60 sessant 60 settanta 70
        settant 70 ottanta 80 ottant 80 novanta 90 novant 90 cento x100 cent x100
        mille x1000 mila x1000 paio 2 dozzina x12 decina x10 quindicina x15 ventina x20
        trentina x30 quarantina x40 cinquantina x50 sessantina x60 centinaio x100 decine x10
        centinaia x100 quarto .25 unquarto .25
        mezzo .5 mezza .5 mezz .5 unmezzo .5
        emezzo +.5 emezza +.5 e &""",
}

Atom = tuple[str, float]  # (kind, value); kind is 'n', 'mul', 'big', 'frac', 'art' or 'link'


def _atom(spec: str) -> Atom:
    if spec == 'art':
        return ('art', 1.0)
    if spec == '&':
        return ('link', 0.0)
    if spec.startswith('x'):
        factor = float(spec[1:])
        return ('big' if factor >= 1000 else 'mul', factor)
    if spec.startswith('+'):
        return ('frac', float(spec[1:]))
    return ('n', float(spec))


def _compile(spec: str) -> dict[str, Atom]:
    words = spec.split()
    table: dict[str, Atom] = {}
    for word, value in zip(words[::2], words[1::2], strict=True):
        for umlauts in (True, False):
            table[fold(word, umlauts)] = _atom(value)
    return table


_TABLES = {lang: _compile(spec) for lang, spec in _ATOMS.items()}
_LONGEST = {lang: max(map(len, table)) for lang, table in _TABLES.items()}
_MAX_WORD = 60
_MAX_RUN = 8


@lru_cache(maxsize=8192)
def _segment(word: str, lang: str) -> tuple[Atom, ...] | None:
    """`word` split into the fewest atoms of `lang`, or None when it is not a number word."""
    if not word or len(word) > _MAX_WORD:
        return None
    table, longest, size = _TABLES[lang], _LONGEST[lang], len(word)
    best: list[tuple[Atom, ...] | None] = [None] * (size + 1)
    best[size] = ()
    for i in range(size - 1, -1, -1):
        for j in range(min(size, i + longest), i, -1):
            atom, rest = table.get(word[i:j]), best[j]
            if atom is not None and rest is not None:
                candidate = (atom, *rest)
                if best[i] is None or len(candidate) < len(best[i]):
                    best[i] = candidate
    return best[0]


def _bucket(value: float) -> int:
    """Place of an added value; one value per place keeps "two three" from meaning five."""
    if value < 1:
        return 0 if value == 0 else -1
    return 1 if value < 10 else 2 if value < 20 else 3 if value < 100 else 4


def _evaluate(atoms: Sequence[Atom]) -> float | None:
    total, group, places, valued = 0.0, 0.0, set(), False
    for kind, value in atoms:
        if kind == 'link':
            continue
        valued = True
        if kind in ('mul', 'big'):
            group = (group or 1.0) * value
            if kind == 'big':
                total, group = total + group, 0.0
            places = set()
            continue
        place = _bucket(value)
        if place in places:
            return None
        places.add(place)
        group += value
    return total + group if valued else None


def _digit(norm: str, lang: str) -> int | None:
    atoms = _segment(norm, lang)
    if atoms and len(atoms) == 1 and atoms[0][0] == 'n' and atoms[0][1] in range(10):
        return int(atoms[0][1])
    return None


def _digit_by_digit(norms: Sequence[str], start: int, lang: str,
                    joined: Collection[int] = ()) -> tuple[float, int] | None:
    """Radio style, one digit word at a time ("two seven zero" = 270, "five zero" = 50):
    three digits or more, two ending in zero (so "zwei drei Fotos" stays two numbers), or two
    joined by a hyphen ("two-five" = 25; `joined` holds the indexes hyphened to the next)."""
    digits = []
    while start + len(digits) < len(norms) and len(digits) < _MAX_RUN:
        digit = _digit(norms[start + len(digits)], lang)
        if digit is None:
            break
        digits.append(digit)
    hyphened = len(digits) == 2 and start in joined and digits[0]
    if len(digits) >= 3 or (len(digits) == 2 and digits[-1] == 0 and digits[0]) or hyphened:
        return float(''.join(map(str, digits))), len(digits)
    return None


def match_words(norms: Sequence[str], start: int, lang: str, joined: Collection[int] = (),
                ) -> tuple[float, int, bool] | None:
    """A number in words at `norms[start]`: (value, tokens used, is a bare article) or None.
    Digits said one at a time are read radio style (see `_digit_by_digit`; `joined`: the
    indexes of the words a hyphen joins to the next)."""
    radio = _digit_by_digit(norms, start, lang, joined)
    if radio is not None:
        return radio[0], radio[1], False
    end = start
    while end < len(norms) and end - start < _MAX_RUN and _segment(norms[end], lang):
        end += 1
    while end > start:
        atoms = _segment(''.join(norms[start:end]), lang)
        if atoms and atoms[0][0] != 'link' and atoms[-1][0] != 'link':
            value = _evaluate(atoms)
            if value is not None:
                return value, end - start, all(kind in ('art', 'link') for kind, _ in atoms)
        end -= 1
    return None


def match_fraction(norms: Sequence[str], start: int, lang: str) -> tuple[float, int] | None:
    """A trailing half after a unit ("two minutes and a half"): (value, tokens used) or None."""
    for end in range(min(len(norms), start + 3), start, -1):
        atoms = _segment(''.join(norms[start:end]), lang)
        if atoms and all(kind == 'frac' for kind, _ in atoms):
            return sum(value for _, value in atoms), end - start
    return None


def is_number_word(norm: str, lang: str) -> bool:
    """Whether `norm` is a number word (not a bare article or link) in `lang`."""
    atoms = _segment(norm, lang)
    return bool(atoms) and any(kind not in ('art', 'link') for kind, _ in atoms)


_SEPARATORS = re.compile('[.,]')


def parse_digits(text: str, lang: str) -> float | None:
    """The value of a digit token such as `-2,5` or `1,000` in `lang`, or None if malformed."""
    sign = -1.0 if text.startswith('-') else 1.0
    body = text.lstrip('-')
    seps = _SEPARATORS.findall(body)
    groups = _SEPARATORS.split(body)
    if not seps:
        digits = body
    elif len(set(seps)) == 2:
        if seps[-1] in seps[:-1] or any(len(g) != 3 for g in groups[1:-1]):
            return None
        digits = ''.join(groups[:-1]) + '.' + groups[-1]
    else:
        grouped = all(len(g) == 3 for g in groups[1:]) and not body.startswith('0')
        if len(seps) > 1 or (grouped and seps[0] == (',' if lang == 'en' else '.')):
            if not grouped:
                return None
            digits = ''.join(groups)
        else:
            digits = groups[0] + '.' + groups[1]
    value = sign * float(digits)
    return value if math.isfinite(value) else None
