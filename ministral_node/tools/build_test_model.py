"""Write a small (or real-size synthetic) Ministral 3 model in the published ONNX layout.

    python -m ministral_node.tools.build_test_model OUT [--deterministic] [--seed N]
        [--with-logits-to-keep] [--float-copy] [--preset tiny|3b]

The three graphs (`vision_encoder`, `embed_tokens`, `decoder_model_merged`) are written with
numpy and `onnx.helper` only, with the export's input and output names: RMSNorm, RoPE,
grouped-query attention, SwiGLU and a KV cache in the decoder; a patch-14 encoder with a 2x2
patch merger and a projector in the vision tower. The tiny preset is quantized to 4-bit
`MatMulNBits` with ONNX Runtime's quantizer; the 3b preset writes random packed 4-bit weights
directly (minutes instead of hours). A byte-level BPE `tokenizer.json` with the Mistral
control tokens at their real ids and the json configs in the real files' formats come along.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto

from ministral_node.tools import tokenizer_builder
from ministral_node.tools.onnx_graph import (
    Graph,
    Linear,
    fixed_linear,
    float_linear,
    packed_q4_linear,
)

IMAGE_MEAN = (0.48145466, 0.4578275, 0.40821073)
IMAGE_STD = (0.26862954, 0.26130258, 0.27577711)
INT64_MAX = np.iinfo(np.int64).max


@dataclass(frozen=True)
class TextConfig:
    """Decoder shapes (config.json text_config)."""

    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    intermediate_size: int
    vocab_size: int = 0  # 0: the tokenizer's size
    rms_norm_eps: float = 1e-5
    rope_theta: float = 1_000_000.0


@dataclass(frozen=True)
class VisionConfig:
    """Vision tower shapes (config.json vision_config)."""

    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    patch_size: int = 14
    spatial_merge_size: int = 2


@dataclass(frozen=True)
class Preset:
    """A named model size; tokenizer_vocab 0 trains the small tokenizer."""

    text: TextConfig
    vision: VisionConfig
    tokenizer_vocab: int  # 0: train the small tokenizer


PRESETS = {
    'tiny': Preset(TextConfig(64, 2, 4, 2, 16, 128), VisionConfig(32, 1, 2, 64), 0),
    # Slow enough that a long prefill can be cancelled part-way (cancellation tests).
    'small': Preset(TextConfig(256, 6, 8, 2, 32, 768), VisionConfig(32, 1, 2, 64), 0),
    '3b': Preset(TextConfig(3072, 26, 32, 8, 128, 9216, 131072),
                 VisionConfig(1024, 24, 16, 4096), 131072),
}

# Published file names per variant: suffix of the .onnx file.
DECODER_FILE = 'decoder_model_merged{}.onnx'
VISION_FILE = 'vision_encoder{}.onnx'
EMBED_FILE = 'embed_tokens{}.onnx'


# Decoder ------------------------------------------------------------------------------------

def build_decoder(cfg: TextConfig, dtype: type, linear: Linear, rng: np.random.Generator,
                  logits_to_keep: bool = False) -> onnx.ModelProto:
    """`decoder_model_merged`: embeddings + KV cache in, logits + new KV cache out."""
    g = Graph('decoder_model_merged', np.dtype(dtype), rng)
    heads, kv_heads, hd = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
    x = g.add_input('inputs_embeds', g.onnx_dtype,
                    ['batch_size', 'sequence_length', cfg.hidden_size])
    mask = g.add_input('attention_mask', TensorProto.INT64,
                       ['batch_size', 'total_sequence_length'])
    positions = g.add_input('position_ids', TensorProto.INT64, ['batch_size', 'sequence_length'])
    past = []
    for i in range(cfg.num_hidden_layers):
        past.append(tuple(g.add_input(f'past_key_values.{i}.{kind}', g.onnx_dtype,
                                      ['batch_size', kv_heads, 'past_sequence_length', hd])
                          for kind in ('key', 'value')))
    keep = g.add_input('num_logits_to_keep', TensorProto.INT64, []) if logits_to_keep else None

    cos, sin = _rope_tables(g, positions, hd, cfg.rope_theta)
    bias = _attention_bias(g, x, mask, past[0][0])
    # Row r*T + t of the stacked query heads is query position t.
    bias = g.op('Tile', [bias, g.i64(1, 1, heads // kv_heads, 1)])
    for i in range(cfg.num_hidden_layers):
        h = g.rms_norm(x, cfg.hidden_size, cfg.rms_norm_eps, f'l{i}_in_norm')
        q = _heads(g, linear(g, h, f'l{i}_q_proj', cfg.hidden_size, heads * hd), heads, hd)
        k = _heads(g, linear(g, h, f'l{i}_k_proj', cfg.hidden_size, kv_heads * hd), kv_heads, hd)
        v = _heads(g, linear(g, h, f'l{i}_v_proj', cfg.hidden_size, kv_heads * hd), kv_heads, hd)
        q, k = _rotate(g, q, cos, sin, hd), _rotate(g, k, cos, sin, hd)
        present_k = g.op_to('Concat', [past[i][0], k], f'present.{i}.key', axis=2)
        present_v = g.op_to('Concat', [past[i][1], v], f'present.{i}.value', axis=2)
        for name in (present_k, present_v):
            g.add_output(name, g.onnx_dtype, ['batch_size', kv_heads, 'total_sequence_length', hd])
        ctx = _grouped_attention(g, q, present_k, present_v, bias, heads, kv_heads, hd)
        ctx = g.op('Reshape', [g.op('Transpose', [ctx], perm=[0, 2, 1, 3]),
                               g.i64(0, 0, heads * hd)])
        x = g.op('Add', [x, linear(g, ctx, f'l{i}_o_proj', heads * hd, cfg.hidden_size)])
        h = g.rms_norm(x, cfg.hidden_size, cfg.rms_norm_eps, f'l{i}_post_norm')
        gate = linear(g, h, f'l{i}_gate_proj', cfg.hidden_size, cfg.intermediate_size)
        up = linear(g, h, f'l{i}_up_proj', cfg.hidden_size, cfg.intermediate_size)
        act = g.op('Mul', [g.silu(gate), up])
        x = g.op('Add', [x, linear(g, act, f'l{i}_down_proj', cfg.intermediate_size,
                                   cfg.hidden_size)])
    x = g.rms_norm(x, cfg.hidden_size, cfg.rms_norm_eps, 'final_norm')
    if keep is not None:
        # Keep the last k positions; k = 0 keeps all of them (the transformers convention).
        start = g.op('Neg', [g.op('Unsqueeze', [keep, g.i64(0)])])
        x = g.op('Slice', [x, start, g.i64(INT64_MAX), g.i64(1)])
    logits = linear(g, x, 'lm_head', cfg.hidden_size, cfg.vocab_size)
    g.op_to('Identity', [logits], 'logits')
    g.add_output('logits', g.onnx_dtype, ['batch_size', 'logits_length', cfg.vocab_size],
                 first=True)
    return g.model()


def _rope_tables(g: Graph, positions: str, hd: int, theta: float) -> tuple[str, str]:
    inv_freq = (1.0 / theta ** (np.arange(0, hd, 2, dtype=np.float64) / hd)).astype(np.float32)
    pos = g.op('Cast', [positions], to=TensorProto.FLOAT)
    freqs = g.op('Mul', [g.op('Unsqueeze', [pos, g.i64(2)]), g.const(inv_freq, 'inv_freq')])
    emb = g.op('Unsqueeze', [g.op('Concat', [freqs, freqs], axis=-1), g.i64(1)])
    tables = []
    for fn in ('Cos', 'Sin'):
        table = g.op(fn, [emb])
        if g.dtype != np.float32:
            table = g.op('Cast', [table], to=g.onnx_dtype)
        tables.append(table)
    return tables[0], tables[1]


def _attention_bias(g: Graph, x: str, mask: str, past_key: str) -> str:
    """[batch, 1, T, past+T] float32: 0 where a query may attend a key, a large negative else."""
    past_len = g.op('Gather', [g.op('Shape', [past_key]), g.scalar_i64(2)], axis=0)
    new_len = g.op('Gather', [g.op('Shape', [x]), g.scalar_i64(1)], axis=0)
    total = g.op('Add', [past_len, new_len])
    keys = g.op('Unsqueeze', [g.op('Range', [g.scalar_i64(0), total, g.scalar_i64(1)]),
                              g.i64(0)])
    queries = g.op('Add', [g.op('Range', [g.scalar_i64(0), new_len, g.scalar_i64(1)]), past_len])
    causal = g.op('LessOrEqual', [keys, g.op('Unsqueeze', [queries, g.i64(1)])])
    padding = g.op('Unsqueeze', [g.op('Equal', [mask, g.const(np.array(1, np.int64))]),
                                 g.i64(1, 2)])
    allowed = g.op('And', [g.op('Unsqueeze', [causal, g.i64(0, 1)]), padding])
    return g.op('Where', [allowed, g.const(np.array(0.0, np.float32)),
                          g.const(np.array(-1e9, np.float32))])


def _heads(g: Graph, x: str, heads: int, hd: int) -> str:
    return g.op('Transpose', [g.op('Reshape', [x, g.i64(0, 0, heads, hd)])], perm=[0, 2, 1, 3])


def _rotate(g: Graph, x: str, cos: str, sin: str, hd: int) -> str:
    half = hd // 2
    x1 = g.op('Slice', [x, g.i64(0), g.i64(half), g.i64(3)])
    x2 = g.op('Slice', [x, g.i64(half), g.i64(hd), g.i64(3)])
    rotated = g.op('Concat', [g.op('Neg', [x2]), x1], axis=3)
    return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rotated, sin])])


def _grouped_attention(g: Graph, q: str, k: str, v: str, bias: str, heads: int,
                       kv_heads: int, hd: int) -> str:
    """Grouped-query attention without copying the cache: the query heads that share a KV
    head are stacked along the sequence axis, [B, kv, rep*T, hd] against [B, kv, S, hd].
    `bias` is the attention bias tiled to [B, 1, rep*T, S] to match."""
    stacked = g.op('Reshape', [q, g.i64(0, kv_heads, -1, hd)])
    ctx = _attend(g, stacked, k, v, bias, hd)
    return g.op('Reshape', [ctx, g.i64(0, heads, -1, hd)])


def _attend(g: Graph, q: str, k: str, v: str, bias: str | None, hd: int) -> str:
    scores = g.op('MatMul', [q, g.op('Transpose', [k], perm=[0, 1, 3, 2])])
    if g.dtype != np.float32:
        scores = g.op('Cast', [scores], to=TensorProto.FLOAT)
    scores = g.op('Mul', [scores, g.const(np.array(1.0 / np.sqrt(hd), np.float32))])
    if bias is not None:
        scores = g.op('Add', [scores, bias])
    probs = g.op('Softmax', [scores], axis=-1)
    if g.dtype != np.float32:
        probs = g.op('Cast', [probs], to=g.onnx_dtype)
    return g.op('MatMul', [probs, v])


# Vision encoder ------------------------------------------------------------------------------

def build_vision(cfg: VisionConfig, text_hidden: int, linear: Linear,
                 rng: np.random.Generator) -> onnx.ModelProto:
    """`vision_encoder`: pixel_values [1, 3, H, W] -> image_features [H/28 * W/28, hidden]."""
    g = Graph('vision_encoder', np.dtype(np.float32), rng)
    d, p, m = cfg.hidden_size, cfg.patch_size, cfg.spatial_merge_size
    pixels = g.add_input('pixel_values', TensorProto.FLOAT, ['batch_size', 3, 'height', 'width'])
    kernel = g.const(g.weight((d, 3, p, p), 1.0 / np.sqrt(3 * p * p)), 'patch_conv')
    patches = g.op('Conv', [pixels, kernel], 'patches', strides=[p, p], kernel_shape=[p, p])
    grid = g.op('Slice', [g.op('Shape', [patches]), g.i64(2), g.i64(4), g.i64(0)])
    x = g.op('Reshape', [g.op('Transpose', [patches], perm=[0, 2, 3, 1]), g.i64(-1, d)])
    heads = cfg.num_attention_heads
    hd = d // heads
    for i in range(cfg.num_hidden_layers):
        h = g.rms_norm(x, d, 1e-5, f'v{i}_attn_norm')
        q, k, v = (g.op('Unsqueeze', [_heads(g, g.op('Unsqueeze', [
            linear(g, h, f'v{i}_{n}_proj', d, d), g.i64(0)]), heads, hd), g.i64(0)])
            for n in 'qkv')
        ctx = g.op('Squeeze', [_attend(g, g.op('Squeeze', [q, g.i64(0)]),
                                       g.op('Squeeze', [k, g.i64(0)]),
                                       g.op('Squeeze', [v, g.i64(0)]), None, hd), g.i64(0)])
        ctx = g.op('Reshape', [g.op('Transpose', [ctx], perm=[1, 0, 2]), g.i64(-1, d)])
        x = g.op('Add', [x, linear(g, ctx, f'v{i}_o_proj', d, d)])
        h = g.rms_norm(x, d, 1e-5, f'v{i}_ffn_norm')
        act = g.op('Mul', [g.silu(linear(g, h, f'v{i}_gate_proj', d, cfg.intermediate_size)),
                           linear(g, h, f'v{i}_up_proj', d, cfg.intermediate_size)])
        x = g.op('Add', [x, linear(g, act, f'v{i}_down_proj', cfg.intermediate_size, d)])
    # 2x2 patch merge: [h, w, d] -> [h/2, w/2, 2*2*d], row-major over the merged grid.
    half = g.op('Div', [grid, g.i64(m, m)])
    shape = g.op('Concat', [g.op('Slice', [half, g.i64(0), g.i64(1), g.i64(0)]), g.i64(m),
                            g.op('Slice', [half, g.i64(1), g.i64(2), g.i64(0)]), g.i64(m, d)],
                 axis=0)
    blocks = g.op('Transpose', [g.op('Reshape', [x, shape])], perm=[0, 2, 1, 3, 4])
    merged = g.op('Reshape', [blocks, g.i64(-1, m * m * d)])
    x = linear(g, merged, 'patch_merger', m * m * d, d)
    x = g.rms_norm(x, d, 1e-5, 'projector_norm')
    x = g.gelu(linear(g, x, 'projector_1', d, text_hidden))
    features = linear(g, x, 'projector_2', text_hidden, text_hidden)
    g.op_to('Identity', [features], 'image_features')
    g.add_output('image_features', TensorProto.FLOAT, ['num_image_tokens', text_hidden])
    return g.model()


# Embeddings ----------------------------------------------------------------------------------

def build_embed(weights: np.ndarray) -> onnx.ModelProto:
    """`embed_tokens`: input_ids [batch, seq] -> inputs_embeds [batch, seq, hidden] (fp16)."""
    g = Graph('embed_tokens', np.dtype(np.float16), np.random.default_rng(0))
    ids = g.add_input('input_ids', TensorProto.INT64, ['batch_size', 'sequence_length'])
    table = g.const(weights.astype(np.float16), 'embed_tokens_weight')
    g.op_to('Gather', [table, ids], 'inputs_embeds', axis=0)
    g.add_output('inputs_embeds', TensorProto.FLOAT16,
                 ['batch_size', 'sequence_length', weights.shape[1]])
    return g.model()


# Quantization and files ----------------------------------------------------------------------

def quantize_q4(model: onnx.ModelProto, keep_float: Sequence[str] = ()) -> onnx.ModelProto:
    """Every constant-weight MatMul but the nodes named in `keep_float` to 4-bit MatMulNBits
    (the config DESIGN.md measured)."""
    from onnxruntime.quantization.matmul_nbits_quantizer import (
        DefaultWeightOnlyQuantConfig,
        MatMulNBitsQuantizer,
    )

    # It logs every node at INFO through the root logger.
    logging.getLogger('onnxruntime.quantization.matmul_nbits_quantizer').setLevel(logging.WARNING)

    config = DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=True, accuracy_level=4,
                                          bits=4)
    missing = set(keep_float) - {node.name for node in model.graph.node}
    if missing:
        raise ValueError(f'no such nodes to keep in float: {sorted(missing)}')
    quantizer = MatMulNBitsQuantizer(model, algo_config=config, nodes_to_exclude=list(keep_float))
    quantizer.process()
    return quantizer.model.model


def save(path: Path, model: onnx.ModelProto, external: bool) -> None:
    """Write `model`; with `external`, weights go to `<name>_data` beside it (as exported)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = path.with_name(path.name + '_data')
    if data.exists():
        data.unlink()
    if external:
        onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                        location=data.name, size_threshold=1024)
    else:
        onnx.save_model(model, str(path))


