"""Dense search over a Milvus corpus, blended with sentences as the embedded engine blends them.

Candidates come from both collections (paragraphs `max(k, MIN_CANDIDATES)` deep, sentences twice
that, with the same filter); each candidate is then scored here from its stored vectors, its own
cosine blended with its best sentence's (search/embedded/segment_dense.blend), so a score is the
embedded engine's to float32 rounding whatever index Milvus searched with.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from index.milvus.connection import WINDOW, Connection, one_of
from index.milvus.rows import PARAGRAPH_FIELDS
from search.embedded.segment_dense import MIN_CANDIDATES, SENTENCE_DEPTH, blend
from search.filters import Filter
from search.fusion import Ranked
from search.milvus.expressions import filter_condition
from search.milvus.rows_cache import RowsCache

HITS_PER_CALL = 2048
IDS_PER_CALL = 512  # ids in one `in [...]` condition


def search_params(index_kind: str, limit: int) -> dict[str, Any]:
    params: dict[str, Any] = {"ef": max(limit, 64)} if index_kind == "HNSW" else {}
    return {"metric_type": "IP", "params": params}


def best_sentences(vector: np.ndarray, held: dict[str, np.ndarray | None]) -> dict[str, float]:
    """Each paragraph's best sentence cosine with the query (paragraphs without sentence vectors left out)."""
    query = vector.astype(np.float32)
    return {pid: float((found @ query).max()) for pid, found in held.items() if found is not None and len(found)}


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
        out: list[Ranked] = []
        step = max(1, HITS_PER_CALL // min(depth, WINDOW))  # queries whose candidates are read together
        for start in range(0, len(vectors), step):
            out += self._search_group(vectors[start:start + step], k, depth, where)
        return out

    def _search_group(self, vectors: np.ndarray, k: int, depth: int, where: str) -> list[Ranked]:
        """A few queries' rankings, their candidates' vectors and sentences read with one call each."""
        paragraphs = self._search("paragraphs", vectors, depth, where, PARAGRAPH_FIELDS + ["vector"])
        for hits in paragraphs:
            self.cache.put(hits)
        stored = {e["id"]: e["vector"] for hits in paragraphs for e in hits}
        if self.sentence_weight <= 0:
            return [self._ranked(vector, {e["id"]: stored[e["id"]] for e in hits}, {}, k)
                    for vector, hits in zip(vectors, paragraphs)]
        sentences = self._search("sentences", vectors, SENTENCE_DEPTH * depth, where, ["paragraph_id"])
        stored.update(self._paragraph_vectors(sorted({e["paragraph_id"] for hits in sentences for e in hits} - set(stored))))
        candidates = [[e["id"] for e in own] + [e["paragraph_id"] for e in found]
                      for own, found in zip(paragraphs, sentences)]
        held = self._sentence_vectors(sorted({pid for ids in candidates for pid in ids}))
        out = []
        for vector, ids in zip(vectors, candidates):
            mine = {pid: stored[pid] for pid in ids if pid in stored}
            out.append(self._ranked(vector, mine, best_sentences(vector, {pid: held.get(pid) for pid in mine}), k))
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

    def _rows(self, kind: str, field: str, ids: Sequence[str], fields: list[str]) -> list[dict]:
        """Every row of `kind` whose `field` is one of `ids` (split further while an answer could be cut at Milvus's
        window)."""
        rows: list[dict] = []
        for start in range(0, len(ids), IDS_PER_CALL):
            part = list(ids[start:start + IDS_PER_CALL])
            found = self.conn.call(f"read {kind}", "query", self.conn.collection(kind), filter=one_of(field, part),
                                   output_fields=fields, limit=WINDOW)
            if len(found) >= WINDOW and len(part) > 1:
                half = len(part) // 2
                found = self._rows(kind, field, part[:half], fields) + self._rows(kind, field, part[half:], fields)
            rows += found
        return rows

    def _paragraph_vectors(self, ids: Sequence[str]) -> dict[str, list[float]]:
        """Stored vectors of live paragraphs (their rows cached too)."""
        if not ids:
            return {}
        rows = self._rows("paragraphs", "id", ids, PARAGRAPH_FIELDS + ["vector"])
        self.cache.put(rows)
        return {row["id"]: row["vector"] for row in rows}

    def _sentence_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """paragraph id -> its sentence vectors (paragraphs without any left out)."""
        grouped: dict[str, list[list[float]]] = {}
        for row in self._rows("sentences", "paragraph_id", ids, ["paragraph_id", "vector"]) if ids else []:
            grouped.setdefault(row["paragraph_id"], []).append(row["vector"])
        return {pid: np.asarray(found, dtype=np.float32) for pid, found in grouped.items()}

    def paragraph_vectors(self, ids: Sequence[str]) -> np.ndarray:
        found = self._paragraph_vectors(list(dict.fromkeys(ids)))
        out = np.zeros((len(ids), self.dim), dtype=np.float32)
        for i, pid in enumerate(ids):
            if pid in found:
                out[i] = found[pid]
        return out

    def parts(self, vector: np.ndarray, ids: Sequence[str]) -> dict[str, tuple[float, float | None]]:
        found = self._paragraph_vectors(list(dict.fromkeys(ids)))
        held = self._sentence_vectors(list(found)) if self.sentence_weight > 0 else {}
        best = best_sentences(vector, held)
        own = {pid: float(np.asarray(v, dtype=np.float32) @ vector.astype(np.float32)) for pid, v in found.items()}
        return {pid: (own[pid], best.get(pid)) for pid in ids if pid in own}
