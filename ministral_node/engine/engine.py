"""`VisionLanguageEngine`: load a model directory once, then answer (system, text, image)."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ministral_node.engine import memory, model_files
from ministral_node.engine.chat_template import Prompt, build_prompt
from ministral_node.engine.decoder import Decoder, HostDecoder, InPlaceDecoder
from ministral_node.engine.generation import (
    CancelWatcher,
    GenerationError,
    GenerationOptions,
    KVCache,
    LogitsProcessor,
    LruCache,
    decode,
    prefill,
)
from ministral_node.engine.model_files import FUSED_ATTENTION, ModelError, ModelFiles
from ministral_node.engine.preprocess import ImageConfig, PreparedImage, preprocess
from ministral_node.engine.sessions import SessionConfig, Sessions
from ministral_node.engine.tokenizer import MistralTokenizer
from ministral_node.timing import Cancellation


class EngineIdentity(NamedTuple):
    """Which model runs, in which variant, on which execution provider."""

    name: str
    variant: str
    provider: str


@dataclass(frozen=True)
class EngineOptions:
    """How a model is loaded and run (the onboard-model parameters map onto these)."""

    decoder_variant: str = 'q4'
    vision_variant: str = 'q4'
    embed_variant: str = 'fp16'
    providers: tuple[str, ...] = ('cpu',)
    intra_op_threads: int = 0
    inter_op_threads: int = 1
    max_image_edge: int = 448
    prefix_cache: bool = True
    prefix_cache_entries: int = 4
    # Image features of the last frames, keyed by frame (stamp or content) and size: a second
    # command on the same frame skips the vision encoder. 0 turns it off.
    vision_cache_entries: int = 2
    # Speed and memory (each measured in docs/engine.md); False is the old way.
    kv_binding: bool = True  # KV cache stays on the session's device (IOBinding)
    # With a fused-attention decoder: past and present share one buffer (no per-step copy).
    kv_in_place: bool = True
    optimized_decoder: bool = True  # use a valid `ministral-optimize` decoder variant
    release_load_memory: bool = True  # drop mapped weight pages prepacking left resident
    # ONNX Runtime's CPU memory arena: off, it gives activation memory back after each run
    # (peak RSS 3741 -> 3503 MiB on the synthetic 3B; decode and prefill no slower).
    memory_arena: bool = False


@dataclass
class GenerationResult:
    """What one generate call produced, and where the time went (seconds)."""

    text: str
    token_ids: list[int]
    prompt_tokens: int
    image_tokens: int
    stop_reason: str
    prefix_reused: int  # prompt positions taken from the prefix cache
    timings: dict[str, float] = field(default_factory=dict)
    decode_steps: int = 0  # decoder runs after the prefill (forced tokens share a run)
    token_logprobs: list[float] = field(default_factory=list)  # per token, after the mask

    def token_pieces(self, decode: Callable[[list[int]], str]) -> list[tuple[str, float]]:
        """Each token's share of `text` with its log-probability; `decode` is the tokenizer's.

        Text is cut at the lengths of decoded prefixes, so a character split over several
        byte tokens lands in the token that completes it."""
        pieces, done = [], 0
        for i, logprob in enumerate(self.token_logprobs):
            end = len(decode(self.token_ids[:i + 1]).rstrip('\ufffd'))
            pieces.append((self.text[done:end], logprob))
            done = max(done, end)
        return pieces
    vision_reused: bool = False  # the image features came from the per-frame cache

    @property
    def new_tokens(self) -> int:
        return len(self.token_ids)


def decoder_class(files: ModelFiles, options: EngineOptions) -> type[Decoder]:
    """How the decoder runs: host arrays, bound ping-pong buffers, or one buffer in place
    (a decoder `ministral-optimize` fused the attention of)."""
    if not options.kv_binding:
        return HostDecoder
    if options.kv_in_place and FUSED_ATTENTION in files.decoder_edits:
        return InPlaceDecoder
    return Decoder


class VisionLanguageEngine:
    """Ministral 3 on ONNX Runtime: vision encoder, embeddings and decoder with a KV cache."""

    def __init__(self, files: ModelFiles, sessions: Sessions, tokenizer: MistralTokenizer,
                 options: EngineOptions) -> None:
        self.files = files
        self.sessions = sessions
        self.tokenizer = tokenizer
        self.options = options
        self.image_config = ImageConfig.from_json(files.preprocessor, files.config)
        # Pooled KV slots: one per kept prefix, two for the decode loop's ping-pong.
        self.decoder = decoder_class(files, options)(
            sessions.decoder, sessions.decoder_layout,
            max_kv_slots=options.prefix_cache_entries + 2)
        self.prefix_cache: LruCache[tuple[int, ...], KVCache] = LruCache(
            options.prefix_cache_entries)
        self.vision_cache: LruCache[tuple, tuple[np.ndarray, tuple[int, int]]] = LruCache(
            options.vision_cache_entries)
        self.released_mib = 0.0  # file-backed memory `release_load_memory` gave back at the end
        self._check_image_token()
        # One request at a time: sessions are thread-safe, the prefix cache is not.
        self._lock = threading.Lock()

    @classmethod
    def load(cls, model_dir: str | Path, options: EngineOptions | None = None
             ) -> VisionLanguageEngine:
        """Check the directory, make the sessions; `ModelError` says what is wrong."""
        options = options or EngineOptions()
        files = model_files.locate(model_dir, options.decoder_variant, options.vision_variant,
                                   options.embed_variant, options.optimized_decoder)
        tokenizer = MistralTokenizer(files.tokenizer)
        config = SessionConfig(options.providers, options.intra_op_threads,
                               options.inter_op_threads, memory_arena=options.memory_arena)
        if not options.release_load_memory:
            return cls(files, sessions=Sessions(files, config), tokenizer=tokenizer,
                       options=options)
        with memory.PageOut(files.root) as pager:
            sessions = Sessions(files, config)
        memory.trim_heap()
        engine = cls(files, sessions, tokenizer, options)
        engine.released_mib = pager.released_mib
        return engine

    def _check_image_token(self) -> None:
        index = self.files.config.get('image_token_index', self.files.config.get(
            'image_token_id'))
        if index is not None and int(index) != self.tokenizer.special.img:
            raise ModelError(f'config.json image_token_index {index} is not the tokenizer\'s '
                             f'[IMG] id {self.tokenizer.special.img}')

    def identity(self) -> EngineIdentity:
        """Name, variant and execution provider (what decisions record as the model)."""
        return EngineIdentity(self.files.name, self.files.decoder_variant, self.sessions.provider)

    def close(self) -> None:
        """Drop the sessions and caches (memory is freed when nothing else holds them)."""
        self.prefix_cache.clear()
        self.vision_cache.clear()
        self.sessions = None
        self.decoder = None

    # Pieces ----------------------------------------------------------------------------------

    def embed(self, ids: np.ndarray) -> np.ndarray:
        """inputs_embeds [1, T, H] for ids [1, T], in the decoder's dtype."""
        layout = self.sessions.embed_layout
        out = self.sessions.embed.run([layout.embeds_name], {layout.ids_name: ids})[0]
        return out.astype(self.sessions.decoder_layout.embeds_dtype, copy=False)

    def prepare_image(self, image: np.ndarray) -> PreparedImage:
        return preprocess(image, self.image_config, self.options.max_image_edge)

    def encode_image(self, prepared: PreparedImage, watcher: CancelWatcher | None = None
                     ) -> np.ndarray:
        """image_features [rows * cols, H] in the decoder's dtype."""
        layout = self.sessions.vision_layout
        feeds = {layout.pixels_name: prepared.pixel_values.astype(layout.pixels_dtype)}
        if layout.sizes_name:
            _, _, height, width = prepared.pixel_values.shape
            feeds[layout.sizes_name] = np.array([[height, width]], dtype=np.int64)
        try:
            out = self.sessions.vision.run([layout.features_name], feeds,
                                           watcher.run_options if watcher else None)[0]
        except Exception as exc:
            if watcher is not None and watcher.fired:
                watcher.check()
            raise GenerationError(f'vision encoder failed: {exc}') from exc
        features = out.reshape(-1, out.shape[-1])
        if features.shape[0] != prepared.num_tokens:
            raise ModelError(f'vision encoder gave {features.shape[0]} features for a '
                             f'{prepared.rows}x{prepared.cols} image-token grid')
        return features.astype(self.sessions.decoder_layout.embeds_dtype, copy=False)

    def image_features(self, image: np.ndarray, image_key: object = None,
                       watcher: CancelWatcher | None = None
                       ) -> tuple[np.ndarray, tuple[int, int], bool]:
        """(features, (rows, cols), reused) for an RGB frame at the current `max_image_edge`.

        Features are cached per frame: by `image_key` (e.g. the frame's stamp) when given, else
        by a digest of the pixels, together with the frame's size and the edge."""
        if image_key is None:
            image_key = hashlib.blake2b(np.ascontiguousarray(image).data, digest_size=16).digest()
        key = (image_key, image.shape, self.options.max_image_edge)
        cached = self.vision_cache.get(key)
        if cached is not None:
            features, grid = cached
            return features, grid, True
        prepared = self.prepare_image(image)
        features = self.encode_image(prepared, watcher)
        grid = (prepared.rows, prepared.cols)
        self.vision_cache.put(key, (features, grid))
        return features, grid, False

    def prompt_embeddings(self, prompt: Prompt, features: np.ndarray | None) -> np.ndarray:
        embeds = self.embed(prompt.ids[None]).copy()
        if features is not None:
            embeds[0, prompt.image_positions] = features
        return embeds

    def _prefix(self, prompt: Prompt, embeds: np.ndarray, watcher: CancelWatcher,
                chunk: int) -> KVCache:
        key = tuple(int(t) for t in prompt.ids[: prompt.prefix_len])
        cached = self.prefix_cache.get(key)
        if cached is None:
            _, cached = prefill(self.decoder, embeds[:, : prompt.prefix_len],
                                self.decoder.empty_cache(), watcher, chunk)
            self.prefix_cache.put(key, cached)
        return cached

    # The call ----------------------------------------------------------------------------------

    def generate(self, system: str, text: str, image: np.ndarray | None = None,
                 options: GenerationOptions | None = None,
                 cancel: Cancellation | None = None,
                 processor: LogitsProcessor | None = None,
                 image_key: object = None) -> GenerationResult:
        """Generate a reply to `text` (and `image`, RGB uint8 HxWx3) under `system`.

        `image_key` identifies the frame for the image-feature cache (e.g. its header stamp);
        without it the pixels are hashed."""
        options = options or GenerationOptions()
        if self.sessions is None:
            raise ModelError('the engine is closed')
        began = time.perf_counter()
        with self._lock, CancelWatcher(cancel) as watcher:
            watcher.check()
            features = None
            grid = None
            vision_s = 0.0
            vision_reused = False
            if image is not None:
                vision_began = time.perf_counter()
                features, grid, vision_reused = self.image_features(image, image_key, watcher)
                vision_s = time.perf_counter() - vision_began
            prompt = build_prompt(self.tokenizer, system, text, grid)
            embeds = self.prompt_embeddings(prompt, features)
            start = self.decoder.empty_cache()
            prefix_s = 0.0
            if self.options.prefix_cache:
                prefix_began = time.perf_counter()
                start = self._prefix(prompt, embeds, watcher, options.prefill_chunk)
                prefix_s = time.perf_counter() - prefix_began
                embeds = embeds[:, start.length:]
            outcome = decode(self.decoder, self.embed, embeds, start, self.files.eos_ids,
                             options, watcher, processor)
        total_s = time.perf_counter() - began
        return GenerationResult(
            text=self.tokenizer.decode(outcome.tokens), token_ids=outcome.tokens,
            prompt_tokens=len(prompt), image_tokens=int(prompt.image_positions.size),
            stop_reason=outcome.stop_reason, prefix_reused=outcome.reused_positions,
            vision_reused=vision_reused,
            timings={'vision_s': vision_s, 'prefix_s': prefix_s,
                     'prefill_s': outcome.prefill_s,
                     'first_token_s': vision_s + prefix_s + outcome.first_token_s,
                     'decode_s': outcome.decode_s,
                     'decode_tokens_per_s': (len(outcome.step_times) / sum(outcome.step_times)
                                             if outcome.step_times else 0.0),
                     'total_s': total_s},
            decode_steps=len(outcome.step_times), token_logprobs=outcome.token_logprobs)
