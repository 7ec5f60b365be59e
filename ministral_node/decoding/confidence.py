"""Measured confidence: a proposal's fields scored by the log-probabilities of their tokens.

A model writes a proposal token by token; under constrained decoding each token was chosen
from the masked distribution, so the probability of a field's value is the product of the
probabilities of the tokens that wrote it. `field_confidence` maps (text piece, logprob)
pairs onto the proposal's JSON fields:

- `action`: the action string;
- `params.<name>`: each parameter value (numbers also take the token that ended them, where
  the model chose between "90" and "900"); free-text strings (question, reason, text) are not
  scored;
- `target.box`: the four box coordinates together, each to a tenth of the image (its
  leading digits: "0.6" of "0.63"; the hundredths are noise at the scale a box matters);
- a mission's steps the same way under `params.steps.<k>.` (`params.steps.0.action`,
  `params.steps.1.params.altitude_m`, `params.steps.2.target.box`).

The overall confidence is the product over `action` and the params: the probability the
model gave to the decision's meaning. The box is kept apart (`min_box_confidence` judges it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache

from ministral_node.decision import ConfidenceDetail, Proposal, load_schema

TOKEN_LOGPROBS = 'token_logprobs'
MODEL_REPORTED = 'model_reported'
_WHITESPACE = ' \t\r\n'
BOX_DIGITS = 3  # a box coordinate is scored on "0.d": where it is to a tenth of the image


class _Scanner:
    """Walks JSON text and records the character span of every value by its dotted path."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0
        self.spans: dict[str, tuple[int, int]] = {}

    def skip(self) -> None:
        while self.at < len(self.text) and self.text[self.at] in _WHITESPACE:
            self.at += 1

    def value(self, path: str) -> None:
        self.skip()
        start = self.at
        char = self.text[self.at]
        if char == '{':
            self.container('}', path, keyed=True)
        elif char == '[':
            self.container(']', path, keyed=False)
        elif char == '"':
            self.string()
        else:
            while self.at < len(self.text) and self.text[self.at] not in ',}]' + _WHITESPACE:
                self.at += 1
        self.spans[path] = (start, self.at)

    def string(self) -> str:
        start = self.at
        self.at += 1
        while self.text[self.at] != '"':
            self.at += 2 if self.text[self.at] == '\\' else 1
        self.at += 1
        return self.text[start + 1:self.at - 1]

    def container(self, close: str, path: str, keyed: bool) -> None:
        self.at += 1
        index = 0
        while True:
            self.skip()
            if self.text[self.at] == close:
                self.at += 1
                return
            if keyed:
                key = self.string()
                self.skip()
                self.at += 1  # ':'
            else:
                key = str(index)
            self.value(f'{path}.{key}' if path else key)
            index += 1
            self.skip()
            if self.text[self.at] == ',':
                self.at += 1


def value_spans(text: str) -> dict[str, tuple[int, int]]:
    """Character span [start, end) of every value in the JSON object `text`, by dotted path
    (`action`, `params.altitude_m`, `target.box`, `target.box.0`); {} if it does not scan."""
    scanner = _Scanner(text)
    try:
        scanner.value('')
    except IndexError:
        return {}
    return scanner.spans


@lru_cache(maxsize=1)
def free_text_params() -> frozenset[str]:
    """Param names whose value is free text (their wording is not a decision)."""
    return frozenset(name for spec in load_schema()['$defs']['params'].values()
                     for name, prop in spec.get('properties', {}).items()
                     if prop.get('type') == 'string')


def _scored_paths(spans: dict[str, tuple[int, int]], text: str) -> dict[str, tuple[int, int]]:
    scored = {}
    for path, (start, end) in spans.items():
        parts = path.split('.')
        if parts[:2] == ['params', 'steps']:  # a mission step is scored like a proposal
            parts = parts[3:]
        if parts == ['action']:
            scored[path] = (start, end)
        elif parts[:2] == ['target', 'box'] and len(parts) == 3:  # to 0.1: "0.6" of "0.63"
            scored[path] = (start, min(end, start + BOX_DIGITS))
        elif len(parts) == 2 and parts[0] == 'params' and parts[1] != 'steps':
            if parts[1] in free_text_params():
                continue
            numeric = text[start:end][:1] not in '"{[n'
            scored[path] = (start, end + 1 if numeric else end)
    return scored


def _box_field(path: str) -> str | None:
    """`target.box` (or `params.steps.<k>.target.box`) for a box coordinate's path."""
    head, found, _ = path.rpartition('target.box.')
    return head + 'target.box' if found else None


def _rounded(probability: float) -> float:
    return float(f'{probability:.4g}')


def field_confidence(pieces: Sequence[tuple[str, float]], text: str | None = None
                     ) -> ConfidenceDetail | None:
    """The measured confidence of a proposal from its tokens' (text, logprob) pairs, or None
    when the pieces do not make a JSON object. `text` defaults to the pieces joined."""
    text = ''.join(piece for piece, _ in pieces) if text is None else text
    spans = value_spans(text)
    if 'action' not in spans:
        return None
    scored = _scored_paths(spans, text)
    sums = dict.fromkeys(scored, 0.0)
    position = 0
    for piece, logprob in pieces:
        end = position + len(piece)
        for path, (start, stop) in scored.items():
            if position < stop and end > start:
                sums[path] += logprob
        position = end
    boxes: dict[str, float] = {}
    meaning = 0.0
    fields = {}
    for path, total in sums.items():
        box = _box_field(path)
        if box is None:
            meaning += total
            fields[path] = _rounded(math.exp(total))
        else:
            boxes[box] = boxes.get(box, 0.0) + total
    fields.update({box: _rounded(math.exp(total)) for box, total in boxes.items()})
    return ConfidenceDetail(TOKEN_LOGPROBS, _rounded(math.exp(meaning)), fields)


def measured(proposal: Proposal, pieces: Sequence[tuple[str, float]], text: str) -> Proposal:
    """`proposal` with its confidence measured from its tokens' log-probabilities (the number
    the model wrote is kept in the note); unchanged if the pieces cannot be mapped."""
    detail = field_confidence(pieces, text)
    if detail is None:
        return proposal
    note = f'the model wrote confidence {proposal.confidence:g}'
    proposal.confidence = detail.overall
    proposal.confidence_detail = replace(detail, note=note)
    return proposal
