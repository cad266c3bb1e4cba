"""Int8 GEMM: the graph computes the documented arithmetic, close to float32; calibration leaves padding out."""

from __future__ import annotations

import numpy as np
import pytest

from index.model.cpu import cpu_features, native_int8_dot
from index.model.onnx import int8_gemm
from index.model.onnx.calibrate import calibration_texts, input_ranges, int8_gemm_graph
from index.model.onnx.graph import _Graph, bert_graph, linear_inputs

needs_vnni = pytest.mark.skipif(not native_int8_dot(cpu_features()),
                                reason="8-bit int8 GEMM is for CPUs with VNNI (without, uint8 x int8 pairs saturate)")
# 8-bit weights where the CPU has VNNI; 7-bit ones on every CPU (`make test-avx2` runs these as AVX2)
WIDTHS = [pytest.param(8, marks=needs_vnni), 7]


def outlier_activations(rng: np.random.Generator, tokens: int, channels: int) -> np.ndarray:
    """Activations as a transformer's: most channels small, two of them 30x larger, one token of zeros."""
    x = rng.normal(0, 1, size=(tokens, channels)).astype(np.float32)
    x[:, [3, 17]] *= 30
    x[5] = 0
    return x


def one_linear(weight: np.ndarray, input_range: np.ndarray, bits: int, leading: tuple[str, ...] = ("t",)):
    """A graph of one int8 GEMM linear layer: x [*leading, K] -> y [*leading, N] (a model's: batch, tokens)."""
    from onnx import TensorProto, helper

    g = _Graph(0)
    out = int8_gemm.linear(g, "x", weight, input_range, "lin", bits)
    outputs, inputs = weight.shape
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [*leading, inputs])
    y = helper.make_tensor_value_info(out, TensorProto.FLOAT, [*leading, outputs])
    graph = helper.make_graph(g.nodes, "one", [x], [y], g.initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_smoothing_meets_halfway_and_leaves_empty_channels_alone():
    weight = np.array([[2.0, 0.0, 1.0], [-8.0, 0.0, 0.5]], np.float32)
    got = int8_gemm.smoothing(weight, np.array([2.0, 5.0, 0.0], np.float32), power=0.5)
    np.testing.assert_allclose(got, [np.sqrt(2.0) / np.sqrt(8.0), 1.0, 1.0], rtol=1e-6)


@pytest.mark.parametrize("bits, top", [(8, 127), (7, 63)])
def test_weights_quantise_per_output_channel_within_half_a_step(bits, top):
    weight = np.random.default_rng(0).normal(size=(6, 40)).astype(np.float32)
    weight[2] *= 100  # one channel's scale does not coarsen the others
    codes, scales = int8_gemm.quantise_weight(weight, bits)
    assert codes.shape == (40, 6) and codes.dtype == np.int8
    assert np.array_equal(np.abs(codes).max(axis=0), [top] * 6)  # 7 bits: 2 x 255 x 63 fits AVX2's int16 pair sums
    assert np.all(np.abs(codes.T * scales[:, None] - weight) <= scales[:, None] / 2 + 1e-6)


def test_weights_of_another_width_are_refused():
    with pytest.raises(ValueError, match="8 or 7 bits"):
        int8_gemm.quantise_weight(np.ones((2, 2), np.float32), 6)


@pytest.mark.parametrize("bits", [8, 7])
def test_reference_is_close_to_the_float_product_despite_outlier_channels(bits):
    rng = np.random.default_rng(1)
    x, weight = outlier_activations(rng, 24, 64), rng.normal(0, 0.05, size=(48, 64)).astype(np.float32)
    ranges = np.abs(x).max(axis=0)
    want = x @ weight.T
    got = int8_gemm.reference(x, weight, int8_gemm.smoothing(weight, ranges), bits)
    assert np.array_equal(got[5], np.zeros(48, np.float32))  # a token of zeros stays zero
    assert np.linalg.norm(got - want) / np.linalg.norm(want) < 0.01


@pytest.mark.parametrize("bits", WIDTHS)
def test_the_graph_computes_the_reference(bits):
    from index.model.onnx.encoder import session

    rng = np.random.default_rng(2)
    x, weight = outlier_activations(rng, 33, 64), rng.normal(0, 0.05, size=(40, 64)).astype(np.float32)
    ranges = np.abs(x).max(axis=0) * 0.7  # calibration never sees everything: ranges only steer the smoothing
    got = session(one_linear(weight, ranges, bits).SerializeToString(), 1).run(None, {"x": x})[0]
    want = int8_gemm.reference(x, weight, int8_gemm.smoothing(weight, ranges), bits)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


@pytest.mark.parametrize("bits", WIDTHS)
def test_the_graph_keeps_a_batchs_axes_and_quantises_each_token_alone(bits):
    from index.model.onnx.encoder import session

    rng = np.random.default_rng(4)
    x = outlier_activations(rng, 2 * 9, 32).reshape(2, 9, 32)
    weight = rng.normal(0, 0.05, size=(24, 32)).astype(np.float32)
    x[1, 3] *= 1000  # one token's range does not coarsen its neighbours'
    ranges = np.abs(x).max(axis=(0, 1))
    got = session(one_linear(weight, ranges, bits, ("b", "t")).SerializeToString(), 1).run(None, {"x": x})[0]
    want = int8_gemm.reference(x.reshape(-1, 32), weight, int8_gemm.smoothing(weight, ranges), bits)
    assert got.shape == (2, 9, 24)
    np.testing.assert_allclose(got, want.reshape(2, 9, 24), rtol=1e-4, atol=1e-4 * np.abs(want).max())
    alone = session(one_linear(weight, ranges, bits).SerializeToString(), 1).run(None, {"x": x[0]})[0]
    np.testing.assert_allclose(got[0], alone, rtol=1e-6, atol=1e-6 * np.abs(alone).max())


def test_calibration_texts_are_news_paragraphs_and_sentences():
    texts = calibration_texts()
    assert len(texts) == 64 and all(t.strip() == t and len(t) >= 5 for t in texts)


def test_input_ranges_leave_padding_out():
    from test_onnx_graph import tiny_model

    from index.model.onnx.sources import torch_weights

    model = bert_graph(torch_weights(tiny_model("bert")))
    rows = [[0, 5, 17, 33, 60, 2, 90, 11, 2], [0, 7, 8, 2], [0, 2]]
    together = input_ranges(model, rows, 1)  # one pass: the short rows padded to 9 tokens
    alone = [input_ranges(model, [row], 1) for row in rows]
    assert set(together) == set(linear_inputs(model)) and len(together) == 2 * 4  # 2 layers x 4 matrices
    for layer, found in together.items():
        np.testing.assert_allclose(found, np.max([a[layer] for a in alone], axis=0), rtol=1e-5)


@pytest.mark.parametrize("bits", WIDTHS)
def test_an_int8_gemm_encoder_stays_in_the_float_space(bits):
    from test_onnx_graph import padded_batch, quantised, run, tiny_model

    model, weights = quantised(tiny_model("bert"), np.random.default_rng(3))
    ids, mask = padded_batch()
    real = mask.astype(bool)
    want = run(bert_graph(weights), ids, mask)[real]
    got = run(int8_gemm_graph(weights, [[0, 5, 17, 33, 60, 2], [0, 7, 8, 9, 2]], 1, bits), ids, mask)[real]
    cosines = np.sum(got * want, axis=1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
    assert cosines.min() > 0.999