def write_configs(out: Path, text: TextConfig, vision: VisionConfig) -> None:
    """config.json, preprocessor_config.json and generation_config.json in the hub's format."""
    config = {
        'architectures': ['Mistral3ForConditionalGeneration'],
        'model_type': 'mistral3',
        'image_token_index': 10,
        'spatial_merge_size': vision.spatial_merge_size,
        'multimodal_projector_bias': False,
        'projector_hidden_act': 'gelu',
        'vision_feature_layer': -1,
        'text_config': {
            'model_type': 'ministral3',
            'hidden_size': text.hidden_size,
            'num_hidden_layers': text.num_hidden_layers,
            'num_attention_heads': text.num_attention_heads,
            'num_key_value_heads': text.num_key_value_heads,
            'head_dim': text.head_dim,
            'intermediate_size': text.intermediate_size,
            'vocab_size': text.vocab_size,
            'rms_norm_eps': text.rms_norm_eps,
            'max_position_embeddings': 262144,
            'tie_word_embeddings': True,
            'rope_parameters': {'rope_type': 'yarn', 'rope_theta': text.rope_theta,
                                'factor': 16.0, 'original_max_position_embeddings': 16384},
        },
        'vision_config': {
            'model_type': 'pixtral',
            'hidden_size': vision.hidden_size,
            'num_hidden_layers': vision.num_hidden_layers,
            'num_attention_heads': vision.num_attention_heads,
            'intermediate_size': vision.intermediate_size,
            'patch_size': vision.patch_size,
            'image_size': 1540,
            'num_channels': 3,
        },
        'transformers.js_config': {'dtype': {'embed_tokens': 'fp16', 'vision_encoder': 'q4',
                                             'decoder_model_merged': 'q4'}},
    }
    preprocessor = {
        'image_processor_type': 'PixtralImageProcessor',
        'do_convert_rgb': True, 'do_normalize': True, 'do_rescale': True, 'do_resize': True,
        'image_mean': list(IMAGE_MEAN), 'image_std': list(IMAGE_STD),
        'patch_size': {'height': vision.patch_size, 'width': vision.patch_size},
        'resample': 3, 'rescale_factor': 1 / 255, 'size': {'longest_edge': 1540},
    }
    generation = {'bos_token_id': 1, 'eos_token_id': 2, 'pad_token_id': 11,
                  'max_length': 262144}
    for name, doc in (('config.json', config), ('preprocessor_config.json', preprocessor),
                      ('generation_config.json', generation)):
        (out / name).write_text(json.dumps(doc, indent=2) + '\n', encoding='utf-8')


