"""Misspelt words read by edit distance, and the words that must never be read past.

A word the vocabulary does not know may be a typo of an action or a direction ("tunr" ->
"turn", "nrth" -> "north"; not of a generic "go"/"fly", which would make any unknown first
word a move to whatever follows): it is read as the one vocabulary word of its language
within edit distance 1 (2 for words of 8 letters or more), with the same first letter; a
doubled or undoubled letter costs nothing ("atterir" -> "atterrir"). Numbers,
units and negations are never corrected, and a word close to a negation of any language is
never ignored or corrected ("nich landen" asks back).
"""

from __future__ import annotations

from functools import cache

from ministral_node.sources.rules import lexicon as lx
from ministral_node.sources.rules.numbers import LANGUAGES, is_number_word
from ministral_node.sources.rules.units import UNITS

MIN_TYPO_CHARS = 4  # shorter words are too easily another word


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Optimal-string-alignment distance (insert, delete, substitute, swap neighbours),
    or `limit + 1` when it is larger than `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], previous2[j - 2] + 1)
        if min(row) > limit:
            return limit + 1
        previous2, previous = previous, row
    return previous[-1]


def _allowed(word: str) -> int:
    return 2 if len(word) >= 8 else 1


@cache
def _vocabulary(lang: str) -> tuple[tuple[str, lx.Entry], ...]:
    return tuple((key[0], entry) for key, entry in lx.PHRASES[lang].items()
                 if len(key) == 1 and entry.kind in lx.TYPO_KINDS and not entry.weak
                 and len(key[0]) >= MIN_TYPO_CHARS
                 and (entry.kind, entry.value) != ('intent', 'move'))  # "hazme" is no "hazte"


@cache
def _negations() -> frozenset[str]:
    return frozenset(key[0] for lang in LANGUAGES for key, entry in lx.PHRASES[lang].items()
                     if entry.kind in ('neg', 'cond') and len(key) == 1)


def near_negation(word: str) -> bool:
    """Whether `word` is a negation or condition of any language, or one edit from one with
    the same first letter ("nich", "dnot"): never read past, corrected, or taken as a
    target."""
    if word in _negations():
        return True
    return len(word) >= MIN_TYPO_CHARS and any(
        edit_distance(word, neg, 1) <= 1 for neg in _negations()
        if len(neg) >= MIN_TYPO_CHARS and neg[0] == word[0])


@cache
def _unit_words() -> frozenset[str]:
    return frozenset(key[0] for key in UNITS if len(key) == 1 and len(key[0]) >= 3
                     and key[0].isalpha())


def near_unit(word: str) -> bool:
    """Whether `word` is a unit word or a misspelling of one ("metrs", "fet", "knts"):
    after a number it may be the number's unit, so it is never read past."""
    return (word,) in UNITS or len(word) >= 3 and any(
        unit[0] == word[0] and typo_distance(word, unit, _allowed(unit)) <= _allowed(unit)
        for unit in _unit_words())


MIN_QUIET_TYPO_CHARS = 6  # "subbito", "immediatly": long enough to be no other word


@cache
def _quiet_words(lang: str) -> frozenset[str]:
    return frozenset(key[0] for key, entry in lx.PHRASES[lang].items()
                     if len(key) == 1 and entry.kind in ('glue', 'filler')
                     and len(key[0]) >= MIN_QUIET_TYPO_CHARS)


def near_quiet_word(word: str, lang: str) -> bool:
    """Whether `word` is one typo from a word of `lang` that carries no meaning of its own
    (an adverb, a polite word: "subbito", "immediatly"): read past, never taken as a target.
    Nothing is corrected into a meaning this way."""
    return len(word) >= MIN_QUIET_TYPO_CHARS and word.isalpha() and not guarded(word) and any(
        known[0] == word[0] and typo_distance(word, known, 1) <= 1
        for known in _quiet_words(lang))


def guarded(word: str) -> bool:
    """Whether `word` must never be read past or corrected: near a negation (see
    `near_negation`), a number word of any language or a unit."""
    if (word,) in UNITS or any(is_number_word(word, lang) for lang in LANGUAGES):
        return True
    return near_negation(word)


def _single(word: str) -> str:
    """`word` with doubled letters written once: a doubling mistake costs nothing
    ("atterir", "aterriza", "decolare")."""
    return ''.join(c for k, c in enumerate(word) if not k or c != word[k - 1])


@cache
def _phrases(lang: str) -> tuple[tuple[tuple[str, ...], lx.Entry], ...]:
    return tuple((key, entry) for key, entry in lx.PHRASES[lang].items()
                 if len(key) > 1 and entry.kind in lx.TYPO_KINDS and not entry.weak)


def _misspells(word: str, known: str, later: bool) -> int | None:
    """How far `word` is from `known` if it can be a typo of it (same first letter, not
    guarded; a word shorter than `MIN_TYPO_CHARS` only by a doubled letter: "of" -> "off"),
    else None. A `later` word of a phrase is often a noun of its own ("verso l'auto" is no
    "verso l'alto"): one letter swapped for another is no typo there, a transposition, a
    missing or an extra letter is."""
    if not word.isalpha() or word[0] != known[0] or guarded(word):
        return None
    if len(word) < MIN_TYPO_CHARS or len(known) < MIN_TYPO_CHARS:
        return 0 if _single(word) == _single(known) else None
    if later and len(word) == len(known) < 8 and sum(a != b for a, b in zip(word, known)) == 1:
        return None
    limit = _allowed(word)
    distance = typo_distance(word, known, limit)
    return distance if distance <= limit else None


def phrase_correction(norms: list[str], i: int, lang: str) -> tuple[str, lx.Entry] | None:
    """The vocabulary phrase starting at `norms[i]` with one of its words misspelt, the others
    said as written ("tkae off", "take of", "come bakc home", "à gauhce"), if exactly one
    meaning is nearest: as for `correction`."""
    best: dict[int, list[tuple[tuple[str, ...], lx.Entry]]] = {}
    for key, entry in _phrases(lang):
        said = tuple(norms[i:i + len(key)])
        wrong = [k for k, word in enumerate(said) if word != key[k]]
        if len(said) != len(key) or len(wrong) != 1:
            continue
        word = said[wrong[0]]
        known = lx.PHRASES[lang].get((word,))
        if known is not None and known.kind in lx.TYPO_KINDS:
            continue  # a word of its own meaning ("turn left") is no typo of another
        distance = _misspells(word, key[wrong[0]], later=wrong[0] > 0)
        if distance is not None:
            best.setdefault(distance, []).append((key, entry))
    if not best:
        return None
    nearest = best[min(best)]
    if len({(entry.kind, entry.value) for _, entry in nearest}) != 1:
        return None
    key, entry = max(nearest, key=lambda pair: len(pair[0]))
    return ' '.join(key), entry


def typo_distance(word: str, known: str, limit: int = 2) -> int:
    """How far `word` is from `known` as a typo: the edit distance, doubled letters free."""
    return min(edit_distance(word, known, limit),
               edit_distance(_single(word), _single(known), limit))


def correction(word: str, lang: str) -> tuple[str, lx.Entry] | None:
    """The vocabulary word (and its meaning) `word` is a typo of in `lang`, if exactly one is
    nearest; None for short, guarded or unmatched words."""
    if len(word) < MIN_TYPO_CHARS or not word.isalpha() or guarded(word):
        return None
    limit = _allowed(word)
    best: dict[int, list[tuple[str, lx.Entry]]] = {}
    for known, entry in _vocabulary(lang):
        if known[0] != word[0]:
            continue
        distance = typo_distance(word, known, limit)
        if distance <= limit:
            best.setdefault(distance, []).append((known, entry))
    if not best:
        return _doubled_move(word, lang)
    nearest = best[min(best)]
    meanings = {(entry.kind, entry.value) for _, entry in nearest}
    return nearest[0] if len(meanings) == 1 else None


@cache
def _moves(lang: str) -> dict[str, tuple[str, lx.Entry]]:
    return {_single(key[0]): (key[0], entry) for key, entry in lx.PHRASES[lang].items()
            if len(key) == 1 and (entry.kind, entry.value) == ('intent', 'move')
            and len(key[0]) >= MIN_TYPO_CHARS}


def _doubled_move(word: str, lang: str) -> tuple[str, lx.Entry] | None:
    """A generic move verb misspelt only by a doubled or undoubled letter ("flieeg"): the
    one typo of a move verb that cannot be another word's ("hazme" is no "hazte")."""
    return _moves(lang).get(_single(word))
