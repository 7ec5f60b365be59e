"""Fused attention for an exported decoder: each layer's plain-op attention becomes one
`com.microsoft.GroupQueryAttention` node.

The exports write attention as ~20 small nodes per layer (the KV Concat, the transposes and
reshapes of grouped heads, the score MatMul, scaling, the mask bias, Softmax, the value
MatMul). The Concat copies the whole cache into a new present tensor every step; the fused
operator can instead append to one buffer in place (past and present bound to the same
memory, `engine.decoder.InPlaceDecoder`), so a decode needs one KV buffer instead of two and
copies nothing, and GPU providers run it as one fused attention kernel. On a CPU the node
count itself was not what a step cost: measured on the synthetic 3B, the fused graph alone
decodes no faster than the plain one; in place it is 1-3 % faster.

The edit keeps everything the export does to the query and key before attention (rotary
embedding and any position-dependent scaling, whatever form it takes) and replaces only the
attention core, found from the graph's own anchors:

- the `present.{i}.key|value` outputs, made by a Concat of the past and the new key/value
  (BNSH, concatenated on the sequence axis);
- the MatMul whose second input comes from the present key (through reshapes, transposes,
  expands and casts) and the MatMul after the Softmax whose second input comes from the
  present value;
- the query: the score MatMul's first input, followed back through reshapes, transposes and
  constant scalings (the scalings, with those on the key and score paths, make the scale);
- the output: followed forward from the value MatMul through reshapes and transposes to the
  output projection.

The mask bias is replaced by the operator's own causal mask over `attention_mask`'s length
(the engine feeds all-ones masks); a model with a sliding window is not fused at all
(`ministral-optimize` reads it from the config: the window's mask is also an additive bias).
Anything else on the score path (a softcap, ...) makes the layer unmatched and the edit is
refused; `ministral-optimize` checks the fused graph against the original before keeping it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MS_DOMAIN = 'com.microsoft'
PREFIX = 'ministral_fuse/'
# Ops that only move, repeat or retype elements: traced through between the anchors.
LAYOUT_OPS = ('Reshape', 'Transpose', 'Expand', 'Unsqueeze', 'Squeeze', 'Tile', 'Cast',
              'Identity')
PROJECTIONS = ('MatMul', 'MatMulNBits', 'Gemm', 'FusedMatMul')


class FusionError(RuntimeError):
    """The graph's attention does not have the shape the fusion understands."""


@dataclass(frozen=True)
class Heads:
    """Head layout of the decoder: query heads, key/value heads, head size."""

    heads: int
    kv_heads: int
    head_dim: int


class _Graph:
    """Producer/consumer indexes and constant lookup over one graph."""

    def __init__(self, graph: onnx.GraphProto) -> None:
        self.producer = {out: node for node in graph.node for out in node.output}
        self.consumers: dict[str, list[onnx.NodeProto]] = {}
        for node in graph.node:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)
        self.initializers = {t.name: t for t in graph.initializer}

    def scalar(self, name: str) -> float | None:
        """The value of a constant with one element, else None."""
        tensor = self.initializers.get(name)
        node = self.producer.get(name)
        if tensor is None and node is not None and node.op_type == 'Constant':
            tensor = next((a.t for a in node.attribute if a.name == 'value'), None)
        if tensor is None:
            return None
        value = numpy_helper.to_array(tensor)
        return float(value.reshape(-1)[0]) if value.size == 1 else None

    def only_consumer(self, name: str) -> onnx.NodeProto | None:
        found = self.consumers.get(name, [])
        return found[0] if len(found) == 1 else None


def _scaling(g: _Graph, node: onnx.NodeProto) -> tuple[str, float] | None:
    """(the other input, factor) when `node` multiplies or divides by a constant scalar."""
    if node.op_type not in ('Mul', 'Div'):
        return None
    for index in (0, 1):
        value = g.scalar(node.input[1 - index])
        if value is None or (node.op_type == 'Div' and index == 1):
            continue
        return node.input[index], value if node.op_type == 'Mul' else 1.0 / value
    return None


def _back(g: _Graph, name: str) -> tuple[str, float]:
    """Follow `name` back through layout ops and constant scalings: (where it starts, the
    product of the scalings)."""
    scale = 1.0
    while True:
        node = g.producer.get(name)
        if node is None:
            return name, scale
        if node.op_type in LAYOUT_OPS:
            name = node.input[0]
            continue
        scaled = _scaling(g, node)
        if scaled is None:
            return name, scale
        name, factor = scaled
        scale *= factor


