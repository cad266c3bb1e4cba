"""Token states -> one unit vector per text: sentence-transformers' mean and CLS pooling, in NumPy."""

from __future__ import annotations

import numpy as np


def as_unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm, float32, C-contiguous (zero rows stay zero)."""
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    """[batch, tokens, dim] states and their [batch, tokens] 0/1 mask -> [batch, dim] (not normalised).

    mean: the average over the text's own tokens (padding excluded), as sentence-transformers'
    Pooling computes it (sum / max(count, 1e-9)); cls: the first token's state.
    """
    if mode == "cls":
        return np.ascontiguousarray(hidden[:, 0, :], dtype=np.float32)
    if mode != "mean":
        raise ValueError(f"unknown pooling {mode!r}")
    weights = mask.astype(np.float32)[:, :, None]
    summed = (hidden * weights).sum(axis=1)
    return (summed / np.maximum(weights.sum(axis=1), 1e-9)).astype(np.float32)
