"""JSON-schema constrained decoding with llguidance, from the model's own `tokenizer.json`.

Every step the grammar's token mask is applied to the logits, so even a random-weight model
writes a proposal that parses and validates. Generation always ends inside `max_new_tokens`:

* the generation schema (derived from `proposal_schema()`, never edited by hand) bounds every
  number (a range and a 0.01 step, so a finite number of digits), caps every string's length,
  closes every object (no extra keys) and allows no escapes or whitespace, so the output has
  a computable worst-case size;
* when the tokens left come down to the size of a minimal completion, the mask narrows to
  single-byte tokens, to the closing quote wherever a string may end and to the closing
  bracket wherever an array may end (a mission keeps its minimum of steps), which finishes
  the object within that reserve;
* the reserve is per action when the schema is a choice of `action` branches (the proposal
  schema): a `mission` needs a larger one than a `land`, so while the action name is written
  the mask drops the actions whose minimal completion no longer fits the tokens left.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import llguidance
import llguidance.numpy as llg_numpy
import numpy as np

from ministral_node.decision import proposal_schema
from ministral_node.engine.generation import GenerationError

NUMBER_LIMIT = 100_000.0
NUMBER_STEP = 0.01
STRING_CAPS = {'rationale': 160, 'label': 60}
DEFAULT_STRING_CAP = 200
# Output budget: onboard-model parameters that cap a free-text field of the proposal, by the
# field's property name (0 for the rationale turns it off: it is generated as "").
BUDGET_PARAMETERS = {'max_rationale_chars': 'rationale', 'max_label_chars': 'label',
                     'max_question_chars': 'question', 'max_answer_chars': 'text'}
COMPILE_OPTIONS = {'whitespace_flexible': False, 'item_separator': ',', 'key_separator': ':',
                   'json_allowed_escapes': ''}
MAX_UTF8 = 4  # bytes per character


def _resolve(schema: Any, root: dict) -> Any:
    """`schema` with every local `$ref` inlined (the proposal schema has no recursion)."""
    if isinstance(schema, dict):
        if '$ref' in schema:
            target: Any = root
            for part in schema['$ref'].removeprefix('#/').split('/'):
                target = target[part]
            merged = {**_resolve(target, root), **{k: v for k, v in schema.items()
                                                    if k != '$ref'}}
            return _resolve(merged, root)
        return {k: _resolve(v, root) for k, v in schema.items() if k != '$defs'}
    if isinstance(schema, list):
        return [_resolve(v, root) for v in schema]
    return schema


def string_caps(values: Mapping[str, Any]) -> dict[str, int]:
    """Field caps from the output-budget parameters present in `values` (parameters.py)."""
    return {field: int(values[name]) for name, field in BUDGET_PARAMETERS.items()
            if name in values}


def _bound(schema: Any, name: str = '', caps: Mapping[str, int] = STRING_CAPS) -> Any:
    if not isinstance(schema, dict):
        return schema
    out = {k: v for k, v in schema.items() if k not in ('description', 'title', '$schema')}
    for key in ('anyOf', 'oneOf', 'allOf'):
        if key in out:
            out[key] = [_bound(s, name, caps) for s in out[key]]
    types = out.get('type')
    types = types if isinstance(types, list) else [types] if types else []
    if 'properties' in out or 'object' in types:
        props = out.get('properties', {})
        out['properties'] = {k: _bound(v, k, caps) for k, v in props.items()}
        out['required'] = list(props)
        out['additionalProperties'] = False
    if 'items' in out:
        out['items'] = _bound(out['items'], name, caps)
    if 'string' in types:
        cap = caps.get(name, DEFAULT_STRING_CAP)
        # A cap never goes below what the contract requires (minLength).
        out['maxLength'] = max(min(out.get('maxLength', cap), cap), out.get('minLength', 0))
    if 'number' in types or 'integer' in types:
        out['minimum'] = max(out.get('minimum', -NUMBER_LIMIT), -NUMBER_LIMIT)
        out['maximum'] = min(out.get('maximum', NUMBER_LIMIT), NUMBER_LIMIT)
        if 'number' in types:
            out['multipleOf'] = NUMBER_STEP
    return out


def generation_schema(schema: dict | None = None,
                      caps: Mapping[str, int] | None = None) -> dict:
    """The schema the decoder is constrained to: `proposal_schema()` made finite.

    Accepts a subset of what the proposal schema accepts: strings are shorter (rationale 160,
    label 60, others 200 characters, or the `caps` given by field name), numbers lie within
    +-100000 in steps of 0.01.
    """
    if schema is None:
        return copy.deepcopy(_contract_generation_schema(tuple(sorted((caps or {}).items()))))
    base = copy.deepcopy(schema)
    return _bound(_resolve(base, base), caps={**STRING_CAPS, **(caps or {})})


@lru_cache(maxsize=8)
def _contract_generation_schema(caps: tuple[tuple[str, int], ...] = ()) -> dict:
    """The contract's generation schema for some string caps, built once each (about 15 ms
    since missions)."""
    return generation_schema(proposal_schema(), dict(caps))


def _number_bytes(schema: dict) -> int:
    integer_digits = len(str(int(max(abs(schema['minimum']), abs(schema['maximum'])))))
    decimals = 0 if schema.get('type') == 'integer' or 'multipleOf' not in schema else \
        len(f'{schema["multipleOf"]:.10f}'.rstrip('0').split('.')[1])
    return 1 + integer_digits + (1 + decimals if decimals else 0)


def max_output_bytes(schema: Any, minimal_strings: bool = False) -> int:
    """Most bytes a compact JSON value of `schema` can take (strings at their minimum length
    with `minimal_strings`). Raises ValueError on an unbounded construct."""
    if not isinstance(schema, dict):
        raise ValueError(f'cannot bound schema {schema!r}')
    if 'const' in schema:
        return len(json.dumps(schema['const'], ensure_ascii=False).encode())
    if 'enum' in schema:
        return max(len(json.dumps(v, ensure_ascii=False).encode()) for v in schema['enum'])
    for key in ('anyOf', 'oneOf'):
        if key in schema:
            return max(max_output_bytes(s, minimal_strings) for s in schema[key])
    types = schema.get('type')
    types = types if isinstance(types, list) else [types]
    sizes = []
    for kind in types:
        if kind == 'null':
            sizes.append(4)
        elif kind == 'boolean':
            sizes.append(5)
        elif kind in ('number', 'integer'):
            sizes.append(_number_bytes({**schema, 'type': kind}))
        elif kind == 'string':
            if 'maxLength' not in schema:
                raise ValueError('a string without maxLength is unbounded')
            length = schema.get('minLength', 0) if minimal_strings else schema['maxLength']
            sizes.append(2 + MAX_UTF8 * length)
        elif kind == 'array':
            if 'maxItems' not in schema:
                raise ValueError('an array without maxItems is unbounded')
            # Minimal: the tight mask closes an array as soon as it may end.
            count = max(1, schema.get('minItems', 0)) if minimal_strings else schema['maxItems']
            item = max_output_bytes(schema.get('items', {}), minimal_strings)
            sizes.append(2 + count * item + max(0, count - 1))
        elif kind == 'object':
            if schema.get('additionalProperties', True) is not False:
                raise ValueError('an object open to extra keys is unbounded')
            props = schema.get('properties', {})
            sizes.append(2 + max(0, len(props) - 1) + sum(
                len(json.dumps(k, ensure_ascii=False).encode()) + 1
                + max_output_bytes(v, minimal_strings) for k, v in props.items()))
        else:
            raise ValueError(f'cannot bound type {kind!r}')
    return max(sizes)


ACTION_PREFIX = b'{"action":"'


def branch_reserves(schema: dict) -> dict[str, int]:
    """Tokens that finish each action branch at worst with single-byte tokens, by action name
    ({} unless `schema` is a choice of objects with an `action` const first)."""
    reserves: dict[str, int] = {}
    for branch in schema.get('anyOf', ()):
        props = branch.get('properties', {}) if isinstance(branch, dict) else {}
        action = props.get('action', {}).get('const')
        if not isinstance(action, str) or next(iter(props), None) != 'action':
            return {}
        size = max_output_bytes(branch, minimal_strings=True) + 1
        reserves[action] = max(reserves.get(action, 0), size)
    return reserves


@dataclass
class MaskStats:
    """Time spent computing and applying the mask, per generated token (seconds)."""

    times: list[float]

    def summary(self) -> dict[str, float]:
        if not self.times:
            return {'tokens': 0, 'median_ms': 0.0, 'p99_ms': 0.0}
        values = np.asarray(self.times) * 1000.0
        return {'tokens': len(values), 'median_ms': float(np.median(values)),
                'p99_ms': float(np.percentile(values, 99))}


class JsonConstraint:
    """A compiled JSON-schema grammar for one tokenizer; makes a processor per request."""

    def __init__(self, tokenizer_json: str, eos_id: int, vocab_size: int | None = None,
                 schema: dict | None = None, caps: Mapping[str, int] | None = None) -> None:
        """`caps`: free-text field caps by field name (see `string_caps`)."""
        self.schema = schema if schema is not None else generation_schema(caps=caps)
        self.tokenizer = llguidance.LLTokenizer(tokenizer_json, n_vocab=vocab_size,
                                                eos_token=eos_id)
        self.vocab_size = self.tokenizer.vocab_size
        self.eos_id = eos_id
        self.grammar = llguidance.LLMatcher.grammar_from_json_schema(
            self.schema, overrides=COMPILE_OPTIONS)
        error = llguidance.LLMatcher.validate_grammar(self.grammar, self.tokenizer)
        if error and not error.startswith('WARNING'):
            raise ValueError(f'the generation schema does not compile: {error}')
        # Building a matcher costs about 6 ms; each request gets a copy of this unused one.
        self._start = llguidance.LLMatcher(self.tokenizer, self.grammar, log_level=0)
        if self._start.is_error():
            raise GenerationError(f'grammar error: {self._start.get_error()}')
        self.worst_case_tokens = max_output_bytes(self.schema)
        # Enough tokens to finish a partial output of each action when every token is a single
        # byte; the budget must fit at least one action.
        self.action_reserves = branch_reserves(self.schema)
        self.reserve_tokens = min(self.action_reserves.values()) if self.action_reserves \
            else max_output_bytes(self.schema, minimal_strings=True) + 1

    @cached_property
    def single_byte_tokens(self) -> np.ndarray:
        """Bool [vocab]: tokens that are exactly one byte (the tight-budget alphabet)."""
        single = np.zeros(self.vocab_size, dtype=bool)
        for token in range(self.vocab_size):
            if not self.tokenizer.is_special_token(token) and \
                    len(self.tokenizer.decode_bytes([token])) == 1:
                single[token] = True
        return single

    def _single_token(self, text: str) -> int:
        tokens = self.tokenizer.tokenize_str(text)
        if len(tokens) != 1:
            raise ValueError(f'the tokenizer has no single token for {text!r}')
        return tokens[0]

    @cached_property
    def quote_token(self) -> int:
        return self._single_token('"')

    @cached_property
    def close_bracket_token(self) -> int:
        return self._single_token(']')

    def start_matcher(self) -> llguidance.LLMatcher:
        """A matcher at the start of the grammar, for one request."""
        return self._start.deep_copy()

    def processor(self, max_new_tokens: int, fast_forward: bool = True) -> JsonProcessor:
        """A fresh per-request processor that finishes within `max_new_tokens`.

        With `fast_forward`, tokens the grammar forces (keys, punctuation) are appended without
        sampling and reach the decoder in one run with the sampled token."""
        if max_new_tokens < self.reserve_tokens + 1:
            raise ValueError(f'max_new_tokens {max_new_tokens} is too small to guarantee a '
                             f'complete decision; it needs at least {self.reserve_tokens + 1}')
        return JsonProcessor(self, max_new_tokens, fast_forward)


class JsonProcessor:
    """Masks logits to the grammar each step; implements the engine's LogitsProcessor."""

    def __init__(self, constraint: JsonConstraint, max_new_tokens: int,
                 fast_forward: bool = True) -> None:
        self.constraint = constraint
        self.matcher = constraint.start_matcher()
        self.max_new_tokens = max_new_tokens
        self.fast_forward = fast_forward
        self.generated = 0
        self.bitmask = llg_numpy.allocate_token_bitmask(1, constraint.vocab_size)
        self.stats = MaskStats([])
        self.tight_steps = 0
        self.cut_lists = 0  # arrays closed by the tight mask where the model could go on
        self.text = b''

    def allowed(self) -> np.ndarray:
        """Bool [vocab] of the tokens the grammar allows next."""
        llg_numpy.fill_next_token_bitmask(self.matcher, self.bitmask)
        bits = np.unpackbits(self.bitmask.view(np.uint8), bitorder='little')
        return bits[: self.constraint.vocab_size].astype(bool)

    def process(self, logits: np.ndarray) -> np.ndarray:
        began = time.perf_counter()
        allowed = self.allowed()
        action, naming = self._action()
        if naming:
            allowed = self._fitting_actions(allowed)
        elif self.max_new_tokens - self.generated <= self._reserve(action):
            allowed = self._tight(allowed)
        if not allowed.any():
            raise GenerationError(f'the constraint allows no token: {self.matcher.get_error()}')
        vocab = min(logits.shape[0], allowed.shape[0])
        masked = np.full(logits.shape, -np.inf, dtype=np.float32)
        keep = np.flatnonzero(allowed[:vocab])
        masked[keep] = logits[keep]
        if not np.isfinite(masked[keep]).any():
            # Allowed tokens the model gives -inf (or a vocab shorter than the tokenizer's):
            # stay inside the grammar anyway.
            masked[keep] = 0.0
        self.stats.times.append(time.perf_counter() - began)
        return masked

    def _action(self) -> tuple[str | None, bool]:
        """The action written so far (None if not yet) and whether its name is being written
        (only for schemas with per-action reserves)."""
        if not self.constraint.action_reserves:
            return None, False
        if len(self.text) < len(ACTION_PREFIX):
            return None, ACTION_PREFIX.startswith(self.text)
        if not self.text.startswith(ACTION_PREFIX):
            return None, False
        name, quote, _ = self.text[len(ACTION_PREFIX):].partition(b'"')
        return (name.decode('utf-8', 'replace'), False) if quote else (None, True)

    def _reserve(self, action: str | None) -> int:
        reserves = self.constraint.action_reserves
        if action in reserves:
            return reserves[action]
        return max(reserves.values()) if reserves else self.constraint.reserve_tokens

    def _fitting_actions(self, allowed: np.ndarray) -> np.ndarray:
        """`allowed` without the tokens that start an action whose reserve exceeds the budget
        (the reserve counts the whole object, so the bytes written so far come off it)."""
        left = self.max_new_tokens - self.generated
        fits = [ACTION_PREFIX + name.encode() + b'"'
                for name, reserve in self.constraint.action_reserves.items()
                if reserve - len(self.text) <= left - 1]
        if len(fits) == len(self.constraint.action_reserves):
            return allowed
        narrowed = allowed.copy()
        for token in np.flatnonzero(allowed):
            written = self.text + self.constraint.tokenizer.decode_bytes([int(token)])
            if not any(full.startswith(written) or written.startswith(full) for full in fits):
                narrowed[token] = False
        return narrowed

    def _tight(self, allowed: np.ndarray) -> np.ndarray:
        self.tight_steps += 1
        for closing in (self.constraint.quote_token, self.constraint.close_bracket_token):
            if allowed[closing]:
                if closing == self.constraint.close_bracket_token and allowed[self._comma]:
                    self.cut_lists += 1
                only = np.zeros_like(allowed)
                only[closing] = True
                return only
        narrowed = allowed & self.constraint.single_byte_tokens
        if self.constraint.eos_id < allowed.shape[0] and allowed[self.constraint.eos_id]:
            narrowed[self.constraint.eos_id] = True
        return narrowed if narrowed.any() else allowed

    @cached_property
    def _comma(self) -> int:
        return self.constraint._single_token(',')

    def advance(self, token: int) -> None:
        self.generated += 1
        self.text += self.constraint.tokenizer.decode_bytes([token])
        if not self.matcher.consume_token(token):
            raise GenerationError(f'token {token} broke the grammar: {self.matcher.get_error()}')

    def finished(self) -> bool:
        return self.matcher.is_stopped()

    def forced(self, limit: int) -> list[int]:
        """The grammar's forced continuation (keys, punctuation), consumed already."""
        if not self.fast_forward or limit <= 0:
            return []
        tokens = self.matcher.compute_ff_tokens()
        if tokens:
            tokens = tokens[: min(limit, self.max_new_tokens - self.generated)]
            if not self.matcher.consume_tokens(tokens):
                raise GenerationError(f'forced tokens broke the grammar: '
                                      f'{self.matcher.get_error()}')
            self.generated += len(tokens)
            self.text += self.constraint.tokenizer.decode_bytes(tokens)
        return tokens

    def accepting(self) -> bool:
        return self.matcher.is_accepting()
