"""Word forms the vocabulary lists once: object pronouns written onto a Spanish or Italian
imperative ("hazme", "échale", "fammi", "scattami"), diminutives ("fotito", "vueltecita",
"fotina", "giretto", and of units: "minutitos", "secondini"), instructions in the present
tense, second person ("tu montes", "subes", "torni", "du steigst": the imperative the
vocabulary lists, with the ending of the present), the first person plural ("decolliamo",
"montons"), and English gerunds after "keep" ("keep hovering", "keep circling").

A word the vocabulary does not know is read as its base form when that base is a vocabulary
word of the same language: a verb for a pronoun ending (the pronoun names the operator or the
thing the command names anyway: "hazme una foto", "échale una foto al puente"), any vocabulary
word or unit for a diminutive. Numbers, units and negations are never rewritten (see
`guarded`).
"""

from __future__ import annotations

from functools import cache

from ministral_node.sources.rules import lexicon as lx
from ministral_node.sources.rules.numbers import is_number_word
from ministral_node.sources.rules.spelling import guarded
from ministral_node.sources.rules.units import UNITS

# Longest first: "selo" before "lo".
_PRONOUNS = {
    'es': ('melo', 'mela', 'selo', 'sela', 'telo', 'tela', 'nos', 'les', 'los', 'las', 'me',
           'te', 'le', 'lo', 'la', 'se'),
    'it': ('glielo', 'gliela', 'melo', 'mela', 'gli', 'mi', 'ti', 'ci', 'vi', 'lo', 'la', 'le',
           'li', 'ne', 'si'),
}
_DIMINUTIVES = {
    'es': ('ecitos', 'ecitas', 'ecito', 'ecita', 'citos', 'citas', 'cito', 'cita', 'itos',
           'itas', 'ito', 'ita', 'illo', 'illa'),
    'it': ('etto', 'etta', 'etti', 'ette', 'ino', 'ina', 'ini', 'ine', 'ello', 'ella'),
}
_ENDINGS = ('o', 'a', 'e', '')  # the base's own last vowel, cut by the suffix
# The present, second person (English: the gerund), from the imperative: (ending of the
# form, of the imperative)
_VERB_FORMS = {
    'en': (('ing', ''), ('ing', 'e')),  # hovering <- hover, circling <- circle
    # and the first person plural: decolliamo <- decolla, saliamo <- sali, montons <- monte
    'fr': (('s', ''), ('issons', 'is'), ('ons', 'e')),  # tu montes <- monte
    'es': (('s', ''), ('amos', 'a'), ('imos', 'e')),  # subes <- sube, subimos <- sube
    'it': (('i', 'a'), ('iamo', 'a'), ('iamo', 'i')),  # torni <- torna
    'de': (('est', ''), ('st', '')),  # du landest <- land, du steigst <- steig
}
MIN_STEM_CHARS = 2
_NEVER = frozenset({'neg', 'cond'})


@cache
def _words(lang: str) -> frozenset[str]:
    """Every word of the language's vocabulary phrases."""
    return frozenset(word for key, entry in lx.PHRASES[lang].items()
                     if entry.kind not in _NEVER for word in key)


def _verb(stem: str, lang: str) -> bool:
    entry = lx.PHRASES[lang].get((stem,))
    return entry is not None and entry.kind in ('intent', 'change', 'glue')


def _without_pronoun(word: str, lang: str) -> str | None:
    for pronoun in _PRONOUNS.get(lang, ()):
        stem = word[:-len(pronoun)]
        if not word.endswith(pronoun) or len(stem) < MIN_STEM_CHARS:
            continue
        if _verb(stem, lang):
            return stem
        if lang == 'it' and len(stem) > MIN_STEM_CHARS and stem[-1] == pronoun[0] \
                and _verb(stem[:-1], lang):
            return stem[:-1]  # "fammi", "dimmi": the pronoun's consonant doubled
    return None


def _without_diminutive(word: str, lang: str) -> str | None:
    for suffix in _DIMINUTIVES.get(lang, ()):
        stem = word[:-len(suffix)]
        if not word.endswith(suffix) or len(stem) < MIN_STEM_CHARS + 1:
            continue
        for ending in _ENDINGS:
            if stem + ending in _words(lang) or (stem + ending,) in UNITS:
                return stem + ending  # "fotito", and units: "minutitos", "secondini"
    return None


def known_word(word: str, lang: str) -> bool:
    """Whether `word` (folded) is a word of `lang`'s vocabulary, its numbers or units, as
    written or in its base form."""
    return base_form(word, lang) in _words(lang) or is_number_word(word, lang) or (
        word,) in UNITS


def _from_verb_form(word: str, lang: str) -> str | None:
    for form, imperative in _VERB_FORMS.get(lang, ()):
        stem = word[:-len(form)] + imperative
        entry = lx.PHRASES[lang].get((stem,))
        if word.endswith(form) and len(stem) > MIN_STEM_CHARS + 1 and entry is not None \
                and entry.kind in ('intent', 'change', 'dir'):  # "tu avances": a dir verb
            return stem
    return None


@cache
def base_form(word: str, lang: str) -> str:
    """`word` (folded) as the vocabulary knows it in `lang`: without the pronouns written onto
    a verb, or without a diminutive suffix; `word` itself when it is known or has no such
    form."""
    if not word.isalpha() or word in _words(lang) or guarded(word):
        return word
    return (_without_pronoun(word, lang) or _without_diminutive(word, lang)
            or _from_verb_form(word, lang) or word)
