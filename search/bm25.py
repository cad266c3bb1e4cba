"""BM25 retriever: Whoosh query syntax, OR-grouped terms; the corpus scores the parsed query.

The embedded corpus scores a query that is only ORs of terms (almost every question) from its
segments' postings (search/embedded/collection.py); phrases, AND, NOT and parentheses are matched by Whoosh
in each segment and the matching paragraphs scored the same way, by BM25 over the query's positive
terms (what Whoosh's BM25F gives an AND, a NOT or a phrase of one field).
"""

from __future__ import annotations

from functools import lru_cache, partial
from typing import Callable

from whoosh import qparser
from whoosh.query import AndNot, Not, NullQuery, Or, Query, Term

from index.store.bm25_store import make_schema
from index.store.postings.segment_postings import FIELDS
from index.tokenize import Tokenizer
from search.corpus import Corpus, Ranking, Requeried
from search.filters import NO_FILTER, Filter
from search.fusion import Ranked
from search.query_leaves import flat_leaves
from search.synonyms.expand import synonym_boosts
from search.synonyms.rules import SynonymFile, query_text

WHOOSH_ONLY = (qparser.WildcardPlugin, qparser.RangePlugin, qparser.SingleQuotePlugin)


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


def plain_query(tokenizer: Tokenizer, text: str) -> Query:
    """The OR of the query's terms over title and text (no syntax)."""
    terms = dict.fromkeys(tokenizer.terms(text))
    clauses = [Term(field, term) for term in terms for field in FIELDS]
    return Or(clauses) if clauses else NullQuery


def query_parser(tokenizer: Tokenizer) -> qparser.MultifieldParser:
    """Whoosh's parser over title and text, terms OR-grouped.

    Questions end in "?" and Chinese has no use for "*" globs or quoted single terms: without
    those plugins "什么?" stays a question instead of becoming a wildcard.
    """
    parser = qparser.MultifieldParser(list(FIELDS), make_schema(tokenizer), group=qparser.OrGroup)
    for plugin in WHOOSH_ONLY:
        parser.remove_plugin_class(plugin)
    return parser


def parse_query(parser, tokenizer: Tokenizer, text: str) -> Query:
    """Whoosh syntax where it parses; plain terms where it does not."""
    try:
        return lift_negations(parser.parse(text))
    except Exception:  # any parser failure means: treat the input as plain words
        return plain_query(tokenizer, text)


def query_term_weights(corpus: Corpus, tokenizer: Tokenizer, text: str) -> dict[str, float]:
    """Each distinct query term with its BM25 IDF over paragraph text (rarer weighs more)."""
    return corpus.term_weights(list(dict.fromkeys(tokenizer.terms(text))))


class BM25Retriever:
    """query, k -> paragraphs ranked by BM25F (title and text) over a corpus; thread-safe.

    Terms are OR-grouped: a question matches paragraphs that share some of its words
    (AND grouping, Whoosh's default, loses most answers to natural-language questions).
    Explicit AND / OR / NOT, quotes for phrases and parentheses work as in Whoosh.
    """

    def __init__(self, corpus: Corpus, tokenizer: Tokenizer, parse: Callable[[str], Query],
                 synonyms: SynonymFile | None = None, synonym_weight: float = 0.5) -> None:
        self.corpus = corpus
        self.tokenizer = tokenizer
        self.synonyms = synonyms
        self.synonym_weight = synonym_weight
        # One search parses its query for retrieval and again for highlights: `parse` is a cache shared with
        # earlier commit points' retrievers (search/text_cache.py). The caches hold what they need, not this
        # retriever: a replaced searcher is freed at once (no reference cycle). Term weights change with the corpus.
        self.parse = parse
        self.term_weights = lru_cache(maxsize=1024)(partial(query_term_weights, corpus, tokenizer))

    def plain_query(self, text: str) -> Query:
        """The OR of the query's terms over title and text (no syntax)."""
        return plain_query(self.tokenizer, text)

    def query(self, text: str) -> Query:
        """The query as scored: parsed, and with its synonyms added where it is plain words (search/synonyms/rules.py)."""
        parsed = self.parse(text)
        if self.synonyms is None or self.synonym_weight <= 0 or flat_leaves(parsed) is None:
            return parsed
        found = self.synonyms.current().expansions(query_text(text, self.tokenizer))
        if not found:
            return parsed
        have = {term for _, term in parsed.iter_all_terms()}
        boosts = synonym_boosts(found, self.tokenizer.terms, self.corpus.term_weights, self.synonym_weight, have)
        extra = [Term(field, term, boost=boost) for term, boost in boosts.items() for field in FIELDS]
        return Or([parsed, Or(extra)]) if extra else parsed

    def query_terms(self, text: str) -> set[str]:
        """The terms a query looks for (for highlighting; synonyms included)."""
        return {term for field, term in self.query(text).iter_all_terms() if field == "text"}

    def search(self, text: str, k: int, flt: Filter = NO_FILTER, count: bool = True) -> tuple[Ranked, int]:
        """The top `k` paragraphs meeting `flt`, and how many match (the ranking's length when not `count`)."""
        query = self.query(text)
        if query is NullQuery or k <= 0:
            return [], 0
        return self.corpus.bm25(query, k, flt, count)

    def ranking(self, text: str, flt: Filter, deepest: int) -> Ranking:
        """The paragraphs meeting `flt` that match `text`, to be cut at depths up to `deepest` (search.corpus)."""
        query = self.query(text)
        if query is NullQuery or deepest <= 0:
            return Requeried(lambda k, count: ([], 0))
        return self.corpus.bm25_ranking(query, flt, deepest)
