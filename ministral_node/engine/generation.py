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
from typing import Protocol

import numpy as np
import onnxruntime as ort

from ministral_node.engine.sessions import DecoderLayout
from ministral_node.timing import Cancellation, Cancelled, Watcher


class GenerationError(RuntimeError):
    """Generation could not continue (e.g. the constraint allows no token)."""


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


@dataclass(frozen=True)
class KVCache:
    """Past keys and values per layer, covering `length` positions. Never mutated."""

    tensors: tuple[tuple[np.ndarray, np.ndarray], ...]
    length: int


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


class Decoder:
    """Runs `decoder_model_merged` one chunk at a time against a KV cache."""

    def __init__(self, session: ort.InferenceSession, layout: DecoderLayout) -> None:
        self.session = session
        self.layout = layout
        self._outputs = [layout.logits_name] + [n for pair in layout.present_names for n in pair]

    def empty_cache(self) -> KVCache:
        shape = (1, self.layout.kv_heads, 0, self.layout.head_dim)
        empty = np.zeros(shape, dtype=self.layout.kv_dtype)
        return KVCache(tuple((empty, empty) for _ in range(self.layout.num_layers)), 0)

    def run(self, embeds: np.ndarray, cache: KVCache, watcher: CancelWatcher | None = None,
            last_only: bool = True) -> tuple[np.ndarray, KVCache]:
        """Logits (float32 [positions, vocab]) and the extended cache for embeds [1, T, H]."""
        layout = self.layout
        steps = embeds.shape[1]
        mask = np.ones((1, cache.length + steps), dtype=np.int64)
        feeds = {layout.embeds_name: embeds.astype(layout.embeds_dtype, copy=False),
                 layout.mask_name: mask}
        if layout.positions_name:
            feeds[layout.positions_name] = (np.cumsum(mask, axis=1) - 1)[:, cache.length:]
        for (key, value), (key_name, value_name) in zip(cache.tensors, layout.past_names):
            feeds[key_name] = key
            feeds[value_name] = value
        if layout.logits_to_keep_name:
            feeds[layout.logits_to_keep_name] = np.array(1 if last_only else 0, dtype=np.int64)
        if 'use_cache_branch' in layout.extra_inputs:
            feeds['use_cache_branch'] = np.array([cache.length > 0])
        options = watcher.run_options if watcher is not None else None
        try:
            outputs = self.session.run(self._outputs, feeds, options)
        except Exception as exc:
            if watcher is not None and watcher.fired:
                watcher.check()
                raise Cancelled(watcher.cancel.reason or 'cancelled') from exc
            raise GenerationError(f'decoder run failed: {exc}') from exc
        logits = outputs[0][0]
        if last_only:
            logits = logits[-1:]
        pairs = tuple((outputs[1 + 2 * i], outputs[2 + 2 * i])
                      for i in range(layout.num_layers))
        return logits.astype(np.float32, copy=False), KVCache(pairs, cache.length + steps)


class PrefixCache:
    """KV caches of constant prompt prefixes (one per system prompt), least recently used out."""

    def __init__(self, entries: int = 4) -> None:
        self.entries = entries
        self._store: OrderedDict[tuple[int, ...], KVCache] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, ids: tuple[int, ...]) -> KVCache | None:
        cache = self._store.get(ids)
        if cache is None:
            self.misses += 1
            return None
        self._store.move_to_end(ids)
        self.hits += 1
        return cache

    def put(self, ids: tuple[int, ...], cache: KVCache) -> None:
        self._store[ids] = cache
        self._store.move_to_end(ids)
        while len(self._store) > self.entries:
            self._store.popitem(last=False)

    def clear(self) -> None:
        self._store.clear()


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
