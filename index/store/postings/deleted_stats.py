"""What a segment's deleted rows still hold in its postings, to be left out of the collection statistics.

Postings never change once written, so a deleted row's postings stay until a merge drops them.
For BM25 with exact statistics (search/embedded/collection.py) the collection's counts leave them out: the
deleted rows' number, their field lengths, and per postings slot (field, term) how many deleted
rows hold the term. Two ways to count the slots, equal by construction (tested):
- from the postings, with numpy over every posting (`from_postings`): for many rows, a cold open;
- from the rows' own text through the schema's analyzer (`from_text`): for the few rows a write
  deletes, at a refresh (it costs what the rows hold, not what the segment does).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.models import Paragraph
from index.store.postings.from_text import document_terms
from index.store.postings.segment_postings import FIELDS, SegmentPostings

TEXT_UP_TO = 256  # rows counted from their text at most; more are counted from the postings


@dataclass(frozen=True)
class DeletedStats:
    """Deleted rows of one segment: how many, their length per field, and per slot how many hold its term."""

    rows: int
    lengths: dict[str, int]
    df: np.ndarray  # int32 per postings slot

    def plus(self, other: "DeletedStats") -> "DeletedStats":
        return DeletedStats(self.rows + other.rows, {f: self.lengths[f] + other.lengths[f] for f in FIELDS},
                            self.df + other.df)


def none_deleted(postings: SegmentPostings) -> DeletedStats:
    return DeletedStats(0, {f: 0 for f in FIELDS}, np.zeros(postings.slot_count, dtype=np.int32))


def _lengths(postings: SegmentPostings, rows: np.ndarray) -> dict[str, int]:
    sums = postings.lengths[rows].sum(axis=0, dtype=np.int64) if len(rows) else np.zeros(len(FIELDS), np.int64)
    return {f: int(sums[i]) for i, f in enumerate(FIELDS)}


def from_postings(postings: SegmentPostings, rows: np.ndarray) -> DeletedStats:
    """Count over every posting: one numpy pass, whatever the number of rows."""
    if not len(rows) or not postings.slot_count:
        return DeletedStats(len(rows), _lengths(postings, rows), np.zeros(postings.slot_count, dtype=np.int32))
    deleted = np.zeros(postings.size, dtype=bool)
    deleted[rows] = True
    running = np.concatenate([[0], np.cumsum(deleted[postings.rows], dtype=np.int64)])
    df = running[postings.offsets[1:]] - running[postings.offsets[:-1]]  # deleted postings per slot
    return DeletedStats(len(rows), _lengths(postings, rows), df.astype(np.int32))


def from_text(postings: SegmentPostings, schema, paragraphs: list[Paragraph], rows: np.ndarray) -> DeletedStats:
    """Count from the rows' own title and text, analysed as Whoosh indexed them."""
    df = np.zeros(postings.slot_count, dtype=np.int32)
    for row in rows.tolist():
        paragraph = paragraphs[row]
        for fieldname, (terms, _) in document_terms(schema, {"title": paragraph.title, "text": paragraph.text}).items():
            for term in terms:
                slot = postings.slot(fieldname, term)
                if slot is not None:
                    df[slot] += 1
    return DeletedStats(len(rows), _lengths(postings, rows), df)


def deleted_stats(postings: SegmentPostings, schema, paragraphs: list[Paragraph], rows: np.ndarray) -> DeletedStats:
    """The statistics of `rows`, counted the cheaper way."""
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) <= TEXT_UP_TO:
        return from_text(postings, schema, paragraphs, rows)
    return from_postings(postings, rows)
