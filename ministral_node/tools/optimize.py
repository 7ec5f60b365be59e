"""`ministral-optimize MODEL_DIR`: a decoder variant that computes logits only where asked.

    ministral-optimize models/ministral-3-3b                 # every decoder variant present
    ministral-optimize models/ministral-3-3b --variant q4

Exports whose decoder has no `num_logits_to_keep` input compute the LM head (hidden x 131072)
for every prompt position during prefill, although only the last one is used. This one-time
edit adds that input and slices the hidden states before the LM head (the last k positions;
k = 0 keeps all, the transformers convention), follows the logits output back through
Identity/Cast nodes and into `If` branches of merged exports, and writes
`onnx/decoder_model_merged_<v>.opt.onnx` beside the original, never in place. The new file
reads the original's external weight data (a few hundred KB on disk), and
`decoder_model_merged_<v>.opt.json` records the original's fingerprint: the engine uses the
variant only while that still matches. Before anything is kept the edit is checked: the
original and the variant run the same prefill and a cached step, and the last position's
logits and every present tensor must agree.
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
from ministral_node.engine.decoder import Decoder
from ministral_node.engine.sessions import (
    LOGITS_TO_KEEP_NAMES,
    SessionConfig,
    create_session,
    read_decoder_layout,
)

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
    """How the variant compared with the original (relative to the largest logit)."""

    positions: int
    prefill_max_diff: float
    step_max_diff: float
    present_max_diff: float
    same_argmax: bool

    def passed(self, tolerance: float) -> bool:
        return self.same_argmax and max(self.prefill_max_diff, self.step_max_diff,
                                        self.present_max_diff) <= tolerance


def _run(path: Path, text_config: dict, embeds: np.ndarray, config: SessionConfig
         ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """(last prefill logits, next-step logits, present tensors) of one decoder file."""
    session = create_session(path, config)
    decoder = Decoder(session, read_decoder_layout(session, text_config, path))
    prefill, cache = decoder.run(embeds[:, :-1], decoder.empty_cache())
    step, cache = decoder.run(embeds[:, -1:], cache)
    presents = [t for i in range(len(cache.tensors)) for t in cache.layer(i)]
    return prefill[-1], step[-1], presents


def check(original: Path, variant: Path, text_config: dict, positions: int = 9,
          seed: int = 0, config: SessionConfig | None = None) -> Check:
    """Run both files on the same random prefill and cached step (one at a time, so a large
    model is never loaded twice) and compare."""
    config = config or SessionConfig()
    session = create_session(original, config)
    layout = read_decoder_layout(session, text_config, original)
    hidden = next(i for i in session.get_inputs() if i.name == layout.embeds_name).shape[-1]
    del session
    if not isinstance(hidden, int):
        hidden = int(text_config.get('hidden_size', 0))
    rng = np.random.default_rng(seed)
    embeds = (rng.standard_normal((1, positions, hidden)) * 0.05).astype(layout.embeds_dtype)
    a = _run(original, text_config, embeds, config)
    b = _run(variant, text_config, embeds, config)
    scale = max(float(np.abs(a[0]).max()), float(np.abs(a[1]).max()), 1e-12)
    present = max((float(np.abs(x.astype(np.float32) - y.astype(np.float32)).max())
                   / max(float(np.abs(x).max()), 1e-12) for x, y in zip(a[2], b[2])),
                  default=0.0)
    return Check(positions, float(np.abs(a[0] - b[0]).max()) / scale,
                 float(np.abs(a[1] - b[1]).max()) / scale, present,
                 int(np.argmax(a[0])) == int(np.argmax(b[0]))
                 and int(np.argmax(a[1])) == int(np.argmax(b[1])))


def optimize(original: Path, text_config: dict, tolerance: float = 1e-4) -> tuple[Path, Check]:
    """Write and check the last-position-logits variant of one decoder file."""
    model = onnx.load(str(original), load_external_data=False)
    edited = last_logits_graph(model)
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
        result = check(original, temporary_path, text_config)
        if not result.passed(tolerance):
            raise OptimizeError(f'the edited graph differs from {original.name}: {result}')
        os.replace(temporary, target)
    finally:
        temporary_path.unlink(missing_ok=True)
    record = {'source': model_files.fingerprint(original), 'edit': 'last-position logits',
              'input': KEEP_INPUT, 'lm_head_nodes': edited, 'check': result.__dict__,
              'tolerance': tolerance}
    model_files.fingerprint_path(original).write_text(json.dumps(record, indent=2) + '\n',
                                                      encoding='utf-8')
    return target, result


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
    parser.add_argument('--tolerance', type=float, default=1e-4,
                        help='largest difference allowed, relative to the largest logit')
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
                target, result = optimize(path, text_config, args.tolerance)
            except AlreadyOptimized as exc:
                print(f'{path.name}: nothing to do: {exc}')
                continue
            except OptimizeError as exc:
                print(f'{path.name}: not optimized: {exc}')
                status = 1
                continue
            print(f'{path.name} -> {target.name}: last-position logits; checked on '
                  f'{result.positions} positions, largest relative difference '
                  f'{max(result.prefill_max_diff, result.step_max_diff):.2e} (logits), '
                  f'{result.present_max_diff:.2e} (KV cache)')
        return status
    except (OptimizeError, model_files.ModelError, OSError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
