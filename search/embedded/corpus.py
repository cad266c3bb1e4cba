"""The embedded engine as a Corpus: one commit point's segments, BM25 from their postings, dense from their FAISS.

BM25: a flat OR of terms is scored from the postings with the live collection's statistics
(search/embedded/collection.py); phrases, AND, NOT and parentheses are matched by Whoosh in each segment
and the matching paragraphs scored the same way, by their positive terms. Dense: each large segment's
FAISS indexes (search/embedded/segment_dense.py) and the small segments together (search/embedded/tail_dense.py),
merged by score. Filters are row masks over all
segments' rows (deleted rows never allowed), cached per filter.
"""

from __future__ import annotations

import threading
from functools import lru_cache, partial
from typing import Iterator, Sequence

import numpy as np
from whoosh.query import Query

from index.models import Article, Paragraph
from index.settings import Settings
from index.snapshot import Snapshot
from search.corpus import CorpusInfo
from search.embedded.collection import Collection, Matches, Part
from search.embedded.masks import segment_mask
from search.embedded.stories import copies_in, marking, story_in
from search.embedded.segment_dense import DensePart, SegmentDense
from search.embedded.tail_dense import TailDense, in_tail
from search.filters import Filter
from search.fusion import Ranked, ordered
from search.query_leaves import flat_leaves, positive_leaves

FILTER_CACHE = 256  # filters whose row masks are kept


class EmbeddedCorpus:
    """A Corpus over one snapshot of the embedded index; thread-safe."""

    def __init__(self, snapshot: Snapshot, settings: Settings, previous: "EmbeddedCorpus | None" = None) -> None:
        self.snapshot = snapshot
        self.collection = Collection([Part(v.segment.postings, v.base, v.deleted, v.stats) for v in snapshot.views],
                                     snapshot.ids_of)
        self.parts = segment_dense_parts(snapshot, settings, previous.parts if previous is not None else None)
        self.searched = dense_groups(self.parts, settings.sentence_weight)
        self.live = sum(p.live for p in self.parts)
        # The weight in use: that of the segments searched with sentence vectors (0 when none is).
        self.sentence_weight = max((p.search.sentence_weight for p in self.parts if p.search.sentences is not None),
                                   default=0.0)
        self.info = corpus_info(snapshot, self.sentence_weight)
        self._masks = lru_cache(maxsize=FILTER_CACHE)(partial(rows_meeting, snapshot))  # no cycle through self
        self.marking = marking(snapshot)  # the segments marking copies: none, and every story is one article
        self._local = threading.local()

    # ------------------------------------------------------------------ documents

    def paragraph(self, paragraph_id: str) -> Paragraph | None:
        return self.snapshot.paragraph(paragraph_id)

    def sources_and_dates(self, paragraph_ids: Sequence[str]) -> list[tuple[str, str | None] | None]:
        return self.snapshot.sources_and_dates(paragraph_ids)

    def article(self, article_id: str) -> Article | None:
        return self.snapshot.article(article_id)

    def article_paragraphs(self, article_id: str) -> list[Paragraph]:
        return self.snapshot.article_paragraphs(article_id)

    def live_paragraphs(self) -> Iterator[Paragraph]:
        return self.snapshot.live_paragraphs()

    def story(self, article_id: str) -> str:
        return story_in(self.marking, article_id) if self.marking else article_id

    def copies(self, article_id: str) -> list[str]:
        return copies_in(self.snapshot, self.marking, article_id) if self.marking else []

    def sources(self) -> list[str]:
        return self.snapshot.sources()

    def disk_bytes(self) -> int:
        """Bytes on disk of what the commit point lists (its segments and tombstones)."""
        total = 0
        for view in self.snapshot.views:
            total += sum(path.stat().st_size for path in view.segment.folder.rglob("*") if path.is_file())
            if view.info.deletes:
                total += (self.snapshot.index_dir / view.info.deletes).stat().st_size
        return total

    # ------------------------------------------------------------------ filters

    def allowed(self, flt: Filter) -> np.ndarray | None:
        """Global rows live and meeting `flt` as a bool mask (None: every live row). Cached per filter."""
        return None if flt.is_empty() else self._masks(flt)

    # ------------------------------------------------------------------ BM25

    def _searcher(self, segment):
        """One Whoosh searcher per thread and segment, opened once (segments never change)."""
        searchers = getattr(self._local, "searchers", None)
        if searchers is None:
            searchers = self._local.searchers = {}
        if segment.name not in searchers:
            searchers[segment.name] = segment.bm25.index.searcher()
        return searchers[segment.name]

    def matching(self, query: Query) -> np.ndarray:
        """Global rows Whoosh matches `query` in (deleted ones too: scoring leaves them out), as a bool mask."""
        mask = np.zeros(self.snapshot.rows, dtype=bool)
        for view in self.snapshot.views:
            docs = np.fromiter(self._searcher(view.segment).docs_for_query(query), dtype=np.int64)
            rows = view.segment.whoosh_rows[docs] if len(docs) else docs
            mask[view.base + rows[rows >= 0]] = True
        return mask

    def bm25(self, query: Query, k: int, flt: Filter, count: bool = True) -> tuple[Ranked, int]:
        ranked, total = self.bm25_ranking(query, flt, k).cut(k)
        return ranked, total if count else len(ranked)

    def bm25_ranking(self, query: Query, flt: Filter, deepest: int) -> Matches:
        allowed = self.allowed(flt)
        leaves = flat_leaves(query)
        if leaves is None:  # phrases, AND, NOT: Whoosh decides which paragraphs match
            matched = self.matching(query)
            allowed = matched if allowed is None else allowed & matched
            leaves = positive_leaves(query)
        return self.collection.matches(leaves, deepest, allowed)

    def term_weights(self, terms: Sequence[str]) -> dict[str, float]:
        return {term: self.collection.term_weight(term) for term in terms}

    # ------------------------------------------------------------------ dense

    def dense(self, vectors: np.ndarray, k: int, flt: Filter) -> list[Ranked]:
        allowed = self.allowed(flt)
        merged: list[list[tuple[str, float]]] = [[] for _ in range(len(vectors))]
        for group in self.searched:
            if allowed is None:
                found = group.search_vectors(vectors, k)
            else:
                rows = group.rows_in(allowed)
                if not len(rows):
                    continue
                found = group.search_vectors(vectors, k, rows)
            for into, ranked in zip(merged, found):
                into.extend(ranked)
        return merged if len(self.searched) == 1 else [ordered(ranked)[:k] for ranked in merged]

    def dense_total(self, flt: Filter) -> int:
        allowed = self.allowed(flt)
        return self.live if allowed is None else int(allowed.sum())

    def paragraph_vectors(self, paragraph_ids: Sequence[str]) -> np.ndarray:
        part_at = {part.base: part for part in self.parts}
        out = np.zeros((len(paragraph_ids), int(self.info.model.get("dim", 0))), dtype=np.float32)
        for i, pid in enumerate(paragraph_ids):
            found = self.snapshot.locate(pid)
            if found is not None:
                view, row = found
                out[i] = part_at[view.base].search.store.vectors(np.array([row], dtype=np.int64))[0]
        return out

    def dense_parts(self, vector: np.ndarray, paragraph_ids: Sequence[str]) -> dict[str, tuple[float, float | None]]:
        """Each live paragraph's own cosine and its best sentence's, from its segment's stored vectors (recomputed
        row by row: equal to the ranking's to float32 rounding)."""
        part_at = {part.base: part for part in self.parts}
        out = {}
        for pid in paragraph_ids:
            found = self.snapshot.locate(pid)
            if found is None:
                continue
            view, row = found
            search = part_at[view.base].search
            rows = np.array([row], dtype=np.int64)
            own = float(search.store.vectors(rows)[0] @ vector)
            best = None
            if search.sentences is not None:
                value = float(search.sentences.best(vector[None, :], rows)[0, 0])
                best = value if np.isfinite(value) else None
            out[pid] = (own, best)
        return out


