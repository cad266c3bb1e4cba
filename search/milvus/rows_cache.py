"""Paragraph rows a search read from Milvus, kept for the lookups that follow it (hits, coverage, highlights, stories).

A search asks Milvus for its candidates' fields along with their scores; the searcher then asks the
corpus for each candidate paragraph, and without this cache each would be one more call. One cache
belongs to one corpus view, so a write (a new view) starts a fresh one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Iterable

from index.milvus.rows import paragraph_of
from index.models import Paragraph

CACHED_ROWS = 50_000  # ~25 MB of paragraphs; a page of hybrid results reads ~200


class RowsCache:
    """paragraph id -> (Paragraph, story), and article id -> story; least recently used out first; thread-safe."""

    def __init__(self, size: int = CACHED_ROWS) -> None:
        self.size = size
        self._rows: OrderedDict[str, tuple[Paragraph, str]] = OrderedDict()
        self._stories: OrderedDict[str, str] = OrderedDict()  # article id -> story, from the rows seen
        self._lock = threading.Lock()

    def put(self, entities: Iterable[dict[str, Any]]) -> None:
        """Keep the rows of these entities (PARAGRAPH_FIELDS)."""
        found = [(e["id"], (paragraph_of(e), e["story"])) for e in entities]
        with self._lock:
            for pid, row in found:
                self._rows[pid] = row
                self._rows.move_to_end(pid)
                self._stories[row[0].article_id] = row[1]
                self._stories.move_to_end(row[0].article_id)
            while len(self._rows) > self.size:
                self._rows.popitem(last=False)
            while len(self._stories) > self.size:
                self._stories.popitem(last=False)

    def get(self, paragraph_id: str) -> tuple[Paragraph, str] | None:
        with self._lock:
            row = self._rows.get(paragraph_id)
            if row is not None:
                self._rows.move_to_end(paragraph_id)
            return row

    def story(self, article_id: str) -> str | None:
        """The story of an article one of whose paragraphs was seen, or None."""
        with self._lock:
            return self._stories.get(article_id)
