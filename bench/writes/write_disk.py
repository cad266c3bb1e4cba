"""The index's size on disk over many one-article writes, after `optimize`, and against a fresh build."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from bench.writes.write_common import fresh_articles, index_bytes, mb
from index.builder import build_index
from index.commits import read_current
from index.ingest.sources import read_source
from index.merge import run_merges
from index.settings import Settings
from index.tokenize import tokenizer_from
from index.update import prepare
from index.writer import commit_prepared


def disk(index_dir: Path, corpus: Path, settings: Settings, encoder, writes: int, work: Path) -> dict[str, Any]:
    """Many one-article writes (merges as the policy asks): the size throughout, after optimize, and of a fresh
    build of the same corpus."""
    tokenizer = tokenizer_from(settings)
    start = index_bytes(index_dir)
    most = start
    _, manifest = read_current(index_dir)
    articles = fresh_articles(writes, seed=7)
    for n, article in enumerate(articles):
        update = prepare([article], [], encoder, manifest.sentence_vectors)
        commit_prepared(index_dir, [update], tokenizer, encoder.config(), ann_threshold=settings.ann_threshold)
        if n % 10 == 9:
            run_merges(index_dir, ann_threshold=settings.ann_threshold)
        if n % 25 == 24:
            most = max(most, index_bytes(index_dir))
    during = index_bytes(index_dir)
    started = time.perf_counter()
    run_merges(index_dir, ann_threshold=settings.ann_threshold, everything=True)
    optimize_s = time.perf_counter() - started
    after = index_bytes(index_dir)
    fresh_dir = work / "fresh-index"
    shutil.rmtree(fresh_dir, ignore_errors=True)
    build_index(fresh_dir, read_source(corpus) + articles, tokenizer, encoder, ["bench"], quiet=True,
                ann_threshold=settings.ann_threshold, sentence_vectors=manifest.sentence_vectors)
    fresh = index_bytes(fresh_dir)
    shutil.rmtree(fresh_dir, ignore_errors=True)
    return {"start": start, "most": max(most, during), "after_optimize": after, "fresh": fresh,
            "optimize_s": optimize_s, "writes": writes}


def disk_rows(d: dict[str, Any]) -> list[tuple[str, str]]:
    """The disk phase's rows."""
    return [(f"disk: {d['writes']} writes, most during / fresh build", f"{mb(d['most'])} / {mb(d['fresh'])} "
             f"(×{d['most'] / d['fresh']:.2f})"),
            ("disk: after optimize / fresh build", f"{mb(d['after_optimize'])} / {mb(d['fresh'])} "
             f"(×{d['after_optimize'] / d['fresh']:.2f}); optimize {d['optimize_s']:.1f} s")]
