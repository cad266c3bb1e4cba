"""IVF recall@10 and search time by nprobe and k-means sample, against exact search over the same vectors.

The dense index's IVF settings (lists, training sample, lists probed) are chosen from this
sweep. Vectors come from a bench run's work folder (`vectors.npy`, the paragraph vectors of its
index, or with `--sentences` its sentence vectors) or, with `--size N`, from a corpus generated here whose paragraphs are all filled in from
their sentences' model vectors (bench/search/fill.py; the model embeds only the distinct sentences). The
queries are the bench's seeded sample, encoded by the model; recall counts ties at the 10th
exact score as found (bench/search/peers.py). Searches go through VectorStore.search one query at a
time, as the service makes them. Holds every query's exact scores: 200 x n floats (0.8 GB at 1M vectors).

Usage: .venv/bin/python -m bench.search.ivf_sweep --work-dir DIR [--size N | --sentences] [--nprobe 64 --nprobe 128 ...]
       [--train-rows 65536 --train-rows 262144 ...]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from rich.console import Console

from bench.common.corpus import sample_queries, write_corpus
from bench.search.fill import SentenceTable
from index.model.embed import Encoder
from index.model.runtime import load_encoder
from index.ingest.sources import read_source
from index.ingest.paragraphs import split_article
from index.settings import Settings
from index.store.vector_store import TRAIN_ROWS, VectorStore, add_rows, ivf_lists, new_index
from bench.search.peers import recall_at_k, top_rows

K = 10
VECTORS_FILE = "vectors.npy"  # as bench/search/build.py writes them
SENTENCES_FILE = "sentences.npz"


def filled_vectors(work: Path, size: int, encoder: Encoder, console: Console) -> np.ndarray:
    """Paragraph vectors of a generated `size`-paragraph corpus, pooled from sentence vectors (saved in `work`)."""
    work.mkdir(parents=True, exist_ok=True)
    write_corpus(size, work / "corpus.jsonl")
    texts = [p.text for article in read_source(work / "corpus.jsonl") for p in split_article(article)]
    table = SentenceTable(encoder, texts, console)
    vectors = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    table.pooled(texts, vectors)
    np.save(work / VECTORS_FILE, vectors)
    return vectors


def ivf_store(vectors: np.ndarray, lists: int, train_rows: int) -> VectorStore:
    """The dense index as VectorStore.build makes it (row numbers as ids), its lists trained on `train_rows`."""
    index = new_index(vectors, lists, train_rows)
    add_rows(index, vectors)
    return VectorStore(index, [str(row) for row in range(len(vectors))])


def sweep(store: VectorStore, queries: np.ndarray, exact: list[tuple[np.ndarray, np.ndarray]],
          nprobe: int) -> tuple[float, float, float]:
    """(mean recall@10, min recall@10, median µs per one-query search) at `nprobe`, searched as the service does."""
    store.nprobe = nprobe
    row_of = {pid: row for row, pid in enumerate(store.ids)}
    recalls, micros = [], []
    for query, (rows, scores) in zip(queries, exact):
        started = time.perf_counter()
        found = store.search(query[None, :], K)[0]
        micros.append((time.perf_counter() - started) * 1e6)
        recalls.append(recall_at_k(found, rows, scores, row_of, K))
    return float(np.mean(recalls)), float(np.min(recalls)), statistics.median(micros)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, required=True, help="holds vectors.npy (or gets it with --size)")
    parser.add_argument("--size", type=int, help="generate and fill a corpus of this many paragraphs first")
    parser.add_argument("--sentences", action="store_true", help="the sentence vectors (sentences.npz) instead")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--nprobe", type=int, action="append")
    parser.add_argument("--train-rows", type=int, action="append")
    parser.add_argument("--lists", type=int, help="IVF lists (default: the index's own rule, ivf_lists)")
    args = parser.parse_args()
    if args.size is not None and args.sentences:
        parser.error("--sentences reads a bench run's sentences.npz; --size generates paragraph vectors only")
    console = Console(stderr=True)
    encoder = load_encoder(Settings())
    path = args.work_dir / VECTORS_FILE
    if args.size is not None:
        vectors = filled_vectors(args.work_dir, args.size, encoder, console)
    else:
        vectors = np.load(args.work_dir / SENTENCES_FILE)["vectors"] if args.sentences else np.load(path, mmap_mode="r")
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    queries = encoder.encode_queries([text for _, text in sample_queries(args.queries)])
    all_scores = [vectors @ q for q in queries]
    exact = [(top_rows(s, K), s) for s in all_scores]
    lists = args.lists or ivf_lists(len(vectors))
    print(f"{len(vectors):,} vectors, {lists} lists, {len(queries)} queries")
    print("| k-means sample | train s | nprobe | recall@10 mean | min | search µs p50 |")
    print("|---|---|---|---|---|---|")
    for train_rows in args.train_rows or [TRAIN_ROWS]:
        started = time.perf_counter()
        store = ivf_store(vectors, lists, train_rows)
        trained = time.perf_counter() - started
        for nprobe in args.nprobe or [32, 64, 96, 128, 192, 256]:
            mean, low, micros = sweep(store, queries, exact, nprobe)
            print(f"| {min(train_rows, len(vectors)):,} | {trained:.0f} | {nprobe} | {mean:.3f} | {low:.2f} | {micros:,.0f} |",
                  flush=True)


if __name__ == "__main__":
    main()
