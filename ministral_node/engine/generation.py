"""The decode loop: prefill, KV-cache stepping, token selection, stopping, cancellation.

The cache starts as zero-length past tensors; positions are cumsum(mask) - 1; after the
prefill only the new token is embedded. Cancellation is checked between tokens, and during a
long prefill a watcher thread sets ONNX Runtime's `RunOptions.terminate` so the running
graph stops between nodes.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

import numpy as np
import onnxruntime as ort

from ministral_node.engine.decoder import Decoder, GenerationError, KVCache
from ministral_node.timing import Cancellation, Watcher

K = TypeVar('K')
V = TypeVar('V')

__all__ = ['CancelWatcher', 'Decoder', 'GenerationError', 'GenerationOptions', 'KVCache',
           'LogitsProcessor', 'LruCache', 'PrefixCache', 'decode', 'prefill', 'select_token']


@dataclass(frozen=True)
class GenerationOptions:
    """Per-request decoding settings. temperature 0 is greedy."""

    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None
    # Prefill in runs of at most this many positions (0: one run): bounds the time between
    # cancellation checks and the size of logits/attention intermediates.
    prefill_chunk: int = 256


class LogitsProcessor(Protocol):
    """A per-request hook on the logits (e.g. a grammar constraint)."""

    def process(self, logits: np.ndarray) -> np.ndarray:
        """The logits (float32 [vocab]) with disallowed tokens set to -inf."""
        ...

    def advance(self, token: int) -> None:
        """Record the token that was chosen."""
        ...

    def finished(self) -> bool:
        """True when the output is complete and generation should stop."""
        ...

    def forced(self, limit: int) -> list[int]:
        """Up to `limit` tokens that must come next whatever the model says, advanced past.

        The loop appends them without sampling and feeds them to the decoder in one run
        together with the sampled token. Return [] when nothing is forced."""
        ...


class CancelWatcher(Watcher):
    """Sets `run_options.terminate` from a thread as soon as the cancellation fires."""

    name = 'cancel-watcher'

    def __init__(self, cancel: Cancellation | None, poll_s: float = 0.005) -> None:
        self.cancel = cancel
        self.run_options = ort.RunOptions()
        self.fired = False
        self._poll_s = poll_s

    def watch(self, stop: threading.Event) -> None:
        while self.cancel is not None and not stop.wait(self._poll_s):
            if self.cancel.cancelled:
                self.fired = True
                self.run_options.terminate = True
                return

    def check(self) -> None:
        """Raise `Cancelled` if the cancellation fired."""
        if self.cancel is not None:
            self.cancel.check()


class LruCache(Generic[K, V]):
    """A small least-recently-used store that counts hits and misses (prefix KV caches keyed
    by token ids, image features keyed by frame); 0 entries stores nothing."""

    def __init__(self, entries: int = 4) -> None:
        self.entries = entries
        self._store: OrderedDict[K, V] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: K) -> V | None:
        value = self._store.get(key)
        if value is None:
            self.misses += 1
            return None
        self._store.move_to_end(key)
        self.hits += 1
        return value

    def put(self, key: K, value: V) -> None:
        if self.entries <= 0:
            return
        self._store[key] = value
        self._store.move_to_end(key)
        while len(self._store) > self.entries:
            self._store.popitem(last=False)

    def clear(self) -> None:
        self._store.clear()

    def __len__(self) -> int:
        return len(self._store)


PrefixCache = LruCache  # KV caches of constant prompt prefixes, keyed by their token ids


def select_token(logits: np.ndarray, options: GenerationOptions,
                 rng: np.random.Generator) -> int:
    """Greedy when temperature is 0, else temperature + top-p (nucleus) sampling."""
    if options.temperature <= 0:
        return int(np.argmax(logits))
    candidates = np.flatnonzero(np.isfinite(logits))
    if candidates.size == 0:
        raise GenerationError('no token is allowed')
    scaled = logits[candidates].astype(np.float64) / options.temperature
    probs = np.exp(scaled - scaled.max())
    probs /= probs.sum()
    if options.top_p < 1.0:
        order = np.argsort(-probs, kind='stable')
        cumulative = np.cumsum(probs[order])
        keep = order[: int(np.searchsorted(cumulative, options.top_p)) + 1]
        candidates, probs = candidates[keep], probs[keep] / probs[keep].sum()
    return int(candidates[rng.choice(candidates.size, p=probs)])


@dataclass
class DecodeOutcome:
    """Tokens produced and how long each phase took."""

    tokens: list[int]
    stop_reason: str  # eos | stop | max_new_tokens
    prefill_s: float
    first_token_s: float
    decode_s: float
    prompt_positions: int
    reused_positions: int
    step_times: list[float] = field(default_factory=list)
    # Natural log-probability of each token in `tokens` under the distribution it was chosen
    # from, after the constraint mask (temperature 1); a forced token has 0.0 (certain).
    token_logprobs: list[float] = field(default_factory=list)


def chosen_logprob(row: np.ndarray, token: int) -> float:
    """log p(token) under softmax(row): the masked logits (-inf where disallowed)."""
    top = float(row.max())
    if not np.isfinite(top):
        return 0.0
    return float(row[token]) - top - float(np.log(np.exp(row - top).sum()))


def prefill(decoder: Decoder, embeds: np.ndarray, start: KVCache, watcher: CancelWatcher,
            chunk: int = 0) -> tuple[np.ndarray, KVCache]:
    """Run embeds [1, T, H] after `start`, in chunks of `chunk` positions (0: at once)."""
    step = chunk if chunk > 0 else embeds.shape[1]
    cache = start
    logits = None
    for offset in range(0, embeds.shape[1], step):
        watcher.check()
        logits, cache = decoder.run(embeds[:, offset:offset + step], cache, watcher)
    if logits is None:
        raise GenerationError('nothing to prefill')
    return logits, cache


def decode(decoder: Decoder, embed: Callable[[np.ndarray], np.ndarray], embeds: np.ndarray,
           start: KVCache, eos_ids: tuple[int, ...], options: GenerationOptions,
           watcher: CancelWatcher, processor: LogitsProcessor | None = None) -> DecodeOutcome:
    """Prefill `embeds` [1, T, H] after `start` (empty or a cached prefix), then decode."""
    rng = np.random.default_rng(options.seed)
    began = time.perf_counter()
    logits, cache = prefill(decoder, embeds, start, watcher, options.prefill_chunk)
    prefill_s = time.perf_counter() - began
    tokens: list[int] = []
    logprobs: list[float] = []
    step_times: list[float] = []
    first_token_s = 0.0
    reason = 'max_new_tokens'
    decode_began = time.perf_counter()
    while len(tokens) < options.max_new_tokens:
        row = logits[-1]
        if processor is not None:
            row = processor.process(row)
        token = select_token(row, options, rng)
        if not tokens:
            first_token_s = time.perf_counter() - began
        if token in eos_ids:
            reason = 'eos'
            break
        tokens.append(token)
        logprobs.append(chosen_logprob(row, token))
        feed = [token]
        if processor is not None:
            processor.advance(token)
            forced = processor.forced(options.max_new_tokens - len(tokens))
            tokens += forced
            logprobs += [0.0] * len(forced)
            feed += forced
            if processor.finished():
                reason = 'stop'
                break
        if len(tokens) >= options.max_new_tokens:
            break
        watcher.check()
        step = time.perf_counter()
        logits, cache = decoder.run(embed(np.array([feed], dtype=np.int64)), cache, watcher)
        step_times.append(time.perf_counter() - step)
    # A cancellation that fired during the last run still counts: the result is too late.
    watcher.check()
    return DecodeOutcome(tokens, reason, prefill_s, first_token_s,
                         time.perf_counter() - decode_began, start.length + embeds.shape[1],
                         start.length, step_times, logprobs)
