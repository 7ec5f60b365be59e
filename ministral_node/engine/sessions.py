"""ONNX Runtime sessions for the three graphs, and what the engine reads from them.

Names, layer count, KV head layout and dtypes all come from the sessions' own inputs and
outputs; `config.json` only fills in dimensions a graph leaves symbolic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from ministral_node.engine.model_files import ModelError, ModelFiles

PROVIDER_ALIASES = {
    'tensorrt': 'TensorrtExecutionProvider', 'trt': 'TensorrtExecutionProvider',
    'cuda': 'CUDAExecutionProvider', 'cpu': 'CPUExecutionProvider',
    'dml': 'DmlExecutionProvider', 'coreml': 'CoreMLExecutionProvider',
    'openvino': 'OpenVINOExecutionProvider',
}
CPU = 'CPUExecutionProvider'
ORT_DTYPES = {'tensor(float)': np.float32, 'tensor(float16)': np.float16,
              'tensor(int64)': np.int64, 'tensor(int32)': np.int32,
              'tensor(double)': np.float64, 'tensor(bfloat16)': None}
_PAST = re.compile(r'^past_key_values\.(\d+)\.(key|value)$')
LOGITS_TO_KEEP_NAMES = ('num_logits_to_keep', 'logits_to_keep')


def resolve_providers(requested: list[str] | tuple[str, ...]) -> list[str]:
    """Requested providers (aliases allowed) that this onnxruntime has, CPU always last."""
    available = set(ort.get_available_providers())
    chosen = []
    for name in requested:
        full = PROVIDER_ALIASES.get(name.lower(), name)
        if full in available and full not in chosen:
            chosen.append(full)
    if CPU in chosen:
        chosen.remove(CPU)
    return [*chosen, CPU]


@dataclass(frozen=True)
class SessionConfig:
    """How sessions are made."""

    providers: tuple[str, ...] = ('cpu',)
    intra_op_threads: int = 0  # 0: onnxruntime decides (all physical cores)
    inter_op_threads: int = 1
    log_severity: int = 3  # errors only
    memory_arena: bool = True  # ORT's CPU arena (keeps freed activation memory for reuse)


def _dtype(type_name: str, where: str) -> type:
    dtype = ORT_DTYPES.get(type_name)
    if dtype is None:
        raise ModelError(f'{where} has element type {type_name}, which the engine cannot feed')
    return dtype


@dataclass(frozen=True)
class DecoderLayout:
    """What the decoder graph takes and gives, read from its session."""

    embeds_name: str
    embeds_dtype: type
    mask_name: str
    positions_name: str | None
    past_names: tuple[tuple[str, str], ...]  # per layer: (key input, value input)
    present_names: tuple[tuple[str, str], ...]
    kv_dtype: type
    kv_heads: int
    head_dim: int
    logits_name: str
    logits_to_keep_name: str | None
    extra_inputs: tuple[str, ...] = ()
    logits_dtype: type = np.float32
    vocab_size: int | None = None  # None: symbolic in the graph (ORT allocates the logits)

    @property
    def num_layers(self) -> int:
        return len(self.past_names)


def kv_head_layout(past_key_shape: Sequence[Any], text_config: dict) -> tuple[int, int]:
    """(key/value heads, head size) from a past-key shape [batch, kv_heads, past, head_dim];
    a dimension that is not a number (symbolic) comes from the config, 0 where neither says."""
    shape = list(past_key_shape) if len(past_key_shape) == 4 else [None] * 4
    kv_heads = shape[1] if isinstance(shape[1], int) else int(
        text_config.get('num_key_value_heads') or 0)
    head_dim = shape[3] if isinstance(shape[3], int) else int(
        text_config.get('head_dim') or text_config.get('hidden_size', 0)
        // max(1, text_config.get('num_attention_heads') or 1))
    return kv_heads, head_dim


def read_decoder_layout(session: ort.InferenceSession, text_config: dict,
                        path: Path) -> DecoderLayout:
    """The decoder's layout, or `ModelError` saying how the graph differs from the export's."""
    inputs = {i.name: i for i in session.get_inputs()}
    outputs = {o.name: o for o in session.get_outputs()}
    problems = []
    for name in ('inputs_embeds', 'attention_mask'):
        if name not in inputs:
            problems.append(f'no input {name!r}')
    if 'logits' not in outputs:
        problems.append("no output 'logits'")
    layers: dict[int, dict[str, str]] = {}
    for name in inputs:
        match = _PAST.match(name)
        if match:
            layers.setdefault(int(match.group(1)), {})[match.group(2)] = name
    if not layers:
        problems.append('no past_key_values.<i>.key/value inputs')
    elif sorted(layers) != list(range(len(layers))) or any(len(v) != 2 for v in layers.values()):
        problems.append(f'past_key_values inputs are not complete key/value pairs for layers '
                        f'0..{max(layers)}')
    present = []
    for i in sorted(layers):
        pair = (f'present.{i}.key', f'present.{i}.value')
        missing = [p for p in pair if p not in outputs]
        if missing:
            problems.append(f'no output {missing[0]!r}')
        present.append(pair)
    if problems:
        raise ModelError(f'{path.name} does not have the decoder_model_merged layout: '
                         + '; '.join(problems) + f' (inputs: {", ".join(inputs)}; outputs: '
                         + ', '.join(list(outputs)[:4]) + ', ...)')
    key = inputs[layers[0]['key']]
    kv_heads, head_dim = kv_head_layout(key.shape, text_config)
    if not kv_heads or not head_dim:
        raise ModelError(f'{path.name}: cannot tell the KV head layout from the graph or '
                         'config.json')
    keep = next((n for n in LOGITS_TO_KEEP_NAMES if n in inputs), None)
    known = {'inputs_embeds', 'attention_mask', 'position_ids', keep,
             *(n for pair in layers.values() for n in pair.values())}
    extra = tuple(n for n in inputs if n not in known)
    unsupported = [n for n in extra if n != 'use_cache_branch']
    if unsupported:
        raise ModelError(f'{path.name} has inputs the engine does not know how to feed: '
                         + ', '.join(unsupported))
    logits = outputs['logits']
    # Only a static graph dimension is trusted for the preallocated logits buffer.
    vocab = logits.shape[-1] if logits.shape and isinstance(logits.shape[-1], int) else None
    return DecoderLayout(
        embeds_name='inputs_embeds',
        embeds_dtype=_dtype(inputs['inputs_embeds'].type, f'{path.name}:inputs_embeds'),
        mask_name='attention_mask',
        positions_name='position_ids' if 'position_ids' in inputs else None,
        past_names=tuple((layers[i]['key'], layers[i]['value']) for i in sorted(layers)),
        present_names=tuple(present),
        kv_dtype=_dtype(key.type, f'{path.name}:{key.name}'),
        kv_heads=int(kv_heads), head_dim=int(head_dim), logits_name='logits',
        logits_to_keep_name=keep, extra_inputs=extra,
        logits_dtype=_dtype(logits.type, f'{path.name}:logits'),
        vocab_size=int(vocab) if vocab else None)


@dataclass(frozen=True)
class VisionLayout:
    pixels_name: str
    pixels_dtype: type
    sizes_name: str | None  # `image_sizes`, if this export takes it
    features_name: str


def read_vision_layout(session: ort.InferenceSession, path: Path) -> VisionLayout:
    inputs = {i.name: i for i in session.get_inputs()}
    outputs = [o.name for o in session.get_outputs()]
    if 'pixel_values' not in inputs:
        raise ModelError(f"{path.name} does not have the vision_encoder layout: no input "
                         f"'pixel_values' (inputs: {', '.join(inputs)})")
    if 'image_features' not in outputs:
        raise ModelError(f"{path.name} does not have the vision_encoder layout: no output "
                         f"'image_features' (outputs: {', '.join(outputs)})")
    extra = [n for n in inputs if n not in ('pixel_values', 'image_sizes')]
    if extra:
        raise ModelError(f'{path.name} has inputs the engine does not feed: {", ".join(extra)}')
    return VisionLayout('pixel_values', _dtype(inputs['pixel_values'].type, path.name),
                        'image_sizes' if 'image_sizes' in inputs else None, 'image_features')


@dataclass(frozen=True)
class EmbedLayout:
    ids_name: str
    embeds_name: str
    embeds_dtype: type


def read_embed_layout(session: ort.InferenceSession, path: Path) -> EmbedLayout:
    inputs = [i.name for i in session.get_inputs()]
    outputs = {o.name: o for o in session.get_outputs()}
    if inputs != ['input_ids'] or 'inputs_embeds' not in outputs:
        raise ModelError(f'{path.name} does not have the embed_tokens layout (input_ids -> '
                         f'inputs_embeds); it has inputs {inputs} and outputs {list(outputs)}')
    return EmbedLayout('input_ids', 'inputs_embeds',
                       _dtype(outputs['inputs_embeds'].type, path.name))


def create_session(path: Path, config: SessionConfig) -> ort.InferenceSession:
    """An InferenceSession, or `ModelError` if the file is not a loadable ONNX model."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = config.intra_op_threads
    options.inter_op_num_threads = config.inter_op_threads
    options.log_severity_level = config.log_severity
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.enable_cpu_mem_arena = config.memory_arena
    try:
        return ort.InferenceSession(str(path), sess_options=options,
                                    providers=resolve_providers(config.providers))
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if 'protobuf' in message.lower() or 'parse' in message.lower():
            raise ModelError(f'{path.name} is not an ONNX model (cannot parse it): '
                             f'{message}') from exc
        raise ModelError(f'cannot load {path.name}: {message}') from exc


class Sessions:
    """The three sessions of one model and their layouts."""

    def __init__(self, files: ModelFiles, config: SessionConfig) -> None:
        self.config = config
        self.decoder = create_session(files.decoder, config)
        self.decoder_layout = read_decoder_layout(self.decoder, files.text_config, files.decoder)
        self.embed = create_session(files.embed, config)
        self.embed_layout = read_embed_layout(self.embed, files.embed)
        self.vision = create_session(files.vision, config)
        self.vision_layout = read_vision_layout(self.vision, files.vision)

    @property
    def provider(self) -> str:
        """The execution provider the decoder runs on first (e.g. CPUExecutionProvider)."""
        return self.decoder.get_providers()[0]
