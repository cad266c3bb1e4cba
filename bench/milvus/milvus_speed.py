"""The Milvus backend timed beside the embedded one on the same index, in one run: each mode's in-process search
latency on both (paired: each query on both back to back, alternating which goes first), as ratios.

The index (e.g. `make bench`'s 10k index, .zhsearch/bench/10000/index) is copied into Milvus first
(`zhsearch export`, timed). With Milvus Lite (a .db path, the default) the figures describe Milvus
Lite, a pure-Python re-implementation that scans its rows in Python: they say nothing of a Milvus
server's speed (C++ indexes, its own machines, a network hop). Give --uri http://host:19530 to time a
server.

Usage: .venv/bin/python -m bench.milvus.milvus_speed --index-dir DIR [--uri /tmp/zhsearch-speed.db] [--queries 200]
       [--loop-seconds 60] [--fake-encoder]
"""

from __future__ import annotations

import argparse
import datetime
import time
from pathlib import Path

from bench.common.corpus import sample_queries
from bench.common.encoders import load_encoder
from bench.common.latency import time_paired
from bench.common.machine import cpu_model
from bench.common.paths import ROOT

MODES = ("bm25", "dense", "hybrid")


def compare(index_dir: Path, uri: str, texts: list[str], fake: bool, loop_seconds: float) -> list[str]:
    """Export `index_dir` into Milvus at `uri` and time both backends; the report's lines (Markdown)."""
    from index.milvus.connection import connect
    from index.milvus.export import export_index
    from index.milvus.schema import drop_collections
    from index.settings import Settings
    from search.engine import open_searcher

    settings = Settings().model_copy(update={"index_dir": index_dir, "milvus_uri": uri, "milvus_timeout_s": 120,
                                             "milvus_collection": "zhsearch_bench"})
    conn = connect(settings)
    started = time.perf_counter()
    done = export_index(index_dir, conn, settings.ann_threshold, replace=True, quiet=True)
    exported = time.perf_counter() - started
    encoder = load_encoder(settings, fake)
    embedded = open_searcher(settings, encoder)
    milvus = open_searcher(settings.model_copy(update={"backend": "milvus"}), encoder)
    lines = [f"Milvus at {uri} ({'Milvus Lite, in this process' if uri.endswith('.db') else 'a server'}); "
             f"export of {done.paragraphs:,} paragraphs and {done.sentences:,} sentence vectors: {exported:.0f} s.", "",
             "| mode | embedded p50 ms | embedded p99 ms | Milvus p50 ms | Milvus p99 ms | Milvus / embedded (p50) |",
             "|---|---|---|---|---|---|"]
    for mode in MODES:
        ours, theirs = time_paired(lambda q: embedded.search(q, mode, 10), lambda q: milvus.search(q, mode, 10),
                                   texts, loop_seconds)
        lines.append(f"| {mode} | {ours.p50():.2f} | {ours.p99():.2f} | {theirs.p50():.2f} | {theirs.p99():.2f} | "
                     f"x{theirs.p50() / ours.p50():.1f} |")
        print(lines[-1], flush=True)
    drop_collections(conn)
    conn.close()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--uri", default="/tmp/zhsearch-speed.db")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--loop-seconds", type=float, default=60.0)
    parser.add_argument("--fake-encoder", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    texts = [text for _, text in sample_queries(args.queries, 0)]
    lines = compare(args.index_dir, args.uri, texts, args.fake_encoder, args.loop_seconds)
    header = [f"# Milvus backend beside the embedded one, {datetime.date.today()}", "",
              f"CPU: {cpu_model()}. Index: {args.index_dir}. {len(texts)} queries sampled from CMRC, DRCD and LCQMC; "
              f"each timing loop at most {args.loop_seconds:.0f} s; in-process `Searcher.search`, k = 10.", "",
              "**Milvus Lite's figures say nothing of a Milvus server's**: Lite is a pure-Python re-implementation "
              "that scans its rows; a server searches C++ indexes on its own machines.", ""]
    out = args.out or ROOT / f"bench/results/{datetime.date.today()}-milvus-speed.md"
    out.write_text("\n".join(header + lines) + "\n", encoding="utf-8")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
