"""Upgrade an index from before segments (format 2: one `gen-*` folder) in place, without embedding anything.

A format-2 generation holds everything a segment does except its BM25 postings and its article
rows; they are derived from its Whoosh index and documents, written into the folder (new files
only: nothing of it is rewritten), and a first commit point lists the folder as the only segment.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from index.builder import next_generation
from index.commits import current_name, is_legacy, tidy, write_commit, write_lock
from index.manifest import Manifest, SegmentInfo
from index.shared_lists import trained_rows
from index.store.bm25_store import BM25Store
from index.store.docs.docstore import DocStore
from index.store.durable import sync_tree
from index.store.postings.segment_postings import POSTINGS_DIR
from index.store.segment import article_ranges, write_article_rows, write_columns, write_postings
from index.store.vector_store import PARAGRAPH_FILES, SENTENCE_FILES, VectorStore

LEGACY_MANIFEST = "manifest.json"


def upgrade_index(index_dir: Path, lock_timeout: float = 30.0) -> Manifest | None:
    """Turn a format-2 index into a segmented one; None when it already is one."""
    with write_lock(index_dir, lock_timeout):
        if not is_legacy(index_dir):
            return None
        folder = index_dir / current_name(index_dir)
        old = json.loads((folder / LEGACY_MANIFEST).read_text(encoding="utf-8"))
        vectors = VectorStore.open(folder, PARAGRAPH_FILES)
        docs = DocStore.open(folder)
        shutil.rmtree(folder / POSTINGS_DIR, ignore_errors=True)  # an upgrade cut short before its commit
        articles = list(docs.articles.values())
        ranges = article_ranges(articles, vectors.ids)
        write_article_rows(folder, ranges)
        write_columns(folder, articles, ranges, len(vectors.ids))
        write_postings(folder, BM25Store.open(folder), vectors.ids)
        sync_tree(folder)
        sentences = VectorStore.open(folder, SENTENCE_FILES).index.ntotal if (folder / SENTENCE_FILES[0]).exists() else 0
        info = SegmentInfo(name=folder.name, rows=len(vectors.ids), articles=len(docs.articles), sentences=sentences,
                           vector_index=vectors.kind, trained_rows=trained_rows(vectors.kind, len(vectors.ids), None))
        manifest = Manifest(generation=next_generation(index_dir), model=old["model"], tokenizer=old["tokenizer"],
                            sentence_vectors=old.get("sentence_vectors", False), sources=old.get("sources", []),
                            corpus_fingerprint=old.get("corpus_fingerprint", ""),
                            build_seconds=old.get("build_seconds", 0.0), segments=[info])
        write_commit(index_dir, manifest)
        tidy(index_dir)
        return manifest
