"""Sequences: one command that asks for several actions becomes one `mission` proposal.

The whole command is parsed first; only when it asks for several actions (`multi`), or for
opposite ones joined by a sequence word ("take off, then land"), is it cut into steps at the
connectors (and/then/after that, et/puis/ensuite, und/dann/danach, y/luego/después,
e/poi/quindi), commas, semicolons and full stops. Each step is parsed as a command of its own
in the command's language; a step the parser asks back about makes the whole mission that
question. Compound phrasings that mean one action are merged ("take off and climb to 25 m" is
one takeoff to 25 m; "return home and land" is one return_to_home; "hover and wait 10 s" one
hold). Opposites joined only by "and" ("climb and descend") stay a contradiction, and words
that reverse the order ("land before ...", "... after taking off") are asked back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ministral_node.decision import Proposal, mission, mission_steps_limit, reject, shorten
from ministral_node.sources.rules.messages import message
from ministral_node.sources.rules.text import fold

# Reasons of a whole-command parse that a mission may answer better.
MISSION_REASONS = frozenset({'multi', 'contradiction'})
_STEP_PUNCTUATION = frozenset(',;.')
# Sequence words that may put the steps in the opposite order of the words.
_REVERSING = frozenset({'before', 'bevor', 'vorher', 'antes', 'avant'})
_REVERSING_INSIDE = frozenset({'after', 'prima'})  # fine as the command's first word
# "first" in any of its phrases: fine opening the command; inside it a later step goes first
# ("land, but first take a photo", "mais d'abord", "but first of all")
_FIRST = frozenset({'first', 'firstly', 'zuerst', 'zunaechst', 'erst', 'primero', 'abord'})
_REVERSING_WITH_OF = frozenset({'despues', 'dopo', 'apres'})  # "después de despegar ..."
_OF = frozenset({'de', 'di', 'del', 'della', 'dello', 'il', 'la', 'le', "l'", 'd'})
_MOTION_KINDS = frozenset({'intent', 'change', 'dir', 'compass', 'home', 'kw'})
_VERB_KINDS = frozenset({'intent', 'change'})
_QUIET = frozenset({'glue', 'filler', 'punct', 'to', 'and', 'q', 'seq'})


def boundaries(kinds: list[str], values: list[object]) -> list[int]:
    """Indexes of the items that separate steps (sequence words, 'and', , ; .)."""
    return [k for k, (kind, value) in enumerate(zip(kinds, values))
            if kind in ('seq', 'and') or (kind == 'punct' and value in _STEP_PUNCTUATION)]


def reverses_order(words: list[list[str]], first: list[bool],
                   first_clause: list[bool] | None = None) -> bool:
    """Whether a sequence word (its folded words, whether it starts the command, whether it
    stands in the command's first clause) may reverse the order of the steps."""
    for phrase, at_start, opening in zip(words, first, first_clause or first):
        head = phrase[0]
        if not opening and any(word in _FIRST for word in phrase):
            return True  # "land, but first ...", not "flieg zuerst 20 m nach Norden, dann ..."
        if len(phrase) > 1 and head not in _REVERSING_WITH_OF:
            continue  # "after that", "et puis", "und dann"
        if head in _REVERSING or (head in _REVERSING_INSIDE and not at_start):
            return True
        if head in _REVERSING_WITH_OF and not at_start and phrase[1:2] and phrase[1] in _OF:
            return True
    return False


def merge_compounds(steps: list[Proposal], takeoff_missing: list[bool]) -> list[Proposal]:
    """Adjacent steps that mean one action, merged (see the module docstring).

    `takeoff_missing[i]`: step i is a takeoff without an altitude, waiting for the altitude
    change after it."""
    merged: list[Proposal] = []
    open_takeoff: list[bool] = []
    for step, missing in zip(steps, takeoff_missing):
        last = merged[-1] if merged else None
        if last is not None and open_takeoff[-1] and step.action == 'change_altitude':
            altitude = step.params.get('altitude_m', step.params.get('delta_m'))
            merged[-1] = replace(last, params={'altitude_m': altitude},
                                 confidence=min(last.confidence, step.confidence),
                                 rationale=shorten(f'takeoff to the altitude of the climb '
                                                   f'that follows: {step.rationale}', 200))
            open_takeoff[-1] = False
            continue
        if last is not None and last.action == 'return_to_home' and step.action == 'land' \
                and step.target is None:
            continue  # return to home lands there (PX4 RTL)
        if last is not None and last.action == 'hold' and step.action == 'hold' \
                and last.params['duration_s'] is None:
            merged[-1] = step
            continue
        merged.append(step)
        open_takeoff.append(missing)
    return merged


def build_mission(results: list, lang: str, takeoff_altitude_m: float | None,
                  reparse: Callable[[int, float], object]) -> tuple[Proposal | None, str]:
    """The mission (or the question that stops it) from the parses of its steps.

    `results[i]` is the `RuleResult` of step i parsed with no default takeoff altitude;
    `reparse(i, altitude)` parses step i again with one. Returns `(proposal, reason)`; a None
    proposal means the command is no mission the parser can build (ask for one at a time).
    """
    steps: list[Proposal] = []
    open_takeoff: list[bool] = []
    for index, result in enumerate(results):
        proposal, waiting = result.proposal, False
        if result.key == 'missing_takeoff':
            following = results[index + 1].proposal if index + 1 < len(results) else None
            if following is not None and following.action == 'change_altitude':
                proposal, waiting = Proposal('takeoff', {'altitude_m': 0.0}), True
            elif takeoff_altitude_m is not None:
                result = reparse(index, takeoff_altitude_m)
                proposal = result.proposal
        if proposal.action == 'clarify' and not waiting:
            return proposal, result.reason
        if proposal.action in ('answer', 'reject', 'mission'):
            return None, 'multi'
        steps.append(proposal)
        open_takeoff.append(waiting)
    steps = merge_compounds(steps, open_takeoff)
    if len(steps) < 2:
        return (steps[0], 'parsed') if steps else (None, 'multi')
    if len(steps) > mission_steps_limit():
        return reject(message('too_many_steps', lang, count=str(len(steps)),
                              limit=str(mission_steps_limit())),
                      f'mission of {len(steps)} steps [{lang}]'), 'too_many_steps'
    confidence = min(step.confidence for step in steps)
    plan = ' -> '.join(_brief(step) for step in steps)
    return mission(steps, shorten(f'mission: {plan} [{lang}]', 200), confidence), 'parsed'


def group(runs: list[list[str]]) -> list[list[int]]:
    """Which runs between separators (given by their item kinds) make each step.

    A run that names no action or motion ("50 m") belongs to the step before it; a run that
    is only a verb takes the verbless run after it ("und flieg | dann 50 m nach Norden").
    """
    steps: list[list[int]] = []
    for index, kinds in enumerate(runs):
        moving = any(kind in _MOTION_KINDS for kind in kinds)
        verbless = not any(kind in _VERB_KINDS for kind in kinds)
        previous = runs[steps[-1][-1]] if steps else None
        bare_verb = previous is not None and all(
            kind in _VERB_KINDS or kind in _QUIET for kind in previous)
        if steps and (not moving or (verbless and bare_verb and len(steps[-1]) == 1)):
            steps[-1].append(index)
        else:
            steps.append([index])
    return steps


def _brief(step: Proposal) -> str:
    shown = ','.join(f'{v:g}' if isinstance(v, float) else str(v)
                     for v in step.params.values() if v is not None)
    return f'{step.action}({shown})'


def folded(words: list[str]) -> list[str]:
    """Folded (accent-free, lower-case) words."""
    return [fold(word) for word in words]

