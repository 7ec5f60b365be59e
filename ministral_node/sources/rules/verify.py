"""The verify stage: a model's proposal checked against the command before the safety envelope.

The fallback chain calls a `Verifier` on every proposal (`FallbackChain(verify=...)`); the
checks run on proposals of the model sources (onboard, remote), in this order:

1. confidence: a proposal below `min_confidence` hands over to the next source;
   free text: a `reason`, `question` or `text` that is not well-formed text (stray JSON
   punctuation, digits glued to a word, a fragment: see `malformed_text`) never goes out: the
   proposal hands over, so the rule parser's message in the operator's language replaces it,
   and the attempt says why;
2. number provenance: every number in the params is compared as a quantity: it must be
   a magnitude the command says (digits or number words in the five languages) converted
   from the unit said after it (any spelling the rule parser knows) to the param's unit
   (the field name's suffix: `_m`, `_mps`, `_deg`, `_s`), a number said without a unit, a
   compass heading it names (angles), or a documented default (`DEFAULTS`); otherwise the
   proposal hands over to the next source, and a value that copies the digits of another
   unit ("18 km/h" as `speed_mps` 18) names that unit;
3. a degenerate reading (a zero-length move, a search without a target, a change by
   nothing: `degenerate`) never wins: the proposal hands over;
4. agreement with the rule parser (the table, with reasons, is `docs/arbitration.md`): when
   the parser understands the command fully (no assumption, see `FULL_READINGS`) and reads
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
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from itertools import combinations
from typing import Any

from ministral_node.decision import MISSION, Proposal, Target, shorten, targets_of
from ministral_node.sources.base import DecisionRequest
from ministral_node.sources.rules import analyse
from ministral_node.sources.rules import lexicon as lx
from ministral_node.sources.rules.numbers import (
    LANGUAGES,
    match_fraction,
    match_words,
    parse_digits,
)
from ministral_node.sources.rules.parser import (
    RuleResult,
    _combine,
    language_scores,
)
from ministral_node.sources.rules.text import Token, prepare, tokenize
from ministral_node.sources.rules.units import (
    ANGLE,
    COUNT,
    DEFAULT_UNITS,
    LENGTH,
    SPEED,
    TIME,
    match_unit,
)

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
UTURN_DEG = 180.0  # "turn around", "fais demi-tour": a half turn
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


# ---- number provenance --------------------------------------------------------------------------

def command_numbers(text: str) -> frozenset[float]:
    """Every magnitude `text` says or implies: numbers in digits or words (any of the five
    languages), as said and converted from the unit after them; compass headings; 180 for a
    U-turn."""
    tokens = tokenize(prepare(text))
    norms = [t.norm for t in tokens]
    values: set[float] = set()
    headings: list[float] = []
    for i, token in enumerate(tokens):
        for lang in LANGUAGES:
            if token.kind == 'num':
                number = parse_digits(token.norm, lang)
                if number is not None:
                    values |= _with_units(number, norms, i + 1, lang)
            elif token.kind == 'word':
                words = match_words(norms, i, lang)
                if words is not None:
                    said = _with_units(words[0], norms, i + words[1], lang)
                    values |= said if not words[2] else said - {abs(words[0])}
                entry = lx.PHRASES[lang].get((token.norm,))
                headings += _headings(token.raw, entry, lang, i > 0)
    distinct = list(dict.fromkeys(headings))  # in the order said
    values |= {_combine(list(pair)) for size in (2, 3) for pair in combinations(distinct, size)}
    values |= set(headings)
    if _says_uturn(norms):
        values.add(UTURN_DEG)
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
        heading = _combine([letters[c] for c in raw])
        return [] if heading is None else [heading]
    return []


_UTURNS = frozenset(key for lang in LANGUAGES for key, entry in lx.PHRASES[lang].items()
                    if entry.kind == 'intent' and entry.value == 'uturn')
_UTURN_WORDS = max(map(len, _UTURNS))


def _says_uturn(norms: list[str]) -> bool:
    return any(tuple(norms[i:i + size]) in _UTURNS for i in range(len(norms))
               for size in range(1, _UTURN_WORDS + 1))


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


# ---- quantities: numbers with their units -------------------------------------------------------

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
    compass headings and a U-turn's 180 (angles)."""
    prepared = prepare(text)
    tokens = tokenize(prepared)
    norms = [t.norm for t in tokens]
    said: dict[tuple[float, str | None], Said] = {}
    headings: list[float] = []
    for i, token in enumerate(tokens):
        for lang in LANGUAGES:
            found: tuple[float, int, bool] | None = None
            if token.kind == 'num':
                number = parse_digits(token.norm, lang)
                found = None if number is None else (number, 1, False)
            elif token.kind == 'word':
                found = match_words(norms, i, lang)
                headings += _headings(token.raw, lx.PHRASES[lang].get((token.norm,)), lang,
                                      i > 0)
            if found is not None:
                for quantity in _quantities(found, prepared, tokens, i, lang):
                    said.setdefault((round(quantity.value, 6), quantity.dim), quantity)
    distinct = list(dict.fromkeys(headings))
    angles = set(headings) | {_combine(list(group)) for size in (2, 3)
                              for group in combinations(distinct, size)}
    if _says_uturn(norms):
        angles.add(UTURN_DEG)
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
    values = {number} | ({number + half[0]} if half else set())
    return [Said(abs(round(value * unit[0].factor, 6)), unit[0].dim, written, abs(value))
            for value in values]


