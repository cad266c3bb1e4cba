"""The searcher: bm25, dense or hybrid (candidates from each leg, fused), paged, with highlights, over a Corpus."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Literal, Sequence

import numpy as np
from whoosh.query import NullQuery

from index.model.embed import Encoder
from index.models import Paragraph, article_id_of
from index.settings import Settings
from index.tokenize import Tokenizer
from search.article_context import with_article_context
from search.bm25 import BM25Retriever
from search.corpus import Corpus
from search.dense import DenseRetriever
from search.explain import dense_weight, hybrid_explanations, leg_explanations
from search.filters import NO_FILTER, Filter
from search.fusion import FusionParams, Ranked, coverage, fuse
from search.highlight import Span, highlight
from search.synonyms.rules import SynonymFile
from search.text_cache import TextCache
from search.views.copies import hide_copies
from search.views.related import related_articles
from search.views.view import PLAIN, POOL_LIMIT, Pool, View, arrange

Mode = Literal["bm25", "dense", "hybrid"]
MODES: tuple[Mode, ...] = ("bm25", "dense", "hybrid")


@dataclass(frozen=True)
class Hit:
    rank: int
    score: float
    paragraph: Paragraph
    highlights: list[Span] = field(default_factory=list)
    explain: dict | None = None  # search/explain.py: why it ranks here (when asked for)
    similar: list[str] = field(default_factory=list)  # the other live articles of its article's story (copies)


@dataclass(frozen=True)
class Trace:
    """What a ranking was made from, kept for explanations: the legs' candidates, BM25's coverage of the query,
    the hybrid ranking before article context, and the query vector."""

    sparse: Ranked
    dense: Ranked
    covered: float
    fused: Ranked
    vector: np.ndarray | None = None  # the query's, where the model encoded it

    @classmethod
    def of_bm25(cls, ranked: Ranked) -> "Trace":
        """A bm25 ranking's trace: the ranking itself is its only leg."""
        return cls(ranked, [], 0.0, ranked)


@dataclass(frozen=True)
class ArticleHit:
    """An article result: its rank and score (its best paragraph's) and its best paragraphs as hits."""

    rank: int
    score: float
    article_id: str
    hits: list[Hit]
    similar: list[str] = field(default_factory=list)  # the other live articles of its story (copies)


@dataclass(frozen=True)
class SearchResult:
    query: str
    mode: Mode
    total: int  # results that can be paged through: paragraphs, or articles when grouped
    hits: list[Hit]  # paragraph results (empty when grouped by article)
    took_ms: float
    articles: list[ArticleHit] = field(default_factory=list)  # article results (when grouped)
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    pool: Pool | None = None  # what a grouped, date-sorted or faceted view was arranged from
    view: View = PLAIN
    total_exact: bool = True  # False: `total` is an upper bound (copies further down than was fetched still counted)


def live_paragraph(corpus: Corpus, paragraph_id: str) -> Paragraph:
    """A live paragraph of `corpus` (KeyError for another id)."""
    found = corpus.paragraph(paragraph_id)
    if found is None:
        raise KeyError(paragraph_id)
    return found


@lru_cache(maxsize=1)
def leg_pool() -> ThreadPoolExecutor:
    """The threads BM25 legs run in, one pool per process: searchers are replaced at every commit, and a pool
    of their own would outlive each (threads held until a garbage collection)."""
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="zhsearch-leg")


