"""Reflexes: the commands obeyed at once, whatever the models are doing.

A reflex is a command the rule parser reads completely as one of `REFLEX_ACTIONS` (stop, hold,
land, return to home), in any of its five languages, with nothing else in it: no target ("land
on the red pad" needs the camera), no other action ("stop taking photos", "stop and land"), no
negation ("don't land") or condition ("land when you reach the pad"), and not a question
("land?"). Urgency words ("now", "right now", "sofort", "ya", "subito", "!") and repetition
("stop stop") keep it a reflex. Anything less certain goes through the decision chain.

The words that trigger each reflex are the parser's own verbs for the action (`trigger_words`,
listed in docs/reflexes.md): one vocabulary, so the reflex and the chain never disagree on a word.

`resume` is the one reflex no decision action names: after the autopilot or a pilot took over
(the vehicle link latches the takeover), the operator's "resume" / "reprends la main" /
"übernimm wieder" / "retoma el control" / "riprendi il controllo" gives the control back to the
node, which holds where the vehicle is (a `hold` decision) until the next command. Its words
are `RESUME_WORDS`, said alone (fillers, polite and urgency words around them allowed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ministral_node.decision import Proposal
from ministral_node.parameters import REFLEX_CHOICES
from ministral_node.sources.rules.decider import complete_reading
from ministral_node.sources.rules.lexicon import VOCAB, phrase_set
from ministral_node.sources.rules.text import fold, prepare, tokenize

REFLEX_ACTIONS = REFLEX_CHOICES
RESUME = 'resume'
RESUME_WORDS = {
    'en': 'resume|resume control|take back control|take control back|take over again'
          '|regain control|you have control',
    'fr': 'reprends|reprenez|reprends la main|reprenez la main|reprends le contrôle'
          '|reprenez le contrôle|à toi la main',
    'de': 'übernimm|übernimm wieder|übernehmen|wieder übernehmen|übernimm die kontrolle'
          '|kontrolle übernehmen|du hast die kontrolle',
    'es': 'reanuda|reanude|retoma|retome|retoma el control|retome el control'
          '|recupera el control|toma el control|tienes el control',
    'it': 'riprendi|riprenda|riprendi il controllo|riprenda il controllo|prendi il controllo'
          '|hai il controllo',
}
# The lexicon's concept for each reflex action.
_INTENTS = {'stop': 'intent.stop', 'hold': 'intent.hold', 'land': 'intent.land',
            'return_to_home': 'intent.rth'}


@dataclass(frozen=True)
class Reflex:
    """A command read as a reflex: the proposal to publish at once and its language."""

    proposal: Proposal
    language: str
    resume: bool = False  # the operator takes the control back after a takeover (a hold)

    @property
    def action(self) -> str:
        return RESUME if self.resume else self.proposal.action


class ReflexReader:
    """Says whether a command is a reflex, for the enabled reflex actions."""

    def __init__(self, actions: Iterable[str] = REFLEX_ACTIONS) -> None:
        self.actions = frozenset(actions)
        unknown = self.actions - set(REFLEX_ACTIONS)
        if unknown:
            raise ValueError(f'not reflex actions: {sorted(unknown)} '
                             f'(choose from {", ".join(REFLEX_ACTIONS)})')

    def read(self, text: str) -> Reflex | None:
        """The reflex `text` asks for, or None when it must go through the decision chain."""
        if not self.actions:
            return None
        if RESUME in self.actions:
            language = _resume_language(text)
            if language is not None:
                return Reflex(Proposal('hold', {'duration_s': None}, None, 1.0,
                                       'resume: the control back from the autopilot, holding '
                                       'here until the next command'), language, resume=True)
        result = complete_reading(text)
        if result is None or result.proposal.action not in self.actions:
            return None
        return Reflex(result.proposal, result.language)


# What may stand around (and inside) a resume word: fillers, polite and urgency words, "!".
_AROUND = frozenset(key for kind in ('filler', 'glue') for spec in VOCAB[kind].values()
                    for key in phrase_set(spec)) | {('!',), ('.',), (',',)}
_LONGEST_AROUND = max(len(key) for key in _AROUND)


def _meaningful(words: list[str]) -> tuple[str, ...]:
    """`words` without the phrases of `_AROUND` (the longest first)."""
    kept, i = [], 0
    while i < len(words):
        size = next((n for n in range(min(_LONGEST_AROUND, len(words) - i), 0, -1)
                     if tuple(words[i:i + n]) in _AROUND), 0)
        if size == 0:
            kept.append(words[i])
        i += max(size, 1)
    return tuple(kept)


_RESUME_PHRASES = {lang: frozenset(_meaningful(list(key)) for key in phrase_set(spec))
                   for lang, spec in RESUME_WORDS.items()}


def _resume_language(text: str) -> str | None:
    """The language of `text` when it is a resume word said alone, else None."""
    key = _meaningful([fold(t.norm) for t in tokenize(prepare(text))])
    if not key:
        return None
    return next((lang for lang, phrases in _RESUME_PHRASES.items() if key in phrases), None)


def trigger_words(action: str) -> dict[str, list[str]]:
    """The words and phrases that make `action` a reflex, per language ('all': every one)."""
    phrases = RESUME_WORDS if action == RESUME else VOCAB[_INTENTS[action]]
    return {lang: [p.lstrip('~').rstrip('*') for p in words.split('|')]
            for lang, words in phrases.items()}
