"""`zhsearch export`: an embedded index's current commit point copied into a Milvus corpus, nothing embedded again.

The paragraphs' vectors and sentence vectors are the index's own; their BM25F sparse vectors come
from the segments' postings with the live collection's statistics (index/milvus/sparse.py), so the
corpus scores every query as the index does; the near-duplicate stories are the index's marks. The
record is written last: a corpus cut short (a crash, Milvus gone) has none, and opening it says to
export again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
from rich.progress import Progress

from index.bm25f import average_length
from index.commits import read_current
from index.ingest.minhash import NUM_PERM
from index.milvus.connection import Connection
from index.milvus.record import CorpusRecord, CorpusStats, write_meta, write_sources
from index.milvus.rows import article_row, paragraph_row, sentence_rows, term_row
from index.milvus.schema import create_collections, drop_collections, existing, vector_index
from index.milvus.sparse import live_df, row_vectors, slot_keys
from index.snapshot import Snapshot, open_snapshot
from index.store.postings.segment_postings import FIELDS

BATCH_BYTES = 8 << 20  # rows sent per insert: well under Milvus's 64 MB request limit


class CorpusExistsError(RuntimeError):
    """The Milvus corpus to export into exists already."""


@dataclass(frozen=True)
class Exported:
    """What an export wrote."""

    location: str
    articles: int
    paragraphs: int
    sentences: int
    terms: int
    without_indexes: tuple[str, ...] = ()  # scalar indexes this Milvus refused (filters scan instead)


def vocabulary(snapshot: Snapshot) -> dict[str, int]:
    """(field:term) -> live document frequency, over every segment (terms no live paragraph holds left out)."""
    df: dict[str, int] = {}
    for view in snapshot.views:
        counts = live_df(view.segment.postings, view.live())
        for key, count in zip(slot_keys(view.segment.postings), counts.tolist()):
            if count:
                df[key] = df.get(key, 0) + count
    return df


def live_lengths(snapshot: Snapshot) -> dict[str, int]:
    """Each field's total exact length over the live paragraphs."""
    return {f: sum(int(view.segment.postings.lengths[view.live(), i].sum(dtype=np.int64)) for view in snapshot.views)
            for i, f in enumerate(FIELDS)}


def source_counts(snapshot: Snapshot) -> dict[str, int]:
    """source -> live paragraphs from it."""
    counts: dict[str, int] = {}
    for paragraph in snapshot.live_paragraphs():
        counts[paragraph.source] = counts.get(paragraph.source, 0) + 1
    return counts


def batches(rows: Iterable[dict], limit: int = BATCH_BYTES) -> Iterator[list[dict]]:
    """Rows in lists of at most about `limit` bytes (estimated from their vectors and texts)."""
    batch, size = [], 0
    for row in rows:
        batch.append(row)
        size += 8 * len(row.get("vector", ())) + 12 * len(row.get("bm25", ())) + 3 * len(str(row.get("text", "")))
        size += 3 * len(str(row.get("doc", ""))) + 200
        if size >= limit:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def paragraph_rows(snapshot: Snapshot, term_id: dict[str, int], averages: dict[str, float]) -> Iterator[dict]:
    for view in snapshot.views:
        segment, live = view.segment, view.live()
        ids = np.array([term_id.get(key, -1) for key in slot_keys(segment.postings)], dtype=np.int64)
        sparse = row_vectors(segment.postings, live, ids, averages)
        rows = np.flatnonzero(live)
        for start in range(0, len(rows), 1024):
            chunk = rows[start:start + 1024]
            vectors = segment.vectors.vectors(chunk)
            for row, vector in zip(chunk.tolist(), vectors):
                paragraph = segment.paragraphs[row]
                yield paragraph_row(paragraph, segment.duplicates.story(paragraph.article_id), sparse[row],
                                    segment.postings.lengths[row], averages, vector)


