"""BM25 retriever over the Whoosh index: Whoosh query syntax, OR-grouped terms, plain-terms fallback."""

from __future__ import annotations

import logging
import math
import threading
from functools import lru_cache

from whoosh import qparser
from whoosh.query import AndNot, Not, NullQuery, Or, Query, Term
from whoosh.scoring import BM25F

from index.store.bm25_store import BM25Store
from index.tokenize import Tokenizer
from search.bm25_impacts import Impacts, Leaf
from search.filters import NO_FILTER, Filter, whoosh_filter
from search.fusion import Ranked, ordered

FIELDS = ["title", "text"]
log = logging.getLogger("zhsearch.bm25")


def flat_leaves(query: Query, boost: float = 1.0) -> list[Leaf] | None:
    """The (field, term, boost) clauses of a query that is only ORs of terms with positive boosts; else None."""
    if isinstance(query, Term):
        weight = boost * query.boost
        return [(query.fieldname, query.text, weight)] if weight > 0 else None
    if type(query) is Or and not query.scale and query.minmatch <= 1:
        leaves: list[Leaf] = []
        for sub in query.subqueries:
            found = flat_leaves(sub, boost * query.boost)
            if found is None:
                return None
            leaves.extend(found)
        return leaves
    return None


def lift_negations(query: Query) -> Query:
    """`a OR NOT b` (what OR grouping makes of `a NOT b`) rewritten as `a AND NOT b`.

    Under OR grouping a NOT clause would otherwise add every document without `b`
    instead of removing the documents with it.
    """
    if not query.is_leaf():
        query = query.apply(lift_negations)
    if isinstance(query, Or):
        negated = [sub.query for sub in query.subqueries if isinstance(sub, Not)]
        kept = [sub for sub in query.subqueries if not isinstance(sub, Not)]
        if negated and kept:
            positive = kept[0] if len(kept) == 1 else Or(kept)
            return AndNot(positive, negated[0] if len(negated) == 1 else Or(negated))
    return query


class BM25Retriever:
    """query, k -> paragraphs ranked by Whoosh's BM25F.

    Terms are OR-grouped: a question matches paragraphs that share some of its words
    (AND grouping, Whoosh's default, loses most answers to natural-language questions).
    Explicit AND / OR / NOT, quotes for phrases and parentheses work as in Whoosh.

    Unfiltered queries that are only ORs of terms (almost every question) are scored from
    precomputed impacts (search/bm25_impacts.py), which give Whoosh's scores without its
    Python matchers; they are read in a background thread at open, and Whoosh answers
    everything until they are ready, and always phrases, AND, NOT and filtered queries.
    """

    def __init__(self, store: BM25Store, tokenizer: Tokenizer, impacts: bool = True) -> None:
        self.store = store
        self.tokenizer = tokenizer
        self.impacts: Impacts | None = None
        self._loading = threading.Thread(target=self._load_impacts, name="zhsearch-impacts", daemon=True)
        if impacts:
            self._loading.start()
        self._parser = qparser.MultifieldParser(FIELDS, store.index.schema, group=qparser.OrGroup)
        # One search parses its query for retrieval and again for highlights: parse once.
        self.parse = lru_cache(maxsize=1024)(self._parse)
        self.term_weights = lru_cache(maxsize=1024)(self._term_weights)
        # Questions end in "?" and Chinese has no use for "*" globs or quoted single terms:
        # without these plugins "什么?" stays a question instead of becoming a wildcard.
        for plugin in (qparser.WildcardPlugin, qparser.RangePlugin, qparser.SingleQuotePlugin):
            self._parser.remove_plugin_class(plugin)
        self._local = threading.local()

    def _load_impacts(self) -> None:
        try:
            self.impacts = Impacts.from_index(self.store.index, FIELDS, BM25F())
        except Exception:  # Whoosh keeps answering every query; the fast path is only speed
            log.exception("BM25 impacts could not be read; Whoosh scores every query")

    def impacts_state(self) -> str:
        """"ready", "loading" or "off" (disabled, or reading them failed)."""
        if self.impacts is not None:
            return "ready"
        return "loading" if self._loading.is_alive() else "off"

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until the precomputed impacts are in use (False if disabled, failed or still loading)."""
        if self._loading.is_alive():
            self._loading.join(timeout)
        return self.impacts is not None

    def _searcher(self):
        """One Whoosh searcher per thread, opened once and reused."""
        searcher = getattr(self._local, "searcher", None)
        if searcher is None:
            searcher = self.store.index.searcher(weighting=BM25F())
            self._local.searcher = searcher
        return searcher

    def plain_query(self, text: str) -> Query:
        """The OR of the query's terms over title and text (no syntax)."""
        terms = dict.fromkeys(self.tokenizer.terms(text))
        clauses = [Term(field, term) for term in terms for field in FIELDS]
        return Or(clauses) if clauses else NullQuery

    def _parse(self, text: str) -> Query:
        """Whoosh syntax where it parses; plain terms where it does not."""
        try:
            return lift_negations(self._parser.parse(text))
        except Exception:  # any parser failure means: treat the input as plain words
            return self.plain_query(text)

    def query_terms(self, text: str) -> set[str]:
        """The terms a query looks for (for highlighting)."""
        return {term for field, term in self.parse(text).iter_all_terms() if field == "text"}

    def _term_weights(self, text: str) -> dict[str, float]:
        """Each distinct query term with its BM25 IDF over paragraph text (rarer weighs more)."""
        searcher = self._searcher()
        total = searcher.doc_count_all()
        weights = {}
        for term in dict.fromkeys(self.tokenizer.terms(text)):
            df = searcher.doc_frequency("text", term)
            weights[term] = math.log(1.0 + (total - df + 0.5) / (df + 0.5))
        return weights

    def search(self, text: str, k: int, flt: Filter = NO_FILTER, count: bool = True) -> tuple[Ranked, int]:
        """The top `k` paragraphs meeting `flt`, and how many match at all.

        Counting every match runs the query a second time in Whoosh (about 40% of its cost):
        with `count=False` the second number is just the length of the ranking.
        """
        query = self.parse(text)
        if query is NullQuery or k <= 0:
            return [], 0
        impacts = self.impacts
        if impacts is not None and flt.is_empty():
            leaves = flat_leaves(query)
            if leaves is not None:
                return impacts.top(leaves, k, count)
        results = self._searcher().search(query, limit=k, filter=whoosh_filter(flt))
        ranked = ordered((hit["paragraph_id"], float(hit.score)) for hit in results)
        return ranked, len(results) if count else len(ranked)
