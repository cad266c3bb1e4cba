"""Writes in place: add, replace or delete articles as one new small segment plus tombstones, one commit.

Nothing already on disk is copied or rewritten: the upserted articles become a new segment
(searched exactly), the rows they replace and the deleted articles' rows are tombstoned in the
segments that hold them, and a new commit point lists it all. Embedding, the slow part, happens
before the write lock is taken (index/update.py `prepare`); several prepared updates commit together
(`commit_prepared`: the service's group commit). A write is acknowledged once its commit point
is current, and a crash at any point leaves the previous one current.
"""

from __future__ import annotations

import errno
import shutil
from typing import Callable, Generic, TypeVar
from functools import partial
from pathlib import Path

import numpy as np

from index.builder import Checkpoint, new_tmp, no_checkpoint, publish
from index.commits import read_current, remove_unreferenced, tidy, write_commit, write_lock
from index.ingest.minhash import minhash_class, signatures
from index.manifest import IndexMismatchError, Manifest, SegmentInfo, check_compatible, now
from index.model.embed import Encoder
from index.models import Article, UnknownArticleError
from index.store.docs.article_rows import ArticleRows
from index.store.durable import sync_tree
from index.store.minhash_store import DuplicateStore, empty
from index.shared_lists import TrainedLists, lists_for, trained_rows
from index.store.segment import marked, read_article_rows, write_docs, write_postings, write_vectors, write_whoosh
from index.store.vector_store import ANN_THRESHOLD, PARAGRAPH_FILES, SENTENCE_FILES
from index.tokenize import Tokenizer
from index.tombstones import Tombstones, read_tombstones, tombstone_file, write_tombstones
from index.update import PreparedArticle, PreparedUpdate, prepare

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class DiskFullError(OSError):
    """A write could not be stored: the message names the folder and the space it needed."""


class IndexChangedError(RuntimeError):
    """The index was rebuilt with other settings between preparing a write and committing it."""


T = TypeVar("T")


class PerSegment(Generic[T]):
    """What `read(segment folder)` gives, read once per segment and process (segments never change, so what
    was read stays true), forgotten with the segment."""

    def __init__(self, read: Callable[[Path], T]) -> None:
        self._read = read
        self._found: dict[str, T] = {}

    def get(self, index_dir: Path, segment: str) -> T:
        if segment not in self._found:
            self._found[segment] = self._read(index_dir / segment)
        return self._found[segment]

    def forget(self, keep: set[str]) -> None:
        for name in set(self._found) - keep:
            del self._found[name]


def _marks_of(folder: Path) -> DuplicateStore:
    """A segment's near-duplicate marks (large arrays paged), or none for one from before them; with their
    band fences read (`preload` reads them at a service's start, not at its first write)."""
    marks = DuplicateStore.open(folder) or empty(list(read_article_rows(folder)))
    marks.fence
    return marks


_CATALOG = PerSegment(lambda folder: ArticleRows(read_article_rows(folder)))  # id -> (first row, rows)
_DUPLICATES = PerSegment(_marks_of)


def preload(index_dir: Path | None) -> None:
    """Load now what the first write would (a service that takes writes, at start, before its heap is settled):
    datasketch, which imports SciPy (~0.6 s and ~16 MB, holding the interpreter's lock: every search in flight
    waited for the first write), and, for `index_dir`, the article catalogue and near-duplicate marks of each
    segment of its current commit point. Where the index cannot be read nothing more is loaded: opening it
    says why."""
    minhash_class()
    if index_dir is None:
        return
    try:
        _, manifest = read_current(index_dir)
    except (OSError, ValueError, IndexMismatchError):
        return
    for segment in manifest.segments:
        _CATALOG.get(index_dir, segment.name)
        _DUPLICATES.get(index_dir, segment.name)


def needed_bytes(articles: list[PreparedArticle]) -> int:
    """A generous estimate of the disk a new segment of `articles` takes (text x 8, vectors x 2)."""
    text = sum(len(p.text.encode()) + len(p.title.encode()) for a in articles for p in a.paragraphs)
    vectors = sum(a.vectors.nbytes + a.sentences.nbytes for a in articles)
    return 8 * text + 2 * vectors + 64 * 1024


