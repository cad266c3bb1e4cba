"""Dense search of one segment of the embedded engine: its paragraph and sentence FAISS indexes, blended.

With sentence vectors, a paragraph scores (1 - w) * cos(paragraph) + w * max(cos(paragraph),
cos(its best sentence)): a question about one sentence of a long paragraph finds it, and a
paragraph is never ranked below its own vector's cosine times (1 - w) + w. Candidates come from
both FAISS indexes of a segment and are then scored exactly from their stored vectors; scores are
absolute, so each segment's top k merged by score is the top k of them all (search/embedded/corpus.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.store.sentence_store import SentenceStore
from index.store.vector_store import Exclusion, VectorStore
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


class SegmentDense:
    """query vectors, k -> one segment's paragraphs ranked by cosine (blended with their sentences').

    `deleted` rows are never returned; their exclusions (FAISS selectors) are built here, once.
    """

    def __init__(self, store: VectorStore, sentences: SentenceStore | None = None, sentence_weight: float = 0.0,
                 deleted: np.ndarray | None = None) -> None:
        self.store = store
        self.sentences = sentences if sentences is not None and len(sentences) and sentence_weight > 0 else None
        self.sentence_weight = sentence_weight
        deleted = np.zeros(0, dtype=np.int64) if deleted is None else np.asarray(deleted, dtype=np.int64)
        self.deleted = deleted
        self.excluded = Exclusion.of(deleted)
        self.excluded_sentences = self.sentences.exclusion(deleted) if self.sentences is not None else None

    def search_vectors(self, vectors: np.ndarray, k: int, rows: np.ndarray | None = None) -> list[Ranked]:
        """Ranked paragraphs for each query vector: only among `rows` when given (which must hold no deleted
        row), else among every row not deleted."""
        if self.sentences is None:
            return self.store.search(vectors, k, rows, self.excluded)
        depth = max(k, MIN_CANDIDATES)
        by_paragraph = self.store.search_rows(vectors, depth, rows, self.excluded)
        by_sentence = self.sentences.candidates(vectors, SENTENCE_DEPTH * depth, rows, self.excluded_sentences)
        return [self._rescored(vector, np.union1d(found, owners), k)
                for vector, found, owners in zip(vectors, by_paragraph, by_sentence)]

    def _rescored(self, vector: np.ndarray, candidates: np.ndarray, k: int) -> Ranked:
        """The best `k` of `candidates` (paragraph rows) by the blended score."""
        own = self.store.vectors(candidates) @ vector
        scores = blend(own, self.sentences.best(vector[None, :], candidates)[0], self.sentence_weight)
        best = np.argsort(-scores, kind="stable")[:k]
        ids = self.store.ids
        return sorted(((ids[candidates[i]], float(scores[i])) for i in best), key=lambda p: (-p[1], p[0]))


@dataclass(frozen=True)
class DensePart:
    """One segment's dense search within a snapshot: where its rows start (its deletions are in `search`)."""

    search: SegmentDense
    base: int
    size: int
    deleted_key: object = None  # the snapshot's Deletions it was built for (reused while they are the same)

    @property
    def live(self) -> int:
        return self.size - len(self.search.deleted)

    def rows_in(self, allowed: np.ndarray) -> np.ndarray:
        """The segment's rows allowed by a global row mask."""
        return np.flatnonzero(allowed[self.base:self.base + self.size])

    def search_vectors(self, vectors: np.ndarray, k: int, rows: np.ndarray | None = None) -> list[Ranked]:
        return self.search.search_vectors(vectors, k, rows)
