"""The hand-written evaluation sets: operators' own phrasing, scored source by source.

    ministral-eval --set handwritten|casual|quantities [MODEL_DIR] [--missions-as clarify|mission]

`test/data/handwritten.yaml` holds commands in five languages written the way operators talk
(abbreviations, number words, typos, missing accents, politeness, urgency, compound commands,
targets, nonsense) with the decision each should get. `test/data/casual_speech.yaml` (issue 25)
holds radio and chat phrasing written independently of the rule parser and the training
generators (fillers, particles, colloquial verbs, infinitives, run-on commands);
`test/data/quantities.yaml` every unit form in five languages (a table expanded here) and
hand-written quantity commands. All three use one entry schema and one scorer.

Every command is decided by the model alone (the onboard decider, greedy, with the demo camera
frame), the rule parser alone, the default chain without verification and the default chain
with it (`config/ministral.yaml`: onboard then rules, `ministral_node.sources.rules.verify`
between them).
Decisions are scored before the safety envelope, which clamps by vehicle state and limits, not
by understanding; with a vehicle state (`ministral-eval --state alt=20,in_air=true`), the default
chain with verification is also scored as the node would publish it in that state, after the
envelope (a move on the ground is refused).
"""

from __future__ import annotations

import copy
import math
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ministral_node.core.fallback import FallbackChain
from ministral_node.decision import CommandInfo, ModelInfo, Proposal, steps_of
from ministral_node.inputs.camera import Frame
from ministral_node.inputs.vehicle import VehicleState
from ministral_node.safety.envelope import SafetyEnvelope, SafetyLimits
from ministral_node.sources.base import DeciderError, DecisionRequest
from ministral_node.sources.rules import RuleDecider
from ministral_node.sources.rules.decider import complete_reading
from ministral_node.sources.rules.provenance import command_numbers
from ministral_node.sources.rules.verify import (
    Verdict,
    Verifier,
    VerifySettings,
    reading,
)
from ministral_node.sources.rules.verify import unsupported_numbers as unsupported
from ministral_node.timing import Cancellation, Cancelled, Deadline, FakeClock, MonotonicClock

DATA_DIR = Path(__file__).resolve().parents[2] / 'test' / 'data'
SETS = {'handwritten': DATA_DIR / 'handwritten.yaml',
        'casual': DATA_DIR / 'casual_speech.yaml',
        'quantities': DATA_DIR / 'quantities.yaml'}
SET_FILE = SETS['handwritten']
# Actions that ask back or refuse: publishing one is never a wrong quantity.
ASKS = frozenset({'clarify', 'reject', 'answer'})
_AXES = frozenset({'forward_m', 'right_m', 'up_m'})
_NUMBER = re.compile(r'\d+(?:[.,]\d+)?')
LANGUAGES = ('en', 'fr', 'de', 'es', 'it')
SOURCES = ('model', 'rules', 'chain', 'chain+verify')
PUBLISHED = 'published'  # chain+verify after the safety envelope, with a vehicle state
GOALS = {'action': 0.97, 'numbers': 0.97}
MODEL_ACTION_GOAL = 0.90


@dataclass(frozen=True)
class Case:
    """One hand-written command and the decision it should get."""

    language: str
    text: str
    actions: tuple[str, ...]
    params: Mapping[str, Any]
    mission: bool = False
    tags: tuple[str, ...] = ()

    @property
    def numeric(self) -> bool:
        return any(_is_number(v) for v in self.params.values())


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def table_entries(table: Mapping[str, Any], rng: random.Random | None = None,
                  ) -> list[dict[str, Any]]:
    """Entries of a quantity table (`test/data/quantities.yaml`): every language's frame of
    each kind with every written form of that kind, the expected param converted to the
    contract's unit (value x factor, rounded to 0.01). With `rng`, each form written in digits
    gets a random value instead (1-90, a third of them with one decimal, written with the
    form's decimal separator; a property test's draw), and forms in words are left out."""
    factors = table.get('factors') or {}
    entries = []
    for language, frames in (table.get('frames') or {}).items():
        for kind, frame in frames.items():
            for written, value, unit in table['forms'][language][kind]:
                if rng is not None:
                    digits = _NUMBER.match(written)
                    if digits is None:
                        continue
                    value = rng.randint(1, 90) if rng.random() < 2 / 3 else \
                        round(rng.uniform(1.0, 90.0), 1)
                    comma = ',' in digits.group() or language != 'en'
                    written = (str(value).replace('.', ',') if comma else str(value)) + \
                        written[digits.end():]
                expected = round(float(value) * float(factors[unit]), 2)
                words = [] if any(ch.isdigit() for ch in written) else ['words']
                entries.append({'lang': language, 'text': frame['text'].replace('{q}', written),
                                'action': frame['action'],
                                'params': {**(frame.get('params') or {}),
                                           frame['param']: expected},
                                'tags': ['unit', 'generated', kind, *words]})
    return entries


