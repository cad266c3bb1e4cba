"""Load test: concurrent searches and live writes against a real server on loopback; no write may be lost.

Usage:
    .venv/bin/python -m bench.search.load_test                  # real model: indexes seeds/, serves, 60 s, 16 clients
    .venv/bin/python -m bench.search.load_test --fake --seconds 20   # fake encoder (no model): fast, for CI
    .venv/bin/python -m bench.search.load_test --clients 8 --write-share 0.2 --max-writes 200 --json

It indexes `seeds/` into a temporary folder (`zhsearch index`, or in-process with the test suite's
FakeEncoder under `--fake`), starts `zhsearch serve` on a free 127.0.0.1 port in a subprocess with a
random ZHSEARCH_WRITE_TOKEN, and runs `--clients` threads for `--seconds`. Each request is a search
(GET or POST /search, bm25/dense/hybrid, queries cut from the seed titles) or, with probability
`--write-share`, a write: POST /articles of 1-3 new articles with unique ids, or (a third of writes)
DELETE of one of the client's own acknowledged articles. Writes stop after `--max-writes`, all
requests after `--max-requests`. Afterwards every acknowledged (200), not-deleted article must be
served by GET /articles/{id} and found by a bm25 search restricted to it, and every acknowledged
delete must stay deleted. Prints one summary; exits 1 on any 5xx, transport error, lost or
resurrected article, else 0. The server's log is kept in the temporary folder on failure.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

from bench.common.http_load import running_server
from bench.common.paths import ROOT, TESTS
from bench.search.load_clients import Client, Tally


def seed_texts() -> tuple[list[str], list[str]]:
    """Titles (query material) and paragraphs (body material) of the seed pages."""
    from index.ingest.sources import read_sources

    articles = read_sources([ROOT / "seeds"])
    titles = [a.title for a in articles if a.title.strip()]
    paragraphs = [p for a in articles for p in a.paragraphs if len(p) > 20]
    return titles, paragraphs


def build_fake_index(index_dir: Path) -> None:
    """Index seeds/ with the deterministic FakeEncoder of the test suite (no model)."""
    sys.path.insert(0, str(TESTS))
    from fakes import FakeEncoder
    from index.builder import build_index
    from index.ingest.sources import read_sources
    from index.settings import Settings
    from index.tokenize import tokenizer_from

    settings = Settings(index_dir=index_dir)
    build_index(index_dir, read_sources([ROOT / "seeds"]), tokenizer_from(settings), FakeEncoder(), ["seeds"],
                quiet=True)


def verify(base: str, tally: Tally, timeout: float) -> tuple[int, dict[str, list[str]]]:
    """Every acknowledged, not-deleted article is served and searchable; every acknowledged delete stays gone.

    Returns how many of the expected articles GET /articles/{id} served, and the problems by kind.
    """
    problems: dict[str, list[str]] = {"lost": list(tally.lost_on_delete), "unsearchable": [], "resurrected": []}
    found = 0
    with httpx.Client(base_url=base, timeout=timeout) as http:
        for article_id, title in sorted(tally.present.items()):
            got = http.get(f"/articles/{article_id}")
            if got.status_code != 200 or got.json().get("title") != title:
                problems["lost"].append(article_id)
                continue
            found += 1
            hits = http.get("/search", params={"q": title.split()[0], "mode": "bm25", "article_id": article_id})
            if hits.status_code != 200 or not hits.json()["hits"]:
                problems["unsearchable"].append(article_id)
        for article_id in sorted(tally.deleted):
            if http.get(f"/articles/{article_id}").status_code != 404:
                problems["resurrected"].append(article_id)
    return found, problems


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def summarize(tally: Tally, found: int, problems: dict[str, list[str]], seconds: float,
              args: argparse.Namespace) -> dict:
    by_status: Counter = Counter()
    for counts in tally.statuses.values():
        by_status.update({str(status): n for status, n in counts.items()})
    kinds = {kind: {"requests": len(values), "p50_ms": round(percentile(values, 0.5), 1),
                    "p99_ms": round(percentile(values, 0.99), 1),
                    "statuses": {str(s): n for s, n in sorted(tally.statuses[kind].items(), key=str)}}
             for kind, values in sorted(tally.latencies.items())}
    return {
        "mode": "fake" if args.fake else "real", "clients": args.clients, "seconds": round(seconds, 1),
        "requests": sum(by_status.values()), "requests_per_s": round(sum(by_status.values()) / max(seconds, 1e-9), 1),
        "statuses": dict(sorted(by_status.items())),
        "5xx": sum(n for status, n in by_status.items() if status.startswith("5")),
        "transport_errors": sum(n for status, n in by_status.items() if not status.isdigit()),
        "kinds": kinds,
        "acknowledged_articles": tally.acknowledged,
        "acknowledged_deletes": len(tally.deleted),
        "verified_present": found,
        "expected_present": len(tally.present),
        "problems": problems,
    }


def print_summary(out: dict) -> None:
    print(f"{out['requests']} requests in {out['seconds']} s ({out['requests_per_s']}/s), {out['clients']} clients, "
          f"{out['mode']} encoder; statuses {out['statuses']}; 5xx {out['5xx']}; "
          f"transport errors {out['transport_errors']}")
    for kind, row in out["kinds"].items():
        print(f"  {kind:<14} {row['requests']:>6}  p50 {row['p50_ms']:>8.1f} ms  p99 {row['p99_ms']:>8.1f} ms  "
              f"{row['statuses']}")
    problems = out["problems"]
    print(f"acknowledged writes: {out['acknowledged_articles']} articles, {out['acknowledged_deletes']} deletes; "
          f"found {out['verified_present']}/{out['expected_present']} present; lost {len(problems['lost'])}, "
          f"unsearchable {len(problems['unsearchable'])}, resurrected {len(problems['resurrected'])}")
    for name, ids in problems.items():
        if ids:
            print(f"  {name}: {ids[:10]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--write-share", type=float, default=0.1, help="Share of requests that write (0..1).")
    parser.add_argument("--max-writes", type=int, default=500, help="Writes (POST or DELETE) in all, at most.")
    parser.add_argument("--max-requests", type=int, default=200_000, help="Requests in all, at most.")
    parser.add_argument("--timeout", type=float, default=60.0, help="Seconds per request before it counts as an error.")
    parser.add_argument("--fake", action="store_true", help="Fake encoder: no model, fast start.")
    parser.add_argument("--index-dir", type=Path, default=None, help="Index folder (default: a temporary one).")
    parser.add_argument("--port", type=int, default=None, help="Loopback port (default: a free one).")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="Also print the summary as one JSON object.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="zhsearch-load-"))
    index_dir = args.index_dir or work / "index"
    if args.fake:
        build_fake_index(index_dir)
    else:
        subprocess.run([sys.executable, "-m", "api.cli", "index", str(ROOT / "seeds"), "--index-dir", str(index_dir),
                        "--quiet"], cwd=ROOT, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    titles, paragraphs = seed_texts()
    token = secrets.token_hex(16)
    failed = True
    try:
        with running_server(index_dir, args.fake, work / "server.log", extra_env={"ZHSEARCH_WRITE_TOKEN": token},
                            port=args.port) as server:
            tally, run_id = Tally(), secrets.token_hex(3)
            started = time.monotonic()
            clients = [Client(n, args, server.url, token, started + args.seconds, tally, titles, paragraphs, run_id)
                       for n in range(args.clients)]
            for client in clients:
                client.start()
            for client in clients:
                client.join(args.seconds + args.timeout + 30)
            seconds = time.monotonic() - started
            found, problems = verify(server.url, tally, args.timeout)
            out = summarize(tally, found, problems, seconds, args)
            print_summary(out)
            if args.json:
                print(json.dumps(out, ensure_ascii=False))
            failed = bool(out["5xx"] or out["transport_errors"] or any(problems.values()))
    finally:
        if failed:
            print(f"server log: {work / 'server.log'}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
