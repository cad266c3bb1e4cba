"""BM25 retriever: Whoosh query syntax, OR-grouped terms, scored over every segment with the collection's statistics.

A query that is only ORs of terms (almost every question) is scored directly from the segments'
postings (search/collection.py). Phrases, AND, NOT and parentheses are matched by Whoosh in each
segment (it has the positions), and the matching paragraphs are scored the same way, by BM25 over
the query's positive terms (what Whoosh's BM25F gives an AND, a NOT or a phrase of one field).
"""

from __future__ import annotations

import threading
from functools import lru_cache

import numpy as np
from whoosh import qparser
from whoosh.query import And, AndMaybe, AndNot, Not, NullQuery, Or, Query, Term

from index.snapshot import Snapshot
from index.store.bm25_store import make_schema
from index.store.postings import FIELDS
from index.tokenize import Tokenizer
from search.collection import Collection, Leaf, Part
from search.fusion import Ranked

WHOOSH_ONLY = (qparser.WildcardPlugin, qparser.RangePlugin, qparser.SingleQuotePlugin)


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


def positive_leaves(query: Query, boost: float = 1.0) -> list[Leaf]:
    """The (field, term, boost) of every term a matching paragraph is scored by: NOT clauses left out."""
    boost *= query.boost
    if isinstance(query, Not):
        return []
    if isinstance(query, AndNot):
        return positive_leaves(query.a, boost)
    if isinstance(query, (And, Or, AndMaybe)) or not query.is_leaf():
        return [leaf for sub in query.children() for leaf in positive_leaves(sub, boost)]
    return [(fieldname, text, boost) for fieldname, text in query.iter_all_terms(phrases=True)
            if fieldname in FIELDS and boost > 0]


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
    """query, k -> paragraphs of one snapshot ranked by BM25F (title and text); thread-safe.

    Terms are OR-grouped: a question matches paragraphs that share some of its words
    (AND grouping, Whoosh's default, loses most answers to natural-language questions).
    Explicit AND / OR / NOT, quotes for phrases and parentheses work as in Whoosh.
    """

    def __init__(self, snapshot: Snapshot, tokenizer: Tokenizer) -> None:
        self.snapshot = snapshot
        self.tokenizer = tokenizer
        self.collection = Collection([Part(v.segment.postings, v.base, v.deleted, v.stats) for v in snapshot.views],
                                     snapshot.ids_of)
        self._parser = qparser.MultifieldParser(list(FIELDS), make_schema(tokenizer), group=qparser.OrGroup)
        # Questions end in "?" and Chinese has no use for "*" globs or quoted single terms:
        # without these plugins "什么?" stays a question instead of becoming a wildcard.
        for plugin in WHOOSH_ONLY:
            self._parser.remove_plugin_class(plugin)
        # One search parses its query for retrieval and again for highlights: parse once.
        self.parse = lru_cache(maxsize=1024)(self._parse)
        self.term_weights = lru_cache(maxsize=1024)(self._term_weights)
        self._local = threading.local()

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
        return {term: self.collection.term_weight(term) for term in dict.fromkeys(self.tokenizer.terms(text))}

    def _searcher(self, segment):
        """One Whoosh searcher per thread and segment, opened once (segments never change)."""
        searchers = getattr(self._local, "searchers", None)
        if searchers is None:
            searchers = self._local.searchers = {}
        if segment.name not in searchers:
            searchers[segment.name] = segment.bm25.index.searcher()
        return searchers[segment.name]

    def matching(self, query: Query) -> np.ndarray:
        """Global rows Whoosh matches `query` in (deleted ones too: scoring leaves them out), as a bool mask."""
        mask = np.zeros(self.snapshot.rows, dtype=bool)
        for view in self.snapshot.views:
            docs = np.fromiter(self._searcher(view.segment).docs_for_query(query), dtype=np.int64)
            rows = view.segment.whoosh_rows[docs] if len(docs) else docs
            mask[view.base + rows[rows >= 0]] = True
        return mask

    def search(self, text: str, k: int, allowed: np.ndarray | None = None, count: bool = True) -> tuple[Ranked, int]:
        """The top `k` paragraphs (only global rows where `allowed` is True, when given), and how many match.

        With `count=False` the second number is just the length of the ranking.
        """
        query = self.parse(text)
        if query is NullQuery or k <= 0:
            return [], 0
        leaves = flat_leaves(query)
        if leaves is None:  # phrases, AND, NOT: Whoosh decides which paragraphs match
            matched = self.matching(query)
            allowed = matched if allowed is None else allowed & matched
            leaves = positive_leaves(query)
        return self.collection.top(leaves, k, count, allowed)