@dataclass(frozen=True)
class BuildOptions:
    """What `build` writes."""

    preset: str = 'tiny'
    seed: int = 0
    deterministic: bool = False
    logits_to_keep: bool = False
    float_copy: bool = False  # also write unquantized `decoder_model_merged.onnx` etc.
    fp16_decoder: bool = True  # also write the q4f16 decoder
    tokenizer_words: tuple[str, ...] = ()  # large vocabularies: text whose words become tokens


def build(out: str | Path, options: BuildOptions | None = None) -> Path:
    """Write a complete model directory at `out` and return its path."""
    options = options or BuildOptions()
    out = Path(out)
    (out / 'onnx').mkdir(parents=True, exist_ok=True)
    preset = PRESETS[options.preset]
    rng = np.random.default_rng(options.seed)
    tokenizer = tokenizer_builder.train_small() if not preset.tokenizer_vocab else \
        tokenizer_builder.construct_large(preset.tokenizer_vocab, seed=options.seed,
                                          words=options.tokenizer_words)
    tokenizer.save(str(out / 'tokenizer.json'))
    text = preset.text
    if not text.vocab_size:
        text = replace(text, vocab_size=tokenizer.get_vocab_size())
    write_configs(out, text, preset.vision)
    real_size = bool(preset.tokenizer_vocab)
    embeddings = _embeddings(rng, text, options.deterministic, real_size)
    save(out / 'onnx' / EMBED_FILE.format('_fp16'), build_embed(embeddings), real_size)

    lm_head = None
    if options.deterministic:
        # LM head = a fixed permutation of the embeddings: the model copies its input forward
        # through a cycle, confidently, so greedy decoding is exact.
        perm = np.random.default_rng(options.seed + 1).permutation(text.vocab_size)
        lm_head = (embeddings[perm].T * 4.0).astype(np.float32)
    layer_std = 0.002 if options.deterministic else 0.06
    if real_size:
        linear = packed_q4_linear()
        for dtype, suffix in ((np.float32, '_q4'), (np.float16, '_q4f16')):
            if dtype == np.float16 and not options.fp16_decoder:
                continue
            model = build_decoder(text, dtype, linear, np.random.default_rng(options.seed),
                                  options.logits_to_keep)
            save(out / 'onnx' / DECODER_FILE.format(suffix), model, True)
        vision = build_vision(preset.vision, text.hidden_size, linear, rng)
        save(out / 'onnx' / VISION_FILE.format('_q4'), vision, True)
        return out

    for dtype, suffix in ((np.float32, ''), (np.float16, 'f16')):
        if dtype == np.float16 and not options.fp16_decoder:
            continue
        head = lm_head if lm_head is not None else rng_head(text, options.seed)
        linear = fixed_linear({'lm_head': head}, float_linear(layer_std))
        model = build_decoder(text, dtype, linear, np.random.default_rng(options.seed),
                              options.logits_to_keep)
        if options.float_copy and dtype == np.float32:
            save(out / 'onnx' / DECODER_FILE.format(''), model, False)
        save(out / 'onnx' / DECODER_FILE.format(f'_q4{suffix}'), quantize_q4(model), False)
    vision = build_vision(preset.vision, text.hidden_size, float_linear(0.05),
                          np.random.default_rng(options.seed + 2))
    if options.float_copy:
        save(out / 'onnx' / VISION_FILE.format(''), vision, False)
    save(out / 'onnx' / VISION_FILE.format('_q4'), quantize_q4(vision), False)
    return out


