"""The searcher: bm25, dense or hybrid (candidates from each leg, fused), paged, with highlights."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

from index.models import Paragraph
from index.settings import FusionMethod, Settings
from index.snapshot import Snapshot
from index.tokenize import Tokenizer
from search.bm25 import BM25Retriever
from search.dense import DenseRetriever
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

    def rank(self, query: str, mode: Mode, limit: int, params: FusionParams) -> tuple[Ranked, int]:
        """The ranking (at least `limit` long where there are enough) and the total available."""
        if mode == "bm25":
            return self.bm25.search(query, limit)
        if mode == "dense":
            ranked = self.dense.search(query, limit)
            return ranked, len(self.dense.store.ids)
        # The legs run side by side: encoding releases the GIL while Whoosh scores.
        dense_future = self._pool.submit(self.dense.search, query, params.k0)
        sparse, _ = self.bm25.search(query, params.k0)
        fused = fuse(sparse, dense_future.result(), params)
        return fused, len(fused)

    def search(self, query: str, mode: Mode = "hybrid", k: int = 10, offset: int = 0,
               params: FusionParams | None = None) -> SearchResult:
        """Hits `offset` .. `offset + k` of the ranking for `query` in `mode`."""
        started = time.perf_counter()
        params = params or self.defaults
        ranked, total = self.rank(query, mode, offset + k, params)
        terms = self.bm25.query_terms(query)
        hits = []
        for rank, (pid, score) in enumerate(ranked[offset:offset + k], start=offset + 1):
            paragraph = self.snapshot.docs.paragraphs[pid]
            hits.append(Hit(rank, score, paragraph, highlight(paragraph.text, terms, self.tokenizer)))
        took = (time.perf_counter() - started) * 1000
        return SearchResult(query, mode, total, hits, round(took, 2))
