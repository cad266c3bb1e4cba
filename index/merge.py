"""Merges: segments folded into one, their deleted rows dropped, beside searches and writes.

A merge reads the segments of one commit point, writes the merged segment into a temporary
folder with no lock held (only the merge lock: one merge at a time), and then, under the write
lock for a moment, carries over what was deleted from its sources meanwhile (as tombstones of the
merged segment) and commits a commit point that lists the merged segment in their place. Writes go
on throughout; a crash leaves the previous commit point current and the temporary folder is
removed later. Whoosh's own merge (`add_reader`) copies the postings without tokenising again, and the
numpy postings are the sources' joined (index/store/postings/merge.py), not read back from Whoosh; the
vectors are copied row by row through a memory map and filed under the index's trained IVF lists where
index/shared_lists.py says so (else trained anew, or exact).

Run as `python -m index.merge --index-dir DIR`, or `merge_process` in a child process: the service
forks one from a process that imported this module once (api/live/merge_scheduler.py), so that a
merge's Python work does not compete with queries for the interpreter lock.
"""

from __future__ import annotations

import argparse
import os
import copy
import errno
import logging
import math
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import faiss
import numpy as np
from whoosh import index as whoosh_index
from whoosh.reading import SegmentReader

from index.builder import Checkpoint, new_tmp, no_checkpoint, publish
from index.commits import MERGE_TMP, merge_lock, read_current, tidy, write_commit, write_lock
from index.manifest import Manifest, SegmentInfo, now
from index.merge_policy import MergePolicy, choose_merge, merge_all
from index.shared_lists import lists_for, trained_rows
from index.models import Article, Paragraph
from index.store.bm25_store import WHOOSH_DIR, WRITER_MB, BM25Store
from index.store.durable import sync_tree
from index.store.minhash_store import merged
from index.store.segment import Segment, write_docs, write_postings, write_vectors
from index.store.vector_store import ANN_THRESHOLD, PARAGRAPH_FILES, SENTENCE_FILES, VectorStore
from index.tombstones import Tombstones, read_tombstones, tombstone_file, write_tombstones

log = logging.getLogger("zhsearch.merge")
SPACE_MARGIN = 1.2  # a merge starts only with this many times its sources' size free on the disk
BATCH = 8192  # vector rows copied at a time


class MergeSpaceError(OSError):
    """Not enough free disk for a merge: it was not started (or was given up), and is retried later."""


@dataclass
class Source:
    """A segment to merge, with the tombstones of the commit point the merge started from."""

    info: SegmentInfo
    segment: Segment
    tombstones: Tombstones

    def live_rows(self) -> np.ndarray:
        mask = np.ones(self.segment.size, dtype=bool)
        mask[list(self.tombstones.rows)] = False
        return np.flatnonzero(mask)

    def live_articles(self) -> list[Article]:
        """Live articles, in row order (articles without paragraphs after)."""
        dead = set(self.tombstones.articles)
        rows = self.segment.article_rows
        order = sorted(self.segment.articles, key=lambda aid: rows[aid][0] if len(rows.get(aid, ())) else 1 << 62)
        return [self.segment.articles[aid] for aid in order if aid not in dead]


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def whoosh_readers(segment: Segment, dead_rows: set[int]) -> list[SegmentReader]:
    """Readers of the segment's Whoosh segments in which the rows in `dead_rows` (and any document that is not
    a live paragraph) count as deleted: Whoosh's `add_reader` then copies only the rest. Nothing is written."""
    ix = segment.bm25.index
    readers, base = [], 0
    rows = segment.whoosh_rows
    for whoosh_segment in ix._segments():
        count = whoosh_segment.doc_count_all()
        local = rows[base:base + count]
        dead = {d for d, row in enumerate(local) if row < 0 or int(row) in dead_rows}
        copied = copy.copy(whoosh_segment)
        copied._deleted = (set(whoosh_segment._deleted or ()) | dead) or None
        readers.append(SegmentReader(ix.storage, ix.schema, copied))
        base += count
    return readers


def copy_vectors(out: np.ndarray, stores: list[tuple[VectorStore, np.ndarray]]) -> None:
    """Write each store's `rows` vectors into `out`, one after the other, a batch at a time."""
    at = 0
    for store, rows in stores:
        for start in range(0, len(rows), BATCH):
            part = rows[start:start + BATCH]
            out[at:at + len(part)] = store.vectors(part)
            at += len(part)


