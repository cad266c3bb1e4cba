"""Dense search over a Milvus corpus, blended with sentences as the embedded engine blends them.

Candidates come from both collections (paragraphs `max(k, MIN_CANDIDATES)` deep, sentences twice
that, with the same filter); each candidate is then scored here from its stored vectors, its own
cosine blended with its best sentence's (search/embedded/segment_dense.blend), so a score is the
embedded engine's to float32 rounding whatever index Milvus searched with.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from index.milvus.connection import Connection
from index.milvus.rows import PARAGRAPH_FIELDS
from search.embedded.segment_dense import MIN_CANDIDATES, SENTENCE_DEPTH, blend
from search.filters import Filter
from search.fusion import Ranked
from search.milvus.expressions import filter_condition, one_of
from search.milvus.rows_cache import RowsCache

WINDOW = 16_384
HITS_PER_CALL = 2048


def search_params(index_kind: str, limit: int) -> dict[str, Any]:
    params: dict[str, Any] = {"ef": max(limit, 64)} if index_kind == "HNSW" else {}
    return {"metric_type": "IP", "params": params}


class Vectors:
    """Dense retrieval over one Milvus corpus view; thread-safe."""

    def __init__(self, conn: Connection, cache: RowsCache, dim: int, index_kinds: dict[str, str],
                 sentence_weight: float) -> None:
        self.conn = conn
        self.cache = cache
        self.dim = dim
        self.kinds = index_kinds
        self.sentence_weight = sentence_weight  # 0: sentences not searched

    def _search(self, kind: str, vectors: np.ndarray, limit: int, where: str, fields: list[str]) -> list[list[dict]]:
        """Each vector's hits, `limit` deep; queries sent in groups of about HITS_PER_CALL hits (an answer of
        many queries with their fields and vectors must stay far below Milvus's 256 MB message)."""
        limit = min(limit, WINDOW)
        out: list[list[dict]] = []
        step = max(1, HITS_PER_CALL // limit)
        for start in range(0, len(vectors), step):
            found = self.conn.call(f"search {kind}", "search", self.conn.collection(kind),
                                   data=vectors[start:start + step].tolist(), anns_field="vector", limit=limit,
                                   filter=where, output_fields=fields,
                                   search_params=search_params(self.kinds.get(kind, "FLAT"), limit))
            out.extend([hit["entity"] for hit in hits] for hits in found)
        return out

    def search(self, vectors: np.ndarray, k: int, flt: Filter) -> list[Ranked]:
        where = filter_condition(flt)
        if where is False or k <= 0:
            return [[] for _ in vectors]
        where = where if isinstance(where, str) else ""
        depth = max(k, MIN_CANDIDATES) if self.sentence_weight > 0 else k
        paragraphs = self._search("paragraphs", vectors, depth, where, PARAGRAPH_FIELDS + ["vector"])
        for hits in paragraphs:
            self.cache.put(hits)
        if self.sentence_weight <= 0:
            return [self._ranked(vector, {e["id"]: e["vector"] for e in hits}, {}, k)
                    for vector, hits in zip(vectors, paragraphs)]
        sentences = self._search("sentences", vectors, SENTENCE_DEPTH * depth, where, ["paragraph_id"])
        out = []
        for vector, own, found in zip(vectors, paragraphs, sentences):
            stored = {e["id"]: e["vector"] for e in own}
            missing = sorted({e["paragraph_id"] for e in found} - set(stored))
            stored.update(self._paragraph_vectors(missing))
            out.append(self._ranked(vector, stored, self._best_sentences(vector, list(stored)), k))
        return out

    def _ranked(self, vector: np.ndarray, stored: dict[str, list[float]], best: dict[str, float], k: int) -> Ranked:
        if not stored:
            return []
        ids = list(stored)
        own = np.asarray([stored[i] for i in ids], dtype=np.float32) @ vector.astype(np.float32)
        if self.sentence_weight > 0:
            sentence = np.asarray([best.get(i, -np.inf) for i in ids], dtype=np.float32)
            own = blend(own, sentence, self.sentence_weight)
        return sorted(zip(ids, own.tolist()), key=lambda pair: (-pair[1], pair[0]))[:k]

    def _paragraph_vectors(self, ids: Sequence[str]) -> dict[str, list[float]]:
        """Stored vectors of live paragraphs (their rows cached too)."""
        if not ids:
            return {}
        rows = self.conn.call("read paragraph vectors", "query", self.conn.collection("paragraphs"),
                              filter=one_of("id", list(ids)), output_fields=PARAGRAPH_FIELDS + ["vector"], limit=len(ids))
        self.cache.put(rows)
        return {row["id"]: row["vector"] for row in rows}

    def _best_sentences(self, vector: np.ndarray, ids: Sequence[str]) -> dict[str, float]:
        """Each paragraph's best sentence cosine (paragraphs without sentence vectors left out)."""
        best: dict[str, float] = {}
        for start in range(0, len(ids), 512):
            chunk = list(ids[start:start + 512])
            rows = self.conn.call("read sentence vectors", "query", self.conn.collection("sentences"),
                                  filter=one_of("paragraph_id", chunk), output_fields=["paragraph_id", "vector"],
                                  limit=WINDOW)
            if not rows:
                continue
            scores = np.asarray([row["vector"] for row in rows], dtype=np.float32) @ vector.astype(np.float32)
            for row, score in zip(rows, scores.tolist()):
                pid = row["paragraph_id"]
                best[pid] = max(best.get(pid, -np.inf), score)
        return best

    def paragraph_vectors(self, ids: Sequence[str]) -> np.ndarray:
        found = self._paragraph_vectors(list(dict.fromkeys(ids)))
        out = np.zeros((len(ids), self.dim), dtype=np.float32)
        for i, pid in enumerate(ids):
            if pid in found:
                out[i] = found[pid]
        return out

    def parts(self, vector: np.ndarray, ids: Sequence[str]) -> dict[str, tuple[float, float | None]]:
        found = self._paragraph_vectors(list(dict.fromkeys(ids)))
        best = self._best_sentences(vector, list(found)) if self.sentence_weight > 0 else {}
        own = {pid: float(np.asarray(v, dtype=np.float32) @ vector.astype(np.float32)) for pid, v in found.items()}
        return {pid: (own[pid], best.get(pid)) for pid in ids if pid in own}
