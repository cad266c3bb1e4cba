"""A segment: an immutable folder of paragraphs with every store they are searched through.

    articles.jsonl, paragraphs.jsonl   the documents (index/store/docs/), read a record at a time
    article_rows.json, columns.json    each article's rows; each row's source and date (index/store/columns.py)
    whoosh/                            the Whoosh index (phrases and boolean queries are matched there)
    bm25/                              its postings as numpy files (index/store/postings/)
    vectors.faiss, vector_ids.json     paragraph vectors (FAISS, exact or IVF)
    sentences.faiss, sentence_ids.json sentence vectors of multi-sentence paragraphs (when built with them)
    minhash*.npy, minhash_stories.json near-duplicate marks of its articles (index/store/minhash_store.py)

Invariant: row r of a segment is paragraph `ids[r]` everywhere: its vector row, its postings row
and `paragraphs[r]`. Once a commit point lists a segment nothing in its folder changes; deletions
are recorded beside it, as tombstones (index/tombstones.py). A folder from before segments (a
`gen-*` generation) is a segment once its postings are written (index/upgrade.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from index.models import Article, Paragraph, article_id_of
from index.store.bm25_store import BM25Store
from index.ingest.minhash import signatures
from index.store.columns import Columns
from index.store.docs.article_map import ArticleMap
from index.store.docs.docstore import ARTICLES_FILE, PARAGRAPHS_FILE, DocStore
from index.store.docs.paragraph_rows import ParagraphRows
from index.store.minhash_store import DuplicateStore, empty, story_keys
from index.store.postings.from_text import field_boosts, postings_of_text
from index.store.postings import from_whoosh
from index.store.postings.merge import Live, merged_postings
from index.store.postings.segment_postings import POSTINGS_DIR, SegmentPostings, exists as postings_exist
from index.store.sentence_store import SentenceStore
from index.store.vector_store import PARAGRAPH_FILES, VectorStore, VectorStoreError
from index.tokenize import Tokenizer

SEGMENT_PREFIX = "seg-"
ARTICLE_ROWS = "article_rows.json"  # article id -> [first row, rows]: what a writer needs to find an article
WHOOSH_ROWS = "whoosh_rows.npy"  # in bm25/: Whoosh document number -> row (-1: not a live paragraph)


class SegmentError(RuntimeError):
    """A segment folder is missing a part or its parts disagree."""


@dataclass
class Segment:
    """One segment folder opened for reading; shared by every snapshot that lists it (never modified)."""

    name: str
    folder: Path
    ids: list[str]  # row -> paragraph id
    row_of: dict[str, int]
    paragraphs: Sequence[Paragraph]  # by row, each parsed when read (ParagraphRows)
    articles: Mapping[str, Article]  # each parsed when read (ArticleMap)
    article_rows: dict[str, np.ndarray]  # article id -> its rows, in reading order
    columns: Columns
    bm25: BM25Store
    whoosh_rows: np.ndarray  # Whoosh document number -> row (-1: none)
    postings: SegmentPostings
    vectors: VectorStore
    sentences: SentenceStore | None
    duplicates: DuplicateStore

    @property
    def size(self) -> int:
        return len(self.ids)

    @classmethod
    def open(cls, folder: Path) -> "Segment":
        """Open a segment folder; SegmentError names what is missing or inconsistent (FileNotFoundError: no folder)."""
        if not folder.is_dir():
            raise FileNotFoundError(f"segment folder {folder} is gone (removed after a newer commit)")
        if not postings_exist(folder):
            raise SegmentError(f"{folder} has no BM25 postings (an index from before segments): "
                               "run `zhsearch upgrade --index-dir DIR` or rebuild with `zhsearch index`")
        try:
            vectors = VectorStore.open(folder, PARAGRAPH_FILES)
            ranges = read_article_rows(folder) if (folder / ARTICLE_ROWS).exists() else None
            articles = ArticleMap.open(folder / ARTICLES_FILE, None if ranges is None else list(ranges))
        except (OSError, ValueError, VectorStoreError) as err:
            raise SegmentError(f"cannot read segment {folder.name}: {err}") from err
        ids = vectors.ids
        try:
            paragraphs = ParagraphRows.open(folder / PARAGRAPHS_FILE, ids)
        except ValueError as err:
            raise SegmentError(f"segment {folder.name}: its vectors and paragraphs.jsonl hold different paragraphs "
                               f"({err})") from err
        except OSError as err:
            raise SegmentError(f"cannot read segment {folder.name}: {err}") from err
        row_of = {pid: row for row, pid in enumerate(ids)}
        article_rows = rows_by_article(ids, articles, folder.name)
        try:
            columns = Columns.open(folder, len(ids)) or Columns.of(articles.values(), article_rows, len(ids))
        except (ValueError, KeyError, TypeError) as err:  # not JSON, or not the columns' fields
            raise SegmentError(f"cannot read the columns of segment {folder.name}: {err!r}") from err
        found = SegmentPostings.open(folder)
        if found.size != len(ids):
            raise SegmentError(f"segment {folder.name}: postings of {found.size} rows for {len(ids)} paragraphs")
        whoosh_rows = np.load(folder / POSTINGS_DIR / WHOOSH_ROWS)
        try:
            duplicates = DuplicateStore.open(folder) or empty(list(articles))
        except (OSError, ValueError, KeyError) as err:
            raise SegmentError(f"cannot read the near-duplicate marks of segment {folder.name}: {err}") from err
        return cls(folder.name, folder, ids, row_of, paragraphs, articles, article_rows,
                   columns, BM25Store.open(folder), whoosh_rows, found, vectors,
                   SentenceStore.open(folder, ids), duplicates)


def rows_by_article(ids: list[str], articles: Mapping[str, Article], name: str) -> dict[str, np.ndarray]:
    """article id -> its rows in row order (reading order: paragraph ids sort so), for every article of the segment;
    SegmentError for a paragraph of an article the segment does not hold."""
    rows: dict[str, list[int]] = {aid: [] for aid in articles}
    for row, pid in enumerate(ids):
        found = rows.get(article_id_of(pid))
        if found is None:
            raise SegmentError(f"segment {name}: paragraph {pid!r} of an article not in articles.jsonl")
        found.append(row)
    return {aid: np.array(found, dtype=np.int64) for aid, found in rows.items()}


def article_ranges(articles: list[Article], ids: list[str]) -> dict[str, list[int]]:
    """article id -> [first row, rows] for rows in `ids` order; SegmentError unless each article's rows are contiguous."""
    ranges: dict[str, list[int]] = {a.id: [0, 0] for a in articles}
    last = None
    for row, pid in enumerate(ids):
        aid = article_id_of(pid)
        if aid != last:
            if ranges.get(aid, [0, 0])[1]:
                raise SegmentError(f"the paragraphs of article {aid!r} are not contiguous rows: rebuild the index")
            ranges.setdefault(aid, [0, 0])[0] = row
            last = aid
        ranges[aid][1] += 1
    return ranges