def write_merged(folder: Path, sources: list[Source], ann_threshold: int, checkpoint: Checkpoint,
                 segments: Sequence[SegmentInfo] = ()) -> SegmentInfo:
    """The live rows of `sources`, in order, as one segment in `folder` (not yet published); `segments`: those of
    the commit point the sources are from, whose trained lists the merged segment may take."""
    live = [s.live_rows() for s in sources]
    lists = lists_for(sources[0].segment.folder.parent, segments or [s.info for s in sources],
                      sum(len(rows) for rows in live), ann_threshold)
    paragraphs: list[Paragraph] = [s.segment.paragraphs[r] for s, rows in zip(sources, live) for r in rows]
    by_source = [s.live_articles() for s in sources]
    articles = [a for found in by_source for a in found]
    ids = [p.id for p in paragraphs]
    write_docs(folder, articles, paragraphs, merged([(s.segment.duplicates, found) for s, found in zip(sources, by_source)]))
    checkpoint("merge-docs")
    (folder / WHOOSH_DIR).mkdir()
    ix = whoosh_index.create_in(str(folder / WHOOSH_DIR), sources[0].segment.bm25.index.schema)
    with ix.writer(limitmb=WRITER_MB) as writer:
        for source in sources:
            for reader in whoosh_readers(source.segment, set(source.tombstones.rows)):
                writer.add_reader(reader)
    write_postings(folder, BM25Store(ix), ids, merged=[(s.segment.postings, rows) for s, rows in zip(sources, live)])
    checkpoint("merge-whoosh")
    scratch = folder / "vectors.merge.npy"
    dim = sources[0].segment.vectors.dim
    vectors = np.lib.format.open_memmap(scratch, mode="w+", dtype=np.float32, shape=(len(ids), dim)) if ids \
        else np.zeros((0, dim), np.float32)
    copy_vectors(vectors, [(s.segment.vectors, rows) for s, rows in zip(sources, live)])
    store = write_vectors(folder, vectors, ids, PARAGRAPH_FILES, ann_threshold,
                          lists.paragraphs if lists is not None else None)
    del vectors
    scratch.unlink(missing_ok=True)
    sentences = merge_sentences(folder, sources, live, ann_threshold, lists.sentences if lists is not None else None)
    checkpoint("merge-faiss")
    return SegmentInfo(name=folder.name, rows=len(ids), articles=len(articles), sentences=sentences,
                       vector_index=store.kind, trained_rows=trained_rows(store.kind, len(ids), lists))


def merge_sentences(folder: Path, sources: list[Source], live: list[np.ndarray], ann_threshold: int,
                    trained: faiss.Index | None) -> int:
    """The live paragraphs' sentence vectors of `sources` as the merged segment's sentence store; how many."""
    if not any(s.segment.sentences is not None for s in sources):
        return 0
    parts = [(s.segment.sentences, s.segment.sentences.rows_of(rows)) for s, rows in zip(sources, live)
             if s.segment.sentences is not None]
    owners = [sentences.store.ids[r] for sentences, rows in parts for r in rows]
    dim = sources[0].segment.vectors.dim
    scratch = folder / "sentences.merge.npy"
    vectors = np.lib.format.open_memmap(scratch, mode="w+", dtype=np.float32, shape=(len(owners), dim)) if owners \
        else np.zeros((0, dim), np.float32)
    copy_vectors(vectors, [(sentences.store, rows) for sentences, rows in parts])
    write_vectors(folder, vectors, owners, SENTENCE_FILES, ann_threshold, trained)
    del vectors
    scratch.unlink(missing_ok=True)
    return len(owners)


def carried_deletes(sources: list[Source], current: dict[str, SegmentInfo], index_dir: Path) -> Tombstones:
    """What was deleted from the sources after the merge read them, as tombstones of the merged segment."""
    rows: list[int] = []
    articles: list[str] = []
    offset = 0
    for source in sources:
        live = source.live_rows()
        now_dead = read_tombstones(index_dir, current[source.info.name].deletes)
        fresh = np.setdiff1d(np.asarray(now_dead.rows, dtype=np.int64), np.asarray(source.tombstones.rows, dtype=np.int64))
        rows.extend((offset + np.searchsorted(live, fresh)).tolist())  # a fresh row was live: it is in `live`
        articles.extend(set(now_dead.articles) - set(source.tombstones.articles))
        offset += len(live)
    return Tombstones().plus(rows, articles)


