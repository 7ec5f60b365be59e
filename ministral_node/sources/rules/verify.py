"""The verify stage: a model's proposal checked against the command before the safety envelope.

The fallback chain calls a `Verifier` on every proposal (`FallbackChain(verify=...)`); the
checks run on proposals of the model sources (onboard, remote), in this order:

1. confidence: a proposal below `min_confidence` hands over to the next source;
   free text: a `reason`, `question` or `text` that is not well-formed text (stray JSON
   punctuation, digits glued to a word, a fragment: see `malformed_text`) never goes out: the
   proposal hands over, so the rule parser's message in the operator's language replaces it,
   and the attempt says why;
2. number provenance (`provenance`): every number in the params is compared as a quantity: it
   must be a magnitude the command says (digits or number words in the five languages)
   converted from the unit said after it (any spelling the rule parser knows) to the param's unit
   (the field name's suffix: `_m`, `_mps`, `_deg`, `_s`), a number said without a unit, a
   compass heading it names (angles), or a documented default (`DEFAULTS`); otherwise the
   proposal hands over to the next source, and a value that copies the digits of another
   unit ("18 km/h" as `speed_mps` 18) names that unit;
3. a degenerate reading (a zero-length move, a search without a target, a change by
   nothing: `degenerate`) never wins: the proposal hands over;
4. agreement with the rule parser (the table, with reasons, is `docs/arbitration.md`): when
   the parser understands the command fully (no assumption but the default unit of a number
   said without one, see `FULL_READINGS`) and reads
   another action, direction or numbers, `arbitration` settles it: `verify` (default) takes
   the rule reading (a stop, hold or return home, `SAFER`; a question the parser asks on
   purpose, such as a negation or several actions, or its answer to a capability question;
   explicit numbers; another action or direction), except for visual/target commands of the
   same action, where the model's reading is kept, and the rule parser's action with the
   model's target where the actions differ and the model names a target; `model_first` and
   `rules_first` always take that side. When the parser's reading is partial (it ignored a
   word or read a typo), the model's reading wins if its confidence reaches
   `min_confidence_unread` and it keeps every direction and target the command names
   (`named_missing`); otherwise the partial rule reading is taken;
5. a target box whose measured confidence is below `min_box_confidence` is published as
   `box: null` with a note.

Every outcome is written into the attempt's detail and, where the operator should know, into
the decision's notes. Imports no ROS.
"""

from __future__ import annotations

import copy
import re
import threading
import weakref
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ministral_node.decision import MISSION, Proposal, Target, shorten, targets_of
from ministral_node.sources.base import DecisionRequest
from ministral_node.sources.rules.parser import CommandAnalysis, RuleResult, language_scores
from ministral_node.sources.rules.provenance import Said, measure, param_dimension, unit_name

ARBITRATIONS = ('verify', 'model_first', 'rules_first')
# What verification concluded: not checked (rules, failsafe); handed over (low confidence, a
# number not in the command); passed with the rule parser agreeing, or not reading it fully;
# a disagreement settled for the rules, for the model, or by asking back.
OUTCOMES = ('not_checked', 'low_confidence', 'malformed_text', 'provenance', 'degenerate',
            'agreed', 'unchecked_by_rules', 'rules_won', 'model_kept', 'target_kept')
# Rule-parser reasons that mean it found no action at all in the command.
UNREAD = frozenset({'unknown'})
CHECKED_SOURCES = frozenset({'onboard', 'remote'})
# Values a param may take without the command saying them: an offset along an axis the
# command does not mention, one photo.
DEFAULTS: dict[str, frozenset[float]] = {
    'forward_m': frozenset({0.0}), 'right_m': frozenset({0.0}), 'up_m': frozenset({0.0}),
    'count': frozenset({1.0}),
}
# Rule readings that win any disagreement under `verify`: a stop, hold or return home the
# parser read word for word is never turned into a question or another action.
SAFER = frozenset({'stop', 'hold', 'return_to_home'})
# Rule-parser readings that count as full understanding (when made without an assumption):
# an action, or a question back it asks on purpose (several actions, a negation, ...).
FULL_READINGS = frozenset({'parsed', 'multi', 'negation', 'conditional', 'contradiction',
                           'invalid', 'answer'})
_RELATIVE = 0.005  # unit conversions a model rounds: 100 ft = 30.48 m, written 30.5
_ABSOLUTE = 0.01


