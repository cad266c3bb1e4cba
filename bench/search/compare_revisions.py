"""Two servers side by side on one index: a git revision and the working tree, queries alternating.

Absolute latencies on shared cores move by the hour; a change is judged against its base in the
same minutes. Both servers run at once from this venv (so the base also gets today's libraries),
each on its own loopback port: sequential latency is paired query by query (the order alternates),
and 8-client throughput runs in rounds that alternate which server goes first.

Usage:
    .venv/bin/python -m bench.search.compare_revisions --index-dir DIR --base 63bf263 [--modes hybrid dense bm25]
        [--rounds 4]
        [--base-index-dir DIR2] [--fake-encoder]

`--base-index-dir`: the base serves another folder (the same build in the base's index format, when the
change is a format change: e.g. a copy made with `cp -al` and converted by `zhsearch upgrade`).
`--fake-encoder`: both serve with the tests' fake encoder (bench/common/serve_fake.py), so that the comparison
is of everything but the model.
`--base-env K=V`, `--tree-env K=V`: settings for one server only (e.g. the base's
`ZHSEARCH_MODEL_DTYPE=float32` under bench/cpu/avx2_only.py, where a base that reads /proc/cpuinfo
would take an emulated bfloat16).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterator

import httpx

from bench.common.corpus import sample_queries
from bench.common.http_load import running_server, run_clients
from bench.common.paths import ROOT


@contextmanager
def worktree(revision: str) -> Iterator[Path]:
    """A detached checkout of `revision` in a temporary folder, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="zhsearch-base-")) / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", "-q", str(folder), revision], cwd=ROOT, check=True)
    try:
        yield folder
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(folder)], cwd=ROOT, check=False)


def alternating(n: int, turn: int) -> list[int]:
    """Server order for this turn: 0..n-1 on even turns, reversed on odd ones (neither always goes first)."""
    order = list(range(n))
    return order if turn % 2 == 0 else order[::-1]


def paired_sequential(urls: list[str], mode: str, queries: list[str]) -> list[float]:
    """p50 ms per server, each query sent to both, the first server alternating."""
    times: list[list[float]] = [[] for _ in urls]
    clients = [httpx.Client(base_url=url, timeout=60.0) for url in urls]
    try:
        for n, query in enumerate(queries):
            for i in alternating(len(urls), n):
                started = time.perf_counter()
                clients[i].get("/search", params={"q": query, "mode": mode}).raise_for_status()
                times[i].append((time.perf_counter() - started) * 1000)
    finally:
        for client in clients:
            client.close()
    return [statistics.median(t) for t in times]


def concurrent_rounds(urls: list[str], mode: str, queries: list[str], rounds: int, seconds: float) -> list[list[float]]:
    """q/s per server per round (8 clients), the first server alternating round by round."""
    rates: list[list[float]] = [[] for _ in urls]
    for r in range(rounds):
        for i in alternating(len(urls), r):
            timings = run_clients(urls[i], mode, queries * 50, 8, seconds)
            if timings.errors:
                raise RuntimeError(f"{urls[i]}: {timings.errors} errors")
            rates[i].append(len(timings.ms) / timings.wall)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--base", required=True, help="git revision to compare the working tree with")
    parser.add_argument("--modes", nargs="+", default=["hybrid", "dense", "bm25"])  # bm25: keyword users
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--base-index-dir", type=Path, help="the folder the base serves (default: --index-dir)")
    parser.add_argument("--fake-encoder", action="store_true")
    parser.add_argument("--base-env", action="append", default=[], metavar="K=V", help="environment of the base only")
    parser.add_argument("--tree-env", action="append", default=[], metavar="K=V", help="environment of the tree only")
    args = parser.parse_args()
    envs = {"base": dict(kv.split("=", 1) for kv in args.base_env), "tree": dict(kv.split("=", 1) for kv in args.tree_env)}
    queries = [text for _, text in sample_queries(args.queries, 0)]
    with ExitStack() as stack:
        base_tree = stack.enter_context(worktree(args.base))
        logs = Path(tempfile.mkdtemp(prefix="zhsearch-compare-"))
        index_dir = args.index_dir.resolve()
        base_dir = (args.base_index_dir or args.index_dir).resolve()
        urls = [stack.enter_context(running_server(folder, args.fake_encoder, logs / f"{name}.log", cwd=tree,
                                                   extra_env=envs[name])).url
                for name, tree, folder in (("base", base_tree, base_dir), ("tree", ROOT, index_dir))]
        print(f"base {args.base} ({base_dir}) vs working tree ({index_dir}){', fake encoder' if args.fake_encoder else ''}"
              f"{''.join(f'; {name} {env}' for name, env in envs.items() if env)}")
        for mode in args.modes:
            paired_sequential(urls, mode, queries[:10])  # warm-up
            base, tree = paired_sequential(urls, mode, queries)
            print(f"{mode}: 1 client p50 {base:.2f} -> {tree:.2f} ms (x{tree / base:.3f})")
            rates = concurrent_rounds(urls, mode, queries, args.rounds, args.seconds)
            base_qs, tree_qs = (statistics.median(r) for r in rates)
            print(f"{mode}: 8 clients q/s per round {[round(x, 1) for x in rates[0]]} -> {[round(x, 1) for x in rates[1]]}; "
                  f"median {base_qs:.1f} -> {tree_qs:.1f} (x{tree_qs / base_qs:.3f})")


if __name__ == "__main__":
    main()
