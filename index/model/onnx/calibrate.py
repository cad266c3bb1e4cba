"""An int8 GEMM graph (index/model/onnx/int8_gemm.py) calibrated: each linear layer's input range from known texts.

The ranges set only the smoothing between activations and weights (each token is still quantised
over its own range), so a few dozen texts are enough: 60 and 664 seed texts gave the same
cosine to float32 on the shared sets to 1e-4. The texts are news paragraphs and sentences from the
seed pages (calibration.txt beside this file), fixed, so a graph is the same wherever it is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.model.onnx.graph import BertWeights, bert_graph, linear_inputs

CALIBRATION_FILE = Path(__file__).with_name("calibration.txt")
CALIBRATION_PASS_TOKENS = 4096  # tokens a calibration pass computes at most


def calibration_texts() -> list[str]:
    """The calibration texts, one a line."""
    return [line for line in CALIBRATION_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]


def input_ranges(float_model, rows: Sequence[Sequence[int]], threads: int) -> dict[str, np.ndarray]:
    """max |x_j| per channel of each linear layer's input over every real token of `rows` (padding left out),
    by the layer's name; `float_model` a float32 or 4-bit graph of `bert_graph`."""
    import onnx
    from onnx import TensorProto, helper

    from index.model.onnx.encoder import pad, passes, session

    wanted = linear_inputs(float_model)
    model = onnx.ModelProto()
    model.CopyFrom(float_model)
    tensors = sorted(set(wanted.values()))
    model.graph.output.extend(helper.make_tensor_value_info(t, TensorProto.FLOAT, None) for t in tensors)
    run = session(model.SerializeToString(), threads)
    seen: dict[str, np.ndarray] = {}
    for chunk in passes([len(r) for r in rows], len(rows), CALIBRATION_PASS_TOKENS):
        ids, mask = pad([rows[i] for i in chunk])
        outputs = run.run(tensors, {"input_ids": ids, "attention_mask": mask})
        real = mask.astype(bool)
        for name, value in zip(tensors, outputs):
            top = np.abs(value[real]).max(axis=0)
            seen[name] = np.maximum(seen[name], top) if name in seen else top
    return {layer: seen[tensor].astype(np.float32) for layer, tensor in wanted.items()}


def int8_gemm_graph(weights: BertWeights, rows: Sequence[Sequence[int]], threads: int, weight_bits: int):
    """The int8 GEMM graph of `weights` (its weights `weight_bits` wide), its smoothing calibrated on `rows`
    (token ids, as passages are fed)."""
    return bert_graph(weights, ranges=input_ranges(bert_graph(weights), rows, threads), weight_bits=weight_bits)