@dataclass(frozen=True)
class VerifySettings:
    """The parameters the verify stage reads."""

    arbitration: str = 'verify'
    min_confidence: float = 0.0
    min_box_confidence: float = 0.0
    min_confidence_unread: float = 0.0  # when the rule parser finds no action in the command

    @classmethod
    def from_params(cls, values: Mapping[str, Any]) -> VerifySettings:
        return cls(str(values['arbitration']), float(values['min_confidence']),
                   float(values['min_box_confidence']),
                   float(values['min_confidence_unread']))


@dataclass(frozen=True)
class Verdict:
    """What verification made of a proposal.

    `proposal` None hands over to the next source; `source` names another source whose
    reading was chosen instead (the rule parser's); `detail` goes into the attempt and
    `notes` into the decision."""

    proposal: Proposal | None
    detail: str
    source: str | None = None
    notes: tuple[str, ...] = ()
    outcome: str = 'not_checked'  # one of OUTCOMES
    box_dropped: bool = False


# ---- free text ---------------------------------------------------------------------------------

# The free-text param of each action that has one.
TEXT_PARAMS = {'answer': 'text', 'reject': 'reason', 'clarify': 'question'}
# JSON left in a text: brackets and braces, backslashes, a quote beside JSON punctuation.
_JSON_DEBRIS = re.compile(r'[\[\]{}\\]|"\s*[,:]|[,:]\s*"')
# A letter with a digit stuck to it ("manovre1"); a number with its unit ("20m", "5m/s") is
# written that way on purpose.
_GLUED = re.compile(r'[^\W\d_]\d|\d(?!(?:m|km|cm|ft|s|h|min|kn|kt|kts|mph|x)\b)[^\W\d_]')
_WORD = re.compile(r'[^\W\d_]+')
_SENTENCE_END = re.compile(r'[.!?…。][\s"\'»”)]*$')


OTHER_LANGUAGE_WORDS = 2  # known words of another language, none of the operator's


def malformed_text(text: Any, languages: Collection[str] = ()) -> str | None:
    """Why a model's free text is not fit to publish (stray JSON punctuation, digits glued to
    a word, a fragment: under two words or no sentence end; given the `languages` the
    operator may be using, text in another language: none of its words known in any of them,
    two or more in another), or None when it is."""
    if not isinstance(text, str) or not text.strip():
        return 'empty'
    if _JSON_DEBRIS.search(text):
        return 'stray JSON punctuation'
    if _GLUED.search(text):
        return 'digits glued to a word'
    if len(_WORD.findall(text)) < 2 or not _SENTENCE_END.search(text.strip()):
        return 'a fragment'
    if languages:
        scores = language_scores(text)
        other = max(scores, key=lambda lang: scores[lang])
        if not any(scores[lang] for lang in languages) and scores[other] >= OTHER_LANGUAGE_WORDS:
            return f"not in the operator's language ({other}, not {'/'.join(sorted(languages))})"
    return None


# ---- number provenance (what the command says: `provenance`) ----------------------------------

def _close(a: float, b: float) -> bool:
    return abs(a - b) <= max(_ABSOLUTE, _RELATIVE * abs(b))


def unsupported_numbers(params: Mapping[str, Any], said: frozenset[float]) -> list[str]:
    """`name=value` for every number in `params` (a mission's steps included) that is neither
    in `said` nor a default."""
    missing = []
    for name, value in _numbers(params).items():
        allowed = said | DEFAULTS.get(name.rsplit('.', 1)[-1], frozenset())
        if not any(_close(abs(float(value)), candidate) for candidate in allowed):
            missing.append(f'{name}={value:g}')
    return missing


def unsupported_quantities(params: Mapping[str, Any], said: tuple[Said, ...]) -> list[str]:
    """`name=value` for every number in `params` (a mission's steps included) that is not a
    quantity of the command in the param's unit, nor a default; a value that copies the
    digits of a quantity said in another unit says so ("speed_mps=18 (the digits of
    '18 km/h' = 5 m/s)")."""
    missing = []
    for name, value in _numbers(params).items():
        dim = param_dimension(name)
        fits = [q.value for q in said if q.dim is None or dim is None or q.dim == dim]
        allowed = set(fits) | DEFAULTS.get(name.rsplit('.', 1)[-1], frozenset())
        magnitude = abs(float(value))
        if any(_close(magnitude, candidate) for candidate in allowed):
            continue
        copied = next((q for q in said if q.dim is not None
                       and _close(magnitude, q.number)), None)
        if copied is None:
            missing.append(f'{name}={value:g}')
        elif copied.dim == dim:
            missing.append(f"{name}={value:g} (the digits of '{copied.written}' = "
                           f"{copied.value:g} {unit_name(dim)})")
        else:
            missing.append(f"{name}={value:g} (the digits of '{copied.written}', "
                           f"{measure(copied.dim)}, not {measure(dim)})")
    return missing


