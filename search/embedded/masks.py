"""Filters as row masks of a segment of the embedded engine (its columns of sources and dates, its articles' rows)."""

from __future__ import annotations

import numpy as np

from index.store.segment import Segment
from search.filters import Filter, date_accepted


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
