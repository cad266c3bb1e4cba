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

from index.bm25_store import WHOOSH_DIR, BM25Store
from index.builder import Checkpoint, fingerprint, no_checkpoint
from index.docstore import DocStore
from index.embed import Encoder
from index.generations import commit_generation, current_generation, new_generation, remove_unfinished, sync_folder, write_lock
from index.manifest import Manifest, check_compatible, read_manifest, write_manifest
from index.models import Article
from index.paragraphs import passage_texts, split_article
from index.tokenize import Tokenizer
from index.vector_store import ANN_THRESHOLD, VectorStore

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
        fresh = encoder.encode_passages(passage_texts(added)) if added else np.zeros((0, encoder.dim), np.float32)

        folder = new_generation(index_dir)
        _copy_whoosh(source / WHOOSH_DIR, folder / WHOOSH_DIR)
        checkpoint("copy")
        DocStore.build(articles, paragraphs).save(folder)
        checkpoint("docs")
        BM25Store.open(folder).replace(sorted(gone & docs.articles.keys()), added)
        checkpoint("whoosh")
        kept, ids = _remaining_vectors(VectorStore.open(source), dropped)
        VectorStore.build(np.vstack([kept, fresh]) if len(fresh) else kept, ids + [p.id for p in added],
                          ann_threshold).save(folder)
        checkpoint("faiss")
        manifest = replace_counts(old, len(articles), len(paragraphs), time.perf_counter() - started,
                                  fingerprint(articles))
        sync_folder(folder)
        write_manifest(folder, manifest)
        checkpoint("manifest")
        commit_generation(index_dir, folder)
        checkpoint("switch")
        return manifest


def replace_counts(old: Manifest, articles: int, paragraphs: int, seconds: float, corpus_fp: str) -> Manifest:
    """The manifest of an updated generation: same model and tokenizer, new counts."""
    return old.model_copy(update={
        "articles": articles, "paragraphs": paragraphs, "vectors": paragraphs,
        "build_seconds": round(seconds, 3), "corpus_fingerprint": corpus_fp,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    })