# ---- agreement with the rule parser -------------------------------------------------------------

def _numbers(params: Mapping[str, Any], prefix: str = '') -> dict[str, float]:
    """Every number of `params` by name; a mission's step numbers as `steps[k].name`."""
    found = {}
    for key, value in params.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            found[prefix + key] = float(value)
        elif key == 'steps' and isinstance(value, list):
            for index, step in enumerate(value):
                if isinstance(step, Mapping) and isinstance(step.get('params'), Mapping):
                    found.update(_numbers(step['params'], f'{prefix}steps[{index}].'))
    return found


def _step_actions(proposal: Proposal) -> list[str]:
    return [step.get('action') for step in proposal.params.get('steps', [])
            if isinstance(step, Mapping)]


def agrees(model: Proposal, rules: Proposal) -> bool:
    """Same action (and step actions), same parameter names and the same numbers (to
    conversion rounding)."""
    if model.action != rules.action or set(model.params) != set(rules.params) \
            or _step_actions(model) != _step_actions(rules):
        return False
    ours, theirs = _numbers(model.params), _numbers(rules.params)
    return set(ours) == set(theirs) and all(_close(ours[k], theirs[k]) for k in ours)


def reading(proposal: Proposal) -> str:
    """A short rendering of a proposal's meaning: `takeoff(altitude_m=10)`."""
    shown = ', '.join(f'{k}={v:g}' if isinstance(v, float) else f'{k}={v}'
                      for k, v in proposal.params.items()
                      if not isinstance(v, str) or k == 'direction')
    return f'{proposal.action}({shown})'


def fully_understood(result: RuleResult) -> bool:
    """Whether the rule parser read the command with no assumption (see `FULL_READINGS`) but
    the default unit of a number said without one: its action and directions are the
    command's own words, and a model's numbers passed provenance already."""
    return result.reason in FULL_READINGS and (result.proposal.confidence >= 1.0
                                               or result.units_assumed_only)


# ---- degenerate readings, and what the command names -------------------------------------------

def degenerate(proposal: Proposal) -> str | None:
    """Why a reading cannot be what an operator asked (a zero-length move, a search without a
    target, a change by nothing), in it or any mission step; None when it is not degenerate."""
    steps = [(step.get('action'), step.get('params') or {}, step.get('target'))
             for step in proposal.params.get('steps', []) if isinstance(step, Mapping)] \
        if proposal.action == MISSION else [(proposal.action, proposal.params, proposal.target)]
    for action, params, target in steps:
        offsets = [params.get(k) for k in ('forward_m', 'right_m', 'up_m') if k in params]
        if action == 'goto' and target is None and (
                params.get('distance_m') == 0 or (offsets and not any(offsets))
                or not (offsets or 'distance_m' in params)):
            return 'a move of zero length'
        if action == 'search' and target is None:
            return 'a search without a target'
        if (action == 'change_altitude' and params.get('delta_m') == 0) or (
                action == 'rotate' and params.get('yaw_deg') == 0):
            return f'a {action} by nothing'
    return None


def directions(proposal: Proposal) -> frozenset[str]:
    """The directions a reading goes in (compass headings, body directions, turn senses), over
    all mission steps."""
    found: set[str] = set()
    steps = [step.get('params') or {} for step in proposal.params.get('steps', [])
             if isinstance(step, Mapping)] if proposal.action == MISSION else [proposal.params]
    for params in steps:
        if isinstance(params.get('heading_deg'), (int, float)):
            found.add(f'heading {float(params["heading_deg"]) % 360:g}')
        for key, (plus, minus) in _SENSES.items():
            value = params.get(key)
            if isinstance(value, (int, float)) and value:
                found.add(plus if value > 0 else minus)
        if params.get('direction') in ('clockwise', 'counterclockwise'):
            found.add(params['direction'])
    return frozenset(found)


_SENSES = {'forward_m': ('forward', 'back'), 'right_m': ('right', 'left'),
           'up_m': ('up', 'down'), 'delta_m': ('up', 'down'),
           'yaw_deg': ('clockwise', 'counterclockwise')}


def named_missing(model: Proposal, rules: Proposal) -> list[str]:
    """What the rule reading takes from the command (its directions, its target, a quantity
    of the same action: "wait a quarter of an hour" is no hold without a duration) that the
    model's reading lacks."""
    missing = sorted(directions(rules) - directions(model))
    if targets_of(rules) and not targets_of(model):
        missing.append(f"target '{targets_of(rules)[0].label}'")
    if model.action == rules.action and model.action != MISSION:
        missing += [f'{key} {value:g}' for key, value in _numbers(rules.params).items()
                    if model.params.get(key) is None]
    return missing