def _reaches(g: _Graph, name: str, target: str) -> bool:
    """True when `name` is `target` seen through layout ops only."""
    while name != target:
        node = g.producer.get(name)
        if node is None or node.op_type not in LAYOUT_OPS:
            return False
        name = node.input[0]
    return True


def _forward_to(g: _Graph, name: str, op_types: tuple[str, ...],
                through: tuple[str, ...]) -> tuple[onnx.NodeProto, str]:
    """The first node of `op_types` on the single-consumer chain from `name` via `through`,
    and the tensor it reads from the chain."""
    while True:
        node = g.only_consumer(name)
        if node is None:
            raise FusionError(f'{name!r} feeds {len(g.consumers.get(name, []))} nodes where '
                              'attention has one')
        if node.op_type in op_types:
            return node, name
        if node.op_type not in through:
            raise FusionError(f'{node.op_type} node {node.name!r} on the attention path')
        name = node.output[0]


@dataclass
class _Layer:
    index: int
    query: str
    key: str
    value: str
    past: tuple[str, str]
    present: tuple[str, str]
    output: str  # the tensor the output projection reads
    projection: onnx.NodeProto
    scale: float
    removed: list[onnx.NodeProto]


def _present_concat(g: _Graph, output: str, past: str) -> onnx.NodeProto:
    node = g.producer.get(output)
    if node is None or node.op_type != 'Concat' or list(node.input)[:1] != [past] \
            or len(node.input) != 2:
        raise FusionError(f'{output!r} is not a Concat of {past!r} and the new positions')
    axis = next((a.i for a in node.attribute if a.name == 'axis'), None)
    if axis not in (2, -2):
        raise FusionError(f'{output!r} concatenates on axis {axis}, not the sequence axis')
    return node


def _match_layer(g: _Graph, index: int, past: tuple[str, str], present: tuple[str, str]
                 ) -> _Layer:
    concat_k = _present_concat(g, present[0], past[0])
    concat_v = _present_concat(g, present[1], past[1])
    # The score MatMul: the first MatMul reading the present key (as its second input) through
    # layout ops and constant scalings, with the product of those scalings.
    scores, key_scale = None, 1.0
    frontier = [(present[0], 1.0)]
    while frontier and scores is None:
        name, factor = frontier.pop()
        for node in g.consumers.get(name, []):
            if node.op_type == 'MatMul' and node.input[1] == name:
                scores, key_scale = node, factor
                break
            scaled = _scaling(g, node)
            if node.op_type in LAYOUT_OPS or scaled is not None:
                frontier.append((node.output[0], factor * (scaled[1] if scaled else 1.0)))
    if scores is None:
        raise FusionError(f'no attention score MatMul reads {present[0]!r}')
    query, query_scale = _back(g, scores.input[0])
    scale = query_scale * key_scale
    # Scores -> Softmax: constant scalings, casts and one additive mask bias.
    name = scores.output[0]
    while True:
        node = g.only_consumer(name)
        if node is None:
            raise FusionError(f'the attention scores {name!r} feed several nodes')
        if node.op_type == 'Softmax':
            softmax = node
            break
        scaled = _scaling(g, node)
        if scaled is not None:
            scale *= scaled[1]
        elif node.op_type not in ('Add', 'Cast', 'Identity'):
            raise FusionError(f'{node.op_type} node {node.name!r} between the scores and the '
                              'Softmax')
        name = node.output[0]
    weighted, _ = _forward_to(g, softmax.output[0], ('MatMul',), ('Cast', 'Identity'))
    if not _reaches(g, weighted.input[1], present[1]):
        raise FusionError(f'the attention weights multiply something other than {present[1]!r}')
    projection, output = _forward_to(g, weighted.output[0], PROJECTIONS,
                                     ('Reshape', 'Transpose', 'Identity'))
    return _Layer(index, query, concat_k.input[1], concat_v.input[1], past, present,
                  output, projection, scale, [concat_k, concat_v])


def _bsh(name: str, tag: str) -> tuple[list[onnx.NodeProto], str]:
    """Nodes turning a BNSH tensor into [B, S, N*H]; the new tensor's name."""
    transposed, flat = f'{PREFIX}{tag}_bsnh', f'{PREFIX}{tag}_bsh'
    return [helper.make_node('Transpose', [name], [transposed], name=transposed,
                             perm=[0, 2, 1, 3]),
            helper.make_node('Reshape', [transposed, f'{PREFIX}bsh_shape'], [flat], name=flat)
            ], flat


