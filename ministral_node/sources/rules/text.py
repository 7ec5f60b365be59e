"""Normalisation and tokenisation shared by the vocabulary tables and the parser.

Matching works on folded words: lower case, accents stripped, German umlauts written out
(`höher` -> `hoeher`), `ß` -> `ss`. Tables are compiled with the same functions, plus a
variant without the written-out umlauts so `hoher` matches too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Before NFKC: the ordinal indicator and ring above stand in for a degree sign in ES/IT text.
_PRE = str.maketrans({'º': '°', '˚': '°', '’': "'", '‘': "'", '`': "'", '´': "'"})
_UMLAUTS = str.maketrans({'ä': 'ae', 'ö': 'oe', 'ü': 'ue'})
_LIGATURES = str.maketrans({'ß': 'ss', 'ẞ': 'ss', 'æ': 'ae', 'œ': 'oe', 'ø': 'o', 'ł': 'l'})

# A digit run is a number only when it does not hang on a word ("m2", "A4" stay words).
_TOKEN = re.compile(
    r'(?P<num>(?<![\w.,])-?[0-9]+(?:[.,][0-9]+)*)'
    r'|(?P<word>[^\W\d_]+)'
    r'|(?P<digit>\w+)'
    r'|(?P<sym>[°/?!,;.:%&])'
)
PUNCTUATION = frozenset(',;.:')

# Verb + object pronoun written as one word: split so the pronoun can be the target.
_ENCLITICS = {'sigueme': 5, 'seguime': 5, 'seguimi': 5, 'siguenos': 5}


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its text as written, its folded form, and where it sits in the text."""

    raw: str
    norm: str
    start: int
    end: int
    kind: str  # 'num', 'word', 'digit' (digits glued to letters) or 'sym'


def fold(word: str, umlauts: bool = True) -> str:
    """`word` lower-cased without accents; umlauts written out unless `umlauts` is False."""
    folded = word.lower()
    if umlauts:
        folded = folded.translate(_UMLAUTS)
    folded = unicodedata.normalize('NFKD', folded.translate(_LIGATURES))
    return ''.join(c for c in folded if not unicodedata.combining(c))


def prepare(text: str) -> str:
    """The text the tokens point into: compatibility-normalised (full-width digits, ligatures)."""
    return unicodedata.normalize('NFKC', text.translate(_PRE))


def tokenize(text: str) -> list[Token]:
    """Tokens of `text`, which must already have gone through `prepare`."""
    tokens = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or 'sym'
        raw = match.group()
        norm = fold(raw) if kind in ('word', 'digit') else raw
        cut = _ENCLITICS.get(norm)
        if cut is not None and len(raw) == len(norm):
            start = match.start()
            tokens.append(Token(raw[:cut], norm[:cut], start, start + cut, kind))
            tokens.append(Token(raw[cut:], norm[cut:], start + cut, match.end(), kind))
        else:
            tokens.append(Token(raw, norm, match.start(), match.end(), kind))
    return tokens


def hyphen_joined(text: str, tokens: list[Token]) -> frozenset[int]:
    """Indexes `i` of the tokens that a hyphen joins to token `i + 1` in `text` ("two-five")."""
    return frozenset(i for i, (a, b) in enumerate(zip(tokens, tokens[1:]))
                     if b.start == a.end + 1 and text[a.end] == '-')


def phrase_keys(phrase: str) -> set[tuple[str, ...]]:
    """The token keys a table phrase matches: with and without written-out umlauts."""
    words = [t.raw for t in tokenize(prepare(phrase))]
    return {tuple(fold(w, umlauts) for w in words) for umlauts in (True, False)}


def printable(text: str) -> str:
    """`text` with control, format, surrogate and unassigned characters blanked (safe to echo)."""
    return ''.join(' ' if unicodedata.category(c)[0] == 'C' else c for c in text)
