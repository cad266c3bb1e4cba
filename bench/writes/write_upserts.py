"""One-article upserts in this process: embedding, tokenising, the index work, the refresh and the merges
between them, each timed apart, and dense recall against exact search after them."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common.corpus import sample_queries
from bench.writes.write_common import fresh_articles, summary
from index.commits import read_current
from index.ingest.sources import read_source
from index.merge import run_merges
from index.models import Article
from index.settings import Settings
from index.snapshot import open_snapshot
from index.tokenize import shared_tokenizer, tokenizer_from
from index.update import prepare, pretokenize
from index.writer import commit_prepared, preload
from search.embedded.corpus import EmbeddedCorpus
from search.filters import NO_FILTER


def replacements(corpus: Path, count: int, seed: int) -> list[Article]:
    """New versions (3 paragraphs of other text) of `count` articles the corpus holds."""
    ids = [a.id for a in read_source(corpus)]
    chosen = random.Random(seed).sample(ids, min(count, len(ids)))
    texts = fresh_articles(len(chosen), seed + 1000)
    return [Article(aid, text.title, text.paragraphs, source="bench-writes") for aid, text in zip(chosen, texts)]


def upserts(index_dir: Path, corpus: Path, settings: Settings, encoder, writes: int) -> dict[str, Any]:
    """One-article writes in this process: embedding, index work, refresh and merges, each timed apart. What a
    service loads at start before any write (`preload`) is loaded first and timed apart too."""
    shared_tokenizer.cache_clear()  # a new one (as the commit's Whoosh analyzer will find): the one before remembers
    tokenizer = tokenizer_from(settings)  # the texts an earlier size tokenised (RecentTokens)
    started = time.perf_counter()
    preload(index_dir)
    preloaded = time.perf_counter() - started
    model = encoder.config()
    _, manifest = read_current(index_dir)
    new = fresh_articles(writes - writes // 2, seed=1)
    old = replacements(corpus, writes // 2, seed=2)
    order = [a for pair in zip(new, old) for a in pair] + new[len(old):]
    embed, tokenize, commit, refresh, merges = [], [], [], [], []
    snapshot = open_snapshot(index_dir, model, tokenizer.config())
    most_segments = len(snapshot.views)
    for n, article in enumerate(order):
        started = time.perf_counter()
        update = prepare([article], [], encoder, manifest.sentence_vectors)
        embed.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        pretokenize(update, tokenizer)  # as the service's prepare does, before the lock
        tokenize.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        commit_prepared(index_dir, [update], tokenizer, model, ann_threshold=settings.ann_threshold)
        commit.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        snapshot = open_snapshot(index_dir, model, tokenizer.config(), snapshot)
        refresh.append((time.perf_counter() - started) * 1000)
        most_segments = max(most_segments, len(snapshot.views))
        if n % 10 == 9:  # what the service's merge process does after commits
            started = time.perf_counter()
            if run_merges(index_dir, ann_threshold=settings.ann_threshold):
                merges.append((time.perf_counter() - started) * 1000)
                snapshot = open_snapshot(index_dir, model, tokenizer.config(), snapshot)
    return {"preload_s": preloaded, "embed": summary(embed), "tokenize": summary(tokenize),
            "commit": summary(commit), "refresh": summary(refresh),
            "write": summary([c + r for c, r in zip(commit, refresh)]), "merges": summary(merges),
            "most_segments": most_segments, "segments_after": len(snapshot.views),
            "recall": recall(snapshot, encoder, settings)}


def recall(snapshot, encoder, settings: Settings, queries: int = 100) -> dict[str, float]:
    """Dense recall@10 of the served search against exact search (every IVF list of every segment probed)."""
    texts = [text for _, text in sample_queries(queries, seed=3)]
    vectors = encoder.encode_queries(texts)
    exact_settings = settings.model_copy(update={"ivf_nprobe": 1 << 30, "sentence_nprobe": 1 << 30})
    exact = EmbeddedCorpus(snapshot, exact_settings).dense(vectors, 10, NO_FILTER)
    found = EmbeddedCorpus(snapshot, settings).dense(vectors, 10, NO_FILTER)  # (the probes back as served)
    hits = [len({p for p, _ in a} & {p for p, _ in b}) / max(len(b), 1) for a, b in zip(found, exact)]
    return {"mean": float(np.mean(hits)), "min": float(np.min(hits))}


def upsert_rows(u: dict[str, Any], base: dict[str, Any] | None, base_size: int | None) -> list[tuple[str, str]]:
    """The upserts' rows; with `base` (the first size's upserts, at `base_size` paragraphs), the ratio to it."""
    ratio = f"; p50 / p50 at {base_size:,}: ×{u['write']['p50'] / base['write']['p50']:.2f}" if base else ""
    return [
        ("upsert, index work (commit: segment, tombstones, commit point, fsync), p50 / p99 / max",
         f"{u['commit']['p50']:.1f} / {u['commit']['p99']:.1f} / {u['commit']['max']:.1f} ms"),
        ("upsert, refresh (open the new commit point, segments reused), p50 / p99",
         f"{u['refresh']['p50']:.1f} / {u['refresh']['p99']:.1f} ms"),
        ("upsert, index work + refresh, p50 / p99", f"{u['write']['p50']:.1f} / {u['write']['p99']:.1f} ms{ratio}"),
        ("upsert, embedding (not index work), p50", f"{u['embed']['p50']:.1f} ms"),
        ("upsert, tokenising, before the write lock (inside the index work until 2026-12-03), p50",
         f"{u['tokenize']['p50']:.1f} ms" if "tokenize" in u else "—"),
        ("upsert, loaded before the first write, as a service does at start (catalogues, marks, datasketch)",
         f"{u['preload_s']:.1f} s" if "preload_s" in u else "—"),
        ("merges the policy ran (between writes), count, p50 / max",
         f"{u['merges']['n']}, {u['merges']['p50']:.0f} / {u['merges']['max']:.0f} ms"),
        ("segments: most during the writes / after", f"{u['most_segments']} / {u['segments_after']}"),
        ("dense recall@10 vs exact after the writes (mean, min)",
         f"{u['recall']['mean']:.3f}, {u['recall']['min']:.3f}"),
    ]
