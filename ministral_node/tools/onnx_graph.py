"""A small helper for writing ONNX graphs with `onnx.helper`: unique names, constants, layers.

Only the test-model builder uses it; it needs `onnx` (a development dependency).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
MS_DOMAIN = 'com.microsoft'

NP_TO_ONNX = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float16): TensorProto.FLOAT16,
              np.dtype(np.int64): TensorProto.INT64, np.dtype(np.uint8): TensorProto.UINT8}

# Emits a projection `x @ W` for a weight of shape (k, n): a float MatMul or a 4-bit one.
Linear = Callable[['Graph', str, str, int, int], str]


class Graph:
    """Accumulates nodes, initializers, inputs and outputs of one ONNX graph."""

    def __init__(self, name: str, dtype: np.dtype, rng: np.random.Generator) -> None:
        self.name = name
        self.dtype = np.dtype(dtype)
        self.rng = rng
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []
        self._count = 0

    @property
    def onnx_dtype(self) -> int:
        return NP_TO_ONNX[self.dtype]

    def fresh(self, hint: str) -> str:
        self._count += 1
        return f'{hint}_{self._count}'

    def op(self, op_type: str, inputs: list[str], hint: str = '', domain: str = '',
           outputs: int = 1, **attrs) -> str:
        """Add a node; returns its (first) output name."""
        names = [self.fresh(hint or op_type.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, names, name=self.fresh(op_type),
                                           domain=domain, **attrs))
        return names[0]

    def op_to(self, op_type: str, inputs: list[str], output: str, domain: str = '',
              **attrs) -> str:
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=self.fresh(op_type),
                                           domain=domain, **attrs))
        return output

    def const(self, value: np.ndarray, hint: str = 'c') -> str:
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def i64(self, *values: int) -> str:
        return self.const(np.array(values, dtype=np.int64), 'i64')

    def scalar_i64(self, value: int) -> str:
        return self.const(np.array(value, dtype=np.int64), 's64')

    def weight(self, shape: tuple[int, ...], std: float) -> np.ndarray:
        return (self.rng.standard_normal(shape) * std).astype(np.float32)

    def add_input(self, name: str, elem: int, shape: list) -> str:
        self.inputs.append(helper.make_tensor_value_info(name, elem, shape))
        return name

    def add_output(self, name: str, elem: int, shape: list, first: bool = False) -> None:
        info = helper.make_tensor_value_info(name, elem, shape)
        self.outputs.insert(0 if first else len(self.outputs), info)

    def model(self) -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs,
                                  self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', OPSET),
                                                        helper.make_opsetid(MS_DOMAIN, 1)],
                                  producer_name='ministral_node.tools.build_test_model')
        model.ir_version = 10
        return model

    # Layers -------------------------------------------------------------------------------

    def rms_norm(self, x: str, width: int, eps: float, hint: str) -> str:
        weight = self.const((1.0 + 0.1 * self.rng.standard_normal(width)).astype(self.dtype),
                            f'{hint}_w')
        if self.dtype == np.float16:
            # Statistics in float32: squares of float16 activations overflow easily.
            x32 = self.op('Cast', [x], 'x32', to=TensorProto.FLOAT)
            mean = self.op('ReduceMean', [self.op('Mul', [x32, x32])], axes=[-1], keepdims=1)
            inv = self.op('Reciprocal', [self.op('Sqrt', [self.op(
                'Add', [mean, self.const(np.array(eps, np.float32))])])])
            normed = self.op('Cast', [self.op('Mul', [x32, inv])], to=TensorProto.FLOAT16)
        else:
            mean = self.op('ReduceMean', [self.op('Mul', [x, x])], axes=[-1], keepdims=1)
            inv = self.op('Reciprocal', [self.op('Sqrt', [self.op(
                'Add', [mean, self.const(np.array(eps, self.dtype))])])])
            normed = self.op('Mul', [x, inv])
        return self.op('Mul', [normed, weight], f'{hint}_out')

    def silu(self, x: str) -> str:
        return self.op('Mul', [x, self.op('Sigmoid', [x])])

    def gelu(self, x: str) -> str:
        # tanh approximation, from plain ops (opset 17 has no Gelu).
        c = np.sqrt(2.0 / np.pi)
        cube = self.op('Mul', [self.op('Mul', [x, x]), x])
        inner = self.op('Mul', [self.op('Add', [x, self.op('Mul', [cube, self.const(
            np.array(0.044715, self.dtype))])]), self.const(np.array(c, self.dtype))])
        return self.op('Mul', [self.op('Mul', [x, self.const(np.array(0.5, self.dtype))]),
                               self.op('Add', [self.const(np.array(1.0, self.dtype)),
                                               self.op('Tanh', [inner])])])


def float_linear(std: float = 0.02) -> Linear:
    """Projections as plain MatMul with random float weights (quantizable afterwards)."""

    def linear(g: Graph, x: str, hint: str, k: int, n: int) -> str:
        w = g.const(g.weight((k, n), std).astype(g.dtype), f'{hint}_w')
        return g.op('MatMul', [x, w], hint)

    return linear


def fixed_linear(weights: dict[str, np.ndarray], fallback: Linear) -> Linear:
    """Use the given weight for named projections (e.g. a tied LM head), else `fallback`."""

    def linear(g: Graph, x: str, hint: str, k: int, n: int) -> str:
        if hint in weights:
            w = g.const(weights[hint].astype(g.dtype), f'{hint}_w')
            return g.op('MatMul', [x, w], hint)
        return fallback(g, x, hint, k, n)

    return linear


def packed_q4_linear(block_size: int = 32, accuracy_level: int = 4,
                     scale: float = 0.002) -> Linear:
    """Projections as `com.microsoft.MatMulNBits` with random packed 4-bit weights.

    Writes the quantized layout directly (uint8 [n, blocks, block/2], one scale per block,
    symmetric so no zero points), which is what makes a real-size synthetic model quick.
    """

    def linear(g: Graph, x: str, hint: str, k: int, n: int) -> str:
        blocks = (k + block_size - 1) // block_size
        packed = g.rng.integers(0, 256, size=(n, blocks, block_size // 2), dtype=np.uint8)
        scales = np.full(n * blocks, scale, dtype=g.dtype)
        return g.op('MatMulNBits', [x, g.const(packed, f'{hint}_q4'),
                                    g.const(scales, f'{hint}_scales')], hint, domain=MS_DOMAIN,
                    K=k, N=n, bits=4, block_size=block_size, accuracy_level=accuracy_level)

    return linear
