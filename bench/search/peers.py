"""The reference systems our retrievers are timed against, over the same tokens and vectors.

- BM25: bm25s over the project's jieba terms (built by `build.py peer`).
- Dense: exact inner product in numpy, `V @ q`, over the very vectors in the FAISS indexes
  (paragraphs, and sentences blended in as the dense leg does).
- Hybrid: both of those, k0 candidates each, fused by the project's own `weighted_sum` (alpha 0.5).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from index.model.embed import Encoder
from index.tokenize import Tokenizer
from search.embedded.segment_dense import blend
from search.fusion import Ranked, ordered, weighted_sum


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Row numbers of the `k` highest scores, best first (argpartition, then a sort of k)."""
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    rows = np.argpartition(-scores, k - 1)[:k]
    return rows[np.argsort(-scores[rows], kind="stable")]


class BM25sPeer:
    """query, k -> paragraphs by bm25s over the distinct jieba terms of the query (as our plain query)."""

    def __init__(self, folder: Path, ids_file: Path, tokenizer: Tokenizer) -> None:
        import bm25s

        self.retriever = bm25s.BM25.load(str(folder))
        self.ids: list[str] = json.loads(ids_file.read_text(encoding="utf-8"))
        self.tokenizer = tokenizer

    def search(self, text: str, k: int) -> Ranked:
        terms = list(dict.fromkeys(self.tokenizer.terms(text)))
        if not terms:  # as our retriever: a query without words finds nothing
            return []
        scores = self.retriever.get_scores(terms)
        return ordered((self.ids[r], float(scores[r])) for r in top_rows(scores, k) if scores[r] > 0)


class ExactDense:
    """Exact cosine search over unit rows: `V @ q` and a top-k, no index structure.

    With sentence vectors (and each one's paragraph row, grouped by paragraph), every paragraph
    is scored as our dense leg scores it: blended with its best sentence's cosine, `S @ q`.
    """

    def __init__(self, vectors: np.ndarray, ids: list[str], encoder: Encoder, sentences: np.ndarray | None = None,
                 owners: np.ndarray | None = None, weight: float = 0.0) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.ids = ids
        self.encoder = encoder
        use = sentences is not None and owners is not None and len(owners) > 0 and weight > 0
        self.sentences = np.ascontiguousarray(sentences, dtype=np.float32) if use else None
        self.groups, self.starts = np.unique(owners, return_index=True) if use else (None, None)
        self.weight = weight

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Every paragraph's exact score for one query vector."""
        scores = self.vectors @ query
        if self.sentences is None:
            return scores
        best = np.full(len(scores), -np.inf, dtype=np.float32)
        best[self.groups] = np.maximum.reduceat(self.sentences @ query, self.starts)
        return blend(scores, best, self.weight)

    def search_vector(self, query: np.ndarray, k: int) -> Ranked:
        scores = self.scores(query)
        return ordered((self.ids[r], float(scores[r])) for r in top_rows(scores, k))

    def search(self, text: str, k: int) -> Ranked:
        return self.search_vector(self.encoder.encode_queries([text])[0], k)


class HybridPeer:
    """bm25s and exact dense, `k0` candidates each, fused by a weighted sum of min-max scores."""

    def __init__(self, sparse: BM25sPeer, dense: ExactDense, k0: int = 100, alpha: float = 0.5) -> None:
        self.sparse, self.dense, self.k0, self.alpha = sparse, dense, k0, alpha

    def search(self, text: str, k: int) -> Ranked:
        return weighted_sum(self.sparse.search(text, self.k0), self.dense.search(text, self.k0), self.alpha)[:k]


def recall_at_k(found: Ranked, exact: np.ndarray, scores: np.ndarray, row_of: dict[str, int], k: int = 10) -> float:
    """Share of the exact top `k` that `found` recovers, counting ties at the k-th score as hits.

    `exact` are the exact top rows (best first), `scores` every row's exact score and `row_of`
    maps a paragraph id to its row: a found paragraph is a hit when its exact score reaches
    the k-th best (equal vectors tie, and either of them is right).
    """
    want = min(k, len(exact))
    if want == 0:
        return 1.0
    threshold = scores[exact[want - 1]] - 1e-6
    hits = sum(1 for pid, _ in found[:k] if scores[row_of[pid]] >= threshold)
    return min(hits, want) / want
