"""A deterministic fake encoder for unit tests: character-bigram hashing into unit vectors."""

from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np

from index.model.embed import as_unit_rows


class FakeEncoder:
    """Texts sharing character bigrams get similar vectors; no model, no randomness."""

    name = "fake-bigram"

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        grams = [text[i:i + 2] for i in range(max(len(text) - 1, 1))]
        for gram in grams:
            bucket = int.from_bytes(hashlib.md5(gram.encode()).digest()[:4], "little") % self.dim
            vec[bucket] += 1.0
        return vec

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return as_unit_rows(np.stack([self._vector(t) for t in texts]))

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def encode_passages(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        return self._encode(texts)

    def passage_lengths(self, texts: Sequence[str]) -> np.ndarray:
        return np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))

    def config(self) -> dict[str, object]:
        return {"name": self.name, "dim": self.dim, "query_prompt": "", "passage_prompt": "", "max_seq_length": 0}

    def describe(self) -> dict[str, str]:
        return {"queries": "fake", "passages": "fake"}