def sentence_rows_of(snapshot: Snapshot) -> Iterator[dict]:
    for view in snapshot.views:
        segment, sentences = view.segment, view.segment.sentences
        if sentences is None:
            continue
        rows = np.flatnonzero(view.live())
        for start in range(0, len(rows), 1024):
            chunk = rows[start:start + 1024]
            counts = sentences.starts[chunk + 1] - sentences.starts[chunk]
            vectors = sentences.store.vectors(sentences.rows_of(chunk))
            at = 0
            for row, count in zip(chunk.tolist(), counts.tolist()):
                if count:
                    yield from sentence_rows(segment.paragraphs[row], vectors[at:at + count])
                at += count


def article_rows(snapshot: Snapshot) -> Iterator[dict]:
    for view in snapshot.views:
        marks = view.segment.duplicates
        signed = np.asarray(marks.signatures) if marks.marked else None  # read once: a large segment's are paged
        for aid, article in view.segment.articles.items():
            if view.has_article(aid):
                signature = signed[marks.row_of[aid]] if signed is not None else np.zeros(NUM_PERM, np.uint32)
                yield article_row(article, marks.story(aid), signature)


def insert_all(conn: Connection, kind: str, rows: Iterable[dict], progress: Progress, total: int) -> int:
    task = progress.add_task(f"{kind}", total=total)
    written = 0
    for batch in batches(rows):
        conn.call(f"insert {kind}", "insert", conn.collection(kind), batch)
        written += len(batch)
        progress.update(task, advance=len(batch))
    return written


def export_index(index_dir: Path, conn: Connection, ann_threshold: int, replace: bool = False,
                 quiet: bool = False) -> Exported:
    """Copy the current commit point of `index_dir` into the corpus `conn` names (CorpusExistsError if it exists
    and not `replace`)."""
    name, manifest = read_current(index_dir)
    snapshot = open_snapshot(index_dir, manifest.model, manifest.tokenizer)
    found = existing(conn)
    if found and not replace:
        raise CorpusExistsError(f"Milvus at {conn.location} already holds {', '.join(found)}: "
                                "pass --replace to drop it and export again, or name another --collection")
    drop_collections(conn)
    df = vocabulary(snapshot)
    term_id = {key: i for i, key in enumerate(sorted(df))}
    paragraphs = manifest.paragraphs
    lengths = live_lengths(snapshot)
    averages = {f: average_length(lengths[f], paragraphs) for f in FIELDS}
    sentences = sum(len(v.segment.sentences.rows_of(np.flatnonzero(v.live())))
                    for v in snapshot.views if v.segment.sentences is not None)
    refused = create_collections(conn, int(manifest.model["dim"]), paragraphs, sentences, ann_threshold)
    with Progress(disable=quiet, transient=True) as progress:
        insert_all(conn, "terms", (term_row(key, term_id[key], count) for key, count in df.items()), progress, len(df))
        written = insert_all(conn, "paragraphs", paragraph_rows(snapshot, term_id, averages), progress, paragraphs)
        sentence_count = insert_all(conn, "sentences", sentence_rows_of(snapshot), progress, sentences)
        articles = insert_all(conn, "articles", article_rows(snapshot), progress, manifest.articles)
    copies = sum(1 for v in snapshot.views for aid in v.segment.duplicates.stories if v.has_article(aid))
    stats = CorpusStats(version=1, articles=articles, paragraphs=written, sentences=sentence_count, lengths=lengths,
                        averages=averages, baked={f: [averages[f], averages[f]] for f in FIELDS}, next_term=len(term_id), copies=copies)
    record = CorpusRecord(model=manifest.model, tokenizer=manifest.tokenizer, sentence_vectors=manifest.sentence_vectors,
                          corpus_fingerprint=manifest.corpus_fingerprint, exported_from=f"{index_dir.resolve()}@{name}",
                          build_seconds=manifest.build_seconds,
                          vector_index={"paragraphs": vector_index(paragraphs, ann_threshold)[0],
                                        "sentences": vector_index(sentences, ann_threshold)[0]})
    for kind in ("terms", "paragraphs", "sentences", "articles"):
        conn.call(f"flush {kind}", "flush", conn.collection(kind))
    write_sources(conn, source_counts(snapshot))
    write_meta(conn, record, stats)  # last: a corpus without its record was cut short
    return Exported(conn.location, articles, written, sentence_count, len(term_id), tuple(refused))
