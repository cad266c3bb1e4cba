"""Writes at scale: one-article upserts' index work, ack-to-searchable over HTTP, a sustained feed beside
searching clients, disk after many writes and a merge, dense recall throughout.

Usage (each size needs bench/search/run.py's index of it, built with the same encoder, in --work-dir/N/index):
  .venv/bin/python -m bench.writes.write_load --sizes 10000 --sizes 100000 [--fake-encoder] [--writes 200]
      [--feed-seconds 60] [--disk-writes 1000] [--burst-articles 150] [--skip http --skip feed --skip disk]
      [--feed-at 100000] [--burst-at 100000] [--disk-at 10000]

The bench index is copied with hard links (segments never change once written, so the original
stays as it was) and the copy is written to. Phases, each on a fresh copy:
- upserts (write_upserts.py): `--writes` one-article (3-paragraph) writes in this process, half new articles, half
  replacing one of the corpus's: embedding and tokenising (before the write lock, timed apart), the index
  work (`commit_prepared`: new segment, tombstones, commit point, fsync) and the refresh (opening the new commit
  point, reusing every open segment), with the merge policy's merges run between writes as a service's merge
  process would (timed apart too);
- http (write_http.py): the server with writes on; each write is POSTed and the article then searched for by a
  word only it holds: found on the first search after the answer, or not;
- feed (write_feed.py): 8 clients search (hybrid) for --feed-seconds without writes, twice (the
  second window, warm, is the control), then as long again while an article is posted every second
  (open loop: a POST starts each second whatever the one before is doing); errors, every acknowledged
  article found, the p99 of each window, each write's time to acknowledgement, the server's memory
  before and after against the bytes the writes added;
- burst (write_burst.py): --burst-articles writers post one article each at once (answered 429,
  each waits Retry-After and posts again) while --burst-clients search: the searches' latency before
  and during, the 429s, each accepted write's answer time, every article found;
- disk (write_disk.py): --disk-writes writes, the index's size during them, after `optimize`, and against a fresh
  build of the same corpus;
- recall: dense recall@10 against exact search (every IVF list probed) after the writes.
Results: one Markdown table, printed and written to bench/results/<date>-writes.md (bench/common/results_file.py), or
under --results-dir.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common.encoders import load_encoder
from bench.common.paths import ROOT
from bench.common.results_file import RESULTS, results_file
from bench.writes.write_burst import burst, burst_rows
from bench.writes.write_common import TOKEN, hardlink_copy, log
from bench.writes.write_disk import disk, disk_rows
from bench.writes.write_feed import feed, feed_rows
from bench.writes.write_http import http_rows, http_visibility
from bench.writes.write_upserts import upsert_rows, upserts
from index.settings import Settings


def rows(r: dict[str, Any], base: dict[str, Any]) -> list[tuple[str, str]]:
    """The table's rows for one size (the upserts' ratio against the first size's, `base`)."""
    out = []
    if "upserts" in r:
        first = base.get("upserts") if base is not r else None
        out += upsert_rows(r["upserts"], first, base["size"])
    if "http" in r:
        out += http_rows(r["http"])
    if "feed" in r:
        out += feed_rows(r["feed"])
    if "burst" in r:
        out += burst_rows(r["burst"])
    if "disk" in r:
        out += disk_rows(r["disk"])
    return out


def model_sides(encoder: Any, settings: Settings) -> str:
    """The model and the number types of this process's writes (upserts, disk) and of a service's (http, feed)."""
    from index.model.runtime import chosen_plan

    return (f"{encoder.config().get('name')} (in-process writes {getattr(encoder, 'dtype', 'float32')}, "
            f"a service's writes {'/'.join(chosen_plan(settings, serving=True).passages)})")


def table(results: list[dict[str, Any]]) -> str:
    sizes = [r["size"] for r in results]
    lines = ["| | " + " | ".join(f"{s:,} paragraphs" for s in sizes) + " |", "|---|" + "---|" * len(sizes)]
    per = [dict(rows(r, results[0])) for r in results]
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
            sys.exit(f"no bench index in {source}: build it with `python -m bench.search.run --sizes {size}"
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
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    text = (f"# Writes, {time.strftime('%Y-%m-%d %H:%M')}, commit {commit}, "
            f"{'fake encoder' if args.fake_encoder else model_sides(encoder, settings)}, "
            f"{os.cpu_count()} CPUs\n\n{table(results)}\n")
    out = results_file(f"writes{'-fake' if args.fake_encoder else ''}", args.results_dir)
    out.write_text(text, encoding="utf-8")
    (args.work_dir / "writes.json").write_text(json.dumps(results, default=lambda o: o.__dict__, indent=1))
    print(text)


if __name__ == "__main__":
    main()