def load_cases(path: str | Path = SET_FILE, missions_as: str = 'mission') -> list[Case]:
    """The cases of a hand-written set file; multi-step ones expect `missions_as`. The file is
    a list of entries, or a mapping with `cases` (entries) and `table` (see table_entries)."""
    data = yaml.safe_load(Path(path).read_text(encoding='utf-8'))
    if isinstance(data, Mapping):
        data = [*(data.get('cases') or []), *table_entries(data.get('table') or {})]
    return cases_of(data, missions_as)


def cases_of(entries: list[Mapping[str, Any]], missions_as: str = 'mission') -> list[Case]:
    """Cases from set entries (lang, text, action, params, tags, mission)."""
    cases = []
    for entry in entries:
        action = entry['action']
        actions = tuple(action) if isinstance(action, list) else (action,)
        if entry.get('mission'):
            actions = (missions_as,)
        cases.append(Case(entry['lang'], entry['text'], actions, entry.get('params') or {},
                          bool(entry.get('mission')), tuple(entry.get('tags') or ())))
    return cases


def load_set(name: str, missions_as: str = 'mission') -> list[Case]:
    """The cases of a named set (`SETS`: handwritten, casual, quantities)."""
    return load_cases(SETS[name], missions_as)


@dataclass
class Score:
    """How one decision compares with the case (numbers None: the case has none)."""

    language: str
    action_ok: bool
    numbers_ok: bool | None
    invented: int  # published numbers neither in the command nor expected nor a default
    verification: str = ''
    box_dropped: bool = False
    got: str = ''  # the proposal's meaning, for failure listings
    # published numbers that differ from the command's converted values (cases with numbers,
    # decisions that do not ask back): a wrong quantity, the "0 ever" count
    wrong_quantities: int = 0


def _same(expected: Any, got: Any) -> bool:
    if _is_number(expected):
        return _is_number(got) and math.isclose(round(float(got), 2), round(float(expected), 2),
                                                abs_tol=0.011)
    return expected == got


def score(case: Case, proposal: Proposal | None, verdict: Verdict | None = None) -> Score:
    """Score one proposal (None: no proposal) against `case`."""
    outcome = verdict.outcome if verdict is not None else ''
    dropped = bool(verdict is not None and verdict.box_dropped)
    if proposal is None:
        return Score(case.language, False, False if case.numeric else None, 0, outcome, dropped,
                     'no proposal')
    action_ok = proposal.action in case.actions
    numbers_ok = None
    if case.numeric:
        numbers_ok = action_ok and all(
            key in proposal.params and _same(value, proposal.params[key])
            for key, value in case.params.items())
    said = command_numbers(case.text) | {abs(float(v)) for v in case.params.values()
                                         if _is_number(v)}
    invented = len(unsupported(proposal.params, said))
    return Score(case.language, action_ok, numbers_ok, invented, outcome, dropped,
                 reading(proposal), wrong_quantities(case, proposal))


def wrong_quantities(case: Case, proposal: Proposal) -> int:
    """How many numbers `proposal` publishes (a mission's in every step) that are none of the
    case's expected values: 0 where the case has no number or the decision asks back. A body
    offset's unmentioned axes (a goto's 0 forward_m, right_m or up_m) are not quantities."""
    expected = [v for v in case.params.values() if _is_number(v)]
    if not expected or proposal.action in ASKS:
        return 0
    published = [v for step in steps_of(proposal) for k, v in step.params.items()
                 if _is_number(v) and not (k in _AXES and v == 0)]
    return sum(not any(_same(e, v) for e in expected) for v in published)