def commit_prepared(index_dir: Path, batch: list[PreparedUpdate], tokenizer: Tokenizer, model: dict[str, object],
                    checkpoint: Checkpoint = no_checkpoint, lock_timeout: float = 30.0,
                    ann_threshold: int = ANN_THRESHOLD) -> tuple[Manifest, list[Exception | None]]:
    """Apply `batch` in order as one commit; (the commit point now current, each update's error or None).

    An update deleting an unknown article fails alone (UnknownArticleError) and changes nothing;
    the others land. WriterBusyError, DiskFullError and IndexChangedError fail the whole batch,
    and nothing of it lands then.
    """
    with write_lock(index_dir, lock_timeout):
        remove_unreferenced(index_dir)
        _, manifest = read_current(index_dir)
        check_compatible(manifest, model, tokenizer.config())
        if any(update.sentence_vectors != manifest.sentence_vectors for update in batch):
            raise IndexChangedError(f"{index_dir} was rebuilt (sentence vectors {manifest.sentence_vectors}) while "
                                    "this write was prepared: send it again")
        _CATALOG.forget({s.name for s in manifest.segments})
        _DUPLICATES.forget({s.name for s in manifest.segments})
        _TOMBSTONES.forget({s.deletes for s in manifest.segments if s.deletes})
        where = _Locations(index_dir, manifest)
        final: dict[str, PreparedArticle | None] = {}  # article id -> its new version (None: deleted)
        outcomes: list[Exception | None] = []
        for update in batch:
            missing = [aid for aid in update.deletes if not (final[aid] is not None if aid in final else where.live(aid))]
            if missing:
                outcomes.append(UnknownArticleError(missing[0]))
                continue
            final.update({aid: None for aid in update.deletes})
            final.update({p.article.id: p for p in update.upserts})
            outcomes.append(None)
        if not final:
            return manifest, outcomes
        try:
            with tokenizer.pinned({t: tokens for update in batch for t, tokens in update.tokens.items()}):
                new = _commit(index_dir, manifest, where, final, tokenizer, checkpoint, ann_threshold)
        except OSError as err:
            if err.errno not in DISK_FULL:
                raise
            tidy(index_dir)  # what this write had stored: nothing lists it
            need = needed_bytes([p for p in final.values() if p is not None])
            free = shutil.disk_usage(index_dir).free
            raise DiskFullError(err.errno, f"no space left on the device of {index_dir}: this write needs about "
                                f"{need / 1e6:.1f} MB ({free / 1e6:.1f} MB free); free some space and send it "
                                "again (nothing of it was stored)") from err
        return new, outcomes


class _Tombstones:
    """Tombstone files read by this process, by name (a file never changes once written), with their article sets."""

    def __init__(self) -> None:
        self._read: dict[str, tuple[Tombstones, frozenset[str]]] = {}

    def get(self, index_dir: Path, name: str | None) -> tuple[Tombstones, frozenset[str]]:
        if name is None:
            return Tombstones(), frozenset()
        if name not in self._read:
            found = read_tombstones(index_dir, name)
            self._read[name] = (found, frozenset(found.articles))
        return self._read[name]

    def forget(self, keep: set[str]) -> None:
        for name in set(self._read) - keep:
            del self._read[name]


_TOMBSTONES = _Tombstones()


class _Locations:
    """Which segment holds each live article, as of one commit point."""

    def __init__(self, index_dir: Path, manifest: Manifest) -> None:
        self.index_dir = index_dir
        self.manifest = manifest

    def tombstones(self, segment: SegmentInfo) -> Tombstones:
        return _TOMBSTONES.get(self.index_dir, segment.deletes)[0]

    def where(self, article_id: str) -> SegmentInfo | None:
        for segment in reversed(self.manifest.segments):
            if article_id in _CATALOG.get(self.index_dir, segment.name) and \
                    article_id not in _TOMBSTONES.get(self.index_dir, segment.deletes)[1]:
                return segment
        return None

    def live(self, article_id: str) -> bool:
        return self.where(article_id) is not None


def _commit(index_dir: Path, manifest: Manifest, where: _Locations, final: dict[str, PreparedArticle | None],
            tokenizer: Tokenizer, checkpoint: Checkpoint, ann_threshold: int) -> Manifest:
    """Write the new segment and tombstones of `final` and commit them (the write lock is held)."""
    generation = manifest.generation + 1
    segments = list(manifest.segments)
    upserts = [p for p in final.values() if p is not None]
    if upserts:
        existing = [(_DUPLICATES.get(index_dir, segment.name), partial(_live_here, where, final, segment.name))
                    for segment in manifest.segments]
        lists = lists_for(index_dir, manifest.segments, sum(len(p.paragraphs) for p in upserts), ann_threshold)
        segments.append(_write_segment(index_dir, upserts, tokenizer, checkpoint, ann_threshold,
                                       manifest.sentence_vectors, existing, lists))
        checkpoint("publish")
    gone: dict[str, list[str]] = {}
    for aid in final:
        segment = where.where(aid)
        if segment is not None:
            gone.setdefault(segment.name, []).append(aid)
    for at, segment in enumerate(segments):
        if segment.name not in gone:
            continue
        ranges = _CATALOG.get(index_dir, segment.name)
        rows = {r for aid in gone[segment.name] for r in range(ranges[aid][0], ranges[aid][0] + ranges[aid][1])}
        tombstones = where.tombstones(segment).plus(rows, gone[segment.name])
        name = tombstone_file(segment.name, generation)
        write_tombstones(index_dir, name, tombstones)
        segments[at] = segment.model_copy(update={"deletes": name, "deleted_rows": len(tombstones.rows),
                                                  "deleted_articles": len(tombstones.articles)})
    checkpoint("tombstones")
    new = manifest.model_copy(update={"generation": generation, "segments": segments, "created_at": now(),
                                      "corpus_fingerprint": ""})
    write_commit(index_dir, new)
    checkpoint("switch")
    tidy(index_dir)
    return new


