"""Speed and scale: build corpora of real Chinese text, index them, time them, and print one table.

For each size: write the corpus (bench/common/corpus.py), build our index phase by phase and the
bm25s peer in child processes (bench/search/build.py), time `Searcher.search` per mode in-process
with the peers beside it, then serve the index on loopback and time `GET /search` with one
client and with `--clients` concurrent ones. The table goes to stdout and, per size, to
bench/results/<date>-<size>.md (<date>-<size>-fake.md with the fake encoder).

Usage: .venv/bin/python -m bench.search.run --sizes 10000 [--sizes 100000 ...] [--queries 200]
       [--embed-limit 2000] [--fake-encoder] [--clients 8] [--loop-seconds 60] [--work-dir DIR]
       [--reuse-builds] [--label avx2]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from bench.search.build import PEER_DIR, PEER_IDS, SENTENCES_FILE, VECTORS_FILE
from bench.common.corpus import sample_queries, write_corpus
from bench.common.encoders import load_encoder
from bench.common.http_load import run_clients, running_server
from bench.common.latency import Timings, time_calls, time_paired
from bench.common.machine import cpu_model
from bench.common.memory import peak_rss_bytes, rss_bytes
from bench.search.peers import BM25sPeer, ExactDense, HybridPeer, recall_at_k, top_rows
from bench.search.report import MODES, notes, table
from bench.common.paths import ROOT
from bench.common.results_file import results_file
from index.settings import Settings
from search.embedded.corpus import EmbeddedCorpus
from search.engine import open_searcher

K = 10


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_child(what: str, corpus: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Run one build of bench/search/build.py in its own process; its measurements."""
    out = work / f"build-{what}.json"
    command = [sys.executable, "-m", "bench.search.build", what, "--corpus", str(corpus), "--work-dir", str(work),
               "--embed-limit", str(args.embed_limit), "--out", str(out)]
    if args.fake_encoder:
        command.append("--fake-encoder")
    subprocess.run(command, check=True, cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    return json.loads(out.read_text(encoding="utf-8"))


def measure_in_process(index_dir: Path, work: Path, texts: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """Our searcher per mode, the peers, the Whoosh retriever alone, FAISS alone, and FAISS recall."""
    settings = Settings().model_copy(update={"index_dir": index_dir})
    encoder = load_encoder(settings, args.fake_encoder)
    searcher = open_searcher(settings, encoder)
    corpus = searcher.corpus
    assert isinstance(corpus, EmbeddedCorpus), "bench/search/run.py times the embedded engine's parts"
    ids = corpus.snapshot.views[0].segment.ids  # a bench index is one segment
    vectors = np.load(work / VECTORS_FILE)
    sentences = np.load(work / SENTENCES_FILE)
    bm25_peer = BM25sPeer(work / PEER_DIR, work / PEER_IDS, searcher.tokenizer)
    dense_peer = ExactDense(vectors, ids, encoder, sentences["vectors"], sentences["owners"],
                            settings.sentence_weight)
    peers = {"bm25": bm25_peer, "dense": dense_peer, "hybrid": HybridPeer(bm25_peer, dense_peer, searcher.defaults.k0)}
    limit = args.loop_seconds
    out: dict[str, Any] = {"inproc": {}, "peers": {}}
    for mode in MODES:
        log(f"in-process {mode}: ours and its peer, query by query")
        out["inproc"][mode], out["peers"][mode] = time_paired(
            lambda q, m=mode: searcher.search(q, m, k=K), lambda q, m=mode: peers[m].search(q, K), texts, limit)

    found: dict[str, list[str]] = {}

    def retrieve(query: str) -> None:  # Whoosh alone: no highlights, no paragraph look-ups
        found[query] = [pid for pid, _ in searcher.bm25.search(query, K)[0]]

    out["bm25_retriever"] = time_calls(retrieve, texts, limit)
    overlaps = [len(set(found[q]) & {p for p, _ in bm25_peer.search(q, K)}) / K for q in texts if q in found]
    out["bm25_overlap"] = float(np.mean(overlaps)) if overlaps else float("nan")

    log("vector search alone and recall@10")
    queries = encoder.encode_queries(texts)
    rows = list(range(len(texts)))
    dense = searcher.dense
    out["faiss_only"], out["numpy_only"] = time_paired(
        lambda i: dense.search_vectors(queries[i:i + 1], K), lambda i: dense_peer.search_vector(queries[i], K), rows, limit)
    row_of = {pid: row for row, pid in enumerate(ids)}
    recalls = []
    for i in rows:
        scores = dense_peer.scores(queries[i])
        recalls.append(recall_at_k(dense.search_vectors(queries[i:i + 1], K)[0], top_rows(scores, K), scores, row_of, K))
    out["recall_mean"], out["recall_min"] = float(np.mean(recalls)), float(np.min(recalls))
    out["probes"] = corpus.parts[0].search.store.probes
    return out


def loop_queries(count: int, seed: int, loops: int, warmup: int = 5) -> list[list[str]]:
    """`loops` lists of `warmup` + `count` query texts, no text in two lists, each drawn from all three query sets.

    A service keeps the vector of each recent query text (search/serving/recent_vectors.py), so a loop asking
    texts an earlier loop asked would time searches without the model: every loop that encodes gets its own."""
    sampled = [text for _, text in sample_queries(loops * (count + warmup) * 2, seed)]
    random.Random(seed).shuffle(sampled)  # sample_queries lists one query set after another
    distinct = list(dict.fromkeys(sampled))
    size = count + warmup
    return [distinct[i * size:(i + 1) * size] for i in range(loops)]


def measure_http(index_dir: Path, work: Path, texts: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """The real server on loopback: sequential and concurrent loops per mode, then its memory. bm25 asks `texts`
    (it encodes nothing); each dense and hybrid loop asks texts of its own, so that every query is encoded."""
    out: dict[str, Any] = {"http_seq": {}, "http_conc": {}}
    fresh = iter(loop_queries(len(texts), args.seed + 1, 2 * len(MODES)))
    with running_server(index_dir, args.fake_encoder, work / "server.log") as server:
        log(f"server healthy after {server.ready_seconds:.1f} s at {server.url}")
        for mode in MODES:
            log(f"HTTP {mode}: 1 client, then {args.clients}")
            asked = (texts, texts) if mode == "bm25" else (next(fresh), next(fresh))
            out["http_seq"][mode] = run_clients(server.url, mode, asked[0], 1, args.loop_seconds)
            out["http_conc"][mode] = run_clients(server.url, mode, asked[1], args.clients, args.loop_seconds)
        out["server_rss"] = rss_bytes(server.process.pid)
        out["server_peak_rss"] = peak_rss_bytes(server.process.pid)
        out["server_ready_seconds"] = server.ready_seconds
    return out


def first_errors(result: dict[str, Any]) -> list[str]:
    """The first error message of each loop that had any (to print below the table)."""
    found = []
    for key, value in result.items():
        loops = value.items() if isinstance(value, dict) else [("", value)]
        for mode, timings in loops:
            if isinstance(timings, Timings) and timings.errors:
                found.append(f"{key} {mode}: {timings.errors} errors, first: {timings.first_error}")
    return found


def measure_size(n: int, args: argparse.Namespace) -> dict[str, Any]:
    """Every measurement for an `n`-paragraph corpus."""
    work = args.work_dir / str(n)
    reuse = args.reuse_builds and all((work / f"build-{what}.json").exists() for what in ("ours", "peer"))
    if not reuse:
        shutil.rmtree(work, ignore_errors=True)  # our own scratch folder: a fresh corpus and index each run
        work.mkdir(parents=True)
    started_load = os.getloadavg()[0]
    log(f"{n} paragraphs: writing the corpus in {work}")
    stats = write_corpus(n, work / "corpus.jsonl", args.seed)  # seeded: the same file again when reusing
    sampled = sample_queries(args.queries, args.seed)
    texts = [text for _, text in sampled]
    if reuse:
        log("reusing the builds (and their measurements) already in the work folder")
        ours, peer = (json.loads((work / f"build-{what}.json").read_text(encoding="utf-8")) for what in ("ours", "peer"))
    else:
        log("building our index (child process)")
        ours = run_child("ours", work / "corpus.jsonl", work, args)
        log("building the bm25s peer (child process)")
        peer = run_child("peer", work / "corpus.jsonl", work, args)
    result: dict[str, Any] = {"corpus": asdict(stats), "ours": ours, "peer": peer, "clients": args.clients,
                              "query_origins": dict(Counter(origin for origin, _ in sampled))}
    result.update(measure_in_process(work / "index", work, texts, args))
    gc.collect()  # the searcher's caches hold it in reference cycles: free its index before the server loads one
    result.update(measure_http(work / "index", work, texts, args))
    result["load_average"] = f"{started_load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end"
    result["errors_inproc"] = sum(t.errors for key in ("inproc", "peers") for t in result[key].values())
    result["errors_http"] = sum(t.errors for key in ("http_seq", "http_conc") for t in result[key].values())
    return result


def context(args: argparse.Namespace) -> dict[str, str]:
    """What the figures were measured on."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    from index.model.cpu import cpu_features, describe_cpu

    return {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": f"{os.cpu_count()} CPUs, {platform.machine()} "
            f"({cpu_model()}; seen as {describe_cpu(cpu_features())}), Python {platform.python_version()}", "commit": commit or "unknown", "queries": str(args.queries),
            "loop limit": f"{args.loop_seconds:.0f} s", "seed": str(args.seed), "fake": "yes" if args.fake_encoder else "no",
            **({"builds": "reused from an earlier run in the same work folder (--reuse-builds)"} if args.reuse_builds else {})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, action="append", help="paragraphs in a corpus (repeat for several)")
    parser.add_argument("--queries", type=int, default=200, help="queries sampled from CMRC, DRCD and LCQMC")
    parser.add_argument("--embed-limit", type=int, default=2000,
                        help="embed only the first N paragraphs with the model; the rest from their sentences' vectors (bench/search/fill.py)")
    parser.add_argument("--fake-encoder", action="store_true", help="tests/fakes.py's encoder: a quick development run")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--loop-seconds", type=float, default=60.0, help="time limit of each timing loop")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reuse-builds", action="store_true",
                        help="measure queries again on the index and peer built by an earlier run in --work-dir")
    parser.add_argument("--work-dir", type=Path, default=ROOT / ".zhsearch" / "bench")
    parser.add_argument("--label", default="", help="added to the results file's name (e.g. avx2)")
    args = parser.parse_args()
    sizes = args.sizes or [10_000]
    ctx = context(args)
    results = []
    for n in sizes:
        result = measure_size(n, args)
        results.append(result)
        label = f"-{args.label}" if args.label else ""
        path = results_file(f"{n}{'-fake' if args.fake_encoder else ''}{label}")
        path.write_text(f"# zhsearch bench, {n:,} paragraphs\n\n{table([result])}\n\n{notes([result], ctx)}\n",
                        encoding="utf-8")
        log(f"wrote {path}")
    print(table(results))
    print()
    print(notes(results, ctx))
    problems = [line for r in results for line in first_errors(r)]
    if problems:
        print("\nerrors:\n" + "\n".join(problems))
        sys.exit(1)


if __name__ == "__main__":
    main()