def _sequence_inputs(graph: onnx.GraphProto, mask: str) -> tuple[list[onnx.NodeProto], str, str]:
    """Nodes making GQA's seqlens_k (int32 [B], last position) and total length (int32 [])."""
    p = PREFIX
    consts = [numpy_helper.from_array(np.array([1], dtype=np.int64), f'{p}axis1'),
              numpy_helper.from_array(np.array(1, dtype=np.int64), f'{p}one'),
              numpy_helper.from_array(np.array([0, 0, -1], dtype=np.int64), f'{p}bsh_shape')]
    graph.initializer.extend(consts)
    nodes = [
        helper.make_node('ReduceSum', [mask, f'{p}axis1'], [f'{p}count'], name=f'{p}count',
                         keepdims=0),
        helper.make_node('Sub', [f'{p}count', f'{p}one'], [f'{p}last'], name=f'{p}last'),
        helper.make_node('Cast', [f'{p}last'], [f'{p}seqlens_k'], name=f'{p}seqlens_k',
                         to=TensorProto.INT32),
        helper.make_node('Shape', [mask], [f'{p}mask_shape'], name=f'{p}mask_shape'),
        helper.make_node('Gather', [f'{p}mask_shape', f'{p}one'], [f'{p}total64'],
                         name=f'{p}total64', axis=0),
        helper.make_node('Cast', [f'{p}total64'], [f'{p}total'], name=f'{p}total',
                         to=TensorProto.INT32),
    ]
    return nodes, f'{p}seqlens_k', f'{p}total'


def _prune(graph: onnx.GraphProto) -> None:
    """Drop the nodes whose outputs nothing reads, then the initializers nothing reads."""
    needed = {o.name for o in graph.output}
    kept: list[onnx.NodeProto] = []
    for node in reversed(graph.node):
        if any(out in needed for out in node.output):
            kept.append(node)
            needed.update(node.input)
    del graph.node[:]
    graph.node.extend(reversed(kept))
    initializers = [t for t in graph.initializer if t.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(initializers)


def fuse_attention(model: onnx.ModelProto, heads: Heads, mask: str = 'attention_mask',
                   past: str = 'past_key_values.{i}.{kind}',
                   present: str = 'present.{i}.{kind}') -> list[str]:
    """Edit `model` in place: one GroupQueryAttention per layer; the names of the nodes
    added. Raises FusionError, the model untouched, when any layer does not match."""
    graph = model.graph
    inputs = {i.name for i in graph.input}
    outputs = {o.name for o in graph.output}
    if mask not in inputs:
        raise FusionError(f'the decoder has no {mask!r} input')
    ops = {node.op_type for node in graph.node}
    if 'GroupQueryAttention' in ops:
        raise FusionError('the decoder already fuses attention')
    if 'If' in ops:
        raise FusionError('the decoder branches (If, a merged export with use_cache_branch); '
                          'attention inside branches is not fused')
    g = _Graph(graph)
    layers = []
    while past.format(i=len(layers), kind='key') in inputs:
        i = len(layers)
        made = tuple(present.format(i=i, kind=kind) for kind in ('key', 'value'))
        if not set(made) <= outputs:
            raise FusionError(f'layer {i} has no {made[0]!r} output')
        layers.append(_match_layer(
            g, i, tuple(past.format(i=i, kind=kind) for kind in ('key', 'value')), made))
    if not layers:
        raise FusionError(f'the decoder has no {past.format(i=0, kind="key")!r} input')
    # Every layer matched: now edit. Each layer's nodes go right before its output
    # projection, which comes after everything they read.
    nodes, seqlens, total = _sequence_inputs(graph, mask)
    for offset, node in enumerate(nodes):
        graph.node.insert(offset, node)
    added = []
    for layer in layers:
        for node in layer.removed:
            graph.node.remove(node)
        tag = f'l{layer.index}'
        new: list[onnx.NodeProto] = []
        flat = []
        for role, name in (('q', layer.query), ('k', layer.key), ('v', layer.value)):
            made_nodes, made = _bsh(name, f'{tag}_{role}')
            new += made_nodes
            flat.append(made)
        attended = f'{PREFIX}{tag}_attention'
        new.append(helper.make_node(
            'GroupQueryAttention', flat + [layer.past[0], layer.past[1], seqlens, total],
            [attended, layer.present[0], layer.present[1]], name=attended, domain=MS_DOMAIN,
            num_heads=heads.heads, kv_num_heads=heads.kv_heads, scale=layer.scale))
        at = list(graph.node).index(layer.projection)
        for offset, node in enumerate(new):
            graph.node.insert(at + offset, node)
        position = list(layer.projection.input).index(layer.output)
        layer.projection.input[position] = attended
        added.append(attended)
    _prune(graph)
    if not any(op.domain == MS_DOMAIN for op in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    return added