def rows_meeting(snapshot: Snapshot, flt: Filter) -> np.ndarray:
    """Global rows live and meeting `flt`, as a read-only bool mask (shared by every query with this filter)."""
    mask = np.concatenate([segment_mask(flt, v.segment) & v.live() for v in snapshot.views]
                          or [np.zeros(0, dtype=bool)])
    mask.flags.writeable = False
    return mask


def segment_dense_parts(snapshot: Snapshot, settings: Settings, previous: Sequence[DensePart] | None = None) -> list[DensePart]:
    """Each segment's dense search, with the settings' probes and sentence weight; a segment whose deletions
    `previous` already searched keeps its part (and the FAISS selectors built for them)."""
    reuse = {(id(p.search.store), id(p.deleted_key)): p.search for p in previous} if previous is not None else {}
    parts = []
    for view in snapshot.views:
        segment = view.segment
        segment.vectors.nprobe = settings.ivf_nprobe
        if segment.sentences is not None:
            segment.sentences.store.nprobe = settings.sentence_nprobe
        search = reuse.get((id(segment.vectors), id(view.deletions)))
        if search is None or search.sentence_weight != settings.sentence_weight:
            search = SegmentDense(segment.vectors, segment.sentences, settings.sentence_weight, view.deleted)
        parts.append(DensePart(search, view.base, segment.size, view.deletions))
    return parts


def dense_groups(parts: Sequence[DensePart], sentence_weight: float) -> list[DensePart | TailDense]:
    """What dense search visits: each large segment alone, the small exact ones together (search/embedded/tail_dense.py);
    a lone segment alone, whatever its size (a fresh build searches as it always has)."""
    small = [part for part in parts if in_tail(part)] if len(parts) > 1 else []
    if not small:
        return list(parts)
    return [part for part in parts if not in_tail(part)] + [TailDense(small, sentence_weight)]


def corpus_info(snapshot: Snapshot, sentence_weight: float) -> CorpusInfo:
    manifest = snapshot.manifest
    largest = max(snapshot.views, key=lambda v: v.segment.size, default=None)
    return CorpusInfo(
        backend="embedded", version=snapshot.name.removesuffix(".json"), location=str(snapshot.index_dir),
        articles=manifest.articles, paragraphs=manifest.paragraphs, sentences=manifest.sentences,
        sentence_vectors=manifest.sentence_vectors, model=manifest.model, tokenizer=manifest.tokenizer,
        sentence_weight=sentence_weight,
        created_at=manifest.created_at, build_seconds=manifest.build_seconds,
        details={"segments": len(snapshot.views), "deleted_paragraphs": sum(v.info.deleted_rows for v in snapshot.views),
                 "vector_index": largest.segment.vectors.kind if largest is not None else "exact"},
    )
