"""A segment's per-row source and date, as codes into two small vocabularies (filters, sorting, facets).

Written beside the documents (`columns.json`) so that a segment opens without parsing its articles; a segment
written before the file existed computes them from its articles when it opens.

Invariant: row r's source and date are its article's (split_article gives every paragraph its article's).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson

from index.models import Article

COLUMNS_FILE = "columns.json"


@dataclass(frozen=True)
class Columns:
    """Per-row values that filters test, as codes into small vocabularies (one pass of numpy per filter)."""

    sources: tuple[str, ...]
    source_codes: np.ndarray  # int32, per row
    dates: tuple[str, ...]  # "" for none
    date_codes: np.ndarray  # int32, per row

    @classmethod
    def of(cls, articles: Iterable[Article], article_rows: dict[str, np.ndarray], size: int) -> "Columns":
        """The columns of `size` rows, each taking its article's source and date; `article_rows` (article id ->
        rows) covers every row once."""
        with_rows = [a for a in articles if len(article_rows[a.id])]
        sources = tuple(sorted({a.source for a in with_rows}))
        dates = tuple(sorted({a.date or "" for a in with_rows}))
        source_at = {s: i for i, s in enumerate(sources)}
        date_at = {d: i for i, d in enumerate(dates)}
        source_codes, date_codes = np.empty(size, np.int32), np.empty(size, np.int32)
        for article in with_rows:
            rows = article_rows[article.id]
            source_codes[rows] = source_at[article.source]
            date_codes[rows] = date_at[article.date or ""]
        return cls(sources, source_codes, dates, date_codes)

    def save(self, folder: Path) -> None:
        (folder / COLUMNS_FILE).write_bytes(orjson.dumps({
            "sources": self.sources, "dates": self.dates,
            "source_codes": self.source_codes, "date_codes": self.date_codes,
        }, option=orjson.OPT_SERIALIZE_NUMPY))

    @classmethod
    def open(cls, folder: Path, size: int) -> "Columns | None":
        """The columns saved in `folder`, None when it has none; ValueError when they are not of `size` rows."""
        path = folder / COLUMNS_FILE
        if not path.exists():
            return None
        saved = orjson.loads(path.read_bytes())
        out = cls(tuple(saved["sources"]), np.array(saved["source_codes"], dtype=np.int32),
                  tuple(saved["dates"]), np.array(saved["date_codes"], dtype=np.int32))
        if len(out.source_codes) != size or len(out.date_codes) != size:
            raise ValueError(f"{path} holds {len(out.source_codes)} rows, the segment {size}")
        if size and (out.source_codes.max() >= len(out.sources) or out.date_codes.max() >= len(out.dates)
                     or min(out.source_codes.min(), out.date_codes.min()) < 0):
            raise ValueError(f"{path} holds codes beyond its vocabularies")
        return out

    def equals(self, other: "Columns") -> bool:
        """The same vocabularies and codes."""
        return (self.sources, self.dates) == (other.sources, other.dates) and \
            np.array_equal(self.source_codes, other.source_codes) and np.array_equal(self.date_codes, other.date_codes)
