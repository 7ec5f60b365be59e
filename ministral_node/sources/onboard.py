"""`OnboardDecider`: the decision source that runs Ministral 3 on the vehicle.

    decider = OnboardDecider.from_params(values)   # parameter values (parameters.py)
    decider.load()                                 # on_activate; DeciderUnavailable if no model
    proposal = decider.decide(request, cancel)     # schema-valid Proposal or DeciderError
    decider.close()                                # on_deactivate
"""

from __future__ import annotations

import gc
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from ministral_node.decision import DecisionError, ModelInfo, Proposal
from ministral_node.decoding.confidence import measured
from ministral_node.decoding.constrained import JsonConstraint, string_caps
from ministral_node.engine.engine import EngineOptions, GenerationResult, VisionLanguageEngine
from ministral_node.engine.generation import GenerationError, GenerationOptions
from ministral_node.engine.memory import trim_heap
from ministral_node.engine.model_files import ModelError
from ministral_node.parameters import SPECS
from ministral_node.resources import models_dir, share_dir
from ministral_node.sources.base import DeciderError, DeciderUnavailable, DecisionRequest
from ministral_node.sources.system_prompt import model_system_prompt, system_prompt, user_text
from ministral_node.timing import Cancellation, Cancelled

DEFAULT_MODEL_NAME = 'ministral-3-3b'


def default_model_dir() -> Path:
    return models_dir() / DEFAULT_MODEL_NAME


def engine_options(values: Mapping[str, Any]) -> EngineOptions:
    """How to load and run the model, from the `# Onboard model` parameter values."""
    return EngineOptions(
        decoder_variant=values.get('decoder_variant', 'q4'),
        vision_variant=values.get('vision_variant', 'q4'),
        embed_variant=values.get('embed_variant', 'fp16'),
        providers=tuple(values.get('execution_providers', ('cpu',))),
        intra_op_threads=int(values.get('intra_op_threads', 0)),
        inter_op_threads=int(values.get('inter_op_threads', 1)),
        max_image_edge=int(values.get('max_image_edge', 448)),
        prefix_cache=bool(values.get('prefix_cache', True)))


def resolve_model_dir(value: str | Path | None) -> Path:
    """The model directory a `model_dir` value names: '' is the default model, a relative path
    is taken in the package share directory when it exists there (config files name
    `models/<name>`), else as given."""
    if not value:
        return default_model_dir()
    path = Path(value).expanduser()
    if not path.is_absolute() and (share_dir() / path).is_dir():
        return share_dir() / path
    return path


class OnboardDecider:
    """Decides with the onboard vision-language model, constrained to the proposal schema."""

    source = 'onboard'

    def __init__(self, model_dir: str | Path | None,
                 engine_options: EngineOptions | None = None,
                 generation: GenerationOptions | None = None) -> None:
        self.model_dir = resolve_model_dir(model_dir)
        self.engine_options = engine_options or EngineOptions()
        self.generation = generation or GenerationOptions(
            max_new_tokens=int(SPECS['max_new_tokens'].default))
        self.engine: VisionLanguageEngine | None = None
        self.constraint: JsonConstraint | None = None
        self.unavailable_reason = 'the onboard model is not loaded (call load() first)'
        self.last_result: GenerationResult | None = None
        self.caps: dict[str, int] = {}  # output budget: free-text caps (applies at load)
        self._system = system_prompt()

    @classmethod
    def from_params(cls, values: Mapping[str, Any]) -> OnboardDecider:
        """Build from parameter values (see the `# Onboard model` block of parameters.py)."""
        decider = cls(values.get('model_dir') or None, engine_options(values))
        decider.caps = string_caps(values)
        decider.configure(values)
        return decider

    def configure(self, values: Mapping[str, Any]) -> None:
        """Apply live parameters (sampling, budget, prefix cache, image edge) without a reload."""
        seed = int(values.get('seed', -1))
        self.generation = GenerationOptions(
            max_new_tokens=int(values.get('max_new_tokens', self.generation.max_new_tokens)),
            temperature=float(values.get('temperature', self.generation.temperature)),
            top_p=float(values.get('top_p', self.generation.top_p)),
            seed=None if seed < 0 else seed)
        live = {'prefix_cache': bool(values.get('prefix_cache', self.engine_options.prefix_cache)),
                'max_image_edge': int(values.get('max_image_edge',
                                                 self.engine_options.max_image_edge))}
        self.engine_options = replace(self.engine_options, **live)
        if self.engine is not None:
            self.engine.options = replace(self.engine.options, **live)

    @property
    def loaded(self) -> bool:
        return self.engine is not None

    def load(self) -> None:
        """Load the sessions and compile the constraint; `DeciderUnavailable` says why not."""
        self.close()
        try:
            engine = VisionLanguageEngine.load(self.model_dir, self.engine_options)
            constraint = JsonConstraint(engine.tokenizer.to_json(),
                                        engine.tokenizer.special.eos,
                                        engine.tokenizer.vocab_size, caps=self.caps)
            constraint.processor(self.generation.max_new_tokens)
            system = model_system_prompt(self.model_dir)
        except (ModelError, ValueError, OSError) as exc:
            self.unavailable_reason = f'onboard model unavailable: {exc}'
            raise DeciderUnavailable(self.unavailable_reason) from exc
        self.engine, self.constraint, self._system = engine, constraint, system

    def close(self) -> None:
        """Free the sessions (on_deactivate)."""
        freed = self.engine is not None
        if freed:
            self.engine.close()
        self.engine = None
        self.constraint = None
        if freed:
            gc.collect()  # the sessions and the grammar, now unreferenced
            trim_heap()  # and give their pages back (RSS stays flat over lifecycle cycles)
        self.unavailable_reason = 'the onboard model is not loaded (call load() first)'

    def model_info(self) -> ModelInfo | None:
        return ModelInfo(*self.engine.identity()) if self.engine is not None else None

    def decide(self, request: DecisionRequest, cancel: Cancellation) -> Proposal:
        """A schema-valid proposal for the request, or DeciderError (Cancelled, ...) saying why."""
        engine, constraint = self.engine, self.constraint
        if engine is None or constraint is None:
            raise DeciderUnavailable(self.unavailable_reason)
        image = request.frame.image if request.frame is not None else None
        try:
            processor = constraint.processor(self.generation.max_new_tokens)
            # The feature cache keys on a digest of the pixels: header stamps are not unique
            # (cameras that do not stamp, synthetic requests) and a wrong hit is a wrong image.
            result = engine.generate(self._system, user_text(request), image, self.generation,
                                     cancel, processor)
        except Cancelled:
            raise
        except (GenerationError, ModelError, ValueError) as exc:
            raise DeciderError(f'onboard model failed: {exc}') from exc
        self.last_result = result
        if not processor.accepting():
            raise DeciderError(f'onboard model output is incomplete ({result.stop_reason} after '
                               f'{result.new_tokens} tokens): {result.text[:120]!r}')
        if processor.cut_lists:
            raise DeciderError(f'onboard model output was cut to fit max_new_tokens '
                               f'({self.generation.max_new_tokens}): a list (mission steps) lost '
                               'items; raise max_new_tokens')
        try:
            proposal = Proposal.from_json(result.text)
        except DecisionError as exc:
            raise DeciderError(f'onboard model output is not a valid proposal: {exc}') from exc
        return measured(proposal, result.token_pieces(engine.tokenizer.decode), result.text)

