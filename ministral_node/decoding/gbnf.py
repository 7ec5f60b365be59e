"""A GBNF grammar (llama.cpp's grammar format) for the decision schema, every bound enforced.

llama.cpp turns a JSON schema into a grammar that ignores `minimum`/`maximum` and allows free
whitespace, so a weak model writes `"confidence": 6401` or pads until `max_tokens` runs out.
The grammar made here leaves no such room:

* numbers: exactly the decimals in [minimum, maximum] with at most the digits `multipleOf`
  allows (0.01: two), no exponent, no leading zeros; integers likewise;
* strings: no escapes and no control characters, bounded in UTF-8 *bytes*;
* compact JSON: no whitespace, keys in schema order, every key present.

Each token the server samples adds at least one byte, so a grammar whose longest sentence has
at most `max_bytes` bytes ends within `max_bytes` tokens. `decision_grammar(max_tokens)` shrinks
the string caps (in proportion, never below `minLength`) until the longest sentence fits.

    grammar = decision_grammar(384)     # send as the `grammar` field to llama.cpp servers
    grammar.text, grammar.max_bytes, grammar.string_caps
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

from ministral_node.decoding.constrained import generation_schema

# JSON string characters by UTF-8 width, without '"', '\\' and control characters. The wider
# classes hold the characters themselves (GBNF reads UTF-8), not escapes: llguidance's GBNF
# reader, which the tests and ministral-serve use, mangles `\\u0080`.
_CHAR_CLASSES = (
    (1, '[ !#-\\[\\]-~]'),
    (2, '[\u0080-\u07ff]'),
    (3, '[\u0800-\ud7ff\ue000-\uffff]'),
    (4, '[\U00010000-\U0010ffff]'),
)
_MAX_DECIMALS = 6


@dataclass(frozen=True)
class Grammar:
    """A GBNF grammar, the most bytes one of its sentences takes, and the string caps used."""

    text: str
    max_bytes: int
    string_caps: dict[str, int] = field(default_factory=dict)


def _literal(text: str) -> str:
    """A GBNF string literal for `text` (ASCII JSON text)."""
    return json.dumps(text)


def _digits(text: str) -> str:
    """Literal digits one character at a time: a multi-digit literal beside a digit class
    (`"100" | [1-9] [0-9]`) trips lexer-based GBNF readers (llguidance) on the shared prefix."""
    return ' '.join(_literal(c) for c in text)


def _decimals(step: float | None) -> int:
    """Digits after the point that multiples of `step` need (None: an integer)."""
    if step is None:
        return 0
    for digits in range(_MAX_DECIMALS + 1):
        scaled = step * 10 ** digits
        if abs(scaled - round(scaled)) < 1e-9:
            return digits
    raise ValueError(f'multipleOf {step} needs more than {_MAX_DECIMALS} decimals')


def _same_length(low: str, high: str) -> list[str]:
    """GBNF sequences matching the decimal strings from `low` to `high` (same length)."""
    if low == high:
        return [_digits(low)]
    rest = len(low) - 1
    tail = f' [0-9]{{{rest}}}' if rest > 1 else ' [0-9]' if rest == 1 else ''
    if low[1:] == '0' * rest and high[1:] == '9' * rest:
        head = low[0] if low[0] == high[0] else f'[{low[0]}-{high[0]}]'
        return [(_digits(head) if low[0] == high[0] else head) + tail]
    if low[0] == high[0]:
        return [f'{_digits(low[0])} ({" | ".join(_same_length(low[1:], high[1:]))})']
    first, last = int(low[0]), int(high[0])
    out = _same_length(low, low[0] + '9' * rest)
    if last - first > 1:
        middle = str(first + 1) if last - first == 2 else f'[{first + 1}-{last - 1}]'
        out.append((_digits(middle) if last - first == 2 else middle) + tail)
    return out + _same_length(high[0] + '0' * rest, high)


def integer_range(low: int, high: int) -> str:
    """A GBNF expression for the non-negative integers from `low` to `high`, no leading zeros."""
    if not 0 <= low <= high:
        raise ValueError(f'bad integer range {low}..{high}')
    options = []
    for digits in range(len(str(low)), len(str(high)) + 1):
        start = max(low, 10 ** (digits - 1) if digits > 1 else 0)
        end = min(high, 10 ** digits - 1)
        options += _same_length(str(start), str(end))
    return options[0] if len(options) == 1 else f'({" | ".join(options)})'


def _magnitude(low: int, high: int, decimals: int) -> tuple[str, int]:
    """Numbers from `low` to `high` (integers >= 0) written with up to `decimals` decimals."""
    fraction = f' ("." [0-9]{{1,{decimals}}})?' if decimals else ''
    zeros = f' ("." "0"{{1,{decimals}}})?' if decimals else ''
    size = len(str(high)) + (1 + decimals if decimals else 0)
    if low == high:
        return f'{_digits(str(high))}{zeros}', size
    below = integer_range(low, high - 1) + fraction
    return f'({below} | {_digits(str(high))}{zeros})', size


def number_rule(schema: dict) -> tuple[str, int]:
    """The GBNF expression for a bounded number or integer schema, and its longest size."""
    low, high = schema.get('minimum'), schema.get('maximum')
    if low is None or high is None or low > high:
        raise ValueError(f'a number needs both bounds, got {low}..{high}')
    if low != math.floor(low) or high != math.ceil(high):
        raise ValueError(f'number bounds must be whole numbers, got {low}..{high}')
    low, high = int(low), int(high)
    decimals = 0 if schema.get('type') == 'integer' else _decimals(schema.get('multipleOf'))
    if schema.get('type') != 'integer' and 'multipleOf' not in schema:
        raise ValueError('a number needs multipleOf to bound its digits')
    options, size = [], 0
    if high >= 0:
        text, width = _magnitude(max(low, 0), high, decimals)
        options.append(text)
        size = width
    if low < 0:
        text, width = _magnitude(max(0, -high), -low, decimals)
        options.append(f'"-" {text}')
        size = max(size, width + 1)
    return (options[0] if len(options) == 1 else f'({" | ".join(options)})'), size


class _Builder:
    """Walks a bounded schema into GBNF rules, scaling string caps by `scale`."""

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self.rules: dict[str, str] = {}
        self.caps: dict[str, int] = {}
        self.longest_string = 0

    def _rule(self, name: str, body: str) -> str:
        self.rules.setdefault(name, body)
        return name

    def string(self, schema: dict, name: str) -> tuple[str, int]:
        if 'maxLength' not in schema:
            raise ValueError(f'string {name!r} has no maxLength')
        least = int(schema.get('minLength', 0))
        cap = max(least, int(schema['maxLength'] * self.scale))
        self.caps[name] = min(self.caps.get(name, cap), cap)
        self.longest_string = max(self.longest_string, cap)
        if cap == 0:
            return '"\\"\\""', 2
        body = f'nz{cap}' if least > 0 else f'nz{cap}?'
        return f'"\\"" {body} "\\""', cap + 2

    def string_rules(self) -> None:
        """`nzK`: a non-empty string of at most K bytes (`nzK?`: possibly empty)."""
        if self.longest_string:
            for width, chars in _CHAR_CLASSES:  # named once: the request stays small
                self.rules[f'c{width}'] = chars
        for budget in range(1, self.longest_string + 1):
            options = []
            for width, _ in _CHAR_CLASSES:
                if width < budget:
                    options.append(f'c{width} nz{budget - width}?')
                elif width == budget:
                    options.append(f'c{width}')
            self.rules[f'nz{budget}'] = ' | '.join(options)

    def value(self, schema: Any, name: str = '') -> tuple[str, int]:
        """(GBNF expression, longest size in bytes) of `schema`."""
        if not isinstance(schema, dict):
            raise ValueError(f'cannot make a grammar for {schema!r}')
        if 'const' in schema:
            text = json.dumps(schema['const'], ensure_ascii=False, separators=(',', ':'))
            return _literal(text), len(text.encode())
        if 'enum' in schema:
            return self._choice([(_literal(json.dumps(v, separators=(',', ':'))),
                                  len(json.dumps(v).encode())) for v in schema['enum']])
        for key in ('anyOf', 'oneOf'):
            if key in schema:
                return self._choice([self.value(s, name) for s in schema[key]])
        types = schema.get('type')
        if isinstance(types, list):
            return self._choice([self.value({**schema, 'type': t}, name) for t in types])
        if types == 'null':
            return '"null"', 4
        if types == 'boolean':
            return '("true" | "false")', 5
        if types in ('number', 'integer'):
            text, size = number_rule(schema)
            return self._rule(f'num-{_rule_key(text)}', text), size
        if types == 'string':
            return self.string(schema, name)
        if types == 'array':
            return self._array(schema, name)
        if types == 'object':
            return self._object(schema)
        raise ValueError(f'cannot make a grammar for type {types!r}')

    @staticmethod
    def _choice(options: list[tuple[str, int]]) -> tuple[str, int]:
        texts = list(dict.fromkeys(text for text, _ in options))
        text = texts[0] if len(texts) == 1 else f'({" | ".join(texts)})'
        return text, max(size for _, size in options)

    def _array(self, schema: dict, name: str) -> tuple[str, int]:
        least, most = int(schema.get('minItems', 0)), schema.get('maxItems')
        if most is None:
            raise ValueError(f'array {name!r} has no maxItems')
        item, size = self.value(schema.get('items', {}), name)
        most = int(most)
        if most == 0:
            return '"[]"', 2
        more = f' ("," {item}){{{max(0, least - 1)},{most - 1}}}' if most > 1 else ''
        items = f'{item}{more}'
        text = f'"[" {items} "]"' if least > 0 else f'"[" ({items})? "]"'
        return text, 2 + most * size + (most - 1)

    def _object(self, schema: dict) -> tuple[str, int]:
        props = schema.get('properties', {})
        if schema.get('additionalProperties', True) is not False:
            raise ValueError('an object must not allow extra keys')
        if set(schema.get('required', [])) != set(props):
            raise ValueError('every key of an object must be required')
        parts, size = [], 2 + max(0, len(props) - 1)
        for index, (key, sub) in enumerate(props.items()):
            prefix = ('{' if index == 0 else ',') + json.dumps(key) + ':'
            text, width = self.value(sub, key)
            parts.append(f'{_literal(prefix)} {text}')
            size += len(json.dumps(key)) + 1 + width
        if not parts:
            return '"{}"', 2
        return ' '.join(parts) + ' "}"', size


def _rule_key(text: str) -> str:
    """A short stable rule-name suffix for an expression."""
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def _build(schema: dict, scale: float) -> tuple[_Builder, list[tuple[str, int]]]:
    builder = _Builder(scale)
    branches = schema.get('anyOf', [schema])
    return builder, [builder.value(branch) for branch in branches]


def schema_grammar(schema: dict | None = None, max_bytes: int = 384) -> Grammar:
    """The grammar of `schema` (default: the decision's generation schema) whose longest
    sentence is at most `max_bytes` bytes; ValueError if even the shortest strings exceed it."""
    schema = generation_schema(schema)
    low, high = 0.0, 1.0
    builder, branches = _build(schema, high)
    if max(size for _, size in branches) > max_bytes:
        builder, branches = _build(schema, low)
        if 'anyOf' in schema and min(size for _, size in branches) <= max_bytes:
            # Branches that cannot fit even with the shortest strings (a long mission in a
            # small budget) are left out, as the onboard constraint masks such actions.
            schema = {**schema, 'anyOf': [branch for branch, (_, size)
                                          in zip(schema['anyOf'], branches)
                                          if size <= max_bytes]}
            builder, branches = _build(schema, low)
        if max(size for _, size in branches) > max_bytes:
            raise ValueError(f'the schema needs more than {max_bytes} bytes even with the '
                             'shortest strings; raise max_tokens')
        for _ in range(20):  # bisect the largest scale that fits
            middle = (low + high) / 2
            if max(size for _, size in _build(schema, middle)[1]) <= max_bytes:
                low = middle
            else:
                high = middle
        builder, branches = _build(schema, low)
    builder.string_rules()
    root = ' | '.join(dict.fromkeys(f'({text})' for text, _ in branches))
    lines = [f'root ::= {root}'] + [f'{name} ::= {body}' for name, body in builder.rules.items()]
    return Grammar('\n'.join(lines) + '\n', max(size for _, size in branches),
                   dict(sorted(builder.caps.items())))


def decision_grammar(max_tokens: int) -> Grammar:
    """The decision grammar that always completes within `max_tokens` sampled tokens (one
    token is kept for the end-of-sequence token)."""
    return schema_grammar(None, max_tokens - 1)
