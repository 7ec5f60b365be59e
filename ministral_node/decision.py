"""The decision contract: the JSON Schema in `config/` and the types that fill it.

A source (remote model, onboard model, rule parser, failsafe) produces a `Proposal`: action,
params, target, confidence, rationale. The pipeline wraps it with identity, timing, the frame
and model used, the safety report and the attempts into a typed `Decision`, which the loop,
the executor, replay and the CLIs share. It becomes JSON only at the edges (`to_json` /
`from_json`: the ~/decision topic, recordings, printed output), and that JSON always
validates against `config/decision.schema.json`.

Contract 1.4.0 adds `refusal`: a command refused before any decision source saw it (by the
input check, the queue or the node's lifecycle) carries `{kind, reason}` and no attempts.

Contract 1.1.0 adds the `mission` action: `params.steps` is an ordered list of 2 to 16 steps,
each `{action, params, target}` shaped like a single proposal (no nested missions; answer,
clarify and reject are not steps). `steps_of(proposal)` gives any proposal as its steps (a
single action is a one-step list), `mission(...)` builds one.
"""

from __future__ import annotations

import copy
import json
import math
import uuid
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Any

import jsonschema

from ministral_node.resources import config_path

SCHEMA_FILE = 'decision.schema.json'
# 1.1.0: the mission action; 1.2.0: confidence_detail, unverified; 1.3.0: reflex attempts,
# the cancelled outcome and grounding; 1.4.0: refusal (a refused command has no attempts)
SCHEMA_VERSION = '1.4.0'
SOURCES = ('remote', 'onboard', 'rules', 'failsafe')
MISSION = 'mission'
NOT_STEPS = frozenset({MISSION, 'answer', 'clarify', 'reject'})  # actions a step cannot take
# The attempt of a command obeyed as a reflex (1.3.0): the rule parser read it, ahead of the
# chain; the decision's source stays `rules`.
REFLEX = 'reflex'
OUTCOMES = ('ok', 'error', 'timeout', 'invalid', 'skipped', 'unavailable', 'unverified',
            'cancelled')
# A source stopped from outside (a reflex, deactivation, shutdown), not late (1.3.0).
CANCELLED = 'cancelled'
UNVERIFIED = 'unverified'  # a valid proposal the verify stage did not let through (1.2.0)


class DecisionError(ValueError):
    """A proposal or decision does not satisfy the contract."""


@lru_cache(maxsize=1)
def load_schema() -> dict:
    """The decision JSON Schema as a dict (read once)."""
    with open(config_path(SCHEMA_FILE), encoding='utf-8') as handle:
        schema = json.load(handle)
    version = schema['properties']['schema_version']['const']
    if version != SCHEMA_VERSION:
        raise DecisionError(f'{SCHEMA_FILE} is version {version}, code expects {SCHEMA_VERSION}')
    return schema


def _only_action(schema: dict, proposal: dict, action: str | None) -> dict:
    """`schema` with the proposal's anyOf cut to `action`'s variants (all if None).

    Variants of other actions cannot match (their `action` is a const), so validation means
    the same, at a fraction of the cost.
    """
    if action is None:
        return schema
    narrowed = copy.deepcopy(schema)
    target = narrowed['$defs']['proposal'] if proposal is schema['$defs']['proposal'] \
        else narrowed
    target['anyOf'] = [v for v in target['anyOf']
                       if v['properties']['action']['const'] == action]
    return narrowed


@lru_cache(maxsize=32)
def _decision_validator(action: str | None = None) -> jsonschema.Draft202012Validator:
    schema = load_schema()
    return jsonschema.Draft202012Validator(_only_action(schema, schema['$defs']['proposal'],
                                                        action))


@lru_cache(maxsize=1)
def proposal_schema() -> dict:
    """A standalone schema for a proposal (the part a model generates).

    Same `$defs` as the decision schema, so one file stays the single source of truth.
    """
    schema = load_schema()
    return {
        '$schema': schema['$schema'],
        'title': 'ministral_node decision proposal',
        **copy.deepcopy(schema['$defs']['proposal']),
        '$defs': copy.deepcopy(schema['$defs']),
    }


@lru_cache(maxsize=32)
def _proposal_validator(action: str | None = None) -> jsonschema.Draft202012Validator:
    schema = proposal_schema()
    return jsonschema.Draft202012Validator(_only_action(schema, schema, action))


