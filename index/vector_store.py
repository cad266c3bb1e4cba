"""FAISS inner-product index and its row -> paragraph id map, aligned row by row."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

INDEX_FILE = "vectors.faiss"
IDS_FILE = "vector_ids.json"


class VectorStoreError(RuntimeError):
    """The vector files are missing, unreadable or disagree with each other."""


@dataclass
class VectorStore:
    """Unit vectors in a FAISS IndexFlatIP; `ids[row]` is the paragraph id of that row.

    Invariant: rows are L2-normalised, so inner product equals cosine similarity;
    `index.ntotal == len(ids)`.
    """

    index: faiss.Index
    ids: list[str]

    @classmethod
    def build(cls, vectors: np.ndarray, ids: list[str]) -> "VectorStore":
        """A store over `vectors` (n x dim, unit rows) with one id per row."""
        if vectors.ndim != 2 or vectors.shape[0] != len(ids):
            raise VectorStoreError(f"{vectors.shape[0]} vectors for {len(ids)} ids: they must match")
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index, list(ids))

    @property
    def dim(self) -> int:
        return int(self.index.d)

    def search(self, queries: np.ndarray, k: int, rows: np.ndarray | None = None) -> list[list[tuple[str, float]]]:
        """For each query row, up to `k` (paragraph id, cosine) pairs, best first, ties by id.

        `rows`, when given, restricts the search to those row numbers (a filter).
        """
        k = min(k, self.index.ntotal if rows is None else len(rows))
        if k <= 0:
            return [[] for _ in range(len(queries))]
        params = None if rows is None else faiss.SearchParameters(sel=faiss.IDSelectorBatch(rows.astype(np.int64)))
        scores, found = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k, params=params)
        results = []
        for score_row, id_row in zip(scores, found):
            pairs = [(self.ids[r], float(s)) for s, r in zip(score_row, id_row) if r >= 0]
            results.append(sorted(pairs, key=lambda p: (-p[1], p[0])))
        return results

    def save(self, folder: Path) -> None:
        """Write `vectors.faiss` and `vector_ids.json` into `folder`."""
        faiss.write_index(self.index, str(folder / INDEX_FILE))
        (folder / IDS_FILE).write_text(json.dumps(self.ids, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def open(cls, folder: Path) -> "VectorStore":
        """Read a store written by `save`, checking that rows and ids agree."""
        try:
            index = faiss.read_index(str(folder / INDEX_FILE))
            ids = json.loads((folder / IDS_FILE).read_text(encoding="utf-8"))
        except (OSError, RuntimeError, ValueError) as err:
            raise VectorStoreError(f"cannot read vectors in {folder}: {err}") from err
        if index.ntotal != len(ids):
            raise VectorStoreError(f"{folder}: {index.ntotal} vectors but {len(ids)} ids; rebuild the index")
        return cls(index, ids)
