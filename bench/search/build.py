"""Timed index builds, each run in its own process so that its peak RSS is its own.

`ours`: the project's index, built from the same blocks and in the same order as
`index.builder.build_index` (docs, Whoosh, its postings, paragraph embeddings and FAISS, sentence
embeddings and FAISS, publish and commit: one segment), each phase timed with its peak RSS. Tokenising is timed once more
on its own beforehand (the Whoosh phase tokenises again inside its analyzer). With
`--embed-limit N` only the first N paragraphs (and their sentences) are embedded by the model;
the rest are filled in from their sentences' model vectors (bench/search/fill.py).
`peer`: bm25s over the same jieba terms (title and text of each paragraph, as Whoosh indexes them).

Usage (run.py calls these): .venv/bin/python -m bench.search.build ours|peer --corpus FILE --work-dir DIR
       --out FILE.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from rich.console import Console

from bench.common.encoders import load_encoder
from bench.search.fill import SentenceTable
from index.builder import fingerprint, new_tmp, next_generation, publish
from index.commits import remove_unreferenced, write_commit, write_lock
from index.ingest.paragraphs import passage_texts, split_article
from index.ingest.sentences import sentence_units
from index.ingest.sources import read_source
from index.manifest import Manifest, SegmentInfo
from index.model.passage_vectors import SENTENCES_TMP, VECTORS_TMP, bound_model_caches, encode_into
from index.settings import Settings
from index.store.bm25_store import writer_procs
from index.store.durable import sync_tree
from index.store.segment import write_docs, write_postings, write_whoosh
from index.store.vector_store import PARAGRAPH_FILES, SENTENCE_FILES, VectorStore
from index.tokenize import tokenizer_from
from bench.common.memory import PhaseRecorder, own_peak_rss_bytes

VECTORS_FILE = "vectors.npy"  # the index's vectors, row for row, for the exact numpy peer
SENTENCES_FILE = "sentences.npz"  # its sentence vectors and each one's paragraph row, for the same peer
PEER_DIR = "bm25s"
PEER_IDS = "bm25s_ids.json"
BM25_K1, BM25_B = 1.2, 0.75  # Whoosh BM25F's defaults, given to bm25s too


def folder_bytes(path: Path) -> int:
    """Bytes of every file under `path` (or of `path` itself)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build_ours(corpus: Path, index_dir: Path, work_dir: Path, embed_limit: int, fake: bool) -> dict:
    """Build the project's index of `corpus` in `index_dir`, phase by phase; the measurements as a dict."""
    settings = Settings().model_copy(update={"index_dir": index_dir})
    with PhaseRecorder() as rec:
        with rec.phase("read"):
            articles = read_source(corpus)
            paragraphs = [p for article in articles for p in split_article(article)]
        with rec.phase("load tokenizer"):
            tokenizer = tokenizer_from(settings)
            tokenizer("预热")
        with rec.phase("load model"):
            encoder = load_encoder(settings, fake)
        started = time.perf_counter()
        with write_lock(index_dir):
            remove_unreferenced(index_dir)
            folder = new_tmp(index_dir)
            with rec.phase("docs"):
                write_docs(folder, articles, paragraphs)
            with rec.phase("tokenise"):  # what Whoosh's analyzer does per paragraph: title and text
                terms = sum(len(tokenizer(p.title)) + len(tokenizer(p.text)) for p in paragraphs)
            procs = writer_procs(len(paragraphs))
            with rec.phase("whoosh"):
                whoosh = write_whoosh(folder, tokenizer, paragraphs, procs=procs)
            with rec.phase("postings"):  # the BM25 postings read back from Whoosh into numpy files
                write_postings(folder, whoosh, [p.id for p in paragraphs])
            texts = passage_texts(paragraphs)
            embedded = min(embed_limit, len(texts))
            with rec.phase("embed"):  # as the builder: length-sorted chunks into a memory map
                vectors = np.lib.format.open_memmap(folder / VECTORS_TMP, mode="w+", dtype=np.float32,
                                                    shape=(len(texts), encoder.dim))
                encode_into(encoder, texts[:embedded], vectors[:embedded], Console(stderr=True))
            rest = [p.text for p in paragraphs[embedded:]]
            with rec.phase("fill"):  # bench/search/fill.py: each distinct sentence embedded once, paragraphs pooled
                table = SentenceTable(encoder, rest, Console(stderr=True)) if rest else None
                if table is not None:
                    table.pooled(rest, vectors[embedded:])
            with rec.phase("faiss"):
                store = VectorStore.build(vectors, [p.id for p in paragraphs], settings.ann_threshold)
                store.save(folder, PARAGRAPH_FILES)
            sentences, owners = sentence_units([p.text for p in paragraphs]) if settings.sentence_vectors else ([], [])
            owners = np.asarray(owners, dtype=np.int64)
            modelled = int(np.searchsorted(owners, embedded))  # sentences of the embedded paragraphs
            with rec.phase("embed sentences"):
                sentence_vectors = np.lib.format.open_memmap(folder / SENTENCES_TMP, mode="w+", dtype=np.float32,
                                                             shape=(max(len(sentences), 1), encoder.dim))
                encode_into(encoder, sentences[:modelled], sentence_vectors[:modelled], Console(stderr=True),
                            unit="sentences")
            with rec.phase("fill sentences"):  # the model's own vectors, looked up by text
                if table is not None and modelled < len(sentences):
                    table.sentences(sentences[modelled:], sentence_vectors[modelled:len(sentences)])
            with rec.phase("faiss sentences"):
                sentence_store = VectorStore.build(sentence_vectors[:len(sentences)],
                                                   [paragraphs[o].id for o in owners], settings.ann_threshold)
                sentence_store.save(folder, SENTENCE_FILES)
            with rec.phase("commit"):
                sync_tree(folder)
                name = publish(index_dir, folder)
                folder = index_dir / name
                info = SegmentInfo(name=name, rows=len(paragraphs), articles=len(articles), sentences=len(sentences),
                                   vector_index=store.kind,
                                   trained_rows=len(paragraphs) if store.kind != "exact" else 0)
                write_commit(index_dir, Manifest(
                    generation=next_generation(index_dir), model=encoder.config(), tokenizer=tokenizer.config(),
                    sentence_vectors=settings.sentence_vectors, sources=[str(corpus)],
                    corpus_fingerprint=fingerprint(articles), build_seconds=round(time.perf_counter() - started, 3),
                    segments=[info]))
                remove_unreferenced(index_dir)
        build_seconds = time.perf_counter() - started
    np.save(work_dir / VECTORS_FILE, vectors)
    np.savez(work_dir / SENTENCES_FILE, vectors=sentence_vectors[:len(sentences)], owners=owners)
    del vectors, sentence_vectors
    (folder / VECTORS_TMP).unlink()
    (folder / SENTENCES_TMP).unlink()
    sizes = {
        "whoosh": folder_bytes(folder / "whoosh"),
        "faiss": folder_bytes(folder / "vectors.faiss") + folder_bytes(folder / "vector_ids.json"),
        "faiss sentences": folder_bytes(folder / SENTENCE_FILES[0]) + folder_bytes(folder / SENTENCE_FILES[1]),
        "docs": folder_bytes(folder / "articles.jsonl") + folder_bytes(folder / "paragraphs.jsonl"),
        "postings": folder_bytes(folder / "bm25"),
        "total": folder_bytes(folder),
    }
    return {"paragraphs": len(paragraphs), "articles": len(articles), "terms": terms, "embedded": embedded,
            "sentences": len(sentences), "sentences_embedded": modelled, "sentence_index": sentence_store.kind,
            "fill_sentences": len(table) if table else 0, "whoosh_procs": procs,
            "dim": encoder.dim, "model": encoder.name, "dtype": getattr(encoder, "dtype", "float32"),
            "runtime": encoder.describe(),
            "vector_index": store.kind, "build_seconds": build_seconds, "phases": rec.as_dict(),
            "peak_rss": own_peak_rss_bytes(), "sizes": sizes, "folder": str(folder)}


