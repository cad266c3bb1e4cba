"""Sentence vectors of multi-sentence paragraphs, searched by paragraph: a paragraph's best sentence.

Rows live in a VectorStore whose ids name the paragraph each sentence comes from; `owner[row]`
is that paragraph's row in the paragraph store, so filters and candidates (paragraph rows)
map to sentence rows without touching ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.store.vector_store import SENTENCE_FILES, Exclusion, VectorStore, VectorStoreError


class OwnerIds(Sequence[str]):
    """Sentence row -> the id of the paragraph it is from, read through the owner rows."""

    def __init__(self, owner: np.ndarray, paragraph_ids: list[str]) -> None:
        self.owner = owner
        self.paragraph_ids = paragraph_ids

    def __len__(self) -> int:
        return len(self.owner)

    def __getitem__(self, row):
        if isinstance(row, slice):
            return [self.paragraph_ids[r] for r in self.owner[row]]
        return self.paragraph_ids[self.owner[row]]


class SentenceStore:
    """Sentence rows grouped by paragraph row; every paragraph has zero or more (never exactly one)."""

    def __init__(self, store: VectorStore, paragraph_ids: list[str]) -> None:
        row_of = {pid: row for row, pid in enumerate(paragraph_ids)}
        unknown = [pid for pid in set(store.ids) if pid not in row_of]
        if unknown:
            raise VectorStoreError(f"sentence vectors of unknown paragraphs ({unknown[0]} …): rebuild the index")
        self.owner = np.fromiter((row_of[pid] for pid in store.ids), dtype=np.int64, count=len(store.ids))
        # a sentence row's paragraph id from its owner row: no string per sentence (416,732 of them at 100k: 31 MB)
        self.store = VectorStore(store.index, OwnerIds(self.owner, paragraph_ids), store.nprobe)
        # Invariant: the sentences of paragraph row r are rows order[starts[r]:starts[r + 1]].
        self.order = np.argsort(self.owner, kind="stable")
        self.starts = np.searchsorted(self.owner[self.order], np.arange(len(paragraph_ids) + 1))

    @classmethod
    def open(cls, folder: Path, paragraph_ids: list[str]) -> "SentenceStore | None":
        """The sentence vectors in `folder`, or None for an index built without them."""
        if not (folder / SENTENCE_FILES[0]).exists():
            return None
        return cls(VectorStore.open(folder, SENTENCE_FILES), paragraph_ids)

    def __len__(self) -> int:
        return len(self.owner)

    def rows_of(self, paragraph_rows: np.ndarray) -> np.ndarray:
        """The sentence rows of those paragraph rows (grouped by paragraph, in the order given)."""
        paragraph_rows = np.asarray(paragraph_rows, dtype=np.int64)
        counts = self.starts[paragraph_rows + 1] - self.starts[paragraph_rows]
        if not counts.sum():
            return np.zeros(0, dtype=np.int64)
        # position j of the result is sentence (j - first[j]) of its paragraph, from starts[paragraph]
        first = np.repeat(np.cumsum(counts) - counts, counts)
        return self.order[np.repeat(self.starts[paragraph_rows], counts) + np.arange(counts.sum()) - first]

    def _rows_among(self, paragraph_rows: np.ndarray) -> np.ndarray:
        """The sentence rows of those paragraph rows, ascending (a filter may name most of the corpus:
        one vectorised pass, not a slice per paragraph)."""
        allowed = np.zeros(len(self.starts) - 1, dtype=bool)
        allowed[paragraph_rows] = True
        return np.flatnonzero(allowed[self.owner])

    def best(self, queries: np.ndarray, paragraph_rows: np.ndarray) -> np.ndarray:
        """scores[q, i]: query q's best cosine over the sentences of paragraph_rows[i]; -inf where it has none."""
        out = np.full((len(queries), len(paragraph_rows)), -np.inf, dtype=np.float32)
        counts = self.starts[paragraph_rows + 1] - self.starts[paragraph_rows]
        has = np.flatnonzero(counts)
        if not len(has):
            return out
        scores = np.asarray(queries, dtype=np.float32) @ self.store.vectors(self.rows_of(paragraph_rows[has])).T
        out[:, has] = np.maximum.reduceat(scores, np.r_[0, np.cumsum(counts[has])[:-1]], axis=1)
        return out

    def exclusion(self, paragraph_rows: np.ndarray) -> Exclusion | None:
        """The sentence rows of those paragraph rows (deleted ones), as an Exclusion built once (None: none)."""
        if not len(paragraph_rows) or not len(self.owner):
            return None
        return Exclusion.of(self._rows_among(np.asarray(paragraph_rows, dtype=np.int64)))

    def candidates(self, queries: np.ndarray, k: int, paragraph_rows: np.ndarray | None,
                   exclude: Exclusion | None = None) -> list[np.ndarray]:
        """For each query, the paragraph rows owning its `k` best sentences (among `paragraph_rows` when
        given; else never the sentences in `exclude`, see `exclusion`)."""
        rows = None if paragraph_rows is None else self._rows_among(paragraph_rows)
        if rows is not None and not len(rows):
            return [np.zeros(0, dtype=np.int64) for _ in queries]
        found = self.store.search_rows(queries, k, rows, exclude if rows is None else None)
        return [np.unique(self.owner[hit]) for hit in found]