def rng_head(text: TextConfig, seed: int) -> np.ndarray:
    """A random LM head with unit-scale logits (sampling sees a spread of tokens)."""
    rng = np.random.default_rng(seed + 3)
    return (rng.standard_normal((text.hidden_size, text.vocab_size)) * 2.0
            / np.sqrt(text.hidden_size)).astype(np.float32)


def _embeddings(rng: np.random.Generator, text: TextConfig, deterministic: bool,
                real_size: bool) -> np.ndarray:
    shape = (text.vocab_size, text.hidden_size)
    if real_size:
        return (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(np.float16)
    return rng.standard_normal(shape).astype(np.float32) * (1.0 if deterministic else 0.5)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog='build_test_model', description=__doc__.split('\n')[0])
    parser.add_argument('out', help='model directory to write')
    parser.add_argument('--preset', choices=sorted(PRESETS), default='tiny')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--deterministic', action='store_true',
                        help='LM head = permuted embeddings: confident, exact greedy output')
    parser.add_argument('--with-logits-to-keep', action='store_true',
                        help='decoder takes num_logits_to_keep (logits for the last k only)')
    parser.add_argument('--float-copy', action='store_true',
                        help='also write unquantized graphs (decoder_model_merged.onnx, ...)')
    parser.add_argument('--no-fp16-decoder', action='store_true',
                        help='skip the q4f16 decoder')
    parser.add_argument('--force', action='store_true', help='replace an existing directory')
    args = parser.parse_args(argv)
    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        if not args.force:
            print(f'error: {out} exists and is not empty (use --force)', file=sys.stderr)
            return 2
        shutil.rmtree(out)
    options = BuildOptions(args.preset, args.seed, args.deterministic, args.with_logits_to_keep,
                           args.float_copy, not args.no_fp16_decoder)
    start = time.monotonic()
    build(out, options)
    print(f'wrote {out} ({json.dumps(asdict(options))}) in {time.monotonic() - start:.1f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
