"""The Milvus engine as a Corpus: one version of a corpus in Milvus collections (index/milvus/schema.py).

Reads go to Milvus with Strong consistency (an acknowledged write is seen); the paragraph rows a
search returns are kept for the lookups that follow it (search/milvus/rows_cache.py). A view
holds the statistics of the version it opened (live count, average field lengths); a write
opens a new view. Milvus has no snapshot across collections: a view reads what is there when it
asks, so a concurrent writer's half-done commit can be seen (docs/milvus.md, "Consistency").
"""

from __future__ import annotations

import json
import threading
from typing import Iterator, Sequence

import numpy as np
from whoosh.query import Query

from index.milvus.connection import WINDOW, Connection
from index.milvus.record import CorpusRecord, CorpusStats
from index.milvus.rows import PARAGRAPH_FIELDS, article_of, paragraph_of
from index.models import Article, Paragraph
from index.settings import Settings
from index.tokenize import Tokenizer
from search.corpus import CorpusInfo, Requeried
from search.filters import Filter
from search.fusion import Ranked
from search.milvus.expressions import filter_condition, quoted
from search.milvus.lexical import Lexical
from search.milvus.rows_cache import RowsCache
from search.milvus.vectors import Vectors

EXPORT_BATCH = 1000  # rows per page when every paragraph is read
CACHED_COUNTS = 1024  # filters whose paragraph count is kept
CACHED_STORIES = 100_000  # articles whose story (and stories whose copies) are kept


