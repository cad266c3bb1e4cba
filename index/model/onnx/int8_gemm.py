"""Int8 matrix products for long passes on CPUs with VNNI: per-token activations, per-channel weights, smoothed.

A linear layer y = x @ W.T (x: tokens x K, W: N x K) becomes, for each token row t:

    x' = x / m,  W' = W * m               m: smoothing per input channel j (SmoothQuant), m_j =
                                           sqrt(range_j / max|W[:, j]|), range_j the calibrated max |x_j|
    q_t = round(x'_t / s_t) + z_t          uint8; s_t = (max(x'_t, 0) - min(x'_t, 0)) / 255, z_t = round(-min / s_t)
    w = round(W' / c)                      int8; c_o = max|W'[o, :]| / 127 per output channel o
    y_t = s_t * (q_t @ w.T - z_t * colsum(w)) * c

The graph quantises with QuantizeLinear over the tokens' axis (one scale and zero point a token) and multiplies
with ONNX Runtime's MatMulIntegerToFloat, q @ w.T (uint8 by int8 summed in int32, exact) times c in one kernel;
then y_t = s_t * that - (s_t * z_t) * (colsum(w) * c), the last an outer product added by one Gemm. With VNNI
(AVX-512 VNNI; AVX-VNNI too, which NumPy does not report: index/model/cpu.py) four such products are summed in
one instruction, so on a 2-core AMD EPYC (Zen 4) a 1024 x 384 x 1536 layer takes 4.4 ms on one thread, its
quantising included, against 11.1 ms in float32 (and 5.1 ms with the quantising written as ONNX's element-wise
operators, as until 2026-12-05: ~11 % more CPU for a write's passes). Without VNNI (AVX2), MLAS sums pairs of
uint8 x int8 products in int16 (vpmaddubsw), which saturates with 8-bit weights (2 x 255 x 127 > 32,767) but not
with 7-bit ones (codes within +-63: 2 x 255 x 63 = 32,130), as ONNX Runtime's `reduce_range` does. So the graph
comes in two widths: 8-bit weights for VNNI CPUs only, 7-bit weights exact on every x86-64 CPU, the same integers
with VNNI and without (index/model/runtime.plan says which runs where).

Each token is quantised over its own range (not the pass's: a pass holds many texts) and
asymmetrically (a GELU's output is nearly all positive). Smoothing moves the activations' outlier
channels into the weights, which quantise per output channel; the two errors then meet halfway.
Measured on the shared sets' paragraphs and sentences: cosine >= 0.9996 to float32 with 8-bit weights, >= 0.9992
with 7-bit ones (docs/performance.md).
"""

from __future__ import annotations

from typing import Callable, Protocol

import numpy as np

SMOOTHING_POWER = 0.5  # SmoothQuant's alpha: 0.3 and 0.7 were measured worse (lowest cosine 0.9995, 0.9996)
WEIGHT_BITS = (8, 7)  # 8: VNNI's exact sums only; 7: exact on AVX2 too (the module docstring)
_TINY = np.float32(1e-12)  # a token of zeros quantises with this scale (its codes are all z_t = 0)


class GraphBuilder(Protocol):
    """What the graph being written offers (index/model/onnx/graph._Graph)."""

    def constant(self, name: str, value: np.ndarray) -> str: ...

    def node(self, op: str, inputs: list[str], output: str, microsoft: bool = False, **attrs: object) -> str: ...


def smoothing(weight: np.ndarray, input_range: np.ndarray, power: float = SMOOTHING_POWER) -> np.ndarray:
    """float32 [K]: m_j = range_j^power / max|W[:, j]|^(1 - power) (1 where a channel is all zeros)."""
    w_range = np.abs(weight).max(axis=0)
    m = np.power(np.maximum(input_range, 1e-5), power) / np.power(np.maximum(w_range, 1e-5), 1.0 - power)
    return np.where((input_range > 0) & (w_range > 0), m, 1.0).astype(np.float32)


