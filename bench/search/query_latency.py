"""Median query latency per mode over an existing index (in-process, sequential).

Usage: .venv/bin/python -m bench.search.query_latency [--index-dir DIR] [--queries FILE] [--repeat N]
Queries default to the shared CMRC questions (their first 200); figures are medians and p90 in ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from bench.common.paths import SHARED_DATASETS
from index.settings import Settings
from search.engine import open_searcher
from search.hybrid import MODES

DEFAULT_QUERIES = SHARED_DATASETS / "cmrc2018-trial" / "queries.jsonl"


def load_queries(path: Path, limit: int) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle if line.strip()][:limit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index-dir", type=Path, default=None)
    parser.add_argument("--queries", type=Path, default=DEFAULT_QUERIES)
    parser.add_argument("--limit", type=int, default=200)
    args = parser.parse_args()
    settings = Settings() if args.index_dir is None else Settings(index_dir=args.index_dir)
    searcher = open_searcher(settings)
    queries = load_queries(args.queries, args.limit)
    for query in queries[:5]:  # warm-up: first calls allocate and fill caches
        searcher.search(query, "hybrid")
    print(f"index {searcher.corpus.info.location} ({searcher.corpus.info.paragraphs} paragraphs), {len(queries)} queries")
    for mode in MODES:
        times = []
        for query in queries:
            started = time.perf_counter()
            searcher.search(query, mode, k=10)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        print(f"{mode:<7} median {statistics.median(times):7.2f} ms   p90 {times[int(0.9 * len(times))]:7.2f} ms")


if __name__ == "__main__":
    main()