def _action_of(data: Any) -> str | None:
    action = data.get('action') if isinstance(data, dict) else None
    return action if isinstance(action, str) and action in actions() else None


@lru_cache(maxsize=1)
def actions() -> tuple[str, ...]:
    """Every action name the contract allows."""
    return tuple(load_schema()['$defs']['actions']['enum'])


@lru_cache(maxsize=1)
def mission_steps_limit() -> int:
    """Most steps the contract allows in a mission (`max_mission_steps` may lower it)."""
    return int(load_schema()['$defs']['params']['mission']['properties']['steps']['maxItems'])


def _finite(data: Any, where: str) -> None:
    """Raise `DecisionError` at the first non-finite float in nested params."""
    if isinstance(data, float) and not math.isfinite(data):
        raise DecisionError(f'{where}: {data} is not a finite number')
    items = data.items() if isinstance(data, dict) else enumerate(data) \
        if isinstance(data, list) else ()
    for key, value in items:
        _finite(value, f'{where}/{key}')


def _specific(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """Descend from an anyOf failure into the branch the data meant (its `action` matched)."""
    while error.validator in ('anyOf', 'allOf') and error.context:
        branches: dict[int, list[jsonschema.ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.schema_path[0], []).append(sub)
        meant = [errs for errs in branches.values()
                 if not any(list(e.relative_path)[:1] == ['action'] for e in errs)]
        if not meant:
            if all(any(list(e.relative_path)[:1] == ['action'] for e in errs)
                   for errs in branches.values()) and isinstance(error.instance, dict):
                action = error.instance.get('action')
                error.message = (f'action {action!r} is not allowed here' if action in actions()
                                 else f'unknown action {action!r}; expected one of '
                                 f'{list(actions())}')
            return error
        error = min(meant, key=len)[0]
    return error


def _describe(errors: list[jsonschema.ValidationError]) -> str:
    if not errors:
        return ''
    real = [e for e in errors if e.validator != 'unevaluatedProperties'] or errors
    best = _specific(max(real, key=jsonschema.exceptions.relevance))
    where = '/'.join(str(p) for p in best.absolute_path) or '(root)'
    return f'{where}: {best.message}'


def validate_decision(decision: dict) -> None:
    """Raise `DecisionError` with a readable reason unless `decision` fits the schema."""
    errors = list(_decision_validator(_action_of(decision)).iter_errors(decision))
    if errors:
        raise DecisionError(f'decision does not fit the schema: {_describe(errors)}')


def validate_proposal(proposal: dict) -> None:
    """Raise `DecisionError` unless `proposal` fits the proposal part of the schema."""
    errors = list(_proposal_validator(_action_of(proposal)).iter_errors(proposal))
    if errors:
        raise DecisionError(f'proposal does not fit the schema: {_describe(errors)}')


def shorten(text: str, limit: int) -> str:
    """`text` on one line, cut to at most `limit` characters with an ellipsis."""
    flat = ' '.join(str(text).split())
    return flat if len(flat) <= limit else flat[: max(0, limit - 1)] + '…'


@dataclass(frozen=True)
class Target:
    """What a decision is about: a label in the operator's words and, if seen, its image box."""

    label: str
    box: tuple[float, float, float, float] | None = None

    def to_dict(self) -> dict:
        return {'label': self.label, 'box': None if self.box is None else list(self.box)}

    @classmethod
    def from_dict(cls, data: dict | None) -> Target | None:
        """The target of a (validated) proposal or step dict; None for null."""
        if data is None:
            return None
        return cls(data['label'], None if data['box'] is None else tuple(data['box']))


@dataclass(frozen=True)
class ConfidenceDetail:
    """How a proposal's confidence was obtained: `method` (token_logprobs: measured from the
    model's token probabilities; model_reported: the number the model wrote), the overall
    value, per-field values (`action`, `params.<name>`, `target.box`) and a note."""

    method: str
    overall: float
    fields: dict[str, float] = field(default_factory=dict)
    note: str = ''

    def to_dict(self) -> dict:
        return {'method': self.method, 'overall': float(self.overall),
                'fields': {k: float(v) for k, v in self.fields.items()},
                'note': shorten(self.note, 300)}

    @classmethod
    def from_dict(cls, data: dict) -> ConfidenceDetail:
        return cls(data['method'], data['overall'], dict(data['fields']), data['note'])


@dataclass
class Proposal:
    """What one decision source proposes, before the safety envelope and the pipeline.

    `confidence_detail` is measured by the source, never written by a model: it is published
    beside the proposal (the decision's `confidence_detail`), not part of it."""

    action: str
    params: dict[str, Any] = field(default_factory=dict)
    target: Target | None = None
    confidence: float = 1.0
    rationale: str = ''
    confidence_detail: ConfidenceDetail | None = None

    def to_dict(self) -> dict:
        return {
            'action': self.action,
            'params': copy.deepcopy(dict(self.params)),
            'target': None if self.target is None else self.target.to_dict(),
            'confidence': float(self.confidence),
            'rationale': shorten(self.rationale, 200),
        }

    def validate(self) -> Proposal:
        """Return self if it fits the contract, else raise `DecisionError`."""
        validate_proposal(self.to_dict())
        return self

    @classmethod
    def from_dict(cls, data: Any) -> Proposal:
        """Build a proposal from parsed JSON, validating it against the contract."""
        if not isinstance(data, dict):
            raise DecisionError(f'proposal must be a JSON object, got {type(data).__name__}')
        validate_proposal(data)
        _finite(data['params'], 'params')
        return cls(
            action=data['action'],
            params=copy.deepcopy(data['params']),
            target=Target.from_dict(data['target']),
            confidence=float(data['confidence']),
            rationale=data['rationale'],
        )

    @classmethod
    def from_json(cls, text: str) -> Proposal:
        """Parse and validate a proposal from JSON text (a model's output)."""
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, TypeError) as exc:
            raise DecisionError(f'proposal is not valid JSON: {exc}') from exc
        return cls.from_dict(data)


def step_dict(proposal: Proposal) -> dict:
    """A proposal as a mission step: `{action, params, target}`."""
    return {'action': proposal.action, 'params': copy.deepcopy(proposal.params),
            'target': None if proposal.target is None else proposal.target.to_dict()}


def mission(steps: list[Proposal], rationale: str = '', confidence: float = 1.0) -> Proposal:
    """A `mission` proposal running `steps` (single-action proposals) in order."""
    return Proposal(MISSION, {'steps': [step_dict(step) for step in steps]}, None, confidence,
                    rationale)


def steps_of(proposal: Proposal) -> list[Proposal]:
    """The steps a proposal runs: a mission's steps (with its confidence and rationale), or
    the proposal itself as a one-step list."""
    if proposal.action != MISSION:
        return [proposal]
    return [Proposal(step['action'], copy.deepcopy(step['params']),
                     Target.from_dict(step['target']), proposal.confidence, proposal.rationale)
            for step in proposal.params['steps']]


def targets_of(proposal: Proposal) -> list[Target]:
    """The targets a proposal names: its own, or its mission steps'."""
    return [step.target for step in steps_of(proposal) if step.target is not None]


def clarify(question: str, rationale: str = '', confidence: float = 1.0) -> Proposal:
    """A proposal that asks the operator back."""
    return Proposal('clarify', {'question': shorten(question, 300)}, None, confidence, rationale)


def reject(reason: str, rationale: str = '', confidence: float = 1.0) -> Proposal:
    """A proposal that refuses a command, saying why."""
    return Proposal('reject', {'reason': shorten(reason, 300)}, None, confidence, rationale)


def answer(text: str, rationale: str = '', confidence: float = 1.0) -> Proposal:
    """A proposal that replies to a question."""
    return Proposal('answer', {'text': shorten(text, 300)}, None, confidence, rationale)


@dataclass(frozen=True)
class CommandInfo:
    """The operator command a decision answers."""

    id: str
    text: str
    stamp: float

    def to_dict(self) -> dict:
        return {'id': self.id, 'text': shorten(self.text, 500), 'stamp': self.stamp}

    @classmethod
    def from_dict(cls, data: dict) -> CommandInfo:
        return cls(data['id'], data['text'], data['stamp'])


@dataclass(frozen=True)
class FrameInfo:
    """The camera frame a decision saw."""

    stamp: float
    frame_id: str
    age_s: float
    width: int
    height: int

    def to_dict(self) -> dict:
        return {'stamp': self.stamp, 'frame_id': self.frame_id, 'age_s': max(0.0, self.age_s),
                'width': self.width, 'height': self.height}

    @classmethod
    def from_dict(cls, data: dict) -> FrameInfo:
        return cls(data['stamp'], data['frame_id'], data['age_s'], data['width'],
                   data['height'])


@dataclass(frozen=True)
class ModelInfo:
    """Identity of the model that produced a proposal."""

    name: str
    variant: str
    provider: str

    def to_dict(self) -> dict:
        return {'name': self.name, 'variant': self.variant, 'provider': self.provider}

    @classmethod
    def from_dict(cls, data: dict) -> ModelInfo:
        return cls(data['name'], data['variant'], data['provider'])


@dataclass(frozen=True)
class SafetyChange:
    """One value the safety envelope changed, and why."""

    field: str
    requested: Any
    applied: Any
    reason: str

    def to_dict(self) -> dict:
        return {'field': self.field, 'requested': self.requested, 'applied': self.applied,
                'reason': self.reason}

    @classmethod
    def from_dict(cls, data: dict) -> SafetyChange:
        return cls(data['field'], data['requested'], data['applied'], data['reason'])


@dataclass(frozen=True)
class SafetyReport:
    """What the safety envelope did to a proposal."""

    changes: tuple[SafetyChange, ...] = ()
    refused: str | None = None

    @property
    def status(self) -> str:
        if self.refused is not None:
            return 'refused'
        return 'modified' if self.changes else 'passed'

    def to_dict(self) -> dict:
        return {'status': self.status, 'changes': [c.to_dict() for c in self.changes],
                'refused': self.refused}

    @classmethod
    def from_dict(cls, data: dict) -> SafetyReport:
        """The report a safety dict describes; `DecisionError` if its status contradicts its
        changes and refusal (the envelope never publishes such a report)."""
        report = cls(tuple(SafetyChange.from_dict(c) for c in data['changes']),
                     data['refused'])
        if report.status != data['status']:
            raise DecisionError(f'safety status {data["status"]!r} contradicts its changes '
                                f'and refusal ({report.status!r})')
        return report


@dataclass(frozen=True)
class Attempt:
    """One source the pipeline tried for a decision and how it went."""

    source: str
    outcome: str
    detail: str = ''
    latency_ms: float = 0.0

    def to_dict(self) -> dict:
        return {'source': self.source, 'outcome': self.outcome,
                'detail': shorten(self.detail, 300),
                'latency_ms': round(max(0.0, self.latency_ms), 3)}

    @classmethod
    def from_dict(cls, data: dict) -> Attempt:
        return cls(data['source'], data['outcome'], data['detail'], data['latency_ms'])


class RefusalKind(Enum):
    """Why a command was refused before any decision source saw it."""

    INPUT = 'input'  # the command itself: unreadable, empty, too long, control characters
    QUEUE_FULL = 'queue_full'  # dropped unanswered: command_queue_depth newer ones waited
    SUPERSEDED = 'superseded'  # waiting when a reflex cleared the queue
    PREEMPTED = 'preempted'  # being decided when a reflex or a failsafe cancelled it
    INACTIVE = 'inactive'  # the node is configured but not active
    DEACTIVATING = 'deactivating'  # waiting or being decided when the node deactivated
    SHUTTING_DOWN = 'shutting_down'  # waiting or being decided at shutdown, or after it
    UNCONFIGURED = 'unconfigured'  # the node has no settings and no loop yet

    @property
    def by_node(self) -> bool:
        """Whether the node's queue or lifecycle refused, not the command (replay reproduces
        such a refusal instead of deciding the command again)."""
        return self is not RefusalKind.INPUT


@dataclass(frozen=True)
class Refusal:
    """Why a command was refused before any decision source saw it."""

    kind: RefusalKind
    reason: str

    def to_dict(self) -> dict:
        return {'kind': self.kind.value, 'reason': shorten(self.reason, 300)}

    @classmethod
    def from_dict(cls, data: dict) -> Refusal:
        return cls(RefusalKind(data['kind']), data['reason'])


def _optional(data: dict | None, build: Any) -> Any:
    return None if data is None else build(data)


@dataclass(frozen=True)
class Decision:
    """One published decision, every field of the contract (see the schema for each).

    `confidence_detail` and `grounding` (the detector's view of the target, as the schema's
    `grounding` object) are absent from the JSON when None, `refusal` too.
    """

    id: str
    stamp: float
    command: CommandInfo | None
    action: str
    params: dict[str, Any]
    target: Target | None
    confidence: float
    rationale: str
    source: str
    frame: FrameInfo | None
    latency_ms: float
    model: ModelInfo | None
    safety: SafetyReport
    attempts: tuple[Attempt, ...]
    notes: tuple[str, ...]
    confidence_detail: ConfidenceDetail | None = None
    grounding: dict[str, Any] | None = None
    refusal: Refusal | None = None
    schema_version: str = SCHEMA_VERSION

    @property
    def proposal(self) -> Proposal:
        """The proposal the decision publishes (after the safety envelope)."""
        return Proposal(self.action, copy.deepcopy(self.params), self.target, self.confidence,
                        self.rationale, self.confidence_detail)

    def to_dict(self) -> dict:
        """The decision as the JSON object the contract describes."""
        data = {
            'schema_version': self.schema_version,
            'id': self.id,
            'stamp': self.stamp,
            'command': _optional(self.command, CommandInfo.to_dict),
            **self.proposal.to_dict(),
            'source': self.source,
            'frame': _optional(self.frame, FrameInfo.to_dict),
            'latency_ms': round(max(0.0, self.latency_ms), 3),
            'model': _optional(self.model, ModelInfo.to_dict),
            'safety': self.safety.to_dict(),
            'attempts': [a.to_dict() for a in self.attempts],
            'notes': [shorten(n, 300) for n in self.notes],
        }
        if self.confidence_detail is not None:
            data['confidence_detail'] = self.confidence_detail.to_dict()
        if self.grounding is not None:
            data['grounding'] = copy.deepcopy(self.grounding)
        if self.refusal is not None:
            data['refusal'] = self.refusal.to_dict()
        return data

    def to_json(self) -> str:
        """The decision as compact JSON, non-ASCII text kept readable."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(',', ':'),
                          allow_nan=False)

    @classmethod
    def from_dict(cls, data: Any, *, validate: bool = True) -> Decision:
        """The decision a JSON object describes; validated against the schema unless
        `validate` is False (it was just validated). Raises `DecisionError`."""
        if not isinstance(data, dict):
            raise DecisionError(f'decision must be a JSON object, got {type(data).__name__}')
        if validate:
            validate_decision(data)
        return cls(
            id=data['id'], stamp=data['stamp'],
            command=_optional(data['command'], CommandInfo.from_dict),
            action=data['action'], params=copy.deepcopy(data['params']),
            target=Target.from_dict(data['target']), confidence=data['confidence'],
            rationale=data['rationale'], source=data['source'],
            frame=_optional(data['frame'], FrameInfo.from_dict),
            latency_ms=data['latency_ms'],
            model=_optional(data['model'], ModelInfo.from_dict),
            safety=SafetyReport.from_dict(data['safety']),
            attempts=tuple(Attempt.from_dict(a) for a in data['attempts']),
            notes=tuple(data['notes']),
            confidence_detail=_optional(data.get('confidence_detail'),
                                        ConfidenceDetail.from_dict),
            grounding=copy.deepcopy(data.get('grounding')),
            refusal=_optional(data.get('refusal'), Refusal.from_dict),
            schema_version=data['schema_version'])

    @classmethod
    def from_json(cls, text: str | bytes) -> Decision:
        """Parse and validate a decision from JSON text (a ~/decision message)."""
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, TypeError, UnicodeDecodeError) as exc:
            raise DecisionError(f'decision is not valid JSON: {exc}') from exc
        return cls.from_dict(data)


def make_decision(
    proposal: Proposal,
    *,
    source: str,
    stamp: float,
    latency_ms: float,
    command: CommandInfo | None = None,
    frame: FrameInfo | None = None,
    model: ModelInfo | None = None,
    safety: SafetyReport | None = None,
    attempts: tuple[Attempt, ...] | list[Attempt] = (),
    notes: tuple[str, ...] | list[str] = (),
    decision_id: str | None = None,
    grounding: dict | None = None,
    refusal: Refusal | None = None,
) -> Decision:
    """Assemble and validate a decision (`grounding`: how the target was resolved against the
    object detector, when one ran; `refusal`: why the command was refused, if it was). Its
    fields are as published: texts shortened, numbers rounded."""
    decision = Decision(
        id=decision_id or str(uuid.uuid4()), stamp=stamp, command=command,
        action=proposal.action, params=proposal.params, target=proposal.target,
        confidence=float(proposal.confidence), rationale=proposal.rationale, source=source,
        frame=frame, latency_ms=latency_ms, model=model, safety=safety or SafetyReport(),
        attempts=tuple(attempts), notes=tuple(notes),
        confidence_detail=proposal.confidence_detail, grounding=grounding, refusal=refusal)
    data = decision.to_dict()
    validate_decision(data)
    return Decision.from_dict(data, validate=False)
