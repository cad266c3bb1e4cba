"""Dense search of a snapshot's small exact segments together: one product per segment, one ranking for all.

A feed leaves many small segments (one a write until merges fold them together). Searched one by one,
each cost a query a dozen NumPy calls and their Python whatever its size: at 100k paragraphs, four
segments of 3 to 195 rows beside the base one took dense search from 3.3 to 5.8 ms of CPU a query,
and under 8 clients the service answered 80 queries a second instead of 120. Here every live
row of those segments is scored with one product over each segment's paragraph vectors and
one over its sentence vectors (views of FAISS's own arrays: nothing is copied), by the score
SegmentDense gives: (1 - w) * cos(paragraph) + w * max(cos(paragraph), cos(its best sentence)).

Every row is scored (deleted ones are dropped after), not a candidate list (search/embedded/segment_dense.py
fetches candidates first): the tail's top k is the exact top k of its live rows by (-score, id). A
paragraph without sentences scores (1 - w) * p + w * p, p to float32 rounding.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from index.shared_lists import SHARED_LISTS_ROWS
from search.embedded.segment_dense import DensePart, blend
from search.fusion import Ranked, top_ranked

# A segment of at most this many paragraphs is searched in the tail (when the index has more than one
# segment): its vectors are exact (FAISS IndexFlat) and a product over them costs what the calls around it do.
# Past it, a segment takes the index's IVF lists where the index has some (index/shared_lists.py): the same size.
TAIL_ROWS = SHARED_LISTS_ROWS


def in_tail(part: DensePart) -> bool:
    """Whether a segment's dense search belongs in the tail: few rows, its paragraph and sentence vectors both
    exact (a segment's sentences may number past the ANN threshold while its paragraphs do not)."""
    sentences = part.search.sentences
    return part.size <= TAIL_ROWS and part.search.store.kind == "exact" and (
        sentences is None or sentences.store.kind == "exact")


class TailDense:
    """query vectors, k -> the best paragraphs of several small segments, as one exact ranking.

    Tail rows are the parts' rows one after another (part i's row r is tail row starts[i] + r).
    Invariant: the sentences of tail row t are sentence rows order[first[j]:first[j + 1]] for
    t == with_sentences[j] (in the parts' sentence rows one after another).
    """

    def __init__(self, parts: Sequence[DensePart], sentence_weight: float) -> None:
        self.parts = list(parts)
        self.weight = sentence_weight
        self.paragraphs = [part.search.store.flat_rows() for part in self.parts]
        sizes = [len(rows) for rows in self.paragraphs]
        starts = np.cumsum([0, *sizes])
        self.size = int(starts[-1])
        self.ids = [pid for part in self.parts for pid in part.search.store.ids]
        self.live = np.ones(self.size, dtype=bool)
        for part, start in zip(self.parts, starts):
            self.live[start + part.search.deleted] = False
        with_sentences = [(part.search.sentences, start) for part, start in zip(self.parts, starts)
                          if part.search.sentences is not None]
        self.sentences = [store.store.flat_rows() for store, _ in with_sentences]
        owners = np.concatenate([start + store.owner for store, start in with_sentences] or [np.zeros(0, np.int64)])
        self.order = np.argsort(owners, kind="stable")
        counts = np.bincount(owners, minlength=self.size)
        self.with_sentences = np.flatnonzero(counts)
        self.first = (np.cumsum(counts) - counts)[self.with_sentences]

    @property
    def bases(self) -> list[tuple[int, int]]:
        """(global row of row 0, rows) of each part, in tail order."""
        return [(part.base, part.size) for part in self.parts]

    def rows_in(self, allowed: np.ndarray) -> np.ndarray:
        """Tail rows allowed by a global row mask."""
        return np.flatnonzero(np.concatenate([allowed[base:base + size] for base, size in self.bases]))

    def scores(self, vector: np.ndarray) -> np.ndarray:
        """The blended score of every tail row (deleted ones too) for one query vector.

        Products are matrix-vector ones, as SegmentDense's and the Milvus backend's rescoring are. Their last bit
        depends on a row's place in the matrix (BLAS blocks rows), so one vector stored twice (a reprint) may
        score twice a float32 step apart: such copies order by that rounding, not by id.
        """
        query = np.asarray(vector, dtype=np.float32)
        own = np.concatenate([rows @ query for rows in self.paragraphs])
        if self.weight <= 0 or not len(self.order):
            return own
        sentence = np.concatenate([rows @ query for rows in self.sentences])
        best = np.full_like(own, -np.inf)
        best[self.with_sentences] = np.maximum.reduceat(sentence[self.order], self.first)
        return blend(own, best, self.weight)

    def search_vectors(self, vectors: np.ndarray, k: int, rows: np.ndarray | None = None) -> list[Ranked]:
        """Ranked paragraphs for each query vector, best first by (-score, id): among tail `rows` when given
        (which must hold no deleted row), else among every live row."""
        among = np.flatnonzero(self.live) if rows is None else np.asarray(rows, dtype=np.int64)
        if k <= 0 or not len(among):
            return [[] for _ in range(len(vectors))]
        return [top_ranked(self.scores(vector)[among], among, k, self.ids_of) for vector in vectors]

    def ids_of(self, rows: np.ndarray) -> list[str]:
        """The paragraph ids of tail rows."""
        return [self.ids[row] for row in rows]