class Searcher:
    """Queries one corpus view in every mode; safe to share across threads.

    Paging is stable: every page is a slice of one deterministic ranking. In hybrid
    mode that ranking is the fusion of each leg's top k0, so `total` is at most 2 * k0.
    """

    def __init__(self, corpus: Corpus, tokenizer: Tokenizer, encoder: Encoder, settings: Settings,
                 synonyms: SynonymFile | None = None, text_cache: TextCache | None = None) -> None:
        self.corpus = corpus
        self.tokenizer = tokenizer
        # what depends on text alone, warm from the previous commit point's searcher (the same tokenizer's)
        self.text_cache = text_cache if text_cache is not None and text_cache.tokenizer is tokenizer \
            else TextCache(tokenizer)
        self.bm25 = BM25Retriever(corpus, tokenizer, self.text_cache.parse, synonyms, settings.synonym_weight)
        self.dense = DenseRetriever(encoder, corpus)
        self.defaults = FusionParams(settings.fusion, settings.alpha, settings.rrf_k, settings.k0,
                                     settings.alpha_min, settings.alpha_max, settings.article_weight)
        self._pool = leg_pool()

    def traced(self, query: str, mode: Mode, limit: int, params: FusionParams,
               flt: Filter = NO_FILTER) -> tuple[Ranked, int, Trace]:
        """The ranking (at least `limit` long where there are enough), the total available, and what the
        ranking was made from (for explanations)."""
        if mode == "bm25":
            ranked, total = self.bm25.search(query, limit, flt)
            return ranked, total, Trace.of_bm25(ranked)
        if mode == "dense":
            vector = self.dense.encode([query])
            ranked = self.dense.search_vectors(vector, limit, flt)[0]
            return ranked, self.corpus.dense_total(flt), Trace([], ranked, 0.0, ranked, vector[0])
        # The legs run side by side: the model releases the GIL while BM25 scores. The model runs
        # in the calling thread: torch's 2-thread OpenMP team encodes at half speed in a pool thread.
        sparse_future = self._pool.submit(self._sparse_leg, query, params, flt)
        vector = self.dense.encode([query])
        dense = self.dense.search_vectors(vector, params.k0, flt)[0]
        sparse, covered = sparse_future.result()
        fused = fuse(sparse, dense, params, covered)
        final = with_article_context(fused, article_id_of, params.article_weight)
        return final, len(final), Trace(sparse, dense, covered, fused, vector[0])

    def explanations(self, mode: Mode, params: FusionParams, trace: Trace, page: Ranked,
                     offset: int = 0) -> dict[str, dict]:
        """Why each paragraph of `page` (the slice from `offset` of the ranking `trace` made) ranks where it does."""
        parts = self.corpus.dense_parts(trace.vector, [pid for pid, _ in page]) if trace.vector is not None else None
        if mode != "hybrid":
            return leg_explanations(page, mode, parts, first_rank=offset + 1)
        weight, why = dense_weight(params.method, params.alpha, trace.covered, params.alpha_min, params.alpha_max)
        return hybrid_explanations(page, trace.sparse, trace.dense, trace.fused, params.method, weight, why,
                                   params.rrf_k, article_id_of, parts)

    def related(self, article_id: str, k: int = 5) -> Ranked:
        """Articles related to `article_id` (search/views/related.py); UnknownArticleError for an unknown one."""
        def by_title(text: str, depth: int) -> tuple[Ranked, int]:
            query = self.bm25.plain_query(text)
            return ([], 0) if query is NullQuery else self.corpus.bm25(query, depth, NO_FILTER, count=False)

        return related_articles(self.corpus, by_title, article_id, k, self.tokenizer.fold_traditional)

    def paragraph(self, paragraph_id: str) -> Paragraph:
        """A live paragraph of this view (KeyError for another id)."""
        return live_paragraph(self.corpus, paragraph_id)

    def sources_and_dates(self, paragraph_ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        """Each live paragraph's source and date by id (KeyError for another id)."""
        found = self.corpus.sources_and_dates(paragraph_ids)
        for pid, pair in zip(paragraph_ids, found):
            if pair is None:
                raise KeyError(pid)
        return dict(zip(paragraph_ids, found))

    def _sparse_leg(self, query: str, params: FusionParams, flt: Filter) -> tuple[Ranked, float]:
        """BM25's top k0 and how much of the query its best hit covers (for adaptive fusion)."""
        sparse, _ = self.bm25.search(query, params.k0, flt, count=False)
        return sparse, self.coverage(query, sparse) if params.method == "adaptive" else 0.5

    def coverage(self, query: str, sparse: Ranked) -> float:
        """How much of the query's IDF weight BM25's best hit (title and text) contains."""
        if not sparse:
            return 0.0
        best = self.paragraph(sparse[0][0])
        held = self.text_cache.terms(best.title) | self.text_cache.terms(best.text)
        return coverage(self.bm25.term_weights(query), held)

    def search(self, query: str, mode: Mode = "hybrid", k: int = 10, offset: int = 0,
               params: FusionParams | None = None, flt: Filter = NO_FILTER, explain: bool = False,
               view: View = PLAIN) -> SearchResult:
        """Results `offset` .. `offset + k` for `query` in `mode`, among paragraphs meeting `flt`, as `view` shows
        them (search/views/view.py); with `explain`, each hit with why it ranks there (search/explain.py)."""
        started = time.perf_counter()
        params = params or self.defaults
        if not view.is_plain():
            return self._viewed(query, mode, k, offset, params, flt, explain, view, started)
        exact = True
        if view.dedup:
            ranked, total, trace, exact = self._without_copies(query, mode, offset + k, params, flt)
        else:
            ranked, total, trace = self.traced(query, mode, offset + k, params, flt)
        page = ranked[offset:offset + k]
        explained = self.explanations(mode, params, trace, page, offset) if explain else {}
        hits = self._hits(query, page, offset + 1, explained)
        took = (time.perf_counter() - started) * 1000
        return SearchResult(query, mode, total, hits, round(took, 2), view=view, total_exact=exact)

    def _without_copies(self, query: str, mode: Mode, need: int, params: FusionParams,
                        flt: Filter) -> tuple[Ranked, int, Trace, bool]:
        """The ranking with copies of a story hidden (search/views/copies.py), at least `need` long where there are
        enough: fetched deeper while copies leave it short. `total` leaves out the hidden copies: exactly for
        hybrid (its ranking is all its candidates) and for bm25 where every match fits in a pool (POOL_LIMIT)
        once a copy is hidden (every match is then fetched, so no later page is promised past the last).
        Otherwise (a first cut without copies, more matches than a pool, dense, whose every paragraph matches)
        it leaves out those hidden among what was fetched: an upper bound that still counts the copies further
        down (Elasticsearch's collapse counts every copy), unless what was fetched is every result there is. The
        last of the four says which: True where `total` is exact."""
        depth = min(POOL_LIMIT, 2 * need)  # a top 2k costs what a top k does: one round where copies are few
        fetch = self._cuts(query, mode, params, flt)
        while True:
            ranked, total, trace = fetch(depth)
            kept, hidden = hide_copies(ranked, article_id_of, self.corpus.story)
            exhausted = mode == "hybrid" or len(ranked) < depth or depth >= POOL_LIMIT
            countable = mode == "bm25" and total <= POOL_LIMIT  # every match fits: what hiding leaves can be counted
            short = len(kept) < need or (countable and hidden > 0)
            if not hidden or exhausted or not short:
                # bm25 short of `depth` has fetched every match; dense may be short of it and not (IVF lists, filters)
                every_match = mode == "bm25" and len(ranked) < depth
                counted = len(kept) if every_match else total - hidden
                return kept, counted, trace, mode == "hybrid" or every_match or len(ranked) >= total
            # countable: straight to every match (a deeper ranking starts with this one, so it hides that copy too).
            # Otherwise only as deep as the page needs: at 1M a typical query matches ~940,000 paragraphs, and
            # ranking 10,000 of them to hide copies (for a count that would still miss those further down) took
            # 25 ms of a 48 ms search
            depth = POOL_LIMIT if countable else min(POOL_LIMIT, 4 * depth)

    def _cuts(self, query: str, mode: Mode, params: FusionParams,
              flt: Filter) -> Callable[[int], tuple[Ranked, int, Trace]]:
        """`traced` at any depth up to POOL_LIMIT. bm25 scores its matches once for every cut (at 1M, ~940,000
        matches for a typical query: scoring them is most of a search, and hiding copies may ask for more cuts)."""
        if mode != "bm25":
            return lambda depth: self.traced(query, mode, depth, params, flt)
        ranking = self.bm25.ranking(query, flt, POOL_LIMIT)

        def cut(depth: int) -> tuple[Ranked, int, Trace]:
            ranked, total = ranking.cut(depth)
            return ranked, total, Trace.of_bm25(ranked)
        return cut

    def _hits(self, query: str, page: Ranked, first_rank: int, explained: dict[str, dict]) -> list[Hit]:
        terms = self.bm25.query_terms(query)
        hits = []
        for rank, (pid, score) in enumerate(page, start=first_rank):
            paragraph = self.paragraph(pid)
            spans = highlight(paragraph.text, terms, self.text_cache.folded(paragraph.text))
            hits.append(Hit(rank, score, paragraph, spans, explained.get(pid), self.corpus.copies(paragraph.article_id)))
        return hits

    def pool(self, query: str, mode: Mode, params: FusionParams, flt: Filter) -> tuple[Ranked, Trace, Pool]:
        """The relevance ranking a view is arranged from (search/views/view.py says how deep), and what it is."""
        if mode == "bm25":
            ranked, matches, trace = self.traced(query, mode, POOL_LIMIT, params, flt)
            what = "every match" if len(ranked) == matches else f"the top {len(ranked):,} of {matches:,} matches"
            return ranked, trace, Pool(len(ranked), matches, what)
        if mode == "dense":
            ranked, _, trace = self.traced(query, mode, 2 * params.k0, params, flt)
            return ranked, trace, Pool(len(ranked), None, f"the top {2 * params.k0} paragraphs by cosine")
        ranked, _, trace = self.traced(query, mode, 0, params, flt)
        return ranked, trace, Pool(len(ranked), None, f"the fused candidates, each leg's top {params.k0}")

    def _viewed(self, query: str, mode: Mode, k: int, offset: int, params: FusionParams, flt: Filter,
                explain: bool, view: View, started: float) -> SearchResult:
        ranked, trace, pool = self.pool(query, mode, params, flt)
        if view.dedup:
            ranked, _ = hide_copies(ranked, article_id_of, self.corpus.story)
        dated = view.sort == "date" or bool(view.facets)  # only sorting and facets read sources and dates
        known = self.sources_and_dates([pid for pid, _ in ranked]) if dated else {}  # asked once for all of them
        arranged = arrange(ranked, view, article_id_of, lambda pid: known[pid][1], lambda pid: known[pid][0])
        if view.group == "article":
            groups = arranged.groups[offset:offset + k]
            shown = [pair for group in groups for pair in group.paragraphs]
        else:
            shown = arranged.paragraphs[offset:offset + k]
        explained = self._explained(mode, params, trace, ranked, shown) if explain else {}
        hits, articles = [], []
        if view.group == "article":
            articles = [ArticleHit(rank, group.score, group.article_id, self._hits(query, group.paragraphs, 1, explained),
                                   self.corpus.copies(group.article_id))
                        for rank, group in enumerate(groups, start=offset + 1)]
        else:
            hits = self._hits(query, shown, offset + 1, explained)
        took = (time.perf_counter() - started) * 1000
        return SearchResult(query, mode, arranged.total, hits, round(took, 2), articles, arranged.facets, pool, view,
                            total_exact=True)  # a view pages through its pool, which it counts exactly

    def _explained(self, mode: Mode, params: FusionParams, trace: Trace, ranked: Ranked, shown: Ranked) -> dict:
        """Explanations of the shown paragraphs, each with its rank in the relevance ranking."""
        if mode == "hybrid":
            return self.explanations(mode, params, trace, shown)
        rank_of = {pid: rank for rank, (pid, _) in enumerate(ranked)}
        return {pid: self.explanations(mode, params, trace, [(pid, score)], rank_of[pid])[pid] for pid, score in shown}
