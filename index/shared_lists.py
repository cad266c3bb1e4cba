"""Which trained IVF lists a new segment's vectors are filed under: an index's own, reused, or none (exact).

A segment that a merge or a large write makes takes the lists of the index's IVF segment trained on
the most rows, even below `ann_threshold`, once it has more than SHARED_LISTS_ROWS paragraphs. Exact search
reads every stored vector a query: a merged segment of 3,072 paragraphs and 14,362 sentences (20
minutes of one article a second at 100k) cost dense search about as much as the 100k IVF segment
beside it (+3.0 ms of CPU a query), which reads only the lists its probes visit. Filed under the same
lists, it is searched with the same probes (dense recall@10 against exact 0.997 after an hour's feed,
as before) for ~0.5 ms a query: its candidates rescored, the centroids, a few rows of each probed list.
Lists trained on a sample of the corpus serve vectors that came after it (REUSE_LISTS bounds how far):
fresh news reads like the news they were trained on. Segments of up to SHARED_LISTS_ROWS paragraphs stay
exact and are searched together (search/embedded/tail_dense.py): at 768 paragraphs that cost no more than
a segment on the lists did (docs/performance.md, "A long feed").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import faiss

from index.manifest import SegmentInfo
from index.store.vector_store import PARAGRAPH_FILES, SENTENCE_FILES, read_lists

SHARED_LISTS_ROWS = 1024  # paragraphs past which a segment below ann_threshold takes the index's lists
REUSE_LISTS = 2  # IVF lists serve a segment of up to this many times the rows they were trained on


@dataclass(frozen=True)
class TrainedLists:
    """The trained lists of one segment: its paragraph index's and, where IVF, its sentence index's."""

    owner: SegmentInfo
    paragraphs: faiss.Index
    sentences: faiss.Index | None


def lists_owner(segments: Sequence[SegmentInfo], rows: int, ann_threshold: int) -> SegmentInfo | None:
    """The segment whose lists a new segment of `rows` paragraphs takes, or None (trained anew at
    `ann_threshold` rows and more, exact below): the IVF segment trained on the most rows, while `rows` is
    at most REUSE_LISTS times those and either reaches `ann_threshold` or passes SHARED_LISTS_ROWS."""
    trained = [s for s in segments if s.vector_index != "exact" and s.trained_rows]
    if not trained or (rows < ann_threshold and rows <= SHARED_LISTS_ROWS):
        return None
    owner = max(trained, key=lambda s: (s.trained_rows, s.live_rows))
    return owner if rows <= REUSE_LISTS * owner.trained_rows else None


def lists_for(index_dir: Path, segments: Sequence[SegmentInfo], rows: int, ann_threshold: int) -> TrainedLists | None:
    """The trained lists a new segment of `rows` paragraphs in `index_dir` takes (`lists_owner`), read; or None."""
    return open_lists(index_dir, lists_owner(segments, rows, ann_threshold))


def trained_rows(kind: str, rows: int, lists: TrainedLists | None) -> int:
    """A new segment's SegmentInfo.trained_rows: its lists' owner's, its own `rows` if it trained IVF lists of its
    own, 0 when exact (`kind` its paragraph store's kind)."""
    if kind == "exact":
        return 0
    return lists.owner.trained_rows if lists is not None else rows


def open_lists(index_dir: Path, owner: SegmentInfo | None) -> TrainedLists | None:
    """`owner`'s lists, read for filing new rows under them (its stored vectors mapped, never read); None when its
    files are gone (a full build replaced the index meanwhile: a merge's commit then finds its sources gone too)."""
    if owner is None:
        return None
    folder = index_dir / owner.name
    sentence_file = folder / SENTENCE_FILES[0]
    try:
        paragraphs = read_lists(folder / PARAGRAPH_FILES[0])
        sentences = read_lists(sentence_file) if sentence_file.is_file() else None
    except (OSError, RuntimeError):  # FAISS reports a missing file as a RuntimeError
        return None
    if not isinstance(paragraphs, faiss.IndexIVF):
        return None
    return TrainedLists(owner, paragraphs, sentences if isinstance(sentences, faiss.IndexIVF) else None)
