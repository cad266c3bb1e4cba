"""Full build: articles -> paragraphs -> one new segment (docs, Whoosh, postings, FAISS), then a commit point listing it alone.

The previous commit point stays current until the new segment is complete and fsynced; the
segments it listed are removed once no kept commit point lists them.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Callable

from rich.console import Console
from rich.progress import track

from index.commits import MERGE_TMP, WRITER_TMP, read_current, tidy, unique_name, write_commit, write_lock
from index.manifest import Manifest, SegmentInfo
from index.model.embed import Encoder
from index.model.passage_vectors import SENTENCES_TMP, VECTORS_TMP, encode_to_file
from index.models import Article, Paragraph
from index.shared_lists import trained_rows
from index.ingest.paragraphs import passage_texts, split_article
from index.ingest.sentences import sentence_units
from index.store.bm25_store import writer_procs
from index.store.durable import fsync_dir, sync_tree
from index.store.segment import SEGMENT_PREFIX, write_docs, write_postings, write_vectors, write_whoosh
from index.store.vector_store import ANN_THRESHOLD, PARAGRAPH_FILES, SENTENCE_FILES, VectorStore
from index.tokenize import Tokenizer

Checkpoint = Callable[[str], None]


def no_checkpoint(stage: str) -> None:
    """The default checkpoint: nothing (crash tests pass one that kills the process at a stage)."""


class EmptyCorpusError(ValueError):
    """The sources held no paragraph to index."""


def fingerprint(articles: list[Article]) -> str:
    """A hash of the articles' ids and text: equal fingerprints mean the same corpus."""
    digest = hashlib.sha256()
    for article in articles:
        for part in (article.id, article.title, *article.paragraphs):
            digest.update(part.encode("utf-8"))
            digest.update(b"\0")
    return digest.hexdigest()[:16]


def encode_store(folder: Path, texts: list[str], ids: list[str], encoder: Encoder, console: Console,
                 files: tuple[str, str], tmp: str, unit: str, ann_threshold: int = ANN_THRESHOLD) -> VectorStore:
    """Encode `texts` through a memory map in `folder` into a vector store saved under `files` (row i: ids[i])."""
    vectors = encode_to_file(encoder, texts, folder / tmp, console, unit)
    store = write_vectors(folder, vectors, ids, files, ann_threshold)
    del vectors
    (folder / tmp).unlink(missing_ok=True)
    return store


def build_sentence_vectors(folder: Path, paragraphs: list[Paragraph], encoder: Encoder, console: Console,
                           ann_threshold: int = ANN_THRESHOLD) -> int:
    """Encode the sentences of multi-sentence paragraphs into `folder`'s sentence store; how many."""
    texts, owners = sentence_units([p.text for p in paragraphs])
    encode_store(folder, texts, [paragraphs[o].id for o in owners], encoder, console, SENTENCE_FILES, SENTENCES_TMP,
                 "sentences", ann_threshold)
    return len(texts)


def publish(index_dir: Path, tmp: Path) -> str:
    """Rename a finished temporary segment folder to its segment name (fsynced); the name."""
    name = SEGMENT_PREFIX + tmp.name.split("-", 2)[2]
    os.replace(tmp, index_dir / name)
    fsync_dir(index_dir)
    return name


def new_tmp(index_dir: Path, prefix: str = WRITER_TMP) -> Path:
    """An empty temporary segment folder (WRITER_TMP or MERGE_TMP: who may remove it if it is left behind)."""
    if prefix not in (WRITER_TMP, MERGE_TMP):
        raise ValueError(f"unknown temporary prefix {prefix!r}")
    folder = index_dir / unique_name(prefix)
    folder.mkdir(parents=True)
    return folder


def next_generation(index_dir: Path) -> int:
    """The generation a new commit point takes (1 for a first build)."""
    try:
        return read_current(index_dir)[1].generation + 1
    except FileNotFoundError:
        return 1
    except Exception:  # an older format, or a damaged commit point: a full build replaces it
        return max((int(p.stem.split("-")[1]) for p in index_dir.glob("commit-*.json")), default=0) + 1


def build_index(index_dir: Path, articles: list[Article], tokenizer: Tokenizer, encoder: Encoder,
                sources: list[str], quiet: bool = False, checkpoint: Checkpoint = no_checkpoint,
                lock_timeout: float = 30.0, ann_threshold: int = ANN_THRESHOLD,
                sentence_vectors: bool = True) -> Manifest:
    """Index `articles` into one new segment of `index_dir` and commit it as the whole index."""
    console = Console(stderr=True, quiet=quiet)
    started = time.perf_counter()
    paragraphs = [p for article in articles for p in split_article(article)]
    if not paragraphs:
        raise EmptyCorpusError(f"no paragraph found in {', '.join(sources)}: nothing to index")
    with write_lock(index_dir, lock_timeout):
        tidy(index_dir)  # (a damaged commit point does not stop a full build: it replaces it)
        folder = new_tmp(index_dir)
        console.print(f"[bold]indexing[/] {len(articles)} articles, {len(paragraphs)} paragraphs -> {index_dir}")
        write_docs(folder, articles, paragraphs)
        checkpoint("docs")
        ids = [p.id for p in paragraphs]
        store = write_whoosh(folder, tokenizer, track(paragraphs, "BM25: tokenising, writing Whoosh", console=console),
                             procs=writer_procs(len(paragraphs)))
        write_postings(folder, store, ids)
        checkpoint("whoosh")
        vectors = encode_store(folder, passage_texts(paragraphs), ids, encoder, console,
                               PARAGRAPH_FILES, VECTORS_TMP, "paragraphs", ann_threshold)
        sentences = build_sentence_vectors(folder, paragraphs, encoder, console, ann_threshold) if sentence_vectors else 0
        checkpoint("faiss")
        sync_tree(folder)
        name = publish(index_dir, folder)
        checkpoint("publish")
        info = SegmentInfo(name=name, rows=len(paragraphs), articles=len(articles), sentences=sentences,
                           vector_index=vectors.kind, trained_rows=trained_rows(vectors.kind, len(paragraphs), None))
        manifest = Manifest(
            generation=next_generation(index_dir), model=encoder.config(), tokenizer=tokenizer.config(),
            sentence_vectors=sentence_vectors, sources=sources, corpus_fingerprint=fingerprint(articles),
            build_seconds=round(time.perf_counter() - started, 3), segments=[info],
        )
        write_commit(index_dir, manifest)
        checkpoint("switch")
        tidy(index_dir)
    console.print(f"[green]done[/] in {manifest.build_seconds:.1f} s")
    return manifest