def write_docs(folder: Path, articles: list[Article], paragraphs: list[Paragraph],
               duplicates: DuplicateStore | None = None) -> None:
    """The documents (paragraphs in row order, grouped by article), the article -> rows file and the articles'
    near-duplicate marks (`duplicates`, row r for articles[r]; None: marked among these articles alone)."""
    DocStore.build(articles, paragraphs).save(folder)
    ranges = article_ranges(articles, [p.id for p in paragraphs])
    write_article_rows(folder, ranges)
    write_columns(folder, articles, ranges, len(paragraphs))
    (duplicates or marked(articles)).save(folder)


def marked(articles: list[Article], existing=(), found: np.ndarray | None = None) -> DuplicateStore:
    """The near-duplicate marks of new `articles`: each one's story among `existing` ((DuplicateStore, live)
    pairs of the index's segments) and the articles before it (index/store/minhash_store.py); `found`: their
    signatures where already computed (a write computes them before the lock)."""
    ids = [a.id for a in articles]
    found = signatures(articles) if found is None else found
    return DuplicateStore.build(ids, found, story_keys(ids, found, existing))


def write_columns(folder: Path, articles: list[Article], ranges: dict[str, list[int]], size: int) -> None:
    """The columns of a segment's `size` rows from its articles and their [first row, rows] (`article_ranges`)."""
    rows = {aid: np.arange(first, first + count) for aid, (first, count) in ranges.items()}
    Columns.of(articles, rows, size).save(folder)


