"""Dense retriever: the query encoded once, nearest paragraphs by cosine in FAISS.

With sentence vectors, a paragraph scores (1 - w) * cos(paragraph) + w * max(cos(paragraph),
cos(its best sentence)): a question about one sentence of a long paragraph finds it, and a
paragraph is never ranked below its own vector's cosine times (1 - w) + w. Candidates come from
both FAISS indexes and are then scored exactly from their stored vectors.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from index.model.embed import Encoder
from index.store.sentence_store import SentenceStore
from index.store.vector_store import VectorStore
from search.fusion import Ranked

SENTENCE_DEPTH = 2  # sentences fetched per paragraph asked for: several may share a paragraph
# Candidates fetched from each FAISS index at least, however few results are asked for: the
# blended score reorders them, so a top 10 taken from only 10 + 20 candidates misses paragraphs
# that a deeper list would have ranked in. At 100k paragraphs (IVF, nprobe 64), recall@10
# against exact blended search: 0.976 with 10, 0.994 with 30 (0.1 ms more), no gain beyond.
MIN_CANDIDATES = 30


def blend(paragraph: np.ndarray, sentence: np.ndarray, weight: float) -> np.ndarray:
    """The paragraph scores from their own cosines and their best sentences' (-inf: none)."""
    return (1.0 - weight) * paragraph + weight * np.maximum(paragraph, sentence)


class DenseRetriever:
    """query, k -> paragraphs ranked by cosine similarity of unit vectors (and of their sentences')."""

    def __init__(self, encoder: Encoder, store: VectorStore, sentences: SentenceStore | None = None,
                 sentence_weight: float = 0.0) -> None:
        self.encoder = encoder
        self.store = store
        self.sentences = sentences if sentences is not None and len(sentences) and sentence_weight > 0 else None
        self.sentence_weight = sentence_weight

    def encode(self, queries: Sequence[str]) -> np.ndarray:
        return self.encoder.encode_queries(list(queries))

    def search_vectors(self, vectors: np.ndarray, k: int, rows: np.ndarray | None = None) -> list[Ranked]:
        """Ranked paragraphs for each query vector (only among `rows` when given)."""
        if self.sentences is None:
            return self.store.search(vectors, k, rows)
        depth = max(k, MIN_CANDIDATES)
        by_paragraph = self.store.search_rows(vectors, depth, rows)
        by_sentence = self.sentences.candidates(vectors, SENTENCE_DEPTH * depth, rows)
        return [self._rescored(vector, np.union1d(found, owners), k)
                for vector, found, owners in zip(vectors, by_paragraph, by_sentence)]

    def _rescored(self, vector: np.ndarray, candidates: np.ndarray, k: int) -> Ranked:
        """The best `k` of `candidates` (paragraph rows) by the blended score."""
        own = self.store.vectors(candidates) @ vector
        scores = blend(own, self.sentences.best(vector[None, :], candidates)[0], self.sentence_weight)
        best = np.argsort(-scores, kind="stable")[:k]
        ids = self.store.ids
        return sorted(((ids[candidates[i]], float(scores[i])) for i in best), key=lambda p: (-p[1], p[0]))

    def search(self, text: str, k: int, rows: np.ndarray | None = None) -> Ranked:
        """The top `k` paragraphs for one query (only among `rows` when given)."""
        return self.search_vectors(self.encode([text]), k, rows)[0]
