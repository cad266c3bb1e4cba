"""A segment's near-duplicate marks: each article's MinHash signature, its band keys, and its story.

    minhash.npy             uint32 (articles, NUM_PERM): row r is article ids[r] (all 0: too short to compare)
    minhash_bands.npy       uint64 (BANDS, eligible rows): each band's keys, sorted
    minhash_band_rows.npy   int32 (BANDS, eligible rows): the row of each sorted key
    minhash_stories.json    {"ids": [article id by row], "stories": {article id: story}}

A saved store's arrays are read whole when small and with pread when large (index/store/paged_array.py): a
write looks up a few of their rows, and mapped they would grow the service's resident memory by the whole
arrays over a feed. A band's keys are found through a fence kept in memory (every STRIDE-th key) and one
read of the keys between two of its posts.

An article's story is the id of the first article of its copies (reprints) to be indexed: a new
article takes the story of the best-matching live article already indexed (estimated similarity
>= THRESHOLD, index/ingest/minhash.py), else its own id. Stories are marked once, at ingest, and
never change: deleting the first article of a story leaves its id as the others' story, and a
merge copies the marks. `stories` lists only articles whose story is not their own id.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from index.ingest.minhash import BANDS, NUM_PERM, THRESHOLD, band_keys, eligible, signatures, similarity
from index.models import Article
from index.store.paged_array import PagedArray

SIGNATURES = "minhash.npy"
BAND_KEYS = "minhash_bands.npy"
BAND_ROWS = "minhash_band_rows.npy"
STORIES = "minhash_stories.json"
FILES = (SIGNATURES, BAND_KEYS, BAND_ROWS, STORIES)
STRIDE = 512  # a band's fence holds every STRIDE-th sorted key: a lookup reads ~2 * STRIDE keys (8 KB; more if
#   more rows share its key)
READ_WHOLE = 1 << 20  # a saved array of fewer bytes is read into memory when opened, a larger one paged


@dataclass(frozen=True)
class DuplicateStore:
    """One segment's marks (a saved store's large arrays paged). Invariant: row r of `signatures` is `ids[r]`;
    `sorted_keys[b]` is sorted and `sorted_rows[b, i]` is the row whose band b key is `sorted_keys[b, i]`."""

    ids: list[str]
    signatures: np.ndarray | PagedArray
    sorted_keys: np.ndarray | PagedArray
    sorted_rows: np.ndarray | PagedArray
    stories: dict[str, str]
    marked: bool = True  # False: a segment from before near-duplicates (no signatures: nobody's copy)
    row_of: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "row_of", {aid: row for row, aid in enumerate(self.ids)})

    @classmethod
    def build(cls, ids: Sequence[str], signatures: np.ndarray, stories: dict[str, str],
              marked: bool = True) -> "DuplicateStore":
        """The store of `signatures` (row r: ids[r]) with its band index; `stories` as `story_keys` gives them."""
        rows = np.flatnonzero(eligible(signatures)).astype(np.int32)
        keys = band_keys(signatures[rows]).T if len(rows) else np.zeros((BANDS, 0), dtype=np.uint64)
        order = np.argsort(keys, axis=1, kind="stable")
        return cls(list(ids), signatures, np.take_along_axis(keys, order, axis=1),
                   rows[order] if len(rows) else np.zeros((BANDS, 0), dtype=np.int32),
                   {aid: story for aid, story in stories.items() if story != aid}, marked)

    def save(self, folder: Path) -> None:
        np.save(folder / SIGNATURES, self.signatures)
        np.save(folder / BAND_KEYS, self.sorted_keys)
        np.save(folder / BAND_ROWS, self.sorted_rows)
        (folder / STORIES).write_text(json.dumps({"ids": self.ids, "stories": self.stories}, ensure_ascii=False,
                                                 separators=(",", ":")), encoding="utf-8")

    @classmethod
    def open(cls, folder: Path) -> "DuplicateStore | None":
        """The saved store, or None for a segment written before near-duplicates were marked."""
        if not (folder / STORIES).exists():
            return None
        marks = json.loads((folder / STORIES).read_text(encoding="utf-8"))
        return cls(marks["ids"], _saved(folder / SIGNATURES), _saved(folder / BAND_KEYS), _saved(folder / BAND_ROWS),
                   marks["stories"])

    def story(self, article_id: str) -> str:
        """The story an article of this segment belongs to (its own id when it is nobody's copy)."""
        return self.stories.get(article_id, article_id)

    def marked_as(self, story: str) -> tuple[str, ...]:
        """This segment's articles marked as copies of `story` (deleted ones too)."""
        return self._by_story.get(story, ())

    @cached_property
    def _by_story(self) -> dict[str, tuple[str, ...]]:
        """story -> the articles marked with it: the marks inverted once (the segment never changes)."""
        found: dict[str, list[str]] = {}
        for aid, story in self.stories.items():
            found.setdefault(story, []).append(aid)
        return {story: tuple(aids) for story, aids in found.items()}

    def candidates(self, keys: np.ndarray) -> np.ndarray:
        """Rows sharing at least one band key with `keys` (BANDS,), sorted, once each."""
        found = []
        signed = self.sorted_keys.shape[1]
        for band, fence in enumerate(self.fence):
            key = keys[band]
            # fence[j] = sorted_keys[band, j * STRIDE]: keys equal to `key` lie between the posts around it
            first = max(int(np.searchsorted(fence, key, side="left")) - 1, 0) * STRIDE
            last = min(int(np.searchsorted(fence, key, side="right")) * STRIDE, signed)
            window = np.asarray(self.sorted_keys[band, first:last])
            lo = first + int(np.searchsorted(window, key, side="left"))
            hi = first + int(np.searchsorted(window, key, side="right"))
            if hi > lo:
                found.append(np.asarray(self.sorted_rows[band, lo:hi]))
        return np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int32)

    @cached_property
    def fence(self) -> np.ndarray:
        """(BANDS, ceil(signed / STRIDE)): every STRIDE-th key of each band, read at the first use (one band at a
        time; at 1M ~50 ms)."""
        signed = self.sorted_keys.shape[1]
        return np.stack([np.asarray(self.sorted_keys[band, 0:signed])[::STRIDE].copy() for band in range(BANDS)])


