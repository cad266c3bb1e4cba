"""Writes at scale: one-article upserts' index work, ack-to-searchable over HTTP, a sustained feed beside
searching clients, disk after many writes and a merge, dense recall throughout.

Usage (each size needs bench/run.py's index of it, built with the same encoder, in --work-dir/N/index):
  .venv/bin/python bench/write_load.py --sizes 10000 --sizes 100000 [--fake-encoder] [--writes 200]
      [--feed-seconds 60] [--disk-writes 1000] [--burst-articles 150] [--skip http --skip feed --skip disk]
      [--feed-at 100000] [--burst-at 100000] [--disk-at 10000]

The bench index is copied with hard links (segments never change once written, so the original
stays as it was) and the copy is written to. Phases, each on a fresh copy:
- upserts: `--writes` one-article (3-paragraph) writes in this process, half new articles, half
  replacing one of the corpus's: embedding and tokenising (before the write lock, timed apart), the index
  work (`commit_prepared`: new segment, tombstones, commit point, fsync) and the refresh (opening the new commit point, reusing
  every open segment), with the merge policy's merges run between writes as a service's merge
  process would (timed apart too);
- http: the server with writes on; each write is POSTed and the article then searched for by a
  word only it holds: found on the first search after the answer, or not;
- feed (bench/write_feed.py): 8 clients search (hybrid) for --feed-seconds without writes, twice (the
  second window, warm, is the control), then as long again while an article is posted every second
  (open loop: a POST starts each second whatever the one before is doing); errors, every acknowledged
  article found, the p99 of each window, each write's time to acknowledgement, the server's memory
  before and after against the bytes the writes added;
- burst (bench/write_burst.py): --burst-articles writers post one article each at once (answered 429,
  each waits Retry-After and posts again) while --burst-clients search: the searches' latency before
  and during, the 429s, each accepted write's answer time, every article found;
- disk: --disk-writes writes, the index's size during them, after `optimize`, and against a fresh
  build of the same corpus;
- recall: dense recall@10 against exact search (every IVF list probed) after the writes.
Results: one Markdown table, printed and written to bench/results/<date>-writes.md (bench/results_file.py), or
under --results-dir.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpus import sample_queries  # noqa: E402
from encoders import load_encoder  # noqa: E402
from http_load import running_server  # noqa: E402
from memory import peak_rss_bytes  # noqa: E402
from results_file import RESULTS, results_file  # noqa: E402
from write_common import TOKEN, article_body, fresh_articles, hardlink_copy, index_bytes, log, mb, summary  # noqa: E402
from write_burst import burst, burst_rows  # noqa: E402
from write_feed import feed, feed_rows  # noqa: E402

from index.builder import build_index  # noqa: E402
from index.commits import read_current  # noqa: E402
from index.ingest.sources import read_source  # noqa: E402
from index.merge import run_merges  # noqa: E402
from index.models import Article  # noqa: E402
from index.settings import Settings  # noqa: E402
from index.snapshot import open_snapshot  # noqa: E402
from index.tokenize import shared_tokenizer, tokenizer_from  # noqa: E402
from index.update import prepare, pretokenize  # noqa: E402
from index.writer import commit_prepared, preload  # noqa: E402
from search.embedded.corpus import EmbeddedCorpus  # noqa: E402
from search.filters import NO_FILTER  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


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
    return {"preload_s": preloaded, "embed": summary(embed), "tokenize": summary(tokenize), "commit": summary(commit), "refresh": summary(refresh),
            "write": summary([c + r for c, r in zip(commit, refresh)]), "merges": summary(merges),
            "most_segments": most_segments, "segments_after": len(snapshot.views), "recall": recall(snapshot, encoder,
                                                                                                    settings)}


def recall(snapshot, encoder, settings: Settings, queries: int = 100) -> dict[str, float]:
    """Dense recall@10 of the served search against exact search (every IVF list of every segment probed)."""
    texts = [text for _, text in sample_queries(queries, seed=3)]
    vectors = encoder.encode_queries(texts)
    exact_settings = settings.model_copy(update={"ivf_nprobe": 1 << 30, "sentence_nprobe": 1 << 30})
    exact = EmbeddedCorpus(snapshot, exact_settings).dense(vectors, 10, NO_FILTER)
    found = EmbeddedCorpus(snapshot, settings).dense(vectors, 10, NO_FILTER)  # (the probes back as served)
    hits = [len({p for p, _ in a} & {p for p, _ in b}) / max(len(b), 1) for a, b in zip(found, exact)]
    return {"mean": float(np.mean(hits)), "min": float(np.min(hits))}


def http_visibility(index_dir: Path, fake: bool, work: Path, writes: int) -> dict[str, Any]:
    """POST one article, then search for a word only it holds: the POST's time, and found at once or not."""
    posts, searches, found = [], [], 0
    articles = fresh_articles(writes, seed=4, marker="zqmark")
    with running_server(index_dir, fake, work / "server-http.log") as server, httpx.Client(base_url=server.url,
                                                                                          timeout=60) as client:
        for article in articles:
            body = article_body(article)
            started = time.perf_counter()
            answer = client.post("/articles", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
            posts.append((time.perf_counter() - started) * 1000)
            answer.raise_for_status()
            marker = article.paragraphs[0].rsplit(" ", 1)[1]
            started = time.perf_counter()
            hits = client.get("/search", params={"q": marker, "mode": "bm25", "k": 3}).json()["hits"]
            searches.append((time.perf_counter() - started) * 1000)
            found += any(h["article_id"] == article.id for h in hits)
        peak, ready = peak_rss_bytes(server.process.pid), server.ready_seconds
    return {"post": summary(posts), "search": summary(searches), "found_first_time": found, "writes": len(articles),
            "server_peak_rss": peak, "ready_seconds": ready}


def disk(index_dir: Path, corpus: Path, settings: Settings, encoder, writes: int, work: Path) -> dict[str, Any]:
    """Many one-article writes (merges as the policy asks), the size throughout, after optimize, and of a fresh build."""
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


def rows(size: int, r: dict[str, Any], base: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The table's rows for one size (ratios against the first size's upserts when given)."""
    out = []
    if "upserts" in r:
        u = r["upserts"]
        ratio = f"; p50 / p50 at {base['size']:,}: ×{u['write']['p50'] / base['upserts']['write']['p50']:.2f}" \
            if base and "upserts" in base and base is not r else ""
        out += [
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
            ("dense recall@10 vs exact after the writes (mean, min)", f"{u['recall']['mean']:.3f}, {u['recall']['min']:.3f}"),
        ]
    if "http" in r:
        h = r["http"]
        out += [("HTTP: POST one article (embedding included), p50 / p99", f"{h['post']['p50']:.0f} / {h['post']['p99']:.0f} ms"),
                ("HTTP: found by the first search after the answer", f"{h['found_first_time']} of {h['writes']}"),
                ("HTTP: acknowledged to searchable", "0 ms: a write answers once visible" if h["found_first_time"] == h["writes"]
                 else "not always at once"),
                ("HTTP: server start to healthy; its peak RSS over the writes",
                 f"{h['ready_seconds']:.0f} s; {mb(h['server_peak_rss'])}")]
    if "feed" in r:
        out += feed_rows(r["feed"])
    if "burst" in r:
        out += burst_rows(r["burst"])
    if "disk" in r:
        d = r["disk"]
        out += [(f"disk: {d['writes']} writes, most during / fresh build", f"{mb(d['most'])} / {mb(d['fresh'])} "
                 f"(×{d['most'] / d['fresh']:.2f})"),
                ("disk: after optimize / fresh build", f"{mb(d['after_optimize'])} / {mb(d['fresh'])} "
                 f"(×{d['after_optimize'] / d['fresh']:.2f}); optimize {d['optimize_s']:.1f} s")]
    return out


def model_sides(encoder: Any, settings: Settings) -> str:
    """The model and the number types of this process's writes (upserts, disk) and of a service's (http, feed)."""
    from index.model.runtime import chosen_plan

    return (f"{encoder.config().get('name')} (in-process writes {getattr(encoder, 'dtype', 'float32')}, "
            f"a service's writes {'/'.join(chosen_plan(settings, serving=True).passages)})")


def table(results: list[dict[str, Any]]) -> str:
    sizes = [r["size"] for r in results]
    lines = ["| | " + " | ".join(f"{s:,} paragraphs" for s in sizes) + " |", "|---|" + "---|" * len(sizes)]
    per = [dict(rows(r["size"], r, results[0])) for r in results]
    for key in dict.fromkeys(k for p in per for k in p):
        lines.append(f"| {key} | " + " | ".join(p.get(key, "") for p in per) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, action="append", required=True)
    parser.add_argument("--work-dir", type=Path, default=ROOT / ".zhsearch" / "bench")
    parser.add_argument("--fake-encoder", action="store_true")
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--http-writes", type=int, default=20)
    parser.add_argument("--feed-seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--disk-writes", type=int, default=1000)
    parser.add_argument("--burst-articles", type=int, default=150)
    parser.add_argument("--burst-clients", type=int, default=2)
    parser.add_argument("--skip", action="append", default=[], choices=["upserts", "http", "feed", "burst", "disk"])
    parser.add_argument("--results-dir", type=Path, default=RESULTS,
                        help="where the Markdown results go (an A/B series: a folder of its own, not bench/results)")
    parser.add_argument("--feed-at", type=int, action="append",
                        help="sizes that get the feed phase (repeat; default: every size)")
    parser.add_argument("--burst-at", type=int, action="append",
                        help="sizes that get the burst phase (repeat; default: every size)")
    parser.add_argument("--disk-at", type=int, action="append",
                        help="sizes that get the disk phase (repeat; default: every size). Its fresh build embeds "
                             "every paragraph: with the model, hours at 1M")
    args = parser.parse_args()
    os.environ["ZHSEARCH_WRITE_TOKEN"] = TOKEN
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    settings = Settings()
    encoder = load_encoder(settings, args.fake_encoder)
    results = []
    for size in args.sizes:
        work = args.work_dir / str(size)
        source, corpus = work / "index", work / "corpus.jsonl"
        if not (source / "CURRENT").is_file():
            sys.exit(f"no bench index in {source}: build it with `bench/run.py --sizes {size}"
                     f"{' --fake-encoder' if args.fake_encoder else ''}` first")
        copy = work / "writes-index"
        result: dict[str, Any] = {"size": size}
        for phase in ("upserts", "http", "feed", "burst", "disk"):
            only = {"feed": args.feed_at, "burst": args.burst_at, "disk": args.disk_at}.get(phase)
            if phase in args.skip or (only and size not in only):
                continue
            log(f"{size:,}: {phase}")
            hardlink_copy(source, copy)
            local = settings.model_copy(update={"index_dir": copy})
            if phase == "upserts":
                result[phase] = upserts(copy, corpus, local, encoder, args.writes)
            elif phase == "http":
                result[phase] = http_visibility(copy, args.fake_encoder, work, args.http_writes)
            elif phase == "feed":
                result[phase] = feed(copy, args.fake_encoder, work, args.feed_seconds, args.clients)
            elif phase == "burst":
                result[phase] = burst(copy, args.fake_encoder, work, args.burst_articles, args.burst_clients)
            else:
                result[phase] = disk(copy, corpus, local, encoder, args.disk_writes, work)
        shutil.rmtree(copy, ignore_errors=True)
        results.append(result)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    text = (f"# Writes, {time.strftime('%Y-%m-%d %H:%M')}, commit {commit}, "
            f"{'fake encoder' if args.fake_encoder else model_sides(encoder, settings)}, "
            f"{os.cpu_count()} CPUs\n\n{table(results)}\n")
    out = results_file(f"writes{'-fake' if args.fake_encoder else ''}", args.results_dir)
    out.write_text(text, encoding="utf-8")
    (args.work_dir / "writes.json").write_text(json.dumps(results, default=lambda o: o.__dict__, indent=1))
    print(text)


if __name__ == "__main__":
    main()