def write_article_rows(folder: Path, ranges: dict[str, list[int]]) -> None:
    (folder / ARTICLE_ROWS).write_text(json.dumps(ranges, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def read_article_rows(folder: Path) -> dict[str, list[int]]:
    """article id -> [first row, rows] of a segment (its articles without paragraphs have 0 rows)."""
    return json.loads((folder / ARTICLE_ROWS).read_text(encoding="utf-8"))


def write_whoosh(folder: Path, tokenizer: Tokenizer, paragraphs, procs: int = 1, in_memory: bool = False) -> BM25Store:
    """The Whoosh index of the paragraphs (an iterable: a progress bar may wrap it); `in_memory` for a write's
    small segment (BM25Store.build)."""
    return BM25Store.build(folder, tokenizer, paragraphs, procs=procs, in_memory=in_memory)


def write_postings(folder: Path, store: BM25Store, ids: list[str], paragraphs: list[Paragraph] | None = None,
                   merged: list[Live] | None = None) -> SegmentPostings:
    """The segment's postings into `folder/bm25/` (rows: `ids` order). With `paragraphs` (row i's paragraph),
    computed from their text where one Whoosh writer added them in row order; with `merged` (a merge's sources'
    postings and live rows, whose rows these are, in order), joined from theirs; else read back from Whoosh."""
    boosts = field_boosts(store.index.schema)
    if merged is None and paragraphs is not None and added_in_order(store, ids, paragraphs):
        found = postings_of_text(store.index.schema, [{"title": p.title, "text": p.text} for p in paragraphs], boosts)
        rows = np.arange(len(ids), dtype=np.int32)
    else:
        row_of = {pid: row for row, pid in enumerate(ids)}
        found = from_whoosh.read_postings(store.index, row_of, boosts) if merged is None \
            else merged_postings(merged, boosts)
        maps = from_whoosh.whoosh_rows(store.index, row_of)
        rows = np.concatenate(maps) if maps else np.zeros(0, np.int32)
    found.save(folder)
    np.save(folder / POSTINGS_DIR / WHOOSH_ROWS, rows)
    return found


def added_in_order(store: BM25Store, ids: list[str], paragraphs: list[Paragraph]) -> bool:
    """Whether Whoosh document n is row n: one Whoosh segment of exactly these paragraphs, first and last in
    row order (one writer numbers documents as they were added; several writer processes do not)."""
    segments = store.index._segments()
    if len(paragraphs) != len(ids) or len(segments) != 1 or segments[0].doc_count_all() != len(ids):
        return False
    if not ids:
        return True
    with store.index.searcher() as searcher:
        return (searcher.stored_fields(0)["paragraph_id"] == ids[0]
                and searcher.stored_fields(len(ids) - 1)["paragraph_id"] == ids[-1])


def write_vectors(folder: Path, vectors: np.ndarray, ids: list[str], files: tuple[str, str],
                  ann_threshold: int, trained: faiss.Index | None = None) -> VectorStore:
    """A vector store over `vectors` (row i: ids[i]): filed under `trained`'s lists (an IVF index of the same
    kind) when given, else IVF trained anew from `ann_threshold` rows, exact below."""
    store = VectorStore.build(vectors, ids, ann_threshold, trained=trained)
    store.save(folder, files)
    return store