def _saved(path: Path) -> np.ndarray | PagedArray:
    """A saved array: read whole if under READ_WHOLE bytes, else paged."""
    return np.load(path) if path.stat().st_size < READ_WHOLE else PagedArray(path)


Live = Callable[[str], bool]  # article id -> still live (not deleted, not being replaced)


def best_match(signature: np.ndarray, keys: np.ndarray, stores: Sequence[tuple[DuplicateStore, Live]]) -> str | None:
    """The story of the most similar live article of `stores` at or above THRESHOLD (ties: the earlier store), or None."""
    best, best_score = None, THRESHOLD
    for store, live in stores:
        rows = store.candidates(keys)
        if not len(rows):
            continue
        scores = similarity(signature, np.asarray(store.signatures[rows]))
        for at in np.argsort(-scores, kind="stable"):
            if scores[at] < best_score:
                break
            aid = store.ids[int(rows[at])]
            if live(aid):
                if scores[at] > best_score or best is None:
                    best, best_score = store.story(aid), float(scores[at])
                break
    return best


def claimed(story: str, stores: Sequence[tuple[DuplicateStore, Live]]) -> bool:
    """True when a live article of `stores` is marked with `story` (its copies outlive the article of that id)."""
    return any(live(aid) for store, live in stores for aid in store.marked_as(story))


def fresh_story(article_id: str) -> str:
    """A story key for an article whose id already names another story (a replaced or reused id)."""
    return f"{article_id}~{uuid.uuid4().hex[:12]}"


def story_keys(ids: Sequence[str], signatures: np.ndarray, existing: Sequence[tuple[DuplicateStore, Live]] = ()) -> dict[str, str]:
    """The story of each new article, in order: that of its best match among `existing` and the new
    articles before it, else its own id, or a fresh key where live copies of an earlier article of
    that id already hold the id as their story (the id was replaced or reused with other text)."""
    stories: dict[str, str] = {}
    keys = band_keys(signatures) if len(ids) else np.zeros((0, BANDS), dtype=np.uint64)
    ok = eligible(signatures)
    earlier: dict[tuple[int, int], list[int]] = {}  # (band, key) -> rows of this batch
    for row, aid in enumerate(ids):
        stories[aid] = aid
        if not ok[row]:
            if claimed(aid, existing):
                stories[aid] = fresh_story(aid)
            continue
        found = best_match(signatures[row], keys[row], existing)
        rows = sorted({r for band in range(BANDS) for r in earlier.get((band, int(keys[row, band])), ())})
        if rows:
            scores = similarity(signatures[row], signatures[rows])
            at = int(np.argmax(scores))
            if scores[at] >= THRESHOLD and found is None:
                found = stories[ids[rows[at]]]
        if found is not None:
            stories[aid] = found
        elif claimed(aid, existing):
            stories[aid] = fresh_story(aid)
        for band in range(BANDS):
            earlier.setdefault((band, int(keys[row, band])), []).append(row)
    return stories


def empty(ids: Sequence[str]) -> DuplicateStore:
    """A store that marks nothing (a segment from before near-duplicates: its articles are nobody's copies)."""
    return DuplicateStore.build(ids, np.zeros((len(ids), NUM_PERM), dtype=np.uint32), {}, marked=False)


def merged(parts: Sequence[tuple[DuplicateStore, Sequence[Article]]]) -> DuplicateStore:
    """The marks of a merged segment: each store's live `articles`, in order, their marks copied; the articles
    of an unmarked store get signatures now and are marked against the rest (index/merge.py)."""
    ids = [a.id for _, articles in parts for a in articles]
    rows = np.zeros((len(ids), NUM_PERM), dtype=np.uint32)
    stories: dict[str, str] = {}
    fresh: list[int] = []
    at = 0
    for store, articles in parts:
        if store.marked:
            if articles:
                rows[at:at + len(articles)] = store.signatures[[store.row_of[a.id] for a in articles]]
            stories.update((a.id, store.story(a.id)) for a in articles)
        else:
            rows[at:at + len(articles)] = signatures(list(articles))
            fresh.extend(range(at, at + len(articles)))
        at += len(articles)
    if fresh:
        signed = rows.copy()
        signed[fresh] = 0  # the unmarked articles are matched against the marked ones, and among themselves below
        known = DuplicateStore.build(ids, signed, stories)
        fresh_ids = [ids[i] for i in fresh]
        stories.update(story_keys(fresh_ids, rows[fresh], [(known, lambda aid: True)]))
    return DuplicateStore.build(ids, rows, stories)