def merge_segments(index_dir: Path, names: list[str], ann_threshold: int = ANN_THRESHOLD,
                   checkpoint: Checkpoint = no_checkpoint, lock_timeout: float = 30.0) -> Manifest | None:
    """Merge the segments `names` of the current commit point into one and commit it.

    None when another merge is running, or the segments are no longer current (a full build
    replaced them meanwhile). MergeSpaceError when the disk lacks the room (nothing changed).
    """
    with merge_lock(index_dir) as held:
        if not held:
            return None
        _, manifest = read_current(index_dir)
        infos = [s for s in manifest.segments if s.name in set(names)]
        if len(infos) != len(set(names)) or not infos:
            return None
        # the room first, from the folders alone: opening a large segment (a fold's) reads its lists
        need = SPACE_MARGIN * sum(folder_bytes(index_dir / i.name) for i in infos)
        free = shutil.disk_usage(index_dir).free
        if free < need:
            raise MergeSpaceError(f"merging {len(infos)} segments needs about {need / 1e6:.0f} MB free in "
                                  f"{index_dir}, {free / 1e6:.0f} MB are: not started, retried after the next write")
        sources = [Source(i, Segment.open(index_dir / i.name), read_tombstones(index_dir, i.deletes)) for i in infos]
        folder = new_tmp(index_dir, MERGE_TMP)
        try:
            info = write_merged(folder, sources, ann_threshold, checkpoint, manifest.segments)
            sync_tree(folder)
            checkpoint("merge-written")
            return _commit_merge(index_dir, folder, info, sources, checkpoint, lock_timeout)
        except OSError as err:
            shutil.rmtree(folder, ignore_errors=True)
            if err.errno in (errno.ENOSPC, errno.EDQUOT):  # give up cleanly, retried later
                raise MergeSpaceError(f"the disk of {index_dir} filled up during a merge: given up, retried later") \
                    from err
            raise
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise


def _commit_merge(index_dir: Path, folder: Path, info: SegmentInfo, sources: list[Source], checkpoint: Checkpoint,
                  lock_timeout: float) -> Manifest | None:
    with write_lock(index_dir, lock_timeout):
        _, current = read_current(index_dir)
        by_name = {s.name: s for s in current.segments}
        if any(s.info.name not in by_name for s in sources):
            shutil.rmtree(folder, ignore_errors=True)
            return None
        generation = current.generation + 1
        carried = carried_deletes(sources, by_name, index_dir)
        replaced = {s.info.name for s in sources}
        segments = []
        if info.rows or info.articles:
            name = publish(index_dir, folder)
            checkpoint("merge-publish")
            merged = info.model_copy(update={"name": name})
            if carried.rows or carried.articles:
                deletes = tombstone_file(name, generation)
                write_tombstones(index_dir, deletes, carried)
                merged = merged.model_copy(update={"deletes": deletes, "deleted_rows": len(carried.rows),
                                                   "deleted_articles": len(carried.articles)})
        else:  # nothing left alive: the sources just go
            shutil.rmtree(folder, ignore_errors=True)
            merged = None
        first = min(i for i, s in enumerate(current.segments) if s.name in replaced)
        for at, segment in enumerate(current.segments):
            if at == first and merged is not None:
                segments.append(merged)
            if segment.name not in replaced:
                segments.append(segment)
        new = current.model_copy(update={"generation": generation, "segments": segments, "created_at": now()})
        write_commit(index_dir, new)
        checkpoint("merge-switch")
        tidy(index_dir)
        return new


def run_merges(index_dir: Path, policy: MergePolicy = MergePolicy(), ann_threshold: int = ANN_THRESHOLD,
               checkpoint: Checkpoint = no_checkpoint, everything: bool = False) -> int:
    """Merge while the policy (or, with `everything`, `zhsearch optimize`: one segment) asks; how many merges ran.
    MergeSpaceError when one did not fit the disk (a fold that did not still lets the others run first)."""
    merges, short = 0, None
    while True:
        _, manifest = read_current(index_dir)
        names = merge_all(manifest.segments) if everything else choose_merge(manifest.segments, policy)
        try:
            merged = bool(names) and merge_segments(index_dir, names, ann_threshold, checkpoint) is not None
        except MergeSpaceError as err:
            no_folds = replace(policy, fold_share=math.inf)
            if everything or choose_merge(manifest.segments, no_folds) == names:
                raise
            # no room to fold into the large segment: the merges after it in the policy's order may fit
            policy, short = no_folds, err
            continue
        if not merged:
            if short is not None:
                raise short  # said once the other merges ran: retried after the next write
            return merges
        merges += 1


def merge_process(index_dir: Path, ann_threshold: int = ANN_THRESHOLD, everything: bool = False,
                  nice: int = 0) -> int:
    """A merge process's work: run `nice` steps nicer, log to stderr, merge as `run_merges`; how many merges ran."""
    if nice > 0 and hasattr(os, "nice"):
        os.nice(nice)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    ran = run_merges(Path(index_dir), ann_threshold=ann_threshold, everything=everything)
    log.info("merges: %d", ran)
    return ran


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the merges the merge policy asks for (or merge to one segment).")
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--ann-threshold", type=int, default=ANN_THRESHOLD)
    parser.add_argument("--everything", action="store_true", help="merge to one segment (zhsearch optimize)")
    parser.add_argument("--nice", type=int, default=0, help="run this many steps nicer (a service's merges)")
    args = parser.parse_args()
    merge_process(args.index_dir, args.ann_threshold, args.everything, args.nice)


if __name__ == "__main__":
    main()
