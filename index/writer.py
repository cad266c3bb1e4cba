"""Live updates: add, replace or delete articles in a new generation, one writer at a time.

Every update copies the current generation (Whoosh's files copied, docs and vectors
rewritten), applies the change there, writes the manifest last
and switches `CURRENT` atomically. A crash at any point leaves the last complete
generation current; an update is acknowledged only after its switch.
"""

from __future__ import annotations

import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from index.store.bm25_store import WHOOSH_DIR, BM25Store
from index.builder import Checkpoint, fingerprint, no_checkpoint
from index.store.docstore import DocStore
from index.model.embed import Encoder
from index.generations import commit_generation, current_generation, new_generation, remove_unfinished, sync_folder, write_lock
from index.manifest import Manifest, check_compatible, read_manifest, write_manifest
from index.models import Article
from index.ingest.paragraphs import passage_texts, split_article
from index.ingest.sentences import sentence_units
from index.tokenize import Tokenizer
from index.store.vector_store import ANN_THRESHOLD, PARAGRAPH_FILES, SENTENCE_FILES, VectorStore


def _copy_whoosh(source: Path, target: Path) -> None:
    """Copy a Whoosh folder, leaving its write lock behind.

    A real copy, not hard links: Whoosh names new segments from the global `random`
    (which callers may seed) and opens them with "wb", so a repeated name would
    truncate a file the previous generation still serves. A lock left by a failed
    commit stays in the abandoned generation instead of blocking every later write.
    """
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*WRITELOCK*"))


def _remaining_vectors(store: VectorStore, drop: set[str]) -> tuple[np.ndarray, list[str]]:
    """The store's rows and ids without the paragraphs in `drop`."""
    keep = [row for row, pid in enumerate(store.ids) if pid not in drop]
    vectors = store.index.reconstruct_n(0, store.index.ntotal) if store.index.ntotal else np.zeros((0, store.dim))
    return np.asarray(vectors, dtype=np.float32)[keep], [store.ids[row] for row in keep]


def _encoded(encoder: Encoder, texts: list[str]) -> np.ndarray:
    """Passage vectors of `texts` (an empty matrix for none)."""
    return encoder.encode_passages(texts) if texts else np.zeros((0, encoder.dim), np.float32)


def _rewrite_store(source: Path, folder: Path, files: tuple[str, str], dropped: set[str], fresh: np.ndarray,
                   fresh_ids: list[str], ann_threshold: int) -> int:
    """Copy a vector store from `source` to `folder` without `dropped` paragraphs' rows, plus `fresh`; its size."""
    kept, ids = _remaining_vectors(VectorStore.open(source, files), dropped)
    VectorStore.build(np.vstack([kept, fresh]) if len(fresh) else kept, ids + fresh_ids, ann_threshold).save(folder, files)
    return len(ids) + len(fresh_ids)


def apply_update(index_dir: Path, upserts: list[Article], deletes: list[str], tokenizer: Tokenizer,
                 encoder: Encoder, checkpoint: Checkpoint = no_checkpoint, lock_timeout: float = 30.0,
                 ann_threshold: int = ANN_THRESHOLD) -> Manifest:
    """Add or replace `upserts` and delete the articles `deletes`, as one new generation.

    Raises KeyError for a delete of an unknown article (nothing is changed then).
    """
    started = time.perf_counter()
    with write_lock(index_dir, lock_timeout):
        remove_unfinished(index_dir)
        source = current_generation(index_dir)
        old = read_manifest(source)
        check_compatible(old, encoder.config(), tokenizer.config())
        docs = DocStore.open(source)
        unknown = [aid for aid in deletes if aid not in docs.articles]
        if unknown:
            raise KeyError(unknown[0])
        gone = set(deletes) | {a.id for a in upserts}
        dropped = {pid for aid in gone for pid in docs.paragraph_ids.get(aid, [])}
        articles = [a for a in docs.articles.values() if a.id not in gone] + list(upserts)
        added = [p for article in upserts for p in split_article(article)]
        paragraphs = [p for p in docs.paragraphs.values() if p.id not in dropped] + added
        fresh = _encoded(encoder, passage_texts(added))
        sentence_texts, owners = sentence_units([p.text for p in added]) if old.sentence_vectors else ([], [])
        fresh_sentences = _encoded(encoder, sentence_texts)

        folder = new_generation(index_dir)
        _copy_whoosh(source / WHOOSH_DIR, folder / WHOOSH_DIR)
        checkpoint("copy")
        DocStore.build(articles, paragraphs).save(folder)
        checkpoint("docs")
        BM25Store.open(folder).replace(sorted(gone & docs.articles.keys()), added)
        checkpoint("whoosh")
        _rewrite_store(source, folder, PARAGRAPH_FILES, dropped, fresh, [p.id for p in added], ann_threshold)
        sentences = 0
        if old.sentence_vectors:
            sentences = _rewrite_store(source, folder, SENTENCE_FILES, dropped, fresh_sentences,
                                       [added[o].id for o in owners], ann_threshold)
        checkpoint("faiss")
        manifest = replace_counts(old, len(articles), len(paragraphs), time.perf_counter() - started,
                                  fingerprint(articles), sentences)
        sync_folder(folder)
        write_manifest(folder, manifest)
        checkpoint("manifest")
        commit_generation(index_dir, folder)
        checkpoint("switch")
        return manifest


def replace_counts(old: Manifest, articles: int, paragraphs: int, seconds: float, corpus_fp: str,
                   sentences: int = 0) -> Manifest:
    """The manifest of an updated generation: same model and tokenizer, new counts."""
    return old.model_copy(update={
        "articles": articles, "paragraphs": paragraphs, "vectors": paragraphs, "sentences": sentences,
        "build_seconds": round(seconds, 3), "corpus_fingerprint": corpus_fp,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    })
