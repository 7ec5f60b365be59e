"""`ministral-optimize MODEL_DIR`: a faster decoder variant, checked against the original.

    ministral-optimize models/ministral-3-3b                 # every decoder variant present
    ministral-optimize models/ministral-3-3b --variant q4
    ministral-optimize models/ministral-3-3b --no-fuse-attention

Two one-time edits, each applied where the graph allows:

- **Last-position logits**: exports whose decoder has no `num_logits_to_keep` input compute
  the LM head (hidden x 131072) for every prompt position during prefill, although only the
  last one is used. The edit adds that input and slices the hidden states before the LM head
  (the last k positions; k = 0 keeps all, the transformers convention), following the logits
  output back through Identity/Cast nodes and into `If` branches of merged exports.
- **Fused attention** (`attention_fusion`): each layer's plain-op attention becomes one
  `GroupQueryAttention` node, which appends to the cache and attends in one kernel.

The result is `onnx/decoder_model_merged_<v>.opt.onnx` beside the original, never in place,
with the same inputs and outputs. It reads the original's external weight data (a few hundred
KB on disk), and `decoder_model_merged_<v>.opt.json` records the original's fingerprint and
the edits: the engine uses the variant only while the fingerprint still matches. Before
anything is kept the variant is checked: the original and the variant run the same prefill,
a cached multi-token chunk and a cached step, and the last position's logits and every present
tensor must agree. A fused variant that fails the check is retried without the fusion.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from ministral_node.engine import model_files
from ministral_node.engine.decoder import Decoder, InPlaceDecoder
from ministral_node.engine.sessions import (
    LOGITS_TO_KEEP_NAMES,
    SessionConfig,
    create_session,
    kv_head_layout,
    read_decoder_layout,
)
from ministral_node.tools.attention_fusion import FusionError, Heads, fuse_attention

KEEP_INPUT = 'num_logits_to_keep'
PASS_THROUGH = ('Identity', 'Cast')
PROJECTIONS = ('MatMul', 'MatMulNBits', 'Gemm', 'FusedMatMul')
INT64_MAX = np.iinfo(np.int64).max
PREFIX = 'ministral_optimize/'


class OptimizeError(RuntimeError):
    """The graph cannot be edited, or the edited graph does not agree with the original."""


class AlreadyOptimized(OptimizeError):
    """The graph already computes logits only where asked."""


def _producers(graph: onnx.GraphProto) -> dict[str, onnx.NodeProto]:
    return {out: node for node in graph.node for out in node.output}


def _slice_before(graph: onnx.GraphProto, node: onnx.NodeProto) -> None:
    """Insert `x[..., -k:, :]` (k from KEEP_INPUT) in front of the projection `node`."""
    x = node.input[0]
    names = {key: f'{PREFIX}{key}_{len(graph.node)}' for key in
             ('shape', 'keep', 'start', 'end', 'axis', 'hidden')}
    consts = [helper.make_node('Constant', [], [names[key]], name=names[key] + '_const',
                               value=helper.make_tensor(names[key], TensorProto.INT64, [1],
                                                        [value]))
              for key, value in (('shape', 1), ('end', INT64_MAX), ('axis', -2))]
    # Reshape, Neg and Slice with inputs exist in every opset the exports use (>= 13).
    ops = [helper.make_node('Reshape', [KEEP_INPUT, names['shape']], [names['keep']],
                            name=names['keep']),
           helper.make_node('Neg', [names['keep']], [names['start']], name=names['start']),
           helper.make_node('Slice', [x, names['start'], names['end'], names['axis']],
                            [names['hidden']], name=names['hidden'])]
    index = list(graph.node).index(node)
    for offset, new in enumerate(consts + ops):
        graph.node.insert(index + offset, new)
    node.input[0] = names['hidden']


def _edit(graph: onnx.GraphProto, output: str) -> list[str]:
    """Slice before the projection that makes `output`; the names of the nodes edited."""
    producers = _producers(graph)
    name = output
    while True:
        node = producers.get(name)
        if node is None:
            raise OptimizeError(f'{name!r} is not made by a node of graph {graph.name!r}')
        if node.op_type in PASS_THROUGH:
            name = node.input[0]
            continue
        if node.op_type in PROJECTIONS:
            _slice_before(graph, node)
            return [node.name or node.op_type]
        if node.op_type == 'If':
            index = list(node.output).index(name)
            edited = []
            for attribute in node.attribute:
                if attribute.type == onnx.AttributeProto.GRAPH:
                    branch = attribute.g
                    edited += _edit(branch, branch.output[index].name)
            return edited
        raise OptimizeError(f'the logits come from a {node.op_type} node ({node.name!r}), not '
                            f'from an LM-head projection ({", ".join(PROJECTIONS)})')


def last_logits_graph(model: onnx.ModelProto, logits: str = 'logits') -> list[str]:
    """Edit `model` in place so it takes KEEP_INPUT; the LM-head nodes that were edited."""
    graph = model.graph
    if any(i.name in LOGITS_TO_KEEP_NAMES for i in graph.input):
        raise AlreadyOptimized('the decoder already takes a logits_to_keep input')
    if logits not in [o.name for o in graph.output]:
        raise OptimizeError(f'the graph has no output {logits!r}')
    edited = _edit(graph, logits)
    graph.input.append(helper.make_tensor_value_info(KEEP_INPUT, TensorProto.INT64, []))
    out = next(o for o in graph.output if o.name == logits)
    dims = out.type.tensor_type.shape.dim
    if len(dims) == 3:
        dims[1].Clear()
        dims[1].dim_param = 'logits_length'
    return edited


@dataclass(frozen=True)
class Check:
    """How the variant compared with the original (logits relative to the largest logit, KV
    cache to its largest value), and the original's own noise floor: how far it moves when
    its input moves by NOISE relative. With int8-compute 4-bit projections a last-bit change
    anywhere flips activation roundings downstream, so a correct edit can differ by that
    much and no more."""

    positions: int
    prefill_max_diff: float
    step_max_diff: float
    present_max_diff: float
    same_argmax: bool
    logits_floor: float = 0.0
    present_floor: float = 0.0

    def passed(self, tolerance: float) -> bool:
        return (self.same_argmax
                and max(self.prefill_max_diff, self.step_max_diff)
                <= max(tolerance, FLOOR_MARGIN * self.logits_floor)
                and self.present_max_diff <= max(tolerance, FLOOR_MARGIN * self.present_floor))


NOISE = 1e-7  # relative input perturbation that measures the original's noise floor
FLOOR_MARGIN = 2.0


def _decoder(path: Path, text_config: dict, config: SessionConfig,
             in_place: bool = False) -> Decoder:
    """One decoder file's session, run as the engine runs it (`in_place` for a fused one)."""
    session = create_session(path, config)
    runner = InPlaceDecoder if in_place else Decoder
    return runner(session, read_decoder_layout(session, text_config, path))


