"""Where a BM25 query's time goes: cProfile over our Whoosh retriever (or the whole searcher) and bm25s.

Usage: .venv/bin/python -m bench.search.profile_bm25 --work-dir .zhsearch/bench/10000 [--queries 50] [--whole]
       [--top 15]
(a work folder that bench/search/run.py left: index/, bm25s/ and bm25s_ids.json)
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
from pathlib import Path

from bench.search.build import PEER_DIR, PEER_IDS
from bench.common.corpus import sample_queries
from bench.common.encoders import load_encoder
from index.settings import Settings
from bench.search.peers import BM25sPeer
from search.engine import open_searcher


def profile(call, queries: list[str], top: int, title: str) -> None:
    """Run `call` over the queries under cProfile and print the `top` functions by own time and by total."""
    for query in queries[:5]:
        call(query)
    profiler = cProfile.Profile()
    profiler.enable()
    for query in queries:
        call(query)
    profiler.disable()
    for order in ("tottime", "cumulative"):
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).strip_dirs().sort_stats(order).print_stats(top)
        print(f"== {title}, by {order} ==\n" + text.getvalue().split("\n", 4)[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--whole", action="store_true", help="profile Searcher.search (highlights too), not the retriever")
    parser.add_argument("--fake-encoder", action="store_true")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    settings = Settings().model_copy(update={"index_dir": args.work_dir / "index"})
    searcher = open_searcher(settings, load_encoder(settings, args.fake_encoder))
    queries = [text for _, text in sample_queries(args.queries)]
    if args.whole:
        profile(lambda q: searcher.search(q, "bm25", k=10), queries, args.top, "Searcher.search bm25")
    else:
        profile(lambda q: searcher.bm25.search(q, 10), queries, args.top, "Whoosh BM25Retriever.search")
    peer = BM25sPeer(args.work_dir / PEER_DIR, args.work_dir / PEER_IDS, searcher.tokenizer)
    profile(lambda q: peer.search(q, 10), queries, args.top, "bm25s")


if __name__ == "__main__":
    main()
