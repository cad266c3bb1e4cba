"""Filters on hits: by source page, by article, by date range; as Whoosh queries and as allowed rows."""

from __future__ import annotations

from dataclasses import dataclass

from whoosh.query import And, Query, Term, TermRange

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


def accepts(flt: Filter, paragraph: Paragraph) -> bool:
    """True when the paragraph meets every condition (an undated paragraph fails any date condition)."""
    if flt.source and paragraph.source != flt.source:
        return False
    if flt.article_id and paragraph.article_id != flt.article_id:
        return False
    if flt.has_date():
        date = paragraph.date or ""
        if not date[:1].isdigit():  # no date, or one without a year ("--12-18")
            return False
        if flt.date_from and date < flt.date_from:
            return False
        if flt.date_to and date[: len(flt.date_to)] > flt.date_to:
            return False
    return True


def whoosh_filter(flt: Filter) -> Query | None:
    """The same conditions as a Whoosh query over the stored ID fields (None: no filter)."""
    clauses: list[Query] = []
    if flt.source:
        clauses.append(Term("source", flt.source))
    if flt.article_id:
        clauses.append(Term("article_id", flt.article_id))
    if flt.has_date():
        # "0" sorts before every digit and "9~" after every full date; dateless values start with "-" or are empty.
        clauses.append(TermRange("date", flt.date_from or "0", (flt.date_to or "9") + "~"))
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else And(clauses)