def _live_here(where: _Locations, final: dict[str, PreparedArticle | None], segment: str, article_id: str) -> bool:
    """True when `segment`'s version of an article is its live one and stays live through this commit (not
    deleted, not replaced by it): an older segment's tombstoned version of a live article is not."""
    found = where.where(article_id)
    return article_id not in final and found is not None and found.name == segment


def _signatures(upserts: list[PreparedArticle]) -> np.ndarray:
    """The upserts' MinHash signatures, as prepared (computed here for an update prepared without them)."""
    return np.vstack([a.signature if a.signature is not None else signatures([a.article])[0] for a in upserts])


def _write_segment(index_dir: Path, upserts: list[PreparedArticle], tokenizer: Tokenizer, checkpoint: Checkpoint,
                   ann_threshold: int, with_sentences: bool, existing=(), lists: TrainedLists | None = None) -> SegmentInfo:
    """The upserted articles as a new, published segment (its folder fsynced before it is named); `existing`:
    the index's segments' near-duplicate marks with who is live, for marking copies; `lists`: the trained IVF
    lists its vectors are filed under (index/shared_lists.py; None: trained anew or exact by rows)."""
    folder = new_tmp(index_dir)
    try:
        paragraphs = [p for a in upserts for p in a.paragraphs]
        ids = [p.id for p in paragraphs]
        articles = [a.article for a in upserts]
        write_docs(folder, articles, paragraphs, marked(articles, existing, _signatures(upserts)))
        checkpoint("docs")
        store = write_whoosh(folder, tokenizer, paragraphs, in_memory=True)  # one request's articles: small
        write_postings(folder, store, ids, paragraphs)  # from the text (its tokens pinned): no Whoosh read-back
        checkpoint("whoosh")
        dim = upserts[0].vectors.shape[1]
        vectors = write_vectors(folder, np.vstack([a.vectors for a in upserts]).reshape(-1, dim), ids,
                                PARAGRAPH_FILES, ann_threshold, lists.paragraphs if lists is not None else None)
        owners = [pid for a in upserts for pid in a.sentence_owners]
        if with_sentences:  # the store exists even when empty: the segment was built with sentence vectors
            write_vectors(folder, np.vstack([a.sentences for a in upserts]).reshape(-1, dim), owners,
                          SENTENCE_FILES, ann_threshold, lists.sentences if lists is not None else None)
        checkpoint("faiss")
        sync_tree(folder)
        name = publish(index_dir, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return SegmentInfo(name=name, rows=len(paragraphs), articles=len(upserts), sentences=len(owners),
                       vector_index=vectors.kind, trained_rows=trained_rows(vectors.kind, len(paragraphs), lists))


def apply_update(index_dir: Path, upserts: list[Article], deletes: list[str], tokenizer: Tokenizer,
                 encoder: Encoder | None, checkpoint: Checkpoint = no_checkpoint, lock_timeout: float = 30.0,
                 ann_threshold: int = ANN_THRESHOLD) -> Manifest:
    """Add or replace `upserts` and delete the articles `deletes`, as one commit (`encoder` may be None
    when there is nothing to embed: deletes alone).

    Raises UnknownArticleError (a KeyError) for a delete of an unknown article (nothing is changed then).
    """
    _, manifest = read_current(index_dir)
    if encoder is None and upserts:
        raise ValueError("upserts need an encoder to embed them")
    update = prepare(upserts, deletes, encoder, manifest.sentence_vectors, tokenizer) if encoder is not None \
        else PreparedUpdate([], list(deletes), manifest.sentence_vectors)
    model = encoder.config() if encoder is not None else manifest.model
    new, (outcome,) = commit_prepared(index_dir, [update], tokenizer, model, checkpoint, lock_timeout, ann_threshold)
    if outcome is not None:
        raise outcome
    return new
