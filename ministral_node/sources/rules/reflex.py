"""Reflexes: the commands obeyed at once, whatever the models are doing.

A reflex is a command the rule parser reads completely as one of `REFLEX_ACTIONS` (stop, hold,
land, return to home), in any of its five languages, with nothing else in it: no target ("land
on the red pad" needs the camera), no other action ("stop taking photos", "stop and land"), no
negation ("don't land") or condition ("land when you reach the pad"), and not a question
("land?"). Urgency words ("now", "right now", "sofort", "ya", "subito", "!") and repetition
("stop stop") keep it a reflex. Anything less certain goes through the decision chain.

The words that trigger each reflex are the parser's own verbs for the action (`trigger_words`,
listed in docs/reflexes.md): one vocabulary, so the reflex and the chain never disagree on a word.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ministral_node.decision import Proposal
from ministral_node.parameters import REFLEX_CHOICES
from ministral_node.sources.rules.decider import complete_reading
from ministral_node.sources.rules.lexicon import VOCAB

REFLEX_ACTIONS = REFLEX_CHOICES
# The lexicon's concept for each reflex action.
_INTENTS = {'stop': 'intent.stop', 'hold': 'intent.hold', 'land': 'intent.land',
            'return_to_home': 'intent.rth'}


@dataclass(frozen=True)
class Reflex:
    """A command read as a reflex: the proposal to publish at once and its language."""

    proposal: Proposal
    language: str

    @property
    def action(self) -> str:
        return self.proposal.action


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
        result = complete_reading(text)
        if result is None or result.proposal.action not in self.actions:
            return None
        return Reflex(result.proposal, result.language)


def trigger_words(action: str) -> dict[str, list[str]]:
    """The words and phrases that make `action` a reflex, per language ('all': every one)."""
    phrases = VOCAB[_INTENTS[action]]
    return {lang: [p.lstrip('~').rstrip('*') for p in words.split('|')]
            for lang, words in phrases.items()}