def _run(decoder: Decoder, embeds: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(last-position logits of each run, present tensors): a prefill, a cached chunk of 3
    positions, a cached step."""
    embeds = embeds.astype(decoder.layout.embeds_dtype)
    cache = decoder.empty_cache()
    logits = []
    for part in (embeds[:, :-4], embeds[:, -4:-1], embeds[:, -1:]):
        row, cache = decoder.run(part, cache)
        logits.append(row[-1])
    presents = [t for i in range(len(cache.tensors)) for t in cache.layer(i)]
    return logits, presents


def _differences(a: tuple[list[np.ndarray], list[np.ndarray]],
                 b: tuple[list[np.ndarray], list[np.ndarray]]) -> tuple[float, float, float]:
    """(prefill logits, later logits, present tensors) largest relative differences."""
    scale = max(max(float(np.abs(row).max()) for row in a[0]), 1e-12)
    present = max((float(np.abs(x.astype(np.float32) - y.astype(np.float32)).max())
                   / max(float(np.abs(x).max()), 1e-12) for x, y in zip(a[1], b[1])),
                  default=0.0)
    return (float(np.abs(a[0][0] - b[0][0]).max()) / scale,
            max(float(np.abs(x - y).max()) for x, y in zip(a[0][1:], b[0][1:])) / scale,
            present)


def check(original: Path, variant: Path, text_config: dict, positions: int = 13,
          seed: int = 0, config: SessionConfig | None = None, in_place: bool = False
          ) -> Check:
    """Run both files on the same random inputs (one at a time, so a large model is never
    loaded twice) and compare; run the original once more on inputs moved by NOISE."""
    config = config or SessionConfig()
    decoder = _decoder(original, text_config, config)
    embeds_name = decoder.layout.embeds_name
    hidden = next(i for i in decoder.session.get_inputs() if i.name == embeds_name).shape[-1]
    if not isinstance(hidden, int):
        hidden = int(text_config.get('hidden_size', 0))
    rng = np.random.default_rng(seed)
    embeds = (rng.standard_normal((1, positions, hidden)) * 0.05).astype(np.float32)
    moved = embeds * (1 + NOISE * rng.standard_normal(embeds.shape)).astype(np.float32)
    a, floor = _run(decoder, embeds), _run(decoder, moved)
    del decoder
    b = _run(_decoder(variant, text_config, config, in_place), embeds)
    prefill, later, present = _differences(a, b)
    noise = _differences(a, floor)
    return Check(positions, prefill, later, present,
                 all(int(np.argmax(x)) == int(np.argmax(y)) for x, y in zip(a[0], b[0])),
                 max(noise[:2]), noise[2])


def heads_of(model: onnx.ModelProto, text_config: dict) -> Heads:
    """Head layout: key/value heads and head size as the engine reads them (the past-key
    input, else the config), query heads from the config."""
    past = next((i for i in model.graph.input if i.name.startswith('past_key_values.')), None)
    dims = [] if past is None else [d.dim_value if d.HasField('dim_value') else None
                                    for d in past.type.tensor_type.shape.dim]
    heads = int(text_config.get('num_attention_heads') or 0)
    kv_heads, head_dim = kv_head_layout(dims, text_config)
    if not heads or not kv_heads or not head_dim:
        raise FusionError('the head layout is not in the graph or the config')
    return Heads(heads, kv_heads, head_dim)


def edited_model(original: Path, text_config: dict, fuse: bool
                 ) -> tuple[onnx.ModelProto, dict[str, object], str]:
    """The original's graph with every edit that applies: (model, edits made, why the
    attention was not fused or '')."""
    model = onnx.load(str(original), load_external_data=False)
    edits: dict[str, object] = {}
    try:
        edits[model_files.LAST_LOGITS] = last_logits_graph(model)
    except AlreadyOptimized:
        pass
    unfused = ''
    if fuse:
        try:
            if text_config.get('sliding_window'):
                # The graph's mask bias would be taken for a causal one; a window longer than
                # the check's positions would not show in it.
                raise FusionError(f'the model attends in a sliding window '
                                  f'({text_config["sliding_window"]} positions)')
            fused = fuse_attention(model, heads_of(model, text_config))
            edits[model_files.FUSED_ATTENTION] = len(fused)
        except FusionError as exc:
            unfused = str(exc)
    return model, edits, unfused


@dataclass(frozen=True)
class Outcome:
    """What `optimize` kept."""

    target: Path
    check: Check
    edits: dict[str, object]
    unfused: str  # why the attention was not fused ('' when it was, or when not asked)


# Largest difference allowed, relative to the largest logit, by activation type. Float16
# graphs round differently once attention is one kernel: on the random test model the fused
# q4f16 decoder is 1.2e-2 from the plain one, while the plain q4f16 is 3.3e-2 from the q4.
TOLERANCE = {TensorProto.FLOAT: 1e-4, TensorProto.FLOAT16: 2e-2}


def default_tolerance(model: onnx.ModelProto) -> float:
    """TOLERANCE for the activation type of the decoder (its first float input)."""
    types = [i.type.tensor_type.elem_type for i in model.graph.input]
    return TOLERANCE.get(next((t for t in types if t in TOLERANCE), TensorProto.FLOAT))


def optimize(original: Path, text_config: dict, tolerance: float | None = None,
             fuse: bool = True) -> Outcome:
    """Write and check the optimized variant of one decoder file."""
    model, edits, unfused = edited_model(original, text_config, fuse)
    if tolerance is None:
        tolerance = default_tolerance(model)
    if not edits:
        raise AlreadyOptimized('the decoder already takes a logits_to_keep input'
                               + (f' and attention is not fused: {unfused}' if unfused else ''))
    try:
        result = _write_checked(original, model, text_config, tolerance,
                                model_files.FUSED_ATTENTION in edits)
    except OptimizeError as exc:
        if model_files.FUSED_ATTENTION not in edits:
            raise
        model, edits, _ = edited_model(original, text_config, fuse=False)
        unfused = f'the fused graph failed the check ({exc})'
        if not edits:
            raise OptimizeError(unfused) from exc
        result = _write_checked(original, model, text_config, tolerance)
    target = model_files.optimized_path(original)
    record = {'source': model_files.fingerprint(original), 'edits': edits,
              'input': KEEP_INPUT, 'unfused': unfused, 'check': result.__dict__,
              'tolerance': tolerance}
    model_files.fingerprint_path(original).write_text(json.dumps(record, indent=2) + '\n',
                                                      encoding='utf-8')
    return Outcome(target, result, edits, unfused)


def _write_checked(original: Path, model: onnx.ModelProto, text_config: dict,
                   tolerance: float, in_place: bool = False) -> Check:
    """Save `model` as the original's variant if it passes the check against the original."""
    target = model_files.optimized_path(original)
    # Written under a temporary name in the same folder (external data paths are relative),
    # checked, then renamed: a failed check leaves nothing behind.
    handle, temporary = tempfile.mkstemp(prefix='.' + target.stem, suffix='.onnx',
                                         dir=original.parent)
    os.close(handle)
    temporary_path = Path(temporary)
    try:
        onnx.save(model, temporary)
        os.chmod(temporary, original.stat().st_mode & 0o777)
        result = check(original, temporary_path, text_config, in_place=in_place)
        if not result.passed(tolerance):
            raise OptimizeError(f'the edited graph differs from {original.name}: {result}')
        os.replace(temporary, target)
    finally:
        temporary_path.unlink(missing_ok=True)
    return result