class ReplayDecider:
    """The onboard decider run once per command; later chains replay its answer."""

    source = 'onboard'

    def __init__(self, decider: Any) -> None:
        self.decider = decider
        self._answers: dict[str, Proposal | Exception] = {}
        self.seconds: dict[str, float] = {}

    def decide(self, request: DecisionRequest, cancel: Cancellation) -> Proposal:
        text = request.command.text
        if text not in self._answers:
            began = time.perf_counter()
            try:
                self._answers[text] = self.decider.decide(request, cancel)
            except (DeciderError, Cancelled) as exc:
                self._answers[text] = exc
            self.seconds[text] = time.perf_counter() - began
        answer = self._answers[text]
        if isinstance(answer, Exception):
            raise answer
        return copy.deepcopy(answer)

    def model_info(self) -> ModelInfo | None:
        return self.decider.model_info()


class RecordingVerifier:
    """A verifier that remembers its last verdict on the model (the outcome column)."""

    def __init__(self, verifier: Verifier) -> None:
        self.verifier = verifier
        self.last: Verdict | None = None

    def __call__(self, source: str, request: DecisionRequest, proposal: Proposal) -> Verdict:
        verdict = self.verifier(source, request, proposal)
        if source == 'onboard':
            self.last = verdict
        return verdict


@dataclass
class Run:
    """Scores of every source on every case, and the verification timings."""

    scores: dict[str, list[Score]] = field(default_factory=dict)
    verify_ms: list[float] = field(default_factory=list)


def evaluate(cases: list[Case], onboard: Any, values: Mapping[str, Any],
             image: Any = None, progress: Callable[[int], None] | None = None,
             vehicle: VehicleState | None = None) -> Run:
    """Decide every case with each source (see the module docstring) and score them; with no
    onboard decider (None) only the rule parser ('rules'). With `vehicle` (stamped 0), the
    default chain with verification is also scored after the safety envelope in that state
    ('published')."""
    if onboard is None:
        rules = RuleDecider()
        return Run({'rules': [score(case, rules.decide(DecisionRequest(
            CommandInfo(f'hw-{i}', case.text, 0.0)), Cancellation()))
            for i, case in enumerate(cases)]})
    clock = MonotonicClock()
    model = ReplayDecider(onboard)
    rules = RuleDecider()
    plain = FallbackChain([model, rules], clock)
    recorder = RecordingVerifier(Verifier(VerifySettings.from_params(values)))
    checked = FallbackChain([model, rules], clock, verify=recorder)
    run = Run({source: [] for source in SOURCES})
    envelope = None
    if vehicle is not None:
        envelope = SafetyEnvelope(SafetyLimits.from_params(values), FakeClock(0.0))
        run.scores[PUBLISHED] = []
    for i, case in enumerate(cases):
        frame = None if image is None else Frame(image, 0.0, 'camera')
        request = DecisionRequest(CommandInfo(f'hw-{i}', case.text, 0.0), frame)
        try:
            alone = model.decide(request, Cancellation())
        except (DeciderError, Cancelled):
            alone = None
        run.scores['model'].append(score(case, alone))
        run.scores['rules'].append(score(case, rules.decide(request, Cancellation())))
        result = plain.decide(request, Deadline(clock, 60.0))
        run.scores['chain'].append(score(case, result.proposal))
        recorder.last = None
        result = checked.decide(request, Deadline(clock, 60.0))
        run.scores['chain+verify'].append(score(case, result.proposal, recorder.last))
        if envelope is not None:
            published, _ = envelope.check(result.proposal, result.source, vehicle)
            run.scores[PUBLISHED].append(score(case, published, recorder.last))
        if alone is not None:
            began = time.perf_counter()
            recorder.verifier('onboard', request, copy.deepcopy(alone))
            run.verify_ms.append((time.perf_counter() - began) * 1000.0)
        if progress is not None:
            progress(i + 1)
    return run


def fast_path_agreement(cases: list[Case], run: Run) -> dict[str, Any]:
    """What `rules_fast_path` changes on a set: among the commands the rule parser reads
    completely, how many the chain with verification published exactly as the parser read
    them (the fast path publishes the parser's reading without the model), and the others."""
    complete = [i for i, case in enumerate(cases) if complete_reading(case.text) is not None]
    rules, chain = run.scores['rules'], run.scores['chain+verify']
    differ = [f'{cases[i].text!r}: rules {rules[i].got}, chain+verify {chain[i].got}'
              for i in complete if rules[i].got != chain[i].got]
    return {'complete': len(complete), 'same': len(complete) - len(differ), 'differ': differ}


