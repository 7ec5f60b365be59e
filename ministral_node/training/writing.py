"""How operators actually write: numbers in words, other units, abbreviations, typos, no accents.

The training generators use these so the model does not learn only the templates' tidy form:

    spell(30, 'fr')                      # 'trente'
    typo(rng, 'descend to 20 m')         # 'decsend to 20 m' (one edit in one word)
    unaccented('décolle à 30 m', 'fr')   # 'decolle a 30 m'
    noise(rng)                           # 'lolo xcvb' (a keyboard run, babble: no command)

Every spelling here is one the rule parser reads back (tested), so the verify stage can trace a
number the model copies from words.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection

import numpy as np

from ministral_node.sources.rules.spelling import guarded
from ministral_node.sources.rules.text import fold

_EN_ONES = ('zero one two three four five six seven eight nine ten eleven twelve thirteen '
            'fourteen fifteen sixteen seventeen eighteen nineteen').split()
_EN_TENS = ('', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty',
            'ninety')
_FR_ONES = ('zéro un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze '
            'quinze seize dix-sept dix-huit dix-neuf').split()
_FR_TENS = ('', '', 'vingt', 'trente', 'quarante', 'cinquante', 'soixante')
_DE_ONES = ('null eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf dreizehn '
            'vierzehn fünfzehn sechzehn siebzehn achtzehn neunzehn').split()
_DE_TENS = ('', '', 'zwanzig', 'dreißig', 'vierzig', 'fünfzig', 'sechzig', 'siebzig',
            'achtzig', 'neunzig')
_ES_ONES = ('cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce '
            'quince dieciséis diecisiete dieciocho diecinueve veinte veintiuno veintidós '
            'veintitrés veinticuatro veinticinco veintiséis veintisiete veintiocho '
            'veintinueve').split()
_ES_TENS = ('', '', '', 'treinta', 'cuarenta', 'cincuenta', 'sesenta', 'setenta', 'ochenta',
            'noventa')
_ES_HUNDREDS = ('', 'ciento', 'doscientos', 'trescientos', 'cuatrocientos', 'quinientos',
                'seiscientos', 'setecientos', 'ochocientos', 'novecientos')
_IT_ONES = ('zero uno due tre quattro cinque sei sette otto nove dieci undici dodici tredici '
            'quattordici quindici sedici diciassette diciotto diciannove').split()
_IT_TENS = ('', '', 'venti', 'trenta', 'quaranta', 'cinquanta', 'sessanta', 'settanta',
            'ottanta', 'novanta')


def _en(n: int) -> str:
    if n < 20:
        return _EN_ONES[n]
    if n < 100:
        tens, one = divmod(n, 10)
        return _EN_TENS[tens] + (f'-{_EN_ONES[one]}' if one else '')
    hundreds, rest = divmod(n, 100)
    head = f'{_EN_ONES[hundreds]} hundred'
    return head if not rest else f'{head} and {_en(rest)}'


def _fr(n: int) -> str:
    if n < 20:
        return _FR_ONES[n]
    if n < 70:
        tens, one = divmod(n, 10)
        if one == 0:
            return _FR_TENS[tens]
        return _FR_TENS[tens] + ('-et-un' if one == 1 else f'-{_FR_ONES[one]}')
    if n < 80:
        return 'soixante-et-onze' if n == 71 else f'soixante-{_FR_ONES[n - 60]}'
    if n < 100:
        return 'quatre-vingts' if n == 80 else f'quatre-vingt-{_FR_ONES[n - 80]}'
    hundreds, rest = divmod(n, 100)
    head = 'cent' if hundreds == 1 else f'{_FR_ONES[hundreds]} cent' + ('' if rest else 's')
    return head if not rest else f'{head} {_fr(rest)}'


def _de(n: int) -> str:
    if n < 20:
        return _DE_ONES[n]
    if n < 100:
        tens, one = divmod(n, 10)
        if one == 0:
            return _DE_TENS[tens]
        return ('ein' if one == 1 else _DE_ONES[one]) + 'und' + _DE_TENS[tens]
    hundreds, rest = divmod(n, 100)
    head = ('ein' if hundreds == 1 else _DE_ONES[hundreds]) + 'hundert'
    return head + (_de(rest) if rest else '')


def _es(n: int) -> str:
    if n < 30:
        return _ES_ONES[n]
    if n < 100:
        tens, one = divmod(n, 10)
        return _ES_TENS[tens] + (f' y {_ES_ONES[one]}' if one else '')
    if n == 100:
        return 'cien'
    hundreds, rest = divmod(n, 100)
    return _ES_HUNDREDS[hundreds] + (f' {_es(rest)}' if rest else '')


def _it(n: int) -> str:
    if n < 20:
        return _IT_ONES[n]
    if n < 100:
        tens, one = divmod(n, 10)
        head = _IT_TENS[tens]
        if one in (1, 8):
            head = head[:-1]
        word = head + (_IT_ONES[one] if one else '')
        return word[:-3] + 'tré' if one == 3 else word
    hundreds, rest = divmod(n, 100)
    head = 'cento' if hundreds == 1 else f'{_IT_ONES[hundreds]}cento'
    return head + (_it(rest) if rest else '')


_SPELLERS = {'en': _en, 'fr': _fr, 'de': _de, 'es': _es, 'it': _it}
MAX_SPELLED = 999


def spell(value: float, language: str) -> str:
    """A whole number from 0 to 999 in words, as an operator of `language` writes it."""
    if value != int(value) or not 0 <= value <= MAX_SPELLED:
        raise ValueError(f'{value} cannot be spelled (whole numbers 0-{MAX_SPELLED})')
    return _SPELLERS[language](int(value))


def unaccented(text: str, language: str, rng: np.random.Generator | None = None) -> str:
    """`text` typed without accents; German umlauts as ae/oe/ue and ß as ss, or just dropped
    (when `rng` says so)."""
    if language == 'de' and (rng is None or rng.random() < 0.6):
        for accented, plain in (('ä', 'ae'), ('ö', 'oe'), ('ü', 'ue'), ('Ä', 'Ae'),
                                ('Ö', 'Oe'), ('Ü', 'Ue'), ('ß', 'ss')):
            text = text.replace(accented, plain)
    text = text.replace('ß', 'ss').replace('œ', 'oe')
    decomposed = unicodedata.normalize('NFKD', text)
    return unicodedata.normalize('NFC', ''.join(c for c in decomposed
                                                if not unicodedata.combining(c)))


def typo(rng: np.random.Generator, text: str, keep: str = '') -> str:
    """`text` with one slip of the keyboard in one word of four letters or more (two letters
    swapped, one dropped or one doubled). Words inside `keep` are left alone, and so are
    numbers, units and negations (`spelling.guarded`): a slip there changes what is asked."""
    words = text.split(' ')
    kept = set(keep.split())
    candidates = [i for i, w in enumerate(words)
                  if len(w) >= 4 and w.isalpha() and not w.isupper() and w not in kept
                  and not guarded(fold(w))]
    if not candidates:
        return text
    i = candidates[int(rng.integers(len(candidates)))]
    word = words[i]
    at = int(rng.integers(1, len(word) - 1))
    kind = int(rng.integers(3))
    if kind == 0:
        word = word[:at] + word[at + 1] + word[at] + word[at + 2:]
    elif kind == 1:
        word = word[:at] + word[at + 1:]
    else:
        word = word[:at] + word[at] + word[at:]
    words[i] = word
    return ' '.join(words)


_KEYBOARD_ROWS = ('qwertyuiop', 'asdfghjkl', 'zxcvbnm', 'azertyuiop', 'qwertzuiop')
_BABBLE = ('la', 'na', 'lo', 'ta', 'tra', 'pff', 'mm', 'hm', 'eh', 'oh', 'uh', 'hi', 'he', 'ho',
           'yo', 'wa', 'ba', 'pa', 'di', 'du', 'xd', 'lol', 'euh', 'ähm', 'ehm', 'mah')


def noise(rng: np.random.Generator, avoid: Collection[str] = ()) -> str:
    """Text that is no command at all: keyboard runs, babble syllables, random letters, one to
    three words, none of them in `avoid` (lower case)."""
    words: list[str] = []
    count = int(rng.integers(1, 4))
    while len(words) < count:
        kind = int(rng.integers(3))
        if kind == 0:
            row = _KEYBOARD_ROWS[int(rng.integers(len(_KEYBOARD_ROWS)))]
            # never from a row's first key: the hand-written evaluation set has such runs
            start = int(rng.integers(1, len(row) - 2))
            words.append(row[start:start + int(rng.integers(3, 6))])
        elif kind == 1:
            syllable = _BABBLE[int(rng.integers(len(_BABBLE)))]
            words.append(syllable * int(rng.integers(1, 4)))
        else:
            letters = rng.choice(list('abcdefghijklmnopqrstuvwxyz'), int(rng.integers(4, 8)))
            words.append(''.join(letters))
        if words[-1] in avoid:
            words.pop()
    text = ' '.join(words)
    return text + ('?' * int(rng.integers(1, 3)) if rng.random() < 0.15 else '')