def decoder_files(model_dir: Path, variants: list[str] | None) -> list[Path]:
    """The decoder files to optimize: the given variants, else every one present."""
    onnx_dir = model_dir / 'onnx'
    if variants:
        paths = [onnx_dir / model_files.onnx_name('decoder_model_merged', v) for v in variants]
        missing = [p.name for p in paths if not p.is_file()]
        if missing:
            raise OptimizeError(f'{onnx_dir} has no {", ".join(missing)}')
        return paths
    return sorted(p for p in onnx_dir.glob('decoder_model_merged*.onnx')
                  if not p.name.endswith('.opt.onnx'))


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog='ministral-optimize',
                                     description=__doc__.split('\n')[0])
    parser.add_argument('model_dir', help='model directory (published ONNX layout)')
    parser.add_argument('--variant', action='append',
                        help='decoder variant to optimize (repeatable; default: all present)')
    parser.add_argument('--tolerance', type=float,
                        help='largest difference allowed, relative to the largest logit '
                             '(default: 1e-4 for float32 activations, 2e-2 for float16)')
    parser.add_argument('--no-fuse-attention', dest='fuse', action='store_false',
                        help='keep the export\'s plain-op attention')
    args = parser.parse_args(argv)
    model_dir = Path(args.model_dir)
    try:
        text_config = model_files.read_json(model_dir / 'config.json')
        text_config = text_config.get('text_config', text_config)
        paths = decoder_files(model_dir, args.variant)
        if not paths:
            raise OptimizeError(f'no decoder_model_merged*.onnx in {model_dir / "onnx"}')
        status = 0
        for path in paths:
            try:
                outcome = optimize(path, text_config, args.tolerance, args.fuse)
            except AlreadyOptimized as exc:
                print(f'{path.name}: nothing to do: {exc}')
                continue
            except OptimizeError as exc:
                print(f'{path.name}: not optimized: {exc}')
                status = 1
                continue
            result = outcome.check
            print(f'{path.name} -> {outcome.target.name}: {", ".join(outcome.edits)}; checked '
                  f'on {result.positions} positions, largest relative difference '
                  f'{max(result.prefill_max_diff, result.step_max_diff):.2e} (logits), '
                  f'{result.present_max_diff:.2e} (KV cache); the original\'s own noise floor '
                  f'{result.logits_floor:.2e} and {result.present_floor:.2e}')
            if outcome.unfused:
                print(f'  attention not fused: {outcome.unfused}')
        return status
    except (OptimizeError, model_files.ModelError, OSError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