class MilvusCorpus:
    """A Corpus over one version of a Milvus corpus; thread-safe."""

    def __init__(self, conn: Connection, record: CorpusRecord, stats: CorpusStats, settings: Settings,
                 tokenizer: Tokenizer, sources: dict[str, int] | None = None) -> None:
        self.conn = conn
        self.source_counts = sources or {}
        self.record = record
        self.stats = stats
        self.cache = RowsCache()
        sentence_weight = settings.sentence_weight if record.sentence_vectors and stats.sentences else 0.0
        self.lexical = Lexical(conn, stats, self.cache, tokenizer)
        self.vectors = Vectors(conn, self.cache, int(record.model.get("dim", 0)), record.vector_index, sentence_weight)
        self.info = CorpusInfo(
            backend="milvus", version=str(stats.version), location=conn.location, articles=stats.articles,
            paragraphs=stats.paragraphs, sentences=stats.sentences, sentence_vectors=record.sentence_vectors,
            model=record.model, tokenizer=record.tokenizer, sentence_weight=sentence_weight,
            created_at=record.created_at, build_seconds=record.build_seconds,
            details={"collection": conn.name, "vector_index": record.vector_index.get("paragraphs", "FLAT"),
                     "exported_from": record.exported_from})
        self._stories: dict[str, str] = {}
        self._copies: dict[str, list[str]] = {}
        self._counts: dict[Filter, int] = {}
        self._lock = threading.Lock()

    def ping(self) -> None:
        """Ask Milvus for the corpus's statistics (MilvusUnavailableError when it does not answer in time)."""
        self.version_now()

    def version_now(self) -> str:
        """The version of the corpus in Milvus now (this view's, until a commit lands)."""
        rows = self.conn.by_id("meta", ["stats"], ["id", "value"], "read the corpus version")
        return str(json.loads(rows[0]["value"])["version"]) if rows else ""

    # ------------------------------------------------------------------ documents

    def _paragraph_rows(self, where: str, limit: int = WINDOW) -> list[dict]:
        rows = self.conn.call("read paragraphs", "query", self.conn.collection("paragraphs"), filter=where,
                              output_fields=PARAGRAPH_FIELDS, limit=limit)
        self.cache.put(rows)
        return rows

    def sources_and_dates(self, paragraph_ids: Sequence[str]) -> list[tuple[str, str | None] | None]:
        """From the rows cache (a ranking's paragraphs came with it), those it no longer holds (other searches
        pushed them out: 8 clients' pools of 10,000 outgrow it) read in one query, not one each."""
        known: dict[str, Paragraph] = {}
        for pid in paragraph_ids:
            cached = self.cache.get(pid)
            if cached is not None:
                known[pid] = cached[0]
        missing = [pid for pid in dict.fromkeys(paragraph_ids) if pid not in known]
        if missing:
            rows = self.conn.by_id("paragraphs", missing, PARAGRAPH_FIELDS, "read a view's paragraphs")
            self.cache.put(rows)
            known.update((row["id"], paragraph_of(row)) for row in rows)
        return [None if (p := known.get(pid)) is None else (p.source, p.date) for pid in paragraph_ids]

    def paragraph(self, paragraph_id: str) -> Paragraph | None:
        found = self.cache.get(paragraph_id)
        if found is None:
            rows = self._paragraph_rows(f"id == {quoted(paragraph_id)}", 1)
            return paragraph_of(rows[0]) if rows else None
        return found[0]

    def article_paragraphs(self, article_id: str) -> list[Paragraph]:
        rows = [row for page in self.conn.rows("paragraphs", f"article_id == {quoted(article_id)}", PARAGRAPH_FIELDS,
                                               "read an article's paragraphs") for row in page]
        self.cache.put(rows)
        return sorted((paragraph_of(row) for row in rows), key=lambda p: p.position)

    def article(self, article_id: str) -> Article | None:
        rows = self.conn.by_id("articles", [article_id], ["id", "doc"], "read an article")
        return article_of(rows[0], self.article_paragraphs(article_id)) if rows else None

    def live_paragraphs(self) -> Iterator[Paragraph]:
        for page in self.conn.rows("paragraphs", "", PARAGRAPH_FIELDS, "read every paragraph", EXPORT_BATCH):
            yield from (paragraph_of(row) for row in page)

    def story(self, article_id: str) -> str:
        if not self.stats.copies:
            return article_id
        with self._lock:
            found = self._stories.get(article_id)
        if found is None:
            cached = self.cache.story(article_id)
            if cached is None:
                rows = self.conn.by_id("articles", [article_id], ["id", "story"], "read a story")
                cached = rows[0]["story"] if rows else article_id
            found = cached
            with self._lock:
                if len(self._stories) > CACHED_STORIES:
                    self._stories.clear()
                self._stories[article_id] = found
        return found

    def copies(self, article_id: str) -> list[str]:
        if not self.stats.copies:
            return []
        story = self.story(article_id)
        with self._lock:
            found = self._copies.get(story)
        if found is None:
            found = sorted(row["id"] for page in self.conn.rows("articles", f"story == {quoted(story)}", ["id"],
                                                                 "read a story's articles") for row in page)
            with self._lock:
                if len(self._copies) > CACHED_STORIES:
                    self._copies.clear()
                self._copies[story] = found
        return [aid for aid in found if aid != article_id]

    def sources(self) -> list[str]:
        return sorted(source for source, count in self.source_counts.items() if source and count > 0)

    def disk_bytes(self) -> int:
        return 0  # Milvus keeps its own storage (object store, WAL): not ours to count

    # ------------------------------------------------------------------ BM25

    def bm25(self, query: Query, k: int, flt: Filter, count: bool = True) -> tuple[Ranked, int]:
        return self.lexical.top(query, k, flt, count)

    def bm25_ranking(self, query: Query, flt: Filter, deepest: int) -> Requeried:
        return Requeried(lambda k, count: self.lexical.top(query, k, flt, count))  # Milvus keeps no query's matches

    def term_weights(self, terms: Sequence[str]) -> dict[str, float]:
        return self.lexical.term_weights(terms)

    # ------------------------------------------------------------------ dense

    def dense(self, vectors: np.ndarray, k: int, flt: Filter) -> list[Ranked]:
        return self.vectors.search(np.asarray(vectors, dtype=np.float32), k, flt)

    def dense_total(self, flt: Filter) -> int:
        where = filter_condition(flt)
        if where is True:
            return self.stats.paragraphs
        if where is False:
            return 0
        with self._lock:
            found = self._counts.get(flt)
        if found is None:
            rows = self.conn.call("count paragraphs", "query", self.conn.collection("paragraphs"), filter=where,
                                  output_fields=["count(*)"])
            found = int(rows[0]["count(*)"])
            with self._lock:
                if len(self._counts) > CACHED_COUNTS:
                    self._counts.clear()
                self._counts[flt] = found
        return found

    def paragraph_vectors(self, paragraph_ids: Sequence[str]) -> np.ndarray:
        return self.vectors.paragraph_vectors(paragraph_ids)

    def dense_parts(self, vector: np.ndarray, paragraph_ids: Sequence[str]) -> dict[str, tuple[float, float | None]]:
        return self.vectors.parts(np.asarray(vector, dtype=np.float32), paragraph_ids)


def open_milvus_corpus(conn: Connection, settings: Settings, model: dict[str, object], tokenizer: Tokenizer,
                       previous: "MilvusCorpus | None" = None) -> "MilvusCorpus":
    """The corpus `conn` names, at its current version (`previous` itself while that is still current).
    Raises MilvusUnavailableError, CorpusNotFoundError or IndexMismatchError, each naming the fix."""
    from index.milvus.record import check_record, read_meta, read_sources

    record, stats = read_meta(conn)
    if previous is not None and stats.version == previous.stats.version:
        return previous
    check_record(record, model, tokenizer.config(), conn.name)
    return MilvusCorpus(conn, record, stats, settings, tokenizer, read_sources(conn))
