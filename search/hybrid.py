"""The searcher: bm25, dense or hybrid (candidates from each leg, fused), paged, with highlights."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np

from index.models import Paragraph
from index.settings import FusionMethod, Settings
from index.snapshot import Snapshot
from index.tokenize import Tokenizer
from search.bm25 import BM25Retriever
from search.dense import DenseRetriever
from search.filters import NO_FILTER, Filter, accepts
from search.fusion import Ranked, rrf, weighted_sum
from search.highlight import Span, highlight

Mode = Literal["bm25", "dense", "hybrid"]
MODES: tuple[Mode, ...] = ("bm25", "dense", "hybrid")


@dataclass(frozen=True)
class FusionParams:
    """How hybrid fuses its legs: `weighted` uses alpha (weight of dense), `rrf` uses rrf_k."""

    method: FusionMethod = "weighted"
    alpha: float = 0.5
    rrf_k: int = 60
    k0: int = 100


def fuse(sparse: Ranked, dense: Ranked, params: FusionParams) -> Ranked:
    """The hybrid ranking of two legs' candidates."""
    if params.method == "rrf":
        return rrf([sparse, dense], params.rrf_k)
    return weighted_sum(sparse, dense, params.alpha)


@dataclass(frozen=True)
class Hit:
    rank: int
    score: float
    paragraph: Paragraph
    highlights: list[Span] = field(default_factory=list)


@dataclass(frozen=True)
class SearchResult:
    query: str
    mode: Mode
    total: int
    hits: list[Hit]
    took_ms: float


class Searcher:
    """Holds the retrievers of one snapshot; safe to share across threads.

    Paging is stable: every page is a slice of one deterministic ranking. In hybrid
    mode that ranking is the fusion of each leg's top k0, so `total` is at most 2 * k0.
    """

    def __init__(self, snapshot: Snapshot, tokenizer: Tokenizer, dense: DenseRetriever, settings: Settings) -> None:
        self.snapshot = snapshot
        self.tokenizer = tokenizer
        self.bm25 = BM25Retriever(snapshot.bm25, tokenizer)
        self.dense = dense
        self.defaults = FusionParams(settings.fusion, settings.alpha, settings.rrf_k, settings.k0)
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="zhsearch-leg")

    def allowed_rows(self, flt: Filter) -> np.ndarray | None:
        """Vector rows whose paragraphs meet `flt` (None: every row). Cached per filter."""
        return None if flt.is_empty() else self._allowed_rows(flt)

    @lru_cache(maxsize=256)
    def _allowed_rows(self, flt: Filter) -> np.ndarray:
        paragraphs = self.snapshot.docs.paragraphs
        ids = self.dense.store.ids
        return np.array([row for row, pid in enumerate(ids) if accepts(flt, paragraphs[pid])], dtype=np.int64)

    def rank(self, query: str, mode: Mode, limit: int, params: FusionParams,
             flt: Filter = NO_FILTER) -> tuple[Ranked, int]:
        """The ranking (at least `limit` long where there are enough) and the total available."""
        if mode == "bm25":
            return self.bm25.search(query, limit, flt)
        rows = self.allowed_rows(flt)
        if mode == "dense":
            ranked = self.dense.search(query, limit, rows)
            return ranked, len(self.dense.store.ids) if rows is None else len(rows)
        # The legs run side by side: encoding releases the GIL while Whoosh scores.
        dense_future = self._pool.submit(self.dense.search, query, params.k0, rows)
        sparse, _ = self.bm25.search(query, params.k0, flt)
        fused = fuse(sparse, dense_future.result(), params)
        return fused, len(fused)

    def search(self, query: str, mode: Mode = "hybrid", k: int = 10, offset: int = 0,
               params: FusionParams | None = None, flt: Filter = NO_FILTER) -> SearchResult:
        """Hits `offset` .. `offset + k` of the ranking for `query` in `mode`, among paragraphs meeting `flt`."""
        started = time.perf_counter()
        params = params or self.defaults
        ranked, total = self.rank(query, mode, offset + k, params, flt)
        terms = self.bm25.query_terms(query)
        hits = []
        for rank, (pid, score) in enumerate(ranked[offset:offset + k], start=offset + 1):
            paragraph = self.snapshot.docs.paragraphs[pid]
            hits.append(Hit(rank, score, paragraph, highlight(paragraph.text, terms, self.tokenizer)))
        took = (time.perf_counter() - started) * 1000
        return SearchResult(query, mode, total, hits, round(took, 2))