def summarise(scores: list[Score]) -> dict[str, dict[str, Any]]:
    """Per language and 'all': n, action accuracy, numbers exact, invented numbers,
    verification outcomes."""
    table = {}
    for language in (*LANGUAGES, 'all'):
        rows = [s for s in scores if language in ('all', s.language)]
        if not rows:
            continue
        numeric = [s.numbers_ok for s in rows if s.numbers_ok is not None]
        outcomes = Counter(s.verification for s in rows if s.verification)
        table[language] = {
            'n': len(rows),
            'action': sum(s.action_ok for s in rows) / len(rows),
            'numbers_n': len(numeric),
            'numbers': sum(numeric) / len(numeric) if numeric else float('nan'),
            'invented': sum(s.invented for s in rows),
            'outcomes': dict(outcomes),
            'boxes_dropped': sum(s.box_dropped for s in rows),
            'wrong_quantities': sum(s.wrong_quantities for s in rows),
        }
    return table


_SHORT = {'agreed': 'agree', 'unchecked_by_rules': 'rules unsure', 'low_confidence': 'low conf',
          'provenance': 'provenance', 'rules_won': 'rules won', 'model_kept': 'model kept',
          'target_kept': 'rules action, model target', 'degenerate': 'degenerate',
          'not_checked': 'no model', 'malformed_text': 'bad text'}


def markdown(tables: Mapping[str, Mapping[str, Mapping[str, Any]]],
             quantities: bool = False) -> str:
    """One row per (language, source): action, numbers exact, invented numbers, outcomes;
    with `quantities` also the published quantities that differ from the command's."""
    extra = ' wrong quantities |' if quantities else ''
    lines = ['| language | source | n | action | numbers exact (n) | invented numbers |' +
             extra + ' verification outcomes |', '|' + '---|' * (8 if quantities else 7)]
    for language in (*LANGUAGES, 'all'):
        for source, table in tables.items():
            row = table.get(language)
            if row is None:
                continue
            outcomes = ', '.join(f'{_SHORT.get(k, k)} {v}'
                                 for k, v in sorted(row['outcomes'].items(),
                                                    key=lambda kv: -kv[1]))
            if row['boxes_dropped']:
                outcomes += f'; box dropped {row["boxes_dropped"]}'
            wrong = f' {row["wrong_quantities"]} |' if quantities else ''
            lines.append(f'| {language} | {source} | {row["n"]} | {row["action"]:.1%} | '
                         f'{row["numbers"]:.1%} ({row["numbers_n"]}) | {row["invented"]} |'
                         f'{wrong} {outcomes} |')
    return '\n'.join(lines)


def missed_goals(tables: Mapping[str, Mapping[str, Mapping[str, Any]]],
                 quantities: bool = False) -> list[str]:
    """The issue's goals missed: the default chain (with verification) at >= 97 % action and
    numbers in every language with no invented number (with `quantities`, and no wrong
    quantity); the model alone >= 90 % action."""
    missed = []
    for language, row in tables['chain+verify'].items():
        if quantities and row['wrong_quantities']:
            missed.append(f'{language} chain published {row["wrong_quantities"]} wrong '
                          f'quantities')
        for metric, goal in GOALS.items():
            if row[metric] == row[metric] and row[metric] < goal:
                missed.append(f'{language} chain {metric} {row[metric]:.3f} < {goal}')
        if row['invented']:
            missed.append(f'{language} chain published {row["invented"]} invented numbers')
    for language, row in tables['model'].items():
        if row['action'] < MODEL_ACTION_GOAL:
            missed.append(f'{language} model action {row["action"]:.3f} < {MODEL_ACTION_GOAL}')
    return missed


def failures(cases: list[Case], scores: list[Score]) -> list[str]:
    """One line per case a source got wrong (for --show-failures)."""
    return [f'[{c.language}] {c.text!r} -> {s.got} (want {"|".join(c.actions)} '
            f'{dict(c.params)}) invented={s.invented} '
            f'{f"wrong_quantities={s.wrong_quantities} " if s.wrong_quantities else ""}'
            f'{s.verification}'
            for c, s in zip(cases, scores) if not s.action_ok or s.numbers_ok is False
            or s.invented or s.wrong_quantities]


__all__ = ['PUBLISHED', 'SETS', 'Case', 'cases_of', 'evaluate', 'failures', 'load_cases',
           'load_set', 'markdown', 'missed_goals', 'score', 'summarise', 'table_entries',
           'wrong_quantities']