def quantise_weight(weight: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """(codes int8 [K, N], scales float32 [N]) with codes[:, o] * scales[o] ~ weight[o, :], per output channel;
    `bits` 8 (codes within +-127) or 7 (within +-63)."""
    if bits not in WEIGHT_BITS:
        raise ValueError(f"int8 GEMM weights are 8 or 7 bits, not {bits}")
    top = float(2 ** (bits - 1) - 1)
    scales = (np.abs(weight).max(axis=1) / top).astype(np.float32)
    scales[scales == 0] = 1.0
    codes = np.clip(np.round(weight / scales[:, None]), -top, top).astype(np.int8)
    return np.ascontiguousarray(codes.T), scales


def reference(x: np.ndarray, weight: np.ndarray, m: np.ndarray, bits: int) -> np.ndarray:
    """What `linear` computes, in NumPy (tests check the graph against it): x [T, K], weight [N, K] float32."""
    codes, scales = quantise_weight(weight * m[None, :], bits)
    xs = (x / m[None, :]).astype(np.float32)
    low, high = np.minimum(xs.min(axis=1, keepdims=True), 0), np.maximum(xs.max(axis=1, keepdims=True), 0)
    s = np.maximum((high - low) / np.float32(255), _TINY)
    z = np.round(-low / s)
    q = np.clip(np.round(xs / s) + z, 0, 255)
    products = q.astype(np.int64) @ codes.astype(np.int64)
    return ((products - z * codes.astype(np.int64).sum(axis=0)) * s * scales).astype(np.float32)


def linear(g: GraphBuilder, x: str, weight: np.ndarray, input_range: np.ndarray, name: str, bits: int) -> str:
    """Nodes computing x @ weight.T as the module docstring says; x [..., K], `weight` float32 [N, K] quantised to
    `bits`, `input_range` [K]. The tokens are flattened to rows [T, K] for the per-token operators and shaped back."""
    m = smoothing(weight, input_range)
    codes, scales = quantise_weight(weight * m[None, :], bits)
    colsum = codes.astype(np.int32).sum(axis=0).astype(np.float32)
    inputs, outputs = codes.shape

    def c(suffix: str, value: np.ndarray | np.floating) -> str:
        return g.constant(f"{name}.{suffix}", np.asarray(value))

    def n(op: str, operands: list[str], suffix: str, **attrs: object) -> str:
        return g.node(op, operands, f"{name}.{suffix}", **attrs)

    rows = n("Reshape", [x, c("rows_shape", np.array([-1, inputs], np.int64))], "rows")
    xs = n("Mul", [rows, c("unsmooth", (1.0 / m).astype(np.float32))], "smoothed")
    s, z, codes_of = _token_quantiser(c, n, xs)
    products = g.node("MatMulIntegerToFloat", [codes_of, c("weight_codes", codes), c("one", np.float32(1)),
                                               c("weight_scales", scales)], f"{name}.products", microsoft=True)
    axis = c("axis1", np.array([1], np.int64))
    rescaled = n("Mul", [products, n("Unsqueeze", [s, axis], "step_column")], "rescaled")
    offset = n("Unsqueeze", [n("Mul", [s, z], "offset0"), axis], "offset")  # [T, 1]: s_t * z_t
    y = n("Gemm", [offset, c("minus_colsum", (-colsum * scales)[None, :].astype(np.float32)), rescaled], "flat")
    shape = n("Concat", [n("Shape", [x], "lead", start=0, end=-1), c("width", np.array([outputs], np.int64))],
              "shape", axis=0)
    return g.node("Reshape", [y, shape], name)


def _token_quantiser(c: Callable[[str, np.ndarray | np.floating], str], n: Callable[..., str],
                     xs: str) -> tuple[str, str, str]:
    """(s, z, q) for rows `xs` [T, K]: each token's step and zero point [T] (float32) and its uint8 codes."""
    from onnx import TensorProto

    zero = c("zero", np.float32(0))
    low = n("Min", [n("ReduceMin", [xs], "row_min", keepdims=0, axes=[-1]), zero], "low")
    high = n("Max", [n("ReduceMax", [xs], "row_max", keepdims=0, axes=[-1]), zero], "high")
    s = n("Max", [n("Div", [n("Sub", [high, low], "span"), c("levels", np.float32(255))], "step0"),
                  c("tiny", _TINY)], "step")
    z = n("Round", [n("Div", [n("Neg", [low], "minus_low"), s], "zero_point0")], "zero_point")
    # QuantizeLinear: saturate(round(xs / s) + z) per row (axis 0), rounding half to even as Round does
    q = n("QuantizeLinear", [xs, s, n("Cast", [z], "zero_code", to=TensorProto.UINT8)], "codes", axis=0)
    return s, z, q
