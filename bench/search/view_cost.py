"""What each search option adds to a hybrid query over HTTP: group=article, sort=date, facets, explain (and what
showing every copy, dedup=false, saves).

One real server on loopback over an existing index; every sampled query is sent once per option
in a rotating order (so load from other processes falls on every option alike), sequentially,
after warm-up queries. Prints each option's p50 and p90 and its p50 as a ratio to plain hybrid's.

Usage: .venv/bin/python -m bench.search.view_cost --index-dir DIR [--queries 200] [--mode hybrid] [--fake-encoder]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.common.corpus import sample_queries
from bench.common.http_load import running_server

OPTIONS = {
    "plain": {},  # copies of a story shown once (dedup, the default)
    "dedup=false": {"dedup": "false"},
    "group=article": {"group": "article"},
    "sort=date": {"sort": "date"},
    "facets=source,month": {"facets": "source,month"},
    "explain": {"explain": "true"},
    "all three": {"group": "article", "sort": "date", "facets": "source,month"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--mode", default="hybrid")
    parser.add_argument("--fake-encoder", action="store_true")
    args = parser.parse_args()
    queries = [text for _, text in sample_queries(args.queries, 0)]
    names = list(OPTIONS)
    times: dict[str, list[float]] = {name: [] for name in names}
    log = Path(tempfile.mkdtemp(prefix="zhsearch-view-cost-")) / "server.log"
    with running_server(args.index_dir.resolve(), args.fake_encoder, log) as server, \
            httpx.Client(base_url=server.url, timeout=60.0) as client:
        for query in queries[:5]:
            for name in names:
                client.get("/search", params={"q": query, "mode": args.mode, **OPTIONS[name]}).raise_for_status()
        for n, query in enumerate(queries):
            for name in names[n % len(names):] + names[:n % len(names)]:
                started = time.perf_counter()
                client.get("/search", params={"q": query, "mode": args.mode, **OPTIONS[name]}).raise_for_status()
                times[name].append((time.perf_counter() - started) * 1000)
    base = statistics.median(times["plain"])
    print(f"{args.mode} over HTTP, {len(queries)} queries, {args.index_dir}"
          f"{' (fake encoder)' if args.fake_encoder else ''}")
    print("| option | p50 ms | p90 ms | p50 vs plain |\n|---|---|---|---|")
    for name in names:
        ms = sorted(times[name])
        print(f"| {name} | {statistics.median(ms):.2f} | {ms[int(0.9 * len(ms))]:.2f} | "
              f"x{statistics.median(ms) / base:.3f} |")


if __name__ == "__main__":
    main()
