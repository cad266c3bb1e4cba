"""A long feed in one process, as fast as it goes: what a search costs after N one-article writes.

Usage: HF_HUB_OFFLINE=1 .venv/bin/python -m bench.writes.long_feed [--writes 600 --writes 3600 ...]
       [--work-dir .zhsearch/bench] [--size 100000] [--recall-at 3600] [--copy-dir DIR]

A newsroom posts all day: one article a second is 3,600 writes an hour. Each write here is what the
service does for one (prepare with the service's encoder, commit, then the merges the policy asks
for: the service runs them in a child process, here they run between writes), on a hard-linked
copy of bench/search/run.py's index of --size paragraphs. After each count of --writes it prints
the segments and the CPU a hybrid search (as /search runs it, 200 queries) and its dense leg take,
on the copy and on the untouched index measured right beside it (one process: the ratio is the
figure; absolute times move with the machine's load). With --recall-at, dense recall@10 against
exact search too (slow: every list of every segment probed). The feed's length is in writes, not in
seconds: the writes run back to back, ~0.2 s each on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from api.live.holder import serving_encoder
from api.schemas import SearchRequest
from bench.common.corpus import sample_queries
from bench.common.paths import ROOT
from bench.writes.write_common import fresh_articles, hardlink_copy
from bench.writes.write_upserts import recall
from index.commits import read_current
from index.merge import run_merges
from index.settings import Settings
from index.snapshot import open_snapshot
from index.tokenize import tokenizer_from
from index.update import prepare
from index.writer import commit_prepared
from search.engine import open_searcher
from search.filters import NO_FILTER, Filter
from search.fusion import with_overrides
from search.hybrid import Searcher
from search.serving.blas import one_blas_thread
from search.views.view import View

ROUNDS = 3  # timed passes over the queries; the median is printed


def search_as_served(searcher: Searcher, text: str) -> None:
    """One hybrid search with /search's defaults, as api/app.py runs it."""
    req = SearchRequest(q=text)
    params = with_overrides(searcher.defaults, req.fusion, req.alpha)
    flt = Filter(req.source, req.article_id, req.date_from, req.date_to)
    view = View(req.group, req.sort, req.facet_names(), req.dedup)
    searcher.search(req.q, req.mode, req.k, req.offset, params, flt, explain=req.explain, view=view)


def search_cost(searcher: Searcher, texts: list[str], vectors: list[np.ndarray]) -> dict[str, float]:
    """Median CPU ms (every thread of the process) a hybrid search and a dense leg (k 100) take, warm."""
    for text in texts:
        search_as_served(searcher, text)
    whole, dense = [], []
    for _ in range(ROUNDS):
        started = time.process_time()
        for text in texts:
            search_as_served(searcher, text)
        whole.append((time.process_time() - started) / len(texts) * 1000)
        started = time.process_time()
        for vector in vectors:
            searcher.corpus.dense(vector, 100, NO_FILTER)
        dense.append((time.process_time() - started) / len(texts) * 1000)
    return {"search_ms": float(np.median(whole)), "dense_ms": float(np.median(dense))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, action="append", help="counts to measure after (repeat)")
    parser.add_argument("--work-dir", type=Path, default=ROOT / ".zhsearch" / "bench")
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--recall-at", type=int, action="append", default=[])
    parser.add_argument("--copy-dir", type=Path, help="where the fed copy goes (default: beside the index)")
    args = parser.parse_args()
    counts = sorted(args.writes or [180, 600, 1200, 1800, 2700, 3600])
    one_blas_thread()  # as the service
    source = args.work_dir / str(args.size) / "index"
    copy = hardlink_copy(source, args.copy_dir or args.work_dir / str(args.size) / "long-feed-index")
    settings = Settings(index_dir=copy)
    encoder = serving_encoder(settings)
    tokenizer = tokenizer_from(settings)
    texts = [text for _, text in sample_queries(200, seed=5)]
    vectors = [encoder.encode_queries([text]) for text in texts]
    untouched = open_searcher(Settings(index_dir=source), encoder)
    _, manifest = read_current(copy)
    articles = fresh_articles(counts[-1], seed=8)
    if len(articles) < counts[-1]:  # the bench corpus recombines into so many new articles, no more
        print(f"only {len(articles):,} fresh articles: the last count measured is {len(articles):,} writes", flush=True)
        counts = sorted({min(count, len(articles)) for count in counts})
        args.recall_at = [min(count, len(articles)) for count in args.recall_at]
    started = time.perf_counter()
    for n, article in enumerate(articles, start=1):
        update = prepare([article], [], encoder, manifest.sentence_vectors, tokenizer)
        commit_prepared(copy, [update], tokenizer, encoder.config(), ann_threshold=settings.ann_threshold)
        run_merges(copy, ann_threshold=settings.ann_threshold)
        if n not in counts:
            continue
        _, now = read_current(copy)
        row: dict[str, Any] = {"writes": n, "seconds": round(time.perf_counter() - started),
                               "segments": [(s.rows, s.sentences, s.vector_index) for s in now.segments],
                               "before": search_cost(untouched, texts, vectors),
                               "after": search_cost(open_searcher(settings, encoder), texts, vectors)}
        if n in args.recall_at:
            row["recall"] = recall(open_snapshot(copy, encoder.config(), tokenizer.config()), encoder, settings)
        print(json.dumps(row), flush=True)
        b, a = row["before"], row["after"]
        print(f"after {n:,} writes: {len(now.segments)} segments; a hybrid search {a['search_ms']:.2f} ms CPU against "
              f"{b['search_ms']:.2f} (x{a['search_ms'] / b['search_ms']:.2f}), its dense leg {a['dense_ms']:.2f} against "
              f"{b['dense_ms']:.2f} (x{a['dense_ms'] / b['dense_ms']:.2f})", flush=True)


if __name__ == "__main__":
    main()