def build_peer(corpus: Path, work_dir: Path) -> dict:
    """Tokenise `corpus` with the project's tokenizer and index the terms with bm25s; the measurements."""
    import bm25s

    settings = Settings()
    with PhaseRecorder() as rec:
        with rec.phase("read"):
            paragraphs = [p for article in read_source(corpus) for p in split_article(article)]
        with rec.phase("load tokenizer"):
            tokenizer = tokenizer_from(settings)
            tokenizer("预热")
        with rec.phase("tokenise"):
            tokens = [[sys.intern(t) for t in tokenizer.terms(p.title) + tokenizer.terms(p.text)] for p in paragraphs]
        with rec.phase("bm25s index"):
            retriever = bm25s.BM25(k1=BM25_K1, b=BM25_B)
            retriever.index(tokens, show_progress=False)
        with rec.phase("bm25s save"):
            retriever.save(str(work_dir / PEER_DIR), show_progress=False)
            (work_dir / PEER_IDS).write_text(json.dumps([p.id for p in paragraphs]), encoding="utf-8")
    return {"paragraphs": len(paragraphs), "phases": rec.as_dict(), "peak_rss": own_peak_rss_bytes(),
            "size": folder_bytes(work_dir / PEER_DIR)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["ours", "peer"])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--work-dir", type=Path, required=True)
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--embed-limit", type=int, default=2000)
    parser.add_argument("--fake-encoder", action="store_true")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    bound_model_caches()  # as `zhsearch index` does, before torch loads (this process only: servers keep the default)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    if args.what == "ours":
        result = build_ours(args.corpus, args.index_dir or args.work_dir / "index", args.work_dir,
                            args.embed_limit, args.fake_encoder)
    else:
        result = build_peer(args.corpus, args.work_dir)
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
