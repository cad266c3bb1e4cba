"""The one interface between the searcher and an index's engine: a consistent, read-only view of a corpus.

The searcher (search/hybrid.py) parses, encodes, fuses, adds article context, highlights and pages;
everything it asks of the index goes through `Corpus`: documents by id, BM25 retrieval of a parsed
query, dense retrieval of query vectors, and the counts and settings the index was built with.
The embedded engine (segments of Whoosh postings and FAISS, search/embedded/) implements it; so
can a distributed one, with the same tokenizer, model, fusion and API above it.

Invariants for every implementation: one view is one version of the corpus (a commit point), never
a mix; rankings are lists of (paragraph id, score) sorted by (-score, id); BM25 scores are BM25F
over title and text with the live corpus's statistics; dense scores are cosines blended with the
paragraph's best sentence as search/embedded/segment_dense.py describes; a filter is applied before the top k.

A query reaches `bm25` parsed, as a whoosh.query tree (the query language's syntax tree: terms,
phrases, AND, OR, NOT, field names); an engine without Whoosh translates the tree, it does not
need Whoosh's index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator, Protocol, Sequence

import numpy as np
from whoosh.query import Query

from index.models import Article, Paragraph
from search.filters import Filter
from search.fusion import Ranked


@dataclass(frozen=True)
class CorpusInfo:
    """What a corpus view is and was built with (the index's manifest, for any engine)."""

    backend: str  # "embedded", ...
    version: str  # the commit point (or the engine's own version) this view is
    location: str  # the index folder, or the engine's address
    articles: int
    paragraphs: int
    sentences: int
    sentence_vectors: bool
    model: dict[str, object]
    tokenizer: dict[str, object]
    sentence_weight: float = 0.0  # what a paragraph's best sentence weighs in its dense score (0: none searched)
    created_at: str = ""
    build_seconds: float = 0.0
    details: dict[str, object] = field(default_factory=dict)  # engine-specific: segments, deletions, vector index


class Ranking(Protocol):
    """One query's BM25 ranking, cut as deep as asked as often as asked: each cut the first `k` of the same
    order (copies hidden from a page may ask for it deeper)."""

    def cut(self, k: int) -> tuple[Ranked, int]:
        """The first `k` (at most the depth the ranking was made for), and how many paragraphs match."""


class Requeried:
    """A Ranking that asks its engine again for each cut (an engine that keeps no query's matches); the count
    is asked for once."""

    def __init__(self, ask: Callable[[int, bool], tuple[Ranked, int]]) -> None:
        self.ask = ask  # (k, count) -> the top k and the count (the ranking's length when not count)
        self.total: int | None = None

    def cut(self, k: int) -> tuple[Ranked, int]:
        ranked, total = self.ask(k, self.total is None)
        self.total = total if self.total is None else self.total
        return ranked, self.total


class Corpus(Protocol):
    """A read-only view of one version of an indexed corpus; safe to share across threads."""

    info: CorpusInfo

    def paragraph(self, paragraph_id: str) -> Paragraph | None:
        """A live paragraph, or None."""

    def sources_and_dates(self, paragraph_ids: Sequence[str]) -> list[tuple[str, str | None] | None]:
        """Each live paragraph's source and date (its article's), or None: what sorting and counting a ranking of
        up to 10,000 needs, without reading each paragraph."""

    def article(self, article_id: str) -> Article | None:
        """A live article, or None."""

    def article_paragraphs(self, article_id: str) -> list[Paragraph]:
        """An article's live paragraphs in reading order ([] for an unknown article)."""

    def live_paragraphs(self) -> Iterator[Paragraph]:
        """Every live paragraph (for evaluations: each paragraph's article)."""

    def story(self, article_id: str) -> str:
        """The story an article is a copy of (a reprint, marked at ingest: the id of the story's first article),
        or its own id when no other live article is a copy of it."""

    def copies(self, article_id: str) -> list[str]:
        """The other live articles of this article's story (its near-duplicates), sorted."""

    def sources(self) -> list[str]:
        """The source names of the live paragraphs, sorted."""

    def disk_bytes(self) -> int:
        """Bytes the index takes on disk (0 where the engine does not say)."""

    def bm25(self, query: Query, k: int, flt: Filter, count: bool = True) -> tuple[Ranked, int]:
        """The top `k` paragraphs meeting `flt` for a parsed query, and how many match at all (the ranking's
        length when not `count`)."""

    def bm25_ranking(self, query: Query, flt: Filter, deepest: int) -> Ranking:
        """The paragraphs meeting `flt` that match a parsed query, to be cut at depths up to `deepest`; where the
        engine keeps a query's matches, each cut ranks them without scoring them again."""

    def term_weights(self, terms: Sequence[str]) -> dict[str, float]:
        """Each term's BM25 idf over paragraph text, log(1 + (N - df + 0.5) / (df + 0.5)) (adaptive fusion)."""

    def dense(self, vectors: np.ndarray, k: int, flt: Filter) -> list[Ranked]:
        """For each query vector, the top `k` paragraphs meeting `flt` by (blended) cosine."""

    def dense_total(self, flt: Filter) -> int:
        """How many paragraphs a dense ranking can page through: every live one meeting `flt`."""

    def paragraph_vectors(self, paragraph_ids: Sequence[str]) -> np.ndarray:
        """The stored unit vectors of those live paragraphs, in that order (rows of zeros for unknown ids)."""

    def dense_parts(self, vector: np.ndarray, paragraph_ids: Sequence[str]) -> dict[str, tuple[float, float | None]]:
        """For explanations: each live paragraph's own cosine with the query vector, and its best sentence's (None:
        no sentence searched), the two numbers its dense score blends."""
