"""Snapshot: one commit point opened for reading, its segments and their deletions, checked against the settings.

Opening a newer commit point with the previous snapshot at hand reuses every segment both list
(nothing of it is read again: documents, Whoosh, postings, vectors) and, for a segment whose
tombstones grew, the statistics of the rows already deleted: the refresh costs what changed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from index.commits import IndexNotFoundError, read_current
from index.manifest import Manifest, SegmentInfo, check_compatible
from index.models import Article, Paragraph
from index.store.postings import FIELDS, DeletedStats, document_terms
from index.store.segment import Segment
from index.tombstones import Tombstones, read_tombstones

OPEN_ATTEMPTS = 3  # a writer may remove what an older commit point listed while we open it: read CURRENT again


def deleted_stats(segment: Segment, rows: Iterable[int]) -> DeletedStats:
    """What `rows` of `segment` contribute to its postings (their field lengths and distinct terms)."""
    rows = list(rows)
    if not rows:
        return DeletedStats()
    schema = segment.bm25.index.schema
    lengths = segment.postings.lengths[np.asarray(rows, dtype=np.int64)].sum(axis=0, dtype=np.int64)
    df: dict[str, Counter] = {f: Counter() for f in FIELDS}
    for row in rows:
        paragraph = segment.paragraphs[row]
        for fieldname, (terms, _) in document_terms(schema, {"title": paragraph.title, "text": paragraph.text}).items():
            df[fieldname].update(terms)
    return DeletedStats(len(rows), {f: int(lengths[i]) for i, f in enumerate(FIELDS)}, df)


@dataclass
class SegmentView:
    """A segment as one commit point sees it: where its rows start among all rows, and what is deleted."""

    segment: Segment
    info: SegmentInfo
    base: int
    tombstones: Tombstones
    stats: DeletedStats
    deleted: np.ndarray = field(init=False)  # sorted rows (int64)
    deleted_rows: frozenset[int] = field(init=False)
    deleted_articles: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.deleted = np.asarray(self.tombstones.rows, dtype=np.int64)
        self.deleted_rows = frozenset(self.tombstones.rows)
        self.deleted_articles = frozenset(self.tombstones.articles)

    def live(self) -> np.ndarray:
        """Bool per row: not deleted."""
        mask = np.ones(self.segment.size, dtype=bool)
        mask[self.deleted] = False
        return mask

    def has_article(self, article_id: str) -> bool:
        return article_id in self.segment.articles and article_id not in self.deleted_articles


def _view(index_dir: Path, info: SegmentInfo, base: int, previous: dict[str, SegmentView]) -> SegmentView:
    """A SegmentView of `info`, reusing the previous snapshot's segment and deleted-row statistics."""
    before = previous.get(info.name)
    segment = before.segment if before is not None else Segment.open(index_dir / info.name)
    tombstones = read_tombstones(index_dir, info.deletes) if not (before and before.info.deletes == info.deletes) \
        else before.tombstones
    if before is not None and set(before.tombstones.rows) <= set(tombstones.rows):
        stats = before.stats.plus(deleted_stats(segment, set(tombstones.rows) - set(before.tombstones.rows)))
    else:
        stats = deleted_stats(segment, tombstones.rows)
    return SegmentView(segment, info, base, tombstones, stats)


@dataclass
class Snapshot:
    """The segments of one commit point, newest last. Invariant: a live article lives in exactly one segment."""

    index_dir: Path
    name: str  # the commit point's file name
    manifest: Manifest
    views: list[SegmentView]
    bases: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.bases = np.array([v.base for v in self.views], dtype=np.int64)

    @property
    def folder(self) -> Path:
        return self.index_dir

    @property
    def rows(self) -> int:
        """All rows of all segments (deleted ones included): the size of a global row space."""
        return int(sum(v.segment.size for v in self.views))

    def id_of(self, row: int) -> str:
        """The paragraph id at global row `row`."""
        at = int(np.searchsorted(self.bases, row, side="right")) - 1
        view = self.views[at]
        return view.segment.ids[row - view.base]

    def locate(self, paragraph_id: str) -> tuple[SegmentView, int] | None:
        """The segment view and row holding a live paragraph, or None."""
        for view in reversed(self.views):
            row = view.segment.row_of.get(paragraph_id)
            if row is not None and row not in view.deleted_rows:
                return view, row
        return None

    def paragraph(self, paragraph_id: str) -> Paragraph | None:
        found = self.locate(paragraph_id)
        return None if found is None else found[0].segment.paragraphs[found[1]]

    def article_view(self, article_id: str) -> SegmentView | None:
        return next((v for v in reversed(self.views) if v.has_article(article_id)), None)

    def article(self, article_id: str) -> Article | None:
        view = self.article_view(article_id)
        return None if view is None else view.segment.articles[article_id]

    def article_paragraphs(self, article_id: str) -> list[Paragraph]:
        """The live paragraphs of an article, in reading order ([] for an unknown article)."""
        view = self.article_view(article_id)
        if view is None:
            return []
        return [view.segment.paragraphs[r] for r in view.segment.article_rows.get(article_id, ())]

    def segments(self) -> list[Segment]:
        return [v.segment for v in self.views]

    def live_paragraphs(self) -> Iterator[Paragraph]:
        """Every live paragraph, segment by segment in row order."""
        for view in self.views:
            deleted = view.deleted_rows
            yield from (p for row, p in enumerate(view.segment.paragraphs) if row not in deleted)

    def sources(self) -> list[str]:
        """The source names of the live paragraphs, sorted."""
        return sorted({p.source for p in self.live_paragraphs() if p.source})


def open_snapshot(index_dir: Path, model: dict[str, object], tokenizer: dict[str, object],
                  previous: Snapshot | None = None) -> Snapshot:
    """Open the current commit point of `index_dir`; raise if missing, partial or built differently.

    With `previous`, the segments both list are reused as they are.
    """
    reuse = {v.info.name: v for v in previous.views} if previous is not None else {}
    for attempt in range(OPEN_ATTEMPTS):
        name, manifest = read_current(index_dir)
        check_compatible(manifest, model, tokenizer)
        if previous is not None and name == previous.name:
            return previous
        try:
            views, base = [], 0
            for info in manifest.segments:
                views.append(_view(index_dir, info, base, reuse))
                base += views[-1].segment.size
            return Snapshot(index_dir, name, manifest, views)
        except FileNotFoundError as err:
            if attempt == OPEN_ATTEMPTS - 1:
                raise IndexNotFoundError(f"{index_dir}: {err}; the index changed while it was opened: "
                                         "try again, or run `zhsearch check`") from err
    raise AssertionError("unreachable")
