"""Filters on hits: by source page, by article, by date range (what a paragraph must meet, row by row)."""

from __future__ import annotations

from dataclasses import dataclass

from index.models import Paragraph


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
    """True when `date` meets the filter's date range (an undated value fails any date condition).

    Dates and bounds are YYYY[-MM[-DD]], each standing for its whole period: a value meets a range
    it overlaps, so an article dated "2026-01" is in 2026-01-01..2026-01-31 (a month facet's bounds)
    and in 2026-01-10.., and "2026-01-12" is in ..2026-01.
    """
    if not flt.has_date():
        return True
    date = date or ""
    if not date[:1].isdigit():  # no date, or one without a year ("--12-18")
        return False
    if flt.date_from and date < flt.date_from[: len(date)]:
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