# ---- the stage ----------------------------------------------------------------------------------

class Verifier:
    """Checks proposals against their command; the fallback chain calls it on each one. The
    rule parser analyses a command once, for all the proposals made for it."""

    def __init__(self, settings: VerifySettings | None = None) -> None:
        self.settings = settings or VerifySettings()
        # The last request and the analysis of its command (a weak reference: a request
        # holds its camera frame).
        self._last: tuple[weakref.ref[DecisionRequest], CommandAnalysis] | None = None
        self._lock = threading.Lock()

    def _analysis(self, request: DecisionRequest) -> CommandAnalysis:
        """The analysis of the request's command, made once per request."""
        with self._lock:
            if self._last is None or self._last[0]() is not request:
                self._last = (weakref.ref(request), CommandAnalysis(request.command.text))
            return self._last[1]

    def __call__(self, source: str, request: DecisionRequest, proposal: Proposal) -> Verdict:
        """The verdict on `proposal` from `source` for `request`."""
        if source not in CHECKED_SOURCES:
            return Verdict(proposal, '')
        settings = self.settings
        analysis = self._analysis(request)
        if proposal.confidence < settings.min_confidence:
            return Verdict(None, f'verify: confidence {proposal.confidence:.3g} below '
                                 f'min_confidence {settings.min_confidence:g}',
                           outcome='low_confidence')
        field = TEXT_PARAMS.get(proposal.action)
        flaw = None if field is None else malformed_text(proposal.params.get(field),
                                                         analysis.languages)
        if flaw is not None:
            said = shorten(repr(proposal.params.get(field)), 80)
            return Verdict(None, f'verify: the {field} {said} is not well-formed text '
                                 f'({flaw}); the rule parser answers instead',
                           outcome='malformed_text')
        unsupported = unsupported_quantities(proposal.params, analysis.quantities)
        if unsupported:
            return Verdict(None, f'verify: {", ".join(unsupported)} not in the command '
                                 f'(number provenance)', outcome='provenance')
        rules = analysis.result
        if rules.reason in UNREAD and proposal.confidence < settings.min_confidence_unread:
            return Verdict(None, f'verify: the rule parser finds no action in the command and '
                                 f'the confidence {proposal.confidence:.3g} is below '
                                 f'min_confidence_unread {settings.min_confidence_unread:g}',
                           outcome='low_confidence')
        flaw = degenerate(proposal)
        if flaw is not None:
            return Verdict(None, f'verify: the model proposes {flaw} (a degenerate reading)',
                           outcome='degenerate')
        checks = [f'confidence {proposal.confidence:.3g}']
        if _numbers(proposal.params):
            checks.append('numbers from the command')
        notes: list[str] = []
        # another action than the one the command says in words is arbitrated, even where
        # the reading took a default sense ("circle the tower at 20 m" read as a move)
        another_action = rules.action_read and proposal.action != rules.proposal.action
        if (fully_understood(rules) or another_action) and (
                not agrees(proposal, rules.proposal) or named_missing(proposal, rules.proposal)):
            verdict = self._arbitrate(proposal, rules)
            if verdict.proposal is not proposal and verdict.outcome != 'target_kept':
                return verdict
            proposal = verdict.proposal
            notes.extend(verdict.notes)
            checks.append(verdict.detail)
            outcome = verdict.outcome
        elif fully_understood(rules) or (rules.partial and agrees(proposal, rules.proposal)):
            checks.append('the rule parser agrees')
            outcome = 'agreed'
        elif rules.partial:
            verdict = self._partial(proposal, rules)
            if verdict.proposal is not proposal:
                return verdict
            notes.extend(verdict.notes)
            checks.append(verdict.detail)
            outcome = verdict.outcome
        else:
            checks.append(f'the rule parser did not read it fully ({rules.reason})')
            outcome = 'unchecked_by_rules'
        proposal, box_note = self._box(proposal)
        if box_note:
            notes.append(box_note)
            checks.append('box dropped')
        return Verdict(proposal, 'verified: ' + '; '.join(checks), None, tuple(notes), outcome,
                       bool(box_note))

    def _partial(self, proposal: Proposal, rules: RuleResult) -> Verdict:
        """A partial rule reading against the model's: a confident model that keeps what the
        command names wins, else the partial rule reading."""
        ruled, limit = rules.proposal, self.settings.min_confidence_unread
        differ = f'the rule parser read {reading(ruled)} (partial: ignored ' \
                 f'{", ".join(rules.ignored)}), the model {reading(proposal)}'
        missing = named_missing(proposal, ruled) if ruled.action not in ('clarify',) else []
        if proposal.confidence >= limit and not missing:
            note = f'{differ}; kept the confident model ({proposal.confidence:.3g} >= ' \
                   f'min_confidence_unread {limit:g})'
            return Verdict(proposal, note, None, (note,), 'model_kept')
        why = f'it drops {", ".join(missing)}' if missing else \
            f'its confidence {proposal.confidence:.3g} is below min_confidence_unread {limit:g}'
        detail = f'verify: {differ}; the model\'s reading loses: {why}'
        return Verdict(ruled, detail, 'rules', (f'{differ}; took the rule reading: {why}',),
                       'rules_won')

    def _arbitrate(self, proposal: Proposal, rules: RuleResult) -> Verdict:
        policy = self.settings.arbitration
        ruled = rules.proposal
        differ = (f'the rule parser read {reading(ruled)}, the model {reading(proposal)}')
        if policy == 'verify':
            if degenerate(ruled) is not None:
                policy, why = 'model_first', f'the rule reading is {degenerate(ruled)}'
            elif ruled.action in SAFER:
                policy, why = 'rules_first', f'a {ruled.action} read word for word'
            elif ruled.action in ('clarify', 'answer'):
                policy, why = 'rules_first', f'the rule parser answers with {ruled.action}'
            elif _numbers(ruled.params):
                policy, why = 'rules_first', 'explicit numbers'
            elif targets_of(proposal) or targets_of(ruled):
                different = proposal.action != ruled.action and \
                    MISSION not in (proposal.action, ruled.action)
                if proposal.target is not None and different:
                    note = 'arbitration verify (a visual command)'
                    chosen = replace(proposal, action=ruled.action,
                                     params=copy.deepcopy(ruled.params))
                    return Verdict(chosen, f'{differ}; {note}: the rule parser\'s action with '
                                           f'the model\'s target', None,
                                   (f'{differ}; took the rule parser\'s {ruled.action} with '
                                    f'the model\'s target',), 'target_kept')
                missing = named_missing(proposal, ruled)
                if different or missing:
                    policy, why = 'rules_first', 'another action' if different else \
                        f'the model drops {", ".join(missing)}'
                else:
                    policy, why = 'model_first', 'a visual command'
            else:
                policy, why = 'rules_first', 'a full reading: another action or direction'
            policy_note = f'arbitration verify ({why})'
        else:
            policy_note = f'arbitration {policy}'
        if policy == 'model_first':
            return Verdict(proposal, f'{differ}; {policy_note}: the model\'s reading kept',
                           None, (f'{differ}; kept the model\'s reading ({policy_note})',),
                           'model_kept')
        detail = f'verify: {differ}; {policy_note}: the rule reading wins'
        return Verdict(ruled, detail, 'rules', (f'{differ}; took the rule reading',),
                       'rules_won')

    def _box(self, proposal: Proposal) -> tuple[Proposal, str]:
        """The proposal without the boxes (its own, or a mission step's) whose measured
        confidence is below `min_box_confidence`, and a note saying so."""
        detail = proposal.confidence_detail
        if detail is None:
            return proposal, ''
        limit = self.settings.min_box_confidence
        target = proposal.target
        if target is not None and target.box is not None:
            score = detail.fields.get('target.box')
            if score is None or score >= limit:
                return proposal, ''
            return replace(proposal, target=Target(target.label, None)), \
                f'target box dropped: its confidence {score:.3g} is below min_box_confidence ' \
                f'{limit:g}'
        steps = proposal.params.get('steps') if proposal.action == MISSION else None
        dropped = []
        for k, step in enumerate(steps or ()):
            step_target = step.get('target') if isinstance(step, Mapping) else None
            score = detail.fields.get(f'params.steps.{k}.target.box')
            if step_target and step_target.get('box') is not None and score is not None \
                    and score < limit:
                dropped.append((k, score))
        if not dropped:
            return proposal, ''
        params = copy.deepcopy(proposal.params)
        for k, _ in dropped:
            params['steps'][k]['target']['box'] = None
        scores = ', '.join(f'step {k + 1}: {score:.3g}' for k, score in dropped)
        return replace(proposal, params=params), \
            f'target box dropped ({scores}): below min_box_confidence {limit:g}'


