"""A bench index of the same corpus with another encoder's vectors, without building the text side again.

An index's Whoosh segment, postings, docs and near-duplicate marks depend on the text alone; only its paragraph
and sentence vectors (and the model recorded in its commit point) depend on the encoder. So the fake encoder's
index of a size is the model's index of it with those four files made again: at 1M, minutes instead of the
~90 minutes of `bench/search/build.py` (30 of them its separate tokenising pass). Every paragraph and sentence is
encoded (bench/search/build.py's `--embed-limit` fills the rest from sentence vectors: the fake encoder needs no fill).

Usage: .venv/bin/python -m bench.model.reencode --source /tmp/wl/1000000 --target /tmp/wlf/1000000 [--real-model]
(`--source` holds index/ and corpus.jsonl, as bench/search/build.py leaves them; `--target` gets index/ and a link to
the corpus; the fake encoder unless `--real-model`). The source index is left as it was: the target shares its
unchanged files by hard links and gets new files for the changed ones.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from bench.common.encoders import load_encoder
from bench.writes.write_common import hardlink_copy
from index.builder import next_generation
from index.commits import read_current, write_commit, write_lock
from index.ingest.paragraphs import passage_texts, split_article
from index.ingest.sentences import sentence_units
from index.ingest.sources import read_source
from index.settings import Settings
from index.store.durable import sync_tree
from index.store.vector_store import PARAGRAPH_FILES, SENTENCE_FILES, VectorStore

CHUNK = 65536  # texts encoded at a time


def encoded(encoder, texts: list[str]) -> np.ndarray:
    """Unit rows of `texts`, encoded a chunk at a time."""
    out = np.empty((len(texts), encoder.dim), dtype=np.float32)
    for start in range(0, len(texts), CHUNK):
        out[start:start + CHUNK] = encoder.encode_passages(texts[start:start + CHUNK])
    return out


def replace(folder: Path, names: tuple[str, ...], store: VectorStore) -> None:
    """Save `store` under `names` in `folder`, first unlinking the hard links to the source's files."""
    for name in names:
        (folder / name).unlink(missing_ok=True)
    store.save(folder, names)


def reencode(source: Path, target: Path, encoder, settings: Settings) -> dict[str, float]:
    """Make `target`/index from `source`/index with `encoder`'s vectors; seconds per step."""
    _, manifest = read_current(source / "index")
    if len(manifest.segments) != 1:
        sys.exit(f"{source / 'index'} has {len(manifest.segments)} segments: a bench build has one (optimize it)")
    timings: dict[str, float] = {}
    started = time.perf_counter()
    articles = read_source(source / "corpus.jsonl")
    paragraphs = [p for article in articles for p in split_article(article)]
    segment = manifest.segments[0]
    if len(paragraphs) != segment.rows:
        sys.exit(f"the corpus has {len(paragraphs)} paragraphs, the index {segment.rows}: not the index of it")
    index = hardlink_copy(source / "index", target / "index")
    corpus = target / "corpus.jsonl"
    if not corpus.exists():
        os.link(source / "corpus.jsonl", corpus)
    timings["read and link"] = time.perf_counter() - started
    folder = index / segment.name
    ids = [p.id for p in paragraphs]
    started = time.perf_counter()
    vectors = encoded(encoder, passage_texts(paragraphs))
    timings["encode paragraphs"] = time.perf_counter() - started
    started = time.perf_counter()
    store = VectorStore.build(vectors, ids, settings.ann_threshold)
    with write_lock(index):
        replace(folder, PARAGRAPH_FILES, store)
        timings["faiss paragraphs"] = time.perf_counter() - started
        sentences = 0
        if manifest.sentence_vectors:
            started = time.perf_counter()
            texts, owners = sentence_units([p.text for p in paragraphs])
            sentence_store = VectorStore.build(encoded(encoder, texts), [ids[o] for o in owners],
                                               settings.ann_threshold)
            replace(folder, SENTENCE_FILES, sentence_store)
            sentences = len(texts)
            timings["sentences"] = time.perf_counter() - started
        sync_tree(folder)
        info = segment.model_copy(update={"vector_index": store.kind, "sentences": sentences,
                                          "trained_rows": segment.rows if store.kind != "exact" else 0})
        write_commit(index, manifest.model_copy(update={"generation": next_generation(index),
                                                        "model": encoder.config(), "segments": [info]}))
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, required=True, help="a bench size's folder: index/ and corpus.jsonl")
    parser.add_argument("--target", type=Path, required=True)
    parser.add_argument("--real-model", action="store_true", help="the configured model, not the fake encoder")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    settings = Settings()
    timings = reencode(args.source, args.target, load_encoder(settings, not args.real_model), settings)
    print(", ".join(f"{step} {seconds:.1f} s" for step, seconds in timings.items()))


if __name__ == "__main__":
    main()
