"""Full build: articles -> paragraphs -> Whoosh + FAISS + docs + manifest, in a new generation."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Callable

from rich.console import Console
from rich.progress import track

from index.store.bm25_store import BM25Store, writer_procs
from index.store.docstore import DocStore
from index.model.embed import Encoder
from index.generations import commit_generation, new_generation, remove_unfinished, sync_folder, write_lock
from index.manifest import Manifest, write_manifest
from index.models import Article, Paragraph
from index.ingest.paragraphs import passage_texts, split_article
from index.tokenize import Tokenizer
from index.model.passage_vectors import SENTENCES_TMP, VECTORS_TMP, encode_to_file
from index.ingest.sentences import sentence_units
from index.store.vector_store import ANN_THRESHOLD, PARAGRAPH_FILES, SENTENCE_FILES, VectorStore


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
                 files: tuple[str, str], tmp: str, unit: str, ann_threshold: int = ANN_THRESHOLD) -> None:
    """Encode `texts` through a memory map in `folder` into a vector store saved under `files` (row i: ids[i])."""
    vectors = encode_to_file(encoder, texts, folder / tmp, console, unit)
    VectorStore.build(vectors, ids, ann_threshold).save(folder, files)
    del vectors
    (folder / tmp).unlink(missing_ok=True)


def build_sentence_vectors(folder: Path, paragraphs: list[Paragraph], encoder: Encoder, console: Console,
                           ann_threshold: int = ANN_THRESHOLD) -> int:
    """Encode the sentences of multi-sentence paragraphs into `folder`'s sentence store; how many."""
    texts, owners = sentence_units([p.text for p in paragraphs])
    encode_store(folder, texts, [paragraphs[o].id for o in owners], encoder, console, SENTENCE_FILES, SENTENCES_TMP,
                 "sentences", ann_threshold)
    return len(texts)


def build_index(index_dir: Path, articles: list[Article], tokenizer: Tokenizer, encoder: Encoder,
                sources: list[str], quiet: bool = False, checkpoint: Checkpoint = no_checkpoint,
                lock_timeout: float = 30.0, ann_threshold: int = ANN_THRESHOLD,
                sentence_vectors: bool = True) -> Manifest:
    """Index `articles` into a new generation of `index_dir` and make it current.

    The previous generation stays current until this one is complete (manifest written last).
    """
    console = Console(stderr=True, quiet=quiet)
    started = time.perf_counter()
    paragraphs = [p for article in articles for p in split_article(article)]
    if not paragraphs:
        raise EmptyCorpusError(f"no paragraph found in {', '.join(sources)}: nothing to index")
    with write_lock(index_dir, lock_timeout):
        remove_unfinished(index_dir)
        folder = new_generation(index_dir)
        console.print(f"[bold]indexing[/] {len(articles)} articles, {len(paragraphs)} paragraphs -> {folder}")
        DocStore.build(articles, paragraphs).save(folder)
        checkpoint("docs")
        BM25Store.build(folder, tokenizer, track(paragraphs, "BM25: tokenising, writing Whoosh", console=console),
                        procs=writer_procs(len(paragraphs)))
        checkpoint("whoosh")
        encode_store(folder, passage_texts(paragraphs), [p.id for p in paragraphs], encoder, console,
                     PARAGRAPH_FILES, VECTORS_TMP, "paragraphs", ann_threshold)
        sentences = build_sentence_vectors(folder, paragraphs, encoder, console, ann_threshold) if sentence_vectors else 0
        checkpoint("faiss")
        manifest = Manifest(
            model=encoder.config(), tokenizer=tokenizer.config(), articles=len(articles),
            paragraphs=len(paragraphs), vectors=len(paragraphs), sentence_vectors=sentence_vectors, sentences=sentences,
            build_seconds=round(time.perf_counter() - started, 3), sources=sources,
            corpus_fingerprint=fingerprint(articles),
        )
        sync_folder(folder)
        write_manifest(folder, manifest)
        checkpoint("manifest")
        commit_generation(index_dir, folder)
        checkpoint("switch")
    console.print(f"[green]done[/] in {manifest.build_seconds:.1f} s")
    return manifest
