"""Filters on hits: by source page, by article, by date range; as row masks of a segment."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.models import Paragraph
from index.store.segment import Segment


@dataclass(frozen=True)
class Filter:
    """Conditions a hit must meet; None means no condition. Dates compare as ISO strings (YYYY-MM-DD)."""

    source: str | None = None
    article_id: str | None = None
    date_from: str | None = None
    date_to: str | None = None

    def is_empty(self) -> bool:
        return not (self.source or self.article_id or self.date_from or self.date_to)

    def has_date(self) -> bool:
        return bool(self.date_from or self.date_to)


NO_FILTER = Filter()


def date_accepted(flt: Filter, date: str | None) -> bool:
    """True when `date` meets the filter's date range (an undated value fails any date condition)."""
    if not flt.has_date():
        return True
    date = date or ""
    if not date[:1].isdigit():  # no date, or one without a year ("--12-18")
        return False
    if flt.date_from and date < flt.date_from:
        return False
    if flt.date_to and date[: len(flt.date_to)] > flt.date_to:
        return False
    return True


def accepts(flt: Filter, paragraph: Paragraph) -> bool:
    """True when the paragraph meets every condition (an undated paragraph fails any date condition)."""
    if flt.source and paragraph.source != flt.source:
        return False
    if flt.article_id and paragraph.article_id != flt.article_id:
        return False
    return date_accepted(flt, paragraph.date)


def segment_mask(flt: Filter, segment: Segment) -> np.ndarray:
    """Bool per row of `segment`: its paragraph meets `flt` (deletions not considered); `accepts` row by row."""
    mask = np.ones(segment.size, dtype=bool)
    columns = segment.columns
    if flt.source:
        code = columns.sources.index(flt.source) if flt.source in columns.sources else -1
        mask &= columns.source_codes == code
    if flt.article_id:
        rows = segment.article_rows.get(flt.article_id)
        article = np.zeros(segment.size, dtype=bool)
        if rows is not None:
            article[rows] = True
        mask &= article
    if flt.has_date():
        mask &= np.array([date_accepted(flt, d) for d in columns.dates], dtype=bool)[columns.date_codes]
    return mask
