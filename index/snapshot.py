"""Snapshot: one complete index generation opened for reading, checked against the settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from index.store.bm25_store import BM25Store
from index.store.docstore import DocStore
from index.generations import IndexNotFoundError, current_generation
from index.manifest import Manifest, check_compatible, read_manifest
from index.store.sentence_store import SentenceStore
from index.store.vector_store import VectorStore


@dataclass
class Snapshot:
    """Docs, Whoosh index and FAISS vectors of one generation, all from the same build."""

    folder: Path
    manifest: Manifest
    docs: DocStore
    bm25: BM25Store
    vectors: VectorStore
    sentences: SentenceStore | None  # None: built without sentence vectors


def open_snapshot(index_dir: Path, model: dict[str, object], tokenizer: dict[str, object]) -> Snapshot:
    """Open the current generation of `index_dir`; raise if missing, partial or built differently."""
    folder = current_generation(index_dir)
    try:
        manifest = read_manifest(folder)
    except FileNotFoundError as err:
        raise IndexNotFoundError(f"{folder} has no manifest (a build did not finish): rebuild with `zhsearch index`") from err
    check_compatible(manifest, model, tokenizer)
    vectors = VectorStore.open(folder)
    sentences = SentenceStore.open(folder, vectors.ids)
    return Snapshot(folder, manifest, DocStore.open(folder), BM25Store.open(folder), vectors, sentences)