def _unit_name(dim: str | None) -> str:
    return DEFAULT_UNITS.get(dim, '') if dim else ''


def _measure(dim: str | None) -> str:
    """`dim` in words with its contract unit: "a length in m"."""
    if dim is None:
        return 'a number'
    article = 'an' if dim[0] in 'aeiou' else 'a'
    return f'{article} {dim} in {_unit_name(dim)}' if _unit_name(dim) else f'{article} {dim}'


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
                           f"{copied.value:g} {_unit_name(dim)})")
        else:
            missing.append(f"{name}={value:g} (the digits of '{copied.written}', "
                           f"{_measure(copied.dim)}, not {_measure(dim)})")
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
    """Whether the rule parser read the command with no assumption (see `FULL_READINGS`)."""
    return result.reason in FULL_READINGS and result.proposal.confidence >= 1.0


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
    """What the rule reading takes from the command (its directions, its target) that the
    model's reading lacks."""
    missing = sorted(directions(rules) - directions(model))
    if targets_of(rules) and not targets_of(model):
        missing.append(f"target '{targets_of(rules)[0].label}'")
    return missing


# ---- the stage ----------------------------------------------------------------------------------

class Verifier:
    """Checks proposals against their command; the fallback chain calls it on each one."""

    def __init__(self, settings: VerifySettings | None = None) -> None:
        self.settings = settings or VerifySettings()

    def __call__(self, source: str, request: DecisionRequest, proposal: Proposal) -> Verdict:
        """The verdict on `proposal` from `source` for `request`."""
        if source not in CHECKED_SOURCES:
            return Verdict(proposal, '')
        settings = self.settings
        text = request.command.text
        if proposal.confidence < settings.min_confidence:
            return Verdict(None, f'verify: confidence {proposal.confidence:.3g} below '
                                 f'min_confidence {settings.min_confidence:g}',
                           outcome='low_confidence')
        field = TEXT_PARAMS.get(proposal.action)
        said_in = {lang for lang, score in language_scores(text).items() if score}
        flaw = None if field is None else malformed_text(proposal.params.get(field), said_in)
        if flaw is not None:
            said = shorten(repr(proposal.params.get(field)), 80)
            return Verdict(None, f'verify: the {field} {said} is not well-formed text '
                                 f'({flaw}); the rule parser answers instead',
                           outcome='malformed_text')
        unsupported = unsupported_quantities(proposal.params, command_quantities(text))
        if unsupported:
            return Verdict(None, f'verify: {", ".join(unsupported)} not in the command '
                                 f'(number provenance)', outcome='provenance')
        rules = analyse(text)
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
        if fully_understood(rules) and (not agrees(proposal, rules.proposal)
                                        or named_missing(proposal, rules.proposal)):
            verdict = self._arbitrate(proposal, rules, text)
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

    def _arbitrate(self, proposal: Proposal, rules: RuleResult, text: str) -> Verdict:
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


